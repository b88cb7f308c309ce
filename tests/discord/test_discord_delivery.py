"""Outbox delivery: scheduled posts reach the group's channel (or the thread started from
one), or a member's direct messages, exactly once; the loop and the scheduler drive it.

The real sender runs over discord.py with the strict HTTP double (``http_double``);
``StubSender`` stands in where only the delivery loop's bookkeeping matters.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.delivery import DiscordChannelSender, OutboxLoop, deliver_pending
from bot.adapters.discord.rendering import Outgoing
from bot.clock import ManualClock
from bot.core import Core
from bot.replies import Reply
from bot.services import outbox
from bot.services.groups import get_or_create_group
from bot.services.users import ensure_user
from db.models import OutboxMessage
from tests.discord.fakes import ALICE, BOB, GUILD_ID, SEOUL, Channel, Gateway
from tests.discord.http_double import DiscordHTTP

STUDY = Channel(2_001, "study")


class StubSender:
    """Records what the loop asks for; ``error`` makes every send fail."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[int, Outgoing, str]] = []
        self.direct: list[tuple[int, Outgoing, str]] = []
        self.threads: list[tuple[int, int, str]] = []
        self.error = error
        self.arrived = asyncio.Event()
        self._ids = itertools.count(50_000)

    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        if self.error is not None:
            raise self.error
        self.sent.append((channel_id, message, nonce))
        self.arrived.set()
        return next(self._ids)

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        self.threads.append((channel_id, message_id, name))
        return message_id

    async def send_direct(self, user_id: int, message: Outgoing, nonce: str) -> int:
        if self.error is not None:
            raise self.error
        self.direct.append((user_id, message, nonce))
        self.arrived.set()
        return next(self._ids)

    def missing_permissions(self, guild_id: int, channel_id: int) -> list[str]:
        return []

    def owner(self, guild_id: int) -> outbox.Admin | None:
        return None


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


