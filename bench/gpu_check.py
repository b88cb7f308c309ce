"""The sandbox's GPU checks, as one short script for a host with an NVIDIA GPU.

1. lessons: every lesson runs inside the sandbox on the GPU lane, passes its own
   assertions, prints ``device: cuda`` and its result says ``cuda:N``;
2. memory back: a CUDA job takes most of the GPU's free memory and is killed at its
   wall-time limit; the CUDA job after it must find that memory free again;
3. latency: a small CUDA job through the warm pool (p50/p95, submit to result) against a
   GPU sandbox started for the request (cold), in the same run.

Prints one JSON object (and writes it to ``--out``). Exit status: 0 every check passed,
1 a check failed, 2 this host has no GPU or no working sandbox (the JSON says why).
``--cpu-rehearsal`` runs the same steps on the CPU lane (no GPU memory to compare), so the
script itself is tested on hosts without a GPU.

Run as root on the GPU host (bubblewrap, user namespaces, cgroups as for any sandbox):
    python3 bench/gpu_check.py [--bwrap PATH] [--warm N] [--cold N] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lessons.catalogue import LESSONS_DIR, load_lessons
from sandbox import JobSpec, RunResult, Sandbox, SandboxConfig
from sandbox.host import find_gpus

FREE_MEMORY = b"""import json, torch
if torch.cuda.is_available():
    free, total = torch.cuda.mem_get_info()
    print(json.dumps({"free": free, "total": total}))
else:
    print(json.dumps({"free": None, "total": None}))
"""
# takes a share of the free GPU memory (host memory on the CPU), says so, then waits
HOG = b"""import sys, time, torch
share = float(sys.argv[1])
if torch.cuda.is_available():
    free, _ = torch.cuda.mem_get_info()
    block = torch.empty(int(free * share), dtype=torch.uint8, device="cuda")
else:
    block = torch.empty(64 * 2**20, dtype=torch.uint8)
block.fill_(1)
print("holding", block.numel(), flush=True)
while True:
    time.sleep(1)
