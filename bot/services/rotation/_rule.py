"""The rotation rule: who moderates each study day, projected ahead and fixed on the day.

Rule: on each study day the moderator is, among active members not away that day, the
one who moderated least recently (never = first), ties broken by the stable join order.
So between two turns of the same member, everyone eligible at the second turn has had one.

Rows in ``mod_assignments`` for today or earlier are history; rows for later days are
pins (made by swaps) that the projection keeps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Actor
from bot.services.duty_runs import announced_days
from bot.services.roster import active_members
from db.models import Away, Group, Member, ModAssignment


@dataclass(frozen=True)
class Turn:
    """One study day's moderator (None: nobody can); ``pinned`` when fixed in advance, and
    then ``source`` says how (``swap``: a swap exchanged this day; ``rotation``: fixed as
    projected, e.g. the days before a swap's later day)."""

    day: date
    member: Member | None
    pinned: bool
    source: str | None = None

    @property
    def swapped(self) -> bool:
        return self.pinned and self.source == "swap"


class AwayBook:
    """Who is away on which day, for a set of members, from ``start`` on."""

    def __init__(self, session: Session, members: Sequence[Seat], start: date) -> None:
        self._periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
        if not members:
            return
        rows = session.execute(
            select(Away.member_id, Away.start, Away.end).where(
                Away.member_id.in_([m.id for m in members]),
                Away.cancelled_at.is_(None),
                Away.end >= start,
            )
        )
        for member_id, begin, end in rows:
            self._periods[member_id].append((begin, end))

    def is_away(self, member_id: int, day: date) -> bool:
        periods = self._periods.get(member_id)
        return bool(periods) and any(begin <= day <= end for begin, end in periods or ())


def last_served(session: Session, group: Group, before: date) -> dict[int, date]:
    """Each member's latest turn before ``before``. A turn fixed in advance (by a swap) on
    a day that is no longer a study day (declared off since) and was never announced did
    not happen, so it does not count."""
    calendar = StudyCalendar(session, group)
    announced = announced_days(session, group, end=before - timedelta(days=1))
    rows = session.execute(
        select(ModAssignment.member_id, ModAssignment.day).where(
            ModAssignment.group_id == group.id, ModAssignment.day < before
        )
    )
    last: dict[int, date] = {}
    for member_id, day in rows:
        if day not in announced and not calendar.is_study_day(day):
            continue
        if day > last.get(member_id, date.min):
            last[member_id] = day
    return last


def _pins(session: Session, group: Group, start: date) -> dict[date, tuple[int, str]]:
    """The turns fixed from ``start`` on: day → (member id, source)."""
    rows = session.execute(
        select(ModAssignment.day, ModAssignment.member_id, ModAssignment.source).where(
            ModAssignment.group_id == group.id, ModAssignment.day >= start
        )
    )
    return {day: (member_id, source) for day, member_id, source in rows}


class Seat(Protocol):
    """A member as the rule sees one (a ``Member``, or a row of its columns)."""

    @property
    def id(self) -> int: ...

    @property
    def position(self) -> int: ...


S = TypeVar("S", bound=Seat)


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


def project(session: Session, group: Group, start: date, count: int) -> list[Turn]:
    """The moderators of the first ``count`` study days from ``start`` (inclusive)."""
    calendar = StudyCalendar(session, group)
    days = calendar.study_days(start, count)
    members = active_members(session, group)
    by_id = {m.id: m for m in members}
    away = AwayBook(session, members, start)
    last = last_served(session, group, start)
    pins = _pins(session, group, start)
    turns: list[Turn] = []
    for day in days:
        if day in pins:
            member_id, source = pins[day]
            member = by_id.get(member_id) or session.get(Member, member_id)
            turns.append(Turn(day, member, True, source))
        else:
            member = pick(members, day, last, away)
            turns.append(Turn(day, member, False))
        if member is not None:
            last[member.id] = day
    return turns


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
    existing = fixed_turn(session, group, day)
    if existing is not None:
        return session.get(Member, existing.member_id)
    turns = project(session, group, day, 1)
    if not turns or turns[0].member is None:
        return None
    member = turns[0].member
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
