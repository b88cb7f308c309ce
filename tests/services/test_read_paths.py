"""What runs before Discord's 3-second answer never waits on the database lock: reads take
no SQLite write lock, the guild → group lookup is cached, and the caches stay right."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from bot.services import choices
from tests.conftest import GUILD_ID, Harness, engine_of

pytestmark = pytest.mark.sqlite_only  # SQLite's write lock is what is tested


@contextmanager
def writer_holding_the_lock(harness: Harness) -> Iterator[None]:
    """Another process's writer in the middle of a transaction."""
    path = harness.core.services.settings.database_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE groups SET locale = locale")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def within(seconds: float, fn: Any, *args: Any) -> Any:
    """``fn(*args)``, failing the test if it takes longer (it would wait for the lock)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result(timeout=seconds)


def test_reads_do_not_wait_for_a_writer(harness: Harness) -> None:
    harness.join("alice")
    with writer_holding_the_lock(harness):
        info = within(2, harness.core.group_info_sync, harness.group_id)
        assert info.locale == "ko"
        found = within(2, harness.core.read_sync, choices.task_choices, harness.group_id, "")
        assert found == []


def test_a_write_still_waits_for_the_writer(harness: Harness) -> None:
    """The other half: a unit of work that writes does take the lock (so reads are not
    merely fast here)."""
    with ThreadPoolExecutor(1) as pool:
        with writer_holding_the_lock(harness):
            joining = pool.submit(harness.invoke, "alice", "member join")
            with pytest.raises(TimeoutError):
                joining.result(timeout=0.5)
        assert joining.result(timeout=10).key == "member.joined"  # once the writer is done


def test_the_guild_lookup_is_cached(harness: Harness) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = engine_of(harness.core)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert harness.core.group_for_guild_sync(GUILD_ID) == harness.group_id
        assert statements == []  # the harness's own lookup filled the cache
        new_id = harness.core.group_for_guild_sync(GUILD_ID + 1)
        assert statements  # a new guild is looked up and created once
        statements.clear()
        assert harness.core.group_for_guild_sync(GUILD_ID + 1) == new_id
        assert statements == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
