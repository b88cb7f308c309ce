"""The runtime both front ends share: invoking commands off the event loop, mapping
errors to replies in one place, running duties and draining the outbox."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from bot.clock import ManualClock
from bot.commands import COMMANDS, Call
from bot.errors import DomainError
from bot.replies import Reply
from bot.schedule.planner import DueDuty
from bot.schedule.runner import reconcile, run_due, step_through
from bot.services import outbox
from bot.services.context import Services
from bot.services.groups import get_or_create_group

log = logging.getLogger("studybot")
T = TypeVar("T")


def error_reply(exc: BaseException) -> Reply:
    """The one place that turns an exception into what the user sees."""
    if isinstance(exc, DomainError):
        return Reply.private(exc.key, **exc.params)
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=exc)
    return Reply.private("error.unexpected", error_id=error_id)


class Core:
    """Services and duties behind an API that never blocks the event loop.

    Services are synchronous (SQLAlchemy sessions); every call from async code goes
    through ``Core.run``, which runs it in a worker thread.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    # --- commands ---------------------------------------------------------------

    def invoke_sync(self, path: tuple[str, ...], call: Call, options: dict[str, Any]) -> Reply:
        command = COMMANDS.get(path)
        if command is None:
            return Reply.private("error.unknown_command", name="/" + " ".join(path))
        try:
            return command.handler(self.services, call, options)
        except Exception as exc:
            return error_reply(exc)

    async def invoke(self, path: tuple[str, ...], call: Call, options: dict[str, Any]) -> Reply:
        return await self.run(self.invoke_sync, path, call, options)

    # --- groups -----------------------------------------------------------------

    def group_for_guild_sync(
        self,
        guild_id: int,
        channel_id: int | None = None,
        channel_name: str | None = None,
        locale: str | None = None,
    ) -> int:
        with self.services.transaction() as session:
            group = get_or_create_group(
                session,
                guild_id=guild_id,
                now=self.services.clock.now(),
                settings=self.services.settings,
                channel_id=channel_id,
                channel_name=channel_name,
                locale=locale,
            )
            return group.id

    async def group_for_guild(self, guild_id: int) -> int:
        return await self.run(self.group_for_guild_sync, guild_id)

    # --- duties and outbox ----------------------------------------------------

    def reconcile_sync(self) -> list[DueDuty]:
        return reconcile(self.services)

    def step_through_sync(self, clock: ManualClock, until: datetime) -> list[DueDuty]:
        return step_through(self.services, clock, until)

    def run_due_sync(self, after: datetime, until: datetime) -> list[DueDuty]:
        return run_due(self.services, after, until)

    def claim_outbox_sync(self, limit: int = 20) -> list[outbox.Pending]:
        with self.services.transaction() as session:
            return outbox.claim(session, self.services.clock.now(), limit)

    def mark_sent_sync(self, message_id: int) -> None:
        with self.services.transaction() as session:
            outbox.mark_sent(session, message_id, self.services.clock.now())

    def mark_failed_sync(self, message_id: int, error: str) -> None:
        with self.services.transaction() as session:
            outbox.mark_failed(session, message_id, error)