async def test_review_post_is_delivered_once_with_its_nonce(
    gateway: Gateway, core: Core, clock: ManualClock
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await review_posted(gateway, core, clock)
    sender = StubSender()

    assert await deliver_pending(core, sender) == (1, 0)
    ((channel_id, message, nonce),) = sender.sent
    (row,) = rows(core)
    assert (channel_id, nonce) == (STUDY.id, f"sb{row.id}")
    assert not message.ephemeral
    assert message.content.startswith("12월 7일(월) 코드 리뷰 시간입니다! 오늘의 진행자는 <@101>")
    assert message.send_kwargs()["allowed_mentions"].everyone is False
    assert row.sent_at is not None and row.attempts == 1 and row.discord_message_id == 50_000

    assert await deliver_pending(core, sender) == (0, 0)
    assert len(sender.sent) == 1


async def test_group_without_channel_gives_the_post_up_with_a_warning(
    gateway: Gateway, core: Core, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await review_posted(gateway, core, clock)
    sender = StubSender()
    with caplog.at_level(logging.WARNING):
        assert await deliver_pending(core, sender) == (1, 0)
    assert sender.sent == []
    (row,) = rows(core)
    assert row.sent_at is None and row.failure == outbox.NO_CHANNEL
    assert any("no channel" in r.getMessage() for r in caplog.records)


async def test_a_failed_delivery_waits_for_its_backoff(
    gateway: Gateway, core: Core, clock: ManualClock
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await review_posted(gateway, core, clock)

    assert await deliver_pending(core, StubSender(RuntimeError("network down"))) == (1, 1)
    (row,) = rows(core)
    assert row.sent_at is None and row.claimed_at is None and row.failed_at is None
    assert row.last_error == "RuntimeError: network down"
    assert row.next_attempt_at == clock.now() + outbox.FIRST_DELAY

    retry = StubSender()
    assert await deliver_pending(core, retry) == (0, 0)  # not before its time
    clock.advance(outbox.FIRST_DELAY)
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


# --- the real sender, over discord.py and the HTTP double ------------------------------


@pytest.fixture
def http(studybot: StudyBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> DiscordHTTP:
    double = DiscordHTTP(clock)
    double.channel(STUDY.id, STUDY.name)
    for person in (ALICE, BOB):
        double.person(person)
    double.install(monkeypatch, studybot)
    double.cache(studybot)
    return double


async def test_discord_sender_posts_by_id_with_the_nonce_enforced(
    studybot: StudyBot, http: DiscordHTTP
) -> None:
    sender = DiscordChannelSender(studybot)
    message_id = await sender.send(STUDY.id, Outgoing("<@101> 안녕하세요", False), "sb1")
    (posted,) = http.in_channel(STUDY.id)
    assert posted.id == message_id
    assert posted.body["nonce"] == "sb1" and posted.body["enforce_nonce"] is True
    assert posted.body["allowed_mentions"]["parse"] == ["users"]
    assert http.requests == ["POST /channels/{channel_id}/messages"]  # no lookup first


@pytest.fixture
def private_row(core: Core) -> int:
    """One row in the outbox for Bob alone (the group has no channel)."""
    with core.services.transaction() as session:
        now = core.services.clock.now()
        group = get_or_create_group(
            session, guild_id=GUILD_ID, now=now, settings=core.services.settings
        )
        ensure_user(session, BOB.id, BOB.name, now)
        reply = Reply.private("progress.reminder_dm", day=now.date())
        return outbox.enqueue(session, group, reply, now, user_id=BOB.id).id


async def test_a_private_row_goes_to_the_member_not_the_channel(
    core: Core, private_row: int
) -> None:
    sender = StubSender()
    assert await deliver_pending(core, sender) == (1, 0)
    assert sender.sent == []
    ((user_id, message, nonce),) = sender.direct
    assert user_id == BOB.id and message.content and nonce == f"sb{private_row}"
    (row,) = rows(core)
    assert row.sent_at is not None


async def test_discord_sender_sends_a_direct_message(
    core: Core, studybot: StudyBot, http: DiscordHTTP, private_row: int
) -> None:
    assert await deliver_pending(core, DiscordChannelSender(studybot)) == (1, 0)
    (posted,) = http.dms_to(BOB)
    assert posted.content and posted.nonce == f"sb{private_row}"
    assert posted.body["allowed_mentions"]["parse"] == ["users"]
    assert rows(core)[0].discord_message_id == posted.id
    assert http.in_channel(STUDY.id) == []


async def test_closed_direct_messages_are_given_up_at_once_without_a_traceback(
    core: Core,
    clock: ManualClock,
    studybot: StudyBot,
    http: DiscordHTTP,
    private_row: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http.closed_dms.add(BOB.id)
    with caplog.at_level(logging.WARNING):
        assert await deliver_pending(core, DiscordChannelSender(studybot)) == (1, 1)
    (row,) = rows(core)
    assert row.sent_at is None and row.failure == outbox.DM_CLOSED and row.attempts == 1
    assert row.last_error is not None and "Cannot send messages to this user" in row.last_error
    (warning,) = [r for r in caplog.records if "for good" in r.getMessage()]
    assert warning.exc_info is None
    with core.services.transaction() as session:  # a member's choice: no admin is told
        assert session.scalars(select(OutboxMessage.id)).all() == [private_row]
    clock.advance(timedelta(hours=1))
    assert await deliver_pending(core, DiscordChannelSender(studybot)) == (0, 0)


async def test_progress_reminder_names_some_in_the_channel_and_messages_others(
    gateway: Gateway, core: Core, clock: ManualClock, studybot: StudyBot, http: DiscordHTTP
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

    sender = DiscordChannelSender(studybot)
    assert await deliver_pending(core, sender) == (2, 0)
    assert await deliver_pending(core, sender) == (0, 0)

    (in_channel,) = http.in_channel(STUDY.id)
    assert "<@102>" in in_channel.content and "<@101>" not in in_channel.content
    (direct,) = http.dms_to(ALICE)
    assert "<@" not in direct.content
