"""Hostile code against the real sandbox, one attack class of SANDBOX-NOTES.md per test.

Each program prints a control line (proof that it ran and could do the harmless thing)
before or after the attack, so a sandbox that fails to run code cannot pass by accident.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest

from sandbox import JobSpec, RunResult, Sandbox
from sandbox.core import probe
from sandbox.forkserver import ForkJob, ForkPool, ForkServer
from sandbox.pool import WarmPool
from sandbox.slot import Slot
from tests.sandbox.conftest import FAST, REPO, need_sandbox

SECRET = "discord-token-that-must-not-leak-8c1f0e"


def program(text: str) -> str:
    return textwrap.dedent(text).lstrip()


async def run(box: Sandbox, code: str | bytes, **job: object) -> RunResult:
    return await box.run(code, JobSpec(**job))  # type: ignore[arg-type]


# how a job finds the status pipe without being told: the write-only pipes among its
# descriptors, other than stdout and stderr (none when the job does not hold it)
FIND_STATUS_FD = program("""
    def status_fd():
        import fcntl, os
        for name in sorted(os.listdir("/proc/self/fd"), key=int):
            fd = int(name)
            try:
                if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                    if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                        return fd
            except OSError:
                pass
        return os.open("/dev/null", os.O_WRONLY)
""")


def lines(result: RunResult) -> dict[str, str]:
    found = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        found[key] = value
    return found


# --- secrets ---------------------------------------------------------------------------


async def test_no_secret_reaches_a_job(monkeypatch: pytest.MonkeyPatch) -> None:
    need_sandbox()
    monkeypatch.setenv("DISCORD_TOKEN", SECRET)
    monkeypatch.setenv("STUDYBOT_DISCORD_TOKEN", SECRET)
    async with Sandbox(FAST) as box:  # slots spawn after the secret is in our environment
        result = await run(
            box,
            program("""
                import os
                seen = [repr(dict(os.environ))]
                for pid in os.listdir("/proc"):
                    if pid.isdigit():
                        for name in ("environ", "cmdline"):
                            try:
                                with open(f"/proc/{pid}/{name}", "rb") as f:
                                    seen.append(f.read().decode("latin-1"))
                            except OSError as exc:
                                seen.append(type(exc).__name__)
                print("CONTROL", len(seen))
                print("\\n".join(seen))
                print("pid1-environ", repr(open("/proc/1/environ", "rb").read()))
            """),
        )
    assert result.status == "ok", result
    assert "CONTROL" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert "STUDYBOT_OUTPUT_DIR" in result.stdout  # the job's own, explicit environment


# --- network ---------------------------------------------------------------------------


async def test_no_network(sandbox: Sandbox) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        result = await run(
            sandbox,
            program(f"""
                import socket
                for family in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"):
                    try:
                        s = socket.socket(getattr(socket, family), socket.SOCK_DGRAM)
                        print(family, "=created")
                    except OSError as exc:
                        print(family + "=denied", exc.errno)
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=2)
                    print("connect=connected")
                except OSError as exc:
                    print("connect=failed", exc.errno)
                devices = [line.split(":")[0].strip() for line in open("/proc/net/dev")][2:]
                print("interfaces=" + ",".join(devices))
                a, b = socket.socketpair(socket.AF_UNIX)
                a.sendall(b"x")
                print("CONTROL=unix", b.recv(1))
            """),
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came
    finally:
        listener.close()
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "unix b'x'"
    for family in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"):
        assert found[family].startswith("denied"), result.stdout
    assert found["connect"].startswith("failed"), result.stdout
    assert found["interfaces"] == "lo"  # a network namespace of its own, only loopback


# --- read-only system, private and capped /tmp ----------------------------------------


async def test_system_is_read_only(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        program("""
            import os
            for path in ("/evil", "/usr/evil", "/usr/lib/evil", "/etc/evil", "/dev/evil",
                         "/opt/site-packages/evil", "/proc/sys/kernel/hostname"):
                try:
                    with open(path, "w") as f:
                        f.write("x")
                    print(path + "=written")
                except OSError as exc:
                    print(path + "=refused", exc.errno)
            with open("/tmp/ok", "w") as f:
                f.write("fine")
            with open("/dev/null", "w") as f:
                f.write("fine")
            print("CONTROL=tmp", open("/tmp/ok").read())
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "tmp fine"
    written = [key for key, value in found.items() if value == "written"]
    assert written == [], result.stdout


