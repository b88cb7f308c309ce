"""Streaks: consecutive study days with at least one entry. Weekends, Korean public
holidays, declared days off and the member's own away days neither count nor break it;
today does not break it before the day is over."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.progress.helpers import log_on


def streak(harness: Harness, who: str, at: str | None = None) -> int:
    if at is not None:
        harness.at(at)
    reply = harness.invoke(who, "progress me")
    assert reply.key == "progress.me", reply
    return int(reply.params["streak"])


@pytest.mark.sqlite_only
def test_consecutive_study_days_count_and_a_missed_one_breaks(study: Harness) -> None:
    assert streak(study, "alice") == 0
    for day in ("2026-12-07", "2026-12-08", "2026-12-09"):
        log_on(study, "alice", day)
    log_on(study, "bob", "2026-12-07")
    log_on(study, "bob", "2026-12-09")  # Tuesday missed
    assert streak(study, "alice") == 3
    assert streak(study, "bob") == 1


@pytest.mark.sqlite_only
def test_today_does_not_break_the_streak_until_it_is_over(study: Harness) -> None:
    log_on(study, "alice", "2026-12-07")
    log_on(study, "alice", "2026-12-08")
    assert streak(study, "alice", at="2026-12-09 23:59") == 2  # Wednesday not logged yet
    assert streak(study, "alice", at="2026-12-10 00:00") == 0  # Wednesday is over
    log_on(study, "alice", "2026-12-10")
    assert streak(study, "alice") == 1


@pytest.mark.sqlite_only
def test_a_weekend_neither_breaks_nor_counts(study: Harness) -> None:
    for day in ("2026-12-10", "2026-12-11", "2026-12-12"):  # Thu, Fri, Sat
        log_on(study, "alice", day)
    assert streak(study, "alice", at="2026-12-13 12:00") == 2  # Sunday: Thu + Fri
    assert streak(study, "alice", at="2026-12-14 12:00") == 2  # Monday before logging
    log_on(study, "alice", "2026-12-14")
    assert streak(study, "alice") == 3  # Thu, Fri, Mon; Saturday's entry does not count


@pytest.mark.sqlite_only
def test_a_korean_public_holiday_neither_breaks_nor_counts(study: Harness) -> None:
    for day in ("2026-12-23", "2026-12-24", "2026-12-28"):  # Fri 12-25 is 기독탄신일
        log_on(study, "alice", day)
    assert streak(study, "alice") == 3
    # a group that studies on public holidays: Christmas was a study day without an entry
    assert study.invoke("admin", "schedule set", holidays=False).key == "schedule.updated"
    assert streak(study, "alice") == 1


def test_away_days_neither_break_nor_count(study: Harness) -> None:
    study.at("2026-12-14 08:00")
    assert study.invoke("bob", "away", **{"from": "12-15", "to": "12-16"}).key == "away.added"
    for who in ("alice", "bob"):
        log_on(study, who, "2026-12-14")  # Monday
    log_on(study, "bob", "2026-12-15")  # logged while away: does not count either
    for who in ("alice", "bob"):
        log_on(study, who, "2026-12-17")  # Thursday
    assert streak(study, "bob") == 2  # Mon and Thu; Tue-Wed were his away days
    assert streak(study, "alice") == 1  # alice was not away: Tue and Wed break hers


@pytest.mark.sqlite_only
def test_a_declared_day_off_neither_breaks_nor_counts(study: Harness) -> None:
    assert study.invoke("admin", "schedule dayoff", date="12-09").key == "schedule.day_off_added"
    log_on(study, "alice", "2026-12-08")
    log_on(study, "alice", "2026-12-10")
    assert streak(study, "alice") == 2


@pytest.mark.sqlite_only
def test_several_entries_a_day_count_once_and_the_log_reply_shows_the_streak(
    study: Harness,
) -> None:
    log_on(study, "alice", "2026-12-07")
    study.at("2026-12-08 09:00")
    first = study.invoke("alice", "progress log", note="morning")
    second = study.invoke("alice", "progress log", note="evening")
    assert first.lines[-1].params == {"days": 2} and second.lines[-1].params == {"days": 2}
    assert first.lines[-1].key == "progress.streak_line"
    assert streak(study, "alice") == 2
