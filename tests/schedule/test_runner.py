"""Running what fell due, and catching up at start-up within the grace window."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from sqlalchemy import func, select

from bot.schedule import duties
from bot.schedule.planner import DueDuty
from bot.services.duty_runs import REVIEW_DUTY
from db.models import DutyRun, Group, OutboxMessage
from tests.conftest import Harness

MONDAY = date(2026, 12, 7)
REVIEW_UTC = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 09:30 in Seoul


def posts(harness: Harness) -> list[str]:
    """The keys of the review posts in the outbox (other duties post other things)."""
    with harness.transaction() as session:
        bodies = session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id))
        return [body["key"] for body in bodies if body["key"].startswith("duty.review")]


def reviews(items: list[DueDuty]) -> list[DueDuty]:
    return [item for item in items if item.duty == REVIEW_DUTY]


def test_reconcile_an_hour_late_posts_once(harness: Harness) -> None:
    harness.join("alice")
    harness.at("2026-12-07 10:30")
    caught_up = harness.core.reconcile_sync()
    assert reviews(caught_up) == [DueDuty(REVIEW_UTC, harness.group_id, REVIEW_DUTY, MONDAY)]
    assert posts(harness) == ["duty.review"]
    assert reviews(harness.core.reconcile_sync()) == []  # a second start-up
    harness.at("2026-12-07 12:00")
    assert reviews(harness.core.reconcile_sync()) == []
    assert posts(harness) == ["duty.review"]


def test_reconcile_outside_the_grace_window_posts_nothing(harness: Harness) -> None:
    harness.join("alice")
    assert harness.core.services.settings.reconcile_grace_hours == 3
    harness.at("2026-12-07 13:30")  # four hours late
    assert reviews(harness.core.reconcile_sync()) == []
    assert reviews(harness.core.reconcile_sync()) == []
    assert posts(harness) == []
    with harness.transaction() as session:
        runs = select(func.count()).select_from(DutyRun).where(DutyRun.duty == REVIEW_DUTY)
        assert session.scalar(runs) == 0


def test_reconcile_before_review_time_or_on_a_weekend_posts_nothing(harness: Harness) -> None:
    harness.join("alice")
    assert reviews(harness.core.reconcile_sync()) == []  # Monday 08:00: not due yet
    harness.at("2026-12-12 10:00")  # Saturday: due, but not a study day
    assert reviews(harness.core.reconcile_sync()) == []
    assert posts(harness) == []


def test_run_due_runs_everything_in_the_window_once(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.at("2026-12-09 10:00")
    after = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    until = harness.clock.now()
    posted = reviews(harness.core.run_due_sync(after, until))
    assert [item.local_date for item in posted] == [MONDAY, date(2026, 12, 8), date(2026, 12, 9)]
    assert harness.core.run_due_sync(after, until) == []  # nothing of any duty again
    assert posts(harness) == ["duty.review"] * 3


@pytest.mark.sqlite_only
def test_one_failing_group_does_not_stop_the_others(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    other = harness.core.group_for_guild_sync(99, channel_id=7, channel_name="other")
    original = duties.review_posts

    def broken_for_first_group(session, group: Group, day, now, facts):  # type: ignore[no-untyped-def]
        if group.id == harness.group_id:
            raise RuntimeError("database hiccup")
        return original(session, group, day, now, facts)

    harness.at("2026-12-07 10:00")
    with (
        mock.patch.object(duties, "review_posts", broken_for_first_group),
        caplog.at_level(logging.ERROR, logger="bot.schedule.runner"),
    ):
        posted = reviews(harness.core.reconcile_sync())
    assert [item.group_id for item in posted] == [other]
    assert f"duty review_post for group {harness.group_id} on 2026-12-07 failed" in caplog.text
    with harness.transaction() as session:
        runs = select(DutyRun.group_id).where(DutyRun.duty == REVIEW_DUTY)
        assert session.scalars(runs).all() == [other]
    retried = reviews(harness.core.reconcile_sync())
    assert [item.group_id for item in retried] == [harness.group_id]
