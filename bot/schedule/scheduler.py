"""APScheduler wiring: one in-memory cron job per firing moment (duty, timezone, local
time), rebuilt from the database, whatever the number of groups due then.

An index in memory says which groups each moment serves; a moment's job runs the duty for
all of them, a batch of groups per transaction (``runner.run_batch``; small batches first,
then ``BATCH`` at a time), waking the outbox after each batch so the first groups' posts
go out while the rest are written. Jobs only
say *when* to look; what to do is decided by the idempotent duty itself, so a job that
fires twice, late, or in two processes posts at most once. Paused groups (their server
removed the bot) are in no moment until they are resumed; ``refresh_group`` moves a group
whose times changed from its old moments to its new ones (a moment left empty loses its
job).

A front end that can tell whether people are still in the group's server passes a
``presence_check``: before a duty that names people runs (when its job fires, and at the
start-up catch-up) the people it is about to name (``bot.services.named``: the day's
moderator, not every member) are checked, and those gone leave the group, so nobody who
left is named moderator or reminded; whoever the rotation names in their place is checked
in turn. The console passes none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import date, time
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.core import Core
from bot.schedule.batch import firing_chunks
from bot.schedule.duties import DUTIES
from bot.schedule.runner import missed, reconcile, run_batch, run_duty
from bot.services.calendar import local_today
from bot.services.groups import get_group
from bot.services.named import NAMES_PEOPLE
from bot.services.quiz import sweep as sweep_quiz_nudges
from db.models import Group

log = logging.getLogger(__name__)

AfterRun = Callable[[], Awaitable[None]]
# (guild id, user ids) -> the user ids known to be gone from the guild; people it cannot
# tell about (an error, a guild it cannot see) are simply not in the answer
PresenceCheck = Callable[[int, Sequence[int]], Awaitable[Collection[int]]]


Moment = tuple[str, str, time]  # (duty, timezone, local time of day)
NUDGE_JOB = "quiz-nudges"  # one job for every group: the review quiz's daily nudges


def moment_job_id(moment: Moment) -> str:
    duty, timezone, at = moment
    return f"{duty}@{timezone}@{at:%H:%M}"


class DutyScheduler:
    def __init__(
        self,
        core: Core,
        after_run: AfterRun | None = None,
        presence_check: PresenceCheck | None = None,
        owns: Callable[[int], bool] | None = None,
    ) -> None:
        """``owns(guild_id)``: whether this process serves the guild's group (several
        processes sharing one database each own their shards' guilds); None: every one."""
        self.core = core
        self.after_run = after_run
        self.presence_check = presence_check
        self.owns = owns
        self.moments: dict[Moment, set[int]] = {}  # moment -> the groups due then
        self._of_group: dict[int, list[Moment]] = {}  # group -> its moments
        grace = int(core.services.settings.reconcile_grace_hours * 3600) or 1
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace}
        )

    @staticmethod
    def moments_of(group: Group) -> list[Moment]:
        return [(name, group.timezone, duty.time_of(group)) for name, duty in DUTIES.items()]

    def job_of(self, group_id: int, duty: str) -> str | None:
        """The id of the job that runs the group's duty (None: not scheduled)."""
        for moment in self._of_group.get(group_id, ()):
            if moment[0] == duty:
                return moment_job_id(moment)
        return None

    def _add_moment_job(self, moment: Moment) -> None:
        _duty, timezone, at = moment
        self.scheduler.add_job(
            self.fire_moment,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=timezone),
            args=moment,
            id=moment_job_id(moment),
            replace_existing=True,
        )

    def _place(self, group_id: int, moments: list[Moment]) -> None:
        """Put the group in exactly ``moments`` (none: unscheduled)."""
        for moment in self._of_group.pop(group_id, []):
            members = self.moments.get(moment)
            if members is None:
                continue
            members.discard(group_id)
            if not members:
                del self.moments[moment]
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(moment_job_id(moment))
        if not moments:
            return
        self._of_group[group_id] = moments
        for moment in moments:
            members = self.moments.get(moment)
            if members is None:
                self.moments[moment] = members = set()
                self._add_moment_job(moment)
            members.add(group_id)

    def _serves(self, group: Group) -> bool:
        return group.paused_at is None and (self.owns is None or self.owns(group.guild_id))

    def build_jobs(self) -> int:
        """(Re)create every moment's job from the database's active groups; returns how
        many jobs there are (one per distinct moment)."""
        with self.core.services.session_factory() as session:
            groups = session.scalars(select(Group).where(Group.paused_at.is_(None)))
            placed = [(g.id, self.moments_of(g)) for g in groups if self._serves(g)]
        for group_id in list(self._of_group):
            self._place(group_id, [])
        for group_id, moments in placed:
            self._place(group_id, moments)
        return len(self.moments)

    def refresh_group(self, group_id: int) -> None:
        """Call after a group's times or timezone change, or it was paused or resumed."""
        with self.core.services.session_factory() as session:
            group = get_group(session, group_id)
            moments = self.moments_of(group) if self._serves(group) else []
        self._place(group_id, moments)

    async def start(self) -> None:
        """Catch up on what was missed (members checked first), then schedule what comes."""
        if self.presence_check is not None:
            due = await self.core.run(missed, self.core.services, self.owns)
            groups_due: dict[tuple[str, date], set[int]] = {}
            for item in due:
                groups_due.setdefault((item.duty, item.local_date), set()).add(item.group_id)
            for (duty, day), ids in sorted(groups_due.items()):
                await self.check_presence_many(sorted(ids), duty, day)
        if self.owns is None:
            caught_up = await self.core.run(self.core.reconcile_sync)
        else:  # sharded over processes: only this process's groups
            caught_up = await self.core.run(reconcile, self.core.services, self.owns)
        if caught_up:
            log.info("caught up on %d missed duties", len(caught_up))
        await self.core.run(self.build_jobs)
        self.add_nudge_job()
        self.scheduler.start()
        if self.after_run is not None:
            await self.after_run()

    def add_nudge_job(self) -> None:
        """Every minute, queue the quiz nudges that fell due (``bot.services.quiz``; each
        is claimed once per member and local day, so processes sharing a database agree)."""
        self.scheduler.add_job(
            self.sweep_nudges, CronTrigger(minute="*"), id=NUDGE_JOB, replace_existing=True
        )

    async def sweep_nudges(self) -> int:
        services = self.core.services

        def run() -> int:
            with services.transaction() as session:
                return sweep_quiz_nudges(session, services.clock.now())

        try:
            queued = await self.core.run(run)
        except Exception:
            log.exception("the quiz nudge sweep failed")
            return 0
        if queued and self.after_run is not None:
            await self.after_run()
        return queued

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def check_presence(self, group_id: int, duty: str, day: date | None = None) -> list[int]:
        """``check_presence_many`` for one group."""
        return await self.check_presence_many([group_id], duty, day)

    async def check_presence_many(
        self, group_ids: Sequence[int], duty: str, day: date | None = None
    ) -> list[int]:
        """Ask the front end whether the people ``duty`` of ``day`` (default: each group's
        today) is about to name are still in their server (``bot.services.named``: the
        day's moderator, not every member); those gone leave their group. When that
        hands a turn to someone else, they are asked about too, until nobody new would
        be named. Returns the user ids that left. A check that fails changes nothing for
        its group (the duty runs as it would without one)."""
        check = self.presence_check
        if check is None or duty not in NAMES_PEOPLE:
            return []
        asked: dict[int, set[int]] = {}  # group -> user ids asked about already
        left: list[int] = []
        pending = list(group_ids)
        while pending:
            try:
                named = await self.core.run(self.core.presence_named_sync, pending, duty, day)
            except Exception:
                log.warning("could not read whom %s names", duty, exc_info=True)
                return left
            questions = {
                group_id: (guild_id, new)
                for group_id, (guild_id, user_ids) in named.items()
                if (new := [u for u in user_ids if u not in asked.get(group_id, ())])
            }
            answers = await asyncio.gather(
                *(self._gone(check, group_id, *q) for group_id, q in questions.items())
            )
            pending = []
            for (group_id, (_guild, new)), gone in zip(questions.items(), answers, strict=True):
                asked.setdefault(group_id, set()).update(new)
                if gone:
                    left += await self._mark_gone(group_id, gone)
                    pending.append(group_id)  # the rotation may name someone else now
        return left

    async def _gone(
        self, check: PresenceCheck, group_id: int, guild_id: int, user_ids: list[int]
    ) -> set[int]:
        """Those of ``user_ids`` the check says are gone (none when it fails)."""
        try:
            return set(await check(guild_id, user_ids)) & set(user_ids)
        except Exception:
            log.warning(
                "could not check who is still in group %s's server", group_id, exc_info=True
            )
            return set()

    async def _mark_gone(self, group_id: int, gone: set[int]) -> list[int]:
        try:
            left = await self.core.run(self.core.mark_gone_sync, group_id, gone)
        except Exception:
            log.warning("could not remove members gone from group %s", group_id, exc_info=True)
            return []
        log.info(
            "group %s: %d member(s) left the server, so they leave the group", group_id, len(left)
        )
        return left

    async def fire(self, group_id: int, duty: str) -> None:
        """Run the duty for one group's today now (members checked first)."""
        services = self.core.services
        await self.check_presence(group_id, duty)

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

    async def fire_moment(self, duty: str, timezone: str, at: time) -> None:
        """A moment's job: the duty for every group due at it, batch by batch (members
        checked first), the outbox woken after each batch. A group whose times changed
        since it was placed here is left to its new moment."""
        services = self.core.services
        today = services.clock.now().astimezone(ZoneInfo(timezone)).date()
        due = sorted(self.moments.get((duty, timezone, at), ()))
        for ids in firing_chunks(due):
            await self.check_presence_many(ids, duty, today)
            try:
                current = await self.core.run(self._still_due, ids, duty, timezone, at)
                await self.core.run(run_batch, services, duty, today, current)
            except Exception:
                log.exception("scheduled duty %s at %s %s failed", duty, timezone, at)
            if self.after_run is not None:
                await self.after_run()

    def _still_due(self, ids: list[int], duty: str, timezone: str, at: time) -> list[int]:
        with self.core.services.session_factory() as session:
            groups = session.scalars(select(Group).where(Group.id.in_(ids)).order_by(Group.id))
            return [
                g.id for g in groups if g.timezone == timezone and DUTIES[duty].time_of(g) == at
            ]
