"""Running code from the console through the real sandbox (``python -m bot.cli`` in a
subprocess). Skipped with the reason where this host cannot run the sandbox;
``STUDYBOT_REQUIRE_SANDBOX=1`` (CI) turns the skip into a failure, as in tests/sandbox."""

from __future__ import annotations

import pytest

from tests.console.conftest import ConsoleRunner, Result
from tests.sandbox.conftest import need_sandbox

SCRIPT = """\
    alice: /member join
    alice: /run code:"print(1+1)"
    alice: /lesson run id:tensor-vs-tensor-class
    bob: /run code:"print(2)"
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Result:
    need_sandbox()
    runner = ConsoleRunner(tmp_path_factory.mktemp("runs"))
    return runner.script(SCRIPT, "--locale", "en")


def test_script_runs(runs: Result) -> None:
    assert runs.code == 0, runs.err
    assert "Traceback" not in runs.err
    assert len(runs.blocks) == 4, runs.out


def test_snippet_output_comes_back_as_a_code_block(runs: Result) -> None:
    first, *rest = runs.blocks[1].splitlines()
    assert first.startswith("[#study] Your code: finished · cpu · ")
    assert rest == ["  ```", "  2", "  ```"]


def test_lesson_run_shows_its_output(runs: Result) -> None:
    block = runs.blocks[2]
    assert block.startswith("[#study] Lesson `tensor-vs-tensor-class` (")
    assert ": finished · " in block.splitlines()[0]
    assert "torch.Tensor is a class" in block


def test_only_members_run_their_own_code(runs: Result) -> None:
    assert runs.blocks[3] == "[@bob] Join the study group first with `/member join`."
