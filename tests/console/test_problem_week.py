"""A study week with the daily Programmers problem, run as a user would run the console.

``scripts/problem_week.txt`` starts on Monday 2026-12-21 08:00 (Asia/Seoul). Friday 12-25
is a Korean public holiday (기독탄신일), so Thursday's deadline is for Monday 12-28. The
moderators rotate alice (the admin), bob, carol, alice, then bob on 12-28. Every block the
console prints is compared, in order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.console.conftest import ConsoleRunner, Result
from tests.console.posts import (
    announce,
    auto_pick,
    joined,
    picked,
    problem,
    reminder,
    review_post,
    thread_post,
    url,
)

SCRIPT = Path(__file__).parent / "scripts" / "problem_week.txt"
WEEK_START = "2026-12-21T08:00+09:00"

MON, TUE, WED, THU, NEXT_MON = (
    "12월 21일(월)",
    "12월 22일(화)",
    "12월 23일(수)",
    "12월 24일(목)",
    "12월 28일(월)",
)
SQL_WARNING = "  주의: SQL 문제입니다 (MySQL/Oracle로 풀며 파이썬으로는 풀 수 없습니다)."
ADMIN_ONLY = "관리자만 할 수 있습니다."


def show_12899(*days: str) -> str:
    return (
        f"[@carol] [12899] 124 나라의 숫자\n  난이도: Lv2\n  종류: 알고리즘\n  {url(12899)}\n"
        f"  이 그룹이 리뷰한 날: {', '.join(days)}\n  푼 사람: bob, carol"
    )


MONDAY = [
    joined("alice"),
    joined("bob"),
    joined("carol"),
    f"[@alice] 코드 리뷰 문제:\n  오늘({MON}) 리뷰할 문제는 정해져 있지 않습니다.\n"
    f"  다음({TUE}): 아직 고르지 않았습니다 (마감 19:00).",
    review_post(MON, "alice"),  # the group is new: no problem for today
    "[@bob] 문제는 오늘의 진행자나 관리자만 고를 수 있습니다. `/mod today`로 진행자를 확인하세요.",
    picked("alice", TUE, 12899),  # by id, announced at once
    f"[@alice] 코드 리뷰 문제:\n  오늘({MON}) 리뷰할 문제는 정해져 있지 않습니다.\n"
    f"  다음({TUE}): {problem(12899)} {url(12899)}",
    "[#study] bob 님이 [124 나라의 숫자]를 풀었습니다! (언어: python)\n"
    "  풀이: https://github.com/bob/algo/blob/main/124.py",
    "[#study] carol 님이 [124 나라의 숫자]를 풀었습니다! (언어: python)",
    # a problem is picked: no 18:00 reminder; the 19:00 deadline announces it
    announce(TUE, 12899),
]

TUESDAY = [
    review_post(TUE, "bob", 12899),
    thread_post("2026-12-22", 12899, "bob", "carol"),
    f"[@bob] [124 나라의 숫자]는 {TUE}에 이미 리뷰한 문제입니다. 다른 문제를 골라 주세요.",
    picked("bob", WED, 42587),  # by URL
    show_12899(TUE),
    announce(WED, 42587),
]

WEDNESDAY = [
    review_post(WED, "carol", 42587),
    thread_post("2026-12-23", 42587),
    "[@carol] '타일링'과 맞는 문제가 여러 개입니다: "
    "12900 2 x n 타일링, 12902 3 x n 타일링. 번호로 골라 주세요.",
    picked("carol", THU, 43165),  # by part of the Korean title
    picked("carol", THU, 59046, changed=True) + "\n" + SQL_WARNING,
    f"[@alice] [124 나라의 숫자]는 {TUE}에 이미 리뷰한 문제입니다. "
    "그래도 고르려면 `force` 옵션을 켜고 다시 고르세요.",
    picked("alice", THU, 12899, changed=True),
    announce(THU, 12899),
]

THURSDAY = [
    review_post(THU, "alice", 12899),
    thread_post("2026-12-24", 12899, "bob", "carol"),
    f"[@bob] {ADMIN_ONLY}",  # 17:00: nothing to re-roll, and bob is no admin anyway
    reminder("alice", NEXT_MON),  # 18:00: nobody picked; the next study day is Monday
    auto_pick(NEXT_MON, 132265),  # 19:00
    f"[@bob] {ADMIN_ONLY}",
    f"[#study] alice 님이 {NEXT_MON} 자동 선택 문제(롤케이크 자르기)를 다시 뽑았습니다: "
    f"{problem(42747)}\n  {url(42747)}",
    f"[@alice] 코드 리뷰 문제:\n  오늘({THU}): {problem(12899)} {url(12899)}\n"
    f"  다음({NEXT_MON}): {problem(42747)} {url(42747)}",
]

NEXT_MONDAY = [
    "[#study] alice 님이 [H-Index]를 풀었습니다! (언어: kotlin)\n"
    "  풀이: https://gist.github.com/alice/abc123",
    review_post(NEXT_MON, "bob", 42747),
    thread_post("2026-12-28", 42747, "alice"),
    "[@alice] 최근 문제 4개:\n"
    f"  {NEXT_MON} [42747] H-Index (자동 선택) — 푼 사람 1명\n"
    f"  {THU} [12899] 124 나라의 숫자 — 푼 사람 2명\n"
    f"  {WED} [42587] 프로세스 — 푼 사람 0명\n"
    f"  {TUE} [12899] 124 나라의 숫자 — 푼 사람 2명",
    "[@alice] 최근 문제 2개:\n"
    f"  {NEXT_MON} [42747] H-Index (자동 선택) — 푼 사람 1명\n"
    f"  {THU} [12899] 124 나라의 숫자 — 푼 사람 2명",
    show_12899(TUE, THU),
]

DAYS = [MONDAY, TUESDAY, WEDNESDAY, THURSDAY, NEXT_MONDAY]


def section(result: Result, day: list[str]) -> list[str]:
    """The blocks where ``day``'s expected blocks should be, by the days before it."""
    start = sum(len(earlier) for earlier in DAYS[: DAYS.index(day)])
    return result.blocks[start : start + len(day)]


