"""A broken script stops before doing anything, with a message naming the line (exit 2);
a line that crashes is answered and the script goes on, but exits 1; refusals exit 0."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot import commands
from bot.adapters.console.main import ConsoleOptions, run_console
from bot.config import Settings
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


def test_numbers_too_large_for_the_database_are_refusals_not_crashes(
    console: ConsoleRunner,
) -> None:
    result = console.script(
        """\
        alice: /member join
        alice: /mod accept id:99999999999999999999999
        alice: /progress delete id:99999999999999999999999
        alice: /problem show problem:99999999999999999999999
        alice: /mod schedule days:0
        """,
        "--clock",
        "2026-12-07T08:00+09:00",
    )
    assert result.code == 0, result.err  # every line was handled: refusals included
    assert "Traceback" not in result.err and "예상하지 못한" not in result.out
    refusals = result.blocks[1:]
    assert len(refusals) == 4 and all(block.startswith("[@alice] ") for block in refusals)
    assert "1부터 2,147,483,647까지" in refusals[0]
    assert "99999999999999999999999" in refusals[0]
    assert "1부터 30까지" in refusals[3]


def test_reserved_names_cannot_speak_or_be_named(console: ConsoleRunner) -> None:
    result = console.script(
        """\
        everyone: /member join
        alice: /member join
        alice: /mod swap with:@here
        """,
        "--clock",
        "2026-12-07T08:00+09:00",
    )
    assert result.code == 0, result.err
    assert result.blocks[0].startswith("[@everyone] 'everyone'은 채널 전체를 부르는 멘션")
    assert result.blocks[2].startswith("[@alice] 'here'는 채널 전체를 부르는 멘션")


def test_a_crash_in_a_script_exits_1_after_running_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line that meets an unexpected error (a bug) is answered with an error id, the
    rest of the script still runs, and the exit status says it was not all handled."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands.rotation, "today_reply", broken)
    script = tmp_path / "crash.txt"
    script.write_text("alice: /member join\nalice: /mod today\nbob: /member join\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", _env_file=None)  # type: ignore[call-arg]
    options = ConsoleOptions(
        clock="2026-12-07T08:00+09:00", script=script, files=tmp_path / "files"
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_console(settings, options, stdout=out, stderr=err) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[#study] alice")
    assert lines[1].startswith("[@alice] 예상하지 못한 오류가 발생했습니다.")
    assert lines[2].startswith("[#study] bob")  # the rest ran
    error_id = lines[1].split("오류 번호 ")[1][:8]
    assert error_id in err.getvalue() and "종료 코드는 1" in err.getvalue()


def test_refusals_alone_still_exit_0(tmp_path: Path) -> None:
    script = tmp_path / "refused.txt"
    script.write_text("alice: /mod today\nalice: /mod accept id:0\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", _env_file=None)  # type: ignore[call-arg]
    options = ConsoleOptions(
        clock="2026-12-07T08:00+09:00", script=script, files=tmp_path / "files"
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_console(settings, options, stdout=out, stderr=err) == 0
    assert err.getvalue() == ""
