"""The Leitner rules, as pure functions of dates: boxes, intervals in study days, learned
after five recalls on five separate days, a miss back to box 1, deterministic."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.quiz._schedule import (
    INTERVALS,
    RECALLS_TO_LEARN,
    CardState,
    add_study_days,
    miss,
    new_state,
    recall,
)

MONDAY = date(2026, 12, 7)


def weekdays(day: date) -> bool:
    return day.isoweekday() <= 5


def test_intervals_are_short_and_growing() -> None:
    steps = [INTERVALS[n] for n in range(1, RECALLS_TO_LEARN)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert sum(steps) <= 15  # five recalls within a few weeks of study days


def test_five_recalls_on_five_study_days_learn_a_card() -> None:
    state = new_state(MONDAY)
    days = []
    while not state.learned:
        day = state.due_on
        days.append(day)
        state = recall(state, day, weekdays)
    assert len(days) == RECALLS_TO_LEARN
    assert len(set(days)) == RECALLS_TO_LEARN
    assert all(weekdays(day) for day in days)
    # Mon, then 1, 2, 3 and 5 study days later: Tue, Thu, next Tue, the Tuesday after
    assert days == [MONDAY, date(2026, 12, 8), date(2026, 12, 10), date(2026, 12, 15),
                    date(2026, 12, 22)]  # fmt: skip
    assert state.learned_on == date(2026, 12, 22)
    assert not state.is_due(date(2027, 1, 1))


def test_a_second_recall_the_same_day_counts_nothing() -> None:
    once = recall(new_state(MONDAY), MONDAY, weekdays)
    twice = recall(once, MONDAY, weekdays)
    assert twice == once and twice.recalls == 1


def test_a_miss_sends_the_card_back_to_the_first_box() -> None:
    state = new_state(MONDAY)
    for day in (MONDAY, date(2026, 12, 8), date(2026, 12, 10)):
        state = recall(state, day, weekdays)
    assert state.box == 4
    missed = miss(state, date(2026, 12, 15), weekdays)
    assert (missed.box, missed.recalls) == (1, 0)
    assert missed.due_on == date(2026, 12, 16)  # the next study day


def test_intervals_skip_weekends_and_days_the_member_is_away() -> None:
    friday = date(2026, 12, 11)
    assert recall(new_state(friday), friday, weekdays).due_on == date(2026, 12, 14)  # Monday
    away = {date(2026, 12, 14), date(2026, 12, 15)}

    def present(day: date) -> bool:
        return weekdays(day) and day not in away

    assert recall(new_state(friday), friday, present).due_on == date(2026, 12, 16)
    assert add_study_days(friday, 3, present) == date(2026, 12, 18)


def test_a_member_away_for_ever_still_gets_a_date() -> None:
    assert add_study_days(MONDAY, 2, lambda day: False) == MONDAY + timedelta(days=2)


answers = st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=40)


def replay(events: list[tuple[int, bool]], is_study_day=weekdays) -> tuple[CardState, list]:  # type: ignore[no-untyped-def]
    state = new_state(MONDAY)
    day = MONDAY
    seen = []
    for gap, knew in events:
        day += timedelta(days=gap)
        before = state
        state = recall(state, day, is_study_day) if knew else miss(state, day, is_study_day)
        seen.append((day, knew, before, state))
    return state, seen


@settings(max_examples=300, deadline=None)
@given(answers)
def test_learned_exactly_after_five_recall_days_since_the_last_miss(
    events: list[tuple[int, bool]],
) -> None:
    state, seen = replay(events)
    streak_days: list[date] = []
    learned_on = None
    answered: set[date] = set()
    for day, knew, _before, _after in seen:
        if learned_on is not None:
            continue  # a learned card stays learned
        if knew:
            if day not in answered:  # only the first answer of a day counts
                streak_days.append(day)
            if len(streak_days) == RECALLS_TO_LEARN:
                learned_on = day
        else:
            streak_days = []
        answered.add(day)
    assert state.learned_on == learned_on
    if not state.learned:
        assert state.recalls == len(streak_days)
        assert state.box == state.recalls + 1


@settings(max_examples=300, deadline=None)
@given(answers)
def test_every_answer_schedules_a_later_study_day_and_replays_identically(
    events: list[tuple[int, bool]],
) -> None:
    state, seen = replay(events)
    for day, _knew, before, after in seen:
        if after.learned or after == before:
            continue
        assert after.due_on > day and weekdays(after.due_on)
        assert 1 <= after.box <= RECALLS_TO_LEARN
    assert replay(events) == (state, seen)  # deterministic: same answers, same schedule
