"""Message catalogues (Korean default, English complete) and reply rendering.

A message is a template with fields in braces:

- ``{name}``: a parameter (a ``Mention`` shows as the front end pings, a nested ``Text`` in
  the same locale, a date, a time, a list, a ``CommandRef``).
- ``{을}``, ``{은}``, ``{이}``, ``{과}``, ``{으로}``, ``{이나}``, ...: a Korean particle, in the
  form that follows the text before it as a reader sees it (``particles``): ``{day}{은}``,
  ``'{value}'{을}``, ``{metric}{으로}``. A mention counts as the name it shows.
- ``{count|entry|entries}``: the singular when the number ``count`` is 1, else the plural.
- ``{/member join}``, ``{/away from:날짜 to:날짜}``: a command, shown as the front end's
  users type it (``CommandStyle``); option values may hold parameters (``id:{id}``).
- ``{option:progress log task}``: an option's name as the front end's users type it.
- ``{{`` and ``}}``: literal braces.

``parameters(template)`` lists the parameters a message takes (both catalogues must agree).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import cache
from pathlib import Path
from typing import Any

from bot.i18n.numbers import format_number
from bot.i18n.particles import PARTICLES, choose
from bot.replies import CommandRef, Mention, OptionRef, Reply, Text

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "CommandStyle",
    "MentionStyle",
    "catalogue",
    "command_names",
    "discord_commands",
    "fields",
    "fill",
    "format_date",
    "parameters",
    "plain_mention",
    "render",
    "text",
    "typed_command",
]

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
_HERE = Path(__file__).parent

MentionStyle = Callable[[Mention], str]
# how a front end shows a command or an option named in a message, in a locale
CommandStyle = Callable[[CommandRef | OptionRef, str], str]


@cache
def catalogue(locale: str) -> dict[str, str]:
    """All messages of a locale: every ``<locale>/*.json`` file, one per feature area."""
    data: dict[str, str] = {}
    for path in sorted((_HERE / locale).glob("*.json")):
        with path.open(encoding="utf-8") as handle:
            part: dict[str, str] = json.load(handle)
        clash = data.keys() & part.keys()
        if clash:
            raise ValueError(f"message keys defined twice in {locale}: {sorted(clash)}")
        data.update(part)
    return data


def plain_mention(mention: Mention) -> str:
    return mention.name


# --- commands as each front end shows them -------------------------------------------


def typed_command(ref: CommandRef | OptionRef, locale: str) -> str:
    """As the console (and the command line) takes it: the command table's English
    names, whatever the language of the message: ``/member join``, ``task``."""
    if isinstance(ref, OptionRef):
        return f"`{ref.option}`"
    words = ["/" + ref.path, *(f"{name}:{value}" for name, value in ref.options)]
    return "`" + " ".join(words) + "`"


def command_names(shown: tuple[str, ...], table_path: tuple[str, ...], locale: str) -> str:
    """A command's name as Discord shows it in ``locale``: each group's name, then the
    command's (``("admin", "member", "add")`` → ``관리 멤버 추가`` in Korean).

    ``shown`` is where Discord shows the command, ``table_path`` the command table's path
    (they differ for the admin commands, grouped under ``/admin``); every name comes from
    the ``cmd.*`` entries that also name the slash commands."""
    table = catalogue(locale)
    names = [
        table.get(f"cmd.{'.'.join(shown[: i + 1])}.name", shown[i]) for i in range(len(shown) - 1)
    ]
    own = table.get(f"cmd.{'.'.join(shown)}.name")  # shown apart from the table (/quiz next)
    names.append(own or table.get(f"cmd.{'.'.join(table_path)}.name", table_path[-1]))
    return " ".join(names)


_TRUE_WORDS = {"true", "on", "yes"}
_FALSE_WORDS = {"false", "off", "no"}


def discord_commands(
    shown: Callable[[tuple[str, ...]], tuple[str, ...]],
    ids: Mapping[str, int] | None = None,
) -> CommandStyle:
    """Commands as Discord shows them to a reader of ``locale``.

    ``shown`` maps a command table path to where Discord shows it (``/admin ...``);
    ``ids`` the synced top-level commands' ids by name, for clickable mentions
    (``</member join:123>``). Discord shows a mention by the command's base (English) name
    whatever the reader's language, and a mention written with a localised name does not
    work, so a Korean message shows the Korean names as text (``/멤버 참여``): what the
    Korean client lists when the reader types ``/멤버``."""
    known = ids if ids is not None else {}  # read at render time: it may fill later

    def style(ref: CommandRef | OptionRef, locale: str) -> str:
        table = catalogue(locale)
        if isinstance(ref, OptionRef):
            path = tuple(ref.command.split())
            key = f"cmd.{'.'.join(path)}.{ref.option}.name"
            return f"`{table.get(key, ref.option)}`"
        path = ref.words
        where = shown(path)
        options = []
        for name, value in ref.options:
            label = table.get(f"cmd.{'.'.join(path)}.{name}.name", name)
            if value.lower() in _TRUE_WORDS | _FALSE_WORDS:
                value = table["command.true" if value.lower() in _TRUE_WORDS else "command.false"]
            options.append(f"{label}:{value}")
        command_id = known.get(where[0])
        if command_id is not None and locale != "ko":
            mention = f"</{' '.join(where)}:{command_id}>"
            return mention + (" `" + " ".join(options) + "`" if options else "")
        return "`" + " ".join(["/" + command_names(where, path, locale), *options]) + "`"

    return style


# --- templates -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    shown: str  # what the front end sends
    spoken: str  # what the reader reads there (a mention's name): particles follow it


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_PLURAL = re.compile(r"([A-Za-z_]\w*)\|([^|{}]*)\|([^|{}]*)")
_MENTION_TAG = re.compile(r"</([^:>]+):\d+>")


def fields(template: str) -> Iterator[tuple[str, str | None]]:
    """The template as ``(literal, None)`` and ``("", field)`` parts; a command field may
    hold parameters (``{/lesson run id:{id}}``)."""
    index, literal = 0, []
    while index < len(template):
        char = template[index]
        if char in "{}" and template[index : index + 2] in ("{{", "}}"):
            literal.append(char)
            index += 2
            continue
        if char != "{":
            literal.append(char)
            index += 1
            continue
        end, depth = index + 1, 1
        while end < len(template) and depth:
            depth += {"{": 1, "}": -1}.get(template[end], 0)
            end += 1
        if depth:  # not closed: the rest is text
            literal.append(template[index:])
            break
        if literal:
            yield "".join(literal), None
            literal = []
        yield "", template[index + 1 : end - 1]
        index = end
    if literal:
        yield "".join(literal), None


def parameters(template: str) -> set[str]:
    """The parameters a message takes (particles, commands and options are not ones)."""
    found: set[str] = set()
    for _, field in fields(template):
        if field is None or field in PARTICLES or field.startswith("option:"):
            continue
        if field.startswith("/"):
            found |= {inner for _, inner in fields(field) if inner and _IDENTIFIER.fullmatch(inner)}
            continue
        plural = _PLURAL.fullmatch(field)
        found.add(plural.group(1) if plural else field)
    return found


@dataclass(frozen=True)
class _Style:
    locale: str
    mention: MentionStyle
    command: CommandStyle


def _command_piece(ref: CommandRef | OptionRef, style: _Style) -> _Piece:
    shown = style.command(ref, style.locale)
    return _Piece(shown, _MENTION_TAG.sub(r"/\1", shown))


def _value(value: Any, style: _Style) -> _Piece:
    if isinstance(value, Mention):
        return _Piece(style.mention(value), value.name)
    if isinstance(value, Text):
        return _render(value.key, value.params, style)
    if isinstance(value, CommandRef | OptionRef):
        return _command_piece(value, style)
    if isinstance(value, date):
        same = format_date(value, style.locale)
        return _Piece(same, same)
    if isinstance(value, time):
        return _same(value.strftime("%H:%M"))
    if isinstance(value, list | tuple):
        pieces = [_value(v, style) for v in value]
        return _Piece(", ".join(p.shown for p in pieces), ", ".join(p.spoken for p in pieces))
    if value is None:
        return _same("-")
    if isinstance(value, float):  # no exponents: "1000000", never "1e+06"
        return _same(format_number(value))
    return _same(str(value))


def _same(text: str) -> _Piece:
    return _Piece(text, text)


def _plural(count: Any, one: str, other: str) -> str:
    try:
        return one if abs(float(count)) == 1 else other
    except (TypeError, ValueError):
        return other


def _render(key: str, params: Mapping[str, Any], style: _Style) -> _Piece:
    table = catalogue(style.locale if style.locale in LOCALES else DEFAULT_LOCALE)
    template = table.get(key) or catalogue(DEFAULT_LOCALE).get(key) or key
    return _fill(template, params, style)


def _fill(template: str, params: Mapping[str, Any], style: _Style) -> _Piece:
    shown: list[str] = []
    spoken: list[str] = []
    for literal, field in fields(template):
        if field is None:
            piece = _same(literal)
        elif field in PARTICLES:
            piece = _same(choose("".join(spoken), field))
        elif field.startswith("/"):
            spec = _fill(field[1:], params, _Style(style.locale, plain_mention, style.command))
            piece = _command_piece(CommandRef.parse(spec.spoken), style)
        elif field.startswith("option:"):
            command, _, option = field.removeprefix("option:").rpartition(" ")
            piece = _command_piece(OptionRef(command, option), style)
        elif (plural := _PLURAL.fullmatch(field)) is not None and plural.group(1) in params:
            piece = _same(_plural(params[plural.group(1)], plural.group(2), plural.group(3)))
        elif field in params:
            piece = _value(params[field], style)
        else:  # a missing parameter stays visible rather than breaking the message
            piece = _same("{" + field + "}")
        shown.append(piece.shown)
        spoken.append(piece.spoken)
    return _Piece("".join(shown), "".join(spoken))


def format_date(day: date, locale: str) -> str:
    weekday = catalogue(locale)[f"weekday.{day.isoweekday()}"]
    if locale == "ko":
        return f"{day.month}월 {day.day}일({weekday})"
    return f"{weekday} {day.isoformat()}"


def fill(
    locale: str,
    template: str,
    params: Mapping[str, Any] | None = None,
    mention: MentionStyle = plain_mention,
    *,
    command: CommandStyle = typed_command,
) -> str:
    """Render a template that is not in a catalogue (the syntax above)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    return _fill(template, params or {}, _Style(locale, mention, command)).shown


def text(
    locale: str,
    key: str,
    params: dict[str, Any] | None = None,
    mention: MentionStyle = plain_mention,
    *,
    command: CommandStyle = typed_command,
) -> str:
    """Render one message. Unknown locales fall back to Korean; missing keys show the key.
    ``mention`` and ``command``: how the front end shows users and commands (by default
    as the console does)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    return _render(key, params or {}, _Style(locale, mention, command)).shown


def render(
    reply: Reply,
    locale: str,
    mention: MentionStyle = plain_mention,
    *,
    command: CommandStyle = typed_command,
) -> str:
    parts = [text(locale, reply.key, reply.params, mention, command=command)]
    parts += [text(locale, line.key, line.params, mention, command=command) for line in reply.lines]
    return "\n".join(parts)
