"""The queue's cost: a small lesson through the remote runners (Celery over Redis, a
``studybot worker`` started here) against the same lesson through the local warm pool,
in one run, so the difference is the queue's and nothing else's.

- local: submit → result through ``Sandbox`` (a warm slot ready before each request);
- remote: submit → result through ``RemoteSandbox`` and one worker on this machine (its
  warm slot ready before each request, as its status says);
- overhead: remote minus local, p50/p95 of the per-request figure ``round trip - the job's
  own wall time`` (the job's time is the sandbox's, on either side), so a slower or faster
  job does not move it;
- worst_loop_lag_ms: the worst lag of a 5 ms ticker in the caller's event loop during the
  remote runs (the bot's loop never waits on the broker).

Prints one JSON object (``{"skipped": reason}`` when Redis or the sandbox is missing).
Run as root on a host with bubblewrap and Redis:
.venv/bin/python bench/remote_queue.py [--runs N] [--lesson ID] [--broker URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

# the repository in place of this folder (so a script named like a standard module could not
# shadow the standard library)
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid

ROOT = Path(__file__).resolve().parent.parent

from lessons.catalogue import LESSONS_DIR, find_lesson, load_lessons  # noqa: E402
from sandbox import JobSpec, RunResult, Sandbox, SandboxConfig  # noqa: E402
from sandbox.remote import RemoteConfig  # noqa: E402
from sandbox.remote.client import RemoteSandbox  # noqa: E402
from sandbox.remote.status import worker_status  # noqa: E402

SMALL_LESSON = "backward-gradient"
WORKER = "bench@queue"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def check(result: RunResult) -> None:
    if result.status != "ok":
        raise SystemExit(f"bench job failed: {result.status}: {result.stderr[-2000:]}")


def figures(times: list[float], overheads: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "overhead_p50_ms": round(statistics.median(overheads), 1),
        "overhead_p95_ms": round(percentile(overheads, 0.95), 1),
    }


async def local_runs(config: SandboxConfig, code: bytes, job: JobSpec, n: int) -> dict:
    times, overheads = [], []
    async with Sandbox(config) as box:
        if not box.sandboxed:
            raise SystemExit(json.dumps({"skipped": f"no sandbox: {box.unavailable_reason}"}))
        for _ in range(n):
            await box.wait_ready()
            await box.settle()
            started = time.perf_counter()
            result = await box.run(code, job)
            elapsed = (time.perf_counter() - started) * 1000
            check(result)
            times.append(elapsed)
            overheads.append(elapsed - result.wall_ms)
    return figures(times, overheads)


def wait_worker_ready(app: object, deadline_s: float = 120.0) -> None:
    """Until the worker reports a warm slot (polling its status, not timing it)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        rows = {row["name"]: row for row in worker_status(app, timeout=0.3)}  # type: ignore[arg-type]
        row = rows.get(WORKER)
        if row is not None and row["ready"] >= 1 and row["running"] == 0:
            return
    raise SystemExit("the bench worker did not become ready")


async def remote_runs(
    config: SandboxConfig, remote: RemoteConfig, code: bytes, job: JobSpec, n: int
) -> dict:
    times, overheads = [], []
    worst = 0.0
    async with RemoteSandbox(config, remote) as box:
        loop = asyncio.get_running_loop()
        for _ in range(n):
            await asyncio.to_thread(wait_worker_ready, box.app)
            done = asyncio.Event()

            async def ticker(done: asyncio.Event = done) -> None:
                nonlocal worst
                while not done.is_set():
                    expected = loop.time() + 0.005
                    await asyncio.sleep(0.005)
                    worst = max(worst, loop.time() - expected)

            tick = asyncio.create_task(ticker())
            started = time.perf_counter()
            result = await box.run(code, job)
            elapsed = (time.perf_counter() - started) * 1000
            done.set()
            await tick
            check(result)
            times.append(elapsed)
            overheads.append(elapsed - result.wall_ms)
    return {**figures(times, overheads), "worst_loop_lag_ms": round(worst * 1000, 1)}


def start_worker(remote: RemoteConfig, folder: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    env.update(
        {
            "STUDYBOT_BROKER_URL": remote.broker_url,
            "STUDYBOT_SANDBOX_REMOTE_NAMESPACE": remote.namespace,
            "STUDYBOT_SANDBOX_POOL_SIZE": "1",
            "STUDYBOT_LOG_LEVEL": "WARNING",
        }
    )
    command = [sys.executable, "-m", "bot.cli", "worker", "--name", WORKER]
    log = open(Path(folder) / "worker.log", "wb")  # noqa: SIM115 - lives with the process
    return subprocess.Popen(
        command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lesson", default=SMALL_LESSON)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    import redis

    try:
        redis.Redis.from_url(args.broker, socket_connect_timeout=2).ping()
    except Exception as exc:
        print(json.dumps({"skipped": f"Redis at {args.broker}: {exc}"}))
        return
    lesson = find_lesson(load_lessons(LESSONS_DIR), args.lesson)
    if lesson is None:
        raise SystemExit(f"no lesson {args.lesson!r}")
    code = lesson.path.read_bytes()
    job = JobSpec(kind="member", name=lesson.path.name)  # the CPU queue, no GPU wait
    config = SandboxConfig(pool_size=1, rate_per_minute=10_000, rate_burst=10_000)
    local = await local_runs(config, code, job, args.runs)
    remote = RemoteConfig(args.broker, namespace="bench" + uuid.uuid4().hex[:8])
    with tempfile.TemporaryDirectory() as folder:
        worker = start_worker(remote, folder)
        try:
            queued = await remote_runs(config, remote, code, job, args.runs)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    print(
        json.dumps(
            {
                "bench": "queue",
                "lesson": lesson.id,
                "runs": args.runs,
                "local": local,
                "remote": queued,
                "queue_overhead_p50_ms": round(
                    queued["overhead_p50_ms"] - local["overhead_p50_ms"], 1
                ),
                "queue_overhead_p95_ms": round(
                    queued["overhead_p95_ms"] - local["overhead_p95_ms"], 1
                ),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
