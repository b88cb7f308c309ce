"""A server that removes the bot pauses its group: no duty falls due, runs at a job's
moment or is caught up at start-up, and the group has no jobs; the bot's return resumes
it. Through the core and the scheduler, with the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.schedule.duties import DUTIES
from bot.schedule.planner import due_between
from bot.schedule.scheduler import DutyScheduler
from bot.services.duty_runs import DEADLINE_DUTY, REVIEW_DUTY
from db.models import Group, OutboxMessage
from tests.conftest import GUILD_ID, Harness

OTHER_GUILD = 777_000_000_000_000_001


def review_posts(harness: Harness) -> int:
    with harness.transaction() as session:
        keys = session.scalars(select(OutboxMessage.body)).all()
        return sum(1 for body in keys if body["key"] == "duty.review")


def paused_at(harness: Harness) -> datetime | None:
    with harness.group() as (_session, group):
        return group.paused_at


def job_ids(scheduler: DutyScheduler) -> set[str]:
    return {job.id for job in scheduler.scheduler.get_jobs()}


def test_pause_and_resume_by_guild(harness: Harness) -> None:
    harness.at("2026-12-07 08:15")
    assert harness.core.pause_guild_sync(GUILD_ID) == harness.group_id
    assert paused_at(harness) == harness.clock.now()
    harness.at("2026-12-07 08:20")
    assert harness.core.pause_guild_sync(GUILD_ID) == harness.group_id  # stays paused since
    assert paused_at(harness) == datetime(2026, 12, 6, 23, 15, tzinfo=UTC)
    assert harness.core.resume_guild_sync(GUILD_ID) == harness.group_id
    assert paused_at(harness) is None
    assert harness.core.pause_guild_sync(OTHER_GUILD) is None  # a server without a group
    assert harness.core.resume_guild_sync(OTHER_GUILD) is None
    with harness.transaction() as session:
        assert session.scalar(select(Group).where(Group.guild_id == OTHER_GUILD)) is None


def test_a_paused_group_has_nothing_due_and_catches_nothing_up(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.core.pause_guild_sync(GUILD_ID)
    harness.at("2026-12-07 10:00")  # the 09:30 review passed while paused
    with harness.transaction() as session:
        start = harness.clock.now() - timedelta(days=2)
        assert due_between(session, start, harness.clock.now()) == []
    assert harness.core.reconcile_sync() == []
    assert (
        harness.core.step_through_sync(harness.clock, harness.clock.now() + timedelta(days=1)) == []
    )
    assert review_posts(harness) == 0

    harness.core.resume_guild_sync(GUILD_ID)
    harness.at("2026-12-08 10:00")  # back: Tuesday's review is caught up as usual
    caught = [(d.duty, d.local_date.isoformat()) for d in harness.core.reconcile_sync()]
    assert (REVIEW_DUTY, "2026-12-08") in caught
    assert review_posts(harness) == 1


async def test_scheduler_drops_and_restores_a_paused_groups_jobs(harness: Harness) -> None:
    other = harness.core.group_for_guild_sync(OTHER_GUILD, channel_id=7, channel_name="other")
    scheduler = DutyScheduler(harness.core)
    harness.core.pause_guild_sync(GUILD_ID)
    scheduler.build_jobs()
    assert job_ids(scheduler) == {scheduler.job_of(other, duty) for duty in DUTIES}
    assert scheduler.job_of(harness.group_id, REVIEW_DUTY) is None

    harness.core.resume_guild_sync(GUILD_ID)
    scheduler.refresh_group(harness.group_id)
    assert scheduler.job_of(harness.group_id, REVIEW_DUTY) in job_ids(scheduler)

    harness.core.pause_guild_sync(GUILD_ID)
    scheduler.refresh_group(harness.group_id)
    assert job_ids(scheduler) == {scheduler.job_of(other, duty) for duty in DUTIES}
    assert scheduler.job_of(harness.group_id, REVIEW_DUTY) is None


async def test_a_job_firing_for_a_paused_group_posts_nothing(harness: Harness) -> None:
    harness.join("alice")
    scheduler = DutyScheduler(harness.core)
    harness.at("2026-12-07 09:30")
    harness.core.pause_guild_sync(GUILD_ID)
    await scheduler.fire(harness.group_id, REVIEW_DUTY)  # a job left over in memory
    await scheduler.fire(harness.group_id, DEADLINE_DUTY)
    assert review_posts(harness) == 0

    harness.core.resume_guild_sync(GUILD_ID)
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert review_posts(harness) == 1


def test_matching_the_servers_at_start_up(harness: Harness) -> None:
    gone = harness.core.group_for_guild_sync(OTHER_GUILD, channel_id=7, channel_name="other")
    console = harness.core.group_for_guild_sync(0, channel_id=1, channel_name="study")
    harness.core.pause_guild_sync(GUILD_ID)  # removed earlier, and added back while away

    paused, resumed = harness.core.match_guilds_sync([GUILD_ID])
    assert (paused, resumed) == ([gone], [harness.group_id])
    with harness.transaction() as session:
        state = dict(session.execute(select(Group.id, Group.paused_at.is_not(None))).all())
    assert state == {harness.group_id: False, gone: True, console: False}  # console untouched
    assert harness.core.match_guilds_sync([GUILD_ID]) == ([], [])  # nothing changes twice