"""
SMALL = b"""import torch
device = "cuda" if torch.cuda.is_available() else "cpu"
x = torch.ones(256, 256, device=device)
print(device, (x @ x).sum().item())
"""
# a warm sandbox's CUDA context may or may not exist at either measurement; a memory
# leak would be the hog's whole share (tens of GiB)
SLACK_BYTES = 2 * 2**30


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def brief(result: RunResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "device": result.device,
        "wall_ms": result.wall_ms,
        "files": len(result.files),
        "notes": list(result.notes),
        "stderr_tail": result.stderr[-600:] if result.status != "ok" else "",
    }


def gpu_facts() -> dict[str, Any]:
    """nvidia-smi's view of the card, when it is installed."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return {}
    query = "--query-gpu=name,driver_version,memory.total,memory.used"
    try:
        line = subprocess.run(
            [smi, query, "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"nvidia_smi": line}


async def check_lessons(box: Sandbox, lane: str, only: list[str]) -> dict[str, Any]:
    lessons = [lesson for lesson in load_lessons(LESSONS_DIR) if not only or lesson.id in only]
    runs = {}
    passed = True
    for lesson in lessons:
        result = await box.run_file(lesson.path, JobSpec(kind="lesson"))
        ok = (
            result.ok
            and result.device.startswith(lane)
            and f"device: {lane.split(':')[0]}" in result.stdout
        )
        passed = passed and ok
        runs[lesson.id] = {"passed": ok, **brief(result)}
    return {"passed": passed and bool(lessons), "lessons": runs}


async def free_memory(box: Sandbox) -> int | None:
    result = await box.run(FREE_MEMORY, JobSpec(kind="lesson", name="free_memory.py"))
    if not result.ok:
        raise RuntimeError(f"the memory probe failed: {result.status} {result.stderr[-600:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["free"]


async def check_memory_back(box: Sandbox, share: float, hold_s: float) -> dict[str, Any]:
    before = await free_memory(box)
    await box.wait_ready()
    hog = await box.run(
        HOG, JobSpec(kind="lesson", name="hog.py", timeout_s=hold_s, argv=(str(share),))
    )
    held = hog.stdout.startswith("holding")
    after = [await free_memory(box)]  # the very next job: no waiting in between
    if before is not None and after[0] is not None and after[0] < before - SLACK_BYTES:
        await box.settle()
        after.append(await free_memory(box))  # said apart, in case the driver lags
    back = before is None or (after[0] is not None and after[0] >= before - SLACK_BYTES)
    return {
        "passed": held and hog.status == "timeout" and back,
        "killed_job": brief(hog) | {"held": held},
        "free_before_mb": before and round(before / 2**20),
        "free_after_mb": [value and round(value / 2**20) for value in after],
        "measured": before is not None,
    }


async def timed_runs(config: SandboxConfig, n: int) -> list[float] | RunResult:
    """``n`` small CUDA jobs, each timed from submit to result (ms); with a warm pool each
    waits until a warm sandbox is ready, as between requests. A failed run ends it."""
    job = JobSpec(kind="lesson", name="small_cuda.py")
    times: list[float] = []
    async with Sandbox(config) as box:
        for _ in range(n):
            if config.pool_size:
                await box.wait_ready()
            await box.settle()
            started = time.perf_counter()
            result = await box.run(SMALL, job)
            times.append((time.perf_counter() - started) * 1000)
            if not result.ok:
                return result
    return times


async def check_latency(config: SandboxConfig, warm_n: int, cold_n: int) -> dict[str, Any]:
    warm = await timed_runs(config, warm_n)
    if isinstance(warm, RunResult):
        return {"passed": False, "failed_run": brief(warm)}
    cold = await timed_runs(config.with_limits(pool_size=0), cold_n)
    if isinstance(cold, RunResult):
        return {"passed": False, "failed_run": brief(cold)}
    warm_p50 = statistics.median(warm)
    return {
        "passed": True,
        "warm_p50_ms": round(warm_p50, 1),
        "warm_p95_ms": round(percentile(warm, 0.95), 1),
        "cold_p50_ms": round(statistics.median(cold), 1),
        "cold_over_warm_p50": round(statistics.median(cold) / warm_p50, 1),
        "runs": {"warm": warm_n, "cold": cold_n},
    }


async def run_checks(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    report: dict[str, Any] = {"bench": "gpu_check", "rehearsal": args.cpu_rehearsal}
    gpus = find_gpus()
    report["gpus"] = list(gpus)
    if not gpus and not args.cpu_rehearsal:
        report["reason"] = "no NVIDIA GPU on this host (no /dev/nvidiactl and /dev/nvidiaN)"
        return 2, report
    report |= gpu_facts()
    config = SandboxConfig(
        bwrap=args.bwrap,
        pool_size=1,
        concurrency=2,
        queue_max=50,
        rate_burst=1000,
        rate_per_minute=6000,
        timeout_s=args.timeout,
        cpu_s=args.timeout,
        gpu_memory_mb=args.gpu_memory_mb,
    )
    started = time.perf_counter()
    async with Sandbox(config) as box:
        report["sandbox"] = box.describe()
        if not box.sandboxed:
            report["reason"] = f"no working sandbox: {box.unavailable_reason}"
            return 2, report
        if args.cpu_rehearsal and box.gpus:
            report["reason"] = "this host has a GPU: run the real check, not the rehearsal"
            return 2, report
        lane = f"cuda:{box.gpus[0]}" if box.gpus else "cpu"
        await box.wait_ready()
        report["lessons"] = await check_lessons(box, lane, args.lessons)
        report["memory_back"] = await check_memory_back(box, args.share, args.hold)
    report["latency"] = await check_latency(config, args.warm, args.cold)
    report["seconds"] = round(time.perf_counter() - started, 1)
    checks = ("lessons", "memory_back", "latency")
    report["passed"] = all(report[name]["passed"] for name in checks)
    return (0 if report["passed"] else 1), report


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bwrap", default=os.environ.get("STUDYBOT_SANDBOX_BWRAP", "bwrap"))
    parser.add_argument("--warm", type=int, default=8, help="warm runs (default 8)")
    parser.add_argument("--cold", type=int, default=2, help="cold runs (default 2)")
    parser.add_argument("--timeout", type=float, default=90.0, help="per job (default 90 s)")
    parser.add_argument("--gpu-memory-mb", type=int, default=16384, help="host memory cap")
    parser.add_argument("--share", type=float, default=0.6, help="free GPU memory to hog")
    parser.add_argument("--hold", type=float, default=8.0, help="the hog's time limit (s)")
    parser.add_argument("--lessons", type=lambda s: s.split(","), default=[], help="ids")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--cpu-rehearsal", action="store_true", help="no GPU: test the steps")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    code, report = asyncio.run(run_checks(args))
    text = json.dumps(report, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
