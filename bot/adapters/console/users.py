"""Console users: people known only by name, with small stable ids.

The first person to speak in a group that has no admin yet becomes its admin, so a fresh
console can be set up at once (on Discord, Manage Server plays that part).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.commands import UserRef
from bot.services.context import Services
from db.models import GroupAdmin, User

CONSOLE_ID_LIMIT = 1_000_000  # console ids stay below this; Discord ids are far larger


class ConsoleUsers:
    def __init__(self, services: Services, group_id: int) -> None:
        self.services = services
        self.group_id = group_id

    def user(self, name: str) -> UserRef:
        """The console user with this name, created on first mention."""
        with self.services.transaction() as session:
            return _find_or_create(session, name, self.services.clock.now())

    def name_of(self, user_id: int) -> str:
        """The name of a known user (its id when unknown)."""
        with self.services.transaction() as session:
            user = session.get(User, user_id)
            return user.name if user is not None else str(user_id)

    def speaker(self, name: str) -> UserRef:
        """Like ``user``, and the first speaker of an admin-less group becomes admin."""
        with self.services.transaction() as session:
            ref = _find_or_create(session, name, self.services.clock.now())
            has_admin = session.scalar(
                select(GroupAdmin.user_id).where(GroupAdmin.group_id == self.group_id).limit(1)
            )
            if has_admin is None:
                session.add(GroupAdmin(group_id=self.group_id, user_id=ref.id))
            return ref


def _find_or_create(session: Session, name: str, now: datetime) -> UserRef:
    user = session.scalar(
        select(User).where(User.name == name, User.id < CONSOLE_ID_LIMIT).order_by(User.id)
    )
    if user is None:
        highest = session.scalar(select(func.max(User.id)).where(User.id < CONSOLE_ID_LIMIT))
        user = User(id=(highest or 0) + 1, name=name, created_at=now)
        session.add(user)
        session.flush()
    return UserRef(user.id, user.name)
