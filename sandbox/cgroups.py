"""Memory, process and CPU-share limits per sandbox with control groups (v1 or v2).

Each live sandbox gets its own group, named after the host uid it runs as; the group is
created before the sandbox starts, the sandbox's first process is moved in before it forks,
and the group is emptied and removed after the job. "memory" in a result comes from the
group's own OOM counter, never from an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno as errnos
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupError", "CgroupHost", "JobCgroup"]

PARENT = "studybot"
LOW_SHARES_V1 = 16  # a warming sandbox yields the CPU to running jobs
LOW_WEIGHT_V2 = 1
REQUIRED_V2 = ("memory", "pids")  # enabled in this order, then "cpu" when it can be


class CgroupError(RuntimeError):
    """A control group cannot be set up or used; ``errno`` is the failed call's, if any."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror}", exc.errno) from None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _unescape(field: str) -> str:
    """Undo mountinfo's octal escapes (``\\040`` for a space, and so on)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mounts(mountinfo: str | Path = "/proc/self/mountinfo") -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) of the cgroup mounts we can see."""
    found = []
    with contextlib.suppress(OSError), open(mountinfo) as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            parts, tail = left.split(), right.split()
            if len(parts) < 5 or len(tail) < 3:
                continue
            if tail[0] in ("cgroup", "cgroup2"):
                found.append((_unescape(parts[4]), tail[0], set(tail[2].split(","))))
    return found


def _enable_failure(directory: Path, controller: str, exc: CgroupError) -> str:
    """Why a controller could not be enabled in ``directory``'s children, and what helps."""
    where = f"cannot enable the {controller} controller in {directory}/cgroup.subtree_control"
    if exc.errno == errnos.EBUSY:
        hint = (
            f"processes sit directly in {directory} (the cgroup root of this namespace, where "
            "the bot itself may run), and a cgroup v2 group with processes cannot hand "
            "controllers to its children: run the bot in a leaf cgroup and delegate a subtree "
            "to it (systemd: Delegate=yes; a container: move its processes into a child group "
            "such as /init before starting the bot)"
        )
    elif exc.errno in (errnos.EACCES, errnos.EPERM):
        hint = f"run the bot as root or delegate {directory} to its user"
    elif exc.errno == errnos.EROFS:
        hint = "the cgroup filesystem is mounted read-only; give the bot a writable cgroup"
    elif exc.errno == errnos.ENOENT:
        hint = f"{directory}/cgroup.controllers does not list it (its parent does not hand it down)"
    elif exc.errno == errnos.EOPNOTSUPP:
        hint = f"{directory} is a threaded cgroup; the bot needs a domain cgroup"
    else:
        hint = str(exc)
    return f"{where}: {hint}"


@dataclass(frozen=True)
class CgroupHost:
    """Where per-sandbox groups are created: v1 controller roots or one v2 parent."""

    version: int
    memory: Path  # v1: <memory root>/studybot; v2: <root>/studybot (all controllers)
    pids: Path
    cpu: Path | None

    @classmethod
    def detect(cls, mountinfo: str | Path = "/proc/self/mountinfo") -> CgroupHost:
        """Find writable memory and pids controllers, or raise ``CgroupError`` saying why."""
        mounts = _mounts(mountinfo)
        v1 = {opt: Path(point) for point, kind, opts in mounts if kind == "cgroup" for opt in opts}
        if "memory" in v1 and "pids" in v1:
            host = cls(
                1,
                v1["memory"] / PARENT,
                v1["pids"] / PARENT,
                v1["cpu"] / PARENT if "cpu" in v1 else None,
            )
            for path in filter(None, (host.memory, host.pids, host.cpu)):
                try:
                    path.mkdir(exist_ok=True)
                except OSError as exc:
                    raise CgroupError(
                        f"cannot create the cgroup {path} ({exc.strerror}); run the bot as "
                        "root or give it a writable memory and pids cgroup"
                    ) from None
                if not os.access(path / "cgroup.procs", os.W_OK):
                    raise CgroupError(f"the cgroup {path} is not writable")
            return host
        problems = []
        for point, kind, _ in mounts:
            if kind != "cgroup2":
                continue
            root = Path(point)
            controllers = set(_read(root / "cgroup.controllers").split())
            missing = [c for c in REQUIRED_V2 if c not in controllers]
            if not missing:
                return cls._set_up_v2(root, "cpu" in controllers)
            for controller in missing:
                bound = (
                    f", it is bound to cgroup v1 at {v1[controller]}" if controller in v1 else ""
                )
                problems.append(
                    f"the cgroup v2 hierarchy at {root} has no {controller} controller{bound}"
                )
        raise CgroupError(
            "no memory and pids cgroup controllers are mounted (cgroup v1 or v2 needed)"
            + "".join(f"; {problem}" for problem in problems)
        )

    @classmethod
    def _set_up_v2(cls, root: Path, cpu: bool) -> CgroupHost:
        """Create ``<root>/studybot`` and enable memory, pids (required) and cpu (when it
        can be) for the children of the root and of that parent, one controller a write."""
        parent = root / PARENT
        try:
            parent.mkdir(exist_ok=True)
        except OSError as exc:
            raise CgroupError(
                f"cannot create the cgroup {parent} ({exc.strerror}); run the bot as root or "
                f"delegate {root} to it",
                exc.errno,
            ) from None
        for directory in (root, parent):
            enabled = set(_read(directory / "cgroup.subtree_control").split())
            for controller in (*REQUIRED_V2, "cpu"):
                if controller in enabled or (controller == "cpu" and not cpu):
                    continue
                try:
                    _write(directory / "cgroup.subtree_control", "+" + controller)
                except CgroupError as exc:
                    if controller == "cpu":  # optional (e.g. EINVAL with realtime tasks)
                        cpu = False
                        continue
                    raise CgroupError(
                        _enable_failure(directory, controller, exc), exc.errno
                    ) from None
        if not os.access(parent / "cgroup.procs", os.W_OK):
            raise CgroupError(f"the cgroup {parent} is not writable")
        return cls(2, parent, parent, parent if cpu else None)

    def names(self) -> list[str]:
        """Names of the per-sandbox groups that exist now (any process's)."""
        try:
            return sorted(p.name for p in self.pids.iterdir() if p.is_dir())
        except OSError:
            return []

    def create(self, name: str, memory_bytes: int, pids: int) -> JobCgroup:
        group = JobCgroup(self, name)
        group.remove_stale()
        for path in group.dirs:
            try:
                path.mkdir()
            except OSError as exc:
                raise CgroupError(f"cannot create {path}: {exc.strerror}") from None
        if self.version == 1:
            _write(group.memory / "memory.limit_in_bytes", str(memory_bytes))
            memsw = group.memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # swap may not count against the limit
                _write(memsw, str(memory_bytes))
            with contextlib.suppress(CgroupError):
                _write(group.memory / "memory.swappiness", "0")
            _write(group.pids / "pids.max", str(pids))
        else:
            _write(group.memory / "memory.max", str(memory_bytes))
            if (group.memory / "memory.swap.max").exists():
                _write(group.memory / "memory.swap.max", "0")
            _write(group.pids / "pids.max", str(pids))
        group.set_low_priority(True)
        return group


