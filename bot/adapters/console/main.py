"""Starting the console: settings, clock, database, the group, then the session."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from bot.adapters.console.group import open_group
from bot.adapters.console.output import Output
from bot.adapters.console.parser import ScriptError, is_console_name, parse_when
from bot.adapters.console.session import ConsoleSession
from bot.app import build_core
from bot.clock import Clock, ManualClock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.errors import DomainError, InvalidInput
from bot.replies import Text

DEFAULT_FILES_DIR = Path("console-files")
NEXT_MONDAY = "next-monday"  # --clock's word for the next Monday 08:00 in the group's zone
MORNING = time(8, 0)  # before the 09:30 review: a study day's duties are all still ahead


@dataclass(frozen=True)
class ConsoleOptions:
    db: str | None = None  # database URL; default: the settings' one
    clock: str | None = None  # ISO start (or "next-monday") of a simulated clock; default: real
    locale: str | None = None  # the group's language on first start
    channel: str | None = None  # the channel's name (default "study")
    files: Path = DEFAULT_FILES_DIR  # where attachments are saved
    script: Path | None = None  # run this file's lines and exit


def run_console(
    settings: Settings,
    options: ConsoleOptions,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the console; returns the exit status. Expected problems raise ``DomainError``."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    if options.db:
        settings = settings.model_copy(update={"database_url": options.db})
    next_monday = options.clock == NEXT_MONDAY
    start = parse_when(options.clock) if options.clock and not next_monday else None
    script = _read_script(options.script) if options.script else None
    clock: Clock = SystemClock()
    if start is not None:
        zone = ZoneInfo(settings.default_timezone)
        clock = ManualClock(start if start.tzinfo else start.replace(tzinfo=zone))
    elif next_monday:
        clock = ManualClock(SystemClock().now())  # set below, once the group's zone is known
    channel = _channel_name(options.channel) if options.channel else None
    core = _open_core(settings, clock)
    group_id, _created = open_group(core, channel, options.locale)
    zone = core.group_info_sync(group_id).zone
    if start is not None and start.tzinfo is None:  # naive: the group's own zone
        assert isinstance(clock, ManualClock)
        clock.set(start.replace(tzinfo=zone))
    elif next_monday:
        assert isinstance(clock, ManualClock)
        clock.set(next_monday_morning(SystemClock().now(), zone))
    session = ConsoleSession(core, group_id, clock, Output(stdout, options.files))
    try:
        session.start()
        if script is not None:
            assert options.script is not None
            return session.run_script(script, str(options.script), stderr)
        return session.run_interactive(stdin, stderr)
    finally:
        session.close()


def next_monday_morning(now: datetime, zone: tzinfo) -> datetime:
    """The first Monday 08:00 in ``zone`` at or after ``now``."""
    local = now.astimezone(zone)
    monday = local.date() + timedelta(days=-local.weekday() % 7)
    start = datetime.combine(monday, MORNING, zone)
    return start if start >= local else start + timedelta(weeks=1)


def _channel_name(text: str) -> str:
    name = text.removeprefix("#")
    if not is_console_name(name):
        hint = Text("console.hint_channel")
        raise InvalidInput("error.bad_option", name="--channel", value=text, hint=hint)
    return name


def _read_script(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        raise ScriptError("console.script_unreadable", path=str(path)) from None


def _open_core(settings: Settings, clock: Clock) -> Core:
    """Migrate and connect; a database that cannot be opened is the user's to fix."""
    try:
        return build_core(settings, clock)
    except (ArgumentError, OperationalError) as exc:
        detail = str(exc).splitlines()[0]
        url = display_url(settings.database_url)
        raise DomainError("console.bad_db", url=url, detail=detail) from None


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


__all__ = ["NEXT_MONDAY", "ConsoleOptions", "display_url", "next_monday_morning", "run_console"]
