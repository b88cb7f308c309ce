"""The console's line grammar: who says which command, control lines, comments.

Parsing is pure: it needs no database. A line that fits no rule raises ``ScriptError``;
refusals of well-formed commands (unknown option, bad value) are the bot's business and
happen later, in ``bot.adapters.console.options``.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.errors import DomainError

NAME_PATTERN = r"[\w.\-]{1,32}"
_SPEAK = re.compile(rf"(?P<name>{NAME_PATTERN})\s*:\s*(?P<rest>/.*)")
# units as typed: s m h d, or in Korean 초 분 시간 (or 시) 일 ("1시간30분")
_DURATION_PART = re.compile(r"(\d+)\s*(시간|초|분|시|일|[smhd])")
_UNITS = {
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "초": "seconds",
    "분": "minutes",
    "시간": "hours",
    "시": "hours",
    "일": "days",
}


class ScriptError(DomainError):
    """A line the console cannot read at all (a broken script, not a bot refusal)."""

    key = "console.bad_line"


@dataclass(frozen=True)
class Speak:
    """``NAME: /command words key:value ...``, split with shell quoting rules."""

    name: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class SetTime:
    """``:time WHEN``; ``when`` is naive when no offset was given (group's zone)."""

    when: datetime


@dataclass(frozen=True)
class Advance:
    """``:advance 1h30m``; ``text`` as typed, for messages."""

    delta: timedelta
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class ShowTime:
    """``:time`` alone: show the clock."""


@dataclass(frozen=True)
class Help:
    """``:help``: the control lines and the commands."""


@dataclass(frozen=True)
class Quit:
    """``:quit``."""


Line = Speak | SetTime | ShowTime | Advance | Help | Quit


def is_console_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None


def parse_line(text: str) -> Line | None:
    """One input line; None for blank lines and ``#`` comments."""
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith(":"):
        return _parse_control(stripped[1:])
    match = _SPEAK.fullmatch(stripped)
    if match is None:
        raise ScriptError("console.bad_line")
    try:
        tokens = shlex.split(match["rest"][1:])
    except ValueError:
        raise ScriptError("console.bad_quoting") from None
    return Speak(match["name"], tuple(tokens))


def _parse_control(text: str) -> Line:
    word, _, argument = text.partition(" ")
    argument = argument.strip()
    if word == "time":
        return SetTime(parse_when(argument)) if argument else ShowTime()
    if word == "advance":
        return Advance(parse_duration(argument), argument)
    if word == "help" and not argument:
        return Help()
    if word == "quit" and not argument:
        return Quit()
    raise ScriptError("console.unknown_control", name=":" + word)


def parse_when(text: str) -> datetime:
    """``2026-12-01 18:59``, ``2026-12-01T18:59``, ``2026-12-07T08:00+09:00``."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScriptError("console.bad_time", value=text) from None


def parse_duration(text: str) -> timedelta:
    """``30m``, ``2h``, ``1h30m``, ``1d`` (or ``30분``, ``1시간 30분``, ``1일``): units
    combinable, full-width digits read as digits."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if not value or _DURATION_PART.sub("", value).strip():
        raise ScriptError("console.bad_duration", value=text)
    delta = timedelta()
    try:
        for amount, unit in _DURATION_PART.findall(value):
            delta += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        raise ScriptError("console.bad_duration", value=text) from None
    return delta
