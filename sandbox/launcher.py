"""The program each sandbox starts: warm up, wait for exactly one job, run it, report, exit.

It runs under the sandbox's interpreter (``python -S -c <this file's text> <json>``), so it
uses the standard library only (and torch, matplotlib when it preloads them). It is
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
    rehearse(runpy, config["code_dir"])
    if config["preload_torch"]:
        preload(config)
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


def rehearse(runpy: ModuleType, folder: str) -> None:
    """Run an empty program the way a job runs, so runpy's own imports happen now."""
    path = os.path.join(folder, "__warm_up__.py")
    try:
        with open(path, "w") as handle:
            handle.write("pass\n")
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


def act_as_default(status: BinaryIO) -> None:
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
        send(status, {"signal": signum})
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


def main() -> None:
    config = json.loads(sys.argv[1])
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
    assert isinstance(sys.stdout, io.TextIOWrapper) and isinstance(sys.stderr, io.TextIOWrapper)
    sys.stdout.reconfigure(line_buffering=True, errors="backslashreplace")
    sys.stderr.reconfigure(line_buffering=True)

    path = os.path.join(config["code_dir"], header["name"])
    with open(path, "wb") as handle:
        handle.write(code)
    os.chdir(config["out_dir"])
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(config["threads"])
    reseed(header["seed"])
    act_as_default(status)
    sys.argv = [path, *header["argv"]]
    sys.path[0:0] = [config["code_dir"]]
    apply_limits(header)

    exit_code = run_job(path)
    exit_code = shut_down(exit_code)
    send(status, {"exit": exit_code})
    for item in collect_files(config["out_dir"], header["files_max"], header["file_max"]):
        send(status, item)
    send(status, {"end": True})
    os._exit(exit_code)


if __name__ == "__main__":
    main()
