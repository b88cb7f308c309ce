"""What crosses the broker, in both directions, and the checks on each side.

The broker is a trust boundary: anyone who can write to it can hand a worker a request or
hand the bot an answer. So a request (``encode_request`` / ``decode_request``) and an
answer (``encode_result`` / ``decode_result``) are plain JSON values with a fixed shape,
and each side checks what it receives against its *own* limits: the worker never runs a
program larger than its ``code_kb``, the bot never shows output longer than its
``output_kb`` or files beyond its ``files_max``/``file_kb`` (checked again, as hostile, by
``sandbox.files.check``). Anything off is a refusal with a reason, never a crash.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import replace
from typing import Any

from sandbox import files
from sandbox.config import SandboxConfig
from sandbox.result import STATUSES, DroppedFile, JobSpec, RunResult

__all__ = [
    "BadAnswer",
    "BadRequest",
    "Request",
    "decode_request",
    "decode_result",
    "encode_request",
    "encode_result",
]

VERSION = 1
NAME_MAX = 200
ARGV_MAX = 32
ARG_MAX = 1024
TEXT_FIELD_MAX = 300
NOTES_MAX = 16
WORKER_MAX = 120
WORKER_NAME = re.compile(rf"[A-Za-z0-9@._:-]{{1,{WORKER_MAX}}}")
_REQUEST = re.compile(r"[0-9a-f]{32}")
_DEVICE = re.compile(r"none|cpu|cuda:[0-9]{1,3}")
REQUEST_KEYS = frozenset(
    {"v", "request", "queue", "code", "kind", "name", "timeout_s", "memory_mb", "seed", "argv"}
)
RESULT_KEYS = frozenset(
    {
        "v",
        "status",
        "exit_code",
        "signal",
        "stdout",
        "stderr",
        "truncated",
        "wall_ms",
        "device",
        "files",
        "sandboxed",
        "reason_key",
        "reason_params",
        "memory_peak_mb",
        "notes",
        "worker",
        "queue",
        "dropped",
    }
)
DROP_REASONS = frozenset(
    {"count", "too_large", "unreadable", "not_png", "image_too_large", "not_utf8", "kind"}
)
# the refusals a worker may pass on, with the parameters their messages take
REASONS: dict[str, tuple[str, ...]] = {
    "sandbox.too_large": ("limit_kb",),
    "sandbox.unavailable": ("reason",),
    "sandbox.start_failed": ("detail",),
    "sandbox.closed": (),
    "sandbox.queue_full": ("waiting",),
    "sandbox.internal": ("error_id",),
    "sandbox.remote_bad_request": ("detail",),
}


class BadRequest(ValueError):
    """A request the worker will not run (the message says why)."""


class BadAnswer(ValueError):
    """An answer the bot will not show (the message says why; it is logged, not shown)."""


# --- requests --------------------------------------------------------------------------


class Request:
    """A decoded, checked request: the program, its job, the bot's request id and queue."""

    def __init__(self, request_id: str, queue: str, code: bytes, job: JobSpec) -> None:
        self.request_id = request_id
        self.queue = queue
        self.code = code
        self.job = job


def encode_request(request_id: str, queue: str, code: bytes, job: JobSpec) -> dict[str, Any]:
    return {
        "v": VERSION,
        "request": request_id,
        "queue": queue,
        "code": base64.b64encode(code).decode("ascii"),
        "kind": job.kind,
        "name": job.name,
        "timeout_s": job.timeout_s,
        "memory_mb": job.memory_mb,
        "seed": job.seed,
        "argv": list(job.argv),
    }


def _number(value: Any, what: str, *, integer: bool = False) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{what} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"{what} must be finite")
    if integer and not isinstance(value, int):
        raise BadRequest(f"{what} must be a whole number")
    return value


