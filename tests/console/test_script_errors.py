"""A broken script stops before doing anything, with a message naming the line."""

from __future__ import annotations

import pytest

from tests.console.conftest import ConsoleRunner


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("alice /member join", "`이름: /명령 옵션:값`"),
        ('alice: /progress log note:"unclosed', "따옴표가 닫히지 않았거나"),
    ],
)
def test_broken_line_exits_2_naming_the_line(
    console: ConsoleRunner, line: str, problem: str
) -> None:
    result = console.script(
        f"alice: /member join\n# fine so far\n{line}\n", "--clock", "2026-12-07T08:00+09:00"
    )
    assert result.code == 2
    assert result.out == ""  # nothing ran
    assert "3번째 줄" in result.err
    assert problem in result.err
    assert line in result.err
    assert "Traceback" not in result.err


def test_moving_the_real_clock_is_a_broken_script(console: ConsoleRunner) -> None:
    result = console.script(":advance 1h\n")
    assert result.code == 2
    assert "1번째 줄" in result.err
    assert "--clock" in result.err and "`make console`" in result.err


def test_bad_clock_option_is_reported_without_traceback(console: ConsoleRunner) -> None:
    result = console.script("", "--clock", "monday morning")
    assert result.code == 2
    assert "올바른 시각이 아닙니다: 'monday morning'." in result.err
    assert "Traceback" not in result.err


def test_missing_script_file(console: ConsoleRunner) -> None:
    result = console.cli("console", "--db", console.db_url, "--script", "nope.txt")
    assert result.code == 2
    assert "nope.txt" in result.err
    assert "Traceback" not in result.err
