"""The cgroup v2 path of the sandbox's control groups: set-up and limits on a fake cgroup
filesystem in a temporary folder, and a job group's process mechanics (attach, kill, empty,
remove) on a real cgroup2 mount where the host allows one."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import cgroups
from sandbox.cgroups import CgroupError, CgroupHost, JobCgroup

CONTROLLERS = "cpuset cpu io memory pids"
MiB = 1024 * 1024

# interface files a fresh group gets (the v2 names; v1 detection needs only cgroup.procs)
INTERFACE = {
    "cgroup.procs": "",
    "cgroup.subtree_control": "",
    "cgroup.kill": "",
    "memory.max": "max\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "memory.peak": "0\n",
    "pids.max": "max\n",
    "cpu.weight": "100\n",
}


def _escape(path: Path) -> str:
    return str(path).replace("\\", "\\134").replace(" ", "\\040")


def v2_line(point: Path) -> str:
    return f"36 25 0:30 / {_escape(point)} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate"


def v1_line(point: Path, options: str) -> str:
    return f"32 31 0:29 / {_escape(point)} rw,relatime - cgroup cgroup rw,{options}"


class FakeCgroupFs:
    """A cgroup filesystem in a temporary folder. ``mkdir`` below ``base`` adds the
    interface files the kernel would (``memory.swap.max`` when ``swap``), ``rmdir`` drops
    them (and refuses a group with processes), and writes through ``cgroups._write`` are
    recorded; a ``cgroup.subtree_control`` write adds to or removes from the enabled set,
    which must be offered by the parent, as in the kernel. ``fail`` maps a value to the
    errno its write fails with."""

    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        self.swap = False
        self.roots: set[Path] = set()
        self.writes: list[tuple[Path, str]] = []
        self.fail: dict[str, int] = {}
        self.mountinfo = base.parent / "mountinfo"
        base.mkdir()
        mkdir, rmdir, write = Path.mkdir, Path.rmdir, cgroups._write

        def fake_mkdir(
            path: Path, mode: int = 0o777, parents: bool = False, exist_ok: bool = False
        ):
            existed = path.is_dir()
            mkdir(path, mode, parents, exist_ok)
            if not existed and path.is_relative_to(self.base) and path != self.base:
                for name, text in INTERFACE.items():
                    (path / name).write_text(text)
                if self.swap:
                    (path / "memory.swap.max").write_text("max\n")

        def fake_rmdir(path: Path) -> None:
            if path.is_relative_to(self.base):
                if (path / "cgroup.procs").read_text().split():
                    raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
                for child in path.iterdir():
                    if child.is_file():
                        child.unlink()
            rmdir(path)

        def fake_write(path: Path, value: str) -> None:
            self.writes.append((path, value))
            if value in self.fail:
                raise CgroupError(f"cannot write {value!r} to {path}: fake", self.fail[value])
            if path.name == "cgroup.subtree_control":
                directory, controller = path.parent, value[1:]
                offered = (
                    directory / "cgroup.controllers"
                    if directory in self.roots
                    else directory.parent / "cgroup.subtree_control"
                )
                if controller not in offered.read_text().split():
                    raise CgroupError(f"cannot write {value!r} to {path}: ENOENT", errno.ENOENT)
                enabled = set(path.read_text().split())
                enabled = enabled | {controller} if value[0] == "+" else enabled - {controller}
                value = " ".join(sorted(enabled))
            write(path, value)

        monkeypatch.setattr(Path, "mkdir", fake_mkdir)
        monkeypatch.setattr(Path, "rmdir", fake_rmdir)
        monkeypatch.setattr(cgroups, "_write", fake_write)

    def mount_v2(self, point: Path, controllers: str = CONTROLLERS) -> Path:
        """A cgroup2 root at ``point`` offering ``controllers``."""
        point.mkdir(parents=True, exist_ok=True)
        (point / "cgroup.controllers").write_text(controllers + "\n")
        (point / "cgroup.subtree_control").write_text("")
        (point / "cgroup.procs").write_text("1\n")  # the root holds processes (allowed)
        self.roots.add(point)
        return point

    def mounts(self, *lines: str) -> Path:
        self.mountinfo.write_text("".join(line + "\n" for line in lines))
        return self.mountinfo

    def written(self, name: str) -> list[tuple[Path, str]]:
        return [(path, value) for path, value in self.writes if path.name == name]


@pytest.fixture
def fs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCgroupFs:
    return FakeCgroupFs(tmp_path / "cg", monkeypatch)


@pytest.fixture
def v2(fs: FakeCgroupFs) -> CgroupHost:
    """A host detected on a fake cgroup2 root offering cpuset, cpu, io, memory and pids."""
    root = fs.mount_v2(fs.base)
    return CgroupHost.detect(fs.mounts(v2_line(root)))


# --- detection -------------------------------------------------------------------------


def test_detect_v2_uses_one_parent_for_every_controller(fs: FakeCgroupFs, v2: CgroupHost) -> None:
    parent = fs.base / "studybot"
    assert v2 == CgroupHost(2, parent, parent, parent)
    assert parent.is_dir()


def test_detect_v2_enables_the_controllers_one_at_a_time(fs: FakeCgroupFs, v2: CgroupHost) -> None:
    root, parent = fs.base / "cgroup.subtree_control", fs.base / "studybot/cgroup.subtree_control"
    assert fs.written("cgroup.subtree_control") == [
        (root, "+memory"),
        (root, "+pids"),
        (root, "+cpu"),
        (parent, "+memory"),
        (parent, "+pids"),
        (parent, "+cpu"),
    ]
    assert set(root.read_text().split()) == {"cpu", "memory", "pids"}
    assert set(parent.read_text().split()) == {"cpu", "memory", "pids"}


def test_detect_v2_skips_controllers_already_enabled(fs: FakeCgroupFs) -> None:
    root = fs.mount_v2(fs.base)
    (root / "cgroup.subtree_control").write_text("memory pids\n")
    (root / "studybot").mkdir()
    (root / "studybot/cgroup.subtree_control").write_text("memory\n")
    host = CgroupHost.detect(fs.mounts(v2_line(root)))
    assert host.cpu == root / "studybot"
    assert fs.written("cgroup.subtree_control") == [
        (root / "cgroup.subtree_control", "+cpu"),
        (root / "studybot/cgroup.subtree_control", "+pids"),
        (root / "studybot/cgroup.subtree_control", "+cpu"),
    ]


def test_detect_v2_goes_on_without_cpu_when_enabling_it_fails(fs: FakeCgroupFs) -> None:
    root = fs.mount_v2(fs.base)
    fs.fail["+cpu"] = errno.EINVAL  # e.g. realtime tasks outside the root group
    host = CgroupHost.detect(fs.mounts(v2_line(root)))
    assert host == CgroupHost(2, root / "studybot", root / "studybot", None)
    assert [value for _, value in fs.written("cgroup.subtree_control")] == [
        "+memory",
        "+pids",
        "+cpu",  # tried once, at the root; not again for the parent
        "+memory",
        "+pids",
    ]


def test_detect_v2_without_a_cpu_controller(fs: FakeCgroupFs) -> None:
    root = fs.mount_v2(fs.base, "io memory pids")
    host = CgroupHost.detect(fs.mounts(v2_line(root)))
    assert host.cpu is None and host.memory == root / "studybot"
    assert "+cpu" not in [value for _, value in fs.writes]


@pytest.mark.parametrize("missing", ["memory", "pids"])
def test_detect_v2_needs_memory_and_pids(fs: FakeCgroupFs, missing: str) -> None:
    root = fs.mount_v2(fs.base, CONTROLLERS.replace(missing, ""))
    with pytest.raises(CgroupError) as caught:
        CgroupHost.detect(fs.mounts(v2_line(root)))
    assert f"the cgroup v2 hierarchy at {root} has no {missing} controller" in str(caught.value)
    assert fs.writes == []
    assert not (root / "studybot").exists()


def test_detect_says_when_a_controller_is_bound_to_v1(fs: FakeCgroupFs) -> None:
    memory_v1 = fs.base / "memory"
    memory_v1.mkdir()
    root = fs.mount_v2(fs.base / "unified", "hugetlb")
    with pytest.raises(CgroupError) as caught:
        CgroupHost.detect(fs.mounts(v1_line(memory_v1, "memory"), v2_line(root)))
    message = str(caught.value)
    assert f"no memory controller, it is bound to cgroup v1 at {memory_v1}" in message
    assert f"{root} has no pids controller" in message


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (errno.EBUSY, "processes sit directly in {root}"),
        (errno.EBUSY, "run the bot in a leaf cgroup and delegate a subtree"),
        (errno.EACCES, "run the bot as root or delegate {root} to its user"),
        (errno.EROFS, "mounted read-only"),
    ],
)
def test_detect_v2_explains_why_memory_cannot_be_enabled(
    fs: FakeCgroupFs, code: int, hint: str
) -> None:
    root = fs.mount_v2(fs.base)
    fs.fail["+memory"] = code
    with pytest.raises(CgroupError) as caught:
        CgroupHost.detect(fs.mounts(v2_line(root)))
    message = str(caught.value)
    assert f"cannot enable the memory controller in {root}/cgroup.subtree_control" in message
    assert hint.format(root=root) in message
    assert caught.value.errno == code


def test_detect_v2_refuses_an_unwritable_parent(
    fs: FakeCgroupFs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fs.mount_v2(fs.base)
    monkeypatch.setattr(cgroups.os, "access", lambda path, mode: False)
    with pytest.raises(CgroupError, match="is not writable"):
        CgroupHost.detect(fs.mounts(v2_line(root)))


def test_detect_reads_escaped_mount_points(fs: FakeCgroupFs) -> None:
    root = fs.mount_v2(fs.base / "cgroup fs")
    host = CgroupHost.detect(fs.mounts(v2_line(root)))
    assert host.memory == root / "studybot" and host.memory.is_dir()


def test_detect_prefers_v1_memory_and_pids(fs: FakeCgroupFs) -> None:
    points = {name: fs.base / name for name in ("memory", "pids", "cpu,cpuacct")}
    for point in points.values():
        point.mkdir()
    unified = fs.mount_v2(fs.base / "unified")  # hybrid: a v2 root with every controller
    mountinfo = fs.mounts(
        v1_line(points["cpu,cpuacct"], "cpu,cpuacct"),
        v1_line(points["memory"], "memory"),
        v1_line(points["pids"], "pids"),
        v2_line(unified),
    )
    host = CgroupHost.detect(mountinfo)
    assert host == CgroupHost(
        1,
        points["memory"] / "studybot",
        points["pids"] / "studybot",
        points["cpu,cpuacct"] / "studybot",
    )
    assert all(path.is_dir() for path in (host.memory, host.pids, host.cpu) if path)
    assert fs.written("cgroup.subtree_control") == []


# --- a job's group ---------------------------------------------------------------------


@pytest.mark.parametrize("swap", [False, True])
def test_create_v2_writes_the_limits(fs: FakeCgroupFs, v2: CgroupHost, swap: bool) -> None:
    fs.swap = swap
    group = v2.create("u990001", 256 * MiB, 64)
    path = v2.memory / "u990001"
    assert group.dirs == [path]
    assert (path / "memory.max").read_text() == str(256 * MiB)
    assert (path / "pids.max").read_text() == "64"
    assert (path / "cpu.weight").read_text() == "1"  # warming up: a small share
    swap_writes = fs.written("memory.swap.max")
    if swap:
        assert swap_writes == [(path / "memory.swap.max", "0")]
    else:
        assert swap_writes == [] and not (path / "memory.swap.max").exists()
    assert v2.names() == ["u990001"]


def test_create_v2_replaces_a_stale_group(fs: FakeCgroupFs, v2: CgroupHost) -> None:
    stale = v2.memory / "u990001"
    stale.mkdir()
    (stale / "memory.max").write_text("1")
    v2.create("u990001", 128 * MiB, 32)
    assert (stale / "memory.max").read_text() == str(128 * MiB)


def test_job_v2_attach_limit_and_priority(fs: FakeCgroupFs, v2: CgroupHost) -> None:
    group = v2.create("u990001", 256 * MiB, 64)
    fs.writes.clear()
    group.attach(4242)
    assert fs.writes == [(group.memory / "cgroup.procs", "4242")]  # one group, one write
    group.limit_memory(100 * MiB)
    assert (group.memory / "memory.max").read_text() == str(100 * MiB)
    group.set_low_priority(False)
    assert (group.memory / "cpu.weight").read_text() == "100"
    group.set_low_priority(True)
    assert (group.memory / "cpu.weight").read_text() == "1"


def test_job_v2_without_cpu_leaves_the_weight_alone(fs: FakeCgroupFs) -> None:
    root = fs.mount_v2(fs.base, "memory pids")
    host = CgroupHost.detect(fs.mounts(v2_line(root)))
    group = host.create("u990001", 256 * MiB, 64)
    assert fs.written("cpu.weight") == []
    assert (group.memory / "cpu.weight").read_text() == "100\n"


@pytest.mark.parametrize(
    ("events", "killed"),
    [
        ("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\noom_group_kill 0\n", False),
        ("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n", True),
        ("", False),
    ],
)
def test_job_v2_oom_killed_reads_memory_events(
    fs: FakeCgroupFs, v2: CgroupHost, events: str, killed: bool
) -> None:
    group = v2.create("u990001", 256 * MiB, 64)
    (group.memory / "memory.events").write_text(events)
    assert group.oom_killed() is killed


def test_job_v2_peak_bytes_reads_memory_peak(fs: FakeCgroupFs, v2: CgroupHost) -> None:
    group = v2.create("u990001", 256 * MiB, 64)
    (group.memory / "memory.peak").write_text("123456789\n")
    assert group.peak_bytes() == 123456789
    (group.memory / "memory.peak").unlink()  # kernels before 5.19
    assert group.peak_bytes() is None


def test_job_v2_remove(fs: FakeCgroupFs, v2: CgroupHost) -> None:
    group = v2.create("u990001", 256 * MiB, 64)
    group.remove()
    assert not group.memory.exists() and v2.names() == []


# --- a real cgroup2 mount --------------------------------------------------------------


@pytest.fixture
def cgroup2(tmp_path: Path) -> Iterator[Path]:
    """A cgroup2 filesystem mounted on a temporary folder (unmounted afterwards)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a cgroup2 filesystem needs root")
    point = tmp_path / "cgroup2"
    point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "cgroup2", "none", str(point)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if done.returncode != 0:
        pytest.skip(f"cannot mount cgroup2 here: {done.stderr.strip() or done.returncode}")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], capture_output=True, check=False)


