"""Daily duties: idempotent ``ensure`` operations keyed by (group, duty, local date).

Each duty claims its ``duty_runs`` row and writes its post to the outbox in the caller's
transaction, so a crash before commit leaves nothing and a second run finds the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.replies import Reply, Text
from bot.services.calendar import StudyCalendar
from bot.services.members import mention
from bot.services.outbox import enqueue
from bot.services.rotation import REVIEW_DUTY, moderator_for
from db.models import DutyRun, Group


@dataclass(frozen=True)
class Duty:
    name: str
    time_of: Callable[[Group], time]  # local time of day it falls due
    run: Callable[[Session, Group, date, datetime], bool]  # True when it posted


def claim(session: Session, group: Group, duty: str, local_date: date, now: datetime) -> bool:
    """Insert the run's row; False when another run (earlier or concurrent) has it."""
    try:
        with session.begin_nested():
            session.add(
                DutyRun(
                    group_id=group.id,
                    duty=duty,
                    local_date=local_date,
                    ran_at=now,
                    outcome="posted",
                )
            )
    except IntegrityError:
        return False
    return True


def ensure_review_post(session: Session, group: Group, local_date: date, now: datetime) -> bool:
    """At review time: announce the day's moderator (once per group and study day)."""
    if not StudyCalendar(session, group).is_study_day(local_date):
        return False
    if not claim(session, group, REVIEW_DUTY, local_date, now):
        return False
    member = moderator_for(session, group, local_date, now)
    if member is None:
        reply = Reply.public("duty.review_nobody", day=local_date)
    else:
        reply = Reply.public("duty.review", day=local_date, name=mention(session, member))
        reply.lines.append(Text("duty.review_hint"))
    enqueue(session, group, reply, now)
    return True


DUTIES: dict[str, Duty] = {
    REVIEW_DUTY: Duty(REVIEW_DUTY, lambda g: g.review_time, ensure_review_post),
}
