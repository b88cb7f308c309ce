"""The HTTP double's rate limits catch what Discord would refuse: more than 50 requests in
a second (the global limit) and more than 5 posts in 5 seconds in one channel (the
channel's bucket); one test per rule, each showing a violation is caught, on the double's
clock (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.clock import ManualClock
from tests.discord import discord_rules as rules
from tests.discord.http_double import DiscordHTTP

pytestmark = pytest.mark.sqlite_only

CHANNELS = range(3_000, 3_100)


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch) -> tuple[discord.Client, DiscordHTTP, ManualClock]:
    clock = ManualClock(datetime(2026, 12, 7, 0, 30, tzinfo=UTC))
    client = discord.Client(intents=discord.Intents.none())
    double = DiscordHTTP(clock)
    for channel_id in CHANNELS:
        double.channel(channel_id, f"study{channel_id}")
    double.install(monkeypatch, client)
    double.enforce_rate_limits()
    return client, double, clock


async def post(client: discord.Client, channel_id: int, text: str = "review") -> discord.Message:
    return await client.get_partial_messageable(channel_id).send(text)


async def test_the_51st_request_in_one_second_is_refused_as_global(
    limited: tuple[discord.Client, DiscordHTTP, ManualClock],
) -> None:
    client, double, clock = limited
    for i in range(rules.GLOBAL_PER_SECOND):  # one per channel: no channel bucket fills
        await post(client, CHANNELS[i])
    with pytest.raises(discord.HTTPException) as caught:
        await post(client, CHANNELS[60])
    assert caught.value.status == 429
    assert caught.value.response.headers.get("X-RateLimit-Global") == "true"
    assert double.rate_limited == 1 and len(double.posted) == rules.GLOBAL_PER_SECOND

    clock.advance(timedelta(seconds=1))  # the window moved on: accepted again
    await post(client, CHANNELS[60])
    assert len(double.posted) == rules.GLOBAL_PER_SECOND + 1


async def test_a_sixth_post_in_one_channel_within_5_seconds_is_refused(
    limited: tuple[discord.Client, DiscordHTTP, ManualClock],
) -> None:
    client, double, clock = limited
    for _ in range(rules.CHANNEL_BUCKET):
        await post(client, CHANNELS[0])
        clock.advance(timedelta(seconds=0.5))
    with pytest.raises(discord.HTTPException) as caught:
        await post(client, CHANNELS[0])
    assert caught.value.status == 429
    assert "X-RateLimit-Global" not in caught.value.response.headers
    await post(client, CHANNELS[1])  # another channel has its own bucket
    clock.advance(timedelta(seconds=rules.CHANNEL_WINDOW_S))
    await post(client, CHANNELS[0])
    assert double.rate_limited == 1
    assert len(double.in_channel(CHANNELS[0])) == rules.CHANNEL_BUCKET + 1


async def test_requests_within_the_limits_pass(
    limited: tuple[discord.Client, DiscordHTTP, ManualClock],
) -> None:
    client, double, clock = limited
    for i in range(3 * rules.GLOBAL_PER_SECOND):  # 50 a second, spread over channels
        await post(client, CHANNELS[i % len(CHANNELS)])
        clock.advance(timedelta(seconds=1 / rules.GLOBAL_PER_SECOND))
    assert double.rate_limited == 0 and len(double.posted) == 3 * rules.GLOBAL_PER_SECOND


async def test_member_lookups_count_in_the_global_limit_and_say_who_left(
    limited: tuple[discord.Client, DiscordHTTP, ManualClock],
) -> None:
    client, double, _clock = limited
    double.left_server = {42}
    member = await client.http.get_member(1, 41)
    assert member["user"]["id"] == "41"
    with pytest.raises(discord.NotFound) as gone:
        await client.http.get_member(1, 42)
    assert gone.value.code == 10007  # Unknown Member
    for i in range(rules.GLOBAL_PER_SECOND - 2):  # the lookups took two of the second's 50
        await post(client, CHANNELS[i])
    with pytest.raises(discord.HTTPException) as caught:
        await client.http.get_member(1, 41)
    assert caught.value.status == 429 and double.rate_limited == 1
