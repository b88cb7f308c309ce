"""The CPU lanes' fork server: one warm sandbox (the zygote) that forks one child per job.

A single-use sandbox costs a fresh interpreter, a torch import and a warm-up per job
(seconds of CPU); the zygote pays that once and forks. Each job still gets what a
single-use sandbox gives it (see ``launcher.serve``): its own cgroup (memory, pids, CPU),
fresh mount, pid, network, IPC, UTS, cgroup and user namespaces, the job as pid 1 of its
pid namespace with its own /proc, private size- and inode-capped /tmp, /dev/shm, /out and
/code, no capabilities, no_new_privs, the seccomp filter and a fresh random seed. Nothing
of the zygote is visible to a job (another pid namespace), and the job never holds the
status pipe: its supervisor reports after it ended.

Per job the host creates the cgroup and opens its ``cgroup.procs`` files, creates the
job's pipes and hands all of these to the zygote over a Unix socket (``SCM_RIGHTS``); the
supervisor moves itself into the cgroup with them before it builds anything else. GPU
lanes never use this (CUDA does not survive a fork).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sandbox.cgroups import CgroupError, JobCgroup
from sandbox.host import HostPlan
from sandbox.pipes import (
    DRAIN_TIMEOUT_S,
    Capture,
    StatusChannel,
    capture_pipe,
    memfd,
    status_pipe,
    write_once,
)
from sandbox.policy import job_header
from sandbox.result import JobSpec, RunResult, Status, exit_status
from sandbox.slot import (
    Slot,
    SlotStartError,
    check_reported_files,
    status_budget,
    status_line_max,
)

__all__ = ["ForkJob", "ForkPool", "ForkServer"]

log = logging.getLogger("studybot.sandbox")
FAILURES_BEFORE_GIVING_UP = 3
_sequence = itertools.count(1)


class ForkServer:
    """The zygote sandbox and the host's end of its control socket."""

    def __init__(self, plan: HostPlan) -> None:
        self.plan = plan
        self.slot: Slot | None = None
        self.control: socket.socket | None = None
        self.served = 0

    async def start(self) -> None:
        host_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        host_end.set_inheritable(False)
        seccomp = memfd("studybot-seccomp", self.plan.seccomp or b"")
        slot = Slot(self.plan, "cpu", urgent=True)
        slot.zygote = {"control_fd": zygote_end.detach(), "seccomp_fd": seccomp}
        self.slot = slot
        self.control = host_end
        try:
            await slot.open()  # hands the zygote's descriptors over and closes them here
        except BaseException:
            self.control.close()
            self.control = None
            raise

    @property
    def alive(self) -> bool:
        slot = self.slot
        return (
            slot is not None
            and self.control is not None
            and slot.child is not None
            and slot.child.returncode is None
            and slot.status is not None
            and not slot.status.closed.is_set()
        )

    @property
    def uid(self) -> int:
        assert self.slot is not None
        return self.slot.lease.uid if self.slot.lease is not None else os.getuid()

    def hand_over(self, fds: list[int]) -> None:
        """Ask the zygote for one child, giving it the job's descriptors."""
        if self.control is None:
            raise SlotStartError("the fork server is gone")
        try:
            self.control.sendmsg(
                [b"job"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            )
        except OSError as exc:
            raise SlotStartError(f"the fork server is gone: {exc}") from None

    async def close(self) -> None:
        if self.control is not None:
            self.control.close()  # the zygote ends at end of file; its children are killed
            self.control = None
        if self.slot is not None:
            await self.slot.close()


@dataclass(eq=False)
class ForkJob:
    """One job served by the fork server: the host's half (cgroup, pipes, clock)."""

    server: ForkServer
    cgroup: JobCgroup | None = None
    overflow: asyncio.Event = field(default_factory=asyncio.Event)
    _transports: list[asyncio.BaseTransport] = field(default_factory=list)
    used: bool = False

    def _prepare(self, job: JobSpec) -> tuple[list[int], list[int]]:
        """The job's cgroup and pipes (in a worker thread: cgroup writes wait on the
        kernel). Returns (descriptors for the zygote, the host's ends)."""
        plan, config = self.server.plan, self.server.plan.config
        procs: list[int] = []
        if plan.cgroups is not None:
            memory = config.memory_mb
            if job.memory_mb is not None:
                memory = min(memory, job.memory_mb)
            name = f"u{self.server.uid}j{next(_sequence)}"
            try:
                self.cgroup = plan.cgroups.create(name, memory * 1024 * 1024, config.pids)
                self.cgroup.set_low_priority(False)
                for path in self.cgroup.dirs:
                    procs.append(os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))
            except (CgroupError, OSError) as exc:
                for fd in procs:
                    os.close(fd)
                raise SlotStartError(f"cannot set up the job's cgroup: {exc}") from None
        job_r, job_w = os.pipe2(os.O_CLOEXEC)
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        return [job_r, status_w, out_w, err_w, *procs], [job_w, status_r, out_r, err_r]

    async def _keep(self, transport: asyncio.BaseTransport) -> None:
        self._transports.append(transport)

    async def run(self, code: bytes, job: JobSpec) -> RunResult:
        if self.used:
            raise RuntimeError("a fork job runs one job only")
        self.used = True
        config = self.server.plan.config
        loop = asyncio.get_running_loop()
        timeout = min(job.timeout_s or config.timeout_s, config.timeout_s)
        theirs, ours = await asyncio.to_thread(self._prepare, job)
        job_w, status_r, out_r, err_r = ours
        try:
            self.server.hand_over(theirs)
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        out, out_t = await capture_pipe(loop, out_r, self.overflow)
        err, err_t = await capture_pipe(loop, err_r, self.overflow)
        report, status_t = await status_pipe(loop, status_r, status_line_max(config))
        self._transports += [out_t, err_t, status_t]
        for capture in (out, err):
            capture.start_job(config.output_kb * 1024)
        report.start_job(*status_budget(config))
        header = job_header(config, job)
        started = loop.time()
        transport = await write_once(loop, job_w, json.dumps(header).encode() + b"\n" + code)
        if transport is not None:
            self._transports.append(transport)
        waits: dict[asyncio.Task[object], str] = {
            asyncio.create_task(report.ended.wait()): "end",
            asyncio.create_task(report.closed.wait()): "exit",
            asyncio.create_task(self.overflow.wait()): "output_limit",
        }
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ended_by = next((waits[t] for t in waits if t in done and waits[t] != "output_limit"), None)
        if ended_by is None and self.overflow.is_set():
            ended_by = "output_limit"
        wall_ms = round((loop.time() - started) * 1000)
        for task in waits:
            task.cancel()
        killed_for: Status | None = None
        if ended_by != "end":
            killed_for = None if ended_by == "exit" else (ended_by or "timeout")  # type: ignore[assignment]
        self.kill()  # after "end" only the supervisor is left, on its way out
        for capture in (out, err):
            if ended_by == "end":
                capture.drain_now()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(capture.closed.wait(), DRAIN_TIMEOUT_S)
        if ended_by != "end":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(report.closed.wait(), DRAIN_TIMEOUT_S)
        if out.truncated or err.truncated:
            killed_for = "output_limit"
        return await self._result(report, out, err, ended_by, killed_for, wall_ms)

    async def _result(
        self,
        report: StatusChannel,
        out: Capture,
        err: Capture,
        ended_by: str | None,
        killed_for: Status | None,
        wall_ms: int,
    ) -> RunResult:
        config = self.server.plan.config
        oom = peak = None
        if self.cgroup is not None:
            oom = self.cgroup.oom_killed()
            peak = self.cgroup.peak_bytes()
        if ended_by == "end":
            returncode = -report.signal if report.signal is not None else None
        else:  # killed by the host, or the supervisor died (the memory limit)
            returncode = -signal.SIGKILL
        if ended_by == "exit" and not oom and report.exit_code is None and report.signal is None:
            log.error("sandbox: a fork server's job supervisor died without a report")
            return RunResult.rejected(
                "sandbox.internal", "The sandbox failed while it ran the job.", error_id="-"
            )
        accepted, notes, dropped = await asyncio.to_thread(
            check_reported_files, config, report.records
        )
        status, exit_code, sig = exit_status(
            returncode, killed_for, bool(oom), report.exit_code, report.signal
        )
        if out.truncated or err.truncated:
            notes.append(f"output cut at {config.output_kb} KiB")
        return RunResult(
            status=status,
            exit_code=exit_code,
            signal=sig,
            stdout=out.text(),
            stderr=err.text(),
            truncated=out.truncated or err.truncated,
            wall_ms=wall_ms,
            device="cpu",
            files=tuple(accepted),
            sandboxed=True,
            memory_peak_mb=round(peak / 2**20, 1) if peak else None,
            notes=tuple(notes),
            dropped=tuple(dropped),
        )

    def kill(self) -> None:
        """SIGKILL every process of the job's cgroup: the job's pid 1 (its whole pid
        namespace goes with it) and its supervisor."""
        if self.cgroup is not None:
            self.cgroup.kill_listed()

    async def close(self) -> None:
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        if self.cgroup is not None:
            emptied = await self.cgroup.empty()
            try:
                if not emptied:
                    raise CgroupError(f"processes left in {self.cgroup.name}")
                self.cgroup.remove()
                self.cgroup = None
            except CgroupError as exc:
                log.error("sandbox cleanup: %s", exc)


