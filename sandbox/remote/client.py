"""``RemoteSandbox``: the bot's side of the Celery back end, with ``Sandbox``'s interface.

``submit`` answers at once with a ticket (its place in the bot's own fair queue: the same
admission rules as locally — one job per member, the per-member rate, a bounded queue),
then each admitted job is sent to the broker and followed to its end:

1. published to ``<namespace>.gpu`` (lessons, and members' code when GPUs are allowed for
   members) or ``<namespace>.cpu``; the broker down yields ``sandbox.remote_down`` at once;
2. "queued": no worker has taken it yet. A GPU job nobody takes within ``gpu_fallback_s``
   is claimed by the bot (so no GPU worker runs it later) and sent to the CPU queue; the
   result then says ``fallback_from="gpu"``. A CPU job nobody takes within
   ``queue_wait_s`` ends ``sandbox.remote_no_worker``;
3. "running on <worker>": the job may now take its time limit plus ``grace_s``; past that
   the worker is taken for lost (``sandbox.remote_lost``) — never a hang;
4. the answer, checked against the bot's own limits (``wire.decode_result``).

Every blocking call (publishing, waiting for the result store's messages) runs in this
object's own threads, so the event loop never waits. Progress goes to the callbacks a
caller registers with ``ticket.watch``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout

from sandbox.admission import FairQueue, Ticket, TokenBucket
from sandbox.config import SandboxConfig
from sandbox.remote import wire
from sandbox.remote.app import TASK, make_app
from sandbox.remote.config import RemoteConfig, safe_url, scrub
from sandbox.remote.status import worker_status
from sandbox.remote.worker import claim_key
from sandbox.result import JobSpec, RunResult

__all__ = ["Progress", "RemoteSandbox", "RemoteTicket", "run_sync_remote"]

log = logging.getLogger("studybot.sandbox.remote")
Progress = Callable[[str, dict[str, Any]], None]  # (message key, its parameters)
LANE = "remote"
IN_FLIGHT = 32  # jobs followed at once (each holds one waiting thread)
POLL_S = 1.0  # longest single wait, so deadlines and closing are noticed


class RemoteTicket:
    """What ``RemoteSandbox.submit`` answers: like ``Ticket`` (``position``, awaitable),
    plus ``watch``: a callback for "queued" and "running on <worker>"."""

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.watchers: list[Progress] = []

    @property
    def id(self) -> str:
        return self.ticket.id

    @property
    def position(self) -> int:
        return self.ticket.position

    def place(self) -> int:
        return self.ticket.place()

    def watch(self, callback: Progress) -> None:
        self.watchers.append(callback)

    def __await__(self) -> Generator[Any, None, RunResult]:
        return self.ticket.__await__()

    def emit(self, key: str, **params: Any) -> None:
        for callback in self.watchers:
            try:
                callback(key, params)
            except Exception:
                log.warning("a progress callback failed", exc_info=True)


@dataclass
class _Outcome:
    kind: str  # "answer", "not_taken", "lost", "failed", "closed", "down"
    payload: Any = None
    worker: str | None = None


class RemoteSandbox:
    """Runs jobs on ``studybot worker`` processes through the broker."""

    def __init__(
        self,
        config: SandboxConfig,
        remote: RemoteConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.remote = remote
        self.clock = clock
        self.app: Celery = make_app(remote)
        self.queue: FairQueue | None = None
        self.unavailable_reason: str | None = None
        self._threads = ThreadPoolExecutor(IN_FLIGHT * 2 + 4, thread_name_prefix="studybot-remote")
        self._tickets: dict[str, RemoteTicket] = {}
        self._closing = False

    async def start(self) -> RemoteSandbox:
        bucket = TokenBucket(self.config.rate_per_minute, self.config.rate_burst, self.clock)
        self.queue = FairQueue(
            self._execute, {LANE: IN_FLIGHT}, queue_max=self.config.queue_max, bucket=bucket
        )
        log.info("sandbox: remote runners via %s", safe_url(self.remote.broker_url))
        return self

    async def close(self) -> None:
        self._closing = True
        if self.queue is not None:
            await self.queue.close()
        await asyncio.to_thread(self._threads.shutdown, wait=True, cancel_futures=True)
        await asyncio.to_thread(self.app.close)

    async def __aenter__(self) -> RemoteSandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def sandboxed(self) -> bool:
        return True

    # --- jobs -------------------------------------------------------------------------

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> RemoteTicket:
        if self.queue is None:
            raise RuntimeError("RemoteSandbox.start() has not run")
        job = job or JobSpec()
        code = source if isinstance(source, bytes) else source.encode("utf-8", "surrogatepass")
        if len(code) > self.config.code_kb * 1024:
            reject = RunResult.rejected(
                "sandbox.too_large",
                f"The program is larger than {self.config.code_kb} KiB.",
                limit_kb=self.config.code_kb,
            )
            future: asyncio.Future[RunResult] = asyncio.get_running_loop().create_future()
            future.set_result(reject)
            return RemoteTicket(Ticket(job, code, LANE, 0, future))
        # the bot's limits travel with the job (a worker may lower them, never raise them)
        job = replace(job, timeout_s=job.timeout_s or self.config.timeout_s)
        ticket = RemoteTicket(self.queue.submit(code, job, LANE))
        if not ticket.ticket.future.done():
            self._tickets[ticket.id] = ticket
        return ticket

    async def run(self, source: str | bytes, job: JobSpec | None = None) -> RunResult:
        return await self.submit(source, job)

    def _wants_gpu(self, job: JobSpec) -> bool:
        return job.trusted or self.config.gpu_for_members

    async def _execute(self, ticket: Ticket) -> RunResult:
        remote = self._tickets.pop(ticket.id, None) or RemoteTicket(ticket)
        queue = "gpu" if self._wants_gpu(ticket.job) else "cpu"
        fallback_from: str | None = None
        request_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()

        def on_running(worker: str) -> None:  # called in the job's thread
            loop.call_soon_threadsafe(lambda: remote.emit("remote.running", worker=worker))

        while True:
            task_id = f"{request_id}-{queue}"
            wait_s = self.remote.gpu_fallback_s if queue == "gpu" else self.remote.queue_wait_s
            budget = (ticket.job.timeout_s or self.config.timeout_s) + self.remote.grace_s

            def on_queued(queue: str = queue) -> None:
                loop.call_soon_threadsafe(lambda: remote.emit("remote.queued", queue=queue))

            # one thread publishes and waits: its result store connection subscribes to
            # the task's messages before the message exists, so none is missed
            outcome = await loop.run_in_executor(
                self._threads,
                self._follow,
                request_id,
                queue,
                ticket,
                task_id,
                (wait_s, budget),
                (on_queued, on_running),
            )
            if outcome.kind == "down":
                log.warning(
                    "sandbox: cannot reach the broker %s: %s",
                    safe_url(self.remote.broker_url),
                    outcome.payload,
                )
                return wire.with_route(
                    RunResult.rejected(
                        "sandbox.remote_down", "The code runners cannot be reached right now."
                    ),
                    queue,
                    fallback_from,
                )
            if outcome.kind == "not_taken" and queue == "gpu":
                fallback_from, queue = "gpu", "cpu"
                log.info("sandbox: no GPU runner took %s in time; to the CPU queue", task_id)
                continue
            return self._finish(outcome, task_id, queue, fallback_from, wait_s, budget)

    def _follow(
        self,
        request_id: str,
        queue: str,
        ticket: Ticket,
        task_id: str,
        limits: tuple[float, float],
        callbacks: tuple[Callable[[], None], Callable[[str], None]],
    ) -> _Outcome:
        """Publish the job, then follow it to its end (in this one thread)."""
        wait_s, budget_s = limits
        on_queued, on_running = callbacks
        try:
            self._publish(request_id, queue, ticket, task_id, wait_s)
        except Exception as exc:
            return _Outcome("down", _safe_error(exc, self.remote))
        on_queued()
        return self._wait(task_id, wait_s, budget_s, on_running)

    def _publish(
        self, request_id: str, queue: str, ticket: Ticket, task_id: str, wait_s: float
    ) -> None:
        payload = wire.encode_request(request_id, queue, ticket.code, ticket.job)
        name = self.remote.queue_name(queue)
        try:
            self._send(payload, task_id, name, wait_s)
        except Exception:
            self._drop_backend()
            raise

    def _send(self, payload: dict[str, Any], task_id: str, name: str, wait_s: float) -> None:
        self.app.send_task(
            TASK,
            args=[payload],
            task_id=task_id,
            queue=name,
            routing_key=name,
            exchange=self.remote.namespace,
            expires=wait_s + self.remote.grace_s,
            retry=True,
            retry_policy={
                "max_retries": 1,
                "interval_start": 0.1,
                "interval_step": 0.2,
                "interval_max": 0.3,
            },
        )

    def _drop_backend(self) -> None:
        """Forget this thread's result store client: after a connection failure Celery's
        gives up for good ("must be restarted"); the next job here builds a fresh one."""
        local = getattr(self.app, "_local", None)
        if local is not None and hasattr(local, "backend"):
            del local.backend

    def _claim(self, task_id: str) -> bool:
        """Take the task away from the workers (True), or learn a worker has it (False)."""
        client = self.app.backend.client
        key = claim_key(self.remote.namespace, task_id)
        ttl = int(self.remote.visibility_timeout_s) * 2  # as the workers' claims
        return bool(client.set(key, "bot", nx=True, ex=ttl))

    def _wait(
        self, task_id: str, wait_s: float, budget_s: float, on_running: Callable[[str], None]
    ) -> _Outcome:
        """Follow one task in this thread: its messages, and the deadlines of each stage."""
        result = self.app.AsyncResult(task_id)
        started: list[float] = []
        worker: list[str] = []
        took: list[str] = []
        submitted = time.monotonic()

        def on_message(meta: dict[str, Any]) -> None:
            # STARTED: a worker took the message (the job's clock starts); RUNNING: it
            # checked the request and hands it to its sandbox now
            status = meta.get("status")
            info = meta.get("result")
            if status not in ("STARTED", "RUNNING"):
                return
            if not started:
                started.append(time.monotonic())
            taker = info.get("hostname") if isinstance(info, dict) else None
            if isinstance(taker, str) and wire.WORKER_NAME.fullmatch(taker) and not took:
                took.append(taker)  # who has it, even if its RUNNING message is missed
            name = info.get("worker") if isinstance(info, dict) else None
            named = isinstance(name, str) and wire.WORKER_NAME.fullmatch(name)
            if status == "RUNNING" and named and not worker:
                worker.append(str(name))
                on_running(str(name))

        try:
            while True:
                if self._closing:
                    return _Outcome("closed")
                now = time.monotonic()
                if started:
                    deadline = started[0] + budget_s
                    if now >= deadline:
                        who = worker or took
                        return _Outcome("lost", worker=who[0] if who else None)
                else:
                    deadline = submitted + wait_s
                    if now >= deadline:
                        if self._claim(task_id):
                            return _Outcome("not_taken")
                        started.append(now)  # a worker claimed it: it runs now
                        continue
                try:
                    value = result.get(
                        timeout=min(POLL_S, max(deadline - now, 0.01)),
                        propagate=False,
                        on_message=on_message,
                        disable_sync_subtasks=False,
                    )
                except CeleryTimeout:
                    continue
                if result.state == "SUCCESS":
                    ran = isinstance(value, dict) and value.get("status") != "rejected"
                    if not worker and ran:
                        # the RUNNING message can pass unseen (it came before this wait
                        # subscribed): say where it ran before the answer, as always
                        on_message({"status": "RUNNING", "result": {"worker": value.get("worker")}})
                    return _Outcome("answer", value, worker[0] if worker else None)
                return _Outcome("failed", f"{result.state}: {value!r}"[:300])
        except Exception as exc:
            self._drop_backend()
            return _Outcome("failed", _safe_error(exc, self.remote))
        finally:
            try:
                result.forget()
            except Exception:
                log.debug("could not forget %s", task_id, exc_info=True)

    def _finish(
        self,
        outcome: _Outcome,
        task_id: str,
        queue: str,
        fallback_from: str | None,
        wait_s: float,
        budget_s: float,
    ) -> RunResult:
        if outcome.kind == "answer":
            try:
                result = wire.decode_result(outcome.payload, self.config)
            except wire.BadAnswer as exc:
                return self._refusal("remote_bad_answer", task_id, str(exc))
            return replace(result, fallback_from=fallback_from)
        if outcome.kind == "not_taken":
            refusal = RunResult.rejected(
                "sandbox.remote_no_worker",
                f"No code runner took the job within {wait_s:g} s.",
                seconds=round(wait_s),
            )
            return wire.with_route(refusal, queue, fallback_from)
        if outcome.kind == "lost":
            self._revoke(task_id)
            refusal = RunResult.rejected(
                "sandbox.remote_lost",
                f"The runner {outcome.worker or '?'} gave no result within {budget_s:g} s.",
                worker=outcome.worker or "?",
                seconds=round(budget_s),
            )
            return replace(wire.with_route(refusal, queue, fallback_from), worker=outcome.worker)
        if outcome.kind == "closed":
            return RunResult.rejected("sandbox.closed", "The sandbox is shutting down.")
        return self._refusal("remote_bad_answer", task_id, str(outcome.payload))

    def _refusal(self, key: str, task_id: str, detail: str) -> RunResult:
        error_id = uuid.uuid4().hex[:8]
        log.warning("sandbox: job %s: %s (error %s)", task_id, detail, error_id)
        return RunResult.rejected(
            f"sandbox.{key}", f"A code runner's answer was refused ({error_id}).", error_id=error_id
        )

    def _revoke(self, task_id: str) -> None:
        try:
            self.app.control.revoke(task_id)
        except Exception:
            log.debug("could not revoke %s", task_id, exc_info=True)

    # --- status -----------------------------------------------------------------------

    async def workers(self, timeout: float = 1.0) -> list[dict[str, Any]]:
        """The workers that answer within ``timeout`` (``worker status``)."""
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, worker_status, self.app, timeout
        )

    def describe(self) -> dict[str, Any]:
        return {
            "mode": "celery",
            **self.remote.describe(),
            "waiting": self.queue.waiting if self.queue else 0,
            "running": self.queue.running if self.queue else 0,
        }


def _safe_error(exc: BaseException, remote: RemoteConfig) -> str:
    """An exception's text with any broker or result store password masked."""
    text = scrub(f"{type(exc).__name__}: {exc}")
    for url in (remote.broker_url, remote.result_url):
        password = _password(url) if url else None
        if password:
            text = text.replace(password, "**")
    return text[:300]


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def run_sync_remote(
    config: SandboxConfig,
    settings: Any,
    jobs: Sequence[tuple[str | Path | bytes, JobSpec]],
    on_result: Callable[[int, RunResult], None] | None = None,
) -> list[RunResult]:
    """``sandbox.run_sync`` on the remote runners (``studybot sandbox run`` and ``studybot
    lessons run`` with ``STUDYBOT_SANDBOX_BACKEND=celery``). Bad broker settings end the
    command with the reason."""
    try:
        remote = RemoteConfig.from_settings(settings)
    except ValueError as exc:
        raise SystemExit(f"studybot: {exc}") from None
    # one job after another, from the command line: no member, no rate limit
    config = replace(config, rate_per_minute=1_000_000.0, rate_burst=1_000_000)

    async def main() -> list[RunResult]:
        results = []
        async with RemoteSandbox(config, remote) as sandbox:
            for index, (source, job) in enumerate(jobs):
                if isinstance(source, bytes):
                    code = source
                else:
                    try:
                        code = Path(source).read_bytes()
                    except OSError as exc:
                        code = None
                        result = RunResult.rejected(
                            "sandbox.unreadable",
                            f"Cannot read {source}: {exc.strerror}",
                            path=str(source),
                        )
                    job = replace(job, name=Path(source).name)
                if code is not None:
                    result = await sandbox.run(code, job)
                results.append(result)
                if on_result is not None:
                    on_result(index, result)
        return results

    return asyncio.run(main())
