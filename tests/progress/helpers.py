"""Shared helpers for the progress tests: logging as someone, reading rows and posts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from bot.replies import Reply
from bot.schedule.planner import DueDuty
from bot.schedule.runner import step_through
from db.models import DutyRun, Member, OutboxMessage, ProgressEntry, User
from tests.conftest import SEOUL, Harness


def log(harness: Harness, who: str, note: str = "worked on it", **options: Any) -> Reply:
    """``/progress log`` as ``who``; the reply must be the public log post."""
    reply = harness.invoke(who, "progress log", note=note, **options)
    assert reply.key == "progress.logged", reply
    return reply


def log_on(harness: Harness, who: str, day: str, note: str = "worked on it", **options: Any) -> int:
    """Log at 20:00 Seoul time on ``day`` (YYYY-MM-DD); returns the entry id."""
    harness.at(f"{day} 20:00")
    return int(log(harness, who, note, **options).params["id"])


def advance(harness: Harness, to: str | datetime) -> list[tuple[str, date]]:
    """Move the clock, running the duties that fall due on the way at their own times."""
    if isinstance(to, str):
        to = datetime.fromisoformat(to).replace(tzinfo=SEOUL)
    posted: list[DueDuty] = step_through(harness.core.services, harness.clock, to)
    return [(item.duty, item.local_date) for item in posted]


def entries(harness: Harness) -> list[tuple[Any, ...]]:
    """(id, member name, date, note, task, metric, score, model, submitted, repro)."""
    with harness.transaction() as session:
        rows = session.execute(
            select(
                ProgressEntry.id,
                User.name,
                ProgressEntry.local_date,
                ProgressEntry.note,
                ProgressEntry.task,
                ProgressEntry.metric,
                ProgressEntry.score,
                ProgressEntry.model,
                ProgressEntry.submitted,
                ProgressEntry.repro,
            )
            .join(Member, Member.id == ProgressEntry.member_id)
            .join(User, User.id == Member.user_id)
            .order_by(ProgressEntry.id)
        )
        return [tuple(row) for row in rows]


def outbox(harness: Harness) -> list[tuple[int | None, dict[str, Any]]]:
    """(user_id, body) of every outbox row, oldest first."""
    with harness.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.user_id, OutboxMessage.body).order_by(OutboxMessage.id)
        )
        return [(user_id, body) for user_id, body in rows]


def runs(harness: Harness, duty: str) -> list[tuple[date, str]]:
    with harness.transaction() as session:
        rows = session.execute(
            select(DutyRun.local_date, DutyRun.outcome)
            .where(DutyRun.duty == duty)
            .order_by(DutyRun.local_date)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def mention(harness: Harness, name: str) -> dict[str, list[Any]]:
    """A mention as the outbox stores it."""
    return {"$mention": [harness.actor(name).user_id, name]}


def as_date(day: date) -> dict[str, str]:
    return {"$date": day.isoformat()}
