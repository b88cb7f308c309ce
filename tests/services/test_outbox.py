"""The outbox: claimed rows are not handed out twice; failures are retried; sent is final."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import select

from bot.core import Core
from bot.replies import Action, Mention, Reply, Text, Visibility
from bot.services import outbox
from db.models import OutboxMessage
from tests.conftest import GUILD_ID, Harness


def post(harness: Harness, n: int) -> list[int]:
    """Enqueue ``n`` public posts; returns their ids."""
    ids = []
    with harness.group() as (session, group):
        for i in range(n):
            row = outbox.enqueue(
                session, group, Reply.public("member.list", count=i), harness.clock.now()
            )
            ids.append(row.id)
    return ids


def claim(core: Core, limit: int = 20) -> list[int]:
    return [p.id for p in core.claim_outbox_sync(limit)]


def test_claim_hands_each_row_out_once(harness: Harness) -> None:
    ids = post(harness, 3)
    core = harness.core
    assert claim(core, 2) == ids[:2]
    assert claim(core, 2) == ids[2:]
    assert claim(core) == []


def test_pending_carries_where_and_what_to_post(harness: Harness) -> None:
    reply = Reply.public(
        "mod.swap_requested",
        a=Mention(1234567890123456789, "alice"),
        a_day=date(2026, 12, 7),
        b=Mention(2, "bob"),
        b_day=date(2026, 12, 9),
        id=1,
    )
    reply.lines.append(Text("calendar.holiday", {"name": "성탄절"}))
    reply.actions.append(Action("swap_accept", 1, "mod.button_accept", "/mod accept id:1"))
    reply.thread = "2026-12-07 review"
    with harness.group() as (session, group):
        outbox.enqueue(session, group, reply, harness.clock.now())
    (pending,) = harness.core.claim_outbox_sync()
    assert (pending.group_id, pending.guild_id, pending.channel_id, pending.locale) == (
        harness.group_id,
        GUILD_ID,
        42,
        "ko",
    )
    assert pending.reply == reply
    assert pending.reply.visibility is Visibility.PUBLIC


def test_failed_rows_come_back_after_their_backoff_and_sent_rows_never(
    harness: Harness,
) -> None:
    first, second = post(harness, 2)
    core = harness.core
    assert claim(core) == [first, second]
    core.mark_failed_sync(first, "HTTP 503")
    core.mark_sent_sync(second, 7_777)
    assert claim(core) == []  # not before its next attempt
    harness.clock.advance(outbox.FIRST_DELAY)
    assert claim(core) == [first]
    with harness.transaction() as session:
        row = session.get(OutboxMessage, first)
        assert row is not None
        assert (row.attempts, row.last_error, row.sent_at) == (2, "HTTP 503", None)
        sent = session.get(OutboxMessage, second)
        assert sent is not None and sent.sent_at == harness.clock.now() - outbox.FIRST_DELAY
        assert sent.discord_message_id == 7_777
    harness.clock.advance(outbox.CLAIM_TIMEOUT + timedelta(minutes=1))
    assert claim(core) == [first]  # an unconfirmed claim is retaken after the timeout
    core.mark_sent_sync(first)
    harness.clock.advance(timedelta(days=1))
    assert claim(core) == []


def test_unconfirmed_claim_is_kept_until_the_timeout(harness: Harness) -> None:
    (only,) = post(harness, 1)
    assert claim(harness.core) == [only]
    harness.clock.advance(outbox.CLAIM_TIMEOUT - timedelta(seconds=1))
    assert claim(harness.core) == []
    harness.clock.advance(timedelta(seconds=2))
    assert claim(harness.core) == [only]


def test_gives_up_after_a_day_of_attempts(harness: Harness) -> None:
    (only,) = post(harness, 1)
    start = harness.clock.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        assert claim(harness.core) == [only]
        harness.core.mark_failed_sync(only, "down")
        with harness.transaction() as session:
            row = session.get(OutboxMessage, only)
            assert row is not None
            if row.next_attempt_at is not None:
                harness.clock.set(row.next_attempt_at)
    assert claim(harness.core) == []
    with harness.transaction() as session:
        row = session.get(OutboxMessage, only)
        assert row is not None and row.attempts == outbox.MAX_ATTEMPTS and row.sent_at is None
        assert (row.failure, row.failed_at) == (outbox.GAVE_UP, harness.clock.now())
    assert timedelta(hours=23) < harness.clock.now() - start <= outbox.GIVE_UP_AFTER


def test_concurrent_claimers_never_get_the_same_row(harness: Harness) -> None:
    ids = post(harness, 60)
    workers = 3
    start = threading.Barrier(workers)
    got: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def deliver(slot: int) -> None:
        try:
            start.wait(timeout=10)
            while batch := claim(harness.core, 4):
                got[slot].extend(batch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    everything = [row_id for batch in got for row_id in batch]
    assert sorted(everything) == ids  # all delivered, none twice
    with harness.transaction() as session:
        attempts = session.scalars(select(OutboxMessage.attempts)).all()
    assert set(attempts) == {1}
