"""One pre-started, single-use sandbox (``Slot``): start it, hand it one job, collect the
result, tear it down. This module does the dangerous work; everything else queues. What
the job can see and do is decided in ``policy``; the pipes and processes are ``pipes``'.

How a slot starts (bubblewrap mode):

1. lease a host uid of its own and create its cgroup (memory, pids, low CPU share);
2. spawn a tiny gate (``/bin/sh``) with an **empty environment**, already switched to the
   leased uid (so bubblewrap runs unprivileged and the job's uid is unprivileged on the
   host too, which makes RLIMIT_NPROC count), in a new session;
3. move the gate into the cgroup and set its rlimits while it waits on stdin, then let it
   ``exec`` bubblewrap, whose arguments come through a file descriptor (``--args``);
4. bubblewrap builds fresh user, mount, pid, net, ipc, uts and cgroup namespaces, a
   read-only root with only the interpreter, its libraries and the packages, private
   size-capped tmpfs mounts for ``/tmp``, ``/dev/shm``, ``/out`` and ``/code``, loads the
   seccomp filter and starts ``launcher.py``, which warms up and says "ready".

A job is written to the launcher's job pipe; the host reads stdout and stderr (capped),
the status pipe (exit code, output files) and waits for the process, killing it at the
wall-time limit or when output overflows. Killing bubblewrap (our direct child) kills the
sandbox's pid 1 through ``--die-with-parent``, which takes every process of its pid
namespace with it; the cgroup then has to be empty before it is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from sandbox import files as output_files
from sandbox.cgroups import CgroupError, JobCgroup
from sandbox.config import SandboxConfig
from sandbox.host import SITE_INSIDE, HostPlan, Lease, UidLeases
from sandbox.pipes import (
    DRAIN_TIMEOUT_S,
    Capture,
    Child,
    StatusChannel,
    capture_pipe,
    memfd,
    parse_file_records,
    pin_child,
    status_pipe,
    write_once,
)
from sandbox.policy import (
    EMPTY_LAYER,
    PACKAGES_SOURCE,
    bwrap_args,
    gate_script,
    job_env,
    job_header,
    launcher_command,
    launcher_input,
    tmpfs_sizes,
)
from sandbox.result import (
    DroppedFile,
    JobSpec,
    OutputFile,
    RunResult,
    Status,
    exit_status,
)

__all__ = ["Slot", "SlotStartError"]

log = logging.getLogger("studybot.sandbox")

START_TIMEOUT_S = 120.0
STATUS_EXTRA = 64 * 1024
Ending = Literal["exit", "end", "output_limit"]
T = TypeVar("T")


class SlotStartError(RuntimeError):
    pass


def status_line_max(config: SandboxConfig) -> int:
    """The longest status line a launcher writes: one file record (base64, plus its name)."""
    return config.file_kb * 1024 * 4 // 3 + 4096


def status_budget(config: SandboxConfig) -> tuple[int, int]:
    """(bytes, lines) of the status channel one job may use: its file records, its exit
    and end lines."""
    return (config.files_max + 1) * status_line_max(config) + STATUS_EXTRA, config.files_max + 8


def check_reported_files(
    config: SandboxConfig, records: list[bytes]
) -> tuple[list[OutputFile], list[str], list[DroppedFile]]:
    """Parse and check the file records of one job (in a worker thread: hostile input,
    up to megabytes)."""
    dropped: list[DroppedFile] = []
    accepted, notes = output_files.check(
        parse_file_records(records),
        files_max=config.files_max,
        png_max=config.file_kb * 1024,
        pixels_max=config.image_pixels_max,
        side_max=config.image_side_max,
        dropped=dropped,
    )
    return accepted, notes, dropped


async def checked_files(
    config: SandboxConfig, records: list[bytes]
) -> tuple[list[OutputFile], list[str], list[DroppedFile]]:
    """``check_reported_files`` in a worker thread; no thread hop when there is nothing
    to check (most jobs write no files)."""
    if not records:
        return [], [], []
    return await asyncio.to_thread(check_reported_files, config, records)


def restart_delay_s(failures: int) -> float:
    """How long a pool waits before starting again after ``failures`` failed starts in a
    row: 0.5 s doubling, at most 30 s."""
    return min(30.0, 0.5 * 2 ** (failures - 1)) if failures else 0.0


async def job_result(
    config: SandboxConfig,
    *,
    report: StatusChannel,
    out: Capture,
    err: Capture,
    returncode: int | None,
    killed_for: Status | None,
    wall_ms: int,
    cgroup: JobCgroup | None,
    device: str,
    sandboxed: bool,
    notes_after: tuple[str, ...] = (),
) -> RunResult:
    """The ``RunResult`` of a job that ended, from what its pipes and cgroup say (both the
    single-use and the forked path)."""
    oom = peak = None
    if cgroup is not None:
        oom = cgroup.oom_killed()
        peak = cgroup.peak_bytes()
    accepted, notes, dropped = await checked_files(config, report.records)
    status, exit_code, sig = exit_status(
        returncode, killed_for, bool(oom), report.exit_code, report.signal
    )
    if out.truncated or err.truncated:
        notes.append(f"output cut at {config.output_kb} KiB")
    notes.extend(notes_after)
    return RunResult(
        status=status,
        exit_code=exit_code,
        signal=sig,
        stdout=out.text(),
        stderr=err.text(),
        truncated=out.truncated or err.truncated,
        wall_ms=wall_ms,
        device=device,
        files=tuple(accepted),
        sandboxed=sandboxed,
        memory_peak_mb=round(peak / 2**20, 1) if peak else None,
        notes=tuple(notes),
        dropped=tuple(dropped),
    )


@dataclass(eq=False)
class Slot:
    """A sandbox that started, warmed up and waits for its one job."""

    plan: HostPlan
    device: str
    child: Child | None = None
    lease: Lease | None = None
    cgroup: JobCgroup | None = None
    job_w: int | None = None
    status: StatusChannel | None = None
    stdout: Capture | None = None
    stderr: Capture | None = None
    overflow: asyncio.Event = field(default_factory=asyncio.Event)
    inner_pidfd: int | None = None  # the sandbox's pid 1 (the launcher), pinned
    scratch: str | None = None  # rlimits mode: host folder with out/, code/, tmp/
    _transports: list[asyncio.BaseTransport] = field(default_factory=list)
    used: bool = False
    urgent: bool = False  # a job waits for this slot: warm up at full CPU share
    gpu_problem: str | None = None  # why a GPU sandbox fell back to the CPU
    # the fork server's sandbox (``forkserver``): its control socket and seccomp filter's
    # descriptors (handed over, then closed here) and its settings
    zygote: dict[str, int] | None = None

    # --- start ------------------------------------------------------------------------

    @classmethod
    async def start(cls, plan: HostPlan, device: str = "cpu", *, urgent: bool = False) -> Slot:
        slot = cls(plan, device, urgent=urgent)
        await slot.open()
        return slot

    async def open(self) -> None:
        """Start the sandbox and wait until it is warm (cleans up on failure)."""
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    def boost(self) -> None:
        """A job is waiting: let this slot's warm-up use a normal share of the CPU."""
        self.urgent = True
        if self.cgroup is not None:
            self.cgroup.set_low_priority(False)

    async def _start(self) -> None:
        config = self.plan.config
        loop = asyncio.get_running_loop()
        spawn = asyncio.ensure_future(asyncio.to_thread(self._spawn))
        try:
            pipes = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            # the thread goes on regardless: let it finish, so that close() sees the
            # process and cgroup it made
            with contextlib.suppress(Exception):
                for fd in (await spawn).values():
                    os.close(fd)
            raise
        assert self.child is not None
        self.child.watch(loop)
        try:
            self.stdout = await self._keep(capture_pipe(loop, pipes.pop("stdout"), self.overflow))
            self.stderr = await self._keep(capture_pipe(loop, pipes.pop("stderr"), self.overflow))
            self.status = await self._keep(
                status_pipe(loop, pipes.pop("status"), status_line_max(config))
            )
        finally:
            for fd in pipes.values():
                os.close(fd)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.status.hello_seen.wait(), START_TIMEOUT_S)
        ready = self.status.hello
        if not ready.startswith(b'{"ready"'):
            detail = await self._early_stderr()
            raise SlotStartError(f"the sandbox did not start: {detail or 'no output'}")
        self._check_gpu(ready)
        if self.plan.mode == "bwrap":
            self.inner_pidfd = pin_child(self.child.pid)

    def _check_gpu(self, ready: bytes) -> None:
        """A GPU sandbox whose warm-up could not start CUDA runs its job on the CPU and
        says so (the "ready" line comes before any job, from the trusted launcher)."""
        if not self.device.startswith("cuda"):
            return
        try:
            hello = json.loads(ready)
        except ValueError:
            hello = {}
        if hello.get("cuda") is False:
            self.gpu_problem = str(hello.get("cuda_error") or "unknown error")[:300]
            log.warning(
                "sandbox: %s cannot be used inside the sandbox (%s); its job runs on the CPU",
                self.device,
                self.gpu_problem,
            )
            self.device = "cpu"

    async def _keep(self, connecting: Awaitable[tuple[T, asyncio.BaseTransport]]) -> T:
        """The reader of a pipe just connected; its transport is closed by ``close``."""
        reader, transport = await connecting
        self._transports.append(transport)
        return reader

    def _spawn(self) -> dict[str, int]:
        """Lease, cgroup, gate process, cgroup move, "go" (runs in a worker thread: moving
        a process between cgroups waits for an RCU grace period, milliseconds each)."""
        plan, config = self.plan, self.plan.config
        uid = os.getuid()
        if plan.leases is not None:
            self.lease = plan.leases.acquire()
            uid = self.lease.uid
        if plan.cgroups is not None:
            memory = config.gpu_memory_mb if self.device != "cpu" else config.memory_mb
            try:
                self.cgroup = plan.cgroups.create(f"u{uid}", memory * 1024 * 1024, config.pids)
            except CgroupError as exc:
                raise SlotStartError(str(exc)) from None
            if self.urgent:
                self.cgroup.set_low_priority(False)
        job_r, self.job_w = os.pipe2(os.O_CLOEXEC)
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self.job_w, False)
        passed = [job_r, status_w]
        launcher_config: dict[str, object] = {
            "job_fd": job_r,
            "status_fd": status_w,
            "preload_torch": config.preload_torch,
            "device": self.device,
            "threads": config.threads,
            "code_max": config.code_kb * 1024,
        }
        if self.zygote is not None:
            launcher_config.update(
                self.zygote,
                zygote=True,
                pids=config.pids,
                packages=PACKAGES_SOURCE,
                empty=EMPTY_LAYER,
                site=SITE_INSIDE,
                **tmpfs_sizes(config),
            )
            passed += [self.zygote["control_fd"], self.zygote["seccomp_fd"]]
        if plan.mode == "bwrap":
            assert plan.bwrap is not None
            zygote = self.zygote is not None
            seccomp_fd = (
                memfd("studybot-seccomp", plan.seccomp) if plan.seccomp and not zygote else None
            )
            launcher_config.update(out_dir="/out", code_dir="/code")
            options = bwrap_args(plan, device=self.device, seccomp_fd=seccomp_fd, zygote=zygote)
            args_fd = memfd("studybot-bwrap-args", b"".join(a.encode() + b"\0" for a in options))
            passed += [args_fd] + ([seccomp_fd] if seccomp_fd is not None else [])
            prefix = [plan.bwrap, "--args", str(args_fd), "--"]
            env: dict[str, str] = {}
            cwd = "/"
        else:
            self.scratch = tempfile.mkdtemp(prefix="studybot-job-")
            parts = {name: os.path.join(self.scratch, name) for name in ("out", "code", "tmp")}
            for path in parts.values():
                os.mkdir(path, 0o700)
                if plan.drop_uid:
                    os.chown(path, uid, uid)
            os.chmod(self.scratch, 0o711)
            launcher_config.update(out_dir=parts["out"], code_dir=parts["code"])
            env = job_env(config, parts["out"], parts["tmp"])
            env["PYTHONPATH"] = plan.runtime.site_packages
            prefix = []
            cwd = parts["out"]
        command = launcher_command(plan.runtime.python)
        # the fork server's jobs share its host uid: the process limit of the uid covers
        # them all (each job lowers its own in its own user namespace)
        lanes = config.effective_concurrency if self.zygote is not None else 1
        gate = gate_script(config, nproc=config.pids * lanes + 16 if lanes > 1 else None)
        argv = ["/bin/sh", "-c", gate, "studybot-gate", *prefix, *command]
        drop = plan.drop_uid
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
                pass_fds=passed,
                start_new_session=True,
                user=uid if drop else None,
                group=uid if drop else None,
                extra_groups=[] if drop else None,
            )
        except BaseException:
            os.close(status_r)
            raise
        finally:
            for fd in passed:
                os.close(fd)
        self.child = Child(popen)
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        try:
            if self.cgroup is not None:
                self.cgroup.attach(popen.pid)
            popen.stdin.write(launcher_input(launcher_config))
            popen.stdin.close()
        except BaseException:
            popen.kill()
            os.close(status_r)
            raise
        return {
            "stdout": os.dup(popen.stdout.fileno()),
            "stderr": os.dup(popen.stderr.fileno()),
            "status": status_r,
        }

    async def _early_stderr(self) -> str:
        if self.child is None or self.stderr is None:
            return ""
        self.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stderr.closed.wait(), DRAIN_TIMEOUT_S)
        return self.stderr.text().strip()[-500:]

    @property
    def alive(self) -> bool:
        return (
            not self.used
            and self.child is not None
            and self.child.returncode is None
            and self.status is not None
            and not self.status.closed.is_set()
        )

    def kill(self) -> None:
        """Stop the sandbox: SIGKILL to its pid 1 (the launcher) ends its whole pid
        namespace; bubblewrap, our child, reaps it and exits. (Killing bubblewrap first
        would orphan the pid 1 to the host's init, which may never reap it.)"""
        child = self.child
        if self.inner_pidfd is None and self.plan.mode == "bwrap" and child is not None:
            # still starting: find its pid 1 now
            self.inner_pidfd = None if child.returncode is not None else pin_child(child.pid)
        if self.inner_pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.inner_pidfd, signal.SIGKILL)
                return
        if self.child is not None:
            self.child.kill()

    # --- one job ----------------------------------------------------------------------

    async def run(self, code: bytes, job: JobSpec) -> RunResult:
        if self.used or self.child is None or self.job_w is None or self.status is None:
            raise RuntimeError("a slot runs one job only")
        self.used = True
        config, child = self.plan.config, self.child
        timeout = min(job.timeout_s or config.timeout_s, config.timeout_s)
        if self.cgroup is not None:
            self.cgroup.set_low_priority(False)
            if job.memory_mb is not None and job.memory_mb < config.memory_mb:
                with contextlib.suppress(CgroupError):
                    self.cgroup.limit_memory(job.memory_mb * 1024 * 1024)
        header = job_header(config, job)
        loop = asyncio.get_running_loop()
        out, err = self.stdout, self.stderr
        assert out is not None and err is not None
        for capture in (out, err):
            capture.start_job(config.output_kb * 1024)
        self.overflow.clear()
        report = self.status
        report.start_job(*status_budget(config))
        waits: dict[asyncio.Task[object], Ending] = {
            asyncio.create_task(child.wait()): "exit",
            asyncio.create_task(report.ended.wait()): "end",
            asyncio.create_task(self.overflow.wait()): "output_limit",
        }

        started = loop.time()
        await self._send_job(json.dumps(header).encode() + b"\n" + code)
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ended_by = next((waits[t] for t in waits if t in done and waits[t] != "output_limit"), None)
        if ended_by is None and self.overflow.is_set():
            ended_by = "output_limit"
        wall_ms = round((loop.time() - started) * 1000)
        for task in waits:
            task.cancel()
        killed_for: Status | None = None
        returncode: int | None = None
        if ended_by == "end":
            # the launcher finished: the output is in the pipes. Kill first (nothing may
            # keep the pipes full while they are drained), then read what fits under the
            # caps; the exit and the cleanup happen after the answer
            self.kill()
            out.drain_now()
            err.drain_now()
            if out.truncated or err.truncated:
                killed_for = "output_limit"
        else:
            if ended_by != "exit":
                killed_for = "output_limit" if ended_by == "output_limit" else "timeout"
                self.kill()
            returncode = await child.wait()
            if self.plan.mode != "bwrap" and self.cgroup is not None:
                self.cgroup.kill_listed()  # no pid namespace took the job's children along
            for capture in (out, err):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(capture.closed.wait(), DRAIN_TIMEOUT_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(report.closed.wait(), DRAIN_TIMEOUT_S)
        gpu_note = f"the GPU could not be used, ran on the CPU: {self.gpu_problem}"
        return await job_result(
            config,
            report=report,
            out=out,
            err=err,
            returncode=returncode,
            killed_for=killed_for,
            wall_ms=wall_ms,
            cgroup=self.cgroup,
            device=self.device,
            sandboxed=self.plan.mode == "bwrap",
            notes_after=(gpu_note,) if self.gpu_problem else (),
        )

    async def _send_job(self, data: bytes) -> None:
        """Write the job and close the pipe: the launcher reads until end of file."""
        assert self.job_w is not None
        fd, self.job_w = self.job_w, None
        transport = await write_once(asyncio.get_running_loop(), fd, data)
        if transport is not None:
            self._transports.append(transport)

    # --- teardown ---------------------------------------------------------------------

    async def close(self) -> None:
        """Kill whatever is left and free the uid, the cgroup and the scratch folder."""
        child = self.child
        if child is not None and not child.watched:
            child.watch(asyncio.get_running_loop())
        if child is not None and child.returncode is None:
            self.kill()
            try:
                await asyncio.wait_for(child.wait(), DRAIN_TIMEOUT_S)
            except TimeoutError:
                child.kill()  # bubblewrap did not follow its pid 1: kill it too
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(child.wait(), DRAIN_TIMEOUT_S)
        if self.inner_pidfd is not None:
            os.close(self.inner_pidfd)
            self.inner_pidfd = None
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        if child is not None:
            for pipe in (child.popen.stdout, child.popen.stderr):
                if pipe is not None:
                    pipe.close()
        if self.job_w is not None:
            with contextlib.suppress(OSError):
                os.close(self.job_w)
            self.job_w = None
        if self.cgroup is not None:
            emptied = await self.cgroup.empty()
            try:
                if not emptied:
                    raise CgroupError(f"processes left in {self.cgroup.name}")
                self.cgroup.remove()
                self.cgroup = None
            except CgroupError as exc:
                log.error("sandbox cleanup: %s", exc)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        if self.lease is not None and self.cgroup is None:
            UidLeases.release(self.lease)  # a uid whose cgroup is stuck stays leased
            self.lease = None
