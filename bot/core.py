"""The runtime both front ends share: the one way in for every command, errors mapped to
replies in one place, duties, the outbox, and the reads front ends need to render.

Front ends never open a database session themselves: what they need goes through here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.commands import COMMANDS, Call, Command, UserRef
from bot.errors import DomainError
from bot.replies import Reply
from bot.schedule.planner import DueDuty
from bot.schedule.runner import reconcile, run_due, step_through
from bot.services import bot_state, groups, members, outbox, permissions, users
from bot.services.calendar import local_today
from bot.services.code_runs import CodeRunner, Notify
from bot.services.context import Services
from bot.services.named import named_by
from db.models import Group

log = logging.getLogger("studybot")
T = TypeVar("T")
P = ParamSpec("P")

GroupQuery = Callable[Concatenate[Session, Group, datetime, P], T]
Work = Callable[Concatenate[Session, datetime, P], T]


UNEXPECTED = "error.unexpected"  # the key of the reply to a crash (a bug, not a refusal)


def error_reply(exc: BaseException) -> Reply:
    """The one place that turns an exception into what the user sees."""
    if isinstance(exc, DomainError):
        return Reply.private(exc.key, **exc.params)
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=exc)
    return Reply.private(UNEXPECTED, error_id=error_id)


def is_crash(reply: Reply) -> bool:
    """Whether ``reply`` reports an unexpected error (a crash) rather than an answer."""
    return reply.key == UNEXPECTED


async def _ignore(_reply: Reply) -> None:
    return None


def _unknown(path: tuple[str, ...]) -> Reply:
    return Reply.private("error.unknown_command", name="/" + " ".join(path))


class Core:
    """Services, the code runner and duties behind an API that never blocks the event loop.

    Services are synchronous (SQLAlchemy sessions); every call from async code goes
    through ``Core.run``, which runs it in a worker thread.
    """

    def __init__(self, services: Services, runner: CodeRunner | None = None) -> None:
        self.services = services
        self.runner = runner or CodeRunner(services, None, reason="-")
        self._groups_by_guild: dict[int, int] = {}
        self._claimed: set[int] = set()  # outbox rows this process claimed (released at close)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def close(self) -> None:
        """Stop what the core started (the sandbox, once code ran)."""
        await self.runner.close()

    def close_sync(self) -> None:
        self.runner.close_sync()

    # --- commands: the one way in -------------------------------------------------------

    def _handle(self, command: Command, call: Call, options: dict[str, Any]) -> Reply:
        try:  # the handler's unit of work is over when it returns: then charts are drawn
            return command.execute(self.services, call, options).finish()
        except Exception as exc:
            return error_reply(exc)

    async def _run_code(
        self, command: Command, call: Call, options: dict[str, Any], notify: Notify | None
    ) -> Reply:
        try:
            return await command.execute_run(self.runner, call, options, notify or _ignore)
        except Exception as exc:
            return error_reply(exc)

    async def invoke(
        self,
        path: tuple[str, ...],
        call: Call,
        options: dict[str, Any],
        notify: Notify | None = None,
    ) -> Reply:
        """Run a command; ``notify`` receives messages sent while it runs (code runs)."""
        command = COMMANDS.get(path)
        if command is not None and command.runs_code:
            return await self._run_code(command, call, options, notify)
        return await self.run(self.invoke_sync, path, call, options)

    def invoke_sync(
        self,
        path: tuple[str, ...],
        call: Call,
        options: dict[str, Any],
        notify: Notify | None = None,
    ) -> Reply:
        """``invoke`` for callers without an event loop (the console, tests, benchmarks)."""
        command = COMMANDS.get(path)
        if command is None:
            return _unknown(path)
        if command.runs_code:
            return asyncio.run(self._run_code(command, call, options, notify))
        return self._handle(command, call, options)

    # --- reads for rendering --------------------------------------------------------------

    def read_sync(
        self, query: GroupQuery[P, T], group_id: int, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``query(session, group, now, ...)`` in a read-only unit of its own."""
        with self.services.reading() as session:
            group = groups.get_group(session, group_id)
            return query(session, group, self.services.clock.now(), *args, **kwargs)

    async def read(
        self, query: GroupQuery[P, T], group_id: int, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        def work() -> T:
            return self.read_sync(query, group_id, *args, **kwargs)

        return await asyncio.to_thread(work)

    def transact_sync(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(session, now, ...)`` in one transaction (all of it or nothing)."""
        with self.services.transaction() as session:
            return work(session, self.services.clock.now(), *args, **kwargs)

    def group_info_sync(self, group_id: int) -> groups.GroupInfo:
        with self.services.reading() as session:
            return groups.group_info(session, group_id)

    async def group_info(self, group_id: int) -> groups.GroupInfo:
        return await self.run(self.group_info_sync, group_id)

    # --- groups and people ------------------------------------------------------------

    def group_for_guild_sync(
        self,
        guild_id: int,
        channel_id: int | None = None,
        channel_name: str | None = None,
        locale: str | None = None,
    ) -> int:
        """The guild's group id, created on first use. Groups are never deleted, so the
        answer is cached: after the first time no lookup waits on the database."""
        cached = self._groups_by_guild.get(guild_id)
        if cached is not None:
            return cached
        with self.services.reading() as session:
            found = groups.find_group_by_guild(session, guild_id)
            if found is not None:
                self._groups_by_guild[guild_id] = found.id
                return found.id
        with self.services.transaction() as session:
            group = groups.get_or_create_group(
                session,
                guild_id=guild_id,
                now=self.services.clock.now(),
                settings=self.services.settings,
                channel_id=channel_id,
                channel_name=channel_name,
                locale=locale,
            )
            group_id = group.id
        self._groups_by_guild[guild_id] = group_id
        return group_id

    async def group_for_guild(self, guild_id: int) -> int:
        cached = self._groups_by_guild.get(guild_id)
        if cached is not None:  # no thread hop either
            return cached
        return await self.run(self.group_for_guild_sync, guild_id)

    def open_local_group_sync(
        self,
        guild_id: int,
        channel_id: int,
        channel_name: str | None,
        default_channel: str,
        locale: str | None,
    ) -> tuple[int, bool]:
        """A local front end's one group and whether this start created it."""
        with self.services.transaction() as session:
            group, created = groups.open_local_group(
                session,
                guild_id=guild_id,
                channel_id=channel_id,
                channel_name=channel_name,
                default_channel=default_channel,
                now=self.services.clock.now(),
                settings=self.services.settings,
                locale=locale,
            )
            return group.id, created

    def local_user_sync(self, name: str) -> UserRef:
        """A person known by name only (the console's), created on first mention."""
        with self.services.transaction() as session:
            user = users.local_user(session, name, self.services.clock.now())
            return UserRef(user.id, user.name)

    def local_speaker_sync(self, group_id: int, name: str) -> UserRef:
        """Like ``local_user``; the first speaker of a group without admins becomes admin."""
        with self.services.transaction() as session:
            user = users.local_user(session, name, self.services.clock.now())
            permissions.claim_first_admin(session, groups.get_group(session, group_id), user.id)
            return UserRef(user.id, user.name)

    def user_name_sync(self, user_id: int) -> str:
        with self.services.reading() as session:
            return users.name_of(session, user_id)

    # --- where the bot is: servers, members still there, facts it keeps ------------------

    def pause_guild_sync(self, guild_id: int) -> int | None:
        """The server removed the bot: its group's duties pause. The group's id, if any."""
        with self.services.transaction() as session:
            group = bot_state.pause_guild(session, guild_id, self.services.clock.now())
            return None if group is None else group.id

    def resume_guild_sync(self, guild_id: int) -> int | None:
        """The bot is back in the server: its group's duties run again."""
        with self.services.transaction() as session:
            group = bot_state.resume_guild(session, guild_id)
            return None if group is None else group.id

    def match_guilds_sync(
        self, present: Collection[int], owns: Callable[[int], bool] | None = None
    ) -> tuple[list[int], list[int]]:
        """With every server the bot is in (of those it ``owns``, when sharded over
        several processes): (paused, resumed) group ids."""
        with self.services.transaction() as session:
            return bot_state.match_guilds(session, present, self.services.clock.now(), owns)

    def presence_named_sync(
        self, group_ids: Sequence[int], duty: str, day: date | None = None
    ) -> dict[int, tuple[int, list[int]]]:
        """For each group (paused ones left out): (guild id, the user ids of the active
        members its ``duty`` of ``day`` (default: the group's today) would name now), the
        people to check before it runs (``bot.services.named``)."""
        with self.services.reading() as session:
            found = session.scalars(select(Group).where(Group.id.in_(group_ids))).all()
            live = [g for g in found if g.paused_at is None]
            now = self.services.clock.now()
            by_day: dict[date, list[Group]] = {}
            for group in live:
                by_day.setdefault(day or local_today(group, now), []).append(group)
            named: dict[int, list[int]] = {}
            for local_date, due in by_day.items():
                named.update(named_by(session, duty, due, local_date))
            return {g.id: (g.guild_id, named[g.id]) for g in live}

    def mark_gone_sync(self, group_id: int, user_ids: Collection[int]) -> list[int]:
        """People found gone from the server leave the group (as ``/member leave``)."""
        with self.services.transaction() as session:
            group = groups.get_group(session, group_id)
            return members.mark_gone(session, group, user_ids, self.services.clock.now())

    def state_sync(self, key: str) -> str | None:
        with self.services.reading() as session:
            return bot_state.get(session, key)

    def put_state_sync(self, key: str, value: str) -> None:
        with self.services.transaction() as session:
            bot_state.put(session, key, value, self.services.clock.now())

    def release_claims_sync(self) -> int:
        """At shutdown: give back the outbox rows this process claimed and did not mark
        (sent or failed), so the next start (or another process) delivers them at once
        instead of after the claim timeout. Returns how many were released."""
        if not self._claimed:
            return 0
        ids, self._claimed = sorted(self._claimed), set()
        with self.services.transaction() as session:
            return outbox.release(session, ids)

    # --- duties and outbox ----------------------------------------------------

    def reconcile_sync(self) -> list[DueDuty]:
        return reconcile(self.services)

    def step_through_sync(self, clock: ManualClock, until: datetime) -> list[DueDuty]:
        return step_through(self.services, clock, until)

    def run_due_sync(self, after: datetime, until: datetime) -> list[DueDuty]:
        return run_due(self.services, after, until)

    def claim_outbox_sync(self, limit: int = 20) -> list[outbox.Pending]:
        with self.services.transaction() as session:
            claimed = outbox.claim(session, self.services.clock.now(), limit)
        self._claimed.update(item.id for item in claimed)
        return claimed

    def mark_sent_sync(self, message_id: int, discord_message_id: int | None = None) -> None:
        """Delivered; ``discord_message_id``: what the post became on Discord."""
        with self.services.transaction() as session:
            outbox.mark_sent(session, message_id, self.services.clock.now(), discord_message_id)
        self._claimed.discard(message_id)

    def mark_failed_sync(
        self, message_id: int, error: str, retry_after: float | None = None
    ) -> None:
        """Not delivered this time: retried after the backoff (or ``retry_after`` s)."""
        with self.services.transaction() as session:
            outbox.mark_failed(session, message_id, error, self.services.clock.now(), retry_after)
        self._claimed.discard(message_id)

    def mark_thread_sync(self, message_id: int, thread_id: int) -> None:
        """The thread started from the row's message."""
        with self.services.transaction() as session:
            outbox.mark_thread(session, message_id, thread_id)

    def release_outbox_sync(self, message_ids: list[int]) -> None:
        """Hand claimed rows back untried."""
        with self.services.transaction() as session:
            outbox.release(session, message_ids)
        self._claimed.difference_update(message_ids)

    def fail_outbox_sync(
        self,
        message_id: int,
        failure: str,
        error: str | None = None,
        missing: tuple[str, ...] = (),
        owner: outbox.Admin | None = None,
    ) -> None:
        """Given up for good (``failure``: why); the admins are told when they can fix it."""
        with self.services.transaction() as session:
            outbox.fail(
                session,
                message_id,
                self.services.clock.now(),
                failure,
                error,
                missing=missing,
                owner=owner,
            )
        self._claimed.discard(message_id)
