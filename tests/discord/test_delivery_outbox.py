"""Scheduled posts against Discord as it really behaves (the strict HTTP double): they
survive an outage and arrive once, stop at once when the bot lacks a permission (and the
admins are told), are dropped when their moment has passed, are not doubled by a crash
between sending and recording, and the review thread starts from the review post."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.delivery import DiscordChannelSender, deliver_pending
from bot.clock import ManualClock
from bot.core import Core
from bot.replies import Reply
from bot.services import outbox
from bot.services.groups import find_group_by_guild
from db.models import Group, OutboxMessage
from tests.discord.fakes import ALICE, BOB, GUILD_ID, SEOUL, Channel, Gateway
from tests.discord.http_double import NEWS, NEWS_THREAD, OWNER, PUBLIC_THREAD, DiscordHTTP

STUDY = Channel(2_001, "study")
TUESDAY_0931 = datetime(2026, 12, 8, 9, 31, tzinfo=SEOUL)
POLL = timedelta(seconds=5)  # STUDYBOT_OUTBOX_POLL_SECONDS


@pytest.fixture
def http(studybot: StudyBot, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> DiscordHTTP:
    double = DiscordHTTP(clock)
    double.channel(STUDY.id, STUDY.name)
    for person in (ALICE, BOB, OWNER):
        double.person(person)
    double.install(monkeypatch, studybot)
    double.cache(studybot)
    return double


@pytest.fixture
def sender(studybot: StudyBot) -> DiscordChannelSender:
    return DiscordChannelSender(studybot)


def rows(core: Core) -> list[OutboxMessage]:
    with core.services.transaction() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def group_row(core: Core) -> Group:
    with core.services.transaction() as session:
        group = find_group_by_guild(session, GUILD_ID)
        assert group is not None
        session.expunge(group)
        return group


async def review_due(gateway: Gateway, core: Core, clock: ManualClock) -> None:
    """Alice set the channel, joined and picked Tuesday's problem; Tuesday's 09:30 review
    ran: its post and the thread's first post wait in the outbox."""
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await gateway.command("member join", ALICE)
    await gateway.command("problem pick", ALICE, problem="12899")
    clock.set(TUESDAY_0931)
    ran = await core.run(core.run_due_sync, clock.now() - timedelta(minutes=2), clock.now())
    assert [d.duty for d in ran] == ["review_post"]
    review, thread = rows(core)
    assert thread.parent_id == review.id
    assert review.expires_at == datetime(2026, 12, 9, 0, 0, tzinfo=SEOUL)


async def poll_until(
    core: Core, sender: DiscordChannelSender, clock: ManualClock, until: datetime
) -> None:
    """The outbox loop polling every 5 s until ``until`` (the clock moves, nothing sleeps)."""
    while clock.now() < until:
        await deliver_pending(core, sender)
        clock.advance(POLL)


async def killed_before(core: Core, sender: DiscordChannelSender, step: str) -> None:
    """A delivery pass that dies (the process is killed) when it reaches ``step``."""
    with (
        mock.patch.object(Core, step, side_effect=SystemExit("killed")),
        pytest.raises(SystemExit),
    ):
        await deliver_pending(core, sender)


# --- the thread from the post ------------------------------------------------------------


