"""Delivery keeps to Discord's rate limits instead of running into them (``Pace``, on the
injected clock) and goes out in a fair order (``fair_order``): checked against the HTTP
double with the limits enforced, on a simulated clock (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
from sqlalchemy import select

from bot.adapters.discord.delivery import (
    DiscordChannelSender,
    Pace,
    deliver_pending,
    fair_order,
)
from bot.clock import ManualClock
from bot.core import Core
from bot.replies import Reply
from bot.services.groups import get_group
from bot.services.outbox import Pending, enqueue
from db.models import OutboxMessage
from tests.discord import discord_rules as rules
from tests.discord.http_double import DiscordHTTP

pytestmark = pytest.mark.sqlite_only

GUILDS = [880_000_000_000_000_000 + i for i in range(1, 31)]


def pending(row: int, group: int, user: int | None = None) -> Pending:
    return Pending(row, group, 1, 10 + group, "ko", Reply.public("duty.review_hint"), user)


def test_fair_order_takes_every_lane_in_turn_and_keeps_each_lanes_order() -> None:
    items = [pending(1, 1), pending(2, 1), pending(3, 1), pending(4, 2), pending(5, 3, 7)]
    items += [pending(6, 2), pending(7, 3)]
    assert [p.id for p in fair_order(items)] == [1, 4, 5, 7, 2, 6, 3]


def simulated(clock: ManualClock) -> Pace:
    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    return Pace(clock, sleep)


async def test_the_pace_keeps_under_the_global_and_channel_limits(clock: ManualClock) -> None:
    pace = simulated(clock)
    start = clock.now()
    for i in range(3 * rules.GLOBAL_PER_SECOND):
        await pace.take("messages", 1000 + i)  # all different channels
    assert clock.now() - start >= timedelta(seconds=2)  # 150 requests: three windows
    start = clock.now()
    for _ in range(3 * rules.CHANNEL_BUCKET):
        await pace.take("messages", 1)  # one channel
    assert clock.now() - start >= timedelta(seconds=2 * rules.CHANNEL_WINDOW_S)


async def test_a_clock_that_stands_still_is_not_waited_for(clock: ManualClock) -> None:
    async def sleep(seconds: float) -> None:
        return None  # a test's clock: time does not pass

    pace = Pace(clock, sleep)
    for _ in range(3 * rules.GLOBAL_PER_SECOND):
        await pace.take("messages", 1)  # returns: nothing to wait for


async def fan_out(
    core: Core, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, pace: Pace | None
) -> DiscordHTTP:
    """Thirty groups' review posts due at once, delivered through the double."""
    http = DiscordHTTP(clock)
    for i, guild in enumerate(GUILDS):
        core.group_for_guild_sync(guild, channel_id=5_000 + i, channel_name="study")
        http.channel(5_000 + i, f"study{i}")
    with core.services.transaction() as session:
        for group_id in range(1, len(GUILDS) + 1):
            group = get_group(session, group_id)
            for _ in range(3):
                enqueue(session, group, Reply.public("duty.review_hint"), clock.now())
        assert len(session.scalars(select(OutboxMessage.id)).all()) == 3 * len(GUILDS)
    client = discord.Client(intents=discord.Intents.none())
    http.install(monkeypatch, client)
    http.enforce_rate_limits()
    sender = DiscordChannelSender(client)
    for _ in range(10):
        await deliver_pending(core, sender, 100, pace)
    return http


async def test_paced_delivery_posts_everything_fairly_without_a_429(
    core: Core, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = await fan_out(core, clock, monkeypatch, simulated(clock))
    assert http.rate_limited == 0 and len(http.posted) == 3 * len(GUILDS)
    first_round = [p.channel_id for p in http.posted[: len(GUILDS)]]
    assert first_round == [5_000 + i for i in range(len(GUILDS))]  # every group once first


async def test_without_the_pace_the_double_refuses_the_burst(
    core: Core, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = await fan_out(core, clock, monkeypatch, None)
    assert http.rate_limited > 0  # what the pace prevents
