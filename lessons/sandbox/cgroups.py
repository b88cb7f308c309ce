"""Memory, process and CPU-share limits per sandbox with control groups (v1 or v2).

Each live sandbox gets its own group, named after the host uid it runs as; the group is
created before the sandbox starts, the sandbox's first process is moved in before it forks,
and the group is emptied and removed after the job. "memory" in a result comes from the
group's own OOM counter, never from an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupError", "CgroupHost", "JobCgroup"]

PARENT = "studybot"
LOW_SHARES_V1 = 16  # a warming sandbox yields the CPU to running jobs
LOW_WEIGHT_V2 = 1


class CgroupError(RuntimeError):
    pass


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror}") from None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) of the cgroup mounts we can see."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            parts, tail = left.split(), right.split()
            if len(parts) < 5 or len(tail) < 3:
                continue
            if tail[0] in ("cgroup", "cgroup2"):
                found.append((parts[4], tail[0], set(tail[2].split(","))))
    return found


@dataclass(frozen=True)
class CgroupHost:
    """Where per-sandbox groups are created: v1 controller roots or one v2 parent."""

    version: int
    memory: Path  # v1: <memory root>/studybot; v2: <root>/studybot (all controllers)
    pids: Path
    cpu: Path | None

    @classmethod
    def detect(cls) -> CgroupHost:
        """Find writable memory and pids controllers, or raise ``CgroupError`` saying why."""
        mounts = _mounts()
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
        for point, kind, _ in mounts:
            if kind != "cgroup2":
                continue
            root = Path(point)
            controllers = set(_read(root / "cgroup.controllers").split())
            if not {"memory", "pids"} <= controllers:
                continue
            parent = root / PARENT
            wanted = ["memory", "pids"] + (["cpu"] if "cpu" in controllers else [])
            try:
                parent.mkdir(exist_ok=True)
                enable = " ".join("+" + c for c in wanted)
                _write(root / "cgroup.subtree_control", enable)
                _write(parent / "cgroup.subtree_control", enable)
            except (OSError, CgroupError) as exc:
                raise CgroupError(
                    f"cannot set up the cgroup v2 subtree {parent} ({exc}); run the bot as "
                    "root or delegate that subtree to it"
                ) from None
            return cls(2, parent, parent, parent if "cpu" in wanted else None)
        raise CgroupError(
            "no memory and pids cgroup controllers are mounted (cgroup v1 or v2 needed)"
        )

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