@pytest.mark.sandbox_config(tmp_mb=8)
async def test_tmp_and_shm_are_capped(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        program("""
            import errno
            for folder in ("/tmp", "/dev/shm"):
                written = 0
                try:
                    for i in range(64):  # files of 1 MiB each: below the file-size limit
                        with open(f"{folder}/fill{i}", "wb") as f:
                            f.write(b"x" * 1024 * 1024)
                        written += 1
                except OSError as exc:
                    print(folder + "=full", written, exc.errno == errno.ENOSPC)
                else:
                    print(folder + "=not-full", written)
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    for folder in ("/tmp", "/dev/shm"):
        state, written, enospc = found[folder].split()
        assert state == "full" and enospc == "True", result.stdout
        assert 1 <= int(written) <= 8


# --- processes -------------------------------------------------------------------------


async def test_fork_bomb_is_contained_and_the_next_job_runs_promptly(sandbox: Sandbox) -> None:
    bomb = program("""
        import os
        print("CONTROL=bomb", flush=True)
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """)
    result = await run(sandbox, bomb, timeout_s=2)
    assert result.status == "timeout", result
    assert "CONTROL=bomb" in result.stdout
    assert result.wall_ms < 4000
    loop = asyncio.get_running_loop()
    started = loop.time()
    after = await run(sandbox, "print('after the bomb')")
    assert after.status == "ok", after
    assert after.stdout == "after the bomb\n"
    assert loop.time() - started < 5


THREAD_BOMB = program("""
    import resource, threading
    print("limit=", resource.getrlimit(resource.RLIMIT_NPROC))
    stop = threading.Event()
    started = 0
    try:
        for _ in range(500):
            threading.Thread(target=stop.wait, daemon=True).start()
            started += 1
    except RuntimeError as exc:
        print("stopped=", started, exc)
    stop.set()
""")


async def test_nproc_is_enforced_even_without_the_pids_cgroup() -> None:
    """Jobs run as an unprivileged host uid, so RLIMIT_NPROC really counts (as root it
    would be ignored). Without the pids cgroup, the rlimit alone stops a thread bomb."""
    need_sandbox()
    async with Sandbox(FAST) as box:
        assert box.plan is not None
        plan = replace(box.plan, cgroups=None, config=replace(FAST, pids=24))
        slot = await Slot.start(plan)
        try:
            result = await slot.run(THREAD_BOMB.encode(), JobSpec())
        finally:
            await slot.close()
    assert result.status == "ok", result
    found = lines(result)
    assert found["limit"] == " (24, 24)"
    started = int(found["stopped"].split()[0])
    assert 0 < started < 24, result.stdout


async def test_nproc_is_enforced_per_forked_job_without_the_pids_cgroup() -> None:
    """Forked jobs share the zygote's host uid; each sets RLIMIT_NPROC in its own user
    namespace, so a thread bomb stops at the job's own limit (here without the pids
    cgroup, which is the real limit)."""
    need_sandbox()
    async with Sandbox(FAST) as box:
        assert box.plan is not None
        plan = replace(box.plan, cgroups=None, config=replace(FAST, pids=24))
        server = ForkServer(plan)
        await server.start()
        try:
            job = ForkJob(server)
            try:
                result = await job.run(THREAD_BOMB.encode(), JobSpec())
            finally:
                await job.close()
        finally:
            await server.close()
    assert result.status == "ok", result
    found = lines(result)
    assert found["limit"] == " (24, 24)"
    started = int(found["stopped"].split()[0])
    assert 0 < started < 24, result.stdout


async def test_jobs_run_as_an_unprivileged_host_uid(sandbox: Sandbox) -> None:
    assert sandbox.plan is not None
    slot = await Slot.start(sandbox.plan)
    try:
        assert slot.cgroup is not None and slot.lease is not None
        pids = slot.cgroup.procs()
        assert len(pids) >= 2  # bubblewrap and the waiting launcher (its pid 1)
        assert slot.child is not None
        with open(f"/proc/{slot.child.pid}/environ", "rb") as handle:
            assert handle.read() == b""  # bubblewrap was spawned with an empty environment
        for pid in pids:
            with open(f"/proc/{pid}/status") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
            uids = {int(value) for value in status["Uid"].split()}
            assert uids == {slot.lease.uid}, (pid, status["Uid"])
            assert slot.lease.uid >= FAST.uid_base
        # the cgroup's limits are in place before any job code runs
        if slot.cgroup.host.version == 1:
            memory_limit = slot.cgroup.memory / "memory.limit_in_bytes"
        else:
            memory_limit = slot.cgroup.memory / "memory.max"
        assert int(memory_limit.read_text()) == FAST.memory_mb * 1024 * 1024
        assert (slot.cgroup.pids / "pids.max").read_text().strip() == str(FAST.pids)
        result = await slot.run(
            b"import os\nprint('uid=', os.getuid(), os.getgid(), os.getgroups())\n", JobSpec()
        )
    finally:
        await slot.close()
    assert result.status == "ok", result
    assert lines(result)["uid"] == " 65534 65534 []"


async def test_background_processes_do_not_survive_the_job(sandbox: Sandbox) -> None:
    assert sandbox.plan is not None
    slot = await Slot.start(sandbox.plan)
    try:
        result = await slot.run(
            program("""
                import os, select
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        select.select([], [], [], 60)  # a daemon that wants to outlive the job
                    os._exit(0)
                os.wait()
                print("CONTROL=forked")
            """).encode(),
            JobSpec(),
        )
        assert result.status == "ok", result
        assert "CONTROL=forked" in result.stdout
        assert slot.child is not None and slot.cgroup is not None
        await asyncio.wait_for(slot.child.wait(), 10)  # bubblewrap ends after its pid 1
        assert slot.cgroup.procs() == []  # every process of the job is gone with it
    finally:
        await slot.close()
    assert slot.cgroup is None  # emptied and removed


async def test_kill_everything_hurts_only_the_job(sandbox: Sandbox) -> None:
    """The job is its pid namespace's init: a child that signals everything it can
    (``kill(-1)``, pid 1, the host's pids) reaches nothing outside, and the kernel keeps
    the init alive; the next job runs as usual. Host pids 1 and 2 are left out: inside,
    those numbers are the job and its child (a test run whose parent died has ppid 1)."""
    host_pids = [pid for pid in (os.getpid(), os.getppid()) if pid > 2]
    assert host_pids
    result = await run(
        sandbox,
        program(f"""
            import os, signal
            if os.fork() == 0:
                for target in (-1, 1, *{host_pids}):
                    try:
                        os.kill(target, signal.SIGKILL)
                        print(f"kill {{target}}=sent", flush=True)
                    except OSError as exc:
                        print(f"kill {{target}}=failed", exc.errno, flush=True)
                os._exit(0)
            os.wait()
            print("CONTROL=alive", os.getpid())
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "alive 1"
    for pid in host_pids:
        assert found[f"kill {pid}"].startswith("failed")  # not even visible
    after = await run(sandbox, "print('next job')")
    assert after.stdout == "next job\n", after  # the pool recovered


async def test_a_signal_ends_the_job_and_is_reported(sandbox: Sandbox) -> None:
    own = await run(sandbox, "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n")
    assert (own.status, own.signal, own.exit_code) == ("signal", signal.SIGTERM, None), own
    crash = await run(sandbox, "import ctypes\nctypes.string_at(0)\n")
    assert (crash.status, crash.signal) == ("signal", signal.SIGSEGV), crash
    high = await run(sandbox, "import sys\nsys.exit(143)\n")
    assert (high.status, high.exit_code, high.signal) == ("error", 143, None), high


# --- memory, time, output ----------------------------------------------------------------


@pytest.mark.sandbox_config(memory_mb=384)
async def test_memory_bomb_reports_memory(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        program("""
            print("CONTROL=start", flush=True)
            hoard = []
            while True:
                hoard.append(b"x" * (64 * 1024 * 1024))
        """),
    )
    assert result.status == "memory", result
    assert "CONTROL=start" in result.stdout
    assert result.signal == signal.SIGKILL
    assert result.wall_ms < 8000


@pytest.mark.sandbox_config(memory_mb=384)
async def test_memory_bomb_across_processes_reports_memory(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        program("""
            import os
            children = []
            for _ in range(4):
                pid = os.fork()
                if pid == 0:
                    block = b"x" * (150 * 1024 * 1024)  # each fits; together they do not
                    import select; select.select([], [], [], 1.5)
                    os._exit(0)
                children.append(pid)
            statuses = [os.waitpid(pid, 0)[1] for pid in children]
            print("CONTROL=waited", statuses)
        """),
    )
    assert result.status == "memory", result
    assert result.wall_ms < 8000


async def test_infinite_loop_times_out(sandbox: Sandbox) -> None:
    result = await run(
        sandbox, "print('CONTROL', flush=True)\nwhile True:\n    pass\n", timeout_s=1
    )
    assert result.status == "timeout", result
    assert result.stdout == "CONTROL\n"
    assert 1000 <= result.wall_ms < 3000
    assert result.signal == signal.SIGKILL


@pytest.mark.sandbox_config(cpu_s=1, timeout_s=15)
async def test_cpu_time_limit(sandbox: Sandbox) -> None:
    result = await run(sandbox, "print('CONTROL', flush=True)\nwhile True:\n    pass\n")
    assert result.status == "timeout", result
    assert result.signal == signal.SIGXCPU  # the kernel's RLIMIT_CPU, not our wall clock
    assert result.wall_ms < 6000
    assert result.stdout == "CONTROL\n"


async def test_output_flood_is_cut(sandbox: Sandbox) -> None:
    result = await run(sandbox, "while True:\n    print('y' * 1000)\n")
    cap = FAST.output_kb * 1024
    assert result.status == "output_limit", result.status
    assert result.truncated
    assert len(result.stdout.encode()) == cap
    assert result.wall_ms < 5000
    flood = await run(sandbox, "import sys\nsys.stderr.write('e' * 10_000_000)\n")
    assert flood.status == "output_limit" and flood.truncated
    assert len(flood.stderr) == cap
    small = await run(sandbox, "print('short')")
    assert (small.status, small.truncated, small.stdout) == ("ok", False, "short\n")


async def test_file_size_limit(sandbox: Sandbox) -> None:
    limit = FAST.fsize_mb * 1024 * 1024
    result = await run(
        sandbox,
        program(f"""
            import errno
            try:
                with open("/tmp/big", "wb") as f:
                    f.write(b"x" * ({limit} + 1))
            except OSError as exc:
                print("fsize=refused", exc.errno == errno.EFBIG)
        """),
    )
    assert result.status == "ok", result
    assert lines(result)["fsize"] == "refused True"


# --- nothing of one job reaches the next ------------------------------------------------


async def test_nothing_persists_between_jobs(sandbox: Sandbox) -> None:
    first = await run(
        sandbox,
        program("""
            import os
            for path in ("/tmp/left", "/dev/shm/left", "/out/left.txt", "/code/left.py"):
                with open(path, "w") as f:
                    f.write("from the first job")
            os.environ["LEFT"] = "1"
            import random
            print("CONTROL=written", random.random())
        """),
    )
    assert first.status == "ok", first
    assert [f.name for f in first.files] == ["left.txt"]  # the output folder works
    second = await run(
        sandbox,
        program("""
            import os, random
            for path in ("/tmp/left", "/dev/shm/left", "/out/left.txt", "/code/left.py"):
                print(path + "=" + str(os.path.exists(path)))
            print("env=" + str("LEFT" in os.environ))
            print("listing=" + ",".join(sorted(os.listdir("/tmp") + os.listdir("/dev/shm"))))
            print("CONTROL=checked", random.random())
        """),
    )
    assert second.status == "ok", second
    found = lines(second)
    for path in ("/tmp/left", "/dev/shm/left", "/out/left.txt", "/code/left.py"):
        assert found[path] == "False"
    assert found["env"] == "False"
    assert "left" not in found["listing"]
    assert second.files == ()
    assert lines(first)["CONTROL"] != found["CONTROL"]  # reseeded per job


@pytest.mark.sandbox_config(fork_server=True)
async def test_forked_jobs_leave_nothing_for_the_next_one(sandbox: Sandbox) -> None:
    """Jobs forked from one warm zygote: a daemon, files in /tmp, /dev/shm and /out, and a
    signal to everything it can see from one job reach neither the next job nor the
    zygote; each job sees only its own pid namespace, and the RNGs differ per job."""
    pool = sandbox.pools["cpu"]
    assert isinstance(pool, ForkPool)
    first = await run(
        sandbox,
        program("""
            import os, random, select, signal, numpy
            for path in ("/tmp/left", "/dev/shm/left", "/out/left.bin"):
                with open(path, "w") as f:
                    f.write("from the first job")
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    select.select([], [], [], 60)  # a daemon that wants to outlive the job
                os._exit(0)
            os.wait()
            print("pids=" + ",".join(sorted(p for p in os.listdir("/proc") if p.isdigit())))
            print("rng=", random.random(), numpy.random.rand())
            print("CONTROL=first")
        """),
    )
    assert first.status == "ok", first
    await sandbox.settle()  # the job's cgroup is empty and removed
    server = pool.server
    assert server is not None and server.slot is not None and server.slot.cgroup is not None
    # every process of the zygote's uid is the zygote or a next job's waiting pid 1 (one in
    # each spare cgroup): the daemon is gone
    await asyncio.gather(*pool._preparing)
    spares = [job.cgroup.procs() for job in pool._prepared if job.cgroup is not None]
    assert all(len(procs) == 1 for procs in spares), spares
    known = server.slot.cgroup.procs() + [pid for procs in spares for pid in procs]
    strays = [pid for pid in _pids_except(known) if _uid_of(pid) == server.uid and _alive(pid)]
    assert strays == [], [_describe(pid) for pid in strays]
    killer = await run(
        sandbox,
        program("""
            import os, signal
            for target in (-1, 1, 2, 3):
                try:
                    os.kill(target, signal.SIGKILL if target != 1 else signal.SIGTERM)
                except OSError:
                    pass
            print("CONTROL=survived")
        """),
    )
    assert killer.status in ("ok", "signal"), killer
    second = await run(
        sandbox,
        program("""
            import os, random, numpy
            for path in ("/tmp/left", "/dev/shm/left", "/out/left.bin"):
                print(path + "=" + str(os.path.exists(path)))
            print("listing=" + ",".join(sorted(os.listdir("/tmp") + os.listdir("/dev/shm"))))
            print("pids=" + ",".join(sorted(p for p in os.listdir("/proc") if p.isdigit())))
            print("rng=", random.random(), numpy.random.rand())
            print("CONTROL=second")
        """),
    )
    assert second.status == "ok", second
    found, before = lines(second), lines(first)
    for path in ("/tmp/left", "/dev/shm/left", "/out/left.bin"):
        assert found[path] == "False", second.stdout
    assert found["listing"] == ""
    assert before["pids"] == "1,3"  # the job and its daemon (its first child exited)
    assert found["pids"] == "1"  # the daemon is gone, nothing else is seen
    assert found["rng"] != before["rng"]
    assert pool.server is server and server.alive and pool.started == 1  # never hurt


def _pids_except(keep: list[int]) -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in keep]


def _alive(pid: int) -> bool:
    """Not a process on its way out (a zombie, or one whose memory is gone already: an
    earlier sandbox's, which left its cgroup when it exited)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read() != b""
    except OSError:
        return False


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()[:100]
        with open(f"/proc/{pid}/cgroup") as handle:
            cgroup = handle.read().replace("\n", " ")[:300]
        with open(f"/proc/{pid}/status") as handle:
            state = next(line for line in handle if line.startswith("State:"))
    except OSError as exc:
        return f"{pid}: {exc}"
    return f"{pid} {state.strip()} {cmdline!r} {cgroup}"


def _uid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return int(next(line for line in handle if line.startswith("Uid:")).split()[1])
    except (OSError, StopIteration):
        return None


@pytest.mark.sandbox_config(fork_server=True)
async def test_the_mount_table_shows_no_host_path_of_the_packages(sandbox: Sandbox) -> None:
    """The packages come from the host's venv; a job's mount table names no host folder
    of it (the fork server shows them through an overlay and drops the original bind).
    Single-use sandboxes (GPU lanes) still show it: bubblewrap 0.8 has no way around it."""
    assert sandbox.plan is not None
    host_path = sandbox.plan.runtime.site_packages
    result = await run(
        sandbox,
        program("""
            import numpy
            print(open("/proc/self/mountinfo").read())
            print("CONTROL", numpy.__file__)
        """),
    )
    assert result.status == "ok", result
    assert "CONTROL /opt/site-packages/numpy/" in result.stdout  # the packages are there
    assert host_path not in result.stdout
    for part in (str(REPO), ".venv"):
        assert part not in result.stdout, (part, result.stdout)


async def test_jobs_hold_no_capabilities(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        program("""
            fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
            for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"):
                print(key + "=" + fields[key].strip())
            print("CONTROL=done")
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(found[key], 16) == 0, (key, result.stdout)
    assert found["NoNewPrivs"] == "1" and found["Seccomp"] == "2"


# --- the host's files and other processes ----------------------------------------------


async def test_host_files_are_out_of_reach(sandbox: Sandbox) -> None:
    targets = [
        "/root",
        "/root/.bashrc",
        str(REPO),
        str(REPO / "bot"),
        str(REPO / ".env"),
        "/work",
        "/home",
        "/var",
        "/etc/passwd",
        "/etc/shadow",
        "/run",
    ]
    result = await run(
        sandbox,
        program(f"""
            import os
            for path in {targets!r}:
                try:
                    if os.path.isdir(path):
                        print(path + "=listed", os.listdir(path))
                    else:
                        print(path + "=read", len(open(path, "rb").read()))
                except OSError as exc:
                    print(path + "=refused", exc.errno)
            print("CONTROL=usr", os.path.isdir("/usr/lib"))
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "usr True"
    leaked = {path: found[path] for path in targets if not found[path].startswith("refused")}
    # /root exists inside only as the empty mount point that bubblewrap needs for nothing:
    # whatever is listed must be empty
    assert all(value == "listed []" for value in leaked.values()), leaked


async def test_no_peeking_into_other_processes(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        program("""
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            print("ptrace=", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())  # PTRACE_ATTACH
            buf = ctypes.create_string_buffer(16)
            class IOV(ctypes.Structure):
                _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
            local = IOV(ctypes.addressof(buf), 16)
            remote = IOV(0x400000, 16)
            n = libc.process_vm_readv(1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
            print("vm_readv=", n, ctypes.get_errno())
            try:
                open("/proc/1/mem", "rb").read(1)
                print("mem=read")
            except OSError as exc:
                print("mem=refused", exc.errno)
            print("unshare=", libc.unshare(0x10000000), ctypes.get_errno())  # CLONE_NEWUSER
            print("mount=", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), ctypes.get_errno())
            print("setuid=", libc.setuid(0), ctypes.get_errno())
            seccomp = [l for l in open("/proc/self/status") if l.startswith("Seccomp:")]
            print("seccomp=", seccomp[0].split()[1])
            print("CONTROL=done")
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "done"
    for key in ("ptrace", "vm_readv", "unshare", "mount", "setuid"):
        assert found[key].split()[0] == "-1", (key, result.stdout)
    assert found["mem"].startswith("refused")
    assert found["seccomp"] == " 2"  # a filter is loaded


async def test_no_inotify_or_fanotify(sandbox: Sandbox) -> None:
    """Watching the shared read-only folders would show what concurrent jobs open."""
    result = await run(
        sandbox,
        program("""
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            for name, call in (
                ("inotify_init1", lambda: libc.inotify_init1(0)),
                ("inotify_init", lambda: libc.inotify_init()),
                ("inotify_add_watch", lambda: libc.inotify_add_watch(0, b"/opt", 0x20)),
                ("fanotify_init", lambda: libc.fanotify_init(0, 0)),
                ("fanotify_mark", lambda: libc.fanotify_mark(0, 1, 0x20, -100, b"/opt")),
            ):
                try:
                    print(name + "=", call(), ctypes.get_errno())
                except AttributeError:  # not in this libc: nothing to call
                    print(name + "= -1 1")
            print("CONTROL=done")
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "done"
    for key in ("inotify_init1", "inotify_init", "inotify_add_watch", "fanotify_init"):
        assert found[key].split() == ["-1", "1"], (key, result.stdout)  # EPERM
    assert found["fanotify_mark"].split() == ["-1", "1"], result.stdout


# --- output files, encodings ---------------------------------------------------------------


async def test_hostile_output_files_are_handled_safely(sandbox: Sandbox) -> None:
    result = await run(
        sandbox,
        FIND_STATUS_FD
        + program("""
            import json, os, sys
            os.symlink("/etc/passwd", "/out/passwd.txt")
            os.symlink("/etc/ld.so.cache", "/out/cache.png")
            os.mkfifo("/out/pipe.txt")
            os.mkdir("/out/folder.png")
            with open("/out/huge.png", "wb") as f:
                f.write(b"\\x89PNG\\r\\n\\x1a\\n" + b"0" * (300 * 1024))
            with open("/out/fake.png", "wb") as f:
                f.write(b"not a png")
            with open("/out/bad.txt", "wb") as f:
                f.write(b"\\xff\\xfe not utf-8")
            with open("/out/a_real.png", "wb") as f:
                f.write(b"\\x89PNG\\r\\n\\x1a\\n" + b"1" * 100)
            for i in range(10):
                with open(f"/out/note{i}.txt", "w") as f:
                    f.write(f"note {i}")
            # forge the launcher's report: names with folders in them, a flood of files
            fd = status_fd()
            import base64
            data = base64.b64encode(b"forged").decode()
            for name in ("../../etc/evil.txt", "/abs/evil2.txt", "..", ".hidden.txt", 7):
                os.write(fd, json.dumps({"file": name, "size": 6, "data": data}).encode() + b"\\n")
            os.write(fd, b"{not json\\n" + b"x" * 100000 + b"\\n")
            print("CONTROL=made")
        """),
    )
    assert result.status == "ok", result
    names = [f.name for f in result.files]
    assert len(names) <= FAST.files_max
    for name in names:
        assert "/" not in name and not name.startswith(".") and name not in ("", "..")
    assert "passwd.txt" not in names and "cache.png" not in names  # links not followed
    assert "pipe.txt" not in names and "folder.png" not in names and "huge.png" not in names
    assert "fake.png" not in names and "bad.txt" not in names
    for item in result.files:
        if item.kind == "png":
            assert item.data.startswith(b"\x89PNG")
        else:
            item.data.decode("utf-8")
            assert b"root:" not in item.data
    assert any("at most" in note for note in result.notes) or len(names) < FAST.files_max


async def test_garbage_on_the_status_channel_is_not_a_sandbox_error(sandbox: Sandbox) -> None:
    """A line that the JSON parser cannot handle (RecursionError) is the job's garbage."""
    result = await run(
        sandbox,
        FIND_STATUS_FD
        + program("""
            import json, os
            fd = status_fd()
            os.write(fd, b"[" * 200000 + b"\\n")
            os.write(fd, b'{"exit": ' + b"[" * 5000 + b"\\n")
            os.write(fd, b'{"file": "x.txt", "data": ' + b"{" * 5000 + b"\\n")
            with open("/out/kept.txt", "w") as f:
                f.write("kept")
            print("CONTROL=done")
        """),
    )
    assert result.status == "ok", result
    assert result.exit_code == 0
    assert result.stdout == "CONTROL=done\n"
    assert [f.name for f in result.files] == ["kept.txt"]


class LoopProbe:
    """The event loop's longest stretch of work between two ticks of a ticker task,
    measured in the loop thread's CPU time (``time.thread_time``): what a parse on the
    loop costs shows up, while the machine's load (the thread waiting for a core) does
    not, so the bound does not depend on what else runs on this host."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.thread_time()
        while True:
            await asyncio.sleep(0.002)
            now = time.thread_time()
            self.worst = max(self.worst, now - last)
            self.ticks += 1
            last = now

    def __enter__(self) -> LoopProbe:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest.mark.sandbox_config(file_kb=2048, files_max=8, output_kb=64)
async def test_a_flood_of_nested_json_on_the_status_pipe_stays_cheap(sandbox: Sandbox) -> None:
    """Megabytes of deeply nested JSON (shaped like file records), a million empty lines
    and an endless stream on the status pipe: the host never parses them on its event
    loop (worst stretch of loop work < 50 ms while two such jobs run), keeps none of it,
    and answers within the job's time limit with the job's real exit."""
    flood = FIND_STATUS_FD + program("""
        import os
        fd = status_fd()
        nested = b"[" * 900 + b"0" + b"]" * 900
        line = b'{"file": [' + b",".join([nested] * 1400) + b"]}\\n"  # 2.5 MB, valid JSON
        for _ in range(12):
            os.write(fd, line)
        os.write(fd, b"\\n" * 1_000_000)
        os.write(fd, b"[" * 3_000_000 + b"\\n")
        print("CONTROL=flooded", flush=True)
    """)
    with LoopProbe() as probe:
        results = await asyncio.gather(
            run(sandbox, flood, member_id=1, timeout_s=8),
            run(sandbox, flood, member_id=2, timeout_s=8),
        )
    for result in results:
        assert result.status == "ok", result
        assert result.stdout == "CONTROL=flooded\n"
        assert result.files == ()
        assert result.wall_ms < 8000
    assert probe.ticks > 0
    assert probe.worst < 0.050, f"the event loop worked {probe.worst * 1000:.0f} ms in one go"


async def test_the_launcher_s_settings_are_not_on_the_command_line(sandbox: Sandbox) -> None:
    """The launcher reads its settings from its standard input and closes it: the job
    finds no map of its descriptors on any command line it can read."""
    result = await run(
        sandbox,
        program("""
            import os, re
            lines = []
            for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
                try:
                    lines.append(open(f"/proc/{pid}/cmdline", "rb").read().decode("latin-1"))
                except OSError:
                    pass
            print("cmdlines=" + repr(lines).replace("\\n", " ")[-400:])
            fd_map = re.compile(r'"(status|job)_fd": *[0-9]')
            print("fd_map=" + str(any(fd_map.search(line) for line in lines)))
            print("stdin=" + os.readlink("/proc/self/fd/0"))
            print("CONTROL=done")
        """),
    )
    assert result.status == "ok", result
    found = lines(result)
    assert found["CONTROL"] == "done"
    assert found["fd_map"] == "False", found["cmdlines"]
    assert found["stdin"] == "/dev/null"


async def test_image_bombs_are_refused(sandbox: Sandbox) -> None:
    """A tiny PNG that declares 30000x30000 pixels is never passed on (never decoded)."""
    result = await run(
        sandbox,
        program("""
            import struct, zlib
            def png(width, height):
                ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
                chunk = struct.pack(">I", 13) + b"IHDR" + ihdr
                chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
                return b"\\x89PNG\\r\\n\\x1a\\n" + chunk + b"\\0" * 64
            for name, size in (("bomb.png", (30000, 30000)), ("wide.png", (20000, 10)),
                               ("small.png", (640, 480))):
                with open("/out/" + name, "wb") as f:
                    f.write(png(*size))
            print("CONTROL=done")
        """),
    )
    assert result.status == "ok", result
    assert [f.name for f in result.files] == ["small.png"], result
    assert any("bomb.png" in note and "30000" in note for note in result.notes), result.notes
    assert any("wide.png" in note for note in result.notes), result.notes
    bomb = next(d for d in result.dropped if d.name == "bomb.png")  # for the member's message
    assert (bomb.reason, bomb.params["width"], bomb.params["height"]) == (
        "image_too_large",
        30000,
        30000,
    )
    assert [d.name for d in result.dropped] == ["bomb.png", "wide.png"]


async def test_invalid_unicode_and_nul_bytes(sandbox: Sandbox) -> None:
    nul = await run(sandbox, b"print('a')\x00\n")
    assert nul.status == "error", nul
    assert "null" in nul.stderr.lower()
    latin = await run(sandbox, b"print('\xff\xfe')\n")
    assert latin.status == "error" and "SyntaxError" in latin.stderr, latin
    surrogate = await run(sandbox, "print('\udcff')\n")  # a lone surrogate in the source
    assert surrogate.status == "error", surrogate
    output = await run(
        sandbox,
        program("""
            import sys
            sys.stdout.buffer.write(b"bytes:\\xff\\xfe\\x00end\\n")
            sys.stdout.flush()
            print("surrogate:\\udcff")
            sys.stderr.write("err\\x00\\n")
        """),
    )
    assert output.status == "ok", output
    assert "bytes:\ufffd\ufffd\x00end" in output.stdout
    assert "surrogate:\\udcff" in output.stdout
    assert output.stderr == "err\x00\n"
    json.loads(json.dumps(output.to_json("x.py")))  # survives the JSON contract


# --- many jobs at once -------------------------------------------------------------------


@pytest.mark.sandbox_config(concurrency=2, pool_size=2, queue_max=4)
async def test_many_concurrent_jobs_and_queue_positions(sandbox: Sandbox) -> None:
    code = "import select\nselect.select([], [], [], 0.3)\nprint('done')\n"
    tickets = [sandbox.submit(code, JobSpec(member_id=100 + i)) for i in range(6)]
    assert [t.position for t in tickets] == [0, 0, 1, 2, 3, 4]
    assert [t.place() for t in tickets] == [0, 0, 1, 2, 3, 4]
    same_member = sandbox.submit(code, JobSpec(member_id=100))
    assert (await same_member).reason_key == "sandbox.busy_member"
    full = sandbox.submit(code, JobSpec(member_id=999))
    assert (await full).reason_key == "sandbox.queue_full"
    results = await asyncio.gather(*tickets)
    assert [r.status for r in results] == ["ok"] * 6, results
    assert all(r.stdout == "done\n" for r in results)
    again = await sandbox.run(code, JobSpec(member_id=100))  # the member's turn is over
    assert again.status == "ok"


# --- the pool recovers; sandboxes do not outlive the bot ---------------------------------


@pytest.mark.sandbox_config(fork_server=False)
async def test_the_pool_replaces_a_sandbox_that_died_while_idle(sandbox: Sandbox) -> None:
    pool = sandbox.pools["cpu"]
    assert isinstance(pool, WarmPool)
    assert await pool.wait_ready(1, timeout=30)
    idle = pool._ready[0]
    assert idle.child is not None
    idle.kill()  # as if the kernel had killed it
    await asyncio.wait_for(idle.child.wait(), 10)
    assert not idle.alive
    result = await run(sandbox, "print('still serving')")
    assert result.stdout == "still serving\n", result


@pytest.mark.sandbox_config(fork_server=True)
async def test_the_fork_server_is_replaced_when_it_dies(sandbox: Sandbox) -> None:
    pool = sandbox.pools["cpu"]
    assert isinstance(pool, ForkPool)
    assert await pool.wait_ready(timeout=30)
    server = pool.server
    assert server is not None and server.slot is not None and server.slot.child is not None
    server.slot.kill()  # as if the kernel had killed the zygote
    await asyncio.wait_for(server.slot.child.wait(), 10)
    assert not server.alive
    result = await run(sandbox, "print('still serving')")
    assert result.stdout == "still serving\n", result
    assert pool.server is not server and pool.started == 2


@pytest.mark.sandbox_config(fork_server=True)
async def test_a_job_whose_zygote_is_gone_is_refused_not_run(sandbox: Sandbox) -> None:
    pool = sandbox.pools["cpu"]
    assert isinstance(pool, ForkPool) and await pool.wait_ready(timeout=30)
    server = pool.server
    assert server is not None and server.slot is not None and server.slot.child is not None
    server.slot.kill()
    await asyncio.wait_for(server.slot.child.wait(), 10)
    job = ForkJob(server)
    try:
        result = await job.run(b"print('never')", JobSpec())
    finally:
        await job.close()
    assert (result.status, result.reason_key) == ("rejected", "sandbox.start_failed"), result


@pytest.mark.parametrize("fork_server", [True, False], ids=["fork-server", "single-use"])
def test_sandboxes_die_with_the_bot(fork_server: bool) -> None:
    """A bot that crashes (SIGKILL, no cleanup) takes its warm sandboxes with it."""
    need_sandbox()
    script = program("""
        import asyncio, sys
        from sandbox import Sandbox
        from tests.sandbox.conftest import FAST

        async def main():
            box = await Sandbox(FAST.with_limits(pool_size=2, fork_server=FORK)).start()
            await box.wait_ready()
            pool = box.pools["cpu"]
            slots = [pool.server.slot] if FORK else pool._ready
            pids = [pid for slot in slots for pid in slot.cgroup.procs()]
            print(" ".join(str(p) for p in pids), flush=True)
            await asyncio.Event().wait()

        asyncio.run(main())
    """)
    script = f"FORK = {fork_server}\n" + script
    bot = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert bot.stdout is not None
        pids = {int(pid) for pid in bot.stdout.readline().split()}
        # bubblewrap and the launcher of each sandbox (the fork server: one sandbox)
        assert len(pids) >= (2 if fork_server else 4)
        watchers = {pid: os.pidfd_open(pid) for pid in pids}
        uids = set()
        for pid in pids:
            with open(f"/proc/{pid}/status") as handle:
                uids.add(next(line for line in handle if line.startswith("Uid:")).split()[1])
        bot.kill()
        bot.wait(30)
        poller = select.poll()
        for fd in watchers.values():
            poller.register(fd, select.POLLIN)
        ended: set[int] = set()
        loop_deadline = 50
        while len(ended) < len(watchers) and loop_deadline:
            for fd, _ in poller.poll(200):  # a pidfd turns readable when its process ends
                ended.add(fd)
                poller.unregister(fd)
            loop_deadline -= 1
        assert ended == set(watchers.values())
        # the crashed bot's cgroups are left behind; the next start sweeps them away
        plan, _ = probe(FAST)
        assert plan is not None and plan.cgroups is not None
        left = [name for name in plan.cgroups.names() if name.split("j")[0][1:] in uids]
        assert left == []  # the sandboxes' groups and the fork server jobs' groups
    finally:
        if bot.poll() is None:
            bot.kill()
        for fd in locals().get("watchers", {}).values():
            os.close(fd)
