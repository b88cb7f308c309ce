"""The nudge under a simulated clock (``runner.step_through``, what the console's ``:time``
and ``:advance`` run): the clock stops at each member's nudge time and the same sweep as
the minute job runs there, so a step past it nudges once and a step that ends before it
does not."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.services import quiz
from db.models import OutboxMessage
from tests.conftest import SEOUL, Harness


def seoul(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SEOUL)


def nudges(harness: Harness) -> list[tuple[str, datetime]]:
    """(who, when queued) of each nudge in the outbox, in order."""
    names = {harness.actor(name).user_id: name for name in ("alice", "bob", "carol")}
    with harness.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.user_id, OutboxMessage.body, OutboxMessage.created_at).order_by(
                OutboxMessage.id
            )
        ).all()
    return [
        (names[user], created.astimezone(SEOUL))
        for user, body, created in rows
        if body["key"] == "quiz.nudge" and user is not None
    ]


def test_moments_are_each_nudge_time_in_the_window_once(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    harness.invoke("alice", "quiz nudge", time="20:00")
    harness.invoke("bob", "quiz nudge", time="20:00")  # the same instant: listed once
    harness.invoke("carol", "quiz nudge", time="07:30")
    with harness.transaction() as session:
        found = quiz.moments_between(session, seoul("2026-12-07 07:30"), seoul("2026-12-08 20:00"))
    assert found == [
        seoul("2026-12-07 20:00"),
        seoul("2026-12-08 07:30"),
        seoul("2026-12-08 20:00"),
    ]
    assert all(moment.tzinfo is UTC for moment in found)
    harness.invoke("alice", "quiz nudge", time="off")
    harness.invoke("bob", "quiz nudge", time="off")
    with harness.transaction() as session:
        assert (
            quiz.moments_between(session, seoul("2026-12-07 08:00"), seoul("2026-12-07 23:00"))
            == []
        )  # carol's 07:30 is outside the window


def test_stepping_past_the_time_nudges_once_at_that_minute(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.invoke("alice", "quiz nudge", time="20:00")
    harness.core.step_through_sync(harness.clock, seoul("2026-12-07 19:59"))
    assert nudges(harness) == []
    harness.core.step_through_sync(harness.clock, seoul("2026-12-07 23:00"))
    assert nudges(harness) == [("alice", seoul("2026-12-07 20:00"))]  # the clock stopped there
    assert harness.clock.now() == seoul("2026-12-07 23:00")
    harness.core.step_through_sync(harness.clock, seoul("2026-12-07 23:59"))
    assert len(nudges(harness)) == 1  # once a day
    # Tuesday to the next Monday in one step: every study day once, not the weekend
    harness.core.step_through_sync(harness.clock, seoul("2026-12-14 21:00"))
    days = [when.strftime("%m-%d %H:%M") for _, when in nudges(harness)]
    assert days == [
        "12-07 20:00", "12-08 20:00", "12-09 20:00", "12-10 20:00", "12-11 20:00",
        "12-14 20:00",
    ]  # fmt: skip


def test_duties_before_and_after_the_nudge_run_at_their_own_times(harness: Harness) -> None:
    harness.join("alice")
    harness.invoke("alice", "quiz nudge", time="12:00")
    posted = harness.core.step_through_sync(harness.clock, seoul("2026-12-07 23:00"))
    due = [item.due_at.astimezone(SEOUL) for item in posted]
    assert due == sorted(due)
    assert min(due) < seoul("2026-12-07 12:00") < max(due)  # duties on both sides of it
    with harness.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.body, OutboxMessage.created_at).order_by(OutboxMessage.id)
        ).all()
    queued = [(body["key"], created.astimezone(SEOUL)) for body, created in rows]
    stamps = [created for _, created in queued]
    assert stamps == sorted(stamps)  # each post queued at its own time, the nudge among them
    assert ("quiz.nudge", seoul("2026-12-07 12:00")) in queued
