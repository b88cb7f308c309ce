"""Message catalogues (Korean default, English complete) and reply rendering."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, time
from functools import cache
from pathlib import Path
from typing import Any

from bot.replies import Mention, Reply, Text

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
_HERE = Path(__file__).parent

MentionStyle = Callable[[Mention], str]


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


def format_date(day: date, locale: str) -> str:
    weekday = catalogue(locale)[f"weekday.{day.isoweekday()}"]
    if locale == "ko":
        return f"{day.month}월 {day.day}일({weekday})"
    return f"{weekday} {day.isoformat()}"


def format_value(value: Any, locale: str, mention: MentionStyle) -> str:
    if isinstance(value, Mention):
        return mention(value)
    if isinstance(value, Text):
        return text(locale, value.key, value.params, mention)
    if isinstance(value, date):
        return format_date(value, locale)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, locale, mention) for v in value)
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def text(
    locale: str,
    key: str,
    params: dict[str, Any] | None = None,
    mention: MentionStyle = plain_mention,
) -> str:
    """Render one message. Unknown locales fall back to Korean; missing keys show the key."""
    table = catalogue(locale if locale in LOCALES else DEFAULT_LOCALE)
    template = table.get(key) or catalogue(DEFAULT_LOCALE).get(key) or key
    values = {k: format_value(v, locale, mention) for k, v in (params or {}).items()}
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        return template


def render(reply: Reply, locale: str, mention: MentionStyle = plain_mention) -> str:
    parts = [text(locale, reply.key, reply.params, mention)]
    parts += [text(locale, line.key, line.params, mention) for line in reply.lines]
    return "\n".join(parts)
