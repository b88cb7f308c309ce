"""The program each sandbox starts: warm up, wait for exactly one job, run it, report, exit.

It runs under the sandbox's interpreter (``python -S -c <bootstrap>``: the bootstrap reads
this file's text from standard input, then its settings follow as one JSON line, see
``policy.launcher_input`` and ``read_config``), so it uses the standard library only (and
torch, matplotlib when it preloads them). In the fork server (``zygote_main``) it serves
one forked child per job instead (see "the fork server" below). It is
trusted only until the job starts: the job runs in this very process, so everything the
launcher reports afterwards (exit code, output files) is treated by the host as the job's
own, hostile, words.

Channels (file descriptors passed in by the host):

- ``job_fd``: one JSON header line, then the program's bytes, then end of file;
- ``status_fd``: JSON lines back to the host: ``{"ready": ...}`` once warm, then after the
  job ``{"exit": N}``, one ``{"file": ...}`` per output file and ``{"end": true}``;
- stdout and stderr: the job's own (during the warm-up they point at /dev/null).

Type-checked with the package, but it imports nothing from it (nor ``typing``) at run
time: the annotations are never evaluated.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys

TYPE_CHECKING = False  # typing's own flag, without importing typing in the sandbox
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType, ModuleType
    from typing import Any, BinaryIO

    Message = dict[str, Any]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEXT_SUFFIXES = (".txt", ".csv", ".json", ".md", ".log")
TEXT_MAX = 64 * 1024


def warm_up(config: Message) -> None:
    """Import what lessons use and run it once, single-threaded (OpenMP stays unforked;
    lazy first-use initialisation happens here instead of in the job)."""
    import random
    import resource
    import runpy
    import stat
    import traceback

    random.seed()
    del resource, stat, traceback  # imported now so the job does not wait for them
    rehearse(runpy, config["code_dir"], "pass\n")
    if config["preload_torch"]:
        preload(config)
    # torch's seeding queues a call for CUDA with the caller's stack, which reads the
    # source of every frame's file (linecache): once here, not in each job
    reseed(random.getrandbits(63))
    import atexit

    # the job's exit runs only the handlers the job registers (torch's own cost
    # milliseconds and guard nothing in a process that ends anyway)
    atexit._clear()


def preload(config: Message) -> None:
    torch_ready = False
    try:
        import numpy
        import torch
        import torch.nn.functional as functional

        torch.set_num_threads(1)
        numpy.zeros(4).sum()
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
        x, y = torch.randn(32, 8), torch.randn(32, 1)
        for optimizer_class in (torch.optim.SGD, torch.optim.Adam):
            optimizer = optimizer_class(model.parameters(), lr=0.01)
            for _ in range(2):
                optimizer.zero_grad()
                loss = functional.mse_loss(model(x), y)
                loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
                optimizer.step()
        torch.nn.init.xavier_normal_(torch.empty(4, 4))
        torch.nn.init.kaiming_normal_(torch.empty(4, 4))
        torch.save(model.state_dict(), io.BytesIO())
        torch_ready = True
    except Exception:  # the job meets the same problem and reports it itself
        pass
    if torch_ready and config["device"].startswith("cuda"):
        try:  # CUDA starts here, once, in the process that will run the job (no fork after)
            torch.cuda.init()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
            probe = torch.ones(8, 8, device="cuda")
            (probe @ probe).sum().item()
            torch.cuda.synchronize()
            config["cuda"] = True
        except Exception as exc:  # reported in "ready": the job then runs on the CPU
            config["cuda"] = False
            config["cuda_error"] = f"{type(exc).__name__}: {exc}"[:300]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(2, 2))
        plt.plot([0, 1], [0, 1], label="warm-up")
        plt.legend()
        figure.savefig(io.BytesIO(), format="png")
        plt.close(figure)
    except Exception:
        pass


def rehearse(runpy: ModuleType, folder: str, source: str) -> None:
    """Run ``source`` the way a job runs (so runpy's own imports happen now)."""
    path = os.path.join(folder, "__warm_up__.py")
    try:
        with open(path, "w") as handle:
            handle.write(source)
        runpy.run_path(path, run_name="__main__")
    except Exception:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def read_job(fd: int, limit: int) -> tuple[Message, bytes]:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise SystemExit(112)
        chunks.append(chunk)
    header, _, code = b"".join(chunks).partition(b"\n")
    if not header:  # the host went away without a job
        raise SystemExit(0)
    return json.loads(header), code


FATAL_BY_DEFAULT = (
    "SIGTERM",
    "SIGHUP",
    "SIGUSR1",
    "SIGUSR2",
    "SIGALRM",
    "SIGVTALRM",
    "SIGPROF",
    "SIGXCPU",
    "SIGQUIT",
)


def act_as_default(report: Callable[[int], None]) -> None:
    """The launcher is the pid namespace's init, and the kernel drops signals an init does
    not handle; so handle them as if by default: report the signal and end."""
    import signal

    def fatal(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != 1:  # a child of the job: really die of it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        report(signum)
        os._exit(128 + signum)

    if os.getpid() != 1:
        return
    for name in FATAL_BY_DEFAULT:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, fatal)


def lower_limit(resource: ModuleType, which: int, value: float) -> None:
    hard = resource.getrlimit(which)[1]
    limit = int(value)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(which, (limit, limit))


def apply_limits(header: Message) -> None:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    spent = usage.ru_utime + usage.ru_stime
    soft = int(spent + header["cpu_s"]) + 1
    hard = soft + 1  # SIGXCPU at the soft limit, SIGKILL one second later
    current_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    lower_limit(resource, resource.RLIMIT_NOFILE, header["nofile"])
    lower_limit(resource, resource.RLIMIT_FSIZE, header["fsize"])
    lower_limit(resource, resource.RLIMIT_CORE, 0)


def reseed(seed: int) -> None:
    import random

    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def exit_code_of(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else (256 + code) & 0xFF
    with contextlib.suppress(Exception):
        print(code, file=sys.stderr)
    return 1


def print_error(exc: BaseException, path: str) -> None:
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    try:
        traceback.print_exception(type(exc), exc, tb)
    except Exception:
        print(f"{type(exc).__name__}: (unprintable)", file=sys.stderr)


def run_job(path: str) -> int:
    import runpy

    try:
        runpy.run_path(path, run_name="__main__")
        return 0
    except SystemExit as exc:
        return exit_code_of(exc)
    except BaseException as exc:  # what an uncaught exception does to python itself
        print_error(exc, path)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def shut_down(exit_code: int) -> int:
    """What the interpreter does at exit that a program can notice (wait for non-daemon
    threads, run atexit handlers, flush), without tearing down every module: with torch
    loaded a full interpreter shutdown takes over a second."""
    threading = sys.modules.get("threading")
    try:
        if threading is not None:
            threading._shutdown()
    except BaseException as exc:
        print_error(exc, "")
    try:
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            if exit_code == 0:
                exit_code = 120  # what python does when stdout cannot be flushed at exit
    return exit_code


def collect_files(folder: str, count: int, png_max: int) -> list[Message]:
    """Regular files at the top of the output folder, never following links. The host
    checks everything again: this runs after the job, in the job's process."""
    import stat

    found: list[Message] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries[: count * 4]:
        if len(found) >= count + 1:  # one more than allowed: the host says files were dropped
            break
        name = entry.name
        lower = name.lower()
        limit = png_max if lower.endswith(".png") else TEXT_MAX
        if not (lower.endswith(".png") or lower.endswith(TEXT_SUFFIXES)):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                continue
            if info.st_size > limit:
                found.append({"file": name, "size": info.st_size, "data": None})
                continue
            data = os.read(fd, limit + 1)
        except OSError:
            continue
        finally:
            os.close(fd)
        found.append({"file": name, "size": len(data), "data": base64.b64encode(data).decode()})
    return found


def send(stream: BinaryIO, message: Message) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.write(json.dumps(message).encode() + b"\n")


def read_config() -> Message:
    """The launcher's settings: one JSON line on standard input (a pipe from the host,
    inherited through the gate and bubblewrap), which is then closed and replaced by
    /dev/null. Nothing of the channels' layout is on the command line."""
    data = b""
    while not data.endswith(b"\n") and len(data) < 65536:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        data += chunk
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    os.close(quiet)
    config: Message = json.loads(data)
    return config


def enter_job_settings(config: Message, report: Callable[[int], None]) -> None:
    """The settings every job runs with, whatever the job: working folder, threads,
    signal handling, the code's folder first on the path (in a forked child they are
    made before its job comes)."""
    os.chdir(config["out_dir"])
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(config["threads"])
    act_as_default(report)
    sys.path[0:0] = [config["code_dir"]]


def run_prepared(header: Message, path: str) -> int:
    """Run the job's file as ``__main__`` the way python would, in this process (after
    ``enter_job_settings``), with the job's own seed, arguments and limits."""
    reseed(header["seed"])
    sys.argv = [path, *header["argv"]]
    apply_limits(header)
    exit_code = run_job(path)
    return shut_down(exit_code)


def use_job_streams() -> None:
    assert isinstance(sys.stdout, io.TextIOWrapper) and isinstance(sys.stderr, io.TextIOWrapper)
    sys.stdout.reconfigure(line_buffering=True, errors="backslashreplace")
    sys.stderr.reconfigure(line_buffering=True)


# --- the fork server (zygote) ---------------------------------------------------------
#
# One warm process per CPU lane set forks one child per job into a new pid namespace (the
# child is its pid 1). Before any of the job's code runs, the child moves itself into the
# job's cgroup with descriptors the host opened, unshares mount, network, IPC, UTS and
# cgroup namespaces, mounts private size- and inode-capped tmpfs folders and its own
# /proc, enters a fresh user namespace, drops every capability, sets no_new_privs, lowers
# its limits and loads the seccomp filter. The zygote reports each child's wait status to
# the host. Constants from <sched.h>, <sys/mount.h>, <linux/prctl.h>,
# <linux/capability.h>.

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 0x40000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
UID_INSIDE = 65534


class Kernel:
    """The few system calls the fork server needs that ``os`` lacks (through ctypes)."""

    def __init__(self) -> None:
        import ctypes

        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        text = ctypes.c_char_p
        self.libc.mount.argtypes = [text, text, text, ctypes.c_ulong, ctypes.c_void_p]
        self.libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        self.libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]

    def check(self, result: int, what: str) -> None:
        if result != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def unshare(self, flags: int) -> None:
        self.check(self.libc.unshare(flags), "unshare")

    def mount(self, source: str, target: str, kind: str | None, flags: int, data: str) -> None:
        result = self.libc.mount(
            source.encode(),
            target.encode(),
            kind.encode() if kind else None,
            flags,
            data.encode() if data else None,
        )
        self.check(result, f"mount {target}")

    def prctl(self, option: int, *args: int) -> int:
        values = [*args, 0, 0, 0, 0][:4]
        return int(self.libc.prctl(option, *values))

    def drop_capabilities(self) -> None:
        ctypes = self.ctypes
        self.check(self.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL), "clear ambient")
        for cap in range(64):
            if self.prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() == 22:
                break  # EINVAL: past the last capability this kernel knows
        header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)()
        self.check(self.libc.capset(header, data), "capset")

    def load_seccomp(self, program: bytes) -> None:
        import ctypes

        class Program(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

        prog = Program(len(program) // 8, program)
        self.check(self.prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
        result = self.libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0)
        self.check(result, "seccomp")


SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
MNT_DETACH = 2


def hide_host_paths(kernel: Kernel, packages: str, empty: str, site: str) -> None:
    """Rebuild the zygote's root in a mount namespace of its own so that no mount shows
    a host path: the packages, bound by bubblewrap at ``packages`` (whose mount table
    entry names the host folder), are shown at ``site`` through a read-only overlay, and
    a ``pivot_root`` leaves the original bind behind. Jobs inherit this table."""
    import platform

    kernel.unshare(CLONE_NEWNS)
    kernel.mount("none", "/", None, MS_REC | MS_PRIVATE, "")
    kernel.mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for name in os.listdir("/"):
        source, target = "/" + name, "/newroot/" + name
        if source in ("/newroot", packages):
            continue
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        elif os.path.isdir(source):
            os.mkdir(target)
            kernel.mount(source, target, None, MS_BIND | MS_REC, "")
        else:
            open(target, "w").close()
            kernel.mount(source, target, None, MS_BIND, "")
    kernel.mount(
        "overlay",
        "/newroot" + site,
        "overlay",
        MS_RDONLY | MS_NOSUID | MS_NODEV,
        f"lowerdir={packages}:{empty}",
    )
    os.mkdir("/newroot/.old")
    os.chdir("/newroot")
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: unknown on {platform.machine()}")
    kernel.check(kernel.libc.syscall(number, b".", b".old"), "pivot_root")
    os.chdir("/")
    kernel.check(kernel.libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    kernel.mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, "")


def serve(config: Message, hello: BinaryIO) -> None:
    """The zygote's loop: one request (descriptors only) per job on the control socket,
    one child per request, forked into a new pid namespace (it is that namespace's pid
    1). The zygote answers each request with the child's pid and, when the child ends,
    with its wait status: the trusted part of the job's result."""
    import array
    import gc
    import signal
    import socket

    kernel = Kernel()
    with os.fdopen(config["seccomp_fd"], "rb") as handle:
        program = handle.read()
    control = socket.socket(fileno=config["control_fd"])
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)

    def tell(message: Message) -> None:
        with contextlib.suppress(OSError):
            control.send(json.dumps(message).encode())

    def reap(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ChildProcessError):
            while True:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
                if pid <= 0:
                    break
                tell({"exited": pid, "status": wait_status})

    signal.signal(signal.SIGCHLD, reap)
    send(hello, {"ready": True, "pid": os.getpid(), "zygote": True})
    sys.stdout.flush()
    sys.stderr.flush()
    gc.collect()
    gc.freeze()  # the warm objects stay out of the children's collections (fewer copied pages)
    fd_size = array.array("i").itemsize
    while True:
        try:
            message, ancillary, _, _ = control.recvmsg(4096, socket.CMSG_SPACE(16 * fd_size))
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)  # the host is gone
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fd_size])
        if len(fds) < 4:
            for fd in fds:
                os.close(fd)
            tell({"pid": None})
            continue
        # no exit report may come before the pid it is about
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
        try:
            kernel.unshare(CLONE_NEWPID)  # the next child is pid 1 of a new pid namespace
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            code = 113
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])
                control.close()
                hello.close()
                os.close(own_pid_ns)  # (the warm objects stay frozen: collecting them
                # would touch, and so copy, every page they live on)
                code = start_job(config, kernel, program, list(fds))
            finally:
                os._exit(code)
        kernel.check(kernel.libc.setns(own_pid_ns, CLONE_NEWPID), "setns")  # back to ours
        for fd in fds:
            os.close(fd)
        tell({"pid": pid if pid > 0 else None})
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])


