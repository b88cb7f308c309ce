"""Fixtures for the remote runners: the real Redis (and RabbitMQ) and real ``studybot
worker`` processes, started by the tests.

The services are looked for at ``STUDYBOT_TEST_REDIS_URL`` (default
``redis://127.0.0.1:6379/14``) and ``STUDYBOT_TEST_AMQP_URL`` (default
``amqp://guest:guest@127.0.0.1:5672//``). When one does not answer, its tests are skipped
with the reason, unless ``STUDYBOT_REQUIRE_BROKER=1`` (CI, set by ``.ci/run`` when Redis
answers; ``STUDYBOT_REQUIRE_RABBITMQ=1`` for RabbitMQ) makes that a failure. Workers also
need the real sandbox (``need_sandbox``).

Each worker gets a namespace of its own (its queues ``<namespace>.cpu``/``.gpu`` and its
control exchange), so tests and concurrent runs never take each other's jobs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.remote import RemoteConfig
from sandbox.remote.app import make_app
from sandbox.remote.status import worker_status
from tests.sandbox.conftest import need_sandbox

REDIS_ENV = "STUDYBOT_TEST_REDIS_URL"
AMQP_ENV = "STUDYBOT_TEST_AMQP_URL"
REQUIRE_ENV = "STUDYBOT_REQUIRE_BROKER"
REQUIRE_RABBITMQ_ENV = "STUDYBOT_REQUIRE_RABBITMQ"
SKIP_PREFIX = "the broker is unavailable here"
REPO = Path(__file__).resolve().parents[2]
READY_S = 90.0  # a worker's start: the sandbox's probe and self-test, then the broker


def _missing(what: str, reason: str, switch: str = REQUIRE_ENV) -> None:
    if os.environ.get(switch) == "1":
        pytest.fail(f"{switch}=1 but {what} is unavailable: {reason}", False)
    pytest.skip(f"{SKIP_PREFIX}: {what}: {reason}")


def redis_url() -> str:
    """The test Redis (skips, or fails under ``STUDYBOT_REQUIRE_BROKER=1``, without it)."""
    import redis

    url = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        _missing(f"Redis at {url}", str(exc))
    return url


def amqp_url() -> str:
    from kombu import Connection

    url = os.environ.get(AMQP_ENV, "amqp://guest:guest@127.0.0.1:5672//")
    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        _missing("RabbitMQ", str(exc), REQUIRE_RABBITMQ_ENV)
    return url


CREATED: list[str] = []  # the namespaces this run made, tidied away at its end


def namespace() -> str:
    name = "t" + uuid.uuid4().hex[:12]
    CREATED.append(name)
    return name


@pytest.fixture(scope="session", autouse=True)
def tidy_redis() -> Iterator[None]:
    """Remove what this run's namespaces left in Redis (claims, queues, bindings)."""
    yield
    if not CREATED:
        return
    import redis

    try:
        client = redis.Redis.from_url(
            os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/14"), socket_connect_timeout=2
        )
        for name in CREATED:
            for pattern in (f"{name}:*", f"{name}.*", f"_kombu.binding*.{name}*"):
                keys = list(client.scan_iter(match=pattern, count=500))
                if keys:
                    client.delete(*keys)
    except redis.RedisError:
        pass  # nothing to tidy where Redis is gone


@dataclass
class Worker:
    """A ``studybot worker`` process and what it printed (in ``log``)."""

    name: str
    remote: RemoteConfig
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def node(self) -> str:
        return self.name

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker: no clean-up, no acknowledgement (its sandboxes die with it)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(
    tmp: Path,
    remote: RemoteConfig,
    *,
    name: str,
    queue: str = "cpu",
    concurrency: int = 1,
    extra_env: dict[str, str] | None = None,
    wait: bool = True,
) -> Worker:
    """Start ``studybot worker`` in a process group of its own and wait until it answers
    the status broadcast (or fail with what it printed)."""
    need_sandbox()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STUDYBOT_") or key.startswith("STUDYBOT_TEST_")
    }
    env.update(
        {
            "STUDYBOT_BROKER_URL": remote.broker_url,
            "STUDYBOT_SANDBOX_REMOTE_NAMESPACE": remote.namespace,
            "STUDYBOT_SANDBOX_PRELOAD_TORCH": "false",
            "STUDYBOT_SANDBOX_POOL_SIZE": "1",
            "STUDYBOT_LOG_LEVEL": "INFO",
            "STUDYBOT_DISCORD_TOKEN": "",
            "STUDYBOT_DATABASE_URL": "sqlite:////nonexistent/never-opened.db",
        }
    )
    if remote.result_url:
        env["STUDYBOT_RESULT_BACKEND_URL"] = remote.result_url
    env.update(extra_env or {})
    log = tmp / f"{name}.log"
    command = [sys.executable, "-m", "bot.cli", "worker", "--name", name, "--queue", queue]
    command += ["--concurrency", str(concurrency)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(name, remote, process, log, env)
    if wait:
        wait_ready(worker)
    return worker


def wait_ready(worker: Worker) -> None:
    app = make_app(worker.remote)
    deadline = time.monotonic() + READY_S
    try:
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.output()}")
            names = [row["name"] for row in worker_status(app, timeout=0.5)]
            if worker.name in names:
                return
        worker.stop()
        pytest.fail(f"the worker did not answer within {READY_S} s:\n{worker.output()}")
    finally:
        app.close()


@pytest.fixture(scope="module")
def redis() -> str:
    return redis_url()


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Worker]]:
    """Workers a module starts; each is stopped at the module's end."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
