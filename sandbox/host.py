"""What the host offers the sandbox: the interpreter it runs, the uids it runs as, GPUs,
and ``HostPlan``, all of it found once by ``Sandbox.start``.

Nothing here runs user code; ``slot`` does, with what this module finds.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import stat
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sandbox.cgroups import CgroupHost
from sandbox.config import SandboxConfig

__all__ = [
    "HostPlan",
    "HostUnfit",
    "Lease",
    "Mode",
    "Runtime",
    "UidLeases",
    "find_gpus",
    "find_runtime",
    "gpu_library_dirs",
    "gpu_nodes",
]

SITE_INSIDE = "/opt/site-packages"
Mode = Literal["bwrap", "rlimits"]


class HostUnfit(RuntimeError):
    """The host cannot give the sandbox what it needs (an interpreter, a free uid)."""


def _reachable_by_others(path: str, *, need_read: bool = True) -> bool:
    """Whether a process with no relation to the owner can reach ``path`` (every parent
    searchable by "others", the file itself readable)."""
    current = Path(path)
    try:
        st = current.stat()
    except OSError:
        return False
    wanted = stat.S_IROTH if need_read else 0
    if st.st_mode & wanted != wanted:
        return False
    for parent in current.parents:
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Runtime:
    """The interpreter and packages a sandbox sees, all bound read-only."""

    python: str  # the interpreter, at the same path inside as outside
    prefix: str | None  # its installation, bound at the same path (None: inside /usr)
    site_packages: str  # host folder with torch, bound at SITE_INSIDE

    def binds(self) -> list[tuple[str, str]]:
        binds = [(os.path.realpath(self.python), self.python)]
        if self.prefix:
            binds.insert(0, (self.prefix, self.prefix))
        binds.append((self.site_packages, SITE_INSIDE))
        return binds


def _default_site_packages() -> str:
    spec = importlib.util.find_spec("torch")  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))).parent)
    return sysconfig.get_paths()["purelib"]


def find_runtime(python: str | None, site_packages: str | None, *, drop_uid: bool) -> Runtime:
    """Pick an interpreter the sandbox uid can execute, of this Python's version (the
    packages are compiled for it). Raises ``HostUnfit`` saying what is wrong."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    packages = site_packages or _default_site_packages()
    check = _reachable_by_others if drop_uid else (lambda p, **_: os.access(p, os.R_OK))
    if not check(packages):
        raise HostUnfit(
            f"the packages folder {packages} is not readable by the sandbox's uid; set "
            "STUDYBOT_SANDBOX_SITE_PACKAGES to a world-readable copy"
        )
    if python:
        candidates = [python]
    else:
        own = os.path.realpath(sys.executable)
        candidates = [own, f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    problems = []
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if not os.path.isfile(real):
            problems.append(f"{candidate}: missing")
            continue
        if not re.search(rf"python{re.escape(version)}$", real):
            problems.append(f"{candidate}: not Python {version}")
            continue
        prefix = str(Path(real).parent.parent)
        inside_usr = prefix == "/usr"
        if not check(real) or (not inside_usr and not check(prefix, need_read=False)):
            problems.append(f"{candidate}: not reachable by the sandbox's uid")
            continue
        return Runtime(real, None if inside_usr else prefix, packages)
    raise HostUnfit(
        "no Python "
        + version
        + " interpreter the sandbox's uid can run ("
        + "; ".join(problems)
        + "); install python"
        + version
        + " from the system's packages or set STUDYBOT_SANDBOX_PYTHON"
    )


def find_gpus(dev: str = "/dev") -> tuple[int, ...]:
    """Indices of NVIDIA GPUs with device nodes on this host."""
    if not os.path.exists(os.path.join(dev, "nvidiactl")):
        return ()
    found = []
    for name in os.listdir(dev):
        match = re.fullmatch(r"nvidia(\d+)", name)
        if match:
            found.append(int(match.group(1)))
    return tuple(sorted(found))


def gpu_nodes(index: int, dev: str = "/dev") -> list[str]:
    """The device nodes a CUDA job on GPU ``index`` needs (those this host has)."""
    names = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-caps", f"nvidia{index}"]
    return [node for node in (os.path.join(dev, name) for name in names) if os.path.exists(node)]


DRIVER_LIBRARY = "libcuda.so.1"  # the driver's user-space half; its siblings live beside it
DRIVER_LIBRARY_DIRS = (
    "/usr/local/nvidia/lib64",  # NVIDIA's container images and GPU VMs
    "/usr/local/nvidia/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/local/cuda/compat",
    "/usr/lib/wsl/lib",
)


def _ldconfig_dirs() -> list[str]:
    """Folders where the dynamic linker's cache (``ldconfig -p``) finds the driver library."""
    ldconfig = next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(p)), None
    )
    if ldconfig is None:
        return []
    try:
        listing = subprocess.run(
            [ldconfig, "-p"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in listing.splitlines():
        name, _, target = line.strip().partition(" => ")
        if name.split(" ", 1)[0] == DRIVER_LIBRARY and target:
            found.append(os.path.dirname(target))
    return found


def gpu_library_dirs(
    library_path: str | None = None, candidates: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """Host folders holding the NVIDIA driver's user-space libraries (``libcuda.so.1`` and
    its siblings), which a CUDA sandbox must see: from ``LD_LIBRARY_PATH``, the dynamic
    linker's cache and the usual places. Torch's own CUDA libraries come with its packages."""
    if library_path is None:
        library_path = os.environ.get("LD_LIBRARY_PATH", "")
    if candidates is None:
        candidates = (*_ldconfig_dirs(), *DRIVER_LIBRARY_DIRS)
    found: list[str] = []
    for folder in (*library_path.split(":"), *candidates):
        if not folder or not os.path.isabs(folder):
            continue
        if os.path.exists(os.path.join(folder, DRIVER_LIBRARY)) and folder not in found:
            found.append(folder)
    return tuple(found)


@dataclass
class Lease:
    uid: int
    fd: int | None


class UidLeases:
    """Host uids for sandboxes: each live sandbox holds one, so RLIMIT_NPROC (counted per
    uid) is its own. A lease is an ``flock`` on a file in a root-only folder, so two
    processes on one host (the bot and the command line) never share a uid and a crashed
    process frees its leases."""

    def __init__(self, base: int, count: int, folder: str | None = None) -> None:
        self.base = base
        self.count = count
        self.folder = Path(folder or ("/run" if os.geteuid() == 0 else tempfile.gettempdir()))
        self.folder = self.folder / "studybot-sandbox"

    def acquire(self, only: int | None = None) -> Lease:
        """A free uid (``only``: that uid or nothing). Raises ``HostUnfit``."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        offsets = range(self.count) if only is None else [only - self.base]
        for offset in offsets:
            uid = self.base + offset
            fd = os.open(
                self.folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return Lease(uid, fd)
        raise HostUnfit(f"all {self.count} sandbox uids from {self.base} are in use")

    @staticmethod
    def release(lease: Lease) -> None:
        if lease.fd is not None:
            with contextlib.suppress(OSError):
                os.close(lease.fd)
            lease.fd = None


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
