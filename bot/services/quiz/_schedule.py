"""The review schedule: Leitner boxes counted in the member's study days.

A card starts in box 1, due at once. Each successful recall on a new day moves it up one
box and makes it due again a few study days later (``INTERVALS``: short and growing, since
the group's rule is five recalls within a few weeks, not long-term retention). Only the
first answer of a day can count: a "knew it" after another answer that day (a second try,
or right after a miss showed the answer) counts nothing. After ``RECALLS_TO_LEARN``
successful recalls on separate days the card is learned and leaves the schedule. A miss
sends it back to box 1 (the recalls start over), due the next study day.

Study days are the group's (weekdays it meets, public holidays and days off excluded)
minus the member's away days. Everything is a function of the dates given: the same
answers on the same days always give the same schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

RECALLS_TO_LEARN = 5
# study days until the next review, by the number of successful recalls so far
INTERVALS: dict[int, int] = {1: 1, 2: 2, 3: 3, 4: 5}
FIRST_BOX = 1
MAX_SCAN_DAYS = 800  # a member away for years: give up and schedule the plain date


@dataclass(frozen=True)
class CardState:
    box: int  # 1 .. RECALLS_TO_LEARN + 1 (the last: learned)
    recalls: int  # successful recalls on separate days, since the last miss
    due_on: date
    last_answered_on: date | None = None
    learned_on: date | None = None

    @property
    def learned(self) -> bool:
        return self.learned_on is not None

    def is_due(self, today: date) -> bool:
        return not self.learned and self.due_on <= today


def new_state(today: date) -> CardState:
    return CardState(box=FIRST_BOX, recalls=0, due_on=today)


def add_study_days(day: date, count: int, is_study_day: Callable[[date], bool]) -> date:
    """The ``count``-th study day after ``day`` (``count`` >= 1)."""
    found = 0
    current = day
    for _ in range(MAX_SCAN_DAYS):
        current += timedelta(days=1)
        if is_study_day(current):
            found += 1
            if found == count:
                return current
    return day + timedelta(days=count)


def recall(state: CardState, today: date, is_study_day: Callable[[date], bool]) -> CardState:
    """The member knew the card today."""
    if state.learned or state.last_answered_on == today:
        return state  # learned already, or answered before today: counts nothing
    recalls = state.recalls + 1
    if recalls >= RECALLS_TO_LEARN:
        return replace(
            state,
            box=RECALLS_TO_LEARN + 1,
            recalls=recalls,
            last_answered_on=today,
            learned_on=today,
        )
    return replace(
        state,
        box=recalls + 1,
        recalls=recalls,
        last_answered_on=today,
        due_on=add_study_days(today, INTERVALS[recalls], is_study_day),
    )


def miss(state: CardState, today: date, is_study_day: Callable[[date], bool]) -> CardState:
    """The member did not know the card: back to box 1, due the next study day."""
    if state.learned:
        return state
    return replace(
        state,
        box=FIRST_BOX,
        recalls=0,
        last_answered_on=today,
        due_on=add_study_days(today, 1, is_study_day),
    )
