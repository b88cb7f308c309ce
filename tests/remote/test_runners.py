"""The remote runners end to end: real Redis, real ``studybot worker`` processes (each with
its real sandbox), the bot's ``RemoteSandbox``. One worker serves the module; the tests
that need their own (a second worker on the queue, one to SIGKILL) start it.

The module's broker URL carries a password (a Redis ACL user made for the run), so the
last test can check that no password reached any log."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from kombu import Connection, Exchange, Producer

from bot.replies import Reply
from lessons.catalogue import LESSONS_DIR, load_lessons
from sandbox import JobSpec, RunResult, Sandbox
from sandbox.remote import RemoteConfig
from sandbox.remote.app import TASK
from sandbox.remote.client import RemoteSandbox
from tests.conftest import Harness
from tests.remote.conftest import Worker, namespace, start_worker
from tests.sandbox.conftest import FAST, RESULT_KEYS, need_sandbox
from tests.services.test_code_runs import run, use

pytestmark = pytest.mark.sqlite_only

SECRET = "pw-" + uuid.uuid4().hex  # the ACL user's password: must never be logged
WORKER_CODE_KB = 8  # the worker's own limit, below the bot's (the worker checks too)
CLIENT = replace(
    FAST,
    code_kb=64,
    timeout_s=60,
    cpu_s=60,
    rate_per_minute=6000,
    rate_burst=1000,
    queue_max=20,
)
ISOLATION = """\
import os, socket
print(os.getuid(), os.getcwd(), sorted(os.environ))
try:
    socket.create_connection(("127.0.0.1", 6379), 1)
    print("network")
except OSError as exc:
    print("no network", type(exc).__name__)
"""


@pytest.fixture(scope="module")
def secret_url(redis: str) -> Iterator[str]:
    """A Redis user with a password, for the module's broker URL."""
    client = redis_lib.Redis.from_url(redis)
    user = "studybot-test-" + uuid.uuid4().hex[:8]
    client.execute_command("ACL", "SETUSER", user, "on", f">{SECRET}", "~*", "&*", "+@all")
    host_part = redis.split("://", 1)[1]
    yield f"redis://{user}:{SECRET}@{host_part}"
    client.execute_command("ACL", "DELUSER", user)


@pytest.fixture(scope="module")
def remote(secret_url: str) -> RemoteConfig:
    return RemoteConfig(
        secret_url, namespace=namespace(), gpu_fallback_s=1.0, grace_s=3.0, queue_wait_s=60.0
    )


@pytest.fixture(scope="module")
def worker_a(
    tmp_path_factory: pytest.TempPathFactory, remote: RemoteConfig, workers: list[Worker]
) -> Worker:
    tmp = tmp_path_factory.mktemp("workers")
    worker = start_worker(
        tmp, remote, name="a@tests", extra_env={"STUDYBOT_SANDBOX_CODE_KB": str(WORKER_CODE_KB)}
    )
    workers.append(worker)
    return worker


@pytest.fixture
async def box(remote: RemoteConfig, worker_a: Worker) -> AsyncIterator[RemoteSandbox]:
    async with RemoteSandbox(CLIENT, remote) as sandbox:
        yield sandbox


