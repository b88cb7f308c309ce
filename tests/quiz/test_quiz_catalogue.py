"""The quiz's English messages say how many: a plural word (``{count|card|cards}``) comes
with its number, so "Exported 22 review cards", never "Exported review cards"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.i18n import text

pytestmark = pytest.mark.sqlite_only

CATALOGUE = Path(__file__).parents[2] / "bot" / "i18n" / "en" / "quiz.json"
PLURAL = re.compile(r"\{([A-Za-z_]\w*)\|[^|{}]*\|[^|{}]*\}")


def numberless_plurals(messages: dict[str, str]) -> list[str]:
    """The keys whose message picks a word by a number it never shows."""
    return [
        key
        for key, message in messages.items()
        if any("{" + name + "}" not in message for name in PLURAL.findall(message))
    ]


def test_every_plural_in_the_quiz_catalogue_shows_its_number() -> None:
    messages = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    assert numberless_plurals(messages) == []


def test_the_check_catches_a_plural_without_its_number() -> None:
    assert numberless_plurals({"bad": "Exported {count|card|cards}.", "good": "{n} {n|a|b}"}) == [
        "bad"
    ]


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        ("quiz.nudge", {"count": 1}, "⏰ 1 card is waiting for review today."),
        ("quiz.nudge", {"count": 5}, "⏰ 5 cards are waiting for review today."),
        ("quiz.export", {"count": 22}, "Exported 22 review cards as an Anki deck;"),
        ("quiz.stats_group", {"members": 1}, "Mastery by lesson (1 member;"),
    ],
)
def test_counts_read_right(key: str, params: dict[str, object], expected: str) -> None:
    assert text("en", key, params).startswith(expected)
