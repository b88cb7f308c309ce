"""One pre-started, single-use sandbox (``Slot``): start it, hand it one job, collect the
result, tear it down. This module does the dangerous work; everything else queues.

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
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from sandbox import files as output_files
from sandbox.cgroups import CgroupError, CgroupHost, JobCgroup
from sandbox.config import SandboxConfig
from sandbox.host import SITE_INSIDE, Lease, Runtime, UidLeases, gpu_nodes
from sandbox.result import JobSpec, RunResult

__all__ = ["HostPlan", "Slot", "SlotStartError", "bwrap_args"]

log = logging.getLogger("studybot.sandbox")

LAUNCHER_SOURCE = (Path(__file__).parent / "launcher.py").read_text()
# waits until the host says "go"; bubblewrap's own environment must be empty (a job can read
# its pid 1's environment), and dash exports PWD unless told not to
GATE = 'read -r _ || exit 111; unset PWD OLDPWD; exec "$@" </dev/null'
UID_INSIDE = 65534
START_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 5.0
STATUS_EXTRA = 64 * 1024
Mode = Literal["bwrap", "rlimits"]
T = TypeVar("T")


class SlotStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class HostPlan:
    """Everything a slot needs from the host, found once by ``Sandbox.start``."""

    config: SandboxConfig
    mode: Mode
    runtime: Runtime
    bwrap: str | None
    cgroups: CgroupHost | None
    seccomp: bytes | None
    leases: UidLeases | None  # None: not root, jobs run as our own uid (rlimits mode only)
    gpu_libraries: tuple[str, ...] = ()  # host folders of the NVIDIA driver's libraries

    @property
    def drop_uid(self) -> bool:
        return self.leases is not None


def _env(config: SandboxConfig, out: str, tmp: str) -> dict[str, str]:
    threads = str(config.threads)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": tmp,
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": tmp,
        "PYTHONPATH": SITE_INSIDE,
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "OMP_THREAD_LIMIT": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{tmp}/.matplotlib",
        "XDG_CACHE_HOME": f"{tmp}/.cache",
        "STUDYBOT_OUTPUT_DIR": out,
        "STUDYBOT_SANDBOX": "1",
    }


def _mirror_top_level(args: list[str]) -> None:
    """/bin, /lib, /lib64, /sbin as on the host (merged-/usr symlinks or read-only dirs)."""
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top) and top != "/bin" and top != "/sbin":
            args += ["--ro-bind", top, top]


def _already_visible(args: list[str], folder: str) -> bool:
    """Whether ``folder`` lies in a folder that ``args`` already bind read-only."""
    bound = [args[i + 2] for i, arg in enumerate(args[:-2]) if arg == "--ro-bind"]
    return any(folder == top or folder.startswith(top.rstrip("/") + "/") for top in bound)


def bwrap_args(
    plan: HostPlan,
    *,
    device: str,
    seccomp_fd: int | None,
) -> list[str]:
    """bubblewrap's options for one sandbox (order matters: ``--remount-ro /`` last). They
    reach bubblewrap through a file descriptor, so host paths stay out of its command line."""
    config = plan.config
    tmp_bytes = str(config.tmp_mb * 1024 * 1024)
    out_bytes = str(max(config.files_max, 1) * config.file_kb * 1024 + 1024 * 1024)
    code_bytes = str(config.code_kb * 1024 + 64 * 1024)
    args = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",  # the launcher is the pid namespace's init: when it ends, all ends
        "--uid",
        str(UID_INSIDE),
        "--gid",
        str(UID_INSIDE),
        "--hostname",
        "sandbox",
    ]
    for lib in ("/usr/lib", "/usr/lib64", "/usr/lib32"):
        if os.path.isdir(lib) and not os.path.islink(lib):
            args += ["--ro-bind", lib, lib]
    _mirror_top_level(args)
    for source, dest in plan.runtime.binds():
        args += ["--ro-bind", source, dest]
    for path in (
        "/etc/ld.so.cache",
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/localtime",
        "/usr/share/zoneinfo",
    ):
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    cuda = device.startswith("cuda:")
    if cuda:
        for node in gpu_nodes(int(device.split(":", 1)[1])):
            args += ["--dev-bind", node, node]
        args += ["--ro-bind", "/sys", "/sys"]
        for folder in plan.gpu_libraries:
            if not _already_visible(args, folder):
                args += ["--ro-bind", folder, folder]
    for dest, size in (("/dev/shm", tmp_bytes), ("/tmp", tmp_bytes)):
        args += ["--size", size, "--perms", "1777", "--tmpfs", dest]
    args += ["--size", out_bytes, "--perms", "0755", "--tmpfs", "/out"]
    args += ["--size", code_bytes, "--perms", "0755", "--tmpfs", "/code"]
    args += ["--remount-ro", "/dev", "--chdir", "/out"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args.append("--clearenv")
    env = _env(config, "/out", "/tmp")
    if cuda and plan.gpu_libraries:
        env["LD_LIBRARY_PATH"] = ":".join(plan.gpu_libraries)
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--remount-ro", "/"]
    return args


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _gate(config: SandboxConfig) -> str:
    """The gate's script: set the rlimits on itself (lowering needs no privilege; the
    host may lack CAP_SYS_RESOURCE to set them from outside), wait until the host has put
    it into its cgroup and says "go", then become bubblewrap (or the launcher)."""
    fsize_blocks = config.fsize_mb * 1024 * 1024 // 512  # dash counts 512-byte blocks
    warm_cpu = int(config.cpu_s) + 300  # the launcher lowers it to cpu_s for the job
    limits = (
        f"ulimit -p {config.pids}",
        f"ulimit -n {config.nofile}",
        f"ulimit -f {fsize_blocks}",
        "ulimit -c 0",
        f"ulimit -t {warm_cpu}",
    )
    return " && ".join(limits) + " || exit 112; " + GATE


class _Capture(asyncio.Protocol):
    """stdout or stderr of a sandbox: keeps the first ``cap`` bytes; on more, flags the
    overflow (the host then stops the job) and drops the rest."""

    def __init__(self, overflow: asyncio.Event) -> None:
        self.cap = 0
        self.overflow = overflow
        self.kept = bytearray()
        self.truncated = False
        self.closed = asyncio.Event()
        self.transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

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


class _Status:
    """The launcher's JSON lines after the job. Hostile input (the job runs in the
    launcher's process): bounded, malformed lines skipped, anything past ``limit`` bytes
    dropped. ``ended`` is set by ``{"end": true}`` after an ``{"exit": N}``."""

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
            if used > self.limit:
                continue
            try:
                message = json.loads(line)
            except ValueError:
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


class _Child:
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


@dataclass(eq=False)
class Slot:
    """A sandbox that started, warmed up and waits for its one job."""

    plan: HostPlan
    device: str
    child: _Child | None = None
    lease: Lease | None = None
    cgroup: JobCgroup | None = None
    job_w: int | None = None
    status: asyncio.StreamReader | None = None
    stdout: _Capture | None = None
    stderr: _Capture | None = None
    overflow: asyncio.Event = field(default_factory=asyncio.Event)
    inner_pidfd: int | None = None  # the sandbox's pid 1 (the launcher), pinned
    scratch: str | None = None  # rlimits mode: host folder with out/, code/, tmp/
    _transports: list[asyncio.BaseTransport] = field(default_factory=list)
    used: bool = False
    urgent: bool = False  # a job waits for this slot: warm up at full CPU share
    gpu_problem: str | None = None  # why a GPU sandbox fell back to the CPU

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
            self.stdout = await self._capture(loop, pipes.pop("stdout"))
            self.stderr = await self._capture(loop, pipes.pop("stderr"))
            status_limit = config.file_kb * 1024 * 4 // 3 + 4096
            self.status = await self._reader(loop, pipes.pop("status"), status_limit)
        finally:
            for fd in pipes.values():
                os.close(fd)
        try:
            ready = await asyncio.wait_for(self.status.readline(), START_TIMEOUT_S)
        except TimeoutError:
            ready = b""
        if not ready.startswith(b'{"ready"'):
            detail = await self._early_stderr()
            raise SlotStartError(f"the sandbox did not start: {detail or 'no output'}")
        self._check_gpu(ready)
        if self.plan.mode == "bwrap":
            self.inner_pidfd = _pin_child(self.child.pid)

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

    async def _capture(self, loop: asyncio.AbstractEventLoop, fd: int) -> _Capture:
        capture = _Capture(self.overflow)
        capture.start_job(64 * 1024)  # start-up errors (bubblewrap's own) are kept too
        transport, _ = await loop.connect_read_pipe(
            lambda: capture, os.fdopen(fd, "rb", buffering=0)
        )
        self._transports.append(transport)
        return capture

    async def _reader(
        self, loop: asyncio.AbstractEventLoop, fd: int, limit: int
    ) -> asyncio.StreamReader:
        reader = asyncio.StreamReader(limit=limit)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
        )
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
        launcher_config = {
            "job_fd": job_r,
            "status_fd": status_w,
            "preload_torch": config.preload_torch,
            "device": self.device,
            "threads": config.threads,
            "code_max": config.code_kb * 1024,
        }
        if plan.mode == "bwrap":
            assert plan.bwrap is not None
            seccomp_fd = _memfd("studybot-seccomp", plan.seccomp) if plan.seccomp else None
            launcher_config.update(out_dir="/out", code_dir="/code")
            options = bwrap_args(plan, device=self.device, seccomp_fd=seccomp_fd)
            args_fd = _memfd("studybot-bwrap-args", b"".join(a.encode() + b"\0" for a in options))
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
            env = _env(config, parts["out"], parts["tmp"])
            env["PYTHONPATH"] = plan.runtime.site_packages
            prefix = []
            cwd = parts["out"]
        command = [
            plan.runtime.python,
            "-S",
            "-B",
            "-X",
            "utf8",
            "-c",
            LAUNCHER_SOURCE,
            json.dumps(launcher_config),
        ]
        argv = ["/bin/sh", "-c", _gate(config), "studybot-gate", *prefix, *command]
        drop = {"user": uid, "group": uid, "extra_groups": []} if plan.drop_uid else {}
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
                **drop,  # type: ignore[arg-type]
            )
        except BaseException:
            os.close(status_r)
            raise
        finally:
            for fd in passed:
                os.close(fd)
        self.child = _Child(popen)
        assert popen.stdin is not None and popen.stdout is not None and popen.stderr is not None
        try:
            if self.cgroup is not None:
                self.cgroup.attach(popen.pid)
            popen.stdin.write(b"go\n")
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
            and not self.status.at_eof()
        )

    def kill(self) -> None:
        """Stop the sandbox: SIGKILL to its pid 1 (the launcher) ends its whole pid
        namespace; bubblewrap, our child, reaps it and exits. (Killing bubblewrap first
        would orphan the pid 1 to the host's init, which may never reap it.)"""
        child = self.child
        if self.inner_pidfd is None and self.plan.mode == "bwrap" and child is not None:
            # still starting: find its pid 1 now
            self.inner_pidfd = None if child.returncode is not None else _pin_child(child.pid)
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
        header = {
            "name": job.name,
            "seed": job.seed if job.seed is not None else secrets.randbits(63),
            "argv": list(job.argv),
            "cpu_s": config.cpu_s,
            "nofile": config.nofile,
            "fsize": config.fsize_mb * 1024 * 1024,
            "files_max": config.files_max,
            "file_max": config.file_kb * 1024,
        }
        loop = asyncio.get_running_loop()
        out, err = self.stdout, self.stderr
        assert out is not None and err is not None
        for capture in (out, err):
            capture.start_job(config.output_kb * 1024)
        self.overflow.clear()
        line_max = config.file_kb * 1024 * 4 // 3 + 4096
        report = _Status(self.status, (config.files_max + 1) * line_max + STATUS_EXTRA)
        status_task = asyncio.create_task(report.run())
        waits = {
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
        killed_for: str | None = None
        returncode: int | None = None
        if ended_by == "end":
            # the launcher finished: the output is in the pipes; the exit (which takes a
            # torch process tens of milliseconds) and the cleanup happen after the answer
            out.drain_now()
            err.drain_now()
            self.kill()
            if out.truncated or err.truncated:
                killed_for = "output_limit"
        else:
            if ended_by != "exit":
                killed_for = ended_by or "timeout"
                self.kill()
            returncode = await child.wait()
            if self.plan.mode != "bwrap" and self.cgroup is not None:
                self.cgroup.kill_listed()  # no pid namespace took the job's children along
            for capture in (out, err):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(capture.closed.wait(), DRAIN_TIMEOUT_S)
            await _settle(status_task)
        status_task.cancel()
        oom = peak = None
        if self.cgroup is not None:
            oom = self.cgroup.oom_killed()
            peak = self.cgroup.peak_bytes()
        accepted, notes = output_files.check(
            report.messages,
            files_max=config.files_max,
            png_max=config.file_kb * 1024,
        )
        status, exit_code, sig = _status(
            returncode, killed_for, bool(oom), report.exit_code, report.signal
        )
        if out.truncated or err.truncated:
            notes.append(f"output cut at {config.output_kb} KiB")
        if self.gpu_problem:
            notes.append(f"the GPU could not be used, ran on the CPU: {self.gpu_problem}")
        return RunResult(
            status=status,  # type: ignore[arg-type]
            exit_code=exit_code,
            signal=sig,
            stdout=out.text(),
            stderr=err.text(),
            truncated=out.truncated or err.truncated,
            wall_ms=wall_ms,
            device=self.device,
            files=tuple(accepted),
            sandboxed=self.plan.mode == "bwrap",
            memory_peak_mb=round(peak / 2**20, 1) if peak else None,
            notes=tuple(notes),
        )

    async def _send_job(self, data: bytes) -> None:
        assert self.job_w is not None
        loop = asyncio.get_running_loop()
        fd, self.job_w = self.job_w, None
        try:
            transport, _ = await loop.connect_write_pipe(
                asyncio.Protocol, os.fdopen(fd, "wb", buffering=0)
            )
        except OSError:
            os.close(fd)
            return
        self._transports.append(transport)
        transport.write(data)
        transport.close()  # flushes what is buffered, then closes: the launcher sees EOF

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


def _pin_child(pid: int) -> int | None:
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


async def _settle(task: asyncio.Task[T]) -> T | None:
    """The task's result, or None when it does not end within the drain timeout."""
    try:
        return await asyncio.wait_for(task, DRAIN_TIMEOUT_S)
    except TimeoutError:
        return None


def _status(
    returncode: int | None,
    killed_for: str | None,
    oom: bool,
    reported_exit: int | None,
    reported_signal: int | None = None,
) -> tuple[str, int | None, int | None]:
    """(status, exit code, signal). ``returncode`` is bubblewrap's (None when the launcher
    reported the end itself). bubblewrap turns death by signal N into 128+N; the
    launcher's report tells that apart from an exit code above 128. As the pid namespace's
    init, the launcher cannot die of most signals (the kernel protects an init), so it
    reports them and exits with 128+N itself. "memory" comes from the cgroup's counter."""
    sig: int | None = None
    exit_code: int | None = None
    if returncode is None:
        exit_code = reported_exit
    elif returncode < 0:
        sig = -returncode
    elif returncode > 128 and (reported_signal == returncode - 128 or reported_exit != returncode):
        sig = returncode - 128
    else:
        exit_code = returncode
    if oom:
        return "memory", exit_code, sig
    if killed_for is not None:
        return killed_for, exit_code, sig
    if sig == signal.SIGXCPU:  # the CPU-time limit (RLIMIT_CPU) is a time limit
        return "timeout", exit_code, sig
    if sig is not None:
        return "signal", exit_code, sig
    return ("ok" if exit_code == 0 else "error"), exit_code, sig