@dataclass
class JobCgroup:
    host: CgroupHost
    name: str

    @property
    def memory(self) -> Path:
        return self.host.memory / self.name

    @property
    def pids(self) -> Path:
        return self.host.pids / self.name

    @property
    def cpu(self) -> Path | None:
        return self.host.cpu / self.name if self.host.cpu else None

    @property
    def dirs(self) -> list[Path]:
        paths = [self.memory, self.pids, self.cpu]
        unique: list[Path] = []
        for path in paths:
            if path is not None and path not in unique:
                unique.append(path)
        return unique

    def attach(self, pid: int) -> None:
        """Move a (not yet forked) process into every controller's group."""
        for path in self.dirs:
            _write(path / "cgroup.procs", str(pid))

    def limit_memory(self, memory_bytes: int) -> None:
        """Lower the memory limit (a job may ask for less than the sandbox's default)."""
        if self.host.version == 1:
            memsw = self.memory / "memory.memsw.limit_in_bytes"
            _write(self.memory / "memory.limit_in_bytes", str(memory_bytes))
            if memsw.exists():
                _write(memsw, str(memory_bytes))
        else:
            _write(self.memory / "memory.max", str(memory_bytes))

    def set_low_priority(self, low: bool) -> None:
        """Warming sandboxes get a small CPU share; a sandbox running a job a normal one."""
        if self.cpu is None:
            return
        with contextlib.suppress(CgroupError):
            if self.host.version == 1:
                _write(self.cpu / "cpu.shares", str(LOW_SHARES_V1 if low else 1024))
            else:
                _write(self.cpu / "cpu.weight", str(LOW_WEIGHT_V2 if low else 100))

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer struck inside this group."""
        if self.host.version == 1:
            fields = dict(
                line.split(None, 1)
                for line in _read(self.memory / "memory.oom_control").split("\n")
                if " " in line
            )
            if "oom_kill" in fields:
                return int(fields["oom_kill"]) > 0
            return int(_read(self.memory / "memory.failcnt") or 0) > 0
        for line in _read(self.memory / "memory.events").splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value) > 0
        return False

    def peak_bytes(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.host.version == 1 else "memory.peak"
        value = _read(self.memory / name).strip()
        return int(value) if value.isdigit() else None

    def procs(self) -> list[int]:
        return [int(p) for p in _read(self.pids / "cgroup.procs").split()]

    def kill_listed(self) -> None:
        """SIGKILL every process of the group (the fallback; the normal path kills the
        sandbox's root process, which takes its whole pid namespace with it)."""
        if self.host.version == 2 and (self.pids / "cgroup.kill").exists():
            with contextlib.suppress(CgroupError):
                _write(self.pids / "cgroup.kill", "1")
                return
        for pid in self.procs():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    async def empty(self, timeout: float = 5.0) -> bool:
        """Wait until no process is left in the group, killing stragglers; True when empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.002
        while self.procs():
            if loop.time() > deadline:
                return False
            if loop.time() > deadline - timeout / 2:
                self.kill_listed()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True

    def remove(self) -> None:
        for path in reversed(self.dirs):
            try:
                path.rmdir()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise CgroupError(f"cannot remove {path}: {exc.strerror}") from None

    def remove_stale(self) -> None:
        """A group of the same name left by a process that died: empty and remove it.
        Only called while holding the uid's lease, so nobody else owns it."""
        if not any(path.exists() for path in self.dirs):
            return
        deadline = time.monotonic() + 5
        while self.procs() and time.monotonic() < deadline:
            self.kill_listed()
            time.sleep(0.01)
        self.remove()
