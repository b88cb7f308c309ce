"""People the bot knows: their user rows, and the console's people known only by name.

Discord users arrive with their own ids; console users get small stable ids of their own
(below ``LOCAL_ID_LIMIT``, far under any Discord id), made on first mention.
"""

from __future__ import annotations

from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.services import freetext
from db.models import User

__all__ = ["LOCAL_ID_LIMIT", "MAX_NAME", "ensure_user", "local_user", "name_of"]

LOCAL_ID_LIMIT = 1_000_000  # console ids stay below this; Discord ids are far larger
MAX_NAME = 100


_KNOWN: WeakKeyDictionary[object, dict[int, str]] = WeakKeyDictionary()
MAX_KNOWN = 100_000


def known_names(database: object) -> dict[int, str]:
    """Users this process saw committed with a name, per database (``database``: its
    session factory): their rows exist with that name (users are never deleted), so a
    command from them need not ask again."""
    known = _KNOWN.get(database)
    if known is None:
        known = _KNOWN[database] = {}
    return known


def remember_name(known: dict[int, str], user_id: int, name: str) -> None:
    """After the commit that wrote (or found) the user with this name."""
    if len(known) >= MAX_KNOWN:
        known.clear()
    known[user_id] = name


def ensure_user(session: Session, user_id: int, name: str, now: datetime) -> User:
    """The user's row, created on first sight; a changed display name is kept up to date.
    The name is kept as posts may show it (``freetext.display_name``: no mention pings)."""
    shown = freetext.display_name(name, MAX_NAME) if name else name
    user = session.get(User, user_id)
    if user is None:
        user = User(id=user_id, name=shown, created_at=now)
        session.add(user)
        session.flush()
    elif shown and user.name != shown:
        user.name = shown
    return user


def local_user(session: Session, name: str, now: datetime) -> User:
    """The console user with this name, created (with the next free small id) on first use.
    ``everyone`` and ``here`` are refused: they read as a mention of the whole channel."""
    user = session.scalar(
        select(User).where(User.name == name, User.id < LOCAL_ID_LIMIT).order_by(User.id)
    )
    if user is None:
        if freetext.is_reserved_name(name):
            raise InvalidInput("input.reserved_name", name=freetext.echo(name))
        highest = session.scalar(select(func.max(User.id)).where(User.id < LOCAL_ID_LIMIT))
        user = User(id=(highest or 0) + 1, name=name, created_at=now)
        session.add(user)
        session.flush()
    return user


def name_of(session: Session, user_id: int) -> str:
    """A known user's name (the id as text when unknown)."""
    user = session.get(User, user_id)
    return user.name if user is not None else str(user_id)
