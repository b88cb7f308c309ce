"""The ``studybot`` command: ``run``, ``console``, ``db upgrade|backup``, ``problems``,
``sandbox``, ``lessons`` and ``--version``.

Each subcommand is a function that adds its parser and sets ``handler``; to add one,
write such a function and list it in ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sqlite3
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

import bot
from bot.adapters.console import ConsoleOptions, run_console
from bot.adapters.console.main import DEFAULT_FILES_DIR, NEXT_MONDAY, display_url
from bot.app import configure_logging
from bot.cli import discord as discord_cli
from bot.cli import lessons as lessons_cli
from bot.cli import outbox as outbox_cli
from bot.cli import problems as problems_cli
from bot.cli import worker as worker_cli
from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.errors import DomainError
from bot.i18n import DEFAULT_LOCALE, LOCALES, text
from db.engine import make_engine
from db.migrate import backup_sqlite, upgrade
from sandbox import cli as sandbox_cli

log = logging.getLogger("studybot")

Handler = Callable[[argparse.Namespace, Settings], int]

EXIT_USER_ERROR = 2
EXIT_CRASH = 1
EXIT_INTERRUPTED = 130


def say(locale: str, key: str, **params: object) -> str:
    """A catalogue message for the terminal."""
    return text(locale, key, params)


# --- run -----------------------------------------------------------------------------


def add_run(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="connect to Discord (or start the console when no token is set)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.discord_token is None:
        for locale in LOCALES:
            print(say(locale, "console.no_token"), file=sys.stderr)
        return run_console(settings, ConsoleOptions())
    from bot.adapters.discord.main import run_discord

    run_discord(settings)
    return 0


# --- console -------------------------------------------------------------------------


def add_console(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("console", help="the bot in a terminal (no Discord needed)")
    parser.add_argument("--db", metavar="URL", help="database URL (default: the settings' one)")
    parser.add_argument(
        "--clock",
        metavar="ISO",
        help=f"start a simulated clock, e.g. 2026-12-07T08:00+09:00, or {NEXT_MONDAY} "
        "(the next Monday 08:00 in the group's zone)",
    )
    parser.add_argument("--locale", choices=LOCALES, help="the group's language on first start")
    parser.add_argument("--channel", metavar="NAME", help="the channel's name (default: study)")
    parser.add_argument(
        "--files",
        metavar="DIR",
        type=Path,
        default=DEFAULT_FILES_DIR,
        help="where attachments are saved (default: console-files/)",
    )
    parser.add_argument("--script", metavar="FILE", type=Path, help="run FILE's lines and exit")
    parser.set_defaults(handler=console)


def console(args: argparse.Namespace, settings: Settings) -> int:
    options = ConsoleOptions(
        db=args.db,
        clock=args.clock,
        locale=args.locale,
        channel=args.channel,
        files=args.files,
        script=args.script,
    )
    return run_console(settings, options)


# --- db ------------------------------------------------------------------------------


def add_db(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    actions = parser.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    upgrade_parser = actions.add_parser("upgrade", help="apply the migrations up to the newest")
    upgrade_parser.add_argument(
        "--db", metavar="URL", help="database URL (default: the settings' one)"
    )
    upgrade_parser.set_defaults(handler=db_upgrade)
    backup_parser = actions.add_parser(
        "backup", help="a consistent copy of the SQLite database, also while the bot runs"
    )
    backup_parser.add_argument("path", metavar="PATH", type=Path, help="the copy to write")
    backup_parser.add_argument("--force", action="store_true", help="overwrite PATH")
    backup_parser.add_argument(
        "--db", metavar="URL", help="database URL (default: the settings' one)"
    )
    backup_parser.set_defaults(handler=db_backup)


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = args.db or settings.database_url
    try:
        before = _current_revision(url)
        upgrade(url)
        after = _current_revision(url)
    except (ArgumentError, OperationalError) as exc:
        detail = str(exc).splitlines()[0]
        raise DomainError("console.bad_db", url=display_url(url), detail=detail) from None
    locale, shown = settings.default_locale, display_url(url)
    if before == after:
        print(say(locale, "console.db_current", url=shown, revision=after))
    elif before is None:  # an empty database: no revision to start from
        print(say(locale, "console.db_created", url=shown, after=after))
    else:
        print(say(locale, "console.db_upgraded", url=shown, before=before, after=after))
    return 0


def db_backup(args: argparse.Namespace, settings: Settings) -> int:
    """SQLite: the online backup API. PostgreSQL: the pg_dump command to run instead."""
    url = args.db or settings.database_url
    locale = settings.default_locale
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DomainError("console.db_backup_unsupported", url=url) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        libpq = URL.create(  # libpq's own URL: no driver suffix, no password
            "postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database
        ).update_query_dict(dict(parsed.query))
        dump = ["pg_dump", "--format=custom", f"--file={args.path}"]
        command = shlex.join([*dump, libpq.render_as_string(hide_password=False)])
        print(say(locale, "console.db_backup_postgres", command=command), file=sys.stderr)
        if parsed.password is not None:
            print(say(locale, "console.db_backup_password"), file=sys.stderr)
        return EXIT_USER_ERROR
    if backend != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise DomainError("console.db_backup_unsupported", url=display_url(url))
    source = Path(parsed.database or "")
    if not args.path.parent.is_dir():
        raise DomainError("console.db_backup_no_folder", folder=str(args.path.parent))
    try:
        size = backup_sqlite(source, args.path, force=args.force)
    except FileNotFoundError:
        raise DomainError("console.db_backup_no_source", path=str(source)) from None
    except FileExistsError:
        raise DomainError("console.db_backup_exists", target=str(args.path)) from None
    except (OSError, sqlite3.Error) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        raise DomainError(
            "console.db_backup_failed", target=str(args.path), detail=detail
        ) from None
    size_kb = max(1, round(size / 1024))
    print(
        say(
            locale,
            "console.db_backup_done",
            source=str(source),
            target=str(args.path),
            size_kb=size_kb,
        )
    )
    return 0


def _current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


# --- main ----------------------------------------------------------------------------

SUBCOMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    add_run,
    add_console,
    add_db,
    problems_cli.add_parser,
    sandbox_cli.add_sandbox_parser,
    lessons_cli.add_parser,
    discord_cli.add_parser,
    outbox_cli.add_parser,
    worker_cli.add_parser,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybot", description="A study group's Discord bot")
    parser.add_argument("--version", action="version", version=f"studybot {bot.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(say(DEFAULT_LOCALE, "console.bad_settings", detail=str(exc)), file=sys.stderr)
        return EXIT_USER_ERROR
    configure_logging(settings.log_level)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except DomainError as exc:  # an expected problem: say what to do, no traceback
        print(text(settings.default_locale, exc.key, exc.params), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep the interpreter's flush quiet
        return 0
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("studybot %s crashed (error %s)", args.command, error_id)
        print(say(settings.default_locale, "console.crashed", error_id=error_id), file=sys.stderr)
        return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(main())
