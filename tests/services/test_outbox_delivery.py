"""Delivery state of the outbox: backoff and giving up, lanes kept in order, a thread's
posts after their parent, final failures reported to the group's admins (and cleared),
operators' listing and retry, and when the duties' posts expire."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.errors import Conflict, NotFound
from bot.i18n import LOCALES, catalogue, render
from bot.replies import Reply
from bot.services import outbox
from db.models import Group, OutboxMessage, User
from tests.conftest import SEOUL, Harness


def enqueue(harness: Harness, key: str = "duty.review_hint", **kw: object) -> int:
    with harness.group() as (session, group):
        return outbox.enqueue(session, group, Reply.public(key), harness.clock.now(), **kw).id  # type: ignore[arg-type]


def review_with_thread(harness: Harness) -> tuple[int, int]:
    """The review post and its thread's first post (parent, child)."""
    with harness.group() as (session, found):
        now = harness.clock.now()
        parent = outbox.enqueue(session, found, Reply.public("duty.review"), now)
        child = outbox.enqueue(
            session, found, Reply.public("problem.thread_open"), now, parent=parent
        )
        return parent.id, child.id


def claimed(harness: Harness, limit: int = 20) -> list[int]:
    return [p.id for p in harness.core.claim_outbox_sync(limit)]


def row(harness: Harness, row_id: int) -> OutboxMessage:
    with harness.transaction() as session:
        found = session.get(OutboxMessage, row_id)
        assert found is not None
        session.expunge(found)
        return found


def group(harness: Harness) -> Group:
    with harness.group() as (session, found):
        session.expunge(found)
        return found


# --- backoff ---------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_backoff_doubles_from_5_seconds_to_10_minutes_for_about_a_day() -> None:
    waits = [outbox.backoff(n).total_seconds() for n in range(1, 11)]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]
    total = sum((outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)), timedelta(0))
    assert outbox.MAX_ATTEMPTS == 150
    assert timedelta(hours=23, minutes=50) < total <= outbox.GIVE_UP_AFTER
    assert outbox.backoff(10_000) == outbox.MAX_DELAY


@pytest.mark.sqlite_only
def test_nonces_fit_discords_limit() -> None:
    assert outbox.nonce_of(1) == "sb1"
    assert len(outbox.nonce_of(2**63 - 1)) <= outbox.MAX_NONCE


def test_a_rate_limit_waits_longer_than_the_backoff(harness: Harness) -> None:
    only = enqueue(harness)
    assert claimed(harness) == [only]
    harness.core.mark_failed_sync(only, "429", 90.0)
    assert row(harness, only).next_attempt_at == harness.clock.now() + timedelta(seconds=90)


# --- order: lanes and threads ---------------------------------------------------------


def test_a_row_waiting_for_its_retry_holds_back_its_lane_only(harness: Harness) -> None:
    harness.join("alice")
    alice = harness.actor("alice").user_id
    first, second = enqueue(harness), enqueue(harness)
    private = enqueue(harness, "progress.reminder_dm", user_id=alice)
    assert claimed(harness, 1) == [first]
    harness.core.mark_failed_sync(first, "503")
    assert claimed(harness) == [private]  # the channel's second post waits behind the first
    harness.clock.advance(outbox.FIRST_DELAY)
    assert claimed(harness) == [first, second]


def test_released_rows_come_back_without_an_attempt_counted(harness: Harness) -> None:
    first, second = enqueue(harness), enqueue(harness)
    assert claimed(harness) == [first, second]
    harness.core.release_outbox_sync([second])
    assert row(harness, second).attempts == 0
    assert claimed(harness) == [second]


def test_a_threads_post_follows_its_parent(harness: Harness) -> None:
    parent_id, child_id = review_with_thread(harness)
    assert claimed(harness, 1) == [parent_id]  # the child cannot go before the parent
    assert claimed(harness) == []
    harness.core.mark_sent_sync(parent_id, 5_000)
    harness.core.mark_thread_sync(parent_id, 5_000)
    (pending,) = harness.core.claim_outbox_sync()
    assert (pending.id, pending.parent_id, pending.parent_message_id, pending.thread_id) == (
        child_id,
        parent_id,
        5_000,
        5_000,
    )