async def watched(
    sandbox: RemoteSandbox, code: str | bytes, job: JobSpec
) -> tuple[RunResult, list[tuple[str, dict[str, Any]]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    ticket = sandbox.submit(code, job)
    ticket.watch(lambda key, params: events.append((key, params)))
    return await asyncio.wait_for(ticket, 120), events


async def test_a_member_snippet_runs_on_the_worker_exactly_as_locally(
    box: RemoteSandbox, worker_a: Worker
) -> None:
    need_sandbox()
    result, events = await watched(box, ISOLATION, JobSpec(kind="member", member_id=7))
    async with Sandbox(FAST) as local:
        expected = await local.run(ISOLATION, JobSpec(kind="member", member_id=7))
    assert result.status == expected.status == "ok", result.stderr
    assert result.stdout == expected.stdout
    assert "no network" in result.stdout
    assert (result.worker, result.queue, result.fallback_from) == ("a@tests", "cpu", None)
    assert events == [
        ("remote.queued", {"queue": "cpu"}),
        ("remote.running", {"worker": "a@tests"}),
    ]
    line = result.to_json("x.py")
    assert list(line) == [*RESULT_KEYS, "worker", "queue"]
    json.dumps(line)


async def test_a_lesson_asks_for_a_gpu_and_falls_back_to_the_cpu_queue(
    box: RemoteSandbox,
) -> None:
    """No GPU worker serves this namespace: after ``gpu_fallback_s`` the job goes to the CPU
    queue, and the result says so."""
    lesson = min(load_lessons(LESSONS_DIR), key=lambda item: item.path.stat().st_size)
    source = lesson.path.read_bytes()
    assert len(source) <= WORKER_CODE_KB * 1024
    job = JobSpec(kind="lesson", name=lesson.path.name)
    result, events = await watched(box, source, job)
    assert result.status == "ok", result.stderr[-2000:]
    assert (result.queue, result.fallback_from, result.worker) == ("cpu", "gpu", "a@tests")
    assert [key for key, _ in events] == ["remote.queued", "remote.queued", "remote.running"]
    assert [params.get("queue") for _, params in events[:2]] == ["gpu", "cpu"]
    assert list(result.to_json()) == [*RESULT_KEYS, "worker", "queue"]  # the contract's keys


async def test_an_oversized_program_is_refused_by_the_bot_and_by_the_worker(
    box: RemoteSandbox, worker_a: Worker
) -> None:
    too_big_for_the_bot = b"#" * (CLIENT.code_kb * 1024 + 1)
    result, events = await watched(box, too_big_for_the_bot, JobSpec())
    assert (result.status, result.reason_key, events) == ("rejected", "sandbox.too_large", [])
    # within the bot's limit, beyond the worker's own: the worker refuses it unread
    too_big_for_the_worker = b"#" * (WORKER_CODE_KB * 1024 + 1)
    result, events = await watched(box, too_big_for_the_worker, JobSpec())
    assert (result.status, result.reason_key) == ("rejected", "sandbox.remote_bad_request")
    assert result.reason_params["detail"] == f"the program is larger than {WORKER_CODE_KB} KiB"
    assert result.worker == "a@tests"
    assert [key for key, _ in events] == ["remote.queued"]  # refused before it ran


async def test_two_workers_share_a_queue(
    box: RemoteSandbox,
    remote: RemoteConfig,
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    second = start_worker(tmp_path, remote, name="b@tests")
    workers.append(second)
    hold = "import time\ntime.sleep(3)\nprint('held')\n"
    try:
        results = await asyncio.gather(
            *(box.run(hold, JobSpec(kind="member", member_id=100 + i)) for i in range(2))
        )
    finally:
        second.stop()  # the module's other tests expect worker a alone
    assert [r.status for r in results] == ["ok", "ok"], [r.stderr for r in results]
    assert sorted(r.worker or "" for r in results) == ["a@tests", "b@tests"]


def test_a_job_delivered_twice_runs_once(remote: RemoteConfig, worker_a: Worker) -> None:
    """Two messages with one task id (a redelivery): the second is dropped unrun."""
    from sandbox.remote.app import make_app
    from sandbox.remote.wire import encode_request

    app = make_app(remote)
    request_id = uuid.uuid4().hex
    task_id = f"{request_id}-cpu"
    payload = encode_request(request_id, "cpu", b"print('once')\n", JobSpec())
    queue = remote.queue_name("cpu")
    try:
        for _ in range(2):
            app.send_task(TASK, args=[payload], task_id=task_id, queue=queue, routing_key=queue)
        answer = app.AsyncResult(task_id).get(timeout=60, disable_sync_subtasks=False)
    finally:
        app.close()
    assert answer["stdout"] == "once\n"
    deadline = time.monotonic() + 30
    line = f"job {task_id} was claimed before (by a@tests): not run again"
    while line not in worker_a.output() and time.monotonic() < deadline:
        time.sleep(0.1)  # polling what the worker printed, not timing it
    assert line in worker_a.output()
    assert worker_a.output().count(f"job {task_id} (main.py): ok") == 1


def test_a_pickled_message_is_refused_by_the_worker(
    remote: RemoteConfig, worker_a: Worker, tmp_path: Path
) -> None:
    """A message in pickle format, even one naming the real task, is never deserialised:
    the file its payload would create does not appear, the worker says why and serves on."""
    marker = tmp_path / "pickle-ran"

    class Bomb:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))

    body = pickle.dumps(((Bomb(),), {}, {}))
    task_id = uuid.uuid4().hex
    queue = remote.queue_name("cpu")
    with Connection(remote.broker_url) as connection:
        producer = Producer(connection)
        producer.publish(
            body,
            exchange=Exchange(remote.namespace, type="direct"),
            routing_key=queue,
            serializer=None,
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers={"lang": "py", "task": TASK, "id": task_id, "root_id": task_id},
        )
    deadline = time.monotonic() + 30
    while "untrusted content" not in worker_a.output() and time.monotonic() < deadline:
        time.sleep(0.1)  # polling what the worker printed, not timing it
    assert "untrusted content" in worker_a.output()
    assert not marker.exists()
    assert worker_a.process.poll() is None


async def test_a_pickled_answer_is_refused_by_the_bot(box: RemoteSandbox, tmp_path: Path) -> None:
    """An "answer" in the result store in pickle format: the bot refuses it unread."""
    marker = tmp_path / "pickle-ran"

    class Bomb:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))

    task_id = uuid.uuid4().hex
    client = box.app.backend.client
    client.set(f"celery-task-meta-{task_id}", pickle.dumps({"status": "SUCCESS", "result": Bomb()}))
    outcome = await asyncio.to_thread(box._wait, task_id, 5.0, 5.0, lambda _name: None)
    assert outcome.kind == "failed"
    result = box._finish(outcome, task_id, "cpu", None, 5.0, 5.0)
    assert (result.status, result.reason_key) == ("rejected", "sandbox.remote_bad_answer")
    assert not marker.exists()


