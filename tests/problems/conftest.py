"""Fixtures for the daily-problem tests (on top of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from tests.conftest import (
    GUILD_ID,
    START,
    Harness,
    engine_of,
    fresh_sqlite,
    postgres_schema,
)

MEMBERS = ("alice", "bob", "carol")  # rotation order: Monday alice, Tuesday bob, ...


def populate(harness: Harness) -> Harness:
    """Three members (joined in rotation order) and a group-granted admin who is no member."""
    harness.join(*MEMBERS)
    harness.grant_admin("admin")
    return harness


@pytest.fixture
def study(harness: Harness) -> Harness:
    return populate(harness)


@pytest.fixture
def another_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Iterator[Callable[[], Harness]]:
    """Makes further, separate fresh databases of the test's backend, each with the same
    group (same guild, same settings) on its own clock starting at ``START``."""
    with ExitStack() as stack:
        made = 0

        def make() -> Harness:
            nonlocal made
            made += 1
            if backend == "sqlite":
                template = request.getfixturevalue("sqlite_template")
                url = fresh_sqlite(template, tmp_path / f"other-{made}")
            else:
                url = stack.enter_context(postgres_schema(request.getfixturevalue("postgres_url")))
            clock = ManualClock(START)
            core = build_core(Settings(database_url=url, _env_file=None), clock)  # type: ignore[call-arg]
            stack.callback(engine_of(core).dispose)
            group_id = core.group_for_guild_sync(GUILD_ID, channel_id=42, channel_name="study")
            return Harness(core, clock, group_id)

        yield make
