"""`studybot problems list|show|sync`: the catalogue on the command line."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

import requests

from bot import __version__
from bot.app import build_core
from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.programmers import FetchError, FetchOptions, Sleep, fetch_catalogue
from bot.services import catalogue


def add_parser(subparsers: Subparsers) -> None:
    problems = subparsers.add_parser("problems", help="the Programmers problem catalogue")
    sub = problems.add_subparsers(dest="problems_command", required=True)
    listing = sub.add_parser("list", help="list the catalogue")
    listing.add_argument("--kind", choices=catalogue.KINDS)
    listing.add_argument("--db", help="database URL (default: the settings)")
    show = sub.add_parser("show", help="show one problem")
    show.add_argument("id", type=int)
    show.add_argument("--db", help="database URL (default: the settings)")
    sync = sub.add_parser("sync", help="refresh the catalogue from the Programmers list API")
    sync.add_argument("--base-url", help="site to ask (default: STUDYBOT_PROGRAMMERS_BASE_URL)")
    sync.add_argument("--page-delay", type=float, help="seconds between pages (default 5)")
    sync.add_argument("--timeout", type=float, help="seconds to wait for each answer")
    sync.add_argument("--retries", type=int, help="tries per page after the first")
    sync.add_argument("--dry-run", action="store_true", help="print what would change only")
    sync.add_argument("--db", help="database URL (default: the settings)")
    problems.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    if args.problems_command == "list":
        return list_problems(settings, args.kind, sys.stdout)
    if args.problems_command == "show":
        return show_problem(settings, args.id, sys.stdout, sys.stderr)
    options = FetchOptions(
        base_url=args.base_url or settings.programmers_base_url,
        page_delay=settings.programmers_page_delay if args.page_delay is None else args.page_delay,
        timeout=settings.programmers_timeout if args.timeout is None else args.timeout,
        retries=settings.programmers_retries if args.retries is None else args.retries,
    )
    return sync_catalogue(settings, options, args.dry_run, sys.stdout, sys.stderr)


def list_problems(settings: Settings, kind: str | None, out: TextIO) -> int:
    core = build_core(settings)
    for problem in core.transact_sync(catalogue.listing, kind):
        out.write(f"{problem.id}\t{problem.kind}\tLv{problem.level}\t{problem.title}\n")
    return 0


def show_problem(settings: Settings, problem_id: int, out: TextIO, err: TextIO) -> int:
    core = build_core(settings)
    problem = core.transact_sync(catalogue.find, problem_id)
    if problem is None:
        err.write(f"No problem {problem_id} in the catalogue (try `studybot problems sync`).\n")
        return 1
    out.write(
        f"id: {problem.id}\ntitle: {problem.title}\nlevel: {problem.level}\n"
        f"kind: {problem.kind}\nurl: {catalogue.problem_url(problem.id)}\n"
    )
    return 0


class _ProgressBar:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        line = f"[{bar}] page {done}/{total}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def sync_catalogue(
    settings: Settings,
    options: FetchOptions,
    dry_run: bool,
    out: TextIO,
    err: TextIO,
    sleep: Sleep = time.sleep,
) -> int:
    """Fetch every page first, then apply all changes in one transaction (or none)."""
    core = build_core(settings)
    http = requests.Session()
    http.headers["User-Agent"] = f"studybot/{__version__} (study group catalogue sync)"
    http.headers["Accept"] = "application/json"
    err.write(f"Fetching level-{options.level} problems from {options.base_url} ...\n")
    try:
        fetched = fetch_catalogue(http, options, sleep, _ProgressBar(err))
    except FetchError as exc:
        err.write(f"Sync failed, the catalogue is unchanged: {exc}\n")
        return 1
    finally:
        http.close()
    rows = [catalogue.CatalogueRow(p.id, p.title, p.level, p.kind) for p in fetched]
    try:
        plan = core.transact_sync(catalogue.sync, rows, options.level, dry_run)
    except Exception as exc:  # the transaction rolled back
        err.write(f"Sync failed, the catalogue is unchanged: {type(exc).__name__}: {exc}\n")
        return 1
    for row in plan.added:
        out.write(f"+ {row.id} {row.title} ({row.kind})\n")
    for problem_id, old, new in plan.renamed:
        out.write(f"~ {problem_id} {old} -> {new}\n")
    verb = "Would add" if dry_run else "Added"
    out.write(
        f"{verb} {len(plan.added)}, {'would rename' if dry_run else 'renamed'} "
        f"{len(plan.renamed)}, unchanged {plan.unchanged}"
        + (f", ignored {plan.other_levels} of other levels" if plan.other_levels else "")
        + ".\n"
    )
    return 0
