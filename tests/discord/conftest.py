"""Offline Discord: real ``discord.Interaction`` objects built from gateway payloads,
dispatched through the bot's command tree, with the HTTP layer recording what would be
sent (see ``fakes``). Every test gets its own SQLite file, copied from one migrated
template. Nothing logs in; any other HTTP request fails the test.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord.bot import StudyBot
from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.core import Core
from tests.discord.fakes import SEOUL, Gateway, Recorder, installed_bot


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to reach Discord")

    monkeypatch.setattr(discord.http.HTTPClient, "request", refuse)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    rec.install(monkeypatch)
    return rec


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "studybot.db"
    core = build_core(Settings(database_url=f"sqlite:///{path}", _env_file=None))  # type: ignore[call-arg]
    # Closing the connections checkpoints the write-ahead log (the seeded problem
    # catalogue) into the file itself, which is all that each test copies.
    core.services.session_factory.kw["bind"].dispose()
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 7, 8, 0, tzinfo=SEOUL))  # a Monday, 08:00 in Seoul


@pytest.fixture
def settings(tmp_path: Path, template_db: Path) -> Settings:
    path = tmp_path / "studybot.db"
    shutil.copy(template_db, path)
    return Settings(database_url=f"sqlite:///{path}", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def core(settings: Settings, clock: ManualClock) -> Core:
    return build_core(settings, clock, migrate=False)


@pytest.fixture
async def studybot(core: Core, settings: Settings) -> AsyncIterator[StudyBot]:
    bot = await installed_bot(core, settings)
    yield bot
    bot.scheduler.shutdown()


@pytest.fixture
def gateway(studybot: StudyBot, recorder: Recorder) -> Gateway:
    return Gateway(studybot, recorder)
