"""The roster as other services read it: a group's active members in rotation order,
and how to mention one. Joining and leaving are ``members``'s."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from bot.replies import Mention
from db.models import Away, Group, Member, User
from db.rows import plain_rows

_GROUP_USERS = "studybot.roster.group_users"  # session.info key: group id -> its users
# built once (statements built per call cost more than running them)
_ACTIVE_WITH_USERS = (
    select(Member, User)
    .join(User, User.id == Member.user_id)
    .where(Member.group_id == bindparam("group_id"), Member.active.is_(True))
    .order_by(Member.position, Member.id)
)


def _active_with_away(*columns: Any) -> Select[*tuple[Any, ...]]:
    """``columns`` of each active member with the away periods (not cancelled) that end on
    or after a day: one row per member and period (a member away at no time then: one row,
    no period)."""
    return (
        select(*columns, Away.start, Away.end)
        .join(User, User.id == Member.user_id)
        .outerjoin(
            Away,
            and_(
                Away.member_id == Member.id,
                Away.cancelled_at.is_(None),
                Away.end >= bindparam("start"),
            ),
        )
        .where(Member.group_id == bindparam("group_id"), Member.active.is_(True))
        .order_by(Member.position, Member.id)
    )


_ACTIVE_WITH_AWAY = _active_with_away(Member, User)
# the same as plain columns (no objects to build: what the rotation's projection reads)
_SEAT_COLUMNS = (
    Member.id,
    Member.position,
    Member.user_id,
    Member.group_id,
    User.name,
    Member.joined_at,
)
_ACTIVE_SEATS_AWAY = _active_with_away(*_SEAT_COLUMNS)
_SEAT_OF = (
    select(*_SEAT_COLUMNS)
    .join(User, User.id == Member.user_id)
    .where(Member.id == bindparam("member_id"))
)
_USERS_OF_GROUP = (
    select(User)
    .join(Member, Member.user_id == User.id)
    .where(Member.group_id == bindparam("group_id"))
)


def active_members(session: Session, group: Group) -> list[Member]:
    """Active members in their stable rotation order (their users read with them and held
    for ``mention``)."""
    rows = session.execute(_ACTIVE_WITH_USERS, {"group_id": group.id}).all()
    hold_users(session, group.id, (user for _member, user in rows))
    return [member for member, _user in rows]


def active_members_away(
    session: Session, group: Group, start: date
) -> tuple[list[Member], list[tuple[int, date, date]]]:
    """``active_members`` and, in the same query, their away periods (not cancelled)
    that end on ``start`` or later, as (member id, first day, last day)."""
    rows = session.execute(_ACTIVE_WITH_AWAY, {"group_id": group.id, "start": start}).all()
    members: dict[int, Member] = {}
    users: dict[int, User] = {}
    periods: list[tuple[int, date, date]] = []
    for member, user, begin, end in rows:
        members.setdefault(member.id, member)
        users.setdefault(user.id, user)
        if begin is not None and end is not None:
            periods.append((member.id, begin, end))
    hold_users(session, group.id, users.values())
    return list(members.values()), periods


@dataclass(frozen=True)
class SeatRow:
    """A member as read for the rotation: the columns it needs and the user's name (read
    in the same query, so ``mention`` needs no object)."""

    id: int
    position: int
    user_id: int
    group_id: int
    name: str
    joined_at: datetime


def active_seats_away(
    session: Session, group: Group, start: date
) -> tuple[list[SeatRow], list[tuple[int, date, date]]]:
    """``active_members_away`` as plain rows (reading objects costs more than the query)."""
    return seats_from(
        plain_rows(session, _ACTIVE_SEATS_AWAY, {"group_id": group.id, "start": start})
    )


def seat_rows_query(*leading: Any) -> Select[*tuple[Any, ...]]:
    """What ``active_seats_away`` reads (parameters ``group_id`` and ``start``) after the
    ``leading`` columns, in no order: one part of a larger query (``seats_from`` takes
    its rows without the leading columns)."""
    return _active_with_away(*leading, *_SEAT_COLUMNS).order_by(None)


def seats_from(
    rows: Iterable[Sequence[Any]],
) -> tuple[list[SeatRow], list[tuple[int, date, date]]]:
    """The seats (in rotation order) and away periods of ``active_seats_away``'s rows."""
    seats: dict[int, SeatRow] = {}
    periods: list[tuple[int, date, date]] = []
    for member_id, position, user_id, group_id, name, joined_at, begin, end in rows:
        if member_id not in seats:
            seats[member_id] = SeatRow(member_id, position, user_id, group_id, name, joined_at)
        if begin is not None and end is not None:
            periods.append((member_id, begin, end))
    return sorted(seats.values(), key=lambda s: (s.position, s.id)), periods


def seat(session: Session, member_id: int) -> SeatRow | None:
    """One member (active or not) as a ``SeatRow``."""
    row = plain_rows(session, _SEAT_OF, {"member_id": member_id}).first()
    return None if row is None else SeatRow(*row)


def hold_users(session: Session, group_id: int, users: Iterable[User]) -> None:
    """Hold users of the group read already (a batch of groups reads them at once) for
    ``mention``; a member not among them is looked up alone."""
    held: dict[int, dict[int, User]] = session.info.setdefault(_GROUP_USERS, {})
    held.setdefault(group_id, {}).update((user.id, user) for user in users)


def _hold_group_users(session: Session, group_id: int) -> dict[int, User]:
    """Read the users of every member of the group once per session and hold them, so
    that ``session.get(User, ...)`` finds them in the identity map (a reply naming many
    members asks the database once, not once per name)."""
    held: dict[int, dict[int, User]] = session.info.setdefault(_GROUP_USERS, {})
    if group_id not in held:
        held[group_id] = {
            user.id: user for user in session.scalars(_USERS_OF_GROUP, {"group_id": group_id})
        }
    return held[group_id]


def mention(session: Session, member: Member | SeatRow) -> Mention:
    if isinstance(member, SeatRow):  # read with its user's name (after any change flushed)
        return Mention(member.user_id, member.name)
    # the session's own object for the user (a name changed in it reads as changed)
    user = _hold_group_users(session, member.group_id).get(member.user_id) or session.get(
        User, member.user_id
    )
    return Mention(member.user_id, user.name if user else str(member.user_id))
