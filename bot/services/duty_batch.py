"""Bulk reads for a duty run over many groups at once (``bot.schedule.batch``, and whom a
duty would name, ``named``): each answers for every group of a batch in a few queries,
with the same answer the one-group services give."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from bot.services.calendar import MAX_SCAN_DAYS, StudyCalendar
from bot.services.duty_runs import MISSED, REVIEW_DUTY, insert_new
from bot.services.roster import hold_users
from bot.services.rotation import AwayBook, pick
from db.models import (
    Competition,
    DayOff,
    DutyRun,
    Group,
    Member,
    ModAssignment,
    Problem,
    ProblemPick,
    ProblemSolve,
    ProgressEntry,
    QuizCard,
    User,
)


def _pairs(rows: Iterable[Any]) -> dict[int, int]:
    return {key: value for key, value in rows}


def calendars_of(session: Session, groups: Iterable[Group]) -> dict[int, StudyCalendar]:
    """Each group's study calendar, their days off read in one query."""
    groups = list(groups)
    days_off = days_off_of(session, [g.id for g in groups])
    return {g.id: StudyCalendar(session, g, days_off[g.id]) for g in groups}


def days_off_of(session: Session, ids: list[int]) -> dict[int, dict[date, str | None]]:
    found: dict[int, dict[date, str | None]] = {i: {} for i in ids}
    rows = session.execute(
        select(DayOff.group_id, DayOff.day, DayOff.reason).where(DayOff.group_id.in_(ids))
    )
    for group_id, day, reason in rows:
        found[group_id][day] = reason
    return found


def last_served_many(
    session: Session, ids: list[int], day: date, calendars: dict[int, StudyCalendar]
) -> dict[int, dict[int, date]]:
    """``rotation.last_served`` for many groups: each member's latest turn before ``day``.
    Turns on announced days count (one aggregate); the others (rare: a swap's day made a
    day off since) count when the day is still a study day."""
    announced = exists().where(
        DutyRun.group_id == ModAssignment.group_id,
        DutyRun.duty == REVIEW_DUTY,
        DutyRun.local_date == ModAssignment.day,
        DutyRun.outcome != MISSED,
    )
    scope = and_(ModAssignment.group_id.in_(ids), ModAssignment.day < day)
    last: dict[int, dict[int, date]] = defaultdict(dict)
    for group_id, member_id, latest in session.execute(
        select(ModAssignment.group_id, ModAssignment.member_id, func.max(ModAssignment.day))
        .where(scope, announced)
        .group_by(ModAssignment.group_id, ModAssignment.member_id)
    ):
        last[group_id][member_id] = latest
    for group_id, member_id, served in session.execute(
        select(ModAssignment.group_id, ModAssignment.member_id, ModAssignment.day).where(
            scope, ~announced
        )
    ):
        if calendars[group_id].is_study_day(served) and served > last[group_id].get(
            member_id, date.min
        ):
            last[group_id][member_id] = served
    return last


def plan_moderators(
    session: Session, ids: list[int], day: date, calendars: dict[int, StudyCalendar]
) -> tuple[dict[int, int], dict[int, int | None]]:
    """The moderators of ``day`` (a study day of every group in ``ids``) as member ids,
    without fixing anything: (the turns fixed already, the rotation's pick for the
    others, None where nobody can)."""
    fixed = _pairs(
        session.execute(
            select(ModAssignment.group_id, ModAssignment.member_id).where(
                ModAssignment.group_id.in_(ids), ModAssignment.day == day
            )
        )
    )
    planned: dict[int, int | None] = {}
    open_ids = [i for i in ids if i not in fixed]
    if open_ids:
        seats: dict[int, list[Any]] = defaultdict(list)  # (id, position) rows, in order
        for row in session.execute(
            select(Member.id, Member.position, Member.group_id)
            .where(Member.group_id.in_(open_ids), Member.active.is_(True))
            .order_by(Member.group_id, Member.position, Member.id)
        ):
            seats[row.group_id].append(row)
        away = AwayBook(session, [s for group in seats.values() for s in group], day)
        last = last_served_many(session, open_ids, day, calendars)
        for group_id in open_ids:
            seat = pick(seats[group_id], day, last[group_id], away)
            planned[group_id] = None if seat is None else seat.id
    return fixed, planned