@pytest.fixture(scope="module")
def week_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Result]:
    """The script twice, each on a fresh database; both at once, to save time."""
    runners = [ConsoleRunner(tmp_path_factory.mktemp(name)) for name in ("week", "week-again")]
    with ThreadPoolExecutor(len(runners)) as pool:
        return list(
            pool.map(lambda runner: runner.run_file(SCRIPT, "--clock", WEEK_START), runners)
        )


@pytest.fixture(scope="module")
def week(week_runs: list[Result]) -> Result:
    return week_runs[0]


@pytest.fixture(scope="module")
def rerun(week_runs: list[Result]) -> Result:
    return week_runs[1]


def test_the_week_script_runs_cleanly(week: Result) -> None:
    assert week.code == 0, week.err
    assert week.err == ""


def test_monday_pick_by_id_and_solved_before_the_review(week: Result) -> None:
    assert section(week, MONDAY) == MONDAY


def test_tuesday_review_thread_lists_solvers_and_repeat_is_refused(week: Result) -> None:
    assert section(week, TUESDAY) == TUESDAY


def test_wednesday_title_search_sql_warning_and_admin_force(week: Result) -> None:
    assert section(week, WEDNESDAY) == WEDNESDAY


def test_thursday_reminder_auto_pick_for_monday_and_reroll(week: Result) -> None:
    assert section(week, THURSDAY) == THURSDAY


def test_next_monday_review_history_and_show(week: Result) -> None:
    assert section(week, NEXT_MONDAY) == NEXT_MONDAY


def test_every_block_is_expected_and_nothing_on_the_holiday_or_weekend(week: Result) -> None:
    assert week.blocks == [block for day in DAYS for block in day]
    for day in ("12월 25일", "12월 26일", "12월 27일", "12월 29일"):
        assert day not in week.out


def test_auto_pick_is_the_same_on_a_fresh_database(week: Result, rerun: Result) -> None:
    assert rerun.code == 0, rerun.err
    assert auto_pick(NEXT_MON, 132265) in rerun.blocks
    assert rerun.out == week.out


# --- English, with the reminder moved to 30 minutes before the deadline -----------------

ENGLISH_SCRIPT = """\
    alice: /member join
    bob: /member join
    alice: /schedule set reminder:30
    bob: /problem pick problem:42587
    :time 2026-12-24 18:20
    alice: /problem today
    :time 2026-12-24 19:30
    bob: /problem solved language:c++
    :time 2026-12-28 10:00
    alice: /problem pick problem:"엘라 찾기"
    bob: /problem pick problem:42587
    alice: /schedule show
    alice: /problem history
"""

