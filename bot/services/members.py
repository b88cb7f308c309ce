"""Joining, leaving and listing members. Leaving keeps the row and its history."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.errors import Conflict, InvalidInput, NotFound
from bot.replies import Reply, Text
from bot.services import freetext, rotation
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.permissions import active_member, require_admin
from bot.services.roster import active_members, active_seats_away, mention
from bot.services.users import ensure_user
from db.models import Group, Member, SwapRequest


def _add(session: Session, group: Group, user_id: int, name: str, now: datetime) -> Member:
    if freetext.is_reserved_name(name):  # a post naming them would read as @everyone
        raise InvalidInput("input.reserved_name", name=freetext.echo(name))
    ensure_user(session, user_id, name, now)
    member = session.scalar(
        select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
    )
    if member is not None:
        if member.active:
            raise Conflict("error.already_member", name=name)
        member.active = True
        member.left_at = None
        member.joined_at = now
        return member
    highest = session.scalar(select(func.max(Member.position)).where(Member.group_id == group.id))
    member = Member(
        group_id=group.id,
        user_id=user_id,
        position=(highest or 0) + 1,
        active=True,
        joined_at=now,
    )
    session.add(member)
    session.flush()
    return member


def _remove(session: Session, group: Group, member: Member, now: datetime) -> None:
    """Deactivate; release the member's turns not announced yet (today's too) and open
    swap requests."""
    member.active = False
    member.left_at = now
    rotation.release_turns(session, group, member, local_today(group, now))
    session.execute(
        update(SwapRequest)
        .where(
            SwapRequest.status == "pending",
            (SwapRequest.first_member_id == member.id)
            | (SwapRequest.second_member_id == member.id),
        )
        .values(status="stale", resolved_at=now)
    )


def join(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    member = _add(session, group, actor.user_id, actor.name, now)
    return Reply.public("member.joined", name=mention(session, member))


def leave(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    member = active_member(session, group, actor.user_id)
    if member is None:
        raise NotFound("error.not_member")
    _remove(session, group, member, now)
    return Reply.public("member.left", name=mention(session, member))


def add(
    session: Session, group: Group, actor: Actor, user_id: int, name: str, now: datetime
) -> Reply:
    require_admin(session, group, actor)
    member = _add(session, group, user_id, name, now)
    return Reply.public("member.added", name=mention(session, member), by=actor.name)


def remove(session: Session, group: Group, actor: Actor, user_id: int, now: datetime) -> Reply:
    require_admin(session, group, actor)
    member = active_member(session, group, user_id)
    if member is None:
        raise NotFound("error.member_missing")
    _remove(session, group, member, now)
    return Reply.public("member.removed", name=mention(session, member), by=actor.name)


def mark_gone(
    session: Session, group: Group, user_ids: Collection[int], now: datetime
) -> list[int]:
    """The front end found these people gone from the server: they leave the group as
    with ``/member leave`` (turns and swap requests released, history kept). Returns the
    user ids that were active members."""
    gone = []
    for member in active_members(session, group):
        if member.user_id in user_ids:
            _remove(session, group, member, now)
            gone.append(member.user_id)
    return gone


def listing(session: Session, group: Group, now: datetime) -> Reply:
    today = local_today(group, now)
    members, periods = active_seats_away(session, group, today)
    if not members:
        return Reply.private("member.list_empty")
    away = rotation.AwayBook.of(periods)
    lines = [
        Text(
            "member.list_line_away" if away.is_away(m.id, today) else "member.list_line",
            {"n": i, "name": mention(session, m), "since": local_today(group, m.joined_at)},
        )
        for i, m in enumerate(members, start=1)
    ]
    reply = Reply.private("member.list", count=len(members))
    reply.lines = lines
    return reply