async def test_a_worker_killed_mid_job_is_a_clear_failure_in_time(
    remote: RemoteConfig, workers: list[Worker], tmp_path: Path
) -> None:
    """SIGKILL the only worker of a namespace while it runs a job: the bot answers
    ``remote_lost`` once the job's time plus the grace has passed, never later."""
    own = replace(remote, namespace=namespace(), grace_s=2.0)
    victim = start_worker(tmp_path, own, name="k@tests")
    workers.append(victim)
    async with RemoteSandbox(CLIENT, own) as sandbox:
        running = asyncio.Event()
        loop = asyncio.get_running_loop()
        ticket = sandbox.submit("import time\ntime.sleep(120)\n", JobSpec(timeout_s=4))
        ticket.watch(lambda key, _p: key == "remote.running" and loop.call_soon(running.set))
        await asyncio.wait_for(running.wait(), 60)
        started = time.monotonic()
        victim.kill()
        result = await asyncio.wait_for(ticket, 60)
        waited = time.monotonic() - started
    assert (result.status, result.reason_key) == ("rejected", "sandbox.remote_lost")
    assert result.reason_params == {"worker": "k@tests", "seconds": 6}
    assert waited <= 4 + 2 + 2  # the job's time, the grace, and a margin for this host


async def test_the_broker_down_at_submit_is_a_clear_refusal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = RemoteConfig("redis://:hunter2-down@127.0.0.1:1/0", namespace=namespace())
    caplog.set_level(logging.DEBUG)
    async with RemoteSandbox(CLIENT, down) as sandbox:
        result = await asyncio.wait_for(sandbox.run("print(1)", JobSpec()), 60)
    assert (result.status, result.reason_key) == ("rejected", "sandbox.remote_down")
    assert "hunter2-down" not in caplog.text + result.stderr
    assert "redis://:**@127.0.0.1:1/0" in caplog.text


