"""What crosses the broker, checked on each side, without any service: the worker's
checks of a request, the bot's checks of an answer, the settings and the Celery
configuration (JSON only, late acknowledgement, TLS)."""

from __future__ import annotations

import base64
import ssl
from typing import Any

import pytest

from sandbox import JobSpec, RunResult, SandboxConfig
from sandbox.remote import RemoteConfig, safe_url, scrub, wire
from sandbox.remote.app import make_app
from sandbox.result import OutputFile

pytestmark = pytest.mark.sqlite_only

CONFIG = SandboxConfig(code_kb=4, output_kb=1, files_max=2, file_kb=8)
REQUEST_ID = "0" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def request(**changes: Any) -> dict[str, Any]:
    payload = wire.encode_request(REQUEST_ID, "cpu", b"print(1)\n", JobSpec(kind="lesson"))
    payload.update(changes)
    return payload


def answer(result: RunResult | None = None, **changes: Any) -> dict[str, Any]:
    payload = wire.encode_result(result or RunResult(status="ok", stdout="1\n"), "w@h", "cpu")
    payload.update(changes)
    return payload


def test_a_request_round_trips() -> None:
    job = JobSpec(kind="member", name="x.py", timeout_s=5, memory_mb=512, seed=3, argv=("a",))
    decoded = wire.decode_request(wire.encode_request(REQUEST_ID, "gpu", b"\xff\x00", job), CONFIG)
    assert (decoded.code, decoded.job, decoded.queue) == (b"\xff\x00", job, "gpu")
    assert decoded.job.member_id is None  # fairness is the bot's; members stay on the bot


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"code": base64.b64encode(b"#" * (4 * 1024 + 1)).decode()}, "larger than 4 KiB"),
        ({"code": "A" * 10_000_000}, "larger than 4 KiB"),  # refused before decoding
        ({"code": "not base64!"}, "not valid base64"),
        ({"kind": "root"}, "unknown job kind"),
        ({"timeout_s": 1e9}, "timeout_s must be in"),
        ({"timeout_s": float("nan")}, "finite"),
        ({"memory_mb": True}, "memory_mb must be a number"),
        ({"argv": ["x"] * 100}, "arguments are malformed"),
        ({"name": "n" * 1000}, "file name is malformed"),
        ({"queue": "tpu"}, "unknown queue"),
        ({"request": "../../etc"}, "request id is malformed"),
        ({"v": 2}, "unknown request version"),
        ({"extra": 1}, "expected fields"),
    ],
)
def test_the_worker_refuses_a_bad_request(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(wire.BadRequest, match=why):
        wire.decode_request(request(**changes), CONFIG)


def test_the_worker_refuses_what_is_not_a_request() -> None:
    for payload in (None, [], "x", 1):
        with pytest.raises(wire.BadRequest):
            wire.decode_request(payload, CONFIG)


def test_an_answer_round_trips_with_its_files_and_route() -> None:
    files = (OutputFile("plot.png", PNG, "png"), OutputFile("a.txt", b"hi", "text"))
    result = RunResult(status="error", exit_code=1, stderr="boom", files=files, wall_ms=12)
    decoded = wire.decode_result(answer(result), CONFIG)
    assert decoded.files == files
    assert (decoded.status, decoded.exit_code, decoded.stderr) == ("error", 1, "boom")
    assert (decoded.worker, decoded.queue, decoded.fallback_from) == ("w@h", "cpu", None)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"stdout": "x" * 1025}, "stdout is not text of at most 1024"),
        ({"status": "pwned"}, "unknown status"),
        ({"device": "/dev/sda"}, "unknown device"),
        ({"worker": "<@everyone>"}, "worker's name is malformed"),
        ({"files": [{"file": "a.txt", "data": ""}] * 3}, "more than 2 files"),
        ({"files": [{"file": "a.png", "data": "A" * 20_000_000}]}, "larger than allowed"),
        ({"reason_key": "error.generic", "status": "rejected"}, "unknown reason key"),
        (
            {"status": "rejected", "reason_key": "sandbox.too_large", "reason_params": {}},
            "needs exactly the parameters",
        ),
        ({"status": "rejected"}, "a rejection needs a reason"),
        ({"exit_code": "0"}, "exit_code is not a whole number"),
        ({"memory_peak_mb": float("inf")}, "memory_peak_mb"),
        ({"notes": ["n" * 1000]}, "a note"),
        ({"dropped": [{"name": "x", "reason": "anything", "params": {}}]}, "dropped file"),
        ({"skipped": True}, "expected fields"),  # a shape the workers never store
    ],
)
def test_the_bot_refuses_a_bad_answer(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(wire.BadAnswer, match=why):
        wire.decode_result(answer(**changes), CONFIG)


def test_hostile_files_in_an_answer_are_dropped_as_locally() -> None:
    fake_png = base64.b64encode(b"GIF89a").decode()
    reported = [{"file": "../../etc/x.png", "data": fake_png}]
    decoded = wire.decode_result(answer(files=reported), CONFIG)
    assert decoded.files == ()
    assert [(d.name, d.reason) for d in decoded.dropped] == [("x.png", "not_png")]


def test_urls_are_shown_without_passwords() -> None:
    url = "rediss://user:s3cret@redis.example:6380/0?ssl_cert_reqs=required"
    assert "s3cret" not in safe_url(url)
    assert "s3cret" not in scrub(f"Error connecting to {url}: refused")
    assert "s3cret" not in str(RemoteConfig(url).describe())
    with pytest.raises(ValueError) as caught:
        RemoteConfig("http://user:s3cret@host/")
    assert "s3cret" not in str(caught.value)


def test_the_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="STUDYBOT_RESULT_BACKEND_URL"):
        RemoteConfig("amqp://guest:guest@localhost//")  # results need Redis
    with pytest.raises(ValueError, match="namespace"):
        RemoteConfig("redis://localhost", namespace="Has Spaces")
    with pytest.raises(ValueError, match="STUDYBOT_BROKER_URL"):
        RemoteConfig.from_settings(object())


def test_celery_takes_json_only_and_acknowledges_late() -> None:
    app = make_app(RemoteConfig("redis://localhost:6379/0", namespace="ns"))
    conf = app.conf
    assert conf.accept_content == ["json"] and conf.result_accept_content == ["json"]
    assert conf.task_serializer == conf.result_serializer == "json"
    assert conf.task_acks_late and conf.worker_prefetch_multiplier == 1
    assert not conf.task_reject_on_worker_lost
    assert conf.broker_transport_options["visibility_timeout"] > 3600  # the longest job
    assert [q.name for q in conf.task_queues] == ["ns.cpu", "ns.gpu"]


@pytest.mark.parametrize(
    ("broker", "results"),
    [
        ("rediss://:pw@redis.example:6380/0", None),
        ("amqps://user:pw@rabbit.example:5671//", "rediss://:pw@redis.example:6380/1"),
    ],
)
def test_tls_urls_are_accepted_and_verify_the_server(broker: str, results: str | None) -> None:
    app = make_app(RemoteConfig(broker, result_url=results))
    assert app.conf.broker_use_ssl == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert app.conf.redis_backend_use_ssl == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert type(app.backend).__name__ == "RedisBackend"  # builds without a TLS complaint
