"""What every service needs: a session factory, a clock and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
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
        a writer (what runs before Discord's 3-second answer uses it). A write here is
        refused (``ReadingUnitWrote``) before it reaches the database."""
        factory = self.read_factory or self.session_factory
        with factory() as session:  # (an error: closing rolls back)
            session.info[READING] = True
            yield session
            # the snapshot ends with a COMMIT of nothing, not a ROLLBACK: psycopg forgets
            # every statement it prepared on the connection at each rollback, so the next
            # queries would be planned again by PostgreSQL
            session.commit()


READING = "studybot.reading"  # session.info key: the session is a reading unit


class ReadingUnitWrote(RuntimeError):
    """Code in a reading unit (``Services.reading``) tried to write: a bug."""


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_reading(session: Session, _context: object, _objects: object) -> None:
    if session.info.get(READING):
        raise ReadingUnitWrote("a reading unit tried to write; use Services.transaction")