async def test_the_member_sees_queued_then_running_on_the_worker_then_the_result(
    harness: Harness, box: RemoteSandbox
) -> None:
    harness.join("alice")
    use(harness, box)  # type: ignore[arg-type]
    shown: list[Reply] = []

    async def notify(reply: Reply) -> None:
        shown.append(reply)

    reply = await run(harness, "alice", "run", notify, code="print(6 * 7)")
    assert [(r.key, r.params) for r in shown] == [
        ("remote.queued", {"queue": "cpu"}),
        ("remote.running", {"worker": "a@tests"}),
    ]
    assert reply.key == "lessons.result" and "42" in str(reply.lines)


def test_worker_status_lists_the_workers_with_their_counts(
    remote: RemoteConfig, worker_a: Worker, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "bot.cli", "worker", "status", "--json", "--timeout", "1"]
    done = subprocess.run(
        command, cwd=tmp_path, env=worker_a.env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    status = json.loads(done.stdout)
    assert status["mode"] == "celery" and status["namespace"] == remote.namespace
    rows = {row["name"]: row for row in status["workers"]}
    row = rows["a@tests"]
    assert row["queues"] == ["cpu"] and row["gpus"] == [] and row["sandbox"] == "bwrap"
    assert row["done"] >= 1 and row["failed"] >= 1  # the oversized program counts as failed
    text = subprocess.run(
        command[:-3], cwd=tmp_path, env=worker_a.env, capture_output=True, text=True, timeout=60
    )
    assert "a@tests: " in text.stdout and SECRET not in text.stdout


def test_no_password_reached_any_log(workers: list[Worker], worker_a: Worker) -> None:
    """Last: everything the module's workers printed, with the broker's password in their
    settings, holds no password."""
    for worker in workers:
        output = worker.output()
        assert output, worker.name
        assert SECRET not in output, worker.name


def test_the_command_line_runs_files_and_lessons_on_the_workers(
    remote: RemoteConfig, worker_a: Worker, tmp_path: Path
) -> None:
    """``studybot sandbox run`` and ``studybot lessons run`` with the celery back end: the
    contract's JSON lines plus ``worker`` and ``queue`` (and the lesson's GPU fallback)."""
    env = {
        **worker_a.env,
        "STUDYBOT_SANDBOX_BACKEND": "celery",
        "STUDYBOT_SANDBOX_REMOTE_GPU_FALLBACK_S": "0.5",
    }
    program = tmp_path / "hello.py"
    program.write_text("print('hello from afar')\n")
    lesson = min(load_lessons(LESSONS_DIR), key=lambda item: item.path.stat().st_size)
    lines = []
    for args in (
        ["sandbox", "run", "--json", str(program)],
        ["lessons", "run", lesson.id, "--json"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert SECRET not in done.stdout + done.stderr
        lines.append(json.loads(done.stdout))
    file_line, lesson_line = lines
    assert list(file_line) == [*RESULT_KEYS, "worker", "queue"]
    assert (file_line["stdout"], file_line["worker"], file_line["queue"]) == (
        "hello from afar\n",
        "a@tests",
        "cpu",
    )
    assert lesson_line["status"] == "ok"
    assert list(lesson_line) == [*RESULT_KEYS, "worker", "queue"]  # exactly the contract's
    assert (lesson_line["queue"], lesson_line["device"]) == ("cpu", "cpu")


def test_a_worker_without_a_broker_says_what_to_set(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "STUDYBOT_DEFAULT_LOCALE": "en"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "STUDYBOT_BROKER_URL" in done.stderr and "Traceback" not in done.stderr


def test_a_gpu_worker_without_a_gpu_refuses_to_start(
    remote: RemoteConfig, worker_a: Worker, tmp_path: Path
) -> None:
    """(This host has no GPU; on one that has, this test is not the check: see
    ``bench/gpu_check.py``.)"""
    if Path("/dev/nvidiactl").exists():
        pytest.skip("this host has a GPU")
    env = {**worker_a.env, "STUDYBOT_DEFAULT_LOCALE": "en"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker", "--queue", "gpu", "--name", "g@tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "This machine cannot serve as a runner: --queue gpu needs a GPU" in done.stderr
    bad_name = [sys.executable, "-m", "bot.cli", "worker", "--name", "bad name"]
    done = subprocess.run(
        bad_name, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "may hold only letters" in done.stderr
