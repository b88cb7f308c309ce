"""``Sandbox``: the one object the bot and the command line use to run code.

    async with Sandbox(SandboxConfig.from_settings(settings)) as sandbox:
        ticket = sandbox.submit(code, JobSpec(kind="member", member_id=42))
        ticket.position          # 0: running now; N: N-th in line
        result = await ticket    # a RunResult

``start()`` finds out what the host offers (bubblewrap, user namespaces, cgroups, seccomp,
an interpreter the sandbox uid can run), proves it with a self-test job, and fills the warm
pools. Without a working sandbox members' code is rejected with the reason; lessons then
run with rlimits only if ``allow_unsandboxed_lessons`` is set. The bot process never imports
torch and never runs user code itself: every job runs in a separate sandboxed process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox.admission import FairQueue, Ticket, TokenBucket
from sandbox.cgroups import CgroupError, CgroupHost, JobCgroup
from sandbox.config import SandboxConfig
from sandbox.forkserver import ForkJob, ForkPool, ForkServer, without_preload
from sandbox.host import (
    HostPlan,
    HostUnfit,
    UidLeases,
    find_gpus,
    find_runtime,
    gpu_library_dirs,
)
from sandbox.pool import WarmPool
from sandbox.result import JobSpec, RunResult
from sandbox.seccomp import SeccompUnavailable, filter_bpf
from sandbox.slot import Slot, SlotStartError

__all__ = ["Sandbox", "probe", "run_sync"]

log = logging.getLogger("studybot.sandbox")
SELF_TEST = b"import os, sys\nprint('self-test', os.getuid() != 0)\n"
STALE_GROUP = re.compile(r"u([0-9]+)(?:j[0-9]+)?")


def probe(config: SandboxConfig) -> tuple[HostPlan | None, str | None]:
    """The bubblewrap plan for this host, or None and the reason it cannot work."""
    as_root = os.geteuid() == 0
    bwrap = shutil.which(config.bwrap)
    if bwrap is None:
        return None, f"bubblewrap ({config.bwrap}) is not installed"
    if not os.path.exists("/proc/self/ns/user"):
        return None, "this kernel has no user namespaces"
    try:
        runtime = find_runtime(config.python, config.site_packages, drop_uid=as_root)
        cgroups = CgroupHost.detect()
        seccomp = filter_bpf()
    except (HostUnfit, CgroupError, SeccompUnavailable) as exc:
        return None, str(exc)
    leases = UidLeases(config.uid_base, _uid_count(config)) if as_root else None
    gpu_libraries = gpu_library_dirs() if find_gpus() else ()
    plan = HostPlan(config, "bwrap", runtime, bwrap, cgroups, seccomp, leases, gpu_libraries)
    _sweep(cgroups, leases)
    return plan, None


def _sweep(cgroups: CgroupHost, leases: UidLeases | None) -> None:
    """Remove the groups a crashed process left behind (their uids' leases are free)."""
    if leases is None:
        return
    for name in cgroups.names():
        match = STALE_GROUP.fullmatch(name)  # a sandbox's, or a fork server job's
        if match is None:
            continue
        uid = int(match.group(1))
        if not leases.base <= uid < leases.base + leases.count:
            continue
        try:
            lease = leases.acquire(only=uid)
        except HostUnfit:
            continue  # a live sandbox of this or another process
        try:
            JobCgroup(cgroups, name).remove_stale()
        except CgroupError as exc:
            log.warning("sandbox: cannot remove a stale cgroup: %s", exc)
        finally:
            UidLeases.release(lease)


def _unsandboxed_plan(config: SandboxConfig) -> tuple[HostPlan | None, str | None]:
    """rlimits (and a cgroup when there is one) without namespaces: trusted lessons only."""
    as_root = os.geteuid() == 0
    try:
        runtime = find_runtime(config.python, config.site_packages, drop_uid=as_root)
    except HostUnfit as exc:
        return None, str(exc)
    try:
        cgroups: CgroupHost | None = CgroupHost.detect()
    except CgroupError:
        cgroups = None
    leases = UidLeases(config.uid_base, _uid_count(config)) if as_root else None
    return HostPlan(config, "rlimits", runtime, None, cgroups, None, leases), None


UID_BLOCK = 256  # host uids uid_base .. uid_base+255, shared (by lease) by all processes


def _uid_count(config: SandboxConfig) -> int:
    return max(UID_BLOCK, 2 * (config.pool_size + config.effective_concurrency) + 8)


class Sandbox:
    def __init__(self, config: SandboxConfig, *, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.clock = clock
        self.plan: HostPlan | None = None
        self.unavailable_reason: str | None = None
        # why lessons cannot run when they are allowed without the sandbox but cannot be
        self.lessons_reason: str | None = None
        self.gpus: tuple[int, ...] = ()
        self.pools: dict[str, WarmPool | ForkPool] = {}
        self.fork_problem: str | None = None  # why the fork server is off (when asked for)
        self.queue: FairQueue | None = None
        self._cleanups: set[asyncio.Task[None]] = set()

    # --- life cycle -------------------------------------------------------------------

    async def start(self) -> Sandbox:
        config = self.config
        plan, reason = await asyncio.to_thread(probe, config)
        if plan is not None:
            reason = await self._self_test(plan)
            if reason is not None:
                plan = None
        self.unavailable_reason = reason
        if plan is None:
            log.warning("sandbox unavailable: %s", reason)
            if config.allow_unsandboxed_lessons:
                plan, why = await asyncio.to_thread(_unsandboxed_plan, config)
                if plan is None:
                    log.warning("unsandboxed lessons impossible too: %s", why)
                    self.lessons_reason = f"{reason}; nor with rlimits only: {why}"
                else:
                    log.warning("lessons will run with rlimits only (no sandbox)")
        self.plan = plan
        lanes = {"cpu": config.effective_concurrency}
        if plan is not None and plan.mode == "bwrap":
            self.gpus = find_gpus()
        for index in self.gpus:
            lanes[f"cuda:{index}"] = 1
        fork = plan is not None and plan.mode == "bwrap" and config.fork_server
        if fork:
            assert plan is not None
            reason = await self._fork_self_test(plan)
            if reason is not None:
                log.warning(
                    "sandbox: the fork server is off, single-use sandboxes serve: %s", reason
                )
                self.fork_problem = reason
                fork = False
        if plan is not None:
            for lane in lanes:
                pool: WarmPool | ForkPool
                if lane == "cpu" and fork:
                    pool = ForkPool(plan, lane)
                else:
                    size = config.pool_size if lane == "cpu" else min(config.pool_size, 1)
                    pool = WarmPool(self._slot_factory(plan, lane), size, lane)
                self.pools[lane] = pool
                pool.fill()
        bucket = TokenBucket(config.rate_per_minute, config.rate_burst, self.clock)
        self.queue = FairQueue(self._execute, lanes, queue_max=config.queue_max, bucket=bucket)
        return self

    async def _self_test(self, plan: HostPlan) -> str | None:
        test_plan = replace(plan, config=replace(plan.config, preload_torch=False))
        try:
            slot = await Slot.start(test_plan)
        except (SlotStartError, HostUnfit, CgroupError, OSError) as exc:
            return f"the sandbox failed its self-test: {exc}"
        try:
            result = await slot.run(SELF_TEST, JobSpec(kind="lesson", name="self_test.py"))
        finally:
            await slot.close()
        if result.status != "ok" or "self-test True" not in result.stdout:
            detail = (result.stderr or result.stdout or result.status).strip()[-300:]
            return f"the sandbox failed its self-test ({result.status}): {detail}"
        return None

    async def _fork_self_test(self, plan: HostPlan) -> str | None:
        """Whether a fork server works here (nested namespaces, the cgroup move): a quick
        one (no torch) runs the self-test job."""
        server = ForkServer(without_preload(plan))
        try:
            await server.start()
            job = ForkJob(server)
            try:
                result = await job.run(SELF_TEST, JobSpec(kind="lesson", name="self_test.py"))
            finally:
                await job.close()
        except (SlotStartError, HostUnfit, CgroupError, OSError) as exc:
            return f"the fork server failed to start: {exc}"
        finally:
            await server.close()
        if result.status != "ok" or "self-test True" not in result.stdout:
            detail = (result.stderr or result.stdout or result.status).strip()[-300:]
            return f"the fork server failed its self-test ({result.status}): {detail}"
        return None

    @staticmethod
    def _slot_factory(plan: HostPlan, device: str) -> Callable[[], Slot]:
        return lambda: Slot(plan, device)

    async def close(self) -> None:
        if self.queue is not None:
            await self.queue.close()
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
        await asyncio.gather(*self._cleanups, return_exceptions=True)

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- jobs -------------------------------------------------------------------------

    @property
    def sandboxed(self) -> bool:
        return self.plan is not None and self.plan.mode == "bwrap"

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> Ticket:
        """Queue a job and answer at once (see ``Ticket.position``)."""
        if self.queue is None:
            raise RuntimeError("Sandbox.start() has not run")
        job = job or JobSpec()
        code = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
        reject = self._refusal(code, job)
        if reject is not None:
            future: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
            future.set_result(reject)
            return Ticket(job, code, "cpu", 0, future)
        return self.queue.submit(code, job, self._lane_for(job))

    async def run(self, source: str | bytes, job: JobSpec | None = None) -> RunResult:
        return await self.submit(source, job)

    async def run_file(self, path: str | Path, job: JobSpec | None = None) -> RunResult:
        path = Path(path)
        job = replace(job or JobSpec(), name=path.name)
        try:
            code = path.read_bytes()
        except OSError as exc:
            return RunResult.rejected(
                "sandbox.unreadable", f"Cannot read {path}: {exc.strerror}", path=str(path)
            )
        return await self.run(code, job)

    def _refusal(self, code: bytes, job: JobSpec) -> RunResult | None:
        limit = self.config.code_kb * 1024
        if len(code) > limit:
            return RunResult.rejected(
                "sandbox.too_large",
                f"The program is larger than {self.config.code_kb} KiB.",
                limit_kb=self.config.code_kb,
            )
        if self.plan is None or (self.plan.mode != "bwrap" and not job.trusted):
            reason = self.unavailable_reason or "unknown"
            if job.trusted:
                reason = self.lessons_reason or reason
                message = (
                    f"Lessons cannot run: the sandbox is not available on this host ({reason})."
                )
            else:
                message = (
                    "Running your own code is switched off: the sandbox is not available "
                    f"on this host ({reason})."
                )
            return RunResult.rejected("sandbox.unavailable", message, reason=reason)
        return None

    def _lane_for(self, job: JobSpec) -> str:
        gpu_lanes = [lane for lane in self.pools if lane.startswith("cuda:")]
        if gpu_lanes and (job.trusted or self.config.gpu_for_members):
            assert self.queue is not None
            return min(gpu_lanes, key=self.queue.load)
        return "cpu"

    async def _execute(self, ticket: Ticket) -> RunResult:
        pool = self.pools[ticket.lane]
        try:
            slot = await pool.acquire()
        except SlotStartError as exc:
            return RunResult.rejected(
                "sandbox.start_failed", f"The sandbox failed to start: {exc}", detail=str(exc)
            )
        try:
            return await slot.run(ticket.code, ticket.job)
        finally:
            task = asyncio.create_task(slot.close())  # the result does not wait for cleanup
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)

    # --- for the bench, tests and status pages ----------------------------------------

    async def wait_ready(self, timeout: float = 120.0) -> bool:
        results = await asyncio.gather(
            *(pool.wait_ready(timeout=timeout) for pool in self.pools.values())
        )
        return all(results)

    async def settle(self) -> None:
        """Wait until finished jobs are cleaned up (cgroups removed, uids free)."""
        while self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)

    def describe(self) -> dict[str, Any]:
        return {
            "mode": self.plan.mode if self.plan else "off",
            "reason": self.unavailable_reason,
            "gpus": list(self.gpus),
            "pools": {name: pool.ready for name, pool in self.pools.items()},
            "waiting": self.queue.waiting if self.queue else 0,
            "running": self.queue.running if self.queue else 0,
        }


def run_sync(
    config: SandboxConfig,
    jobs: Sequence[tuple[str | Path | bytes, JobSpec]],
    on_result: Callable[[int, RunResult], None] | None = None,
) -> list[RunResult]:
    """Run jobs one after another through a fresh ``Sandbox`` (the command line's way).
    A job given as a path is read from that file."""

    async def main() -> list[RunResult]:
        results = []
        async with Sandbox(config) as sandbox:
            for index, (source, job) in enumerate(jobs):
                if isinstance(source, bytes):
                    result = await sandbox.run(source, job)
                else:
                    result = await sandbox.run_file(source, job)
                results.append(result)
                if on_result is not None:
                    on_result(index, result)
        return results

    return asyncio.run(main())
