"""Scheduled posts in the console: the simulated clock, weekends, holidays, restarts.

Every study day has three duties: the 09:30 review post (with the day's problem and, when
there is one, a thread for solutions), the 18:00 reminder to the day's moderator when the
next study day has no problem yet, and the 19:00 deadline that auto-picks one.
"""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import ConsoleRunner, Result
from tests.console.posts import auto_pick, joined, reminder, review_post, thread_post


def review_days(result: Result) -> list[str]:
    """The days of the review posts, in the order they appeared."""
    days = []
    for block in result.blocks:
        match = re.match(r"\[#study\] (\S+ \S+) 코드 리뷰 시간입니다!", block)
        if match:
            days.append(match[1])
    return days


def iso(day: str) -> str:
    """ "12월 8일(화)" → "2026-12-08" (every day in these tests is in December 2026)."""
    month, day_of_month = map(int, re.findall(r"\d+", day)[:2])
    return f"2026-{month:02}-{day_of_month:02}"


def study_day(day: str, name: str, pid: int | None, next_day: str, next_pid: int) -> list[str]:
    """One study day where nobody picks: review (+ thread), reminder, auto-pick."""
    review = [review_post(day, name, pid)] + ([thread_post(iso(day), pid)] if pid else [])
    return [*review, reminder(name, next_day), auto_pick(next_day, next_pid)]


WEEKS = """\
    alice: /member join
    bob: /member join
    carol: /member join
    :advance 2h
    # the same time again (the clock never goes back): the 09:30 post must not repeat
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
        joined("alice"),
        joined("bob"),
        joined("carol"),
        review_post("12월 7일(월)", "alice"),  # the group was new: no problem yet
    ]
    assert review_days(weeks).count("12월 7일(월)") == 1


def test_weekends_are_skipped_and_moderators_rotate(weeks: Result) -> None:
    first_week = [
        *study_day("12월 7일(월)", "alice", None, "12월 8일(화)", 12902),
        *study_day("12월 8일(화)", "bob", 12902, "12월 9일(수)", 68645),
        *study_day("12월 9일(수)", "carol", 68645, "12월 10일(목)", 42584),
        *study_day("12월 10일(목)", "alice", 42584, "12월 11일(금)", 147354),
        # Friday's deadline is for Monday; nothing on Saturday and Sunday
        *study_day("12월 11일(금)", "bob", 147354, "12월 14일(월)", 160585),
        review_post("12월 14일(월)", "carol", 160585),
        thread_post("2026-12-14", 160585),
    ]
    assert weeks.blocks[3 : 3 + len(first_week)] == first_week


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
    # Thursday's reminder and deadline are for Monday; Friday to Sunday post nothing
    assert weeks.blocks[-6:] == [
        *study_day("12월 24일(목)", "bob", 17679, "12월 28일(월)", 76502),
        review_post("12월 28일(월)", "carol", 76502),
        thread_post("2026-12-28", 76502),
    ]
    # 3 joins; 15 reviews, 14 with a thread; 14 reminders and 14 deadlines (not 12-28's yet)
    assert len(weeks.blocks) == 3 + 15 + 14 + 14 + 14


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
    assert before.blocks == [joined("alice")]

    restart = console.script("", "--clock", "2026-12-07T10:00+09:00")
    assert restart.code == 0, restart.err
    assert restart.blocks == [review_post("12월 7일(월)", "alice")]

    # the next day the script ends before review time again; no 12-07 repeat either
    # (12-07's 18:00 reminder and 19:00 deadline are 13 h old: past the grace window),
    # but the first post says they were missed
    next_day = console.script(":time 2026-12-08 09:00\n", "--clock", "2026-12-08T08:00+09:00")
    assert next_day.code == 0, next_day.err
    assert next_day.blocks == [missed(2, 1, ("12월 7일(월)", "문제 고르기 알림, 문제 마감 공지"))]

    # 13:00 is 3.5 h after the 09:30 review: outside the 3 h grace, so it is not posted
    # late; the first post says it was missed, once
    late = console.script("alice: /mod today\n", "--clock", "2026-12-08T13:00+09:00")
    assert late.code == 0, late.err
    assert late.blocks == [
        missed(1, 1, ("12월 8일(화)", "코드 리뷰 공지")),
        "[@alice] 12월 8일(화) 오늘의 진행자는 alice 님입니다.",
    ]
    again = console.script("", "--clock", "2026-12-08T13:05+09:00")
    assert (again.code, again.out) == (0, "")


def missed(count: int, days: int, *lines: tuple[str, str]) -> str:
    head = (
        f"[#study] 봇이 꺼져 있던 동안 정해진 게시 {count}건({days}일치)을 하지 못했습니다. "
        "지난 일이라 이제 올리지 않습니다:"
    )
    return "\n".join([head, *(f"  - {day}: {duties}" for day, duties in lines)])
