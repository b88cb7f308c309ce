"""What a job can see and do: the one place that decides it.

- ``bwrap_args``: bubblewrap's options for one sandbox, i.e. the namespaces it unshares,
  the uid inside (``UID_INSIDE``), what is mounted (read-only system folders, the
  interpreter and its packages, GPU device nodes and driver folders for a CUDA sandbox,
  size-capped private tmpfs mounts for ``/tmp``, ``/dev/shm``, ``/out`` and ``/code``),
  the seccomp filter's descriptor and the job's environment;
- ``job_env``: that environment, the only variables a job ever sees (also used, with host
  folders, for trusted lessons in rlimits mode);
- ``gate_script``: the rlimits every sandbox starts under (processes, open files, file
  size, core dumps, CPU time), set by the gate before bubblewrap starts;
- ``launcher_command``: how the interpreter inside starts the launcher (no site, no
  bytecode written, UTF-8);
- ``job_header``: the per-job limits the launcher applies before it runs the job.

Enforced elsewhere, with values from the same ``SandboxConfig``: the memory, pids and CPU
share cgroup (``cgroups``), the syscall filter (``seccomp``), the wall-time limit and
output caps (``slot``), and the checks of returned files (``files``).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.host import SITE_INSIDE, HostPlan, gpu_nodes
from sandbox.result import JobSpec

__all__ = [
    "GATE",
    "LAUNCHER_SOURCE",
    "UID_INSIDE",
    "bwrap_args",
    "gate_script",
    "job_env",
    "job_header",
    "launcher_command",
    "launcher_input",
    "tmpfs_sizes",
]

LAUNCHER_SOURCE = (Path(__file__).parent / "launcher.py").read_text()
# waits until the host says "go"; bubblewrap's own environment must be empty (a job can read
# its pid 1's environment), and dash exports PWD unless told not to. The shell reads its
# standard input a byte at a time, so the launcher's settings (the line after "go") stay
# in the pipe for the launcher.
GATE = 'read -r _ || exit 111; unset PWD OLDPWD; exec "$@"'
UID_INSIDE = 65534
PACKAGES_SOURCE = "/.packages"  # the zygote's packages bind, before its overlay hides it
EMPTY_LAYER = "/opt/.empty"  # a read-only overlay needs two layers: the packages and this


def job_env(config: SandboxConfig, out: str, tmp: str) -> dict[str, str]:
    """The job's whole environment (nothing of the host's is passed on)."""
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
    zygote: bool = False,
) -> list[str]:
    """bubblewrap's options for one sandbox (order matters: ``--remount-ro /`` last). They
    reach bubblewrap through a file descriptor, so host paths stay out of its command line.

    ``zygote``: the fork server's sandbox (``forkserver``). It keeps ``CAP_SYS_ADMIN``
    inside its own user namespace (never on the host) and may create namespaces, because
    for each job it forks a child that builds that job's own namespaces, mounts and
    limits, drops every capability and loads the seccomp filter itself before any of the
    job's code runs. No job code ever runs in the zygote itself."""
    config = plan.config
    sizes = {name: str(size) for name, size in tmpfs_sizes(config).items()}
    tmp_bytes, out_bytes, code_bytes = sizes["tmp_bytes"], sizes["out_bytes"], sizes["code_bytes"]
    args = [
        "--unshare-all",
        "--unshare-user",
        *(["--cap-add", "CAP_SYS_ADMIN"] if zygote else ["--disable-userns"]),
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
        if zygote and dest == SITE_INSIDE:
            # the zygote shows the packages at SITE_INSIDE through an overlay and drops
            # this bind (``launcher.hide_host_paths``): no host path in a job's mount table
            dest = PACKAGES_SOURCE
        args += ["--ro-bind", source, dest]
    if zygote:
        args += ["--dir", SITE_INSIDE, "--dir", EMPTY_LAYER, "--dir", "/newroot"]
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
    env = job_env(config, "/out", "/tmp")
    if cuda and plan.gpu_libraries:
        env["LD_LIBRARY_PATH"] = ":".join(plan.gpu_libraries)
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--remount-ro", "/"]
    return args


def tmpfs_sizes(config: SandboxConfig) -> dict[str, int]:
    """Sizes of a job's private tmpfs folders: /tmp and /dev/shm (each), /out, /code."""
    return {
        "tmp_bytes": config.tmp_mb * 1024 * 1024,
        "out_bytes": max(config.files_max, 1) * config.file_kb * 1024 + 1024 * 1024,
        "code_bytes": config.code_kb * 1024 + 64 * 1024,
    }


def gate_script(config: SandboxConfig, nproc: int | None = None) -> str:
    """The gate's script: set the rlimits on itself (lowering needs no privilege; the
    host may lack CAP_SYS_RESOURCE to set them from outside), wait until the host has put
    it into its cgroup and says "go", then become bubblewrap (or the launcher)."""
    fsize_blocks = config.fsize_mb * 1024 * 1024 // 512  # dash counts 512-byte blocks
    warm_cpu = int(config.cpu_s) + 300  # the launcher lowers it to cpu_s for the job
    limits = (
        f"ulimit -p {nproc or config.pids}",
        f"ulimit -n {config.nofile}",
        f"ulimit -f {fsize_blocks}",
        "ulimit -c 0",
        f"ulimit -t {warm_cpu}",
    )
    return " && ".join(limits) + " || exit 112; " + GATE


# reads the launcher's text from standard input (its length in 8 digits first) and runs it
BOOT = (
    "import os\n"
    "n = int(os.read(0, 8))\n"
    "s = b''\n"
    "while len(s) < n:\n"
    "    c = os.read(0, n - len(s))\n"
    "    if not c: raise SystemExit(111)\n"
    "    s += c\n"
    "exec(compile(s, '<studybot-launcher>', 'exec'))\n"
)


def launcher_command(python: str) -> list[str]:
    """The sandbox's interpreter (no ``site``, no bytecode written) running a short
    bootstrap that reads ``launcher.py``'s text from standard input. The launcher's
    channels and settings come the same way (``launcher_input``): the command line, which
    every job can read, holds neither."""
    return [python, "-S", "-B", "-X", "utf8", "-c", BOOT]


def launcher_input(launcher_config: dict[str, Any]) -> bytes:
    """What the host writes to the gate's standard input: "go", the launcher's text (its
    length first), then the settings line."""
    source = LAUNCHER_SOURCE.encode()
    return b"go\n%08d" % len(source) + source + json.dumps(launcher_config).encode() + b"\n"


def job_header(config: SandboxConfig, job: JobSpec) -> dict[str, Any]:
    """The job's header line for the launcher: its name, seed and arguments, and the
    limits the launcher sets on itself before it runs the job."""
    return {
        "name": job.name,
        "seed": job.seed if job.seed is not None else secrets.randbits(63),
        "argv": list(job.argv),
        "cpu_s": config.cpu_s,
        "nofile": config.nofile,
        "fsize": config.fsize_mb * 1024 * 1024,
        "files_max": config.files_max,
        "file_max": config.file_kb * 1024,
    }