@pytest.fixture
def real_host(cgroup2: Path) -> Iterator[CgroupHost]:
    """A v2 host whose parent is a fresh group on the real mount (only the process
    mechanics can be used: memory and pids may be bound to cgroup v1 on this host)."""
    parent = cgroup2 / f"studybot-test-{uuid.uuid4().hex}"
    parent.mkdir()
    try:
        yield CgroupHost(2, parent, parent, None)
    finally:
        for child in parent.iterdir():
            if child.is_dir():
                with contextlib.suppress(OSError):
                    (child / "cgroup.kill").write_text("1")
                with contextlib.suppress(OSError):
                    child.rmdir()
        with contextlib.suppress(OSError):
            parent.rmdir()


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=5)


def test_real_cgroup2_job_lifecycle(
    real_host: CgroupHost, sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    group = JobCgroup(real_host, "u1")
    group.memory.mkdir()
    assert real_host.names() == ["u1"]
    group.attach(sleeper.pid)
    assert group.procs() == [sleeper.pid]
    if (group.pids / "cgroup.kill").exists():  # kernel 5.14+: no signal per process
        with monkeypatch.context() as patch:
            patch.setattr(os, "kill", _no_kill)
            group.kill_listed()
    else:
        group.kill_listed()
    assert sleeper.wait(timeout=5) == -signal.SIGKILL
    assert asyncio.run(group.empty(timeout=5)) is True
    group.remove()
    assert not group.memory.exists()
    assert real_host.names() == []


def test_real_cgroup2_remove_stale_kills_and_removes(
    real_host: CgroupHost, sleeper: subprocess.Popen[bytes]
) -> None:
    group = JobCgroup(real_host, "u1")
    group.memory.mkdir()
    group.attach(sleeper.pid)
    JobCgroup(real_host, "u1").remove_stale()
    assert not group.memory.exists()
    assert sleeper.wait(timeout=5) == -signal.SIGKILL


def test_real_cgroup2_attach_of_a_missing_process_fails(real_host: CgroupHost) -> None:
    group = JobCgroup(real_host, "u1")
    group.memory.mkdir()
    with pytest.raises(CgroupError, match=r"cgroup\.procs") as caught:
        group.attach(2**22 + 1)  # above pid_max's ceiling: never a live process
    assert caught.value.errno == errno.ESRCH


def _no_kill(pid: int, sig: int) -> None:
    raise AssertionError(f"kill_listed signalled {pid} itself instead of using cgroup.kill")
