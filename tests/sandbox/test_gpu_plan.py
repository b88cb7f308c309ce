"""The GPU path on a host without a GPU: what is found, what a CUDA sandbox is given, where
jobs go, and what a GPU sandbox that cannot start CUDA reports (through the real sandbox)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from sandbox import JobSpec, RunResult, Sandbox, SandboxConfig, policy
from sandbox.admission import FairQueue, TokenBucket
from sandbox.core import probe
from sandbox.host import HostPlan, Runtime, find_gpus, gpu_library_dirs, gpu_nodes
from sandbox.policy import bwrap_args
from sandbox.slot import Slot
from tests.sandbox.conftest import FAST, need_sandbox


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_no_control_device_means_no_gpus(tmp_path: Path) -> None:
    _touch(tmp_path / "nvidia0")
    assert find_gpus(str(tmp_path)) == ()


def test_gpus_are_the_numbered_nodes(tmp_path: Path) -> None:
    for name in ("nvidiactl", "nvidia1", "nvidia0", "nvidia-uvm", "nvidia-modeset", "nvidia12"):
        _touch(tmp_path / name)
    assert find_gpus(str(tmp_path)) == (0, 1, 12)


def test_a_gpu_job_gets_its_own_node_and_the_shared_ones(tmp_path: Path) -> None:
    for name in ("nvidiactl", "nvidia0", "nvidia1", "nvidia-uvm"):
        _touch(tmp_path / name)
    (tmp_path / "nvidia-caps").mkdir()
    nodes = [os.path.basename(node) for node in gpu_nodes(1, str(tmp_path))]
    assert nodes == ["nvidiactl", "nvidia-uvm", "nvidia-caps", "nvidia1"]


def test_driver_library_folders_come_from_the_path_first(tmp_path: Path) -> None:
    vendor = _touch(tmp_path / "nvidia" / "lib64" / "libcuda.so.1").parent
    system = _touch(tmp_path / "usr" / "lib" / "libcuda.so.1").parent
    empty = tmp_path / "empty"
    empty.mkdir()
    found = gpu_library_dirs(
        library_path=f"relative/dir::{empty}:{vendor}",
        candidates=(str(system), str(vendor), str(tmp_path / "missing")),
    )
    assert found == (str(vendor), str(system))


def test_no_driver_library_means_no_folders(tmp_path: Path) -> None:
    assert gpu_library_dirs(library_path="", candidates=(str(tmp_path),)) == ()


def _plan(gpu_libraries: tuple[str, ...]) -> HostPlan:
    runtime = Runtime("/usr/bin/python3.11", None, "/opt/packages")
    return HostPlan(FAST, "bwrap", runtime, "/usr/bin/bwrap", None, None, None, gpu_libraries)


def _pairs(args: list[str], option: str) -> list[tuple[str, str]]:
    return [(args[i + 1], args[i + 2]) for i, arg in enumerate(args) if arg == option]


def test_a_cuda_sandbox_sees_the_devices_and_the_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = [str(_touch(tmp_path / "dev" / name)) for name in ("nvidiactl", "nvidia0")]
    monkeypatch.setattr(policy, "gpu_nodes", lambda index: nodes if index == 0 else [])
    driver = str(_touch(tmp_path / "nvidia" / "lib64" / "libcuda.so.1").parent)
    args = bwrap_args(_plan((driver,)), device="cuda:0", seccomp_fd=None)
    assert _pairs(args, "--dev-bind") == [(node, node) for node in nodes]
    assert ("/sys", "/sys") in _pairs(args, "--ro-bind")
    assert (driver, driver) in _pairs(args, "--ro-bind")
    assert ("LD_LIBRARY_PATH", driver) in _pairs(args, "--setenv")
    assert args[-2:] == ["--remount-ro", "/"]


def test_a_driver_folder_under_usr_lib_is_not_bound_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(policy, "gpu_nodes", lambda index: [])
    args = bwrap_args(_plan(("/usr/lib/x86_64-linux-gnu",)), device="cuda:0", seccomp_fd=None)
    assert ("/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu") not in _pairs(
        args, "--ro-bind"
    )
    assert ("LD_LIBRARY_PATH", "/usr/lib/x86_64-linux-gnu") in _pairs(args, "--setenv")


def test_a_cpu_sandbox_sees_no_gpu_or_host_sys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy, "gpu_nodes", lambda index: ["/dev/nvidia0"])
    driver = str(tmp_path / "nvidia")
    args = bwrap_args(_plan((driver,)), device="cpu", seccomp_fd=None)
    assert "--dev-bind" not in args
    assert all(dest not in ("/sys", driver) for _, dest in _pairs(args, "--ro-bind"))
    assert "LD_LIBRARY_PATH" not in args


class _FakeSlot:
    def __init__(self, lane: str) -> None:
        self.lane = lane

    async def run(self, code: bytes, job: JobSpec) -> RunResult:
        return RunResult(status="ok", device=self.lane, stdout=code.decode())

    async def close(self) -> None:
        return None


class _FakePool:
    def __init__(self, lane: str) -> None:
        self.lane = lane

    async def acquire(self) -> _FakeSlot:
        return _FakeSlot(self.lane)


def _routed_sandbox(config: SandboxConfig, lanes: dict[str, int]) -> Sandbox:
    """A Sandbox whose pools hand out fake slots, so routing is seen without a GPU."""
    box = Sandbox(config)
    box.pools = {lane: _FakePool(lane) for lane in lanes}  # type: ignore[misc]
    bucket = TokenBucket(600, 100, box.clock)
    box.queue = FairQueue(box._execute, lanes, queue_max=10, bucket=bucket)
    box.plan = _plan(())
    return box


@pytest.mark.parametrize(
    ("gpu_for_members", "kind", "lane"),
    [
        (False, "lesson", "cuda:0"),
        (False, "member", "cpu"),
        (True, "member", "cuda:0"),
        (True, "lesson", "cuda:0"),
    ],
)
async def test_lessons_go_to_the_gpu_members_only_when_allowed(
    gpu_for_members: bool, kind: str, lane: str
) -> None:
    config = FAST.with_limits(gpu_for_members=gpu_for_members)
    box = _routed_sandbox(config, {"cpu": 2, "cuda:0": 1})
    result = await box.run("print(1)", JobSpec(kind=kind))  # type: ignore[arg-type]
    assert (result.status, result.device) == ("ok", lane)


async def test_gpu_jobs_spread_over_the_least_loaded_gpu() -> None:
    box = _routed_sandbox(FAST, {"cpu": 2, "cuda:0": 1, "cuda:1": 1})
    tickets = [box.submit(f"job {n}", JobSpec(kind="lesson")) for n in range(4)]
    assert sorted(ticket.lane for ticket in tickets) == ["cuda:0", "cuda:0", "cuda:1", "cuda:1"]
    assert sorted(ticket.position for ticket in tickets) == [0, 0, 1, 1]
    results = await asyncio.gather(*tickets)
    assert all(result.ok for result in results)


async def test_a_gpu_sandbox_without_cuda_says_it_ran_on_the_cpu() -> None:
    """This host has no GPU: a sandbox started for "cuda:0" cannot start CUDA in its
    warm-up, so its job runs on the CPU, and the result says so instead of claiming a GPU."""
    need_sandbox()
    config = FAST.with_limits(preload_torch=True, memory_mb=2048, pids=64)
    plan, reason = probe(config)
    assert plan is not None, reason
    slot = await Slot.start(plan, "cuda:0")
    try:
        assert slot.device == "cpu"
        assert slot.gpu_problem
        code = b"import torch\nprint('cuda', torch.cuda.is_available())\n"
        result = await slot.run(code, JobSpec(kind="lesson"))
    finally:
        await slot.close()
    assert result.status == "ok", result.stderr
    assert result.device == "cpu"
    assert "cuda False" in result.stdout
    assert any("GPU could not be used" in note for note in result.notes)
