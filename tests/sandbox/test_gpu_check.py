"""bench/gpu_check.py, the GPU checks prepared for a host with a GPU: on this host it must
say clearly that there is no GPU, and its rehearsal on the CPU lane must run every step."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.sandbox.conftest import REPO, need_sandbox


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "bench" / "gpu_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_it_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _script()
    monkeypatch.setattr(script, "find_gpus", lambda: ())
    out = tmp_path / "gpu.json"
    assert script.main(["--out", str(out)]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["gpus"] == []
    assert "no NVIDIA GPU" in report["reason"]
    assert json.loads(out.read_text()) == report


def test_the_rehearsal_runs_every_step_on_the_cpu(
    capsys: pytest.CaptureFixture[str],
) -> None:
    need_sandbox()
    script = _script()
    argv = ["--cpu-rehearsal", "--lessons", "backward-gradient", "--warm", "2", "--cold", "1"]
    code = script.main([*argv, "--hold", "2"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    lesson = report["lessons"]["lessons"]["backward-gradient"]
    assert (lesson["status"], lesson["device"], lesson["passed"]) == ("ok", "cpu", True)
    killed = report["memory_back"]["killed_job"]
    assert (killed["status"], killed["held"]) == ("timeout", True)
    assert report["memory_back"]["measured"] is False  # no GPU memory to compare here
    latency = report["latency"]
    assert latency["passed"] and latency["runs"] == {"warm": 2, "cold": 1}
    assert latency["cold_p50_ms"] > latency["warm_p50_ms"] > 0


def test_an_unknown_lesson_list_fails_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    need_sandbox()
    script = _script()
    argv = ["--cpu-rehearsal", "--lessons", "no-such-lesson", "--warm", "1", "--cold", "1"]
    assert script.main([*argv, "--hold", "1"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["lessons"] == {"passed": False, "lessons": {}}