def test_a_parent_and_its_child_go_in_one_batch_in_order(harness: Harness) -> None:
    with harness.group() as (session, found):
        now = harness.clock.now()
        parent = outbox.enqueue(session, found, Reply.public("duty.review"), now)
        outbox.enqueue(session, found, Reply.public("problem.thread_open"), now, parent=parent)
        outbox.enqueue(session, found, Reply.public("progress.digest"), now)
    batch = harness.core.claim_outbox_sync()
    assert [p.reply.key for p in batch] == ["duty.review", "problem.thread_open", "progress.digest"]


def test_when_the_parent_fails_for_good_its_thread_posts_fail_with_it(harness: Harness) -> None:
    parent_id, child_id = review_with_thread(harness)
    claimed(harness)
    harness.core.fail_outbox_sync(parent_id, outbox.REJECTED, "400")
    assert row(harness, child_id).failure == outbox.PARENT_FAILED
    assert claimed(harness) == []


def test_an_expired_row_is_handed_out_to_be_dropped_even_while_it_waits(
    harness: Harness,
) -> None:
    start = harness.clock.now()
    only = enqueue(harness, expires_at=start + timedelta(seconds=30))
    for wait in (5, 10, 20):  # tried at 0, 5 and 15 s; the next try would be at 35 s
        assert claimed(harness) == [only]
        harness.core.mark_failed_sync(only, "503")
        assert row(harness, only).next_attempt_at == harness.clock.now() + timedelta(seconds=wait)
        if wait < 20:
            harness.clock.advance(timedelta(seconds=wait))
    harness.clock.set(start + timedelta(seconds=30))
    (pending,) = harness.core.claim_outbox_sync()
    assert pending.expired(harness.clock.now())


# --- final failures: the admins are told ------------------------------------------------


def test_a_final_failure_is_reported_to_whoever_set_the_channel(harness: Harness) -> None:
    admin = harness.actor("root", platform_admin=True)
    harness.invoke(admin, "schedule set", channel=_channel())
    post = enqueue(harness, "duty.review")
    claimed(harness)
    harness.core.fail_outbox_sync(post, outbox.MISSING_PERMISSIONS, "403", ("send_messages",))
    problem = group(harness).delivery_problem
    assert problem is not None
    assert (problem["failure"], problem["missing"], problem["post"]) == (
        outbox.MISSING_PERMISSIONS,
        ["send_messages"],
        "duty.review",
    )
    (note,) = [p for p in harness.core.claim_outbox_sync() if p.user_id is not None]
    assert note.user_id == admin.user_id and note.reply.key == "delivery.alert"
    assert render(note.reply, "en").splitlines() == [
        "studybot could not post in #study2.",
        "Not delivered: the code review call (Mon 2026-12-07 08:00)",
        "Why: the bot lacks permissions in the channel",
        "Missing permissions: Send Messages",
        "Fix the channel's permissions in the server settings, or set the channel again "
        "with `/schedule set channel:…`. The problem is cleared once a post gets through.",
    ]


def _channel() -> object:
    from bot.commands import ChannelRef

    return ChannelRef(77, "study2")


def test_the_same_problem_again_is_not_told_twice_but_a_new_one_is(harness: Harness) -> None:
    harness.invoke(harness.actor("root", platform_admin=True), "schedule set", channel=_channel())
    first, second, third = enqueue(harness), enqueue(harness), enqueue(harness)
    claimed(harness)
    harness.core.fail_outbox_sync(first, outbox.MISSING_ACCESS, None, ("view_channel",))
    harness.core.fail_outbox_sync(second, outbox.MISSING_ACCESS, None, ("view_channel",))
    harness.core.fail_outbox_sync(third, outbox.UNKNOWN_CHANNEL)
    with harness.transaction() as session:
        notes = session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.user_id.is_not(None))
        ).all()
    assert len(notes) == 2


