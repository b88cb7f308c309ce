"""The review quiz's daily nudge in the console: when the simulated clock passes a member's
nudge time on a study day with cards waiting, the console shows the nudge once, from the
same sweep the bot's minute job runs (``scripts/quiz_nudge.txt``, from Friday 2026-12-11
08:00, Asia/Seoul). Not on the weekend, not twice a day, not for members who switched it
off or never set it."""

from __future__ import annotations

from pathlib import Path

from tests.console.conftest import ConsoleRunner, Result

SCRIPT = Path(__file__).parent / "scripts" / "quiz_nudge.txt"
START = "2026-12-11T08:00+09:00"


def private_and_clock(result: Result, clock_word: str) -> list[str]:
    """The first line of each private message, and the clock lines (the console's own
    notes, which have no ``[...]`` prefix), in order."""
    return [line for line in result.out.splitlines() if line.startswith(("[@", clock_word))]


def test_the_console_nudges_once_on_study_days_when_the_clock_passes_the_time(
    console: ConsoleRunner,
) -> None:
    result = console.run_file(SCRIPT, "--clock", START)
    assert result.code == 0, result.err
    nudge = "[@alice] ⏰ 오늘 복습할 카드가 5장 있습니다. `/quiz`로 시작하세요."
    set_at = "복습 알림을 학습일마다 20:00에 보냅니다. 복습할 카드가 없는 날은 보내지 않습니다."
    assert private_and_clock(result, "시뮬레이션 시계") == [
        f"[@alice] {set_at}",
        f"[@bob] {set_at}",
        "[@bob] 복습 알림을 껐습니다.",
        "시뮬레이션 시계: 2026-12-11 19:59(금), 시간대 Asia/Seoul",  # not yet
        nudge,  # Friday 20:00
        "시뮬레이션 시계: 2026-12-11 20:00(금), 시간대 Asia/Seoul",
        "시뮬레이션 시계: 2026-12-11 23:00(금), 시간대 Asia/Seoul",  # once a day
        "시뮬레이션 시계: 2026-12-13 23:00(일), 시간대 Asia/Seoul",  # the weekend: none
        nudge,  # Monday, on the way to 21:30
        "시뮬레이션 시계: 2026-12-14 21:30(월), 시간대 Asia/Seoul",
        "시뮬레이션 시계: 2026-12-14 23:30(월), 시간대 Asia/Seoul",
        "[@alice] 복습 알림을 껐습니다.",
        "시뮬레이션 시계: 2026-12-15 23:00(화), 시간대 Asia/Seoul",  # off: none
    ]


def test_the_nudge_in_english_says_how_many_cards_wait(console: ConsoleRunner) -> None:
    result = console.run_file(SCRIPT, "--clock", START, "--locale", "en")
    assert result.code == 0, result.err
    nudges = [line for line in result.out.splitlines() if line.startswith("[@alice] ⏰")]
    assert nudges == ["[@alice] ⏰ 5 cards are waiting for review today. Start with `/quiz`."] * 2
