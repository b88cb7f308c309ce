"""`studybot outbox list [--failed] [--json]` and `studybot outbox retry ID|--all`: the
posts waiting for delivery, delivered lately or given up, and queuing given-up ones again.

``list`` shows every row not delivered (waiting or given up) and those delivered in the
last 24 hours; ``--failed`` only the given-up ones. ``--json`` prints one object per row
and line with the keys ``id``, ``group``, ``guild``, ``channel``, ``user``, ``parent``,
``key``, ``state``, ``created_at``, ``attempts``, ``next_attempt_at``, ``expires_at``,
``failed_at``, ``failure``, ``last_error``, ``sent_at``, ``discord_message_id`` and
``thread_id`` (times in ISO 8601, UTC). ``retry`` makes rows due at once with a fresh day
of attempts; a row past its moment (``expires_at``) stays given up.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TextIO

from bot.app import build_core
from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.i18n import text
from bot.replies import Text
from bot.services import outbox


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("outbox", help="scheduled posts: what waits, what failed")
    sub = parser.add_subparsers(dest="outbox_command", required=True)
    listing = sub.add_parser("list", help="posts not delivered, and those of the last 24 h")
    listing.add_argument("--failed", action="store_true", help="only the given-up posts")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--db", help="database URL (default: the settings)")
    retry = sub.add_parser("retry", help="queue given-up posts again, to be tried at once")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the post's id (see `outbox list`)")
    which.add_argument("--all", action="store_true", help="every given-up post")
    retry.add_argument("--db", help="database URL (default: the settings)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    if args.outbox_command == "list":
        return list_rows(settings, args.failed, args.json, sys.stdout)
    return retry_rows(settings, None if args.all else args.id, sys.stdout)


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


def describe(row: outbox.Row, locale: str) -> str:
    """A row in a few lines: what and where, then its delivery state."""
    if row.user is not None:
        target = Text("outbox.to_user", {"user": row.user})
    else:
        target = Text("outbox.to_channel", {"channel": row.channel})
    head = text(
        locale,
        "outbox.row",
        {
            "id": row.id,
            "state": Text(f"outbox.state.{row.state}"),
            "group": row.group,
            "guild": row.guild,
            "target": target,
            "key": row.key,
            "created_at": _when(row.created_at),
            "attempts": row.attempts,
        },
    )
    details: list[str] = []
    if row.sent_at is not None:
        message = row.discord_message_id or "-"
        details.append(
            text(locale, "outbox.row_sent", {"when": _when(row.sent_at), "message": message})
        )
    elif row.failed_at is not None:
        failure = Text(row.failure) if row.failure else "-"
        details.append(
            text(locale, "outbox.row_failed", {"when": _when(row.failed_at), "failure": failure})
        )
    elif row.next_attempt_at is not None:
        details.append(text(locale, "outbox.row_next", {"when": _when(row.next_attempt_at)}))
    if row.expires_at is not None and row.sent_at is None:
        details.append(text(locale, "outbox.row_expires", {"when": _when(row.expires_at)}))
    if row.last_error and row.sent_at is None:
        error = row.last_error.splitlines()[0][:300]
        details.append(text(locale, "outbox.row_error", {"error": error}))
    return "\n".join([head, *("  " + line for line in details)])


def list_rows(settings: Settings, failed_only: bool, as_json: bool, out: TextIO) -> int:
    core = build_core(settings)
    rows = core.transact_sync(outbox.listing, failed_only)
    locale = settings.default_locale
    if as_json:
        for row in rows:
            out.write(json.dumps(row.as_json(), ensure_ascii=False) + "\n")
        return 0
    if not rows:
        out.write(text(locale, "outbox.empty") + "\n")
    for row in rows:
        out.write(describe(row, locale) + "\n")
    return 0


def retry_rows(settings: Settings, row_id: int | None, out: TextIO) -> int:
    """Queue one row (or every given-up row) again; refusals are ``DomainError``s, which
    ``studybot`` prints (exit status 2)."""
    core = build_core(settings)
    done = core.transact_sync(outbox.retry, row_id)
    locale = settings.default_locale
    if done.ids:
        ids = ", ".join(str(i) for i in done.ids)
        out.write(text(locale, "outbox.retried", {"count": len(done.ids), "ids": ids}) + "\n")
    if done.expired:
        ids = ", ".join(str(i) for i in done.expired)
        params = {"count": len(done.expired), "ids": ids}
        out.write(text(locale, "outbox.retry_skipped", params) + "\n")
    if not done.ids and not done.expired:
        out.write(text(locale, "outbox.nothing_to_retry") + "\n")
    return 0