class ForkPool:
    """The CPU lanes' source of jobs when the fork server is on: same interface as
    ``WarmPool`` (``acquire`` hands out a ``ForkJob``, to ``close`` after its one job).
    A zygote that died is replaced; after three failed starts in a row waiting jobs are
    told why."""

    def __init__(self, plan: HostPlan, name: str = "cpu") -> None:
        self.plan = plan
        self.name = name
        self.size = 1
        self.server: ForkServer | None = None
        self._starting: asyncio.Task[ForkServer] | None = None
        self._failures = 0
        self.last_error: str | None = None
        self._closed = False
        self.started = 0
        self.served = 0

    @property
    def ready(self) -> int:
        return 1 if self.server is not None and self.server.alive else 0

    def fill(self) -> None:
        if self._closed or self.ready or self._starting is not None:
            return
        self._starting = asyncio.create_task(self._start())
        self._starting.add_done_callback(self._started)

    async def _start(self) -> ForkServer:
        if self._failures:
            await asyncio.sleep(min(30.0, 0.5 * 2 ** (self._failures - 1)))
        old, self.server = self.server, None
        if old is not None:
            await old.close()
        server = ForkServer(self.plan)
        try:
            await server.start()
        except BaseException:
            await server.close()
            raise
        return server

    def _started(self, task: asyncio.Task[ForkServer]) -> None:
        self._starting = None
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._failures += 1
            self.last_error = str(exc)
            log.warning("sandbox fork server %s failed to start: %s", self.name, exc)
            if self._failures < FAILURES_BEFORE_GIVING_UP:
                self.fill()
            return
        self._failures = 0
        self.started += 1
        self.server = task.result()
        if self._closed:
            asyncio.get_running_loop().create_task(self.server.close())

    async def acquire(self) -> ForkJob:
        while True:
            if self._closed:
                raise SlotStartError("the sandbox pool is closed")
            if self.server is not None and self.server.alive:
                self.served += 1
                return ForkJob(self.server)
            if self._failures >= FAILURES_BEFORE_GIVING_UP and self._starting is None:
                self._failures = FAILURES_BEFORE_GIVING_UP - 1  # try once more later
                raise SlotStartError(self.last_error or "the fork server cannot start")
            self.fill()
            starting = self._starting
            if starting is not None:
                await asyncio.wait([starting])

    async def wait_ready(self, count: int | None = None, timeout: float = 120.0) -> bool:
        self.fill()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.ready:
            starting = self._starting
            left = deadline - loop.time()
            if left <= 0 or starting is None:
                return bool(self.ready)
            await asyncio.wait([starting], timeout=left)
        return True

    async def close(self) -> None:
        self._closed = True
        if self._starting is not None:
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        if self.server is not None:
            await self.server.close()
            self.server = None


def fork_pool_factory(plan: HostPlan) -> Callable[[], ForkPool]:
    return lambda: ForkPool(plan)


def without_preload(plan: HostPlan) -> HostPlan:
    """The plan of a quick fork server for the self-test (no torch)."""
    return replace(plan, config=replace(plan.config, preload_torch=False))
