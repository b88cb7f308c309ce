"""Whom a duty would name if it ran now: the only people worth asking Discord about
before it runs (``bot.schedule.scheduler``'s ``check_presence``), instead of every active member.

- the review post names the day's moderator (the turn fixed already, else the rotation's
  pick) and, in its thread, the members who solved the day's problem already;
- the problem reminder names the day's moderator;
- the progress reminder names (or writes to) the members who have not logged that day;
- the deadline's announcement names nobody.

Nothing is fixed or claimed here (the duty itself does that when it runs), and a day
that is not a study day names nobody. Only active members are returned: they are the
ones a presence check can make leave. When one of them is found gone and leaves, the
rotation may pick someone else: the caller asks again until nobody new is named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import progress
from bot.services.duty_batch import calendars_of, plan_moderators
from bot.services.duty_runs import PROGRESS_REMINDER_DUTY, REMINDER_DUTY, REVIEW_DUTY
from db.models import Group, Member, ProblemPick, ProblemSolve

# the duties that name people (the others are never checked)
NAMES_PEOPLE = frozenset({REVIEW_DUTY, REMINDER_DUTY, PROGRESS_REMINDER_DUTY})


def named_by(
    session: Session, duty: str, groups: Sequence[Group], day: date
) -> dict[int, list[int]]:
    """For each of ``groups`` (none paused), the user ids of the active members its
    ``duty`` of ``day`` would name, in a stable order (empty: it names nobody)."""
    named: dict[int, list[int]] = {g.id: [] for g in groups}
    if duty not in NAMES_PEOPLE or not groups:
        return named
    calendars = calendars_of(session, groups)
    studying = [g for g in groups if calendars[g.id].is_study_day(day)]
    if not studying:
        return named
    if duty == PROGRESS_REMINDER_DUTY:
        for group in studying:
            public, private = progress.reminder_targets(session, group, day)
            named[group.id] = [m.user_id for m in [*public, *private]]
        return named
    studying_ids = [g.id for g in studying]
    fixed, planned = plan_moderators(session, studying_ids, day, calendars)
    member_ids: dict[int, list[int]] = defaultdict(list)  # group -> member ids named
    for group_id, member_id in [*fixed.items(), *planned.items()]:
        if member_id is not None:
            member_ids[group_id].append(member_id)
    if duty == REVIEW_DUTY:  # the thread names who solved the day's problem already
        picked = select(ProblemPick.problem_id).where(
            ProblemPick.group_id == ProblemSolve.group_id, ProblemPick.for_date == day
        )
        for group_id, member_id in session.execute(
            select(ProblemSolve.group_id, ProblemSolve.member_id)
            .where(ProblemSolve.group_id.in_(studying_ids), ProblemSolve.problem_id.in_(picked))
            .order_by(ProblemSolve.group_id, ProblemSolve.created_at, ProblemSolve.id)
        ):
            member_ids[group_id].append(member_id)
    wanted = {m for found in member_ids.values() for m in found}
    if not wanted:
        return named
    users = {
        member_id: user_id
        for member_id, user_id in session.execute(
            select(Member.id, Member.user_id).where(Member.id.in_(wanted), Member.active.is_(True))
        )
    }
    for group_id, found in member_ids.items():
        named[group_id] = list(dict.fromkeys(users[m] for m in found if m in users))
    return named
