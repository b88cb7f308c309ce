"""The sandbox's figures, measured in one run (so the ratios compare like with like).

For the fork server (CPU lanes' default) and for single-use sandboxes (what GPU lanes use):

- warm: a small lesson, one request at a time (submit to result), p50/p95;
- burst: 30 jobs from 6 members at once (each member sends its next job when its last
  one answered; the rate limits raised for the bench): sustained jobs/s and p50/p95 of
  each job's submit-to-result time (single-use: 6 jobs, one per member: refills are slow);
- idle memory per lane: the zygote's cgroup divided by the lanes it serves, or one warm
  single-use slot's cgroup;
- event loop: the worst lag of a 5 ms ticker during the burst (wall clock, so the host's
  load shows too) and the loop thread's longest stretch of work (CPU time, load-free).

cold: the same lesson in a sandbox started for the request (bubblewrap, torch import and
warm-up on the request path), p50; zygote_start_s: how long the fork server takes to be
ready. Prints one JSON object. Run as root on a host with bubblewrap (about a minute):
.venv/bin/python bench/sandbox.py [--lesson ID] [--warm N] [--cold N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

# the repository instead of this folder (so a script named like a standard module could not
# shadow the standard library)
sys.path.remove(sys.path[0])
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lessons.catalogue import LESSONS_DIR, find_lesson, load_lessons
from sandbox import JobSpec, RunResult, Sandbox, SandboxConfig
from sandbox.cgroups import JobCgroup
from sandbox.forkserver import ForkPool

SMALL_LESSON = "backward-gradient"
FALLBACK = b"import torch\nx = torch.ones(3, requires_grad=True)\n(x * x).sum().backward()\n"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def check(result: RunResult) -> None:
    if result.status != "ok":
        raise SystemExit(f"bench job failed: {result.status}: {result.stderr[-2000:]}")


async def timed(box: Sandbox, code: bytes, job: JobSpec) -> float:
    started = time.perf_counter()
    result = await box.run(code, job)
    check(result)
    return (time.perf_counter() - started) * 1000


async def warm_runs(box: Sandbox, code: bytes, job: JobSpec, n: int) -> dict:
    times = []
    wall = []
    for _ in range(n):
        await box.wait_ready()  # a warm sandbox is there, as between requests
        await box.settle()
        started = time.perf_counter()
        result = await box.run(code, job)
        times.append((time.perf_counter() - started) * 1000)
        check(result)
        wall.append(result.wall_ms)
    await box.wait_ready()
    await box.settle()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "job_wall_p50_ms": round(statistics.median(wall), 1),
        "runs": n,
    }


def _usage_mb(cgroup: JobCgroup) -> float | None:
    name = "memory.usage_in_bytes" if cgroup.host.version == 1 else "memory.current"
    with contextlib.suppress(OSError, ValueError):
        return int((cgroup.memory / name).read_text()) / 2**20
    return None


def idle_lane_mb(box: Sandbox) -> float | None:
    """Memory an idle CPU lane holds: the zygote's share, or one warm slot."""
    pool = box.pools["cpu"]
    if isinstance(pool, ForkPool):
        server = pool.server
        if server is None or server.slot is None or server.slot.cgroup is None:
            return None
        parts = [_usage_mb(server.slot.cgroup)]  # the zygote, and the jobs forked ahead
        parts += [_usage_mb(job.cgroup) for job in pool._prepared if job.cgroup is not None]
        if any(part is None for part in parts):
            return None
        total = sum(part for part in parts if part is not None)
        return round(total / box.config.effective_concurrency, 1)
    sizes = [
        size
        for slot in pool._ready
        if slot.cgroup is not None and (size := _usage_mb(slot.cgroup)) is not None
    ]
    return round(statistics.median(sizes), 1) if sizes else None


class Probe:
    """A 5 ms ticker: its worst lateness (wall) and the loop thread's longest stretch of
    work between two ticks (CPU time)."""

    def __init__(self) -> None:
        self.worst_wall = 0.0
        self.worst_cpu = 0.0
        self.done = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_cpu = time.thread_time()
        while not self.done.is_set():
            expected = loop.time() + 0.005
            await asyncio.sleep(0.005)
            now_cpu = time.thread_time()
            self.worst_wall = max(self.worst_wall, loop.time() - expected)
            self.worst_cpu = max(self.worst_cpu, now_cpu - last_cpu)
            last_cpu = now_cpu


