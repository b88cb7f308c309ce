"""Outbox delivery: scheduled posts go to each group's channel (or the thread started from
one of them), and the ones meant for one member (a reminder they asked to get by DM, a
note to an admin) to that member.

``deliver_pending`` claims rows through the core, sends each through a ``ChannelSender``
with the row's nonce (Discord keeps one message per nonce, so a row sent again after a
crash is not posted twice) and records the outcome: sent (with the message's id), tried
again later (Discord or the network failing: backoff, a rate limit's ``retry_after``), or
given up (the bot lacks access or a permission, the channel is gone, the member takes no
direct messages, the post's moment has passed). A channel post given up for a reason the
admins can fix is reported with the permissions the bot lacks there (from the cache).
``OutboxLoop`` runs it every ``outbox_poll_seconds`` and at once when poked (after each
scheduled duty run).

At 09:30 thousands of groups post at once, so delivery keeps to Discord's own limits
instead of running into them (``Pace``: about 50 requests a second in all, 5 per 5
seconds per channel and route; it waits on the injected clock), and each batch goes out
in a fair order (``fair_order``: round-robin across groups, each group's posts in order),
so no group waits for another's whole backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import aiohttp
import discord

from bot.adapters.discord.channels import missing_in
from bot.adapters.discord.rendering import Outgoing, render_reply
from bot.clock import Clock
from bot.core import Core
from bot.services import outbox
from bot.services.outbox import Pending

__all__ = [
    "ChannelSender",
    "DiscordChannelSender",
    "OutboxLoop",
    "Pace",
    "Verdict",
    "classify",
    "deliver_pending",
    "fair_order",
]

log = logging.getLogger(__name__)

BATCH = 20
MAX_THREAD_NAME = 100
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
# Discord's JSON error codes (Discord developer documentation, "JSON Error Codes")
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_USER = 10013
MISSING_ACCESS = 50001
CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
THREAD_ALREADY_CREATED = 160004


# Discord's rate limits (developer documentation, "Rate Limits"): about 50 requests per
# second per bot in all, and per-route buckets, a channel's messages commonly 5 per 5 s
GLOBAL_PER_SECOND = 50
CHANNEL_BUCKET = 5
CHANNEL_WINDOW = timedelta(seconds=5)
SECOND = timedelta(seconds=1)

Sleep = Callable[[float], Awaitable[None]]


class Pace:
    """Waits, before each request, until Discord's limits allow it: at most
    ``per_second`` requests in any second, and ``bucket`` requests of one kind in one
    channel within ``window``. Time is the injected clock's; ``sleep`` waits (the real
    ``asyncio.sleep``, or one that moves a simulated clock; a clock that stands still
    across a wait is not waited for)."""

    def __init__(
        self,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        per_second: int = GLOBAL_PER_SECOND,
        bucket: int = CHANNEL_BUCKET,
        window: timedelta = CHANNEL_WINDOW,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.per_second = per_second
        self.bucket = bucket
        self.window = window
        self._sent: deque[datetime] = deque()
        self._buckets: dict[tuple[str, int], deque[datetime]] = {}
        self.waited = timedelta(0)  # how long requests waited for the limits, in all

    def _wait(self, now: datetime, key: tuple[str, int] | None) -> timedelta:
        while self._sent and now - self._sent[0] >= SECOND:
            self._sent.popleft()
        wait = timedelta(0)
        if len(self._sent) >= self.per_second:
            wait = self._sent[0] + SECOND - now
        if key is not None:
            sent = self._buckets.get(key)
            while sent and now - sent[0] >= self.window:
                sent.popleft()
            if sent is not None and not sent:
                del self._buckets[key]  # (thousands of channels: keep only busy ones)
            elif sent is not None and len(sent) >= self.bucket:
                wait = max(wait, sent[0] + self.window - now)
        return wait

    async def take(self, kind: str, target: int | None) -> None:
        """One request of ``kind`` to ``target`` (a channel, or a user for direct
        messages; None: counted in the global limit only)."""
        key = None if target is None else (kind, target)
        while True:
            now = self.clock.now()
            wait = self._wait(now, key)
            if wait <= timedelta(0):
                break
            self.waited += wait
            await self.sleep(math.ceil(wait.total_seconds() * 1_000_000) / 1_000_000)
            if self.clock.now() == now:  # a clock held still (a test's): nothing to wait for
                break
        self._sent.append(now)
        if key is not None:
            self._buckets.setdefault(key, deque()).append(now)


def fair_order(items: Sequence[Pending]) -> list[Pending]:
    """Round-robin across lanes (a group's channel, a member's direct messages): the first
    post of every lane, then the second of every lane ...; each lane keeps its order
    (a thread's posts after the post they start from)."""
    lanes: dict[tuple[int, int | None], list[Pending]] = {}
    for item in items:
        lanes.setdefault((item.group_id, item.user_id), []).append(item)
    ordered: list[Pending] = []
    depth = max((len(lane) for lane in lanes.values()), default=0)
    for n in range(depth):
        ordered.extend(lane[n] for lane in lanes.values() if n < len(lane))
    return ordered


class ChannelSender(Protocol):
    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        """Post ``message`` in the channel (or thread); returns the message's id."""
        ...

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        """Start a public thread from the channel's message; returns the thread's id."""
        ...

    async def send_direct(self, user_id: int, message: Outgoing, nonce: str) -> int:
        """Send ``message`` to the user as a direct message; returns the message's id."""
        ...

    def missing_permissions(self, guild_id: int, channel_id: int) -> list[str]:
        """What the bot lacks in the channel for a post (``outbox.PERMISSIONS`` names)."""
        ...

    def owner(self, guild_id: int) -> outbox.Admin | None:
        """The server's owner, told about delivery problems when nobody set the channel."""
        ...


@dataclass(frozen=True)
class Verdict:
    """What a failed delivery means: ``failure`` (a message key) when it is final, else
    try again (no sooner than ``retry_after`` seconds, when Discord said so)."""

    failure: str | None = None
    retry_after: float | None = None

    @property
    def final(self) -> bool:
        return self.failure is not None


def _retry_after(exc: discord.HTTPException) -> float | None:
    response: Any = exc.response
    headers = getattr(response, "headers", None) or {}
    try:
        return float(headers["Retry-After"])
    except (KeyError, TypeError, ValueError):
        return None


def classify(exc: BaseException, direct: bool) -> Verdict:
    """Final or worth another try? ``direct``: the row is a direct message."""
    if isinstance(exc, discord.RateLimited):
        return Verdict(retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return Verdict(retry_after=_retry_after(exc))
        if exc.status >= 500:
            return Verdict()
        if direct and (exc.status in (403, 404) or exc.code in (CANNOT_DM, UNKNOWN_USER)):
            return Verdict(outbox.DM_CLOSED)
        if exc.code == MISSING_ACCESS:
            return Verdict(outbox.MISSING_ACCESS)
        if exc.code == MISSING_PERMISSIONS or exc.status == 403:
            return Verdict(outbox.MISSING_PERMISSIONS)
        if exc.code == UNKNOWN_MESSAGE:
            return Verdict(outbox.PARENT_FAILED)  # the post a thread was to start from
        if exc.code == UNKNOWN_CHANNEL or exc.status == 404:
            return Verdict(outbox.UNKNOWN_CHANNEL)
        if exc.status == 400:
            return Verdict(outbox.REJECTED)
        return Verdict()
    if isinstance(exc, ValueError | TypeError):  # refused before sending: never better
        return Verdict(outbox.REJECTED)
    return Verdict()  # the network, a timeout, anything else: try again later


def _transient_quietly(exc: BaseException) -> bool:
    """Failures expected during an outage: logged without a traceback."""
    return isinstance(
        exc, discord.HTTPException | aiohttp.ClientError | asyncio.TimeoutError | OSError
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _Batch:
    """One batch's deliveries, in claim order."""

    def __init__(self, core: Core, sender: ChannelSender, pace: Pace | None = None) -> None:
        self.core = core
        self.sender = sender
        self.pace = pace
        self.messages: dict[int, int] = {}  # row → its message, delivered in this batch
        self.threads: dict[int, int] = {}  # row → the thread started from its message
        self.waiting: set[tuple[int, int | None]] = set()  # lanes held up in this batch
        self.failed = 0

    async def target(self, item: Pending) -> int | None:
        """Where a channel row goes: the channel, or the thread of its parent (started
        now when it is not yet); None when the parent is not delivered."""
        assert item.channel_id is not None
        if item.parent_id is None:
            return item.channel_id
        parent_message = self.messages.get(item.parent_id) or item.parent_message_id
        if parent_message is None:
            return None
        thread = self.threads.get(item.parent_id) or item.thread_id
        if thread is None:
            name = (item.thread_name or str(parent_message))[:MAX_THREAD_NAME]
            await self._take("threads", item.channel_id)
            thread = await self.sender.start_thread(item.channel_id, parent_message, name)
            await self.core.run(self.core.mark_thread_sync, item.parent_id, thread)
        self.threads[item.parent_id] = thread
        return thread

    async def deliver(self, item: Pending) -> None:
        lane = (item.group_id, item.user_id)
        if lane in self.waiting:  # an earlier post of its lane waits: keep their order
            await self.core.run(self.core.release_outbox_sync, [item.id])
            return
        if item.expired(self.core.services.clock.now()):
            log.warning("outbox message %s expired at %s: dropped", item.id, item.expires_at)
            await self.core.run(self.core.fail_outbox_sync, item.id, outbox.EXPIRED)
            return
        if item.user_id is None and item.channel_id is None:
            log.warning(
                "group %s has no channel: outbox message %s dropped", item.group_id, item.id
            )
            await self.give_up(item, outbox.NO_CHANNEL, None)
            return
        message = render_reply(item.reply, item.locale)
        try:
            if item.user_id is not None:
                await self._take("dm", None)  # opening the DM channel
                await self._take("dm", item.user_id)
                sent = await self.sender.send_direct(item.user_id, message, item.nonce)
            else:
                target = await self.target(item)
                if target is None:  # its parent failed in this batch
                    await self.core.run(self.core.release_outbox_sync, [item.id])
                    return
                await self._take("messages", target)
                sent = await self.sender.send(target, message, item.nonce)
        except Exception as exc:
            await self.failure(item, exc)
        else:
            self.messages[item.id] = sent
            await self.core.run(self.core.mark_sent_sync, item.id, sent)

    async def _take(self, kind: str, target: int | None) -> None:
        if self.pace is not None:
            await self.pace.take(kind, target)

    async def failure(self, item: Pending, exc: Exception) -> None:
        self.failed += 1
        verdict = classify(exc, direct=item.user_id is not None)
        if verdict.failure is not None:
            log.warning(
                "outbox message %s not delivered for good (%s): %s",
                item.id,
                verdict.failure,
                _describe(exc),
            )
            await self.give_up(item, verdict.failure, _describe(exc))
            return
        self.waiting.add((item.group_id, item.user_id))
        if _transient_quietly(exc):
            log.warning("outbox message %s not delivered: %s", item.id, _describe(exc))
        else:
            log.warning("outbox message %s not delivered", item.id, exc_info=exc)
        await self.core.run(
            self.core.mark_failed_sync, item.id, _describe(exc), verdict.retry_after
        )

    async def give_up(self, item: Pending, failure: str, error: str | None) -> None:
        missing: list[str] = []
        owner = None
        if item.user_id is None and failure in outbox.REPORTED:
            if item.channel_id is not None:
                missing = self.sender.missing_permissions(item.guild_id, item.channel_id)
            owner = self.sender.owner(item.guild_id)
        await self.core.run(
            self.core.fail_outbox_sync, item.id, failure, error, tuple(missing), owner
        )


async def deliver_pending(
    core: Core, sender: ChannelSender, limit: int = BATCH, pace: Pace | None = None
) -> tuple[int, int]:
    """Deliver one batch of claimed posts, in a fair order and at ``pace``; returns
    (claimed, failed)."""
    pending = await core.run(core.claim_outbox_sync, limit)
    batch = _Batch(core, sender, pace)
    for item in fair_order(pending):
        await batch.deliver(item)
    return len(pending), batch.failed


class DiscordChannelSender:
    """Posts through Discord's HTTP API with the row's nonce (``enforce_nonce``): in a
    channel or thread by id (no lookup), threads started from a post, direct messages."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send(self, channel_id: int, message: Outgoing, nonce: str) -> int:
        channel = self.client.get_partial_messageable(channel_id)
        # discord.py sends ``enforce_nonce: true`` with every nonce it is given
        sent = await channel.send(**message.send_kwargs(), nonce=nonce)
        return sent.id

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        """A public thread from the message (in an announcement channel Discord makes it an
        announcement thread). A thread started from a message has the message's id, so one
        already started (a retry after a crash) is found without asking."""
        try:
            data = await self.client.http.start_thread_with_message(
                channel_id, message_id, name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:
                return message_id
            raise
        return int(data["id"])

    async def send_direct(self, user_id: int, message: Outgoing, nonce: str) -> int:
        channel = await self.client.create_dm(discord.Object(id=user_id))
        sent = await channel.send(**message.send_kwargs(), nonce=nonce)
        return sent.id

    def missing_permissions(self, guild_id: int, channel_id: int) -> list[str]:
        return missing_in(self.client, guild_id, channel_id)

    def owner(self, guild_id: int) -> outbox.Admin | None:
        guild = self.client.get_guild(guild_id)
        if guild is None or guild.owner_id is None:
            return None
        owner = guild.owner
        return outbox.Admin(guild.owner_id, owner.name if owner else str(guild.owner_id))


class OutboxLoop:
    def __init__(
        self,
        core: Core,
        sender: ChannelSender,
        poll_seconds: float,
        pace: Pace | None = None,
        batch: int = BATCH,
    ) -> None:
        self.core = core
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.pace = pace
        self.batch = batch
        self._wake = asyncio.Event()

    async def poke(self) -> None:
        """Deliver now (the scheduler's ``after_run``)."""
        self._wake.set()

    async def drain(self) -> None:
        """Deliver batch after batch while they come full and nothing fails."""
        while True:
            claimed, failed = await deliver_pending(self.core, self.sender, self.batch, self.pace)
            if claimed < self.batch or failed:
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
