"""The channel-posting double refuses what Discord refuses: one test per rule, each showing
that a violation is caught, driven through discord.py's own API (not the bot's sender)."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest

from bot.adapters.discord.bot import StudyBot
from bot.clock import ManualClock
from tests.discord import discord_rules as rules
from tests.discord.fakes import BOB
from tests.discord.http_double import (
    NEWS,
    NEWS_THREAD,
    NONCE_WINDOW,
    PUBLIC_THREAD,
    THREAD_ALREADY_CREATED,
    DiscordHTTP,
    FakeChannel,
)

pytestmark = pytest.mark.sqlite_only

STUDY, NEWSROOM = 2_001, 2_002


@pytest.fixture
def http(studybot: StudyBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> DiscordHTTP:
    double = DiscordHTTP(clock)
    double.channel(STUDY, "study")
    double.channel(NEWSROOM, "news", NEWS)
    double.person(BOB)
    double.install(monkeypatch, studybot)
    return double


def channel(bot: StudyBot, channel_id: int = STUDY) -> discord.PartialMessageable:
    return bot.get_partial_messageable(channel_id)


def files(n: int) -> list[discord.File]:
    return [discord.File(io.BytesIO(b"x"), filename=f"f{i}.txt") for i in range(n)]


async def test_a_message_within_the_limits_is_posted(studybot: StudyBot, http: DiscordHTTP) -> None:
    sent = await channel(studybot).send("안녕하세요", files=files(10))
    (posted,) = http.in_channel(STUDY)
    assert (sent.id, posted.content, len(posted.files)) == (posted.id, "안녕하세요", 10)


async def test_content_over_2000_characters_is_refused(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await channel(studybot).send("가" * (rules.MAX_CONTENT + 1))
    assert (caught.value.status, caught.value.code) == (400, rules.INVALID_FORM_BODY)
    assert http.posted == []


async def test_more_than_10_attachments_are_refused(studybot: StudyBot, http: DiscordHTTP) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await channel(studybot).send("files", files=files(11))
    assert caught.value.code == rules.INVALID_FORM_BODY and http.posted == []


async def test_an_embed_over_its_limits_is_refused(studybot: StudyBot, http: DiscordHTTP) -> None:
    embed = discord.Embed(description="x" * (rules.EMBED_LIMITS["description"] + 1))
    with pytest.raises(discord.HTTPException) as caught:
        await channel(studybot).send(embed=embed)
    assert caught.value.code == rules.INVALID_FORM_BODY and http.posted == []


async def test_an_enforced_nonce_returns_the_first_message_instead_of_a_second(
    studybot: StudyBot, http: DiscordHTTP, clock: ManualClock
) -> None:
    first = await channel(studybot).send("review", nonce="sb7")
    again = await channel(studybot).send("review", nonce="sb7")
    assert again.id == first.id and len(http.in_channel(STUDY)) == 1
    clock.advance(NONCE_WINDOW)  # Discord remembers a nonce for a few minutes only
    late = await channel(studybot).send("review", nonce="sb7")
    assert late.id != first.id and len(http.in_channel(STUDY)) == 2


async def test_a_nonce_over_25_characters_is_refused(studybot: StudyBot, http: DiscordHTTP) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await channel(studybot).send("x", nonce="n" * 26)
    assert caught.value.code == rules.INVALID_FORM_BODY


async def test_a_rate_limit_answers_429_with_retry_after(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    http.rate_limit(12.5)
    with pytest.raises(discord.HTTPException) as caught:
        await channel(studybot).send("x")
    assert caught.value.status == 429
    assert caught.value.response.headers["Retry-After"] == "12.5"
    await channel(studybot).send("x")  # only the next request was limited
    assert len(http.posted) == 1


async def test_an_unknown_channel_is_404_10003(studybot: StudyBot, http: DiscordHTTP) -> None:
    with pytest.raises(discord.NotFound) as caught:
        await channel(studybot, 4_040).send("x")
    assert caught.value.code == rules.UNKNOWN_CHANNEL


async def test_a_channel_the_bot_cannot_see_is_403_missing_access(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    http.channels[STUDY].denied.add("view_channel")
    with pytest.raises(discord.Forbidden) as caught:
        await channel(studybot).send("x")
    assert caught.value.code == rules.MISSING_ACCESS


@pytest.mark.parametrize(
    ("denied", "with_files"),
    [("send_messages", False), ("attach_files", True)],
)
async def test_a_missing_permission_is_403_50013(
    studybot: StudyBot, http: DiscordHTTP, denied: str, with_files: bool
) -> None:
    http.channels[STUDY].denied.add(denied)
    with pytest.raises(discord.Forbidden) as caught:
        await channel(studybot).send("x", files=files(1) if with_files else None)
    assert caught.value.code == rules.MISSING_PERMISSIONS and http.posted == []


async def test_a_category_takes_no_messages(studybot: StudyBot, http: DiscordHTTP) -> None:
    http.channel(2_003, "folder", 4)
    with pytest.raises(discord.HTTPException) as caught:
        await channel(studybot, 2_003).send("x")
    assert caught.value.status == 400


async def test_a_direct_message_to_someone_closed_is_403_50007(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    http.closed_dms.add(BOB.id)
    dm = await studybot.create_dm(discord.Object(id=BOB.id))
    with pytest.raises(discord.Forbidden) as caught:
        await dm.send("x")
    assert caught.value.code == rules.CANNOT_DM


@pytest.mark.parametrize("mode", ["503", "connection"])
async def test_an_outage_fails_every_request(
    studybot: StudyBot, http: DiscordHTTP, mode: str
) -> None:
    with http.down(mode), pytest.raises((discord.DiscordServerError, aiohttp.ClientError)):
        await channel(studybot).send("x")
    await channel(studybot).send("x")
    assert len(http.posted) == 1


async def test_a_thread_starts_from_a_message_once_and_has_its_id(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    post = await channel(studybot).send("review")
    data = await studybot.http.start_thread_with_message(
        STUDY, post.id, name="2026-12-07 리뷰", auto_archive_duration=1440
    )
    assert int(data["id"]) == post.id and data["type"] == PUBLIC_THREAD
    await channel(studybot, post.id).send("in the thread")
    assert [p.content for p in http.in_channel(post.id)] == ["in the thread"]
    with pytest.raises(discord.HTTPException) as caught:
        await studybot.http.start_thread_with_message(
            STUDY, post.id, name="again", auto_archive_duration=1440
        )
    assert caught.value.code == THREAD_ALREADY_CREATED


async def test_a_thread_in_an_announcement_channel_is_an_announcement_thread(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    post = await channel(studybot, NEWSROOM).send("review")
    data = await studybot.http.start_thread_with_message(
        NEWSROOM, post.id, name="review", auto_archive_duration=1440
    )
    assert data["type"] == NEWS_THREAD


async def test_thread_rules_refuse_a_bad_start(studybot: StudyBot, http: DiscordHTTP) -> None:
    post = await channel(studybot).send("review")
    start = studybot.http.start_thread_with_message
    with pytest.raises(discord.HTTPException) as long_name:
        await start(STUDY, post.id, name="x" * 101, auto_archive_duration=1440)
    with pytest.raises(discord.NotFound) as no_message:
        await start(STUDY, 123, name="review", auto_archive_duration=1440)
    http.channels[STUDY].denied.add("create_public_threads")
    with pytest.raises(discord.Forbidden) as denied:
        await start(STUDY, post.id, name="review", auto_archive_duration=1440)
    assert long_name.value.code == rules.INVALID_FORM_BODY
    assert no_message.value.code == rules.UNKNOWN_MESSAGE
    assert denied.value.code == rules.MISSING_PERMISSIONS


async def test_posting_in_a_thread_needs_send_messages_in_threads(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    post = await channel(studybot).send("review")
    await studybot.http.start_thread_with_message(
        STUDY, post.id, name="review", auto_archive_duration=1440
    )
    http.channels[STUDY].denied.add("send_messages_in_threads")
    with pytest.raises(discord.Forbidden) as caught:
        await channel(studybot, post.id).send("x")
    assert caught.value.code == rules.MISSING_PERMISSIONS


async def test_any_other_route_fails_the_test(studybot: StudyBot, http: DiscordHTTP) -> None:
    with pytest.raises(AssertionError, match="does not serve"):
        await studybot.http.get_user(BOB.id)


async def test_the_cache_mirrors_the_model(studybot: StudyBot, http: DiscordHTTP) -> None:
    http.channels[STUDY].denied.update({"attach_files", "create_public_threads"})
    guild = http.cache(studybot)
    cached = guild.get_channel(STUDY)
    assert guild.me is not None and cached is not None
    permissions = cached.permissions_for(guild.me)
    assert permissions.send_messages and not permissions.attach_files
    assert not permissions.create_public_threads
    assert isinstance(guild.get_channel(NEWSROOM), discord.TextChannel)
    assert isinstance(http.channels[STUDY], FakeChannel)
