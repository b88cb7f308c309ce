"""`/schedule set channel:` takes only a channel the bot can post in: a text or announcement
channel where it may view, send, embed links, attach files, start public threads and post
in them; anything else is refused privately, naming what is missing, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.channels import missing_from
from bot.clock import ManualClock
from bot.core import Core
from db.models import Group
from tests.discord.fakes import ALICE, GUILD_ID, Channel, Gateway, Sent
from tests.discord.http_double import (
    CATEGORY,
    FORUM,
    NEWS,
    PUBLIC_THREAD,
    STAGE,
    VOICE,
    DiscordHTTP,
)

pytestmark = pytest.mark.sqlite_only

STUDY = Channel(2_001, "study")


@pytest.fixture
def http(studybot: StudyBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> DiscordHTTP:
    double = DiscordHTTP(clock)
    double.channel(STUDY.id, STUDY.name)
    double.install(monkeypatch, studybot)
    return double


def channel_of(core: Core) -> tuple[int | None, int | None]:
    with core.services.transaction() as session:
        group = session.query(Group).filter_by(guild_id=GUILD_ID).one_or_none()
        return (None, None) if group is None else (group.channel_id, group.channel_set_by)


async def set_channel(gateway: Gateway, channel: Channel, kind: int = 0, **kw: Any) -> Sent:
    data = gateway.command_data("schedule set", {"channel": channel})
    resolved = data["resolved"]["channels"][str(channel.id)]
    resolved["type"] = kind
    if kind == PUBLIC_THREAD:
        resolved.update(parent_id=str(STUDY.id), owner_id="1", member_count=1, message_count=0)
        resolved["thread_metadata"] = {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-12-07T00:00:00+00:00",
            "locked": False,
        }
    (answer,) = await gateway.send_command(data, ALICE, admin=True, **kw)
    return answer


async def test_a_text_channel_with_every_permission_is_taken(
    gateway: Gateway, core: Core, studybot: StudyBot, http: DiscordHTTP
) -> None:
    http.cache(studybot)
    answer = await set_channel(gateway, STUDY)
    assert answer.content.startswith("설정을 바꿨습니다.\n채널: study")
    assert channel_of(core) == (STUDY.id, ALICE.id)  # she hears about delivery problems


async def test_an_announcement_channel_is_taken(
    gateway: Gateway, core: Core, studybot: StudyBot, http: DiscordHTTP
) -> None:
    http.channel(2_005, "공지", NEWS)
    http.cache(studybot)
    answer = await set_channel(gateway, Channel(2_005, "공지"), NEWS)
    assert "채널: 공지" in answer.content and channel_of(core)[0] == 2_005


async def test_missing_permissions_are_named_as_the_korean_client_shows_them(
    gateway: Gateway, core: Core, studybot: StudyBot, http: DiscordHTTP
) -> None:
    http.channels[STUDY.id].denied.update(
        {"embed_links", "attach_files", "create_public_threads", "send_messages_in_threads"}
    )
    http.cache(studybot)
    refused = await set_channel(gateway, STUDY)
    assert refused.ephemeral
    assert refused.content.startswith(
        "#study에 글을 올리려면 봇에게 다음 권한이 필요합니다: "
        "링크 첨부, 파일 첨부, 공개 스레드 만들기, 스레드에서 메시지 보내기."
    )
    assert channel_of(core)[0] is None  # nothing changed


@pytest.mark.parametrize(
    ("denied", "named"),
    [
        ({"view_channel", "send_messages"}, "채널 보기."),  # nothing else counts without it
        ({"send_messages", "attach_files"}, "메시지 보내기."),
    ],
)
async def test_what_is_named_is_what_to_grant(
    gateway: Gateway, studybot: StudyBot, http: DiscordHTTP, denied: set[str], named: str
) -> None:
    http.channels[STUDY.id].denied.update(denied)
    http.cache(studybot)
    refused = await set_channel(gateway, STUDY)
    assert f"필요합니다: {named}" in refused.content


async def test_in_english_the_permissions_have_their_english_names(
    gateway: Gateway, studybot: StudyBot, http: DiscordHTTP
) -> None:
    await set_channel(gateway, STUDY)  # no cache yet: only the kind is checked
    (switched,) = await gateway.command("schedule set", ALICE, admin=True, locale="en")
    assert switched.content.startswith("Settings changed.")
    http.channels[STUDY.id].denied.add("send_messages_in_threads")
    http.cache(studybot)
    refused = await set_channel(gateway, STUDY)
    assert "the bot needs these permissions: Send Messages in Threads." in refused.content


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        (VOICE, "음성 채널"),
        (STAGE, "스테이지 채널"),
        (FORUM, "포럼 채널"),
        (CATEGORY, "카테고리"),
        (PUBLIC_THREAD, "스레드"),
    ],
)
async def test_channels_without_posts_and_threads_are_refused(
    gateway: Gateway, core: Core, studybot: StudyBot, http: DiscordHTTP, kind: int, named: str
) -> None:
    http.cache(studybot)
    refused = await set_channel(gateway, Channel(2_009, "lounge"), kind)
    assert refused.ephemeral
    assert refused.content.startswith(
        f"#lounge에는 스터디봇이 글을 올릴 수 없습니다 (종류: {named}). "
    )
    assert channel_of(core)[0] is None


def _channel_options(option: dict[str, Any]) -> list[dict[str, Any]]:
    found = [option] if option.get("type") == 7 else []
    for child in option.get("options") or []:
        found += _channel_options(child)
    return found


def test_the_option_offers_only_text_and_announcement_channels(studybot: StudyBot) -> None:
    payloads = [command.to_dict(studybot.tree) for command in studybot.tree.get_commands()]
    options = [o for payload in payloads for o in _channel_options(payload)]
    assert options and all(o["channel_types"] == [0, 5] for o in options)


def test_missing_from_keeps_discords_order() -> None:
    import discord

    assert missing_from(discord.Permissions.none()) == ["view_channel"]
    everything = discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        attach_files=True,
        create_public_threads=True,
        send_messages_in_threads=True,
    )
    assert missing_from(everything) == []