def test_without_a_setter_the_owner_is_told_and_becomes_known(harness: Harness) -> None:
    post = enqueue(harness)
    claimed(harness)
    owner = outbox.Admin(555_000_000_000_000_001, "owner")
    harness.core.fail_outbox_sync(post, outbox.UNKNOWN_CHANNEL, "404", (), owner)
    with harness.transaction() as session:
        assert session.get(User, owner.user_id) is not None
        (note,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id == owner.user_id)
        ).all()
        assert note.body["key"] == "delivery.alert"


def test_nobody_to_tell_keeps_the_problem_for_schedule_show(harness: Harness) -> None:
    post = enqueue(harness, "progress.reminder")
    claimed(harness)
    harness.core.fail_outbox_sync(post, outbox.NO_CHANNEL)
    with harness.transaction() as session:
        assert session.scalars(select(OutboxMessage.id)).all() == [post]
    shown = harness.invoke("bob", "schedule show")
    assert render(shown, "ko").splitlines()[-3:] == [
        "⚠ 글 전달 문제",
        "올리지 못한 글: 진행 기록 알림 (12월 7일(월) 08:00)",
        "이유: 글을 올릴 채널이 정해지지 않았습니다",
    ]


def test_dropped_and_private_failures_are_not_reported(harness: Harness) -> None:
    harness.join("alice")
    late = enqueue(harness)
    private = enqueue(harness, "progress.reminder_dm", user_id=harness.actor("alice").user_id)
    claimed(harness)
    harness.core.fail_outbox_sync(late, outbox.EXPIRED)
    harness.core.fail_outbox_sync(private, outbox.DM_CLOSED)
    assert group(harness).delivery_problem is None


def test_a_delivered_post_or_a_new_channel_clears_the_problem(harness: Harness) -> None:
    first, second = enqueue(harness), enqueue(harness)
    claimed(harness, 1)
    harness.core.fail_outbox_sync(first, outbox.MISSING_ACCESS)
    assert group(harness).delivery_problem is not None
    claimed(harness)
    harness.core.mark_sent_sync(second, 1)
    assert group(harness).delivery_problem is None

    third = enqueue(harness)
    claimed(harness)
    harness.core.fail_outbox_sync(third, outbox.UNKNOWN_CHANNEL)
    admin = harness.actor("root", platform_admin=True)
    harness.invoke(admin, "schedule set", channel=_channel())
    found = group(harness)
    assert found.delivery_problem is None and found.channel_set_by == admin.user_id
    assert "글 전달 문제" not in render(harness.invoke("bob", "schedule show"), "ko")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("locale", LOCALES)
def test_every_post_a_duty_makes_has_a_name(locale: str) -> None:
    names = catalogue(locale)
    for key in (
        "duty.review",
        "duty.review_nobody",
        "problem.thread_open",
        "progress.digest",
        "progress.digest_span",
        "problem.reminder",
        "problem.reminder_nobody",
        "problem.announce",
        "problem.auto_picked",
        "problem.no_unused",
        "progress.reminder",
        "progress.reminder_dm",
        "delivery.alert",
    ):
        assert f"delivery.post.{key}" in names
    for failure in outbox.FAILURES:
        assert failure in names
    for permission in outbox.PERMISSIONS:
        assert f"permission.{permission}" in names


# --- operators: list and retry ---------------------------------------------------------


def test_listing_shows_what_waits_failed_or_went_out_lately(harness: Harness) -> None:
    old, waiting, failed, recent = (enqueue(harness) for _ in range(4))
    claimed(harness)
    harness.core.mark_sent_sync(old, 11)
    harness.clock.advance(outbox.RECENT + timedelta(minutes=1))
    harness.core.fail_outbox_sync(failed, outbox.REJECTED, "400 Bad Request")
    harness.core.mark_sent_sync(recent, 12)
    harness.core.release_outbox_sync([waiting])
    everything = harness.core.transact_sync(outbox.listing)
    assert [(r.id, r.state) for r in everything] == [
        (waiting, "pending"),
        (failed, "failed"),
        (recent, "sent"),
    ]
    (only,) = harness.core.transact_sync(outbox.listing, True)
    assert only.as_json()["failure"] == outbox.REJECTED
    assert only.as_json()["last_error"] == "400 Bad Request"


