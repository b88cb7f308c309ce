"""Who may do what: group admins and the moderator of the day."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import PermissionDenied
from bot.services.context import Actor
from db.models import Group, GroupAdmin, Member


def is_admin(session: Session, group: Group, actor: Actor) -> bool:
    if actor.platform_admin:
        return True
    row = session.get(GroupAdmin, (group.id, actor.user_id))
    return row is not None


def claim_first_admin(session: Session, group: Group, user_id: int) -> bool:
    """Make ``user_id`` the group's admin when it has none yet (the console's first speaker;
    on Discord, Manage Server plays that part). True when this call made them admin."""
    has_admin = session.scalar(
        select(GroupAdmin.user_id).where(GroupAdmin.group_id == group.id).limit(1)
    )
    if has_admin is not None:
        return False
    session.add(GroupAdmin(group_id=group.id, user_id=user_id))
    session.flush()
    return True


def require_admin(session: Session, group: Group, actor: Actor) -> None:
    if not is_admin(session, group, actor):
        raise PermissionDenied("error.admin_only")


def active_member(session: Session, group: Group, user_id: int) -> Member | None:
    return session.scalar(
        select(Member).where(
            Member.group_id == group.id, Member.user_id == user_id, Member.active.is_(True)
        )
    )


def require_member(session: Session, group: Group, actor: Actor) -> Member:
    member = active_member(session, group, actor.user_id)
    if member is None:
        raise PermissionDenied("error.not_member")
    return member


def own_member(session: Session, group: Group, actor: Actor) -> Member:
    """The actor's member row, also after they left (to see their own kept history)."""
    member = session.scalar(
        select(Member).where(Member.group_id == group.id, Member.user_id == actor.user_id)
    )
    if member is None:
        raise PermissionDenied("error.not_member")
    return member
