"""The fork server's warm path: what a child forked ahead does before its job comes (its
isolation, settings and a primed, torch-using rehearsal), and that none of it shows in the
job; the refill of the spares happens after a job's result, not during the job; and a job
is handed over in one write."""

from __future__ import annotations

import asyncio
import os
import random
import textwrap

from sandbox import JobSpec, Sandbox
from sandbox.forkserver import ForkPool
from sandbox.pipes import write_once
from tests.sandbox.conftest import FAST, need_sandbox

JOB_SEED = 424242


async def test_a_primed_child_shows_nothing_of_its_rehearsal_to_the_job() -> None:
    """With torch preloaded, each child runs a small torch job (printing tensors) before it
    says "ready". The job must still see only itself: its own seed in every RNG, its
    own ``__main__``, argv, working folder and ``/code``, the configured threads, and not
    one byte of the rehearsal's output (which goes to /dev/null; the host also discards
    what a child wrote before its job)."""
    need_sandbox()
    config = FAST.with_limits(preload_torch=True, fork_server=True, memory_mb=1024)
    async with Sandbox(config) as box:
        assert isinstance(box.pools["cpu"], ForkPool), box.fork_problem
        assert await box.wait_ready(timeout=120)
        code = textwrap.dedent("""
            import os, random, sys
            import numpy, torch
            print("seed=" + str(torch.initial_seed()))
            print("random=" + repr(random.random()))
            print("numpy_seeded=" + str(numpy.random.get_state()[1][0] == 424242))
            print("names=" + ",".join(sorted(n for n in globals() if not n.startswith("__"))))
            print("main=" + sys.modules["__main__"].__file__)
            print("argv=" + ",".join(sys.argv[1:]))
            print("cwd=" + os.getcwd())
            print("code=" + ",".join(sorted(os.listdir("/code"))))
            print("threads=" + str(torch.get_num_threads()))
        """).lstrip()
        job = JobSpec(kind="lesson", name="probe.py", seed=JOB_SEED, argv=("a", "b"))
        result = await box.run(code, job)
    assert result.status == "ok", result
    expected = {
        "seed": str(JOB_SEED),
        "random": repr(random.Random(JOB_SEED).random()),
        "numpy_seeded": "True",
        "names": "numpy,os,random,sys,torch",
        "main": "/code/probe.py",
        "argv": "a,b",
        "cwd": "/out",
        "code": "probe.py",
        "threads": str(config.threads),
    }
    # exactly the job's lines
    assert result.stdout == "".join(f"{key}={value}\n" for key, value in expected.items())
    assert result.stderr == ""


async def test_spares_are_refilled_after_the_result_not_during_the_job() -> None:
    """A job that takes one of several waiting children does not have the next one forked
    and primed beside it (tens of milliseconds of CPU on its clock): the refill starts when
    the job is closed. A job that takes the last spare (a burst) refills at once."""
    need_sandbox()
    async with Sandbox(FAST.with_limits(fork_server=True, concurrency=2)) as box:
        pool = box.pools["cpu"]
        assert isinstance(pool, ForkPool), box.fork_problem
        assert pool.spares == 2
        assert await pool.wait_ready(timeout=60)
        assert len(pool._prepared) == 2 and not pool._preparing

        job = await pool.acquire()
        assert len(pool._prepared) == 1 and not pool._preparing  # nothing forked yet
        result = await job.run(b"print('CONTROL=ran')\n", JobSpec(kind="lesson"))
        assert result.status == "ok" and "CONTROL=ran" in result.stdout, result
        assert not pool._preparing  # still nothing: the job ran alone
        await job.close()  # its result is out: now the refill (maybe done already)
        assert len(pool._preparing) + len(pool._prepared) == 2
        assert await pool.wait_ready(timeout=60)
        assert len(pool._prepared) == 2

        first = await pool.acquire()
        second = await pool.acquire()  # the last spare: refill at once
        assert not pool._prepared and len(pool._preparing) == 2
        for taken in (first, second):
            await taken.close()
        assert await pool.wait_ready(timeout=60)
        assert len(pool._prepared) == 2


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_a_job_that_fits_the_pipe_is_written_and_closed_at_once() -> None:
    """No transport (and no event-loop round) for a header and code that fit in the pipe's
    buffer: the reader has all of it and end of file as soon as ``write_once`` returns.
    Larger data goes through a transport and arrives whole; a reader that is gone is no
    error."""
    loop = asyncio.get_running_loop()
    read_end, write_end = os.pipe()
    small = b'{"name": "a.py"}\n' + b"print(1)\n" * 100
    assert await write_once(loop, write_end, small) is None
    os.set_blocking(read_end, False)
    assert _read_all(read_end) == small  # end of file already: the write end is closed
    os.close(read_end)

    read_end, write_end = os.pipe()
    large = os.urandom(1 << 20)  # more than a pipe holds
    reader = asyncio.create_task(asyncio.to_thread(_read_all, read_end))
    transport = await write_once(loop, write_end, large)
    assert transport is not None
    assert await asyncio.wait_for(reader, 10) == large
    os.close(read_end)

    read_end, write_end = os.pipe()
    os.close(read_end)
    assert await write_once(loop, write_end, small) is None  # no BrokenPipeError
