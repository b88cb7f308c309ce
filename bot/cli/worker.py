"""``studybot worker [--queue cpu|gpu] [--concurrency N] [--name NAME]``: serve the
sandbox's queue on this machine; ``studybot worker status [--json]``: who serves it.

A worker needs the broker's settings (``STUDYBOT_BROKER_URL``, optionally
``STUDYBOT_RESULT_BACKEND_URL``) and this machine's sandbox settings; no Discord token
and no database. See ``sandbox.remote`` and the README's "Runners on other machines".
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.errors import DomainError
from bot.i18n import text
from bot.services.runners import status_lines
from sandbox import SandboxConfig
from sandbox.remote import RemoteConfig, scrub

__all__ = ["add_parser", "remote_config"]

log = logging.getLogger("studybot.worker")


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "worker", help="run the sandbox's jobs from the broker on this machine (Celery)"
    )
    parser.add_argument(
        "--queue", choices=("cpu", "gpu"), default="cpu", help="the queue to serve (default cpu)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, metavar="N", help="jobs at once (default 1)"
    )
    parser.add_argument(
        "--name", metavar="NAME", help="this worker's name (default studybot-QUEUE@host)"
    )
    parser.set_defaults(handler=worker, worker_action=None)
    actions = parser.add_subparsers(dest="worker_action", metavar="ACTION")
    status = actions.add_parser("status", help="the workers, their queues, GPUs and counts")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.add_argument(
        "--timeout", type=float, default=1.0, metavar="S", help="how long to wait for answers"
    )
    status.set_defaults(handler=worker_status)


def remote_config(settings: Settings) -> RemoteConfig:
    try:
        return RemoteConfig.from_settings(settings)
    except ValueError as exc:
        raise DomainError("remote.bad_settings", detail=str(exc)) from None


def worker(args: argparse.Namespace, settings: Settings) -> int:
    from sandbox.remote.worker import WorkerUnfit, run_worker

    remote = remote_config(settings)
    if args.concurrency < 1 or args.concurrency > 64:
        raise DomainError("remote.bad_settings", detail="--concurrency must be in 1..64")
    config = SandboxConfig.from_settings(settings)
    try:
        return run_worker(
            remote,
            config,
            queue=args.queue,
            concurrency=args.concurrency,
            name=args.name,
            loglevel=settings.log_level,
        )
    except WorkerUnfit as exc:
        raise DomainError("remote.worker_unfit", detail=str(exc)) from None


def collect_status(remote: RemoteConfig, timeout: float) -> dict[str, Any]:
    """The workers that answer, or the broker's error (password masked)."""
    from sandbox.remote.app import make_app
    from sandbox.remote.status import worker_status as ask

    app = make_app(remote)
    status: dict[str, Any] = {"mode": "celery", **remote.describe()}
    try:
        status["workers"] = ask(app, timeout)
    except Exception as exc:
        status["error"] = scrub(f"{type(exc).__name__}: {exc}")[:300]
        status["workers"] = []
    finally:
        app.close()
    return status


def worker_status(args: argparse.Namespace, settings: Settings) -> int:
    status = collect_status(remote_config(settings), max(0.1, min(args.timeout, 30.0)))
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        for line in status_lines(status):
            print(text(settings.default_locale, line.key, line.params))
    return 1 if status.get("error") else 0