async def burst(box: Sandbox, code: bytes, name: str, members: int, each: int) -> dict:
    """``members`` members at once, each sending ``each`` jobs back to back."""
    latencies: list[float] = []

    async def member(member_id: int) -> None:
        for _ in range(each):
            job = JobSpec(kind="lesson", name=name, member_id=member_id)
            latencies.append(await timed(box, code, job))

    await box.wait_ready()
    await box.settle()
    probe = Probe()
    ticker = asyncio.create_task(probe.run())
    started = time.perf_counter()
    await asyncio.gather(*(member(1000 + m) for m in range(members)))
    elapsed = time.perf_counter() - started
    probe.done.set()
    await ticker
    await box.settle()
    return {
        "jobs": members * each,
        "members": members,
        "concurrency": box.config.effective_concurrency,
        "seconds": round(elapsed, 2),
        "jobs_per_s": round(members * each / elapsed, 2),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "loop_worst_lag_ms": round(probe.worst_wall * 1000, 1),
        "loop_worst_work_ms": round(probe.worst_cpu * 1000, 1),
    }


async def mode(config: SandboxConfig, code: bytes, name: str, warm_n: int, burst_each: int) -> dict:
    job = JobSpec(kind="lesson", name=name)
    started = time.perf_counter()
    async with Sandbox(config) as box:
        if not box.sandboxed:
            raise SystemExit(f"no sandbox on this host: {box.unavailable_reason}")
        if config.fork_server and not isinstance(box.pools["cpu"], ForkPool):
            raise SystemExit(f"the fork server is off here: {box.fork_problem}")
        await box.wait_ready()
        ready_s = time.perf_counter() - started
        warm = await warm_runs(box, code, job, warm_n)
        warm["idle_lane_mb"] = idle_lane_mb(box)
        rate = await burst(box, code, name, 6, burst_each)
    return {"ready_s": round(ready_s, 2), "warm": warm, "burst": rate}


async def cold_runs(config: SandboxConfig, code: bytes, job: JobSpec, n: int) -> dict:
    times = []
    async with Sandbox(config.with_limits(pool_size=0, fork_server=False)) as box:
        for _ in range(n):
            await box.settle()
            times.append(await timed(box, code, job))
    return {"p50_ms": round(statistics.median(times), 1), "runs": n}


async def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lesson", default=SMALL_LESSON)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()
    lesson = find_lesson(load_lessons(LESSONS_DIR), args.lesson)
    code = lesson.path.read_bytes() if lesson else FALLBACK
    name = lesson.path.name if lesson else "small.py"
    config = SandboxConfig(
        pool_size=2,
        concurrency=2,
        queue_max=50,
        rate_per_minute=100_000,  # the bench measures the sandbox, not the rate limits
        rate_burst=1000,
    )
    load_before = os.getloadavg()[0]
    fork = await mode(config.with_limits(fork_server=True), code, name, args.warm, 5)
    single = await mode(config.with_limits(fork_server=False), code, name, 5, 1)
    cold = await cold_runs(config, code, JobSpec(kind="lesson", name=name), args.cold)
    warm_p50 = fork["warm"]["p50_ms"]
    burst_rate = fork["burst"]
    single_lane = single["warm"]["idle_lane_mb"]
    fork_lane = fork["warm"]["idle_lane_mb"]
    return {
        "bench": "sandbox",
        "lesson": lesson.id if lesson else "builtin",
        "cores": len(os.sched_getaffinity(0)),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "fork_server": fork,
        "single_use": single,
        "cold": cold,
        "cold_over_warm_p50": round(cold["p50_ms"] / warm_p50, 1),
        "burst_jobs_per_s_fork_over_single_use": round(
            burst_rate["jobs_per_s"] / single["burst"]["jobs_per_s"], 1
        ),
        "goals": {
            "sustained_at_least_10_jobs_per_s": burst_rate["jobs_per_s"] >= 10,
            "warm_p50_at_most_15_ms": warm_p50 <= 15,
            "idle_lane_below_single_use_slot": (
                fork_lane is not None and single_lane is not None and fork_lane < single_lane
            ),
            "loop_work_under_50_ms": burst_rate["loop_worst_work_ms"] < 50,
        },
        "torch_imported": "torch" in sys.modules,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
