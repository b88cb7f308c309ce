"""A warm pool of pre-started, single-use sandboxes.

Each slot imports torch and runs a tiny step before it is needed, serves exactly one job and
is thrown away, so no state of a job (files, processes, memory, RNG) can reach the next one,
and no process ever forks after CUDA was initialised. Refills run in the background at a
low CPU share; a slot that died while idle is replaced; a failing start is retried with
backoff, and after three failures in a row waiting jobs are told why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from sandbox.slot import Slot, SlotStartError, restart_delay_s

__all__ = ["WarmPool"]

log = logging.getLogger("studybot.sandbox")
FAILURES_BEFORE_GIVING_UP = 3


class WarmPool:
    def __init__(self, factory: Callable[[], Slot], size: int, name: str = "cpu"):
        self._factory = factory
        self.size = size
        self.name = name
        self._ready: deque[Slot] = deque()
        self._starting = 0
        self._waiters: deque[asyncio.Future[Slot]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()  # slots starting
        self._closing: set[asyncio.Task[None]] = set()  # dead slots being cleaned up
        self._warming: set[Slot] = set()
        self._failures = 0
        self.last_error: str | None = None
        self._closed = False
        self._changed = asyncio.Event()
        self.started = 0
        self.served = 0

    @property
    def ready(self) -> int:
        return len(self._ready)

    def fill(self) -> None:
        """Start slots until ``size`` are ready or starting (plus one per waiting job)."""
        if self._closed:
            return
        while len(self._ready) + self._starting < self.size + len(self._waiters):
            self._starting += 1
            task = asyncio.create_task(self._start_one())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_one(self) -> None:
        try:
            if self._failures:
                await asyncio.sleep(restart_delay_s(self._failures))
            slot = self._factory()
            slot.urgent = bool(self._waiters)
            self._warming.add(slot)
            try:
                await slot.open()
            finally:
                self._warming.discard(slot)
        except asyncio.CancelledError:
            self._starting -= 1
            raise
        except Exception as exc:
            self._starting -= 1
            self._failures += 1
            self.last_error = str(exc)
            log.warning("sandbox pool %s: a sandbox failed to start: %s", self.name, exc)
            if self._failures >= FAILURES_BEFORE_GIVING_UP:
                while self._waiters:
                    waiter = self._waiters.popleft()
                    if not waiter.done():
                        waiter.set_exception(SlotStartError(self.last_error))
            self.fill()
            return
        self._starting -= 1
        self._failures = 0
        self.started += 1
        if self._closed:
            await slot.close()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                break
        else:
            self._ready.append(slot)
        self._changed.set()

    async def acquire(self) -> Slot:
        """A warm slot (waiting for one to start if none is ready). The caller owns it and
        must ``close()`` it after its one job."""
        if self._closed:
            raise SlotStartError("the sandbox pool is closed")
        while self._ready:
            slot = self._ready.popleft()
            if slot.alive:
                self.served += 1
                self.fill()
                return slot
            self._discard(slot)
        waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.fill()
        for slot in self._warming:  # a job waits: warming slots get a normal CPU share
            slot.boost()
        try:
            slot = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._ready.appendleft(waiter.result())
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            raise
        self.served += 1
        self.fill()
        return slot

    def _discard(self, slot: Slot) -> None:
        task = asyncio.create_task(slot.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def wait_ready(self, count: int | None = None, timeout: float = 120.0) -> bool:
        """Wait until ``count`` (default: ``size``) slots are ready; False on timeout."""
        wanted = self.size if count is None else count
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while sum(slot.alive for slot in self._ready) < wanted:
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    async def close(self) -> None:
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(SlotStartError("the sandbox pool is closed"))
        self._waiters.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._closing, return_exceptions=True)
        slots = list(self._ready)
        self._ready.clear()
        await asyncio.gather(*(slot.close() for slot in slots), return_exceptions=True)
