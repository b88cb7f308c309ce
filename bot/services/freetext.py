"""Free text members type (notes, model names, task names): cleaned, length-limited and
made safe to show in a channel.

``clean`` strips control and bidi-override characters, then neutralises mass and user or
role mentions by putting a zero-width space after the ``@`` (``@everyone`` shows as
``@\u200beveryone`` and pings nobody), then checks the length of what will be stored.
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
}


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


def neutralise_mentions(value: str) -> str:
    """``@everyone``/``@here`` and ``<@id>``/``<@&id>``/``<#id>`` no longer ping."""
    value = _MASS.sub("@" + ZWSP, value)
    return _TAGGED.sub(lambda m: "<" + m[1][0] + ZWSP + m[1][1:], value)


def clean(
    value: str | None, field: str, limit: int, *, multiline: bool = False, required: bool = False
) -> str | None:
    """The stored form of ``value``: None when empty (refused when ``required``)."""
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
            "error.progress_text_too_long",
            field=Text(FIELDS[field]),
            max=limit,
            length=len(text),
        )
    return text


__all__ = ["ZWSP", "clean", "neutralise_mentions"]
