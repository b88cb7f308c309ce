"""The daily moderator rotation: the rule (``_rule``), the turn commands (``_schedule``),
swaps (``_swaps``) and away periods (``_away``). This module only names what it exports."""

from bot.services.rotation._away import (
    MAX_AWAY_DAYS,
    cancel_away,
    list_away,
    release_turns,
    set_away,
)
from bot.services.rotation._rule import (
    AwayBook,
    Turn,
    is_moderator_today,
    moderator_for,
    pick,
    project,
)
from bot.services.rotation._schedule import MAX_SCHEDULE_DAYS, schedule_reply, skip, today_reply
from bot.services.rotation._swaps import (
    SWAP_WINDOW_DAYS,
    PendingSwap,
    answer_swap,
    pending_swaps,
    request_swap,
)

__all__ = [
    "MAX_AWAY_DAYS",
    "MAX_SCHEDULE_DAYS",
    "SWAP_WINDOW_DAYS",
    "AwayBook",
    "PendingSwap",
    "Turn",
    "answer_swap",
    "cancel_away",
    "is_moderator_today",
    "list_away",
    "moderator_for",
    "pending_swaps",
    "pick",
    "project",
    "release_turns",
    "request_swap",
    "schedule_reply",
    "set_away",
    "skip",
    "today_reply",
]
