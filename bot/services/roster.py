"""The roster as other services read it: a group's active members in rotation order,
and how to mention one. Joining and leaving are ``members``'s."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.replies import Mention
from db.models import Group, Member, User


def active_members(session: Session, group: Group) -> list[Member]:
    """Active members in their stable rotation order."""
    return list(
        session.scalars(
            select(Member)
            .where(Member.group_id == group.id, Member.active.is_(True))
            .order_by(Member.position, Member.id)
        )
    )


def mention(session: Session, member: Member) -> Mention:
    user = session.get(User, member.user_id)
    return Mention(member.user_id, user.name if user else str(member.user_id))
