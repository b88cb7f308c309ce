"""The ``duty_runs`` ledger: the duty names, claiming a run, and what the ledger says
(which days' reviews were announced, which runs are recorded).

A row per (group, duty, local date) is the whole guarantee that a duty runs once; the
names are stored in it, so they never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import DutyRun, Group

REVIEW_DUTY = "review_post"
REMINDER_DUTY = "problem_reminder"
DEADLINE_DUTY = "problem_deadline"
PROGRESS_REMINDER_DUTY = "progress_reminder"
OFFLINE_REPORT_DUTY = "offline_report"  # the post listing what was missed while offline

POSTED, SKIPPED = "posted", "skipped"
MISSED = "missed"  # fell due while the bot was down, past the grace window: never run late


def claim(
    session: Session,
    group: Group,
    duty: str,
    local_date: date,
    now: datetime,
    outcome: str = POSTED,
) -> DutyRun | None:
    """Insert the run's row; None when another run (earlier or concurrent) has it."""
    run = DutyRun(group_id=group.id, duty=duty, local_date=local_date, ran_at=now, outcome=outcome)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None
    return run


def insert_ignoring_conflicts(session: Session, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's database (PostgreSQL, or
    SQLite 3.35 or newer): rows whose unique key exists already are left out, and
    ``RETURNING`` names only the rows this statement inserted."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def claim_many(
    session: Session,
    duty: str,
    groups: Sequence[Group],
    local_date: date,
    now: datetime,
    outcome: str = POSTED,
) -> set[int]:
    """``claim`` for many groups in one statement: the ids of the groups whose run this
    call inserted (the others ran already, or another process holds the claim; on
    PostgreSQL a concurrent claim waits for the other transaction and then is left out).
    Rows go in group order, so two processes claiming overlapping batches cannot deadlock."""
    if not groups:
        return set()
    rows = [
        {
            "group_id": g.id,
            "duty": duty,
            "local_date": local_date,
            "ran_at": now,
            "outcome": outcome,
        }
        for g in sorted(groups, key=lambda g: g.id)
    ]
    return insert_new(session, DutyRun, rows, ("group_id", "duty", "local_date"), "group_id")


def insert_new(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    key: Sequence[str],
    returning: str,
) -> set[Any]:
    """Insert ``rows`` into ``model``'s table, skipping those whose unique ``key`` exists
    (or is being inserted by another transaction, which it waits for on PostgreSQL); the
    ``returning`` column of the rows inserted. One cached statement, sent as a few
    multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (SQLAlchemy's
    insertmanyvalues), however many rows."""
    if not rows:
        return set()
    table = model.__table__
    statement = (
        insert_ignoring_conflicts(session, table)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(table.c[returning])
    )
    return set(session.execute(statement, rows).scalars())


def announced_days(
    session: Session, group: Group, start: date | None = None, end: date | None = None
) -> set[date]:
    """The days in [start, end] (open where None) whose review post went out."""
    query = select(DutyRun.local_date).where(
        DutyRun.group_id == group.id, DutyRun.duty == REVIEW_DUTY, DutyRun.outcome != MISSED
    )
    if start is not None:
        query = query.where(DutyRun.local_date >= start)
    if end is not None:
        query = query.where(DutyRun.local_date <= end)
    return set(session.scalars(query))


def was_announced(session: Session, group: Group, day: date) -> bool:
    """Whether the review of ``day`` went out (its turn is then history)."""
    return bool(announced_days(session, group, day, day))


def recorded(session: Session, first: date, last: date) -> set[tuple[int, str, date]]:
    """The (group, duty, date) keys of every run recorded between two dates (inclusive)."""
    rows = session.execute(
        select(DutyRun.group_id, DutyRun.duty, DutyRun.local_date).where(
            DutyRun.local_date >= first, DutyRun.local_date <= last
        )
    )
    return {(g, d, day) for g, d, day in rows}


def last_ran(session: Session, group: Group) -> datetime | None:
    """When the group's latest duty run was recorded (any duty, any outcome)."""
    return session.scalar(select(func.max(DutyRun.ran_at)).where(DutyRun.group_id == group.id))
