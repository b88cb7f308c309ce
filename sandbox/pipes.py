"""The plumbing between the host and one sandbox: file descriptors, pipes and processes.

- ``memfd``: data handed to bubblewrap through a descriptor (its options, the seccomp
  filter);
- ``Capture``: the job's stdout or stderr, capped; an overflow is flagged at once;
- ``StatusReader``: the launcher's JSON lines after the job (hostile input, bounded);
- ``read_pipe``, ``capture_pipe``, ``write_once``: connect descriptors to the event loop;
- ``Child``: the gate/bubblewrap process, watched through a pidfd; ``pin_child``: a pidfd
  for the sandbox's pid 1 (the launcher);
- ``settle``: wait for a task, at most ``DRAIN_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from typing import Any, TypeVar

__all__ = [
    "DRAIN_TIMEOUT_S",
    "Capture",
    "Child",
    "StatusReader",
    "capture_pipe",
    "memfd",
    "pin_child",
    "read_pipe",
    "settle",
    "write_once",
]

DRAIN_TIMEOUT_S = 5.0
T = TypeVar("T")


def memfd(name: str, data: bytes) -> int:
    """An anonymous in-memory file holding ``data``, positioned at its start."""
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class Capture(asyncio.Protocol):
    """stdout or stderr of a sandbox: keeps the first ``cap`` bytes; on more, flags the
    overflow (the host then stops the job) and drops the rest."""

    def __init__(self, overflow: asyncio.Event) -> None:
        self.cap = 0
        self.overflow = overflow
        self.kept = bytearray()
        self.truncated = False
        self.closed = asyncio.Event()
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        room = self.cap - len(self.kept)
        if len(data) <= room:
            self.kept += data
            return
        self.kept += data[: max(room, 0)]
        if not self.truncated:
            self.truncated = True
            self.overflow.set()

    def eof_received(self) -> bool:
        self.closed.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    def start_job(self, cap: int) -> None:
        """Count from here: anything before was the warm-up's (which writes to /dev/null)."""
        self.cap = cap
        self.kept.clear()
        self.truncated = False

    def drain_now(self) -> None:
        """Read what the pipe holds right now. After the launcher's "end" message all of
        the job's output is in the pipe already: its writes returned before "end" was sent."""
        if self.transport is None or self.transport.is_closing():
            return
        pipe = self.transport.get_extra_info("pipe")
        if pipe is None:
            return
        while True:
            try:
                data = os.read(pipe.fileno(), 65536)
            except (BlockingIOError, InterruptedError, OSError):
                return
            if not data:
                return
            self.data_received(data)

    def text(self) -> str:
        return bytes(self.kept).decode("utf-8", "replace")


class StatusReader:
    """The launcher's JSON lines after the job. Hostile input (the job runs in the
    launcher's process): bounded, malformed lines skipped, anything past ``limit`` bytes
    dropped. ``ended`` is set by ``{"end": true}`` after an ``{"exit": N}``.

    Nothing the job writes may become the sandbox's failure: a line that is not a JSON
    object, or that the parser cannot handle (``RecursionError`` on deep nesting, ...), is
    skipped, and ``run`` never raises because of the pipe's contents."""

    def __init__(self, reader: asyncio.StreamReader, limit: int) -> None:
        self.reader = reader
        self.limit = limit
        self.messages: list[dict[str, Any]] = []
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.ended = asyncio.Event()

    async def run(self) -> None:
        used = 0
        while True:
            try:
                line = await self.reader.readline()
            except ValueError:  # longer than the reader's limit: readline dropped it
                continue
            if not line:
                return
            used += len(line)
            if used > self.limit or not line.startswith(b'{"'):
                continue  # over the budget, or not the shape of a launcher's message
            try:
                message = json.loads(line)
            except Exception:  # ValueError, RecursionError...: the job's garbage
                continue
            if not isinstance(message, dict):
                continue
            if message.get("end") is True and self.exit_code is not None:
                self.ended.set()
            elif type(message.get("exit")) is int and self.exit_code is None:
                self.exit_code = message["exit"]
            elif type(message.get("signal")) is int and self.signal is None:
                self.signal = message["signal"]
            elif "file" in message:
                self.messages.append(message)


async def capture_pipe(
    loop: asyncio.AbstractEventLoop, fd: int, overflow: asyncio.Event
) -> tuple[Capture, asyncio.BaseTransport]:
    """Read ``fd`` into a ``Capture``; start-up errors (bubblewrap's own) are kept too."""
    capture = Capture(overflow)
    capture.start_job(64 * 1024)
    transport, _ = await loop.connect_read_pipe(lambda: capture, os.fdopen(fd, "rb", buffering=0))
    return capture, transport


async def read_pipe(
    loop: asyncio.AbstractEventLoop, fd: int, limit: int
) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    """A stream reader on ``fd`` whose lines may be ``limit`` bytes long."""
    reader = asyncio.StreamReader(limit=limit)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, transport


async def write_once(
    loop: asyncio.AbstractEventLoop, fd: int, data: bytes
) -> asyncio.BaseTransport | None:
    """Write ``data`` to the pipe ``fd`` without blocking, then close it (the reader sees
    end of file once all is written). None when the pipe is gone already."""
    try:
        transport, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(fd, "wb", buffering=0)
        )
    except OSError:
        os.close(fd)
        return None
    transport.write(data)
    transport.close()  # flushes what is buffered, then closes
    return transport


class Child:
    """A process started with ``subprocess.Popen`` (in a worker thread, so a slow fork or
    cgroup move never stalls the event loop), watched through a pidfd: no reaper thread,
    and signals go to exactly this process even after its pid could be reused."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.returncode: int | None = None
        self._exited = asyncio.Event()
        self._pidfd: int | None = None
        self._waiter: asyncio.Task[None] | None = None

    @property
    def watched(self) -> bool:
        return self._pidfd is not None or self._waiter is not None or self._exited.is_set()

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # kernels before 5.3: a thread waits instead
            self._waiter = loop.create_task(self._wait_in_thread())
            return
        loop.add_reader(self._pidfd, self._reap)
        self._reap()

    def _reap(self) -> None:
        code = self.popen.poll()
        if code is None:
            return
        self.returncode = code
        if self._pidfd is not None:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self._exited.set()

    async def _wait_in_thread(self) -> None:
        self.returncode = await asyncio.to_thread(self.popen.wait)
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, OSError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                self.popen.kill()


def pin_child(pid: int) -> int | None:
    """A pidfd for bubblewrap's one child (the sandbox's pid 1: the launcher), or None."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            children = handle.read().split()
        if len(children) != 1:
            return None
        pidfd = os.pidfd_open(int(children[0]))
        # the pidfd pins the process; make sure it is still bubblewrap's child
        with open(f"/proc/{children[0]}/stat") as handle:
            parent = int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, AttributeError):
        return None
    if parent != pid:
        os.close(pidfd)
        return None
    return pidfd


async def settle(task: asyncio.Task[T]) -> T | None:
    """The task's result, or None when it does not end within the drain timeout."""
    try:
        return await asyncio.wait_for(task, DRAIN_TIMEOUT_S)
    except TimeoutError:
        return None