def moderators_many(
    session: Session,
    groups: list[Group],
    day: date,
    now: datetime,
    calendars: dict[int, StudyCalendar],
) -> dict[int, Member | None]:
    """``rotation.moderator_for`` for many groups (all studying on ``day``): the turn
    fixed already, else the rotation's pick, fixed now."""
    fixed, planned = plan_moderators(session, [g.id for g in groups], day, calendars)
    chosen: dict[int, Member | None] = {g: None for g, m in planned.items() if m is None}
    picked = {g: m for g, m in planned.items() if m is not None}
    if picked:
        rows = [
            {
                "group_id": group_id,
                "day": day,
                "member_id": member_id,
                "source": "rotation",
                "created_at": now,
            }
            for group_id, member_id in sorted(picked.items())
        ]
        if rows:
            inserted = insert_new(session, ModAssignment, rows, ("group_id", "day"), "group_id")
            fixed.update((g, m) for g, m in picked.items() if g in inserted)
            lost = [row["group_id"] for row in rows if row["group_id"] not in inserted]
            if lost:  # another process fixed these turns first: use theirs
                fixed.update(
                    _pairs(
                        session.execute(
                            select(ModAssignment.group_id, ModAssignment.member_id).where(
                                ModAssignment.group_id.in_(lost), ModAssignment.day == day
                            )
                        )
                    )
                )
    if fixed:
        by_id = {
            m.id: m for m in session.scalars(select(Member).where(Member.id.in_(fixed.values())))
        }
        for group_id, member_id in fixed.items():
            chosen[group_id] = by_id.get(member_id)
    return chosen


def problems_many(
    session: Session, ids: list[int], day: date
) -> tuple[dict[int, Problem], dict[int, list[Member]]]:
    """The day's problem of each group that picked one, and who solved it already."""
    picks = _pairs(
        session.execute(
            select(ProblemPick.group_id, ProblemPick.problem_id).where(
                ProblemPick.group_id.in_(ids), ProblemPick.for_date == day
            )
        )
    )
    if not picks:
        return {}, {}
    catalogue = {
        p.id: p for p in session.scalars(select(Problem).where(Problem.id.in_(picks.values())))
    }
    problems = {g: catalogue[p] for g, p in picks.items() if p in catalogue}
    solvers: dict[int, list[Member]] = defaultdict(list)
    for group_id, problem_id, member in session.execute(
        select(ProblemSolve.group_id, ProblemSolve.problem_id, Member)
        .join(Member, ProblemSolve.member_id == Member.id)
        .where(ProblemSolve.group_id.in_(list(problems)))
        .order_by(ProblemSolve.group_id, ProblemSolve.created_at, ProblemSolve.id)
    ):
        if picks.get(group_id) == problem_id:
            solvers[group_id].append(member)
    return problems, solvers


def tracking_many(session: Session, ids: list[int]) -> set[int]:
    """The groups that use progress (``progress.tracks_progress``): only they may have a
    digest."""
    with_competition = set(
        session.scalars(select(Competition.group_id).where(Competition.group_id.in_(ids)))
    )
    with_entries = set(
        session.scalars(
            select(ProgressEntry.group_id).where(ProgressEntry.group_id.in_(ids)).distinct()
        )
    )
    return with_competition | with_entries


def quizzing_many(session: Session, ids: list[int], day: date) -> set[int]:
    """The groups whose members learned a quiz card in the year before ``day``: only they
    may have a line about it in the digest (it looks back to the last study day)."""
    since = day - timedelta(days=MAX_SCAN_DAYS + 1)
    return set(
        session.scalars(
            select(Member.group_id)
            .join(QuizCard, QuizCard.member_id == Member.id)
            .where(
                Member.group_id.in_(ids), QuizCard.learned_on >= since, QuizCard.learned_on < day
            )
            .distinct()
        )
    )


def hold_named_users(session: Session, named: dict[int, list[Member]]) -> None:
    """Read the users of the members each group's posts will name, in one query, and hold
    them for ``roster.mention`` (which then asks nothing)."""
    wanted = {m.user_id for found in named.values() for m in found}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
    for group_id, found in named.items():
        hold_users(session, group_id, (users[m.user_id] for m in found if m.user_id in users))
