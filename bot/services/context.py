"""What every service needs: a session factory, a clock and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings


@dataclass(frozen=True)
class Actor:
    """Who is acting. ``platform_admin`` is decided by the front end
    (Discord: Manage Server or the admin role); group-granted admins are looked up."""

    user_id: int
    name: str
    platform_admin: bool = False


@dataclass
class Services:
    session_factory: sessionmaker[Session]
    clock: Clock
    settings: Settings

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.session_factory() as session, session.begin():
            yield session
