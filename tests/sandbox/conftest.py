"""Fixtures for the sandbox tests: a real sandbox (bubblewrap, namespaces, cgroups,
seccomp) or a skip that says why, which ``STUDYBOT_REQUIRE_SANDBOX=1`` (CI) turns into a
failure.

The hostile tests use sandboxes that do not preload torch (the isolation is the same; the
warm-up is not), so each starts in a few milliseconds; the lesson tests preload torch.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from sandbox import Sandbox, SandboxConfig
from sandbox.core import probe
from sandbox.forkserver import ForkPool
from sandbox.pool import WarmPool

REQUIRE_ENV = "STUDYBOT_REQUIRE_SANDBOX"
REPO = Path(__file__).resolve().parents[2]

# a run's JSON line (``RunResult.to_json``, ``--json``): exactly these keys, in this order
RESULT_KEYS = [
    "file",
    "status",
    "exit_code",
    "signal",
    "stdout",
    "stderr",
    "truncated",
    "wall_ms",
    "device",
    "files",
]

# the reason every test that needs the real sandbox is skipped with (tests/conftest.py
# counts them at the end of the run)
SKIP_PREFIX = "the real sandbox is unavailable here"

# small, fast limits for hostile code; each test may override. STUDYBOT_SANDBOX_BWRAP
# points them at another bubblewrap (a missing one: the run of a host without it).
FAST = SandboxConfig(
    bwrap=os.environ.get("STUDYBOT_SANDBOX_BWRAP") or "bwrap",
    preload_torch=False,
    pool_size=1,
    concurrency=2,
    timeout_s=10,
    cpu_s=10,
    memory_mb=512,
    pids=32,
    tmp_mb=16,
    fsize_mb=4,
    output_kb=16,
    files_max=4,
    file_kb=256,
    rate_per_minute=600,
    rate_burst=100,
)


@functools.cache
def _probe_reason() -> str | None:
    if os.geteuid() != 0:
        return "the sandbox tests need root (to drop jobs to their own uids and set up cgroups)"
    _, reason = probe(FAST)
    return reason


def need_sandbox() -> None:
    """Skip (or, in CI, fail) when this host cannot run the real sandbox."""
    reason = _probe_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the sandbox is unavailable: {reason}")
    pytest.skip(f"{SKIP_PREFIX}: {reason}")


MODES = {True: "fork-server", False: "single-use"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on the ``sandbox`` fixture runs through both ways of serving CPU jobs:
    the fork server (the default) and single-use sandboxes (what GPU lanes use), unless
    its ``sandbox_config`` marker names one."""
    if "sandbox" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("sandbox_config")
    fixed = marker.kwargs.get("fork_server") if marker else None
    modes = [fixed] if fixed is not None else list(MODES)
    metafunc.parametrize("sandbox", modes, indirect=True, ids=[MODES[mode] for mode in modes])


@pytest_asyncio.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """A started sandbox with FAST limits (``@pytest.mark.sandbox_config(key=value)``
    changes them), serving CPU jobs by the fork server or by single-use sandboxes."""
    need_sandbox()
    marker = request.node.get_closest_marker("sandbox_config")
    config = FAST.with_limits(**(marker.kwargs if marker else {}))
    config = config.with_limits(fork_server=getattr(request, "param", config.fork_server))
    box = Sandbox(config)
    await box.start()
    assert box.sandboxed, box.unavailable_reason
    pool = box.pools["cpu"]
    if config.fork_server:  # never a silent fallback to single-use sandboxes
        assert box.fork_problem is None and isinstance(pool, ForkPool), box.fork_problem
    else:
        assert isinstance(pool, WarmPool)
    try:
        yield box
    finally:
        await box.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox_config(**limits): SandboxConfig changes for the sandbox fixture"
    )
