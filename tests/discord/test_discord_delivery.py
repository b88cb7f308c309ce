"""Outbox delivery: scheduled posts reach the group's channel (or a thread) exactly once."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.delivery import DiscordChannelSender, OutboxLoop, deliver_pending
from bot.adapters.discord.rendering import Outgoing
from bot.clock import ManualClock
from bot.core import Core
from bot.replies import Reply
from bot.services import outbox
from bot.services.groups import find_group_by_guild, get_or_create_group
from bot.services.users import ensure_user
from db.models import OutboxMessage
from tests.discord.fakes import (
    ALICE,
    BOB,
    GUILD_ID,
    SEOUL,
    Channel,
    Gateway,
    message_payload,
    user_payload,
)

STUDY = Channel(2_001, "study")


class StubSender:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[int, str | None, Outgoing]] = []
        self.direct: list[tuple[int, Outgoing]] = []
        self.error = error
        self.arrived = asyncio.Event()

    async def send(self, channel_id: int, thread: str | None, message: Outgoing) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((channel_id, thread, message))
        self.arrived.set()

    async def send_direct(self, user_id: int, message: Outgoing) -> None:
        if self.error is not None:
            raise self.error
        self.direct.append((user_id, message))
        self.arrived.set()


def rows(core: Core) -> list[OutboxMessage]:
    with core.services.transaction() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


async def review_posted(gateway: Gateway, core: Core, clock: ManualClock) -> None:
    """Alice is a member; the 09:30 review duty has run and left its post in the outbox."""
    await gateway.command("member join", ALICE)
    start = clock.now()
    clock.set(datetime(2026, 12, 7, 9, 31, tzinfo=SEOUL))
    assert await core.run(core.run_due_sync, start, clock.now())


async def test_review_post_is_delivered_once(
    gateway: Gateway, core: Core, clock: ManualClock
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await review_posted(gateway, core, clock)
    sender = StubSender()

    assert await deliver_pending(core, sender) == (1, 0)
    ((channel_id, thread, message),) = sender.sent
    assert (channel_id, thread) == (STUDY.id, None)
    assert not message.ephemeral
    assert message.content.startswith("12월 7일(월) 코드 리뷰 시간입니다! 오늘의 진행자는 <@101>")
    assert message.send_kwargs()["allowed_mentions"].everyone is False
    (row,) = rows(core)
    assert row.sent_at is not None and row.attempts == 1

    assert await deliver_pending(core, sender) == (0, 0)
    assert len(sender.sent) == 1


async def test_group_without_channel_is_marked_sent_with_a_warning(
    gateway: Gateway, core: Core, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await review_posted(gateway, core, clock)
    sender = StubSender()
    with caplog.at_level(logging.WARNING):
        assert await deliver_pending(core, sender) == (1, 0)
    assert sender.sent == []
    (row,) = rows(core)
    assert row.sent_at is not None
    assert any("no channel" in r.getMessage() for r in caplog.records)


async def test_failed_delivery_is_released_for_a_retry(
    gateway: Gateway, core: Core, clock: ManualClock
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await review_posted(gateway, core, clock)

    assert await deliver_pending(core, StubSender(RuntimeError("missing access"))) == (1, 1)
    (row,) = rows(core)
    assert row.sent_at is None and row.claimed_at is None
    assert row.last_error == "RuntimeError: missing access"

    retry = StubSender()
    assert await deliver_pending(core, retry) == (1, 0)
    assert len(retry.sent) == 1 and rows(core)[0].attempts == 2


async def test_poke_delivers_without_waiting_for_the_poll(
    gateway: Gateway, core: Core, clock: ManualClock
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    sender = StubSender()
    loop = OutboxLoop(core, sender, poll_seconds=3600)

    async def ready() -> None:
        return None

    task = asyncio.create_task(loop.run(ready))
    try:
        await review_posted(gateway, core, clock)
        await loop.poke()  # what the scheduler does after each duty run
        await asyncio.wait_for(sender.arrived.wait(), timeout=5)
    finally:
        task.cancel()
    assert len(sender.sent) == 1


def test_scheduler_pokes_the_outbox_after_each_run(studybot: StudyBot) -> None:
    assert studybot.scheduler.after_run == studybot.outbox.poke


# --- the real sender, over discord.py objects with a recording HTTP client ----------


class ChannelHTTP:
    """The three HTTP calls a channel post may need, recorded."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, dict[str, Any]]] = []
        self.threads_created: list[dict[str, Any]] = []

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        self.messages.append((int(channel_id), params.payload))
        return message_payload(params.payload.get("content", ""), [])

    async def start_thread_without_message(self, channel_id: int, **kwargs: Any) -> Any:
        self.threads_created.append({"channel_id": int(channel_id), **kwargs})
        return thread_payload(7_000, kwargs["name"])

    async def get_public_archived_threads(self, channel_id: int, **kwargs: Any) -> Any:
        return {"threads": [], "members": [], "has_more": False}


