"""The bot is auto-sharded: it runs the shards Discord recommends (``GET /gateway/bot``,
answered by the HTTP double, offline), or the ones a process is given; a process running
some shards owns their servers' groups only (duties, catch-up, pausing)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yarl
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.shards import ownership, shard_of
from bot.clock import ManualClock
from bot.config import Settings
from bot.core import Core
from bot.schedule.runner import reconcile
from bot.schedule.scheduler import DutyScheduler
from bot.services.duty_runs import REVIEW_DUTY
from db.models import DutyRun, Group
from tests.discord.fakes import installed_bot
from tests.discord.http_double import DiscordHTTP

pytestmark = pytest.mark.sqlite_only


def guild_on_shard(shard: int, count: int, n: int = 1) -> int:
    """A realistic guild id that Discord puts on ``shard`` of ``count``."""
    guild = ((1_100_000_000_000 + n * count + shard) << 22) | 12345
    assert shard_of(guild, count) == shard
    return guild


def launched(bot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    started: list[int] = []

    async def launch_shard(gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        started.append(shard_id)  # instead of opening the shard's websocket

    monkeypatch.setattr(bot, "launch_shard", launch_shard)
    return started


async def test_it_runs_as_many_shards_as_discord_recommends(
    studybot: StudyBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = DiscordHTTP(clock)
    http.gateway_shards = 3
    http.install(monkeypatch, studybot)
    started = launched(studybot, monkeypatch)
    await studybot.launch_shards()
    assert studybot.shard_count == 3 and started == [0, 1, 2]
    assert "GET /gateway/bot" in http.requests
    assert studybot.owns is None  # one process runs them all: every server is its own


async def test_a_process_given_some_shards_runs_only_those_and_asks_nothing(
    core: Core, tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=core.services.settings.database_url,
        shard_count=4,
        shard_ids="1,3",
        _env_file=None,  # type: ignore[call-arg]
    )
    bot = await installed_bot(core, settings)
    http = DiscordHTTP(clock)
    http.install(monkeypatch, bot)
    started = launched(bot, monkeypatch)
    await bot.launch_shards()
    assert started == [1, 3] and http.requests == []
    assert bot.owns is not None
    assert [bot.owns(guild_on_shard(s, 4)) for s in range(4)] == [False, True, False, True]
    bot.scheduler.shutdown()


def test_ownership_follows_discords_shard_formula() -> None:
    assert ownership(None, []) is None
    assert ownership(2, [0, 1]) is None  # all of them
    owns = ownership(2, [1])
    assert owns is not None
    assert owns(guild_on_shard(1, 2)) and not owns(guild_on_shard(0, 2))


async def test_two_processes_own_and_catch_up_their_own_groups(
    core: Core, clock: ManualClock
) -> None:
    """Two processes (shard 0 and 1 of 2) on one database: each catches up, schedules and
    pauses only its own servers' groups; together every group posts once."""
    guilds = [guild_on_shard(s, 2, n) for s in (0, 1) for n in (1, 2)]
    ids = [
        core.group_for_guild_sync(g, channel_id=i + 1, channel_name="study")
        for i, g in enumerate(guilds)
    ]
    clock.advance(timedelta(hours=2))  # Monday 10:00 in Seoul: the 09:30 reviews are late
    posted: dict[int, list[int]] = {}
    for shard in (0, 1):
        owns = ownership(2, [shard])
        assert owns is not None
        scheduler = DutyScheduler(core, owns=owns)
        scheduler.build_jobs()
        mine = {i for i, g in zip(ids, guilds, strict=True) if shard_of(g, 2) == shard}
        assert set().union(*scheduler.moments.values()) == mine

        posted[shard] = sorted(
            d.group_id for d in reconcile(core.services, owns) if d.duty == REVIEW_DUTY
        )
        assert set(posted[shard]) == mine
        # this process sees only its own servers: the other's groups are not paused
        present = [g for g in guilds if owns(g)]
        assert core.match_guilds_sync(present, owns) == ([], [])
        scheduler.shutdown()
    with core.services.transaction() as session:
        assert sorted(session.scalars(select(DutyRun.group_id))) == sorted(ids)
        assert session.scalars(select(Group.paused_at)).all() == [None] * len(ids)