EN_URL_17680 = url(17680)
EN_SETTINGS = (
    "  Channel: study\n"
    "  Timezone: Asia/Seoul\n"
    "  Study days: Mon, Tue, Wed, Thu, Fri\n"
    "  Code review: 09:30\n"
    "  Problem deadline: 19:00 (reminder 30 min before)\n"
    "  Language: en\n"
    "  Skip public holidays: on\n"
    "  Progress reminder: 21:00"
)


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Result:
    runner = ConsoleRunner(tmp_path_factory.mktemp("english"))
    return runner.script(ENGLISH_SCRIPT, "--clock", "2026-12-24T08:00+09:00", "--locale", "en")


def test_english_thursday_to_monday(english: Result) -> None:
    assert english.code == 0, english.err
    assert english.blocks == [
        "[#study] alice joined the study group. Welcome!",
        "[#study] bob joined the study group. Welcome!",
        f"[@alice] Settings changed.\n{EN_SETTINGS}",
        "[@bob] Only today's moderator or an admin can pick the problem. See `/mod today`.",
        "[#study] Thu 2026-12-24: time for code review! Today's moderator is alice.\n"
        "  No problem was set for today.\n"
        "  Share your solutions and review each other's code.",
        # 18:20: the reminder has not come yet (18:30 now)
        "[@alice] Code-review problems:\n  Today (Thu 2026-12-24) has no problem to review.\n"
        "  Next (Mon 2026-12-28): not picked yet (deadline 19:00).",
        "[#study] alice, please pick the code-review problem for the next study day "
        "(Mon 2026-12-28) by 19:00. `/problem pick problem:id, link or title`",
        "[#study] Nobody picked a problem for Mon 2026-12-28 by the deadline, "
        f"so the bot picked one: [17680] [1차] 캐시 (Lv2)\n  {EN_URL_17680}",
        "[#study] bob solved [[1차] 캐시]! (language: cpp)",
        # Friday 12-25 (holiday) and the weekend: nothing
        "[#study] Mon 2026-12-28: time for code review! Today's moderator is bob.\n"
        f"  Today's problem: [17680] [1차] 캐시 (Lv2) {EN_URL_17680}\n"
        "  Share your solutions and review each other's code.",
        "[#study > 2026-12-28 review] "
        "Share your solutions to [17680] [1차] 캐시 in this thread.\n"
        "  Solved by: bob",
        "[#study] alice picked the code-review problem for Tue 2026-12-29: "
        f"[59046] 루시와 엘라 찾기 (Lv2)\n  {url(59046)}\n"
        "  Note: this is an SQL problem (solved in MySQL/Oracle, not in Python).",
        "[#study] bob changed the code-review problem for Tue 2026-12-29: "
        f"[42587] 프로세스 (Lv2)\n  {url(42587)}",
        f"[@alice] Study settings\n{EN_SETTINGS}",
        "[@alice] The last 2 problems:\n"
        "  Tue 2026-12-29 [42587] 프로세스 — solved by 0\n"
        "  Mon 2026-12-28 [17680] [1차] 캐시 (auto-picked) — solved by 1",
    ]


# --- a restart across the deadline ------------------------------------------------------


def test_missed_deadline_is_caught_up_once_at_start_up(console: ConsoleRunner) -> None:
    before = console.script(
        """\
        alice: /member join
        bob: /member join
        :time 2026-12-21 18:30
        """,
        "--clock",
        "2026-12-21T17:00+09:00",
    )
    assert before.code == 0, before.err
    assert before.blocks == [joined("alice"), joined("bob"), reminder("alice", TUE)]

    # down at 19:00; back at 20:00, within the grace window: the auto-pick, once
    restart = console.script("", "--clock", "2026-12-21T20:00+09:00")
    assert restart.code == 0, restart.err
    assert restart.blocks == [auto_pick(TUE, 17686)]

    again = console.script("alice: /problem history\n", "--clock", "2026-12-21T20:30+09:00")
    assert again.code == 0, again.err
    assert again.blocks == [
        f"[@alice] 최근 문제 1개:\n  {TUE} [17686] [3차] 파일명 정렬 (자동 선택) — 푼 사람 0명"
    ]
