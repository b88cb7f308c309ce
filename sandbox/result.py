"""What goes into the sandbox (``JobSpec``), what comes out (``RunResult``), and how the
way a job ended becomes its status (``exit_status``)."""

from __future__ import annotations

import re
import signal as signals
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["STATUSES", "JobSpec", "OutputFile", "RunResult", "Status", "exit_status"]

Status = Literal["ok", "error", "timeout", "memory", "output_limit", "signal", "rejected"]
STATUSES: tuple[str, ...] = (
    "ok",
    "error",
    "timeout",
    "memory",
    "output_limit",
    "signal",
    "rejected",
)
Kind = Literal["lesson", "member"]
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class JobSpec:
    """One request. ``kind="lesson"`` marks trusted lesson files; everything else is a
    member's own code. ``member_id`` drives the queue's fairness rules (None: no member,
    e.g. the command line). Limits left as None take the sandbox's settings; a job may
    lower them, never raise them."""

    kind: Kind = "member"
    member_id: int | None = None
    name: str = "main.py"
    timeout_s: float | None = None
    memory_mb: int | None = None
    seed: int | None = None
    argv: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("lesson", "member"):
            raise ValueError(f"unknown job kind {self.kind!r}")
        if self.timeout_s is not None and not 0 < self.timeout_s <= 3600:
            raise ValueError("timeout_s must be in (0, 3600]")
        if self.memory_mb is not None and self.memory_mb < 256:
            raise ValueError("memory_mb must be at least 256")
        object.__setattr__(self, "name", safe_script_name(self.name))

    @property
    def trusted(self) -> bool:
        return self.kind == "lesson"


def safe_script_name(name: str) -> str:
    """A file name for the program inside the sandbox (shown in tracebacks)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _NAME.sub("_", base).lstrip(".")[:60] or "main.py"
    return base if base.endswith(".py") else base + ".py"


@dataclass(frozen=True)
class OutputFile:
    """A file the job left in its output folder, checked by the host (see ``files``)."""

    name: str
    data: bytes
    kind: Literal["png", "text"]

    @property
    def size(self) -> int:
        return len(self.data)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "size": self.size}


@dataclass(frozen=True)
class DroppedFile:
    """An output file the host refused: ``reason`` is the suffix of the message key
    ``runs.file_dropped.<reason>`` (``count``, ``too_large``, ``unreadable``, ``not_png``,
    ``image_too_large``, ``not_utf8``, ``kind``), ``params`` its numbers."""

    name: str
    reason: str
    params: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """How a job ended.

    ``status``: ``ok`` (exit code 0), ``error`` (non-zero exit, e.g. an exception),
    ``timeout`` (wall time or CPU time ran out), ``memory`` (the memory cgroup's OOM killer
    struck, read from its counters), ``output_limit`` (stdout or stderr passed its cap; the
    job was stopped there and ``truncated`` is set), ``signal`` (killed by a signal not
    covered above), ``rejected`` (never ran: see ``reason``).
    """

    status: Status
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    wall_ms: int = 0
    device: str = "cpu"
    files: tuple[OutputFile, ...] = ()
    sandboxed: bool = True
    reason_key: str | None = None  # for rejections: a message key (sandbox.<...>)
    reason_params: dict[str, Any] = field(default_factory=dict)
    memory_peak_mb: float | None = None
    notes: tuple[str, ...] = ()  # host-side remarks, e.g. output files that were dropped
    dropped: tuple[DroppedFile, ...] = ()  # output files refused, for front ends to say why
    # set only when the job ran on a remote worker (``sandbox.remote``): its name, the
    # queue it came from, and the queue first asked when it fell back (``gpu``)
    worker: str | None = None
    queue: str | None = None
    fallback_from: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def reason(self) -> str | None:
        return self.stderr if self.status == "rejected" else None

    def to_json(self, file: str | None = None) -> dict[str, Any]:
        """The command line's JSON line (exactly the contract's keys)."""
        return {
            "file": file,
            "status": self.status,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "truncated": self.truncated,
            "wall_ms": self.wall_ms,
            "device": self.device,
            "files": [f.to_json() for f in self.files],
        } | self._remote_json()

    def _remote_json(self) -> dict[str, Any]:
        """``worker`` and ``queue`` when the Celery back end ran it (the contract's only
        extra keys: a GPU job that fell back shows ``queue: cpu``; ``fallback_from`` is
        told in words, by the bot and by the text output)."""
        if self.worker is None and self.queue is None:
            return {}
        return {"worker": self.worker, "queue": self.queue}

    @classmethod
    def rejected(cls, key: str, message: str, device: str = "none", **params: Any) -> RunResult:
        return cls(
            status="rejected",
            stderr=message,
            device=device,
            sandboxed=False,
            reason_key=key,
            reason_params=params,
        )


def exit_status(
    returncode: int | None,
    killed_for: Status | None,
    oom: bool,
    reported_exit: int | None,
    reported_signal: int | None = None,
) -> tuple[Status, int | None, int | None]:
    """(status, exit code, signal). ``returncode`` is bubblewrap's (None when the launcher
    reported the end itself). bubblewrap turns death by signal N into 128+N; the
    launcher's report tells that apart from an exit code above 128. As the pid namespace's
    init, the launcher cannot die of most signals (the kernel protects an init), so it
    reports them and exits with 128+N itself. "memory" comes from the cgroup's counter."""
    sig: int | None = None
    exit_code: int | None = None
    if returncode is None:
        exit_code = reported_exit
    elif returncode < 0:
        sig = -returncode
    elif returncode > 128 and (reported_signal == returncode - 128 or reported_exit != returncode):
        sig = returncode - 128
    else:
        exit_code = returncode
    if oom:
        return "memory", exit_code, sig
    if killed_for is not None:
        return killed_for, exit_code, sig
    if sig == signals.SIGXCPU:  # the CPU-time limit (RLIMIT_CPU) is a time limit
        return "timeout", exit_code, sig
    if sig is not None:
        return "signal", exit_code, sig
    return ("ok" if exit_code == 0 else "error"), exit_code, sig
