"""One duty for many groups in one transaction: the start-up catch-up and a firing moment
(every group whose duty falls due at that instant) run through here, ``BATCH`` groups at a
time.

The review post, the duty every group has every study day, is built from a few queries
per batch (claims with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, the rotation's
facts read for all the batch's groups at once); it says exactly what ``ensure_review_post``
says for each group. The other duties run group by group inside the batch's transaction.
The guarantees are the single run's: the claims and the posts commit together, so a crash
leaves nothing, and a claim another process holds is left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from bot.schedule import duties
from bot.schedule.duties import Queued, ReviewFacts
from bot.services.calendar import MAX_SCAN_DAYS, StudyCalendar
from bot.services.duty_runs import MISSED, REVIEW_DUTY, claim_many, insert_new
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

BATCH = 500  # groups per transaction


def _pairs(rows: Iterable[Any]) -> dict[int, int]:
    return {key: value for key, value in rows}


FIRST_BATCHES = (10, 100)  # a firing's first batches: the first posts go out at once


def firing_chunks(items: Sequence[int]) -> list[list[int]]:
    """``items`` cut for a firing moment: small batches first (``FIRST_BATCHES``; each one's
    members are checked over HTTP before it runs), then ``BATCH`` at a time."""
    found: list[list[int]] = []
    start = 0
    for size in FIRST_BATCHES:
        if start < len(items):
            step = min(size, BATCH)
            found.append(list(items[start : start + step]))
            start += step
    return found + chunks(items[start:])


def chunks(items: Sequence[int], size: int | None = None) -> list[list[int]]:
    """``items`` cut into lists of at most ``size`` (default ``BATCH``)."""
    step = size or BATCH
    return [list(items[i : i + step]) for i in range(0, len(items), step)]


def run_many(
    session: Session, duty: str, groups: Sequence[Group], day: date, now: datetime
) -> list[int]:
    """Run ``duty`` of ``day`` for each group (none paused); the ids of those that posted."""
    if duty == REVIEW_DUTY:
        return review_many(session, groups, day, now)
    run = duties.DUTIES[duty].run
    return [group.id for group in groups if run(session, group, day, now)]


def days_off_of(session: Session, ids: list[int]) -> dict[int, dict[date, str | None]]:
    found: dict[int, dict[date, str | None]] = {i: {} for i in ids}
    rows = session.execute(
        select(DayOff.group_id, DayOff.day, DayOff.reason).where(DayOff.group_id.in_(ids))
    )
    for group_id, day, reason in rows:
        found[group_id][day] = reason
    return found


def _last_served(
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
        last = _last_served(session, open_ids, day, calendars)
        for group_id in open_ids:
            seat = pick(seats[group_id], day, last[group_id], away)
            planned[group_id] = None if seat is None else seat.id
    return fixed, planned


def _moderators(
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


def _problems(
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


def _tracking(session: Session, ids: list[int]) -> set[int]:
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


def _quizzing(session: Session, ids: list[int], day: date) -> set[int]:
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


def review_many(session: Session, groups: Sequence[Group], day: date, now: datetime) -> list[int]:
    """``ensure_review_post`` for many groups: the ids of those that posted."""
    ids = [g.id for g in groups]
    days_off = days_off_of(session, ids)
    calendars = {g.id: StudyCalendar(session, g, days_off[g.id]) for g in groups}
    studying = [g for g in groups if calendars[g.id].is_study_day(day)]
    claimed_ids = claim_many(session, REVIEW_DUTY, studying, day, now)
    claimed = [g for g in studying if g.id in claimed_ids]
    if not claimed:
        return []
    claimed_ids_list = [g.id for g in claimed]
    moderators = _moderators(session, claimed, day, now, calendars)
    problems, solvers = _problems(session, claimed_ids_list, day)
    tracking = _tracking(session, claimed_ids_list)
    quizzing = _quizzing(session, claimed_ids_list, day)
    named = [m for m in moderators.values() if m is not None]
    named += [m for ms in solvers.values() for m in ms]
    # held for ``mention`` (and in the session's identity map): it asks nothing
    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({m.user_id for m in named})))
    }
    for group in claimed:
        named_here = [moderators.get(group.id), *solvers.get(group.id, [])]
        hold_users(
            session, group.id, (users[m.user_id] for m in named_here if m and m.user_id in users)
        )
    batch: list[tuple[Group, list[Queued]]] = []
    for group in claimed:
        facts = ReviewFacts(
            moderators.get(group.id),
            problems.get(group.id),
            solvers.get(group.id, []),
            digest=group.id in tracking,
            quiz=group.id in quizzing,
        )
        batch.append((group, duties.review_posts(session, group, day, now, facts)))
    duties.enqueue_posts(session, batch, now)
    del users  # (until the posts are written)
    return claimed_ids_list
