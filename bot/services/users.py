"""People the bot knows: their user rows, and the console's people known only by name.

Discord users arrive with their own ids; console users get small stable ids of their own
(below ``LOCAL_ID_LIMIT``, far under any Discord id), made on first mention.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import User

__all__ = ["LOCAL_ID_LIMIT", "MAX_NAME", "ensure_user", "local_user", "name_of"]

LOCAL_ID_LIMIT = 1_000_000  # console ids stay below this; Discord ids are far larger
MAX_NAME = 100


def ensure_user(session: Session, user_id: int, name: str, now: datetime) -> User:
    """The user's row, created on first sight; a changed display name is kept up to date."""
    user = session.get(User, user_id)
    if user is None:
        user = User(id=user_id, name=name[:MAX_NAME], created_at=now)
        session.add(user)
        session.flush()
    elif name and user.name != name[:MAX_NAME]:
        user.name = name[:MAX_NAME]
    return user


def local_user(session: Session, name: str, now: datetime) -> User:
    """The console user with this name, created (with the next free small id) on first use."""
    user = session.scalar(
        select(User).where(User.name == name, User.id < LOCAL_ID_LIMIT).order_by(User.id)
    )
    if user is None:
        highest = session.scalar(select(func.max(User.id)).where(User.id < LOCAL_ID_LIMIT))
        user = User(id=(highest or 0) + 1, name=name, created_at=now)
        session.add(user)
        session.flush()
    return user


def name_of(session: Session, user_id: int) -> str:
    """A known user's name (the id as text when unknown)."""
    user = session.get(User, user_id)
    return user.name if user is not None else str(user_id)
