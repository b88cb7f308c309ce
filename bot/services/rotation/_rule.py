"""The rotation rule: who moderates each study day, projected ahead and fixed on the day.

Rule: on each study day the moderator is, among active members not away that day, the
one who moderated least recently (never = first), ties broken by the stable join order.
So between two turns of the same member, everyone eligible at the second turn has had one.

Rows in ``mod_assignments`` for today or earlier are history; rows for later days are
pins (made by swaps) that the projection keeps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import and_, bindparam, case, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from bot.services.calendar import StudyCalendar, hold_days_off, known_days_off, local_today
from bot.services.context import Actor
from bot.services.duty_runs import MISSED, REVIEW_DUTY
from bot.services.roster import (
    SeatRow,
    active_members_away,
    hold_users,
    seat,
    seat_rows_query,
    seats_from,
)
from db.models import Away, DayOff, DutyRun, Group, Member, ModAssignment, User
from db.rows import plain_rows


@dataclass(frozen=True)
class Turn:
    """One study day's moderator (a ``SeatRow``; None: nobody can); ``pinned`` when fixed
    in advance, and then ``source`` says how (``swap``: a swap exchanged this day;
    ``rotation``: fixed as projected, e.g. the days before a swap's later day)."""

    day: date
    member: SeatRow | None
    pinned: bool
    source: str | None = None

    @property
    def swapped(self) -> bool:
        return self.pinned and self.source == "swap"


# built once (statements built per call cost more than running them)
_AWAY_FROM = select(Away.member_id, Away.start, Away.end).where(
    Away.member_id.in_(bindparam("member_ids", expanding=True)),
    Away.cancelled_at.is_(None),
    Away.end >= bindparam("start"),
)
_BEFORE_START = ModAssignment.day < bindparam("start")
# the turn's review post went out (the outer join below finds its run)
_ANNOUNCED = DutyRun.local_date.is_not(None)
_SERVED_BEFORE = and_(_BEFORE_START, _ANNOUNCED)
# every turn of the group with whether it was announced, and each member's announced turns
# before ``start`` ranked newest first (one pass over the group's turns: a query of three
# parts, each testing the runs again, cost PostgreSQL several times as much to plan and run)
_RANKED_TURNS = (
    select(
        ModAssignment.day,
        ModAssignment.member_id,
        # (as the aggregate of those turns read: only the day counts)
        case((_SERVED_BEFORE, null()), else_=ModAssignment.source).label("source"),
        _ANNOUNCED.label("announced"),
        func.row_number()
        .over(
            partition_by=(ModAssignment.member_id, _SERVED_BEFORE),
            order_by=ModAssignment.day.desc(),
        )
        .label("recency"),
    )
    .outerjoin(
        DutyRun,
        and_(
            DutyRun.group_id == ModAssignment.group_id,
            DutyRun.duty == REVIEW_DUTY,
            DutyRun.local_date == ModAssignment.day,
            DutyRun.outcome != MISSED,
        ),
    )
    .where(ModAssignment.group_id == bindparam("group_id"))
    .subquery()
)
# what the rule needs of the turns fixed so far, whatever the length of the history: the
# turns from ``start`` on (pins), each member's latest announced turn before it, and the
# turns before it that were never announced (few: they count only on study days)
_KEPT_TURN = or_(
    _RANKED_TURNS.c.day >= bindparam("start"),
    ~_RANKED_TURNS.c.announced,
    _RANKED_TURNS.c.recency == 1,  # (the newest of those ranked; the rest pass above)
)
_FIXED_TURNS = select(
    _RANKED_TURNS.c.day,
    _RANKED_TURNS.c.member_id,
    _RANKED_TURNS.c.source,
    _RANKED_TURNS.c.announced,
).where(_KEPT_TURN)
# the same and, in rows without a member, the group's days off (day, reason): one query
# where the calendar has not read them yet
_FIXED_TURNS_AND_DAYS_OFF: CompoundSelect[date, int | None, str | None, bool | None] = union_all(
    _FIXED_TURNS,
    select(DayOff.day, null(), DayOff.reason, null()).where(
        DayOff.group_id == bindparam("group_id")
    ),
)
# A projection's whole input in one query (on a busy command each query costs more than
# the rows it brings): the active members with their away periods (``seats_from``'s
# columns), the fixed turns and, unless the calendar holds them, the days off, told apart
# by the first column. Columns: kind, announced, then the seat's (member id, position,
# user id, group id, name, joined at, away from, away to), where a turn puts its member,
# source and day in member id, name and "away from", and a day off its reason and day in
# name and "away from". (The seats come first: their columns carry the types.)
_SEAT, _TURN, _DAY_OFF = "seat", "turn", "day off"
_SEAT_PART = seat_rows_query(literal(_SEAT), null())
_TURN_PART = select(
    literal(_TURN),
    _RANKED_TURNS.c.announced,
    _RANKED_TURNS.c.member_id,
    null(),
    null(),
    null(),
    _RANKED_TURNS.c.source,
    null(),
    _RANKED_TURNS.c.day,
    null(),
).where(_KEPT_TURN)
_DAY_OFF_PART = select(
    literal(_DAY_OFF),
    null(),
    null(),
    null(),
    null(),
    null(),
    DayOff.reason,
    null(),
    DayOff.day,
    null(),
).where(DayOff.group_id == bindparam("group_id"))
_PROJECTION_INPUT: CompoundSelect[*tuple[Any, ...]] = union_all(_SEAT_PART, _TURN_PART)
_PROJECTION_INPUT_AND_DAYS_OFF: CompoundSelect[*tuple[Any, ...]] = union_all(
    _SEAT_PART, _TURN_PART, _DAY_OFF_PART
)
_TURN_OF_DAY = (  # with its member's user, for ``mention``
    select(ModAssignment.id, Member, User)
    .outerjoin(Member, Member.id == ModAssignment.member_id)
    .outerjoin(User, User.id == Member.user_id)
    .where(ModAssignment.group_id == bindparam("group_id"), ModAssignment.day == bindparam("day"))
)


class AwayBook:
    """Who is away on which day, for a set of members, from ``start`` on."""

    def __init__(self, session: Session, members: Sequence[Seat], start: date) -> None:
        self._periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
        if not members:
            return
        rows = session.execute(_AWAY_FROM, {"member_ids": [m.id for m in members], "start": start})
        for member_id, begin, end in rows:
            self._periods[member_id].append((begin, end))

    @classmethod
    def of(cls, periods: Sequence[tuple[int, date, date]]) -> AwayBook:
        """The book of periods read already, as (member id, first day, last day)."""
        book = cls.__new__(cls)
        book._periods = defaultdict(list)
        for member_id, begin, end in periods:
            book._periods[member_id].append((begin, end))
        return book

    def is_away(self, member_id: int, day: date) -> bool:
        periods = self._periods.get(member_id)
        return bool(periods) and any(begin <= day <= end for begin, end in periods or ())


@dataclass(frozen=True)
class _Fixed:
    """A turn fixed in ``mod_assignments``, and whether its day's review went out."""

    day: date
    member_id: int
    source: str | None  # (None on a member's latest announced turn, read as an aggregate)
    announced: bool


def _fixed_turns(session: Session, group: Group, start: date) -> list[_Fixed]:
    """The group's turns fixed so far that tell who served last before ``start`` (each
    member's latest announced one, and the unannounced ones), and every turn from
    ``start`` on (pins), read at once."""
    rows = plain_rows(session, _FIXED_TURNS, {"group_id": group.id, "start": start})
    return [
        _Fixed(day, member_id, source, bool(done))
        for day, member_id, source, done in rows
        if member_id is not None
    ]


def _turns_and_calendar(
    session: Session, group: Group, start: date
) -> tuple[list[_Fixed], StudyCalendar]:
    """``_fixed_turns`` and the group's calendar, its days off read in the same query when
    the session does not hold them yet."""
    if known_days_off(session, group.id):
        return _fixed_turns(session, group, start), StudyCalendar(session, group)
    rows = plain_rows(session, _FIXED_TURNS_AND_DAYS_OFF, {"group_id": group.id, "start": start})
    fixed: list[_Fixed] = []
    days_off: dict[date, str | None] = {}
    for day, member_id, source, done in rows:
        if member_id is None:
            days_off[day] = source
        else:
            fixed.append(_Fixed(day, member_id, source, bool(done)))
    hold_days_off(session, group.id, days_off)
    return fixed, StudyCalendar(session, group)


def _last_from(fixed: list[_Fixed], before: date, calendar: StudyCalendar) -> dict[int, date]:
    last: dict[int, date] = {}
    for turn in fixed:
        if turn.day >= before:
            continue
        if not turn.announced and not calendar.is_study_day(turn.day):
            continue
        if turn.day > last.get(turn.member_id, date.min):
            last[turn.member_id] = turn.day
    return last


def last_served(session: Session, group: Group, before: date) -> dict[int, date]:
    """Each member's latest turn before ``before``. A turn fixed in advance (by a swap) on
    a day that is no longer a study day (declared off since) and was never announced did
    not happen, so it does not count."""
    return _last_from(_fixed_turns(session, group, before), before, StudyCalendar(session, group))


class Seat(Protocol):
    """A member as the rule sees one (a ``Member``, or a row of its columns)."""

    @property
    def id(self) -> int: ...

    @property
    def position(self) -> int: ...


S = TypeVar("S", bound=Seat)
# what the rule reads: the fixed turns, the calendar, the active members and their away
# periods (member id, first day, last day)
_Inputs = tuple[list[_Fixed], StudyCalendar, Sequence[S], Sequence[tuple[int, date, date]]]


def pick(
    members: Sequence[S],
    day: date,
    last_served: dict[int, date],
    away: AwayBook,
    exclude: AbstractSet[int] = frozenset(),
) -> S | None:
    """The least-recently-served eligible member (stable order breaks ties)."""
    best: S | None = None
    best_key: tuple[date, int, int] | None = None
    for m in members:
        if m.id in exclude or away.is_away(m.id, day):
            continue
        key = (last_served.get(m.id, date.min), m.position, m.id)
        if best_key is None or key < best_key:
            best, best_key = m, key
    return best


def _plan(
    start: date,
    count: int,
    inputs: _Inputs[S],
    lookup: Callable[[int], S | None],
) -> list[tuple[date, S | None, bool, str | None]]:
    """The rule applied to the first ``count`` study days from ``start``: (day, member,
    whether pinned, the pin's source); ``lookup`` gives a pinned member who is no longer
    active."""
    fixed, calendar, members, periods = inputs
    days = calendar.study_days(start, count)
    by_id = {m.id: m for m in members}
    away = AwayBook.of(periods)
    last = _last_from(fixed, start, calendar)
    pins = {t.day: (t.member_id, t.source) for t in fixed if t.day >= start}
    # ``pick``'s order kept as a queue: whoever takes a day has the latest turn of all
    # (the days only grow), so they move to the end and the order stays sorted
    queue = sorted(members, key=lambda m: (last.get(m.id, date.min), m.position, m.id))
    plan: list[tuple[date, S | None, bool, str | None]] = []
    for day in days:
        member: S | None
        if day in pins:
            member_id, source = pins[day]
            member = by_id.get(member_id) or lookup(member_id)
            plan.append((day, member, True, source))
        else:
            member = next((m for m in queue if not away.is_away(m.id, day)), None)
            plan.append((day, member, False, None))
        if member is not None:
            last[member.id] = day
            if member.id in by_id:
                queue.remove(by_id[member.id])
                queue.append(by_id[member.id])
    return plan


def _projection_inputs(session: Session, group: Group, start: date) -> _Inputs[SeatRow]:
    """What ``project`` needs, read in one query (``_PROJECTION_INPUT``)."""
    known = known_days_off(session, group.id)
    query = _PROJECTION_INPUT if known else _PROJECTION_INPUT_AND_DAYS_OFF
    seat_rows: list[tuple[Any, ...]] = []
    fixed: list[_Fixed] = []
    days_off: dict[date, str | None] = {}
    rows = plain_rows(session, query, {"group_id": group.id, "start": start})
    for kind, announced, member_id, position, user_id, group_id, name, joined, day, end in rows:
        if kind == _SEAT:
            seat_rows.append((member_id, position, user_id, group_id, name, joined, day, end))
        elif kind == _TURN:
            if member_id is not None:
                fixed.append(_Fixed(day, member_id, name, bool(announced)))
        else:
            days_off[day] = name
    if not known:
        hold_days_off(session, group.id, days_off)
    members, periods = seats_from(seat_rows)
    return fixed, StudyCalendar(session, group), members, periods


def project(session: Session, group: Group, start: date, count: int) -> list[Turn]:
    """The moderators of the first ``count`` study days from ``start`` (inclusive), read
    as plain rows (``moderator_for`` gives the ``Member`` of a day)."""
    plan = _plan(
        start,
        count,
        _projection_inputs(session, group, start),
        lambda member_id: seat(session, member_id),
    )
    return [Turn(day, member, pinned, source) for day, member, pinned, source in plan]


def _first_member(session: Session, group: Group, day: date) -> Member | None:
    """The moderator the rule gives ``day``, as a ``Member`` (its user held for
    ``mention``)."""
    fixed, calendar = _turns_and_calendar(session, group, day)
    members, periods = active_members_away(session, group, day)
    plan = _plan(
        day,
        1,
        (fixed, calendar, members, periods),
        lambda member_id: session.get(Member, member_id),
    )
    return plan[0][1] if plan else None


def fixed_turn(session: Session, group: Group, day: date) -> ModAssignment | None:
    """The turn already fixed for ``day`` (history, or a pin), if any."""
    return session.scalar(
        select(ModAssignment).where(ModAssignment.group_id == group.id, ModAssignment.day == day)
    )


def moderator_for(session: Session, group: Group, day: date, now: datetime) -> Member | None:
    """Fix (materialise) and return the moderator of a study day; None when nobody can
    (or the day is not a study day, even if a turn had been fixed before it was made one)."""
    if not StudyCalendar(session, group).is_study_day(day):
        return None
    existing = session.execute(_TURN_OF_DAY, {"group_id": group.id, "day": day}).first()
    if existing is not None:  # fixed already (its member, with it)
        _turn_id, fixed_member, user = existing
        if user is not None:
            hold_users(session, group.id, [user])
        return fixed_member
    member = _first_member(session, group, day)
    if member is None:
        return None
    try:
        with session.begin_nested():
            session.add(
                ModAssignment(
                    group_id=group.id,
                    day=day,
                    member_id=member.id,
                    source="rotation",
                    created_at=now,
                )
            )
    except IntegrityError:  # another process fixed it first: use theirs
        row = fixed_turn(session, group, day)
        assert row is not None
        return session.get(Member, row.member_id)
    return member


def is_moderator_today(session: Session, group: Group, actor: Actor, now: datetime) -> bool:
    member = moderator_for(session, group, local_today(group, now), now)
    return member is not None and member.active and member.user_id == actor.user_id
