"""Engine and session factory, built from a URL (never at import time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling only emits BEGIN before the first write, so a
    # SAVEPOINT opened before any write starts the transaction and its RELEASE commits it
    # (a duty's claim would outlive a crash later in the same unit of work). Turn it off
    # and let SQLAlchemy's "begin" event open every transaction instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL still never corrupts the database; it only skips an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "studybot_read_only"  # execution option of sessions that never write


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: a second writer waits (busy_timeout) instead
    # of failing when its read snapshot cannot be upgraded to a write. A read-only unit
    # takes no lock at all (with WAL it reads a snapshot while a writer works).
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(
    engine: Engine, *, read_only: bool = False, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``read_only`` ones never take SQLite's write lock (and must
    not write: SQLite refuses a write that would need to upgrade a busy snapshot). Each
    session starts with a copy of ``info`` (what every unit shares, as the group cache)."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False, info=info)