def decode_request(payload: Any, config: SandboxConfig) -> Request:
    """The request, checked against this worker's limits; ``BadRequest`` otherwise."""
    if not isinstance(payload, dict) or set(payload) != REQUEST_KEYS:
        raise BadRequest("the request does not have the expected fields")
    if payload["v"] != VERSION:
        raise BadRequest(f"unknown request version {payload['v']!r}")
    request_id, queue = payload["request"], payload["queue"]
    if not isinstance(request_id, str) or not _REQUEST.fullmatch(request_id):
        raise BadRequest("the request id is malformed")
    if queue not in ("cpu", "gpu"):
        raise BadRequest("unknown queue")
    code_text = payload["code"]
    limit = config.code_kb * 1024
    # base64 is 4/3 of the bytes: refuse before decoding anything too large
    if not isinstance(code_text, str) or len(code_text) > (limit + 2) // 3 * 4:
        raise BadRequest(f"the program is larger than {config.code_kb} KiB")
    try:
        code = base64.b64decode(code_text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadRequest("the program is not valid base64") from None
    if len(code) > limit:
        raise BadRequest(f"the program is larger than {config.code_kb} KiB")
    name, argv = payload["name"], payload["argv"]
    if not isinstance(name, str) or len(name) > NAME_MAX:
        raise BadRequest("the file name is malformed")
    if (
        not isinstance(argv, list)
        or len(argv) > ARGV_MAX
        or not all(isinstance(arg, str) and len(arg) <= ARG_MAX for arg in argv)
    ):
        raise BadRequest("the arguments are malformed")
    kind = payload["kind"]
    if kind not in ("lesson", "member"):
        raise BadRequest("unknown job kind")
    timeout = _number(payload["timeout_s"], "timeout_s")
    memory = _number(payload["memory_mb"], "memory_mb", integer=True)
    seed = _number(payload["seed"], "seed", integer=True)
    try:
        job = JobSpec(
            kind=kind,
            name=name,
            timeout_s=None if timeout is None else float(timeout),
            memory_mb=None if memory is None else int(memory),
            seed=None if seed is None else int(seed),
            argv=tuple(argv),
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return Request(request_id, queue, code, job)


# --- answers ---------------------------------------------------------------------------


def encode_result(result: RunResult, worker: str, queue: str) -> dict[str, Any]:
    return {
        "v": VERSION,
        "status": result.status,
        "exit_code": result.exit_code,
        "signal": result.signal,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "truncated": result.truncated,
        "wall_ms": result.wall_ms,
        "device": result.device,
        "files": [
            {"file": item.name, "data": base64.b64encode(item.data).decode("ascii")}
            for item in result.files
        ],
        "sandboxed": result.sandboxed,
        "reason_key": result.reason_key,
        "reason_params": {
            key: value
            for key, value in result.reason_params.items()
            if isinstance(value, str | int | float | bool) or value is None
        },
        "memory_peak_mb": result.memory_peak_mb,
        "notes": list(result.notes),
        "worker": worker,
        "queue": queue,
        "dropped": [
            {"name": item.name, "reason": item.reason, "params": dict(item.params)}
            for item in result.dropped
        ],
    }


def _int_or_none(value: Any, what: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadAnswer(f"{what} is not a whole number in [{low}, {high}]")
    return value


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise BadAnswer(f"{what} is not text of at most {limit} characters")
    return value


def _dropped(value: Any, files_max: int) -> list[DroppedFile]:
    """The worker's list of refused files (names made safe, known reasons, numbers)."""
    if not isinstance(value, list) or len(value) > files_max + NOTES_MAX:
        raise BadAnswer("the dropped files are malformed")
    drops: list[DroppedFile] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "reason", "params"}:
            raise BadAnswer("a dropped file entry is malformed")
        params = item["params"]
        if (
            item["reason"] not in DROP_REASONS
            or not isinstance(params, dict)
            or len(params) > 8
            or not all(
                isinstance(k, str) and len(k) <= 32 and type(v) is int for k, v in params.items()
            )
        ):
            raise BadAnswer("a dropped file entry is malformed")
        name = files.safe_name(item["name"]) or "file"
        drops.append(DroppedFile(name, item["reason"], dict(params)))
    return drops


def _reason(key: Any, params: Any) -> tuple[str | None, dict[str, Any]]:
    if key is None:
        if params not in ({}, None):
            raise BadAnswer("reason parameters without a reason")
        return None, {}
    if key not in REASONS:
        raise BadAnswer("unknown reason key")
    wanted = REASONS[key]
    if not isinstance(params, dict) or set(params) != set(wanted):
        raise BadAnswer(f"the reason {key} needs exactly the parameters {wanted}")
    clean: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadAnswer(f"reason parameter {name} is not text or a number")
        clean[name] = value[:TEXT_FIELD_MAX] if isinstance(value, str) else value
    return key, clean


def decode_result(payload: Any, config: SandboxConfig) -> RunResult:
    """The worker's answer as a ``RunResult``, checked against the bot's own limits;
    ``BadAnswer`` for anything off."""
    if not isinstance(payload, dict) or set(payload) != RESULT_KEYS or payload["v"] != VERSION:
        raise BadAnswer("the answer does not have the expected fields")
    status = payload["status"]
    if status not in STATUSES:
        raise BadAnswer("unknown status")
    output_max = config.output_kb * 1024
    # a rejection's message is in stderr; rejections are short
    stdout = _text(payload["stdout"], "stdout", output_max)
    stderr = _text(payload["stderr"], "stderr", output_max)
    if not isinstance(payload["truncated"], bool) or not isinstance(payload["sandboxed"], bool):
        raise BadAnswer("truncated and sandboxed must be true or false")
    device = payload["device"]
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise BadAnswer("unknown device")
    worker, queue = payload["worker"], payload["queue"]
    if not isinstance(worker, str) or not WORKER_NAME.fullmatch(worker):
        raise BadAnswer("the worker's name is malformed")
    if queue not in ("cpu", "gpu"):
        raise BadAnswer("unknown queue")
    reported = payload["files"]
    if not isinstance(reported, list) or len(reported) > config.files_max:
        raise BadAnswer(f"more than {config.files_max} files")
    if not all(isinstance(item, dict) and set(item) == {"file", "data"} for item in reported):
        raise BadAnswer("a file entry is malformed")
    # base64 of the largest file allowed, and no more: checked before decoding
    encoded_max = (max(config.file_kb * 1024, files.TEXT_MAX) + 2) // 3 * 4
    if any(
        not isinstance(item["data"], str) or len(item["data"]) > encoded_max for item in reported
    ):
        raise BadAnswer("a file is larger than allowed")
    drops = _dropped(payload["dropped"], config.files_max)
    accepted, dropped = files.check(
        reported,
        dropped=drops,
        files_max=config.files_max,
        png_max=config.file_kb * 1024,
        pixels_max=config.image_pixels_max,
        side_max=config.image_side_max,
    )
    notes = payload["notes"]
    if not isinstance(notes, list) or len(notes) > NOTES_MAX:
        raise BadAnswer("the notes are malformed")
    notes_text = [_text(note, "a note", TEXT_FIELD_MAX) for note in notes]
    peak = payload["memory_peak_mb"]
    if peak is not None and (
        isinstance(peak, bool)
        or not isinstance(peak, int | float)
        or not math.isfinite(peak)
        or not 0 <= peak <= 1 << 24
    ):
        raise BadAnswer("memory_peak_mb is not a number")
    key, params = _reason(payload["reason_key"], payload["reason_params"])
    if (status == "rejected") != (key is not None):
        raise BadAnswer("a rejection needs a reason, and only a rejection has one")
    result = RunResult(
        status=status,
        exit_code=_int_or_none(payload["exit_code"], "exit_code", -(1 << 31), 1 << 31),
        signal=_int_or_none(payload["signal"], "signal", 1, 128),
        stdout=stdout,
        stderr=stderr,
        truncated=payload["truncated"],
        wall_ms=_int_or_none(payload["wall_ms"], "wall_ms", 0, 10_000_000) or 0,
        device=device,
        files=tuple(accepted),
        sandboxed=payload["sandboxed"],
        reason_key=key,
        reason_params=params,
        memory_peak_mb=None if peak is None else float(peak),
        notes=tuple(notes_text + dropped),
        dropped=tuple(drops),
        worker=worker,
        queue=queue,
    )
    return result


def with_route(result: RunResult, queue: str, fallback_from: str | None) -> RunResult:
    """A result the bot made itself (a refusal), marked with where it was headed."""
    return replace(result, queue=queue, fallback_from=fallback_from)
