"""APScheduler wiring: one in-memory cron job per (group, duty), rebuilt from the database.

Jobs only say *when* to look; what to do is decided by the idempotent duty itself, so a
job that fires twice, late, or in two processes posts at most once. Paused groups (their
server removed the bot) have no jobs until they are resumed.

A front end that can tell whether people are still in the group's server passes a
``presence_check``: before a duty that names people runs (when its job fires, and at the
start-up catch-up) the active members are checked, and those gone leave the group, so
nobody who left is named moderator or reminded. The console passes none.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.core import Core
from bot.schedule.duties import DUTIES
from bot.schedule.runner import missed, run_duty
from bot.services.calendar import local_today
from bot.services.duty_runs import PROGRESS_REMINDER_DUTY, REMINDER_DUTY, REVIEW_DUTY
from bot.services.groups import get_group
from db.models import Group

log = logging.getLogger(__name__)

AfterRun = Callable[[], Awaitable[None]]
# (guild id, user ids) -> the user ids known to be gone from the guild; people it cannot
# tell about (an error, a guild it cannot see) are simply not in the answer
PresenceCheck = Callable[[int, Sequence[int]], Awaitable[Collection[int]]]

# duties whose posts name members (the moderator, who has not logged): checked first
NAMES_PEOPLE = frozenset({REVIEW_DUTY, REMINDER_DUTY, PROGRESS_REMINDER_DUTY})


def job_id(group_id: int, duty: str) -> str:
    return f"{duty}:{group_id}"


class DutyScheduler:
    def __init__(
        self,
        core: Core,
        after_run: AfterRun | None = None,
        presence_check: PresenceCheck | None = None,
    ) -> None:
        self.core = core
        self.after_run = after_run
        self.presence_check = presence_check
        grace = int(core.services.settings.reconcile_grace_hours * 3600) or 1
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace}
        )

    def _add_jobs(self, group: Group) -> None:
        for name, duty in DUTIES.items():
            at = duty.time_of(group)
            self.scheduler.add_job(
                self.fire,
                CronTrigger(hour=at.hour, minute=at.minute, timezone=group.timezone),
                args=(group.id, name),
                id=job_id(group.id, name),
                replace_existing=True,
            )

    def _remove_jobs(self, group_id: int) -> None:
        for name in DUTIES:
            with contextlib.suppress(JobLookupError):  # none yet (or never scheduled)
                self.scheduler.remove_job(job_id(group_id, name))

    def build_jobs(self) -> int:
        """(Re)create every active group's jobs from the database; returns how many."""
        with self.core.services.session_factory() as session:
            groups = list(session.scalars(select(Group).where(Group.paused_at.is_(None))))
            for group in groups:
                self._add_jobs(group)
        return len(groups) * len(DUTIES)

    def refresh_group(self, group_id: int) -> None:
        """Call after a group's times or timezone change, or it was paused or resumed."""
        with self.core.services.session_factory() as session:
            group = get_group(session, group_id)
            if group.paused_at is None:
                self._add_jobs(group)
            else:
                self._remove_jobs(group_id)

    async def start(self) -> None:
        """Catch up on what was missed (members checked first), then schedule what comes."""
        if self.presence_check is not None:
            due = await self.core.run(missed, self.core.services)
            for group_id in sorted({item.group_id for item in due if item.duty in NAMES_PEOPLE}):
                await self.check_presence(group_id)
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

    async def check_presence(self, group_id: int) -> list[int]:
        """Ask the front end who of the group's active members left its server; they
        leave the group. Returns their user ids. A check that fails changes nothing (the
        duty runs as it would without one)."""
        if self.presence_check is None:
            return []
        try:
            return await self._check_presence(self.presence_check, group_id)
        except Exception:
            log.warning(
                "could not check who is still in group %s's server", group_id, exc_info=True
            )
            return []

    async def _check_presence(self, check: PresenceCheck, group_id: int) -> list[int]:
        roster = await self.core.run(self.core.presence_roster_sync, group_id)
        if roster is None or not roster[1]:
            return []
        guild_id, user_ids = roster
        gone = set(await check(guild_id, user_ids)) & set(user_ids)
        if not gone:
            return []
        left = await self.core.run(self.core.mark_gone_sync, group_id, gone)
        log.info(
            "group %s: %d member(s) left the server, so they leave the group", group_id, len(left)
        )
        return left

    async def fire(self, group_id: int, duty: str) -> None:
        """A job's moment: run the duty for the group's today (members checked first)."""
        services = self.core.services
        if duty in NAMES_PEOPLE:
            await self.check_presence(group_id)

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
