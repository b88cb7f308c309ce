"""Away periods: a member marks days they cannot moderate (their fixed turns on those
days are released), lists and cancels them; and releasing a member's turns, which
leaving uses too."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.replies import Reply, Text
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.duty_runs import announced_days
from bot.services.permissions import require_member
from db.models import Away, Group, Member, ModAssignment

MAX_AWAY_DAYS = 366


def set_away(
    session: Session, group: Group, actor: Actor, start: date, end: date, now: datetime
) -> Reply:
    member = require_member(session, group, actor)
    today = local_today(group, now)
    if end < start:
        raise InvalidInput("error.away_order")
    if end < today:
        raise InvalidInput("error.date_in_past", day=end)
    if (end - start).days >= MAX_AWAY_DAYS:
        raise InvalidInput("error.away_too_long", max=MAX_AWAY_DAYS)
    session.add(Away(member_id=member.id, start=start, end=end, created_at=now))
    released = release_turns(session, group, member, max(start, today), end)
    reply = Reply.private("away.added", start=start, end=end)
    if released:
        reply.lines.append(Text("away.released", {"days": released}))
    if start <= today <= end and _announced_turn(session, group, member, today):
        # today's review already named them: away cannot undo that, a skip can
        reply.lines.append(Text("input.away_today_kept", {"day": today}))
    return reply


def _announced_turn(session: Session, group: Group, member: Member, day: date) -> bool:
    """Whether ``member``'s turn on ``day`` is fixed for good (its review went out)."""
    row = session.scalar(
        select(ModAssignment).where(ModAssignment.group_id == group.id, ModAssignment.day == day)
    )
    return (
        row is not None
        and row.member_id == member.id
        and day in announced_days(session, group, day, day)
    )


def release_turns(
    session: Session, group: Group, member: Member, start: date, end: date | None = None
) -> list[date]:
    """Drop the member's fixed turns from ``start`` (to ``end``; on and on when None),
    except days whose review already went out; returns the days released."""
    announced = announced_days(session, group, start, end)
    query = select(ModAssignment).where(
        ModAssignment.group_id == group.id,
        ModAssignment.member_id == member.id,
        ModAssignment.day >= start,
    )
    if end is not None:
        query = query.where(ModAssignment.day <= end)
    released = []
    for row in session.scalars(query).all():
        if row.day not in announced:
            released.append(row.day)
            session.delete(row)
    session.flush()
    return sorted(released)


# the actor's membership and upcoming away periods in one query: one row per period (a
# member with none: one row without a period; someone who is no active member: no row)
_OWN_UPCOMING_AWAY = (
    select(Member.id, Away.start, Away.end)
    .outerjoin(
        Away,
        and_(
            Away.member_id == Member.id,
            Away.cancelled_at.is_(None),
            Away.end >= bindparam("today"),
        ),
    )
    .where(
        Member.group_id == bindparam("group_id"),
        Member.user_id == bindparam("user_id"),
        Member.active.is_(True),
    )
    .order_by(Away.start)
)


def list_away(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    found = session.execute(
        _OWN_UPCOMING_AWAY,
        {"group_id": group.id, "user_id": actor.user_id, "today": local_today(group, now)},
    ).all()
    if not found:
        raise PermissionDenied("error.not_member")  # (as ``require_member``)
    periods = [(start, end) for _id, start, end in found if start is not None]
    if not periods:
        return Reply.private("away.none")
    reply = Reply.private("away.list", count=len(periods))
    reply.lines = [Text("away.line", {"start": start, "end": end}) for start, end in periods]
    return reply


def _upcoming_away(session: Session, member: Member, today: date) -> list[Away]:
    return list(
        session.scalars(
            select(Away)
            .where(Away.member_id == member.id, Away.cancelled_at.is_(None), Away.end >= today)
            .order_by(Away.start)
        )
    )


def cancel_away(
    session: Session, group: Group, actor: Actor, now: datetime, on: date | None = None
) -> Reply:
    """Cancel the upcoming away periods (only the one covering ``on`` when given)."""
    member = require_member(session, group, actor)
    rows = _upcoming_away(session, member, local_today(group, now))
    if on is not None:
        rows = [r for r in rows if r.start <= on <= r.end]
    if not rows:
        raise NotFound("error.away_missing")
    for row in rows:
        row.cancelled_at = now
    return Reply.private("away.cancelled", count=len(rows))