# A small job's usual steps, run by each forked child (single-threaded, output to
# /dev/null) before it says "ready": a forked process copies each page it writes at the
# first write (reference counts of the warm objects, allocator arenas, torch's seeding),
# 5-10 microseconds a page on the development host; so the pages most jobs write are
# copied here, ahead of the job, instead of on the job's clock.
PRIME_SOURCE = """\
import sys
torch = sys.modules.get("torch")
if torch is not None:
    torch.manual_seed(0)
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    y = torch.stack([x[0] ** 2 * x[1], x[1] * torch.sin(x[2]) + x[0]])
    y.backward(gradient=torch.ones(2, dtype=torch.float64))
    model = torch.nn.Linear(3, 2)
    loss = torch.nn.functional.mse_loss(model(x.detach().float()), torch.zeros(2))
    loss.backward()
    print(x, x.grad, loss.item(), torch.tensor([1.5, 2.0]).tolist())
"""


def start_job(config: Message, kernel: Kernel, program: bytes, fds: list[int]) -> int:
    """pid 1 of the job's pid namespace. Trusted until the job starts: it moves itself
    into the job's cgroup (with descriptors the host opened), builds the job's mount,
    network, IPC, UTS and cgroup namespaces, private tmpfs folders and /proc, enters a
    fresh user namespace, drops every capability, sets no_new_privs, its limits and the
    seccomp filter, and rehearses a small job (``PRIME_SOURCE``); then it waits for the
    job, runs it and reports like a single-use launcher."""
    import resource
    import runpy

    job_r, status_w, out_w, err_w, *cgroup_fds = fds
    keep = {0, 1, 2, *fds}
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            with contextlib.suppress(OSError):
                os.close(int(name))
    for fd in cgroup_fds:  # cgroup.procs of the job's own groups, opened by the host
        os.write(fd, b"0")  # "0": the writing process itself
        os.close(fd)
    kernel.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)
    kernel.mount("none", "/", None, MS_REC | MS_PRIVATE, "")
    private = MS_NOSUID | MS_NODEV
    for target, size, mode in (
        ("/tmp", config["tmp_bytes"], "1777"),
        ("/dev/shm", config["tmp_bytes"], "1777"),
        ("/out", config["out_bytes"], "0755"),
        ("/code", config["code_bytes"], "0755"),
    ):
        inodes = max(64, min(size // 4096, 65536))
        kernel.mount(
            "tmpfs", target, "tmpfs", private, f"size={size},nr_inodes={inodes},mode={mode}"
        )
    kernel.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "")
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)  # this root's /dev/null (the zygote's points into the old root)
    os.close(quiet)
    kernel.unshare(CLONE_NEWUSER)
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{UID_INSIDE} {UID_INSIDE} 1"),
        ("gid_map", f"{UID_INSIDE} {UID_INSIDE} 1"),
    ):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    kernel.drop_capabilities()
    pids = config["pids"]
    resource.setrlimit(resource.RLIMIT_NPROC, (pids, pids))
    kernel.load_seccomp(program)
    # Everything up to "ready" is done before the job comes (the host forks these ahead):
    # after it only the code is written, the job's seed, arguments and limits set.
    rehearse(runpy, config["code_dir"], PRIME_SOURCE)
    status = os.fdopen(status_w, "wb", buffering=0)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.close(out_w)
    os.close(err_w)
    use_job_streams()
    enter_job_settings(config, lambda signum: send(status, {"signal": signum}))
    send(status, {"ready": True})
    header, code = read_job(job_r, config["code_max"] + 65536)
    os.close(job_r)
    path = os.path.join(config["code_dir"], header["name"])
    with open(path, "wb") as handle:
        handle.write(code)
    exit_code = run_prepared(header, path)
    send(status, {"exit": exit_code})
    for item in collect_files(config["out_dir"], header["files_max"], header["file_max"]):
        send(status, item)
    send(status, {"end": True})
    return exit_code


