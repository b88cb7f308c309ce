"""Lessons in the console: the list by day and one lesson with its code (no sandbox)."""

from __future__ import annotations

import pytest

from tests.console.conftest import ConsoleRunner, Result

SCRIPT = """\
    alice: /lesson list
    alice: /lesson show id:backward-gradient
    alice: /lesson show id:no-such-lesson
"""


def lacking(block: str, parts: list[str]) -> list[str]:
    """The ``parts`` that ``block`` does not contain."""
    return [part for part in parts if part not in block]


@pytest.fixture(scope="module")
def lessons(tmp_path_factory: pytest.TempPathFactory) -> Result:
    runner = ConsoleRunner(tmp_path_factory.mktemp("lessons"))
    return runner.script(SCRIPT, "--locale", "en")


def test_script_runs(lessons: Result) -> None:
    assert lessons.code == 0, lessons.err
    assert "Traceback" not in lessons.err
    assert len(lessons.blocks) == 3, lessons.out


def test_list_is_private_and_grouped_by_day(lessons: Result) -> None:
    listing = lessons.blocks[0]
    assert listing.startswith("[@alice] PyTorch lessons (")
    parts = ["\n  DAY1\n", "• `backward-gradient` — ", "• `tensor-vs-tensor-class` — "]
    assert lacking(listing, parts) == []
    days = [line.strip() for line in listing.splitlines() if line.strip().startswith("DAY")]
    assert days == sorted(days)


def test_show_posts_question_explanation_and_code(lessons: Result) -> None:
    shown = lessons.blocks[1]
    assert shown.startswith("[#study] DAY1 · ")
    parts = [
        "(`backward-gradient`)",
        "\n  Question: ",
        "Run it: `/lesson run id:backward-gradient`",
    ]
    assert lacking(shown, parts) == []
    # the code comes inline as a python block, or attached as the lesson's file
    assert "```python" in shown or "[file] " in shown


def test_unknown_lesson_is_refused_privately(lessons: Result) -> None:
    assert lessons.blocks[2].startswith("[@alice] There is no lesson `no-such-lesson`.")
