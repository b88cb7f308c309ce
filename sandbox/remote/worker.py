"""``studybot worker``: a Celery worker that runs the queue's jobs through this machine's
own ``Sandbox`` (same isolation, limits, pool and results as a local run).

One process: Celery's thread pool takes up to ``concurrency`` messages at a time (no
prefetching, late acknowledgement), and each thread hands its job to the ``Sandbox``,
which lives on an event loop of its own in a background thread. Before running, a job
claims its task id in the result store (``SET NX``): a message delivered a second time
(its worker died, the broker gave it to another) or one the bot already gave up on (the
GPU fallback) is dropped unanswered (whoever claimed it answers): no job runs twice. The
worker also answers the ``studybot_status`` broadcast (``worker status``): its queues,
GPUs, jobs done and failed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from celery import Celery
from celery.exceptions import Ignore
from celery.worker.control import inspect_command

from sandbox.config import SandboxConfig
from sandbox.core import Sandbox
from sandbox.remote import wire
from sandbox.remote.app import TASK, make_app
from sandbox.remote.config import RemoteConfig, safe_url
from sandbox.remote.status import STATUS_COMMAND
from sandbox.result import RunResult

__all__ = ["WorkerHost", "WorkerUnfit", "claim_key", "gpu_names", "node_name", "run_worker"]

log = logging.getLogger("studybot.worker")
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")


class WorkerUnfit(RuntimeError):
    """This machine cannot serve the queue asked for (the message says why)."""


def node_name(name: str | None, queue: str) -> str:
    """Celery's node name: ``NAME@host`` (``NAME`` alone gets this host's name)."""
    name = name or f"studybot-{queue}"
    return name if "@" in name else f"{name}@{socket.gethostname()}"


def claim_key(namespace: str, task_id: str) -> str:
    return f"{namespace}:claim:{task_id}"


def gpu_names(indices: tuple[int, ...]) -> list[str]:
    """The model of each GPU the sandbox found (from the driver's ``/proc`` files)."""
    models: list[str] = []
    try:
        folders = sorted(NVIDIA_GPUS.iterdir())
    except OSError:
        folders = []
    for folder in folders:
        try:
            info = (folder / "information").read_text(errors="replace")
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("Model:"):
                models.append(line.partition(":")[2].strip()[:80])
    if len(models) != len(indices):
        return [f"cuda:{index}" for index in indices]
    return models


class WorkerHost:
    """The worker's ``Sandbox`` on its own loop thread, and its counters."""

    def __init__(self, config: SandboxConfig, remote: RemoteConfig, queue: str) -> None:
        self.config = config
        self.remote = remote
        self.queue = queue
        self.name = "?"
        self.concurrency = config.concurrency
        self.done = 0
        self.failed = 0
        self.running = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="studybot-worker-sandbox", daemon=True
        )
        self.sandbox = Sandbox(config)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sandbox.start(), self._loop).result()
        if not self.sandbox.sandboxed:
            raise WorkerUnfit(
                f"the sandbox cannot run on this machine: {self.sandbox.unavailable_reason}"
            )
        if self.queue == "gpu" and not self.sandbox.gpus:
            raise WorkerUnfit("--queue gpu needs a GPU, and the sandbox found none here")

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.sandbox.close(), self._loop).result(timeout=60)
        except Exception:
            log.warning("the sandbox did not close cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def run(self, request: wire.Request) -> RunResult:
        with self._lock:
            self.running += 1
        result: RunResult | None = None
        try:
            future = asyncio.run_coroutine_threadsafe(
                self.sandbox.run(request.code, request.job), self._loop
            )
            result = future.result()
            return result
        finally:
            with self._lock:
                self.running -= 1
                if result is not None and result.status == "ok":
                    self.done += 1
                else:
                    self.failed += 1

    def refused(self) -> None:
        with self._lock:
            self.failed += 1

    def status(self) -> dict[str, Any]:
        with self._lock:
            counts = {"done": self.done, "failed": self.failed, "running": self.running}
        return {
            "name": self.name,
            "queues": [self.queue],
            "gpus": gpu_names(self.sandbox.gpus),
            "concurrency": self.concurrency,
            "sandbox": self.sandbox.describe()["mode"],
            "ready": sum(self.sandbox.describe()["pools"].values()),
            **counts,
        }


def register(app: Celery, host: WorkerHost) -> None:
    """The task this worker runs, bound to ``host``."""
    namespace = host.remote.namespace
    # a claim outlives the broker's visibility timeout: a message given again after it
    # still finds its claim
    visibility = int(host.remote.visibility_timeout_s) * 2

    @app.task(name=TASK, bind=True, acks_late=True, ignore_result=False)  # type: ignore[untyped-decorator]
    def run_job(task: Any, payload: Any) -> dict[str, Any]:
        worker = str(task.request.hostname or host.name)
        task_id = str(task.request.id)
        claimed = task.backend.client.set(
            claim_key(namespace, task_id), worker, nx=True, ex=visibility
        )
        if not claimed:
            owner = task.backend.client.get(claim_key(namespace, task_id)) or b"?"
            by = owner.decode("utf-8", "replace") if isinstance(owner, bytes) else str(owner)
            log.warning("job %s was claimed before (by %s): not run again", task_id, by[:100])
            raise Ignore()  # no state stored: whoever claimed it answers
        try:
            request = wire.decode_request(payload, host.config)
        except wire.BadRequest as exc:
            log.warning("job %s refused: %s", task_id, exc)
            host.refused()
            detail = str(exc)
            refusal = RunResult.rejected(
                "sandbox.remote_bad_request", f"The runner refused the job: {detail}", detail=detail
            )
            return wire.encode_result(refusal, worker, host.queue)
        task.update_state(state="RUNNING", meta={"worker": worker, "queue": host.queue})
        result = host.run(request)
        log.info(
            "job %s (%s): %s in %d ms", task_id, request.job.name, result.status, result.wall_ms
        )
        return wire.encode_result(result, worker, host.queue)

    app.studybot_host = host


@inspect_command(name=STATUS_COMMAND)  # type: ignore[untyped-decorator]
def _status(state: Any, **_kwargs: Any) -> dict[str, Any]:
    host: WorkerHost | None = getattr(state.consumer.app, "studybot_host", None)
    return host.status() if host is not None else {}


def worker_config(config: SandboxConfig, concurrency: int) -> SandboxConfig:
    """The worker's sandbox: as configured, with the queue's fairness left to the bot
    (jobs arrive without a member) and room for ``concurrency`` jobs at once."""
    return replace(
        config,
        concurrency=concurrency,
        queue_max=max(config.queue_max, concurrency),
        rate_per_minute=1_000_000.0,
        rate_burst=1_000_000,
    )


def run_worker(
    remote: RemoteConfig,
    config: SandboxConfig,
    *,
    queue: str,
    concurrency: int,
    name: str | None,
    loglevel: str = "INFO",
) -> int:
    """Start the sandbox, then serve ``queue`` until stopped (SIGTERM: finish the jobs
    that run, then exit). Raises ``WorkerUnfit`` when this machine cannot serve it."""
    remote.queue_name(queue)  # refuses an unknown queue
    if concurrency < 1:
        raise WorkerUnfit("--concurrency must be at least 1")
    host = WorkerHost(worker_config(config, concurrency), remote, queue)
    host.name = node_name(name, queue)
    if not wire.WORKER_NAME.fullmatch(host.name):
        raise WorkerUnfit(
            f"the worker's name {host.name!r} may hold only letters, digits and . _ : - @ "
            f"(at most {wire.WORKER_MAX} characters)"
        )
    try:
        host.start()
        app = make_app(remote)
        register(app, host)
        log.info(
            "worker %s: queue %s, %d at once, broker %s",
            host.name,
            remote.queue_name(queue),
            concurrency,
            safe_url(remote.broker_url),
        )
        worker = app.Worker(
            hostname=host.name,
            queues=[remote.queue_name(queue)],
            concurrency=concurrency,
            pool="threads",
            loglevel=loglevel,
            without_gossip=True,
            without_mingle=True,
            without_heartbeat=True,
            quiet=True,
        )
        worker.start()
        return int(worker.exitcode or 0)
    finally:
        host.close()
