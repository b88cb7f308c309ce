"""The plumbing between the host and one sandbox: file descriptors, pipes and processes.

- ``memfd``: data handed to bubblewrap through a descriptor (its options, the seccomp
  filter);
- ``Capture``: the job's stdout or stderr, capped; an overflow is flagged at once;
- ``StatusChannel``: the launcher's status lines (hostile after the job starts: bounded,
  shape-checked on the loop, file records parsed off it by ``parse_file_records``);
- ``status_pipe``, ``capture_pipe``, ``write_once``: connect descriptors to the event loop;
- ``Child``: the gate/bubblewrap process, watched through a pidfd; ``pin_child``: a pidfd
  for the sandbox's pid 1 (the launcher);
- ``settle``: wait for a task, at most ``DRAIN_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import json
import os
import re
import signal
import subprocess
from typing import Any, TypeVar

__all__ = [
    "DRAIN_TIMEOUT_S",
    "Capture",
    "Child",
    "StatusChannel",
    "capture_pipe",
    "memfd",
    "parse_file_records",
    "pin_child",
    "settle",
    "status_pipe",
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

    def drain_now(self) -> int:
        """Read what the pipe holds now, at most what still fits under the cap plus one
        byte (enough to tell that it overflowed); the bytes read. After the launcher's
        "end" the job's output is in the pipe already (its writes returned before "end"),
        and the sandbox is killed before this runs, so nothing keeps the pipe full; the
        bound holds even if something did."""
        if self.transport is None or self.transport.is_closing():
            return 0
        pipe = self.transport.get_extra_info("pipe")
        if pipe is None:
            return 0
        budget = max(self.cap - len(self.kept), 0) + 1
        taken = 0
        while taken < budget:
            try:
                data = os.read(pipe.fileno(), min(65536, budget - taken))
            except (BlockingIOError, InterruptedError, OSError):
                break
            if not data:
                break
            taken += len(data)
            self.data_received(data)
        return taken

    def text(self) -> str:
        return bytes(self.kept).decode("utf-8", "replace")


class StatusChannel(asyncio.Protocol):
    """The launcher's status lines: ``{"ready": ...}`` once warm (trusted: no job has run
    yet), then after the job ``{"exit": N}`` (or ``{"signal": N}``), one ``{"file": ...}``
    per output file and ``{"end": true}``.

    Everything after the job starts is hostile (the job runs in the launcher's process and
    can write to this pipe), so consuming it stays cheap whatever arrives: lines are cut at
    ``line_max`` (the rest of an over-long line is skipped without being kept), the job's
    lines are counted and their bytes budgeted (past either budget the rest is dropped
    unread), and on the event loop a line is only compared with a few fixed shapes, never
    parsed. Only lines shaped like a file record are kept (raw, within the budget); they
    are parsed later, off the loop, by ``parse_file_records``, which never recurses."""

    HELLO_MAX = 4096

    def __init__(self, line_max: int) -> None:
        self.line_max = line_max
        self.total_max = 0
        self.lines_max = 0
        self._partial = bytearray()
        self._skipping = False
        self._phase = "warm"  # "warm" -> "job" -> "done" (everything after is dropped)
        self.hello = b""
        self.hello_seen = asyncio.Event()
        self.records: list[bytes] = []
        self.used = 0
        self.lines = 0
        self.dropped = 0  # bytes dropped unread after a budget ran out or the end
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.ended = asyncio.Event()
        self.closed = asyncio.Event()
        self.transport: asyncio.BaseTransport | None = None

    def start_job(self, total_max: int, lines_max: int) -> None:
        self.total_max = total_max
        self.lines_max = lines_max
        self._partial.clear()
        self._skipping = False
        self._phase = "job"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def eof_received(self) -> bool:
        self._closed()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed()

    def _closed(self) -> None:
        self.closed.set()
        self.hello_seen.set()  # a sandbox that died while starting: nothing will come

    def data_received(self, data: bytes) -> None:
        size, pos = len(data), 0
        while pos < size:
            if self._phase == "done":
                self.dropped += size - pos
                return
            newline = data.find(b"\n", pos)
            stop = size if newline < 0 else newline
            if self._skipping:
                if newline < 0:
                    return
                self._skipping = False
                pos = newline + 1
                continue
            room = (self.HELLO_MAX if self._phase == "warm" else self.line_max) - len(self._partial)
            if stop - pos > room:  # too long: forget it, skip to its end
                self._partial.clear()
                self._count(stop - pos)
                if newline < 0:
                    self._skipping = True
                    return
                pos = newline + 1
                continue
            if newline < 0:
                self._partial += data[pos:]
                return
            line = bytes(self._partial) + data[pos:newline] if self._partial else data[pos:newline]
            self._partial.clear()
            pos = newline + 1
            self._line(line)

    def _count(self, size: int) -> bool:
        """Charge one line against the job's budgets; False once they ran out."""
        if self._phase != "job":
            return self._phase == "warm"
        self.lines += 1
        self.used += size
        if self.lines > self.lines_max or self.used > self.total_max:
            self._phase = "done"
            return False
        return True

    def _line(self, line: bytes) -> None:
        if self._phase == "warm":
            if not self.hello_seen.is_set():
                self.hello = line
                self.hello_seen.set()
            return
        if not self._count(len(line)):
            return
        if line == b'{"end": true}':
            if self.exit_code is not None or self.signal is not None:
                self.ended.set()
                self._phase = "done"
        elif len(line) <= 32 and (match := _SMALL.fullmatch(line)) is not None:
            key, value = match.group(1), int(match.group(2))
            if key == b"exit" and self.exit_code is None:
                self.exit_code = value
            elif key == b"signal" and self.signal is None:
                self.signal = value
        elif line.startswith(b'{"file": "'):
            self.records.append(line)


