"""The ``duty_runs`` ledger: the duty names, claiming a run, and what the ledger says
(which days' reviews were announced, which runs are recorded).

A row per (group, duty, local date) is the whole guarantee that a duty runs once; the
names are stored in it, so they never change.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
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