def test_retry_queues_given_up_rows_at_once_with_a_fresh_day(harness: Harness) -> None:
    first, second = enqueue(harness), enqueue(harness)
    claimed(harness)
    harness.core.fail_outbox_sync(first, outbox.MISSING_ACCESS)
    harness.core.fail_outbox_sync(second, outbox.UNKNOWN_CHANNEL)
    done = harness.core.transact_sync(outbox.retry, first)
    assert (done.ids, done.expired) == ([first], [])
    again = row(harness, first)
    assert (again.failed_at, again.failure, again.attempts) == (None, None, 0)
    assert again.next_attempt_at == harness.clock.now()
    assert claimed(harness) == [first]
    assert harness.core.transact_sync(outbox.retry).ids == [second]


def test_retry_leaves_rows_past_their_moment_and_refuses_sent_or_unknown_ones(
    harness: Harness,
) -> None:
    late = enqueue(harness, expires_at=harness.clock.now() + timedelta(minutes=1))
    sent = enqueue(harness)
    claimed(harness)
    harness.core.mark_sent_sync(sent, 1)
    harness.clock.advance(timedelta(minutes=2))
    harness.core.fail_outbox_sync(late, outbox.EXPIRED)
    done = harness.core.transact_sync(outbox.retry)
    assert (done.ids, done.expired) == ([], [late])
    with pytest.raises(Conflict) as expired:
        harness.core.transact_sync(outbox.retry, late)
    with pytest.raises(Conflict) as delivered:
        harness.core.transact_sync(outbox.retry, sent)
    with pytest.raises(NotFound):
        harness.core.transact_sync(outbox.retry, 999)
    assert (expired.value.key, delivered.value.key) == (
        "outbox.retry_expired",
        "outbox.already_sent",
    )


def test_retrying_a_threads_post_retries_its_parent_first(harness: Harness) -> None:
    parent_id, child_id = review_with_thread(harness)
    claimed(harness)
    harness.core.fail_outbox_sync(parent_id, outbox.MISSING_ACCESS)
    harness.core.transact_sync(outbox.retry, child_id)
    assert row(harness, parent_id).failed_at is None
    assert claimed(harness) == [parent_id, child_id]


# --- when the duties' posts expire ------------------------------------------------------


def expiries(harness: Harness) -> dict[str, datetime | None]:
    with harness.transaction() as session:
        return {
            r.body["key"]: r.expires_at
            for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        }


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL)


def test_reminder_expires_at_the_deadline_and_the_announcement_at_review_time(
    harness: Harness,
) -> None:
    harness.join("alice")
    harness.at("2026-12-07 18:00")
    harness.core.run_due_sync(local("2026-12-07 17:59"), harness.clock.now())
    harness.at("2026-12-07 19:00")
    harness.core.run_due_sync(local("2026-12-07 18:01"), harness.clock.now())
    found = expiries(harness)
    assert found["problem.reminder"] == local("2026-12-07 19:00")
    assert found["problem.auto_picked"] == local("2026-12-08 09:30")


def test_review_thread_digest_and_progress_reminders_expire_at_the_end_of_the_day(
    harness: Harness,
) -> None:
    admin = harness.actor("root", platform_admin=True)
    harness.invoke(admin, "competition set", name="모두의 말뭉치")
    harness.join("alice", "bob")
    harness.invoke("alice", "progress reminder", mode="dm")
    harness.invoke("alice", "problem pick", problem="12899")
    harness.at("2026-12-07 21:00")
    harness.core.run_due_sync(local("2026-12-07 20:59"), harness.clock.now())
    harness.at("2026-12-08 09:30")
    harness.core.run_due_sync(local("2026-12-08 09:29"), harness.clock.now())
    found = expiries(harness)
    assert found["progress.reminder"] == found["progress.reminder_dm"] == local("2026-12-08 00:00")
    midnight = local("2026-12-09 00:00")
    assert found["duty.review"] == found["problem.thread_open"] == midnight
    assert found["progress.digest"] == midnight
