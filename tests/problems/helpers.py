"""Shared helpers for the daily-problem tests: moving time, reading rows and posts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.schedule.planner import DueDuty
from bot.schedule.runner import step_through
from bot.services import problems
from bot.services.calendar import local_today
from bot.services.catalogue import problem_url
from bot.services.rotation import moderator_for
from db.models import (
    DutyRun,
    Member,
    OutboxMessage,
    Problem,
    ProblemPick,
    ProblemPickEvent,
    ProblemSolve,
    User,
)
from tests.conftest import SEOUL, Harness

MONDAY = date(2026, 12, 7)
TUESDAY = date(2026, 12, 8)
WEDNESDAY = date(2026, 12, 9)
THURSDAY = date(2026, 12, 10)

# Problems of the shipped catalogue used by the tests.
NARA = (12899, "124 나라의 숫자")
CLOTHES = (42578, "의상")
GAME_MAP = (1844, "게임 맵 최단거리")
SQL_MIN = (59038, "최솟값 구하기")


def seoul(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SEOUL)


def advance(harness: Harness, to: str | datetime) -> list[tuple[str, date]]:
    """Move the clock to ``to``, running every duty that fell due on the way at its own
    due time, like the scheduler does; returns (duty, local date) of those that posted."""
    if isinstance(to, str):
        to = datetime.fromisoformat(to).replace(tzinfo=SEOUL)
    posted: list[DueDuty] = step_through(harness.core.services, harness.clock, to)
    return [(item.duty, item.local_date) for item in posted]


def moderator_today(harness: Harness) -> str:
    """The name of the moderator of the clock's local day (fixing it, as the bot does)."""
    with harness.group() as (session, group):
        now = harness.clock.now()
        member = moderator_for(session, group, local_today(group, now), now)
        assert member is not None, "no moderator today"
        user = session.get(User, member.user_id)
        assert user is not None
        return user.name


def posts(harness: Harness) -> list[dict[str, Any]]:
    """Bodies of every outbox row, oldest first."""
    with harness.transaction() as session:
        return list(session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id)))


def picks(harness: Harness) -> dict[date, tuple[int, bool, int | None]]:
    """for_date -> (problem id, auto, picked_by_user_id)."""
    with harness.transaction() as session:
        rows = session.scalars(
            select(ProblemPick)
            .where(ProblemPick.group_id == harness.group_id)
            .order_by(ProblemPick.for_date)
        )
        return {r.for_date: (r.problem_id, r.auto, r.picked_by_user_id) for r in rows}


def events(harness: Harness) -> list[tuple[date, str, int | None, int, int | None]]:
    """(for_date, kind, old problem, new problem, user id) of every pick event, in order."""
    with harness.transaction() as session:
        rows = session.scalars(select(ProblemPickEvent).order_by(ProblemPickEvent.id))
        return [(r.for_date, r.kind, r.old_problem_id, r.new_problem_id, r.user_id) for r in rows]


def solves(harness: Harness) -> list[tuple[str, int, str | None, str | None]]:
    """(member name, problem id, language, link) of every solve report, in order."""
    with harness.transaction() as session:
        rows = session.execute(
            select(User.name, ProblemSolve.problem_id, ProblemSolve.language, ProblemSolve.link)
            .join(Member, Member.id == ProblemSolve.member_id)
            .join(User, User.id == Member.user_id)
            .order_by(ProblemSolve.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def duty_runs(harness: Harness) -> list[tuple[str, date]]:
    with harness.transaction() as session:
        rows = session.execute(
            select(DutyRun.duty, DutyRun.local_date).order_by(DutyRun.local_date, DutyRun.duty)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def count(harness: Harness, model: Any) -> int:
    with harness.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def candidate(harness: Harness, day: date) -> int:
    """The problem the auto-pick would choose for ``day`` right now."""
    with harness.group() as (session, group):
        problem = problems.auto_candidate(session, group, day)
        assert problem is not None
        return problem.id


def kind_of(harness: Harness, problem_id: int) -> str:
    with harness.transaction() as session:
        problem = session.get(Problem, problem_id)
        assert problem is not None
        return problem.kind


def params(problem: tuple[int, str]) -> dict[str, Any]:
    """The problem parameters a reply carries (id, title, level, url)."""
    problem_id, title = problem
    return {"id": problem_id, "title": title, "level": 2, "url": problem_url(problem_id)}


def mention(harness: Harness, name: str) -> dict[str, list[Any]]:
    """A mention as the outbox stores it."""
    return {"$mention": [harness.actor(name).user_id, name]}


def as_date(day: date) -> dict[str, str]:
    return {"$date": day.isoformat()}


def add_past_picks(harness: Harness, problem_ids: list[int], start: date) -> None:
    """History: each problem was the group's problem on a study-free past day run."""
    with harness.transaction() as session:
        now = harness.clock.now()
        for offset, problem_id in enumerate(problem_ids):
            session.add(
                ProblemPick(
                    group_id=harness.group_id,
                    for_date=start + timedelta(days=offset),
                    problem_id=problem_id,
                    picked_by_user_id=None,
                    auto=True,
                    created_at=now,
                    updated_at=now,
                )
            )
