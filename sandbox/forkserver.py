"""The CPU lanes' fork server: one warm sandbox (the zygote) that forks one child per job.

A single-use sandbox costs a fresh interpreter, a torch import and a warm-up per job
(seconds of CPU); the zygote pays that once and forks. Each job still gets what a
single-use sandbox gives it (see ``launcher.serve``): its own cgroup (memory, pids, CPU),
fresh mount, pid, network, IPC, UTS, cgroup and user namespaces, the job as pid 1 of its
pid namespace with its own /proc, private size- and inode-capped /tmp, /dev/shm, /out and
/code, no capabilities, no_new_privs, the seccomp filter and a fresh random seed. Nothing
of the zygote is visible to a job (another pid namespace); the zygote tells the host each
job's wait status (trusted), the job's pid 1 reports its exit and files like a single-use
launcher (hostile, read by a ``StatusChannel``).

Per job the host creates the cgroup and opens its ``cgroup.procs`` files, creates the
job's pipes and hands all of these to the zygote over a Unix socket (``SCM_RIGHTS``); the
job's pid 1 moves itself into the cgroup with them before it builds anything else. GPU
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
from collections import deque
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
from sandbox.result import JobSpec, RunResult, Status
from sandbox.slot import (
    START_TIMEOUT_S,
    Slot,
    SlotStartError,
    job_result,
    restart_delay_s,
    status_budget,
    status_line_max,
)

__all__ = ["ForkJob", "ForkPool", "ForkServer"]

log = logging.getLogger("studybot.sandbox")
FAILURES_BEFORE_GIVING_UP = 3
REMOVE_TRIES = 20
_sequence = itertools.count(1)


class ForkServer:
    """The zygote sandbox and the host's end of its control socket."""

    def __init__(self, plan: HostPlan) -> None:
        self.plan = plan
        self.slot: Slot | None = None
        self.control: socket.socket | None = None
        self.served = 0
        self._forked: deque[asyncio.Future[int | None]] = deque()  # answers come in order
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._early: dict[int, int] = {}  # wait statuses of children nobody waits for yet

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
        host_end.setblocking(False)
        asyncio.get_running_loop().add_reader(host_end.fileno(), self._read_control)

    def _read_control(self) -> None:
        """The zygote's answers: ``{"pid": N}`` per request, in order, and
        ``{"exited": N, "status": S}`` when a job's pid 1 ended (its wait status)."""
        control = self.control
        while control is not None:
            try:
                data = control.recv(4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._gone()
                return
            try:
                message = json.loads(data)
            except ValueError:  # the zygote runs no job code; this cannot happen
                log.error("sandbox: the fork server sent %r", data[:200])
                continue
            if not isinstance(message, dict):
                continue
            if "pid" in message and self._forked:
                waiter = self._forked.popleft()
                pid = message["pid"]
                if not waiter.done():
                    waiter.set_result(pid if type(pid) is int else None)
            elif type(message.get("exited")) is int and type(message.get("status")) is int:
                exited = self._exits.pop(message["exited"], None)
                if exited is None:
                    self._early[message["exited"]] = message["status"]
                elif not exited.done():
                    exited.set_result(message["status"])

    def _gone(self) -> None:
        if self.control is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self.control.fileno())
        for waiter in self._forked:
            if not waiter.done():
                waiter.set_result(None)
        self._forked.clear()
        for exited in self._exits.values():
            if not exited.done():
                exited.cancel()
        self._exits.clear()

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

    def hand_over(self, fds: list[int]) -> asyncio.Future[int | None]:
        """Ask the zygote for one child, giving it the job's descriptors; the answer is
        the child's pid (in the zygote's pid namespace), None when it could not fork."""
        if self.control is None:
            raise SlotStartError("the fork server is gone")
        try:
            self.control.sendmsg(
                [b"job"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            )
        except OSError as exc:
            raise SlotStartError(f"the fork server is gone: {exc}") from None
        waiter: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._forked.append(waiter)
        return waiter

    def exit_of(self, pid: int) -> asyncio.Future[int]:
        """The wait status of the job whose pid 1 is ``pid`` (as the zygote reaps it)."""
        exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if pid in self._early:
            exited.set_result(self._early.pop(pid))
        else:
            self._exits[pid] = exited
        return exited

    async def close(self) -> None:
        if self.control is not None:
            self._gone()
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
    job_w: int | None = None
    out: Capture | None = None
    err: Capture | None = None
    report: StatusChannel | None = None
    exited: asyncio.Future[int] | None = None  # the wait status of the job's pid 1
    # called when the job is closed (its result is out): the pool's refill, off the clock
    on_close: Callable[[], None] | None = None

    def _make(self) -> tuple[list[int], list[int]]:
        """The job's cgroup and pipes (in a worker thread: cgroup writes wait on the
        kernel). Returns (descriptors for the zygote, the host's ends)."""
        plan, config = self.server.plan, self.server.plan.config
        procs: list[int] = []
        if plan.cgroups is not None:
            name = f"u{self.server.uid}j{next(_sequence)}"
            try:
                self.cgroup = plan.cgroups.create(name, config.memory_mb * 1024 * 1024, config.pids)
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

    async def prepare(self) -> None:
        """Have the zygote fork this job's pid 1 ahead of the job: it moves into the
        job's cgroup, builds its namespaces, mounts and limits, and waits for the job
        (the slow parts, such as the cgroup move, happen before the clock starts)."""
        config = self.server.plan.config
        loop = asyncio.get_running_loop()
        theirs, ours = await asyncio.to_thread(self._make)
        self.job_w, status_r, out_r, err_r = ours
        try:
            forked = self.server.hand_over(theirs)
        except BaseException:
            for fd in ours:
                os.close(fd)
            self.job_w = None
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self.out, out_t = await capture_pipe(loop, out_r, self.overflow)
        self.err, err_t = await capture_pipe(loop, err_r, self.overflow)
        self.report, status_t = await status_pipe(loop, status_r, status_line_max(config))
        self._transports += [out_t, err_t, status_t]
        pid = await forked
        if pid is None:
            raise SlotStartError("the fork server could not start the job")
        self.exited = self.server.exit_of(pid)
        # its "ready" comes before any job code ran (trusted); no "ready": it failed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.report.hello_seen.wait(), START_TIMEOUT_S)
        if self.report.hello != b'{"ready": true}':
            raise SlotStartError("a job's process in the fork server failed to set up")

    @property
    def alive(self) -> bool:
        return (
            not self.used
            and self.exited is not None
            and not self.exited.done()
            and self.server.alive
        )

    async def run(self, code: bytes, job: JobSpec) -> RunResult:
        if self.used:
            raise RuntimeError("a fork job runs one job only")
        if self.exited is None:
            try:
                await self.prepare()
            except SlotStartError as exc:
                self.used = True
                return RunResult.rejected(
                    "sandbox.start_failed", f"The sandbox failed to start: {exc}", detail=str(exc)
                )
        self.used = True
        config = self.server.plan.config
        loop = asyncio.get_running_loop()
        timeout = min(job.timeout_s or config.timeout_s, config.timeout_s)
        out, err, report, exited = self.out, self.err, self.report, self.exited
        assert out is not None and err is not None and report is not None
        assert exited is not None and self.job_w is not None
        smaller = job.memory_mb is not None and job.memory_mb < config.memory_mb
        if self.cgroup is not None and job.memory_mb is not None and smaller:
            with contextlib.suppress(CgroupError):
                self.cgroup.limit_memory(job.memory_mb * 1024 * 1024)
        for capture in (out, err):
            capture.start_job(config.output_kb * 1024)
        report.start_job(*status_budget(config))
        header = job_header(config, job)
        started = loop.time()
        job_w, self.job_w = self.job_w, None
        transport = await write_once(loop, job_w, json.dumps(header).encode() + b"\n" + code)
        if transport is not None:
            self._transports.append(transport)
        waits: dict[asyncio.Future[object], str] = {
            asyncio.ensure_future(report.ended.wait()): "end",
            exited: "exit",  # type: ignore[dict-item]
            asyncio.ensure_future(self.overflow.wait()): "output_limit",
        }
        left = timeout - (loop.time() - started)
        done, _ = await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        ended_by = next((waits[t] for t in waits if t in done and waits[t] != "output_limit"), None)
        if ended_by is None and self.overflow.is_set():
            ended_by = "output_limit"
        wall_ms = round((loop.time() - started) * 1000)
        for task in waits:
            if task is not exited:
                task.cancel()
        killed_for: Status | None = None
        returncode: int | None = None
        if ended_by == "end":
            # the job's pid 1 reported its end: kill first (nothing may keep the pipes
            # full), then read what fits under the caps
            self.kill()
            out.drain_now()
            err.drain_now()
        else:
            if ended_by != "exit":
                killed_for = "output_limit" if ended_by == "output_limit" else "timeout"
                self.kill()
            try:
                wait_status = await asyncio.wait_for(asyncio.shield(exited), DRAIN_TIMEOUT_S)
                returncode = os.waitstatus_to_exitcode(wait_status)
            except (TimeoutError, asyncio.CancelledError, ValueError):
                returncode = -signal.SIGKILL  # the zygote is gone; the job was killed
            for capture in (out, err):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(capture.closed.wait(), DRAIN_TIMEOUT_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(report.closed.wait(), DRAIN_TIMEOUT_S)
        exited.cancel()
        if out.truncated or err.truncated:
            killed_for = "output_limit"
        return await self._result(report, out, err, returncode, killed_for, wall_ms)

    async def _result(
        self,
        report: StatusChannel,
        out: Capture,
        err: Capture,
        returncode: int | None,
        killed_for: Status | None,
        wall_ms: int,
    ) -> RunResult:
        return await job_result(
            self.server.plan.config,
            report=report,
            out=out,
            err=err,
            returncode=returncode,
            killed_for=killed_for,
            wall_ms=wall_ms,
            cgroup=self.cgroup,
            device="cpu",
            sandboxed=True,
        )

    def kill(self) -> None:
        """SIGKILL every process of the job's cgroup: its pid 1 takes its whole pid
        namespace with it."""
        if self.cgroup is not None:
            self.cgroup.kill_listed()

    async def close(self) -> None:
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()
        if self.job_w is not None:  # never used: end of file tells its pid 1 to leave
            os.close(self.job_w)
            self.job_w = None
            self.kill()
        if self.exited is not None:
            self.exited.cancel()
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        if self.cgroup is not None:
            emptied = await self.cgroup.empty()
            try:
                if not emptied:
                    raise CgroupError(f"processes left in {self.cgroup.name}")
                for _ in range(REMOVE_TRIES - 1):  # a process still on its way out: EBUSY
                    with contextlib.suppress(CgroupError):
                        self.cgroup.remove()
                        break
                    await asyncio.sleep(0.05)
                else:
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
        self.spares = plan.config.effective_concurrency  # jobs' pid 1s forked ahead
        self._prepared: deque[ForkJob] = deque()
        self._preparing: set[asyncio.Task[None]] = set()
        self._closing: set[asyncio.Task[None]] = set()
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
            await asyncio.sleep(restart_delay_s(self._failures))
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
            return
        self._top_up()

    def _top_up(self) -> None:
        """Keep ``spares`` jobs' pid 1s forked and waiting (in their cgroups already)."""
        server = self.server
        if self._closed or server is None or not server.alive:
            return
        while len(self._prepared) + len(self._preparing) < self.spares:
            task = asyncio.create_task(self._prepare_one(server))
            self._preparing.add(task)
            task.add_done_callback(self._preparing.discard)

    async def _prepare_one(self, server: ForkServer) -> None:
        job = ForkJob(server)
        try:
            await job.prepare()
        except (SlotStartError, OSError) as exc:
            log.warning("sandbox fork server %s: a job could not be prepared: %s", self.name, exc)
            await job.close()
            return
        if self._closed or server is not self.server:
            await job.close()
            return
        self._prepared.append(job)

    def _discard(self, job: ForkJob) -> None:
        task = asyncio.create_task(job.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def acquire(self) -> ForkJob:
        while True:
            if self._closed:
                raise SlotStartError("the sandbox pool is closed")
            server = self.server
            if server is not None and server.alive:
                self.served += 1
                while self._prepared:
                    job = self._prepared.popleft()
                    if job.alive and job.server is server:
                        if self._prepared:
                            # another spare waits: refill once this job's result is out,
                            # so that forking and priming the next child (tens of ms of
                            # CPU) does not compete with this job
                            job.on_close = self._top_up
                        else:
                            self._top_up()  # a burst: refill at once
                        return job
                    self._discard(job)
                self._top_up()
                return ForkJob(server)  # prepares itself when it runs
            if self._failures >= FAILURES_BEFORE_GIVING_UP and self._starting is None:
                self._failures = FAILURES_BEFORE_GIVING_UP - 1  # try once more later
                raise SlotStartError(self.last_error or "the fork server cannot start")
            self.fill()
            starting = self._starting
            if starting is not None:
                await asyncio.wait([starting])

    async def wait_ready(self, count: int | None = None, timeout: float = 120.0) -> bool:
        """Wait until the zygote serves and the spare jobs' pid 1s wait (False on timeout)."""
        self.fill()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.ready:
            starting = self._starting
            left = deadline - loop.time()
            if left <= 0 or starting is None:
                return bool(self.ready)
            await asyncio.wait([starting], timeout=left)
        self._top_up()
        if self._preparing:
            await asyncio.wait(list(self._preparing), timeout=max(0.0, deadline - loop.time()))
        return True

    async def close(self) -> None:
        self._closed = True
        for task in list(self._preparing):
            task.cancel()
        await asyncio.gather(*self._preparing, return_exceptions=True)
        prepared = list(self._prepared)
        self._prepared.clear()
        await asyncio.gather(*(job.close() for job in prepared), *self._closing)
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