async def test_the_review_thread_starts_from_the_review_post(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await review_due(gateway, core, clock)
    assert await deliver_pending(core, sender) == (2, 0)

    (post,) = http.in_channel(STUDY.id)
    assert post.content.startswith("12월 8일(화) 코드 리뷰 시간입니다!")
    thread = http.channels[post.id]  # started from the post: it has the post's id
    assert (thread.type, thread.name, thread.parent_id) == (
        PUBLIC_THREAD,
        "2026-12-08 리뷰",
        STUDY.id,
    )
    (opening,) = http.in_channel(thread.id)
    assert "[12899] 124 나라의 숫자" in opening.content
    review, first = rows(core)
    assert (review.discord_message_id, review.thread_id) == (post.id, thread.id)
    assert first.discord_message_id == opening.id and first.sent_at is not None
    assert (post.nonce, opening.nonce) == (f"sb{review.id}", f"sb{first.id}")
    assert "GET /channels/{channel_id}" not in http.requests  # no lookup by name


async def test_in_an_announcement_channel_the_thread_is_an_announcement_thread(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    http.channels[STUDY.id].type = NEWS
    await review_due(gateway, core, clock)
    assert await deliver_pending(core, sender) == (2, 0)
    (post,) = http.in_channel(STUDY.id)
    assert http.channels[post.id].type == NEWS_THREAD
    assert len(http.in_channel(post.id)) == 1


async def test_a_thread_started_before_a_crash_is_used_not_started_again(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await review_due(gateway, core, clock)
    await killed_before(core, sender, "mark_thread_sync")  # the thread exists, unrecorded
    clock.advance(outbox.CLAIM_TIMEOUT + timedelta(seconds=1))
    assert await deliver_pending(core, sender) == (1, 0)
    (post,) = http.in_channel(STUDY.id)
    assert list(http.threads) == [post.id] and len(http.in_channel(post.id)) == 1
    assert rows(core)[0].thread_id == post.id


# --- exactly once ------------------------------------------------------------------------


async def test_a_crash_between_send_and_mark_sent_does_not_post_twice(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await review_due(gateway, core, clock)
    await killed_before(core, sender, "mark_sent_sync")  # Discord has the post, unrecorded
    assert rows(core)[0].sent_at is None and len(http.posted) == 1

    assert await deliver_pending(core, sender) == (0, 0)  # the claim holds for a while
    clock.advance(outbox.CLAIM_TIMEOUT + timedelta(seconds=1))
    assert await deliver_pending(core, sender) == (2, 0)

    (post,) = http.in_channel(STUDY.id)  # the same nonce: Discord kept the one message
    review, first = rows(core)
    assert review.discord_message_id == post.id and review.attempts == 2
    assert len(http.in_channel(post.id)) == 1 and first.sent_at is not None
    assert timedelta(minutes=5) > outbox.CLAIM_TIMEOUT  # within Discord's nonce window


# --- outages, rate limits, giving up ----------------------------------------------------


async def test_a_post_survives_a_30_minute_outage_and_arrives_once(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await review_due(gateway, core, clock)
    start = clock.now()
    with http.down("503"):
        await poll_until(core, sender, clock, start + timedelta(minutes=15))
        review = rows(core)[0]
        assert review.last_error is not None and "503" in review.last_error
    with http.down("connection"):
        await poll_until(core, sender, clock, start + timedelta(minutes=30))
    assert http.posted == []
    # tried at 0, 5, 15, 35, 75, 155, 315, 635 and 1235 s: the backoff, not every poll
    assert http.failed_requests == 9
    review, first = rows(core)
    assert review.failed_at is None and review.attempts == 9 and first.attempts == 0
    assert review.next_attempt_at == start + timedelta(seconds=1835)

    await poll_until(core, sender, clock, start + timedelta(minutes=32))
    (post,) = http.in_channel(STUDY.id)
    assert len(http.in_channel(post.id)) == 1
    assert all(r.sent_at is not None for r in rows(core))
    assert group_row(core).delivery_problem is None  # nothing for the admins to do


async def test_a_rate_limit_is_waited_out_as_discord_asks(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await review_due(gateway, core, clock)
    http.rate_limit(42.0)
    assert await deliver_pending(core, sender) == (2, 1)
    review, first = rows(core)
    assert review.next_attempt_at == clock.now() + timedelta(seconds=42)
    assert first.attempts == 0  # held back behind the review post, not tried
    clock.advance(timedelta(seconds=41))
    assert await deliver_pending(core, sender) == (0, 0)
    clock.advance(timedelta(seconds=1))
    assert await deliver_pending(core, sender) == (2, 0)


async def test_after_a_day_of_failures_the_post_is_given_up_and_reported(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    with core.services.transaction() as session:
        group = find_group_by_guild(session, GUILD_ID)
        assert group is not None
        row_id = outbox.enqueue(session, group, Reply.public("duty.review_hint"), clock.now()).id
    start = clock.now()
    with http.down():
        while (row := rows(core)[0]).failed_at is None:
            if row.next_attempt_at is not None:
                clock.set(row.next_attempt_at)
            await deliver_pending(core, sender)
    assert row.id == row_id and row.failure == outbox.GAVE_UP
    assert row.attempts == outbox.MAX_ATTEMPTS == http.failed_requests
    assert timedelta(hours=23) < clock.now() - start <= timedelta(hours=24)
    assert group_row(core).delivery_problem is not None


# --- permanent errors: stop at once, tell the admins -------------------------------------


async def test_a_missing_permission_stops_the_post_at_once_and_the_admins_are_told(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await review_due(gateway, core, clock)
    http.channels[STUDY.id].denied.add("send_messages")  # someone changed the channel
    http.cache(studybot_of(sender))
    assert await deliver_pending(core, sender) == (2, 1)
    review, first, alert = rows(core)
    assert (review.failure, review.attempts) == (outbox.MISSING_PERMISSIONS, 1)
    assert first.failure == outbox.PARENT_FAILED
    assert alert.user_id == ALICE.id  # she set the channel

    clock.advance(timedelta(hours=1))
    assert await deliver_pending(core, sender) == (1, 0)  # only the note to Alice
    assert http.failed_requests == 0 and http.in_channel(STUDY.id) == []
    (note,) = http.dms_to(ALICE)
    assert note.content.splitlines() == [
        "스터디봇이 #study 채널에 글을 올리지 못했습니다.",
        "올리지 못한 글: 코드 리뷰 안내 (12월 8일(화) 09:31)",
        "이유: 봇에게 채널 권한이 부족합니다",
        "없는 권한: 메시지 보내기",
        "서버 설정에서 채널 권한을 고치거나, `/관리 일정 설정 채널:…`로 채널을 다시 정해 주세요. "
        "채널에 글이 다시 올라가면 이 문제 표시는 사라집니다.",
    ]

    (shown,) = await gateway.command("schedule show", BOB)
    assert shown.ephemeral
    assert shown.content.splitlines()[-4:] == [
        "⚠ 글 전달 문제",
        "올리지 못한 글: 코드 리뷰 안내 (12월 8일(화) 09:31)",
        "이유: 봇에게 채널 권한이 부족합니다",
        "없는 권한: 메시지 보내기",
    ]
    # a second post failing the same way does not message Alice again
    with core.services.transaction() as session:
        group = find_group_by_guild(session, GUILD_ID)
        assert group is not None
        outbox.enqueue(session, group, Reply.public("duty.review_hint"), clock.now())
    assert await deliver_pending(core, sender) == (1, 1)
    assert len(rows(core)) == 4

    # fixed: the next post gets through and the problem is gone
    http.channels[STUDY.id].denied.clear()
    with core.services.transaction() as session:
        group = find_group_by_guild(session, GUILD_ID)
        assert group is not None
        outbox.enqueue(session, group, Reply.public("duty.review_hint"), clock.now())
    assert await deliver_pending(core, sender) == (1, 0)
    assert group_row(core).delivery_problem is None
    (shown,) = await gateway.command("schedule show", BOB)
    assert "글 전달 문제" not in shown.content


def studybot_of(sender: DiscordChannelSender) -> StudyBot:
    client = sender.client
    assert isinstance(client, StudyBot)
    return client


@pytest.mark.parametrize(
    ("denied", "failure", "missing"),
    [
        ({"view_channel"}, outbox.MISSING_ACCESS, ["view_channel"]),
        ({"create_public_threads"}, outbox.MISSING_PERMISSIONS, ["create_public_threads"]),
        (
            {"send_messages_in_threads", "attach_files"},
            outbox.MISSING_PERMISSIONS,
            ["attach_files", "send_messages_in_threads"],
        ),
    ],
)
async def test_the_report_names_exactly_what_is_missing(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
    denied: set[str],
    failure: str,
    missing: list[str],
) -> None:
    await review_due(gateway, core, clock)
    http.channels[STUDY.id].denied.update(denied)
    http.cache(studybot_of(sender))
    await deliver_pending(core, sender)
    problem = group_row(core).delivery_problem
    assert problem is not None
    assert (problem["failure"], problem["missing"]) == (failure, missing)


async def test_an_unknown_channel_is_reported_to_the_server_owner_when_nobody_set_it(
    core: Core, clock: ManualClock, http: DiscordHTTP, sender: DiscordChannelSender
) -> None:
    group_id = core.group_for_guild_sync(GUILD_ID, channel_id=4_040, channel_name="gone")
    with core.services.transaction() as session:
        group = session.get(Group, group_id)
        assert group is not None and group.channel_set_by is None
        outbox.enqueue(session, group, Reply.public("duty.review_hint"), clock.now())
    assert await deliver_pending(core, sender) == (1, 1)
    assert await deliver_pending(core, sender) == (1, 0)
    post, note = rows(core)
    assert post.failure == outbox.UNKNOWN_CHANNEL and note.user_id == OWNER.id
    (told,) = http.dms_to(OWNER)
    assert "이유: 채널을 찾을 수 없습니다" in told.content and "없는 권한" not in told.content


# --- a moment that has passed ------------------------------------------------------------


async def test_a_reminder_held_up_past_its_deadline_is_dropped_not_sent_late(
    gateway: Gateway,
    core: Core,
    clock: ManualClock,
    http: DiscordHTTP,
    sender: DiscordChannelSender,
) -> None:
    await gateway.command("schedule set", ALICE, admin=True, channel=STUDY)
    await gateway.command("member join", ALICE)
    clock.set(datetime(2026, 12, 7, 18, 1, tzinfo=SEOUL))  # nothing picked: 18:00 reminder
    ran = await core.run(core.run_due_sync, clock.now() - timedelta(minutes=2), clock.now())
    assert [d.duty for d in ran] == ["problem_reminder"]
    deadline = datetime(2026, 12, 7, 19, 0, tzinfo=SEOUL)
    (reminder,) = rows(core)
    assert reminder.expires_at == deadline

    with http.down():
        await poll_until(core, sender, clock, deadline)
    assert http.failed_requests > 0
    await deliver_pending(core, sender)
    (reminder,) = rows(core)
    assert reminder.failure == outbox.EXPIRED and reminder.sent_at is None
    assert http.posted == []
    assert group_row(core).delivery_problem is None  # dropped, not an admin's problem
