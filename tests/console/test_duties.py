"""Scheduled posts in the console: the simulated clock, weekends, holidays, restarts."""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import ConsoleRunner, Result

REVIEW_HINT = "  풀이를 공유하고 서로의 코드를 리뷰해 주세요."


def review_post(day: str, name: str) -> str:
    return f"[#study] {day} 코드 리뷰 시간입니다! 오늘의 진행자는 {name} 님입니다.\n{REVIEW_HINT}"


def review_days(result: Result) -> list[str]:
    """The days of the review posts, in the order they appeared."""
    days = []
    for block in result.blocks:
        match = re.match(r"\[#study\] (\S+ \S+) 코드 리뷰 시간입니다!", block)
        if match:
            days.append(match[1])
    return days


WEEKS = """\
    alice: /member join
    bob: /member join
    carol: /member join
    :advance 2h
    # back and forward again: the 09:30 post must not repeat
    :time 2026-12-07 09:00
    :time 2026-12-07T10:00+09:00
    :time 2026-12-14 10:00
    :time 2026-12-28 10:00
"""


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> Result:
    runner = ConsoleRunner(tmp_path_factory.mktemp("weeks"))
    return runner.script(WEEKS, "--clock", "2026-12-07T08:00+09:00")


def test_review_post_names_the_moderator_once(weeks: Result) -> None:
    assert weeks.code == 0, weeks.err
    assert weeks.blocks[:4] == [
        "[#study] alice 님이 스터디에 참여했습니다. 환영합니다!",
        "[#study] bob 님이 스터디에 참여했습니다. 환영합니다!",
        "[#study] carol 님이 스터디에 참여했습니다. 환영합니다!",
        review_post("12월 7일(월)", "alice"),
    ]
    assert review_days(weeks).count("12월 7일(월)") == 1


def test_weekends_are_skipped_and_moderators_rotate(weeks: Result) -> None:
    first_weeks = weeks.blocks[3:9]
    assert first_weeks == [
        review_post("12월 7일(월)", "alice"),
        review_post("12월 8일(화)", "bob"),
        review_post("12월 9일(수)", "carol"),
        review_post("12월 10일(목)", "alice"),
        review_post("12월 11일(금)", "bob"),
        review_post("12월 14일(월)", "carol"),
    ]


def test_korean_public_holiday_is_skipped(weeks: Result) -> None:
    days = review_days(weeks)
    assert days[-5:] == [
        "12월 21일(월)",
        "12월 22일(화)",
        "12월 23일(수)",
        "12월 24일(목)",
        "12월 28일(월)",
    ]  # 12-25 is 기독탄신일 (Christmas), a Friday
    assert len(days) == len(set(days)) == 15


def test_restart_catches_up_once_and_only_within_the_grace_window(
    console: ConsoleRunner,
) -> None:
    before = console.script(
        """\
        alice: /member join
        :time 2026-12-07 09:00
        """,
        "--clock",
        "2026-12-07T08:00+09:00",
    )
    assert before.blocks == ["[#study] alice 님이 스터디에 참여했습니다. 환영합니다!"]

    restart = console.script("", "--clock", "2026-12-07T10:00+09:00")
    assert restart.code == 0, restart.err
    assert restart.blocks == [review_post("12월 7일(월)", "alice")]

    # the next day the script ends before review time again; no 12-07 repeat either
    next_day = console.script(":time 2026-12-08 09:00\n", "--clock", "2026-12-08T08:00+09:00")
    assert next_day.code == 0, next_day.err
    assert next_day.out == ""

    # 13:00 is 3.5 h after the 09:30 review: outside the 3 h grace, so nothing is posted
    late = console.script("alice: /mod today\n", "--clock", "2026-12-08T13:00+09:00")
    assert late.code == 0, late.err
    assert late.blocks == ["[@alice] 12월 8일(화) 오늘의 진행자는 alice 님입니다."]
