"""Daily duties post exactly once: twice, after a crash, or late, still one post."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from sqlalchemy import func, select

from bot.schedule.duties import DUTIES, ensure_review_post
from bot.schedule.runner import run_duty
from bot.services.duty_runs import REVIEW_DUTY
from db.models import DutyRun, ModAssignment, OutboxMessage
from tests.conftest import Harness

MONDAY = date(2026, 12, 7)


def counts(harness: Harness) -> tuple[int, int, int]:
    """(duty_runs, outbox, mod_assignments) rows."""
    with harness.transaction() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (DutyRun, OutboxMessage, ModAssignment)
        )


def review(harness: Harness, day: date = MONDAY) -> bool:
    harness.at(f"{day.isoformat()} 09:30")
    return run_duty(harness.core.services, harness.group_id, REVIEW_DUTY, day)


def test_running_twice_posts_once(harness: Harness) -> None:
    harness.join("alice", "bob")
    assert review(harness) is True
    assert review(harness) is False
    assert counts(harness) == (1, 1, 1)
    with harness.transaction() as session:
        run = session.scalars(select(DutyRun)).one()
        post = session.scalars(select(OutboxMessage)).one()
    assert (run.group_id, run.duty, run.local_date) == (harness.group_id, REVIEW_DUTY, MONDAY)
    assert run.ran_at == harness.clock.now()
    assert post.body["key"] == "duty.review"
    assert post.body["params"]["name"] == {"$mention": [harness.actor("alice").user_id, "alice"]}
    assert {"$text": ["duty.review_hint", {}]} in post.body["lines"]


@pytest.mark.sqlite_only
def test_twice_in_one_transaction_posts_once(harness: Harness) -> None:
    harness.join("alice")
    with harness.group() as (session, group):
        now = harness.clock.now()
        assert ensure_review_post(session, group, MONDAY, now) is True
        assert ensure_review_post(session, group, MONDAY, now) is False
    assert counts(harness) == (1, 1, 1)


def test_crash_after_the_claim_leaves_nothing_and_the_rerun_posts_once(
    harness: Harness,
) -> None:
    harness.join("alice")
    with (
        mock.patch("bot.schedule.duties.enqueue", side_effect=RuntimeError("killed")),
        pytest.raises(RuntimeError, match="killed"),
    ):
        review(harness)
    assert counts(harness) == (0, 0, 0)  # the claim and the moderator went with the crash
    assert review(harness) is True
    assert review(harness) is False
    assert counts(harness) == (1, 1, 1)


def test_crash_before_commit_leaves_nothing(harness: Harness) -> None:
    harness.join("alice")
    with pytest.raises(KeyboardInterrupt), harness.group() as (session, group):
        assert ensure_review_post(session, group, MONDAY, harness.clock.now())
        session.flush()
        raise KeyboardInterrupt  # the process is stopped before the commit
    assert counts(harness) == (0, 0, 0)
    assert review(harness) is True
    assert counts(harness) == (1, 1, 1)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("day", [date(2026, 12, 12), date(2026, 12, 13), date(2026, 12, 25)])
def test_no_post_on_a_day_without_study(harness: Harness, day: date) -> None:
    harness.join("alice")
    assert review(harness, day) is False
    assert counts(harness) == (0, 0, 0)


@pytest.mark.sqlite_only
def test_no_post_on_a_declared_day_off(harness: Harness) -> None:
    harness.join("alice")
    admin = harness.grant_admin("admin")
    harness.invoke(admin, "schedule dayoff", date="12-08")
    assert review(harness, date(2026, 12, 8)) is False
    assert counts(harness) == (0, 0, 0)


@pytest.mark.sqlite_only
def test_no_members_still_calls_the_review(harness: Harness) -> None:
    assert review(harness) is True
    with harness.transaction() as session:
        post = session.scalars(select(OutboxMessage)).one()
    assert post.body["key"] == "duty.review_nobody"
    assert counts(harness) == (1, 1, 0)


@pytest.mark.sqlite_only
def test_review_duty_is_registered_at_review_time(harness: Harness) -> None:
    assert DUTIES[REVIEW_DUTY].run is ensure_review_post
    with harness.group() as (_, group):
        assert DUTIES[REVIEW_DUTY].time_of(group) == group.review_time
