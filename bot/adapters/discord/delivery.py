"""Outbox delivery: scheduled posts go to each group's channel (or a thread of it), and
the ones meant for one member (a reminder they asked to get by DM) to that member.

``deliver_pending`` claims rows through the core, sends each through a ``ChannelSender``
and marks it sent or failed. ``OutboxLoop`` runs it every ``outbox_poll_seconds`` and at
once when poked (after each scheduled duty run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

import discord

from bot.adapters.discord.rendering import Outgoing, render_reply
from bot.core import Core
from bot.services.outbox import Pending

__all__ = ["ChannelSender", "DiscordChannelSender", "OutboxLoop", "deliver_pending"]

log = logging.getLogger(__name__)

BATCH = 20
MAX_THREAD_NAME = 100
ARCHIVED_THREADS_SEARCHED = 50


class ChannelSender(Protocol):
    async def send(self, channel_id: int, thread: str | None, message: Outgoing) -> None:
        """Post ``message`` in the channel, or in its thread named ``thread``."""
        ...

    async def send_direct(self, user_id: int, message: Outgoing) -> None:
        """Send ``message`` to the user as a direct message."""
        ...


async def _deliver(sender: ChannelSender, item: Pending) -> None:
    """A row for one member (``user_id``) goes to them privately, else to the channel."""
    message = render_reply(item.reply, item.locale)
    if item.user_id is not None:
        await sender.send_direct(item.user_id, message)
    else:
        assert item.channel_id is not None
        await sender.send(item.channel_id, item.reply.thread, message)


async def deliver_pending(core: Core, sender: ChannelSender, limit: int = BATCH) -> tuple[int, int]:
    """Deliver one batch of claimed posts; returns (claimed, failed)."""
    pending = await core.run(core.claim_outbox_sync, limit)
    failed = 0
    for item in pending:
        if item.channel_id is None and item.user_id is None:
            log.warning(
                "group %s has no channel: outbox message %s is dropped", item.group_id, item.id
            )
            await core.run(core.mark_sent_sync, item.id)
            continue
        try:
            await _deliver(sender, item)
        except Exception as exc:
            failed += 1
            if isinstance(exc, discord.Forbidden) and item.user_id is not None:
                log.warning(
                    "user %s does not take direct messages: outbox message %s not delivered",
                    item.user_id,
                    item.id,
                )
            else:
                log.warning("outbox message %s not delivered", item.id, exc_info=True)
            await core.run(core.mark_failed_sync, item.id, f"{type(exc).__name__}: {exc}")
        else:
            await core.run(core.mark_sent_sync, item.id)
    return len(pending), failed


class DiscordChannelSender:
    """Sends to a guild text channel, creating the named thread when it does not exist, or
    to a user's direct messages."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send_direct(self, user_id: int, message: Outgoing) -> None:
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        await user.send(**message.send_kwargs())

    async def send(self, channel_id: int, thread: str | None, message: Outgoing) -> None:
        channel: Any = self.client.get_channel(channel_id)
        if channel is None:
            channel = await self.client.fetch_channel(channel_id)
        target = channel if thread is None else await self._thread(channel, thread)
        await target.send(**message.send_kwargs())

    async def _thread(self, channel: Any, name: str) -> discord.abc.Messageable:
        if not isinstance(channel, discord.TextChannel):
            # no threads here: post in the channel itself (whatever Discord gave for the id)
            return cast(discord.abc.Messageable, channel)
        name = name[:MAX_THREAD_NAME]
        for thread in channel.threads:
            if thread.name == name:
                return thread
        try:
            async for thread in channel.archived_threads(limit=ARCHIVED_THREADS_SEARCHED):
                if thread.name == name:
                    return thread
        except discord.Forbidden:
            log.info("cannot search archived threads of channel %s", channel.id)
        return await channel.create_thread(
            name=name, type=discord.ChannelType.public_thread, auto_archive_duration=1440
        )


class OutboxLoop:
    def __init__(self, core: Core, sender: ChannelSender, poll_seconds: float) -> None:
        self.core = core
        self.sender = sender
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    async def poke(self) -> None:
        """Deliver now (the scheduler's ``after_run``)."""
        self._wake.set()

    async def drain(self) -> None:
        """Deliver batch after batch while they come full and nothing fails."""
        while True:
            claimed, failed = await deliver_pending(self.core, self.sender)
            if claimed < BATCH or failed:
                return

    async def run(self, wait_ready: Callable[[], Awaitable[Any]]) -> None:
        await wait_ready()
        while True:
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                log.exception("outbox delivery failed; retrying in %s s", self.poll_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