def main() -> None:
    config = read_config()
    if config.get("zygote"):
        zygote_main(config)
        return
    job_fd, status_fd = config["job_fd"], config["status_fd"]
    os.set_inheritable(job_fd, False)
    os.set_inheritable(status_fd, False)
    real_out, real_err = os.dup(1), os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    warm_up(config)
    status = os.fdopen(status_fd, "wb", buffering=0)
    ready = {"ready": True, "pid": os.getpid()}
    for key in ("cuda", "cuda_error"):
        if key in config:
            ready[key] = config[key]
    send(status, ready)

    header, code = read_job(job_fd, config["code_max"] + 65536)
    os.close(job_fd)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(real_out, 1)
    os.dup2(real_err, 2)
    for fd in (real_out, real_err, quiet):
        os.close(fd)
    use_job_streams()

    path = os.path.join(config["code_dir"], header["name"])
    with open(path, "wb") as handle:
        handle.write(code)
    enter_job_settings(config, lambda signum: send(status, {"signal": signum}))
    exit_code = run_prepared(header, path)
    send(status, {"exit": exit_code})
    for item in collect_files(config["out_dir"], header["files_max"], header["file_max"]):
        send(status, item)
    send(status, {"end": True})
    os._exit(exit_code)


def zygote_main(config: Message) -> None:
    """The fork server: warm up like a single-use sandbox, then serve jobs by forking."""
    status_fd = config["status_fd"]
    os.set_inheritable(status_fd, False)
    kernel = Kernel()
    hide_host_paths(kernel, config["packages"], config["empty"], config["site"])
    # Serve from a pid namespace of our own user namespace (bubblewrap's belongs to its
    # parent), so that after each job's fork into a new namespace the zygote may return
    # to its own (setns); this first process only waits, as the sandbox's pid 1.
    kernel.unshare(CLONE_NEWPID)
    server = os.fork()
    if server != 0:
        for fd in (config["control_fd"], config["seccomp_fd"], status_fd):
            os.close(fd)
        while True:
            try:
                _, wait_status = os.waitpid(server, 0)
                break
            except InterruptedError:
                continue
        os._exit(os.waitstatus_to_exitcode(wait_status) & 0xFF)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    os.close(quiet)
    warm_up(config)
    serve(config, os.fdopen(status_fd, "wb", buffering=0))


if __name__ == "__main__":
    main()
