"""APScheduler wiring: one in-memory cron job per (group, duty), rebuilt from the database.

Jobs only say *when* to look; what to do is decided by the idempotent duty itself, so a
job that fires twice, late, or in two processes posts at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.core import Core
from bot.schedule.duties import DUTIES
from bot.schedule.runner import run_duty
from bot.services.calendar import local_today
from bot.services.groups import get_group
from db.models import Group

log = logging.getLogger(__name__)

AfterRun = Callable[[], Awaitable[None]]


def job_id(group_id: int, duty: str) -> str:
    return f"{duty}:{group_id}"


class DutyScheduler:
    def __init__(self, core: Core, after_run: AfterRun | None = None) -> None:
        self.core = core
        self.after_run = after_run
        grace = int(core.services.settings.reconcile_grace_hours * 3600) or 1
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace}
        )

    def _add_jobs(self, group: Group) -> None:
        for name, duty in DUTIES.items():
            at = duty.time_of(group)
            self.scheduler.add_job(
                self._fire,
                CronTrigger(hour=at.hour, minute=at.minute, timezone=group.timezone),
                args=(group.id, name),
                id=job_id(group.id, name),
                replace_existing=True,
            )

    def build_jobs(self) -> int:
        """(Re)create every group's jobs from the database; returns how many."""
        with self.core.services.session_factory() as session:
            groups = list(session.scalars(select(Group)))
            for group in groups:
                self._add_jobs(group)
        return len(groups) * len(DUTIES)

    def refresh_group(self, group_id: int) -> None:
        """Call after a group's times or timezone change."""
        with self.core.services.session_factory() as session:
            self._add_jobs(get_group(session, group_id))

    async def start(self) -> None:
        """Catch up on what was missed, then schedule what comes."""
        caught_up = await self.core.run(self.core.reconcile_sync)
        if caught_up:
            log.info("caught up on %d missed duties", len(caught_up))
        await self.core.run(self.build_jobs)
        self.scheduler.start()
        if self.after_run is not None:
            await self.after_run()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _fire(self, group_id: int, duty: str) -> None:
        services = self.core.services

        def run() -> bool:
            with services.session_factory() as session:
                today = local_today(get_group(session, group_id), services.clock.now())
            return run_duty(services, group_id, duty, today)

        try:
            await self.core.run(run)
        except Exception:
            log.exception("scheduled duty %s for group %s failed", duty, group_id)
        if self.after_run is not None:
            await self.after_run()
