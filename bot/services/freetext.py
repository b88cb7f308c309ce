"""Free text people type (notes, model names, task and competition names, day-off
reasons, solution links, display names): cleaned, length-limited and made safe to show in
a channel. Every entry point of text a post may show goes through here.

``clean`` strips control and bidi-override characters, then neutralises mass and user or
role mentions by putting a zero-width space after the ``@`` (``@everyone`` shows as
``@\u200beveryone`` and pings nobody), then checks the length of what will be stored: text
over its limit is refused with the limit, never cut. ``echo`` is how a refusal quotes what
was typed; ``display_name`` is a person's name as posts show it; ``is_reserved_name`` says
whether a name is one a member may not have (``everyone``, ``here``).
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InvalidInput
from bot.replies import Text

ZWSP = "\u200b"
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_MASS = re.compile(r"@(?=(everyone|here)\b)", re.IGNORECASE)
_TAGGED = re.compile(r"<(@[!&]?|#)(?=\d)")  # <@123>, <@!123>, <@&123>, <#123>
FIELDS = {  # the field's name in messages
    "note": "progress.field_note",
    "task": "progress.field_task",
    "metric": "progress.field_metric",
    "model": "progress.field_model",
    "repro": "progress.field_repro",
    "name": "progress.field_name",
    "reason": "input.field_reason",
    "link": "input.field_link",
}
RESERVED_NAMES = frozenset({"everyone", "here"})  # Discord's mass mentions
MAX_ECHO = 100  # a refusal quotes at most this much of what was typed, then "…"
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def _strip_controls(value: str, multiline: bool) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in value:
        if char == "\n":
            kept.append("\n" if multiline else " ")
        elif char == "\t":
            kept.append(" ")
        elif unicodedata.category(char) == "Cc" or char in _BIDI:
            continue
        else:
            kept.append(char)
    text = "".join(kept)
    if multiline:
        text = re.sub(r"\n{3,}", "\n\n", text)
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    else:
        text = re.sub(r" {2,}", " ", text)
    return text.strip()


def has_mention(value: str) -> bool:
    """Whether ``value`` has a mass mention or a user, role or channel mention in it."""
    return _MASS.search(value) is not None or _TAGGED.search(value) is not None


def neutralise_mentions(value: str) -> str:
    """``@everyone``/``@here`` and ``<@id>``/``<@&id>``/``<#id>`` no longer ping."""
    value = _MASS.sub("@" + ZWSP, value)
    return _TAGGED.sub(lambda m: "<" + m[1][0] + ZWSP + m[1][1:], value)


def clean(
    value: str | None,
    field: str,
    limit: int,
    *,
    multiline: bool = False,
    required: bool = False,
    too_long: str = "error.progress_text_too_long",
) -> str | None:
    """The stored form of ``value``: None when empty (refused when ``required``); over
    ``limit`` characters it is refused with ``too_long`` (params ``field``, ``max``,
    ``length``)."""
    if value is None:
        if required:
            raise InvalidInput("error.progress_text_required", field=Text(FIELDS[field]))
        return None
    text = neutralise_mentions(_strip_controls(str(value), multiline))
    if not text:
        if required:
            raise InvalidInput("error.progress_text_required", field=Text(FIELDS[field]))
        return None
    if len(text) > limit:
        raise InvalidInput(
            too_long,
            field=Text(FIELDS[field]),
            max=limit,
            length=len(text),
        )
    return text


def echo(value: object, limit: int = MAX_ECHO) -> str:
    """What was typed, to quote in a refusal: as typed on one line, mentions neutralised,
    and visibly shortened ("…") past ``limit`` characters."""
    text = neutralise_mentions(_strip_controls(str(value), multiline=False))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_name(name: str, limit: int) -> str:
    """A person's name as posts show it: one line, mentions neutralised; a name longer
    than ``limit`` (no platform gives one) ends in "…" rather than being cut unseen."""
    text = neutralise_mentions(_strip_controls(name, multiline=False))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_reserved_name(name: str) -> bool:
    """``everyone``, ``@here``, ``@\u200bEveryone``, ...: a name that reads as a mass
    mention, which no member may have."""
    bare = "".join(ch for ch in name if ch not in _INVISIBLE).strip().lstrip("@").strip()
    return bare.casefold() in RESERVED_NAMES


__all__ = [
    "RESERVED_NAMES",
    "ZWSP",
    "clean",
    "display_name",
    "echo",
    "has_mention",
    "is_reserved_name",
    "neutralise_mentions",
]