def thread_payload(thread_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "guild_id": str(GUILD_ID),
        "parent_id": str(STUDY.id),
        "owner_id": "3000",
        "name": name,
        "type": 11,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-12-07T00:00:00+00:00",
            "locked": False,
        },
    }


@pytest.fixture
def channel_http(studybot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> ChannelHTTP:
    http = ChannelHTTP()
    for name in ("send_message", "start_thread_without_message", "get_public_archived_threads"):
        monkeypatch.setattr(studybot.http, name, getattr(http, name))
    state = studybot._connection
    guild = state._get_or_create_unavailable_guild(GUILD_ID)
    state._add_guild(guild)
    channel = discord.TextChannel(
        state=state,
        guild=guild,
        data={  # type: ignore[typeddict-item]
            "id": str(STUDY.id),
            "type": 0,
            "name": STUDY.name,
            "guild_id": str(GUILD_ID),
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        },
    )
    guild._add_channel(channel)
    return http


def outgoing(content: str) -> Outgoing:
    return Outgoing(content=content, ephemeral=False)


async def test_discord_sender_posts_in_the_channel(
    studybot: StudyBot, channel_http: ChannelHTTP
) -> None:
    await DiscordChannelSender(studybot).send(STUDY.id, None, outgoing("<@101> 안녕하세요"))
    ((channel_id, payload),) = channel_http.messages
    assert channel_id == STUDY.id
    assert payload["content"] == "<@101> 안녕하세요"
    assert payload["allowed_mentions"]["parse"] == ["users"]
    assert channel_http.threads_created == []


async def test_discord_sender_creates_the_named_thread(
    studybot: StudyBot, channel_http: ChannelHTTP
) -> None:
    await DiscordChannelSender(studybot).send(STUDY.id, "2026-12-08 review", outgoing("hi"))
    (created,) = channel_http.threads_created
    assert created["channel_id"] == STUDY.id and created["name"] == "2026-12-08 review"
    ((channel_id, _),) = channel_http.messages
    assert channel_id == 7_000  # posted inside the new thread


async def test_discord_sender_reuses_an_open_thread(
    studybot: StudyBot, channel_http: ChannelHTTP
) -> None:
    state = studybot._connection
    guild = state._get_guild(GUILD_ID)
    assert guild is not None
    guild._add_thread(
        discord.Thread(guild=guild, state=state, data=thread_payload(7_001, "review"))  # type: ignore[arg-type]
    )
    await DiscordChannelSender(studybot).send(STUDY.id, "review", outgoing("hi"))
    assert channel_http.threads_created == []
    assert [channel for channel, _ in channel_http.messages] == [7_001]


async def test_thread_named_in_a_reply_reaches_the_sender(gateway: Gateway, core: Core) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    with core.services.transaction() as session:
        group = find_group_by_guild(session, GUILD_ID)
        assert group is not None
        reply = Reply.public("duty.review_hint")
        reply.thread = "2026-12-07 review"
        outbox.enqueue(session, group, reply, core.services.clock.now() + timedelta(seconds=1))
    sender = StubSender()
    await deliver_pending(core, sender)
    assert [(c, t) for c, t, _ in sender.sent] == [(STUDY.id, "2026-12-07 review")]


# --- rows for one member: direct messages ---------------------------------------------

PEOPLE = {ALICE.id: ALICE, BOB.id: BOB}
DM_CHANNELS = 80_000  # + the user's id: their DM channel with the bot


class DirectHTTP(ChannelHTTP):
    """Channel posts as above, plus a direct message's calls: look the user up, open the
    DM channel, post in it. ``closed`` users do not take direct messages."""

    def __init__(self, closed: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.closed = set(closed)
        self.opened: list[int] = []

    async def get_user(self, user_id: int) -> dict[str, Any]:
        return user_payload(PEOPLE[int(user_id)])

    async def start_private_message(self, user_id: int) -> dict[str, Any]:
        self.opened.append(int(user_id))
        return {
            "id": str(DM_CHANNELS + int(user_id)),
            "type": 1,
            "last_message_id": None,
            "recipients": [user_payload(PEOPLE[int(user_id)])],
        }

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        if int(channel_id) - DM_CHANNELS in self.closed:
            response = SimpleNamespace(status=403, reason="Forbidden")
            error = {"code": 50007, "message": "Cannot send messages to this user"}
            raise discord.Forbidden(response, error)  # type: ignore[arg-type]
        return await super().send_message(channel_id, params=params)


def direct_http(
    studybot: StudyBot,
    channel_http: ChannelHTTP,
    monkeypatch: pytest.MonkeyPatch,
    closed: tuple[int, ...] = (),
) -> DirectHTTP:
    """``channel_http``'s set-up (the study channel in the cache), with direct messages."""
    http = DirectHTTP(closed)
    names = ("send_message", "start_thread_without_message", "get_public_archived_threads")
    for name in (*names, "get_user", "start_private_message"):
        monkeypatch.setattr(studybot.http, name, getattr(http, name))
    return http


@pytest.fixture
def private_row(core: Core) -> None:
    """One row in the outbox for Bob alone (the group has no channel)."""
    with core.services.transaction() as session:
        now = core.services.clock.now()
        group = get_or_create_group(
            session, guild_id=GUILD_ID, now=now, settings=core.services.settings
        )
        ensure_user(session, BOB.id, BOB.name, now)
        outbox.enqueue(
            session,
            group,
            Reply.private("progress.reminder_dm", day=now.date()),
            now,
            user_id=BOB.id,
        )


@pytest.mark.usefixtures("private_row")
async def test_a_private_row_goes_to_the_member_not_the_channel(core: Core) -> None:
    sender = StubSender()
    assert await deliver_pending(core, sender) == (1, 0)
    assert sender.sent == []
    ((user_id, message),) = sender.direct
    assert user_id == BOB.id and message.content
    (row,) = rows(core)
    assert row.sent_at is not None


@pytest.mark.usefixtures("private_row")
async def test_discord_sender_sends_a_direct_message(
    core: Core, studybot: StudyBot, channel_http: ChannelHTTP, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = direct_http(studybot, channel_http, monkeypatch)
    assert await deliver_pending(core, DiscordChannelSender(studybot)) == (1, 0)
    assert http.opened == [BOB.id]
    ((channel_id, payload),) = http.messages
    assert channel_id == DM_CHANNELS + BOB.id  # the DM channel, not the group's
    assert payload["content"] and payload["allowed_mentions"]["parse"] == ["users"]
    assert rows(core)[0].sent_at is not None


@pytest.mark.usefixtures("private_row")
async def test_closed_direct_messages_are_logged_and_marked_failed(
    core: Core,
    studybot: StudyBot,
    channel_http: ChannelHTTP,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    direct_http(studybot, channel_http, monkeypatch, closed=(BOB.id,))
    with caplog.at_level(logging.WARNING):
        assert await deliver_pending(core, DiscordChannelSender(studybot)) == (1, 1)
    (row,) = rows(core)
    assert row.sent_at is None and row.claimed_at is None
    assert row.last_error is not None and row.last_error.startswith("Forbidden:")
    assert "Cannot send messages to this user" in row.last_error
    (warning,) = [r for r in caplog.records if "direct messages" in r.getMessage()]
    assert str(BOB.id) in warning.getMessage() and warning.exc_info is None


async def test_progress_reminder_names_some_in_the_channel_and_messages_others(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    studybot: StudyBot,
    channel_http: ChannelHTTP,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Alice asked for her reminder by DM, Bob keeps it in the channel: at 21:00 Bob is
    named in the study channel and Alice gets a direct message, each exactly once."""
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await gateway.command("competition set", ALICE, admin=True, name="모두의 말뭉치")
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    (switched,) = await gateway.command("progress reminder", ALICE, mode="dm")
    assert switched.ephemeral
    clock.set(datetime(2026, 12, 7, 21, 1, tzinfo=SEOUL))
    before = clock.now() - timedelta(minutes=2)  # only the 21:00 duty falls due
    assert await core.run(core.run_due_sync, before, clock.now())
    http = direct_http(studybot, channel_http, monkeypatch)

    sender = DiscordChannelSender(studybot)
    assert await deliver_pending(core, sender) == (2, 0)
    assert await deliver_pending(core, sender) == (0, 0)

    assert http.opened == [ALICE.id]
    by_channel = {channel: payload["content"] for channel, payload in http.messages}
    assert set(by_channel) == {STUDY.id, DM_CHANNELS + ALICE.id}
    assert "<@102>" in by_channel[STUDY.id] and "<@101>" not in by_channel[STUDY.id]
