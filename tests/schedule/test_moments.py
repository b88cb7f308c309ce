"""The scheduler keeps one job per firing moment (duty, timezone, local time), however
many groups are due then; a moment's job runs the duty for all of them in batches, and a
group whose times change moves between moments. Through the core, on the injected clock."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from bot.schedule import batch, duties
from bot.schedule.duties import DUTIES
from bot.schedule.scheduler import DutyScheduler, moment_job_id
from bot.services.duty_runs import REVIEW_DUTY
from db.models import DutyRun, Group, OutboxMessage
from tests.conftest import Harness

OTHER_GUILDS = [777_000_000_000_000_000 + i for i in range(1, 8)]


def job_ids(scheduler: DutyScheduler) -> set[str]:
    return {job.id for job in scheduler.scheduler.get_jobs()}


def add_groups(harness: Harness, count: int) -> list[int]:
    return [
        harness.core.group_for_guild_sync(guild, channel_id=guild % 1000, channel_name="study")
        for guild in OTHER_GUILDS[:count]
    ]


def set_group(harness: Harness, group_id: int, **values: object) -> None:
    with harness.transaction() as session:
        group = session.get(Group, group_id)
        assert group is not None
        for key, value in values.items():
            setattr(group, key, value)


def review_posts_by_group(harness: Harness) -> dict[int, int]:
    with harness.transaction() as session:
        rows = session.execute(select(OutboxMessage.group_id, OutboxMessage.body))
        counts: dict[int, int] = {}
        for group_id, body in rows:
            if body["key"] in ("duty.review", "duty.review_nobody"):
                counts[group_id] = counts.get(group_id, 0) + 1
        return counts


def test_groups_due_at_the_same_moment_share_one_job(harness: Harness) -> None:
    add_groups(harness, 5)
    scheduler = DutyScheduler(harness.core)
    assert scheduler.build_jobs() == len(DUTIES)  # six groups, one job per duty
    assert len(job_ids(scheduler)) == len(DUTIES)
    review = moment_job_id((REVIEW_DUTY, "Asia/Seoul", time(9, 30)))
    assert scheduler.job_of(harness.group_id, REVIEW_DUTY) == review
    assert len(scheduler.moments[(REVIEW_DUTY, "Asia/Seoul", time(9, 30))]) == 6

    (tokyo,) = add_groups(harness, 6)[-1:]
    set_group(harness, tokyo, timezone="Asia/Tokyo")
    assert scheduler.build_jobs() == 2 * len(DUTIES)  # a second zone: its own moments


def test_a_changed_review_time_moves_the_group_to_its_new_moment(harness: Harness) -> None:
    (other,) = add_groups(harness, 1)
    scheduler = DutyScheduler(harness.core)
    scheduler.build_jobs()
    old = scheduler.job_of(harness.group_id, REVIEW_DUTY)
    admin = harness.grant_admin("admin")
    reply = harness.invoke(admin, "schedule set", review_time="10:00")
    assert not reply.key.startswith("error."), reply.key
    scheduler.refresh_group(harness.group_id)

    moved = scheduler.job_of(harness.group_id, REVIEW_DUTY)
    assert moved == moment_job_id((REVIEW_DUTY, "Asia/Seoul", time(10, 0)))
    assert {old, moved} <= job_ids(scheduler)  # the other group still fires at 09:30
    assert scheduler.moments[(REVIEW_DUTY, "Asia/Seoul", time(9, 30))] == {other}
    assert scheduler.moments[(REVIEW_DUTY, "Asia/Seoul", time(10, 0))] == {harness.group_id}

    set_group(harness, other, review_time=time(10, 0))
    scheduler.refresh_group(other)
    assert old not in job_ids(scheduler)  # nobody is due at 09:30 any more: no job
    assert (REVIEW_DUTY, "Asia/Seoul", time(9, 30)) not in scheduler.moments
    assert len(job_ids(scheduler)) == len(DUTIES)


async def test_a_moment_runs_every_group_due_then_in_batches_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "BATCH", 3)
    ids = [harness.group_id, *add_groups(harness, 6)]
    woken: list[int] = []

    async def after_run() -> None:
        woken.append(len(review_posts_by_group(harness)))

    scheduler = DutyScheduler(harness.core, after_run=after_run)
    scheduler.build_jobs()
    harness.at("2026-12-07 09:30")
    await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time(9, 30))
    assert review_posts_by_group(harness) == dict.fromkeys(ids, 1)
    assert woken == [3, 6, 7]  # the outbox is woken after each batch of three

    await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time(9, 30))  # fired twice
    assert review_posts_by_group(harness) == dict.fromkeys(ids, 1)


async def test_a_group_whose_time_changed_unnoticed_is_left_to_its_new_time(
    harness: Harness,
) -> None:
    (other,) = add_groups(harness, 1)
    scheduler = DutyScheduler(harness.core)
    scheduler.build_jobs()
    set_group(harness, other, review_time=time(11, 0))  # changed by another process
    harness.at("2026-12-07 09:30")
    await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time(9, 30))
    assert review_posts_by_group(harness) == {harness.group_id: 1}


async def test_a_failing_group_costs_only_itself_and_keeps_no_claim(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [harness.group_id, *add_groups(harness, 3)]
    broken = ids[2]
    real = duties.review_posts

    def review_posts(session, group, day, now, facts):  # type: ignore[no-untyped-def]
        if group.id == broken:
            raise RuntimeError("broken group")
        return real(session, group, day, now, facts)

    monkeypatch.setattr(duties, "review_posts", review_posts)
    scheduler = DutyScheduler(harness.core)
    scheduler.build_jobs()
    harness.at("2026-12-07 09:30")
    await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time(9, 30))
    assert review_posts_by_group(harness) == {i: 1 for i in ids if i != broken}
    with harness.transaction() as session:
        claimed = set(session.scalars(select(DutyRun.group_id)))
        assert claimed == set(ids) - {broken}

    monkeypatch.undo()  # mended: the next firing posts for it alone
    await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time(9, 30))
    assert review_posts_by_group(harness) == dict.fromkeys(ids, 1)
    with harness.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DutyRun)) == len(ids)


def test_a_batch_says_what_each_group_alone_would_say(harness: Harness) -> None:
    """Two groups with the same members and history: one runs its reviews alone, the
    other in a batch; the posts (moderators, order, text) are the same."""
    from datetime import date

    from bot.commands import Call
    from bot.schedule.runner import run_batch, run_duty

    (twin,) = add_groups(harness, 1)
    names = ["alice", "bob", "carol", "dave"]
    harness.join(*names)
    for name in names:
        reply = harness.core.invoke_sync(("member", "join"), Call(twin, harness.actor(name)), {})
        assert reply.key == "member.joined"
    services = harness.core.services
    days = [date(2026, 12, d) for d in (7, 8, 9, 10, 11, 14)]
    for index, day in enumerate(days):
        harness.at(f"{day.isoformat()} 09:30")
        if day == date(2026, 12, 9):  # a turn fixed by /mod today, its review never run
            for group_id in (harness.group_id, twin):
                call = Call(group_id, harness.actor("alice"))
                assert harness.core.invoke_sync(("mod", "today"), call, {}).key
            continue
        if day == date(2026, 12, 10):
            for group_id in (harness.group_id, twin):
                call = Call(group_id, harness.actor("bob"))
                options = {"from": "12-10", "to": "12-11"}
                assert harness.core.invoke_sync(("away",), call, options).key == "away.added"
        assert run_duty(services, harness.group_id, REVIEW_DUTY, day), index
        assert run_batch(services, REVIEW_DUTY, day, [twin]) == [twin]

    with harness.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.group_id, OutboxMessage.body).order_by(OutboxMessage.id)
        ).all()
    alone = [body for group_id, body in rows if group_id == harness.group_id]
    batched = [body for group_id, body in rows if group_id == twin]
    assert len(alone) == len(days) - 1
    assert batched == alone


def test_a_firing_starts_with_small_batches_so_the_first_posts_go_out_at_once() -> None:
    sizes = [len(chunk) for chunk in batch.firing_chunks(list(range(1234)))]
    assert sizes == [10, 100, 500, 500, 124]
    assert [len(chunk) for chunk in batch.firing_chunks(list(range(7)))] == [7]
