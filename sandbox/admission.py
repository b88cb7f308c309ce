"""Who runs when: a bounded FIFO queue per lane (the CPU lane runs at most ``concurrency``
jobs at once, each GPU lane one), one job per member at a time, and a token bucket per
member. ``FairQueue.submit`` answers at once with a ``Ticket`` that knows its place in
line; rejections are tickets whose result is already there."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from sandbox.result import JobSpec, RunResult

__all__ = ["FairQueue", "Ticket", "TokenBucket"]

log = logging.getLogger("studybot.sandbox")
Clock = Callable[[], float]


class TokenBucket:
    """``burst`` jobs back to back, then one every ``60 / per_minute`` seconds, per key."""

    def __init__(self, per_minute: float, burst: int, clock: Clock) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._state: dict[Any, tuple[float, float]] = {}

    def take(self, key: Any) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is available."""
        now = self.clock()
        tokens, last = self._state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._state[key] = (tokens - 1.0, now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


@dataclass(eq=False)
class Ticket:
    """A job in the sandbox's queue. ``position`` is its place in line when it was
    submitted: 0 when it started at once, N when N-1 jobs were ahead of it."""

    job: JobSpec
    code: bytes
    lane: str
    position: int
    future: asyncio.Future[RunResult]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _queue: FairQueue | None = None

    def __await__(self) -> Generator[Any, None, RunResult]:
        return self.future.__await__()

    async def result(self) -> RunResult:
        return await self.future

    @property
    def rejected(self) -> bool:
        return self.future.done() and self.future.result().status == "rejected"

    def place(self) -> int:
        """The current place in line (0: running or finished)."""
        return self._queue.place(self) if self._queue else 0


Execute = Callable[[Ticket], Awaitable[RunResult]]


class FairQueue:
    """The sandbox's admission: lanes of bounded FIFO queues (see the module's text)."""

    def __init__(
        self,
        execute: Execute,
        lanes: dict[str, int],
        *,
        queue_max: int,
        bucket: TokenBucket,
    ) -> None:
        self._execute = execute
        self.limits = dict(lanes)
        self.queue_max = queue_max
        self.bucket = bucket
        self._waiting: dict[str, deque[Ticket]] = {lane: deque() for lane in lanes}
        self._running: dict[str, int] = dict.fromkeys(lanes, 0)
        self._members: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @property
    def running(self) -> int:
        return sum(self._running.values())

    def load(self, lane: str) -> int:
        return self._running[lane] + len(self._waiting[lane])

    def place(self, ticket: Ticket) -> int:
        try:
            return self._waiting[ticket.lane].index(ticket) + 1
        except ValueError:
            return 0

    def submit(self, code: bytes, job: JobSpec, lane: str) -> Ticket:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[RunResult] = loop.create_future()
        ticket = Ticket(job, code, lane, 0, future, _queue=self)
        member = job.member_id
        if member is not None and member in self._members:
            future.set_result(
                RunResult.rejected(
                    "sandbox.busy_member",
                    "You already have a job waiting or running; wait for its result first.",
                )
            )
            return ticket
        running_now = self._running[lane] < self.limits[lane] and not self._waiting[lane]
        if not running_now and self.waiting >= self.queue_max:
            future.set_result(
                RunResult.rejected(
                    "sandbox.queue_full",
                    f"The queue is full ({self.waiting} jobs waiting); try again in a minute.",
                    waiting=self.waiting,
                )
            )
            return ticket
        if member is not None:
            wait_s = self.bucket.take(member)
            if wait_s > 0:
                seconds = math.ceil(wait_s)
                future.set_result(
                    RunResult.rejected(
                        "sandbox.rate_limited",
                        f"You are running code too often; try again in {seconds} s.",
                        retry_after_s=seconds,
                    )
                )
                return ticket
            self._members.add(member)
        self._waiting[lane].append(ticket)
        ticket.position = len(self._waiting[lane])
        self._pump(lane)
        if self.place(ticket) == 0:
            ticket.position = 0
        return ticket

    def _pump(self, lane: str) -> None:
        queue = self._waiting[lane]
        while queue and self._running[lane] < self.limits[lane]:
            ticket = queue.popleft()
            self._running[lane] += 1
            task = asyncio.create_task(self._run(ticket))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, ticket: Ticket) -> None:
        try:
            result = await self._execute(ticket)
        except Exception as exc:
            error_id = uuid.uuid4().hex[:8]
            log.error("sandbox job %s failed (error %s)", ticket.id, error_id, exc_info=exc)
            result = RunResult.rejected(
                "sandbox.internal",
                f"The sandbox could not run this job (error {error_id}).",
                error_id=error_id,
            )
        finally:
            self._running[ticket.lane] -= 1
            if ticket.job.member_id is not None:
                self._members.discard(ticket.job.member_id)
            self._pump(ticket.lane)
        if not ticket.future.done():
            ticket.future.set_result(result)

    async def close(self) -> None:
        for queue in self._waiting.values():
            while queue:
                ticket = queue.popleft()
                if ticket.job.member_id is not None:
                    self._members.discard(ticket.job.member_id)
                if not ticket.future.done():
                    ticket.future.set_result(
                        RunResult.rejected("sandbox.closed", "The sandbox is shutting down.")
                    )
        await asyncio.gather(*self._tasks, return_exceptions=True)