_SMALL = re.compile(rb'\{"(exit|signal)": ([0-9]{1,3})\}')
_FILE_NAME = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\.){1,400}"')
_FILE_TAIL = re.compile(rb', "size": ([0-9]{1,12}), "data": (null|")')
DECODE_CHUNK = 256 * 1024  # base64 characters decoded at a time (a multiple of 4)


def parse_file_records(records: list[bytes]) -> list[dict[str, Any]]:
    """The file records a ``StatusChannel`` kept, as the launcher wrote them
    (``{"file": NAME, "size": N, "data": BASE64 | null}``), checked by their shape;
    anything else is skipped. Runs in a worker thread: the name is a flat JSON string
    (it cannot nest), and the data is decoded in chunks, so the event loop's thread gets
    the interpreter between chunks. ``data`` comes back decoded (bytes), None when the
    launcher found the file too large, or the record is dropped when it does not decode."""
    found: list[dict[str, Any]] = []
    prefix = len(b'{"file": ')
    for line in records:
        name_match = _FILE_NAME.match(line, prefix)
        if name_match is None:
            continue
        tail = _FILE_TAIL.match(line, name_match.end())
        if tail is None:
            continue
        try:
            name = json.loads(name_match.group(0))
        except ValueError:
            continue
        item: dict[str, Any] = {"file": name, "size": int(tail.group(1)), "data": None}
        if tail.group(2) == b"null":
            if line[tail.end() :] != b"}":
                continue
        else:
            body = memoryview(line)[tail.end() : len(line) - 2]
            if line[-2:] != b'"}' or len(body) % 4:
                continue
            try:
                item["data"] = b"".join(
                    binascii.a2b_base64(body[at : at + DECODE_CHUNK], strict_mode=True)
                    for at in range(0, len(body), DECODE_CHUNK)
                )
            except binascii.Error:
                item["data"] = "unreadable"
        found.append(item)
    return found


async def capture_pipe(
    loop: asyncio.AbstractEventLoop, fd: int, overflow: asyncio.Event
) -> tuple[Capture, asyncio.BaseTransport]:
    """Read ``fd`` into a ``Capture``; start-up errors (bubblewrap's own) are kept too."""
    capture = Capture(overflow)
    capture.start_job(64 * 1024)
    transport, _ = await loop.connect_read_pipe(lambda: capture, os.fdopen(fd, "rb", buffering=0))
    return capture, transport


async def status_pipe(
    loop: asyncio.AbstractEventLoop, fd: int, line_max: int
) -> tuple[StatusChannel, asyncio.BaseTransport]:
    """Read the launcher's status pipe ``fd`` into a ``StatusChannel``."""
    channel = StatusChannel(line_max)
    transport, _ = await loop.connect_read_pipe(lambda: channel, os.fdopen(fd, "rb", buffering=0))
    return channel, transport


async def write_once(
    loop: asyncio.AbstractEventLoop, fd: int, data: bytes
) -> asyncio.BaseTransport | None:
    """Write ``data`` to the pipe ``fd`` without blocking, then close it (the reader sees
    end of file once all is written). What fits in the pipe's buffer (a job's header and
    code usually do) is written and the pipe closed at once; only the rest goes through a
    transport, which is returned (None when everything was written or the pipe is gone)."""
    try:
        os.set_blocking(fd, False)
        written = os.write(fd, data)
    except BlockingIOError:
        written = 0
    except OSError:  # the reader is gone
        os.close(fd)
        return None
    if written == len(data):
        os.close(fd)
        return None
    try:
        transport, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(fd, "wb", buffering=0)
        )
    except OSError:
        os.close(fd)
        return None
    transport.write(data[written:])
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
