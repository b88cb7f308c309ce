"""The sandbox's limits and switches, as one immutable value.

``SandboxConfig.from_settings`` reads the ``sandbox_*`` fields of ``bot.config.Settings``
(environment variables ``STUDYBOT_SANDBOX_...``); the sandbox itself never imports the bot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["SandboxConfig"]


@dataclass(frozen=True)
class SandboxConfig:
    """Limits per job and the pool's shape. Defaults suit the PyTorch lessons."""

    timeout_s: float = 20.0  # wall time of one job, from hand-over to exit
    cpu_s: float = 20.0  # CPU time per process of the job (RLIMIT_CPU)
    memory_mb: int = 2048  # memory cgroup limit of one sandbox (interpreter and torch included)
    pids: int = 64  # processes and threads per sandbox (pids cgroup and RLIMIT_NPROC)
    nofile: int = 256  # open files per process
    fsize_mb: int = 16  # largest file a job may write
    output_kb: int = 64  # stdout and stderr, each
    tmp_mb: int = 64  # the private /tmp and /dev/shm, each
    files_max: int = 8  # output files returned per job
    file_kb: int = 2048  # largest PNG returned (text files: 64 KiB)
    image_pixels_max: int = 25_000_000  # largest PNG returned, by its header's width x height
    image_side_max: int = 10_000  # widest and tallest PNG returned, in pixels
    code_kb: int = 256  # largest program accepted
    threads: int = 1  # torch/OpenMP threads per job
    pool_size: int = 2  # warm sandboxes kept ready
    concurrency: int = 2  # jobs running at once (never more than the cores)
    queue_max: int = 10  # jobs waiting at most
    rate_per_minute: float = 6.0  # jobs per member per minute (token bucket refill)
    rate_burst: int = 3  # jobs a member may start back to back
    allow_unsandboxed_lessons: bool = False  # lessons run with rlimits only when no sandbox
    gpu_for_members: bool = False  # members' own code may use a GPU
    gpu_memory_mb: int = 8192  # memory cgroup limit of a GPU sandbox (CUDA maps a lot)
    uid_base: int = 990_000  # host uids base .. base+255, one per live sandbox (leased)
    python: str | None = None  # interpreter inside the sandbox (default: found)
    site_packages: str | None = None  # packages inside the sandbox (default: torch's)
    bwrap: str = "bwrap"
    preload_torch: bool = True  # warm sandboxes import torch and run a tiny step
    fork_server: bool = True  # CPU lanes: one warm zygote forks each job (see forkserver)

    def __post_init__(self) -> None:
        for name in ("timeout_s", "cpu_s"):
            if not 0 < getattr(self, name) <= 3600:
                raise ValueError(f"{name} must be in (0, 3600]")
        positive = (
            "memory_mb",
            "pids",
            "nofile",
            "fsize_mb",
            "output_kb",
            "tmp_mb",
            "file_kb",
            "image_pixels_max",
            "image_side_max",
            "code_kb",
            "threads",
            "concurrency",
            "rate_burst",
            "gpu_memory_mb",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("pool_size", "queue_max", "files_max"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.memory_mb < 256:
            raise ValueError("memory_mb must be at least 256 (the interpreter needs it)")
        if self.pids < 8:
            raise ValueError("pids must be at least 8 (bubblewrap and the interpreter use some)")
        if self.rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        if self.uid_base < 1000:
            raise ValueError("uid_base must be an unused, unprivileged uid (1000 or more)")

    @property
    def effective_concurrency(self) -> int:
        """The concurrency limit, capped at the number of cores this process may use."""
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        return max(1, min(self.concurrency, cores))

    def with_limits(self, **changes: Any) -> SandboxConfig:
        return replace(self, **changes)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> SandboxConfig:
        """Build from an object with ``sandbox_<field>`` attributes (``bot.config.Settings``)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"sandbox_{f.name}"
            if hasattr(settings, name):
                values[f.name] = getattr(settings, name)
        values.update(overrides)
        return cls(**values)
