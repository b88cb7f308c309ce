"""``studybot sandbox run|check``, and the pieces ``studybot lessons run`` shares with it.

Both run code through ``Sandbox``, the same object (and pool) the bot uses. ``--json``
prints one JSON object per file (or lesson), one per line, with the keys ``file``,
``status``, ``exit_code``, ``signal``, ``stdout``, ``stderr``, ``truncated``, ``wall_ms``,
``device`` and ``files``. The exit code is 0 when every job ended ``ok``, 1 otherwise.

The lessons subcommands live with the bot's command line (``bot.cli.lessons``): the
sandbox knows nothing of lessons. They use ``add_limit_options``, ``config_for`` and
``run_and_print`` from here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sandbox.config import SandboxConfig
from sandbox.core import Sandbox, probe, run_sync
from sandbox.result import JobSpec, RunResult

__all__ = ["add_limit_options", "add_sandbox_parser", "config_for", "run_and_print"]

if TYPE_CHECKING:  # generic only in the type stubs
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


# --- parsers -----------------------------------------------------------------------------


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """``--timeout``, ``--memory-mb``, ``--json`` and ``--files`` of a command that runs jobs."""
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="wall-time limit per job (seconds)"
    )
    parser.add_argument("--memory-mb", type=int, metavar="N", help="memory limit per job (MiB)")
    parser.add_argument("--json", action="store_true", help="one JSON object per job and line")
    parser.add_argument(
        "--files", type=Path, metavar="DIR", help="save the files jobs write (PNG, text) here"
    )


def add_sandbox_parser(subparsers: Subparsers) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run Python files in the sandbox")
    actions = sandbox.add_subparsers(dest="sandbox_action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run each FILE, in order, in the sandbox")
    add_limit_options(run)
    run.add_argument("paths", nargs="+", type=Path, metavar="FILE")
    run.set_defaults(handler=sandbox_run)
    check = actions.add_parser("check", help="say whether this host can run the sandbox")
    check.set_defaults(handler=sandbox_check)


# --- sandbox -----------------------------------------------------------------------------


def config_for(args: argparse.Namespace, settings: Any, jobs: int) -> SandboxConfig:
    """The settings' sandbox, with the command line's limits and a pool no larger than
    the number of ``jobs``."""
    config = SandboxConfig.from_settings(settings)
    changes: dict[str, Any] = {"pool_size": min(config.pool_size, max(jobs, 1))}
    if getattr(args, "timeout", None) is not None:
        changes["timeout_s"] = args.timeout
        changes["cpu_s"] = max(config.cpu_s, args.timeout)
    if getattr(args, "memory_mb", None) is not None:
        changes["memory_mb"] = args.memory_mb
    try:
        return replace(config, **changes)
    except ValueError as exc:
        raise SystemExit(f"studybot: {exc}") from None


def sandbox_run(args: argparse.Namespace, settings: Any) -> int:
    config = config_for(args, settings, len(args.paths))
    jobs = [(path, JobSpec(kind="member", name=path.name)) for path in args.paths]
    return run_and_print(config, jobs, args, sys.stdout, settings=settings)


def fork_server_state(config: SandboxConfig) -> str:
    """ "on", "off" (switched off), or why it cannot run here (CPU jobs then use single-use
    sandboxes)."""
    if not config.fork_server:
        return "off (STUDYBOT_SANDBOX_FORK_SERVER=false): single-use sandboxes"

    async def started() -> str | None:
        async with Sandbox(replace(config, pool_size=0, preload_torch=False)) as box:
            return box.fork_problem

    problem = asyncio.run(started())
    return "on" if problem is None else f"unavailable, single-use sandboxes serve: {problem}"


def sandbox_check(args: argparse.Namespace, settings: Any) -> int:
    config = SandboxConfig.from_settings(settings)
    plan, reason = probe(config)
    if plan is None:
        print(f"sandbox unavailable: {reason}")
        if config.allow_unsandboxed_lessons:
            print("lessons will run with rlimits only (STUDYBOT_SANDBOX_ALLOW_UNSANDBOXED_LESSONS)")
        return 1
    results = run_sync(
        replace(config, pool_size=0, preload_torch=False),
        [(b"import os\nprint(os.getuid())\n", JobSpec(name="check.py"))],
    )
    result = results[0]
    print(f"bubblewrap: {plan.bwrap}")
    print(f"python: {plan.runtime.python} (packages: {plan.runtime.site_packages})")
    cgroups = plan.cgroups
    print(f"cgroups: v{cgroups.version} ({cgroups.memory.parent})" if cgroups else "cgroups: none")
    print(f"uids: {'from ' + str(config.uid_base) if plan.drop_uid else 'our own'}")
    print(f"self-test: {result.status} ({result.wall_ms} ms) {result.stderr.strip()}")
    print(f"fork server (CPU jobs): {fork_server_state(config)}")
    return 0 if result.status == "ok" else 1


def run_and_print(
    config: SandboxConfig,
    jobs: list[tuple[Path, JobSpec]],
    args: argparse.Namespace,
    out: TextIO,
    *,
    settings: Any = None,
) -> int:
    """Run the files one after another and print each result as it comes (``args.json``:
    the contract's JSON lines; ``args.files``: save returned files there). 0 when every
    job ended ``ok``, else 1."""
    failed = 0

    def show(index: int, result: RunResult) -> None:
        nonlocal failed
        path = jobs[index][0]
        failed += result.status != "ok"
        saved = _save_files(result, args.files, index) if args.files else {}
        if args.json:
            line = result.to_json(str(path))
            for item in line["files"]:
                item["path"] = saved.get(item["name"])
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            _print_human(path, result, saved, out)
        out.flush()

    if getattr(settings, "sandbox_backend", "local") == "celery":  # on the remote runners
        from sandbox.remote.client import run_sync_remote

        run_sync_remote(config, settings, jobs, on_result=show)
    else:
        run_sync(config, jobs, on_result=show)
    return 1 if failed else 0


def _print_human(path: Path, result: RunResult, saved: dict[str, str], out: TextIO) -> None:
    details = [f"{result.wall_ms} ms", result.device]
    if result.exit_code is not None:
        details.insert(0, f"exit {result.exit_code}")
    if result.signal is not None:
        details.insert(0, f"signal {result.signal}")
    if result.truncated:
        details.append("output cut")
    out.write(f"== {path}: {result.status} ({', '.join(details)})\n")
    if result.stdout:
        out.write(result.stdout if result.stdout.endswith("\n") else result.stdout + "\n")
    if result.stderr:
        out.write("-- stderr\n")
        out.write(result.stderr if result.stderr.endswith("\n") else result.stderr + "\n")
    for item in result.files:
        out.write(f"-- file {item.name} ({item.size} bytes)")
        out.write(f" -> {saved[item.name]}\n" if item.name in saved else "\n")
    if result.fallback_from is not None:
        late = result.fallback_from
        out.write(f"-- note: no {late} runner was free in time: ran on {result.queue}\n")
    for note in result.notes:
        out.write(f"-- note: {note}\n")


def _save_files(result: RunResult, folder: Path, index: int) -> dict[str, str]:
    """Write the (already checked) files under ``folder`` only: plain names, new files,
    links never followed."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = {}
    for item in result.files:
        target = folder / f"{index + 1:02d}-{item.name}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        try:
            fd = os.open(target, flags, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(item.data)
        saved[item.name] = str(target)
    return saved
