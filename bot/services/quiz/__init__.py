"""The review quiz: cards from the lessons, a Leitner schedule in study days, the daily
nudge, statistics and the Anki export (``/quiz``). See ``_schedule`` for the rules."""

from bot.services.quiz._deck import NEW_PER_DAY, deck, find_card, member_days
from bot.services.quiz._export import build_apkg, export_reply
from bot.services.quiz._nudge import (
    digest_line,
    learned_between,
    moments_between,
    set_nudge,
    sweep,
)
from bot.services.quiz._review import MAX_CHOICE, answer, grade, next_card, reveal
from bot.services.quiz._schedule import INTERVALS, RECALLS_TO_LEARN, CardState
from bot.services.quiz._stats import SCOPES, stats
from lessons.cards import MAX_CARD_ID

__all__ = [
    "INTERVALS",
    "MAX_CARD_ID",
    "MAX_CHOICE",
    "NEW_PER_DAY",
    "RECALLS_TO_LEARN",
    "SCOPES",
    "CardState",
    "answer",
    "build_apkg",
    "deck",
    "digest_line",
    "export_reply",
    "find_card",
    "grade",
    "learned_between",
    "member_days",
    "moments_between",
    "next_card",
    "reveal",
    "set_nudge",
    "stats",
    "sweep",
]
