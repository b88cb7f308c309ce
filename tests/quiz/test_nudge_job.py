"""The nudge sweep: one APScheduler job for every group, and two processes sweeping the
same minute queue one message per member and day."""

from __future__ import annotations

from datetime import date, datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.schedule.scheduler import NUDGE_JOB, DutyScheduler
from db.models import OutboxMessage
from tests.conftest import SEOUL, Harness
from tests.quiz.nudge_race_worker import race
from tests.racing import race_processes

DAYS = [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)]


def nudges(harness: Harness) -> list[tuple[int | None, str]]:
    with harness.transaction() as session:
        rows = session.execute(select(OutboxMessage.user_id, OutboxMessage.body)).all()
    return [(user, body["key"]) for user, body in rows if body["key"] == "quiz.nudge"]


async def test_one_job_sweeps_every_minute_and_wakes_the_outbox(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.invoke("alice", "quiz nudge", time="20:00")
    woken: list[int] = []

    async def after_run() -> None:
        woken.append(len(nudges(harness)))

    scheduler = DutyScheduler(harness.core, after_run=after_run)
    scheduler.add_nudge_job()
    job = scheduler.scheduler.get_job(NUDGE_JOB)
    assert job is not None and isinstance(job.trigger, CronTrigger)
    assert str(job.trigger) == "cron[minute='*']"
    harness.at(datetime(2026, 12, 7, 19, 59, tzinfo=SEOUL))
    assert await scheduler.sweep_nudges() == 0 and woken == []
    harness.at(datetime(2026, 12, 7, 20, 0, tzinfo=SEOUL))
    assert await scheduler.sweep_nudges() == 1
    assert await scheduler.sweep_nudges() == 0
    assert woken == [1]  # woken only when something was queued
    assert nudges(harness) == [(harness.actor("alice").user_id, "quiz.nudge")]


def test_two_processes_sweeping_at_once_nudge_once_a_day(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.invoke("alice", "quiz nudge", time="20:00")
    harness.invoke("bob", "quiz nudge", time="20:00")
    url = harness.core.services.settings.database_url
    exit_codes, outcomes = race_processes(race, url, harness.group_id, DAYS, 2)
    assert exit_codes == [0, 0]
    assert [error for _, _, error in outcomes if error] == []
    for day in DAYS:
        assert sum(count for d, count, _ in outcomes if d == day) == 2, day  # alice and bob
    assert len(nudges(harness)) == 2 * len(DAYS)
