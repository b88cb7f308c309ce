"""The console's control lines and command discovery: ``:help``, ``:time`` alone, a clock
that never goes backwards, a command group's name alone, the real clock's refusal and
``--clock next-monday`` (the console as a subprocess, as a user runs it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.console.main import next_monday_morning
from bot.adapters.console.options import usage
from bot.adapters.console.parser import Help, ScriptError, ShowTime, parse_line
from bot.commands import COMMANDS
from bot.i18n import text
from tests.console.conftest import ConsoleRunner

pytestmark = pytest.mark.sqlite_only

MONDAY = ("--clock", "2026-12-07T08:00+09:00")
# a group's name alone lists its commands, unless it is a command itself (/quiz)
GROUPS = sorted({path[0] for path in COMMANDS if len(path) > 1 and path[:1] not in COMMANDS})


def command_lines(locale: str) -> list[str]:
    """What ``:help`` must say about each command: the shared table, in its order."""
    return [
        f"  {usage(c)} — {text(locale, 'cmd.' + '.'.join(c.path) + '.description')}"
        for c in COMMANDS.values()
    ]


def test_parser_reads_help_and_time_alone() -> None:
    assert parse_line(":help") == Help()
    assert parse_line(" :time ") == ShowTime()
    with pytest.raises(ScriptError) as caught:
        parse_line(":help me")
    assert caught.value.key == "console.unknown_control"


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_help_lists_the_control_lines_and_every_command(
    console: ConsoleRunner, locale: str
) -> None:
    result = console.script(":help\n", *MONDAY, "--locale", locale)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = text(locale, "console.help_commands")
    at = lines.index(header)
    controls, commands = lines[:at], lines[at + 1 :]
    assert controls[0] == text(locale, "console.help_controls")
    for word in (":time 2026-12-01 18:59 — ", ":advance 30m — ", ":help — ", ":quit — ", "# "):
        shown = [line.replace("`", "") for line in controls]  # Korean marks code as code
        assert sum(line.startswith("  " + word) for line in shown) == 1, word
    assert len(controls) == 6
    assert commands == command_lines(locale)
    assert len(commands) == len(COMMANDS)
    assert not any("cmd." in line for line in commands)  # every description exists
    assert "  /mod swap with: [member:] [force:] — " in "\n".join(commands)


def test_time_alone_shows_the_simulated_time(console: ConsoleRunner) -> None:
    result = console.script(":time\n:advance 1h30m\n:time\n", *MONDAY)
    assert result.code == 0, result.err
    assert [line for line in result.out.splitlines() if not line.startswith(("[", " "))] == [
        "시뮬레이션 시계: 2026-12-07 08:00(월), 시간대 Asia/Seoul",
        "시뮬레이션 시계: 2026-12-07 09:30(월), 시간대 Asia/Seoul",
    ]
    english = console.script(":advance 1d30s\n:time\n", *MONDAY, "--locale", "en")
    # the first run created the group in Korean; --locale only applies on creation
    assert english.out.splitlines()[-1].startswith("시뮬레이션 시계: 2026-12-08 08:00:30(화)")


def test_time_alone_in_english(console: ConsoleRunner) -> None:
    result = console.script(":time\n", *MONDAY, "--locale", "en")
    assert result.out == "Simulated clock: 2026-12-07 08:00 (Mon), time zone Asia/Seoul\n"


def test_a_script_that_moves_the_clock_backwards_is_refused_before_it_runs(
    console: ConsoleRunner,
) -> None:
    script = "alice: /member join\n:advance 2h\n:time 2026-12-07 09:59\nbob: /member join\n"
    result = console.script(script, *MONDAY)
    assert result.code == 2
    assert result.out == ""  # nothing ran, not even the first line
    assert "3번째 줄" in result.err
    assert (
        "시뮬레이션 시계는 뒤로 돌릴 수 없습니다(지금 2026-12-07 10:00, "
        "요청한 시각 2026-12-07 09:59)." in result.err
    )
    assert "`:advance 30m`처럼 앞으로 옮기세요" in result.err


def test_the_same_time_and_later_times_are_fine(console: ConsoleRunner) -> None:
    result = console.script(
        ":time 2026-12-07 08:00\n:time 2026-12-07T10:00+09:00\n:time\n", *MONDAY
    )
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1].startswith("시뮬레이션 시계: 2026-12-07 10:00(월)")


def test_typed_lines_going_backwards_are_refused_and_the_clock_stays(
    console: ConsoleRunner,
) -> None:
    stdin = ":advance 2h\n:time 2026-12-07 08:30\n:time\n:quit\n"
    result = console.cli("console", "--db", console.db_url, *MONDAY, "--locale", "en", stdin=stdin)
    assert result.code == 0, result.err
    assert result.err == (
        "The simulated clock cannot go backwards (now 2026-12-07 10:00, asked for "
        "2026-12-07 08:30). Give a later time, or move on with `:advance 30m`.\n"
    )
    assert result.out.splitlines()[-1] == (
        "Simulated clock: 2026-12-07 10:00 (Mon), time zone Asia/Seoul"
    )


@pytest.mark.parametrize("group", GROUPS)
def test_a_group_name_alone_lists_its_commands(console: ConsoleRunner, group: str) -> None:
    result = console.script(f"alice: /{group}\n", *MONDAY, "--locale", "en")
    assert result.code == 0, result.err
    expected = [line for line in command_lines("en") if line.startswith(f"  /{group} ")]
    assert expected, f"no command of /{group} in :help"
    assert result.out.splitlines() == [f"[@alice] Choose a command to follow /{group}:", *expected]


def test_an_unknown_subcommand_lists_the_groups_commands(console: ConsoleRunner) -> None:
    result = console.script("alice: /Member frobnicate user:bob\n", *MONDAY)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        "[@alice] 그런 명령은 없습니다: /Member frobnicate. /member 다음에 쓸 수 있는 명령:"
    )
    assert lines[1:] == [line for line in command_lines("ko") if line.startswith("  /member ")]


def test_a_name_that_is_no_group_is_still_unknown(console: ConsoleRunner) -> None:
    result = console.script("alice: /dance\n", *MONDAY, "--locale", "en")
    assert result.blocks == ["[@alice] Unknown command /dance."]
    assert "Choose a command" not in result.out


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("ko", "콘솔을 끝내고(`:quit`) `make console` 명령(다음 월요일 08:00에 시작)"),
        ("en", "leave the console (:quit) and run `make console`"),
    ],
)
def test_the_real_clock_refusal_says_how_to_start_a_simulated_one(
    console: ConsoleRunner, locale: str, expected: str
) -> None:
    stdin = ":advance 2h\n:time 2026-12-07 10:00\n:time\n:quit\n"
    result = console.cli("console", "--db", console.db_url, "--locale", locale, stdin=stdin)
    assert result.code == 0, result.err
    refusals = result.err.splitlines()
    assert len(refusals) == 2 and refusals[0] == refusals[1]
    assert expected in refusals[0]
    assert "studybot console --clock 2026-12-07T08:00+09:00" in refusals[0]
    shown = result.out.splitlines()
    assert len(shown) == 1
    assert shown[0].startswith("실제 시계: " if locale == "ko" else "Real clock: ")
    assert "make console" in shown[0]


def test_clock_next_monday_starts_at_the_next_monday_morning(console: ConsoleRunner) -> None:
    before = datetime.now(ZoneInfo("Asia/Seoul"))
    result = console.cli(
        "console", "--db", console.db_url, "--clock", "next-monday", stdin=":time\n"
    )
    after = datetime.now(ZoneInfo("Asia/Seoul"))
    assert result.code == 0, result.err
    expected = {
        next_monday_morning(moment, ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M")
        for moment in (before, after)
    }
    assert any(result.out == f"시뮬레이션 시계: {e}(월), 시간대 Asia/Seoul\n" for e in expected)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        ("2026-12-07T07:59+09:00", "2026-12-07T08:00+09:00"),  # Monday, before 08:00
        ("2026-12-07T08:00+09:00", "2026-12-07T08:00+09:00"),  # exactly then
        ("2026-12-07T08:01+09:00", "2026-12-14T08:00+09:00"),
        ("2026-12-10T12:00+09:00", "2026-12-14T08:00+09:00"),  # a Thursday
        ("2026-12-13T23:30+00:00", "2026-12-21T08:00+09:00"),  # Monday 08:30 in Seoul
    ],
)
def test_next_monday_morning_is_in_the_groups_zone(now: str, start: str) -> None:
    zone = ZoneInfo("Asia/Seoul")
    got = next_monday_morning(datetime.fromisoformat(now), zone)
    assert got == datetime.fromisoformat(start)
    assert got.tzinfo == zone
