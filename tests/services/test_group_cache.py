"""The group cache: a command after the first reads neither its group's row nor its days
off; a change made in this process shows at once, one made by another process within the
cache's time; a row read while a change was committed is never kept; reading units refuse
to write and end without a rollback (which would cost PostgreSQL its prepared statements)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import make_url

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.services.context import ReadingUnitWrote
from bot.services.group_cache import GroupCache
from db.models import DayOff, Group, User
from tests.conftest import GUILD_ID, Harness, engine_of


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _harness(
    request: pytest.FixtureRequest,
    settings: Settings,
    clock: ManualClock,
    ttl: float,
    ticker: Ticker,
) -> Iterator[Harness]:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        shutil.copyfile(request.getfixturevalue("sqlite_template"), url.database)
    core = build_core(settings, clock, group_cache=GroupCache(ttl, ticker))
    try:
        yield Harness(core, clock, core.group_for_guild_sync(GUILD_ID, 42, "study"))
    finally:
        core.close_sync()
        engine_of(core).dispose()


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def cached(
    request: pytest.FixtureRequest, settings: Settings, clock: ManualClock, ticker: Ticker
) -> Iterator[Harness]:
    yield from _harness(request, settings, clock, 10.0, ticker)


@contextmanager
def statements(harness: Harness) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = engine_of(harness.core)

    def note(_c: object, _cur: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def kept_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM groups" in s or "FROM days_off" in s]


def test_a_command_after_the_first_reads_nothing_kept(cached: Harness) -> None:
    cached.join("ann")
    cached.invoke("ann", "schedule show")
    with statements(cached) as seen:
        reply = cached.invoke("ann", "schedule show")
        cached.invoke("ann", "mod schedule", days=7)
    assert reply.key == "schedule.show"
    assert kept_reads(seen) == []


def test_a_change_made_here_shows_at_once(cached: Harness) -> None:
    admin = cached.actor("admin", platform_admin=True)
    cached.invoke(admin, "schedule show")
    cached.invoke(admin, "schedule set", timezone="Asia/Tokyo")
    cached.invoke(admin, "schedule dayoff", date="2026-12-24", reason="party")
    reply = cached.invoke(admin, "schedule show")
    assert reply.params["timezone"] == "Asia/Tokyo"
    assert any(line.params.get("reason") == "party" for line in reply.lines)


def test_another_process_change_shows_within_the_cache_time(
    cached: Harness, ticker: Ticker
) -> None:
    admin = cached.actor("admin", platform_admin=True)
    assert cached.invoke(admin, "schedule show").params["timezone"] == "Asia/Seoul"
    other = engine_of(cached.core).engine  # as another process would: no session of ours
    with other.begin() as conn:
        conn.execute(update(Group.__table__).values(timezone="Europe/Paris"))
    ticker.now = 9.9  # kept: the documented bound
    assert cached.invoke(admin, "schedule show").params["timezone"] == "Asia/Seoul"
    ticker.now = 10.0
    assert cached.invoke(admin, "schedule show").params["timezone"] == "Europe/Paris"


def test_a_row_read_while_a_change_was_committed_is_not_kept(cached: Harness) -> None:
    admin = cached.actor("admin", platform_admin=True)
    cached.invoke(admin, "schedule show")
    services = cached.core.services
    with services.reading() as early:
        early.execute(select(User.id).limit(1)).all()  # its snapshot begins here
        cached.invoke(admin, "schedule set", timezone="Asia/Tokyo")  # committed meanwhile
        from bot.services.groups import get_group

        get_group(early, cached.group_id)  # (SQLite: the old row, from the snapshot)
    assert cached.invoke(admin, "schedule show").params["timezone"] == "Asia/Tokyo"


def test_a_write_to_one_group_keeps_the_others(cached: Harness) -> None:
    admin = cached.actor("admin", platform_admin=True)
    other_id = cached.core.group_for_guild_sync(GUILD_ID + 1, 43, "other")
    other = Harness(cached.core, cached.clock, other_id)
    other.invoke(admin, "schedule show")
    cached.invoke(admin, "schedule set", timezone="Asia/Tokyo")
    with statements(cached) as seen:
        other.invoke(admin, "schedule show")
    assert kept_reads(seen) == []
    with cached.transaction() as session:  # a bulk statement may touch any group
        session.execute(update(Group).where(Group.id == cached.group_id).values(locale="en"))
    with statements(cached) as seen:
        other.invoke(admin, "schedule show")
    assert kept_reads(seen) != []


def test_a_cache_time_of_zero_keeps_nothing(
    request: pytest.FixtureRequest, settings: Settings, clock: ManualClock, ticker: Ticker
) -> None:
    for harness in _harness(request, settings, clock, 0.0, ticker):
        harness.invoke("ann", "schedule show")
        with statements(harness) as seen:
            harness.invoke("ann", "schedule show")
        assert kept_reads(seen) != []


def test_a_reading_unit_refuses_to_write(cached: Harness) -> None:
    from datetime import date

    with pytest.raises(ReadingUnitWrote), cached.core.services.reading() as session:
        session.add(DayOff(group_id=cached.group_id, day=date(2026, 12, 25), reason="x"))
        session.flush()
    with cached.transaction() as session:
        assert session.scalars(select(DayOff)).all() == []


def test_reading_units_keep_postgres_prepared_statements(
    request: pytest.FixtureRequest, settings: Settings, clock: ManualClock, ticker: Ticker
) -> None:
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        return  # (SQLite prepares nothing across units: nothing to keep)
    for harness in _harness(request, settings, clock, 10.0, ticker):
        for _ in range(8):  # psycopg prepares a statement at its fifth run
            with harness.core.services.reading() as session:
                session.execute(select(User.id).where(User.id == 1)).all()
        with harness.core.services.reading() as session:
            prepared = session.execute(text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared.scalar_one() > 0
