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
    read_factory: sessionmaker[Session] | None = None  # sessions that never write

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.session_factory() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit that only reads: on SQLite it takes no write lock, so it never waits for
        a writer (what runs before Discord's 3-second answer uses it). Never write here."""
        factory = self.read_factory or self.session_factory
        with factory() as session:
            try:
                yield session
            finally:
                session.rollback()  # nothing to keep: end the snapshot
