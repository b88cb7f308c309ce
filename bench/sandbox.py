"""The sandbox's figures, measured in one run (so the ratios compare like with like).

- warm: a small lesson through the warm pool (a warm sandbox is ready before each
  request; the time is from submit to result), p50/p95;
- cold: the same lesson in a sandbox started for the request (bubblewrap, torch import and
  warm-up on the request path: what a sandbox without a pool costs), p50;
- throughput: jobs per second with the concurrency limit, many jobs submitted at once (the
  pool's refills, about one torch import per job, are the limit);
- event loop: the worst lag of a 5 ms ticker in the bot's event loop while 4 jobs run.

Prints one JSON object. Run as root on a host with bubblewrap:
.venv/bin/python bench/sandbox.py [--lesson ID] [--warm N] [--cold N] [--jobs N]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lessons.catalogue import LESSONS_DIR, find_lesson, load_lessons
from sandbox import JobSpec, RunResult, Sandbox, SandboxConfig

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


async def warm_runs(config: SandboxConfig, code: bytes, job: JobSpec, n: int) -> dict:
    async with Sandbox(config) as box:
        if not box.sandboxed:
            raise SystemExit(f"no sandbox on this host: {box.unavailable_reason}")
        times = []
        wall = []
        for _ in range(n):
            await box.wait_ready()  # a warm slot is there, as between requests
            await box.settle()
            started = time.perf_counter()
            result = await box.run(code, job)
            times.append((time.perf_counter() - started) * 1000)
            check(result)
            wall.append(result.wall_ms)
        await box.wait_ready()
        idle_mb = idle_slot_mb(box)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "job_wall_p50_ms": round(statistics.median(wall), 1),
        "runs": n,
        "idle_slot_mb": idle_mb,
    }


def idle_slot_mb(box: Sandbox) -> float | None:
    sizes = []
    for slot in box.pools["cpu"]._ready:
        if slot.cgroup is not None:
            usage = slot.cgroup.memory / (
                "memory.usage_in_bytes" if slot.cgroup.host.version == 1 else "memory.current"
            )
            with contextlib.suppress(OSError, ValueError):
                sizes.append(int(usage.read_text()) / 2**20)
    return round(statistics.median(sizes), 1) if sizes else None


async def cold_runs(config: SandboxConfig, code: bytes, job: JobSpec, n: int) -> dict:
    times = []
    async with Sandbox(config.with_limits(pool_size=0)) as box:
        for _ in range(n):
            await box.settle()
            times.append(await timed(box, code, job))
    return {"p50_ms": round(statistics.median(times), 1), "runs": n}


async def throughput(config: SandboxConfig, code: bytes, job: JobSpec, n: int) -> dict:
    async with Sandbox(config.with_limits(queue_max=n)) as box:
        await box.wait_ready()
        started = time.perf_counter()
        results = await asyncio.gather(*(box.submit(code, job) for _ in range(n)))
        elapsed = time.perf_counter() - started
        for result in results:
            check(result)
        await box.settle()
    return {
        "jobs": n,
        "concurrency": config.effective_concurrency,
        "seconds": round(elapsed, 2),
        "jobs_per_s": round(n / elapsed, 2),
    }


async def loop_lag(config: SandboxConfig, code: bytes, job: JobSpec) -> dict:
    async with Sandbox(config) as box:
        await box.wait_ready()
        loop = asyncio.get_running_loop()
        worst = 0.0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal worst
            while not done.is_set():
                expected = loop.time() + 0.005
                await asyncio.sleep(0.005)
                worst = max(worst, loop.time() - expected)

        tick = asyncio.create_task(ticker())
        results = await asyncio.gather(*(box.submit(code, job) for _ in range(4)))
        await box.settle()
        await box.wait_ready()  # the refills after the 4 jobs count too
        done.set()
        await tick
        for result in results:
            check(result)
    return {"jobs": 4, "worst_lag_ms": round(worst * 1000, 1)}


async def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lesson", default=SMALL_LESSON)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=12)
    args = parser.parse_args()
    lesson = find_lesson(load_lessons(LESSONS_DIR), args.lesson)
    code = lesson.path.read_bytes() if lesson else FALLBACK
    name = lesson.path.name if lesson else "small.py"
    job = JobSpec(kind="lesson", name=name)
    config = SandboxConfig(pool_size=2, concurrency=2, queue_max=50, rate_burst=1000)
    load_before = os.getloadavg()[0]
    warm = await warm_runs(config, code, job, args.warm)
    cold = await cold_runs(config, code, job, args.cold)
    rate = await throughput(config, code, job, args.jobs)
    lag = await loop_lag(config, code, job)
    ratio = cold["p50_ms"] / warm["p50_ms"]
    return {
        "bench": "sandbox",
        "lesson": lesson.id if lesson else "builtin",
        "cores": len(os.sched_getaffinity(0)),
        "load_average_before": round(load_before, 2),
        "warm": warm,
        "cold": cold,
        "cold_over_warm_p50": round(ratio, 1),
        "throughput": rate,
        "event_loop": lag,
        "goals": {
            "cold_over_warm_at_least_20": ratio >= 20,
            "warm_p50_at_most_100_ms": warm["p50_ms"] <= 100,
            "loop_lag_under_50_ms": lag["worst_lag_ms"] < 50,
        },
        "torch_imported": "torch" in sys.modules,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
