"""A week of competition progress, run as a user would run the console.

``scripts/progress_week.txt`` starts on Monday 2026-12-21 08:00 (Asia/Seoul): members log
what they did; at 21:00 the bot names only those who have not logged (carol chose a
private reminder: ``[@carol]``; bob is away on Wednesday); each 09:30 review post is
followed by the digest of the study day before; Friday 12-25 is a public holiday, so
Monday's digest covers Thursday to Sunday. Entries are edited and deleted, the
leaderboard, the group's week with its two charts and the CSV exports end the week.
Every block the console prints is compared, in order.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.console.conftest import ConsoleRunner, Result
from tests.console.posts import auto_pick, joined, review_post, thread_post

SCRIPT = Path(__file__).parent / "scripts" / "progress_week.txt"
WEEK_START = "2026-12-21T08:00+09:00"
ZW = "\u200b"  # what keeps "@everyone" in a note from pinging anyone

MON, TUE, WED, THU, SAT, NEXT_MON = (
    "12월 21일(월)",
    "12월 22일(화)",
    "12월 23일(수)",
    "12월 24일(목)",
    "12월 26일(토)",
    "12월 28일(월)",
)
COMPETITION = "모두의 말뭉치 2022 속성 기반 감성 분석"
LOG_HINT = "`/progress log note:오늘 한 일`로 남겨 주세요."


def logged(name: str, entry: int, note: str, *details: str, streak: int) -> str:
    lines = [f"[#study] {name} 님의 진행 기록 #{entry}", f"  한 일: {note}"]
    lines += [f"  {line}" for line in details]
    lines.append(f"  연속 기록: {streak}일")
    return "\n".join(lines)


def score(value: str) -> str:
    return f"점수: {value} (과제 absa, 지표 micro_f1)"


def group_best(value: str) -> str:
    return f"🎉 absa 그룹 최고 점수 갱신: {value}"


def submitted(count: int) -> str:
    return f"제출함 — 오늘 {count}회째 (하루 제한: 2)"


def reminder(*names: str, day: str) -> str:
    return f"[#study] {', '.join(names)} 님, 오늘({day}) 진행 기록이 아직 없습니다. {LOG_HINT}"


def private_reminder(name: str, day: str) -> str:
    return (
        f"[@{name}] 오늘({day}) 진행 기록이 아직 없습니다. {LOG_HINT} "
        "(알림 방식은 `/progress reminder`에서 켬, 끔, 개인 메시지 중에 고를 수 있습니다.)"
    )


def digest(title: str, *lines: str, days_left: int) -> str:
    body = [f"[#study] {title}", *(f"  {line}" for line in lines)]
    body.append(f"  대회 마감(12월 31일(목))까지 {days_left}일 남았습니다.")
    return "\n".join(body)


SETUP = [
    joined("alice"),
    joined("bob"),
    joined("carol"),
    "[@alice] 설정을 바꿨습니다.\n"
    "  채널: study\n"
    "  시간대: Asia/Seoul\n"
    "  스터디 요일: 월, 화, 수, 목, 금\n"
    "  코드 리뷰: 09:30\n"
    "  문제 마감: 19:00 (알림: 0분 전)\n"
    "  언어: ko\n"
    "  공휴일 쉼: 켬\n"
    "  진행 기록 알림: 21:00",
    f"[@alice] 대회 설정을 바꿨습니다.\n  대회: {COMPETITION}\n  마감: 12월 31일(목) (D-10)\n"
    "  하루 제출 제한: 2\n"
    "  과제가 아직 없습니다. 관리자가 `/competition task name:과제 metric:지표`로 추가합니다.",
    "[@alice] 과제 absa를 추가했습니다: micro_f1, 높을수록 좋음.",
    "[@bob] 관리자만 할 수 있습니다.",
    f"[@alice] 대회: {COMPETITION}\n  마감: 12월 31일(목) (D-10)\n  하루 제출 제한: 2\n"
    "  과제 absa: micro_f1 (높을수록 좋음)",
    "[@carol] 진행 기록 알림을 바꿨습니다: 개인 메시지로 받기",
]

MONDAY = [
    review_post(MON, "alice"),  # the group began this morning: nothing to digest yet
    auto_pick(TUE, 17686),
    logged(
        "alice",
        1,
        "베이스라인 재현",
        score("49.85"),  # given as 0.4985: kept on the leaderboard's ×100 scale
        "모델: klue-roberta-base",
        "재현 정보: seed 42, commit a1b2c3",
        submitted(1),
        group_best("49.85"),
        streak=1,
    ),
    logged("bob", 2, "데이터 탐색: 카테고리 25개 분포 확인", streak=1),
    private_reminder("carol", MON),  # 21:00: only carol has not logged
]

TUESDAY = [
    review_post(TUE, "bob", 17686),
    thread_post("2026-12-22", 17686),
    digest(
        f"{MON} 진행 기록 요약 (2건)",
        f"#1 {MON} alice: 베이스라인 재현 (absa micro_f1 49.85, 제출)",
        f"#2 {MON} bob: 데이터 탐색: 카테고리 25개 분포 확인",
        f"{MON}에 기록하지 않은 멤버: carol",
        "새 최고 점수 absa (micro_f1): 49.85 — alice",
        days_left=9,
    ),
    logged(
        "bob",
        3,
        f"속성 분류 모델 학습 @{ZW}everyone",
        score("52.3"),  # the only task is the default
        "모델: kobert + focal loss",
        group_best("52.3"),
        streak=2,
    ),
    f"[@bob] 기록 #3 ({TUE})을 고쳤습니다.\n  한 일: 속성 분류 모델 학습 @{ZW}everyone\n"
    f"  {score('53.1')}\n  모델: kobert + focal loss",
    "[@carol] 기록 #3은 다른 멤버의 기록입니다. 자기 기록만 고치거나 지울 수 있습니다.",
    "[@alice] micro_f1 점수 101은 범위(0 ~ 100)를 벗어났습니다.",
    "[@alice] 'wic'는 이 대회의 과제가 아닙니다. 과제: absa",
    "[@alice] score 옵션 값 'abc'를 이해할 수 없습니다. 66.79처럼 숫자로 적어 주세요.",
    "[@alice] score 옵션 값 'nan'을 이해할 수 없습니다. 66.79처럼 숫자로 적어 주세요.",
    logged("carol", 4, "오류 분석: 중립 극성 혼동", "과제: absa", streak=1),
    f"[@bob] {WED}부터 {WED}까지 부재로 등록했습니다. 이 기간에는 진행자로 배정되지 않습니다.",
    "[#study] 12월 23일(수) 코드 리뷰 문제를 마감까지 고르지 않아 자동으로 골랐습니다: "
    "[340211] [PCCP 기출문제] 3번 / 충돌위험 찾기 (Lv2)\n"
    "  https://school.programmers.co.kr/learn/courses/30/lessons/340211",
    reminder("alice", day=TUE),  # 21:00: bob and carol logged
]

PCCP = "[340211] [PCCP 기출문제] 3번 / 충돌위험 찾기"
WEDNESDAY = [
    f"[#study] {WED} 코드 리뷰 시간입니다! 오늘의 진행자는 carol 님입니다.\n"
    f"  오늘의 문제: {PCCP} (Lv2) "
    "https://school.programmers.co.kr/learn/courses/30/lessons/340211\n"
    "  풀이를 공유하고 서로의 코드를 리뷰해 주세요.",
    f"[#study > 2026-12-23 리뷰] {PCCP} 풀이를 이 스레드에 공유해 주세요.\n"
    "  아직 푼 사람이 없습니다. `/problem solved`로 알려 주세요.",
    digest(
        f"{TUE} 진행 기록 요약 (2건)",
        f"#3 {TUE} bob: 속성 분류 모델 학습 @{ZW}everyone (absa micro_f1 53.1)",
        f"#4 {TUE} carol: 오류 분석: 중립 극성 혼동 (absa)",
        f"{TUE}에 기록하지 않은 멤버: alice",
        "새 최고 점수 absa (micro_f1): 53.1 — bob",
        days_left=8,
    ),
    auto_pick(THU, 17679),
    logged("alice", 5, "앙상블 3종", score("55.2"), submitted(1), group_best("55.2"), streak=1),
    logged("alice", 6, "앙상블 5종", score("57.9"), submitted(2), group_best("57.9"), streak=1),
    logged(
        "alice",
        7,
        "임계값 조정",
        score("57.1"),
        "제출함 — 오늘 3회째로 하루 제한(2회)을 넘었습니다.",
        streak=1,
    ),
    f"[@alice] 기록 #7 ({WED}, 임계값 조정)을 지웠습니다.",
    private_reminder("carol", WED),  # 21:00: bob is away, alice logged
]

THURSDAY = [
    review_post(THU, "alice", 17679),
    thread_post("2026-12-24", 17679),
    digest(
        f"{WED} 진행 기록 요약 (2건)",
        f"#5 {WED} alice: 앙상블 3종 (absa micro_f1 55.2, 제출)",
        f"#6 {WED} alice: 앙상블 5종 (absa micro_f1 57.9, 제출)",
        f"{WED}에 기록하지 않은 멤버: carol",
        "새 최고 점수 absa (micro_f1): 57.9 — alice",
        days_left=7,
    ),
    auto_pick(NEXT_MON, 42747),  # Friday is a holiday
    logged("alice", 8, "논문 정리", streak=2),
    logged(
        "bob",
        9,
        "R-drop 적용",
        score("58.4"),
        "모델: kobert + r-drop",
        submitted(1),
        group_best("58.4"),
        streak=3,  # Monday, Tuesday, (away Wednesday), Thursday
    ),
    logged("carol", 10, "데이터 증강", score("56.1"), "absa 개인 최고 점수 갱신: 56.1", streak=1),
    # 21:00: everyone logged, so the reminder stays quiet
]

WEEKEND = [
    logged(
        "carol",
        11,
        "주말에 증강 데이터 재학습",
        score("59.05"),
        group_best("59.05"),
        streak=1,  # a Saturday entry does not count
    ),
]

NEXT_MONDAY = [
    review_post(NEXT_MON, "bob", 42747),
    thread_post("2026-12-28", 42747),
    digest(
        "12월 24일(목) ~ 12월 27일(일) 진행 기록 요약 (4건)",
        f"#8 {THU} alice: 논문 정리",
        f"#9 {THU} bob: R-drop 적용 (absa micro_f1 58.4, 제출)",
        f"#10 {THU} carol: 데이터 증강 (absa micro_f1 56.1)",
        f"#11 {SAT} carol: 주말에 증강 데이터 재학습 (absa micro_f1 59.05)",
        f"{THU}에는 모두 기록했습니다! 👏",
        "새 최고 점수 absa (micro_f1): 59.05 — carol",
        days_left=3,
    ),
    "[@alice] alice 님의 진행 기록: 연속 2일, 전체 4건\n"  # Wed, Thu (the holiday skipped)
    "  오늘 제출: 0회 (하루 제한: 2)\n"
    "  과제별 최고 점수:\n"
    f"  absa (micro_f1): 57.9 — {WED}\n"
    "  최근 기록:\n"
    f"  #8 {THU} 논문 정리\n"
    f"  #6 {WED} 앙상블 5종 (absa micro_f1 57.9, 제출)\n"
    f"  #5 {WED} 앙상블 3종 (absa micro_f1 55.2, 제출)\n"
    f"  #1 {MON} 베이스라인 재현 (absa micro_f1 49.85, 제출)",
    "[@carol] 리더보드 (멤버별 최고 점수)\n"
    "  [absa] micro_f1, 높을수록 좋음\n"
    f"  1. carol 59.05 ({SAT})\n"
    f"  2. bob 58.4 — kobert + r-drop ({THU})\n"
    f"  3. alice 57.9 ({WED})",
    f"[@bob] {TUE} ~ {NEXT_MON} 진행 기록 8건 (멤버 3명)\n"
    "  alice: 3건, 스터디일 3일 중 2일 기록\n"
    "  bob: 2건, 스터디일 2일 중 2일 기록\n"
    "  carol: 3건, 스터디일 3일 중 2일 기록\n"
    f"  최고 점수 absa (micro_f1): 59.05 — carol, {SAT}\n"
    "  기록:\n"
    f"  #3 {TUE} bob: 속성 분류 모델 학습 @{ZW}everyone (absa micro_f1 53.1)\n"
    f"  #4 {TUE} carol: 오류 분석: 중립 극성 혼동 (absa)\n"
    f"  #5 {WED} alice: 앙상블 3종 (absa micro_f1 55.2, 제출)\n"
    f"  #6 {WED} alice: 앙상블 5종 (absa micro_f1 57.9, 제출)\n"
    f"  #8 {THU} alice: 논문 정리\n"
    f"  #9 {THU} bob: R-drop 적용 (absa micro_f1 58.4, 제출)\n"
    f"  #10 {THU} carol: 데이터 증강 (absa micro_f1 56.1)\n"
    f"  #11 {SAT} carol: 주말에 증강 데이터 재학습 (absa micro_f1 59.05)\n"
    "  [file] FILES/progress-entries-2026-12-28.png\n"
    "  [file] FILES/progress-scores-2026-12-28.png",
    "[@bob] 내 진행 기록 3건을 CSV로 내보냈습니다.\n  [file] FILES/my-progress-2026-12-28.csv",
    "[@alice] bob 님의 진행 기록 3건과 알림 설정을 지웠습니다. "
    "내보내기에도 더 이상 나오지 않습니다.",
    "[@alice] 그룹의 진행 기록 7건을 CSV로 내보냈습니다.\n  [file] FILES/progress-2026-12-28.csv",
]

DAYS = [SETUP, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, WEEKEND, NEXT_MONDAY]


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    runner = ConsoleRunner(tmp_path_factory.mktemp("progress-week"))
    return runner.run_file(SCRIPT, "--clock", WEEK_START), runner.files


def blocks(week: tuple[Result, Path]) -> list[str]:
    result, files = week
    return [block.replace(str(files), "FILES") for block in result.blocks]


def section(week: tuple[Result, Path], day: list[str]) -> list[str]:
    start = sum(len(earlier) for earlier in DAYS[: DAYS.index(day)])
    return blocks(week)[start : start + len(day)]


def test_the_week_script_runs_cleanly(week: tuple[Result, Path]) -> None:
    result, _ = week
    assert result.code == 0, result.err
    assert result.err == ""


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(SETUP, id="set-up-competition-and-private-reminder-choice"),
        pytest.param(MONDAY, id="monday-logs-and-the-private-reminder"),
        pytest.param(TUESDAY, id="tuesday-digest-edit-refusals-and-the-channel-reminder"),
        pytest.param(WEDNESDAY, id="wednesday-limit-warning-delete-and-away-member-spared"),
        pytest.param(THURSDAY, id="thursday-everyone-logged-so-no-reminder"),
        pytest.param(WEEKEND, id="weekend-log-with-a-group-best"),
        pytest.param(NEXT_MONDAY, id="next-monday-digest-me-leaderboard-group-and-exports"),
    ],
)
def test_each_day_shows_what_is_expected(week: tuple[Result, Path], day: list[str]) -> None:
    assert section(week, day) == day


def test_every_block_is_expected_and_nothing_on_the_holiday(week: tuple[Result, Path]) -> None:
    assert blocks(week) == [block for day in DAYS for block in day]
    result, _ = week
    assert "오늘(12월 25일" not in result.out and "오늘(12월 24일" not in result.out


def test_the_files_are_charts_and_csv_without_the_forgotten_member(
    week: tuple[Result, Path],
) -> None:
    _, files = week
    for name in ("progress-entries-2026-12-28.png", "progress-scores-2026-12-28.png"):
        data = (files / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name
    mine = list(
        csv.DictReader(io.StringIO((files / "my-progress-2026-12-28.csv").read_text("utf-8-sig")))
    )
    assert [row["note"] for row in mine] == [
        "데이터 탐색: 카테고리 25개 분포 확인",
        f"속성 분류 모델 학습 @{ZW}everyone",
        "R-drop 적용",
    ]
    everyone = list(
        csv.DictReader(io.StringIO((files / "progress-2026-12-28.csv").read_text("utf-8-sig")))
    )
    assert [(row["date"], row["member"], row["score"]) for row in everyone] == [
        ("2026-12-21", "alice", "49.85"),
        ("2026-12-22", "carol", ""),
        ("2026-12-23", "alice", "55.2"),
        ("2026-12-23", "alice", "57.9"),
        ("2026-12-24", "alice", ""),
        ("2026-12-24", "carol", "56.1"),
        ("2026-12-26", "carol", "59.05"),
    ]
    assert everyone[0]["repro"] == "seed 42, commit a1b2c3"
    assert everyone[0]["created_at"] == "2026-12-21T20:00:00+09:00"


# --- English: the private reminder, the digest and the limit ---------------------------------

ENGLISH_SCRIPT = """\
    alice: /member join
    bob: /member join
    alice: /competition task name:absa metric:micro_f1
    alice: /competition set deadline:2026-12-09 limit:1
    bob: /progress reminder mode:dm
    alice: /progress log note:"baseline" score:0.5 submitted:yes
    alice: /progress log note:"again" score:0.52 submitted:yes
    :time 2026-12-08 09:30
"""


def test_english_evening_and_morning(console: ConsoleRunner) -> None:
    result = console.script(ENGLISH_SCRIPT, "--clock", "2026-12-07T20:00+09:00", "--locale", "en")
    assert result.code == 0, result.err
    assert result.blocks == [
        "[#study] alice joined the study group. Welcome!",
        "[#study] bob joined the study group. Welcome!",
        "[@alice] Added task absa: micro_f1, higher is better.",
        "[@alice] Competition settings changed.\n  Competition: -\n"
        "  Deadline: Wed 2026-12-09 (D-2)\n  Daily submission limit: 1\n"
        "  Task absa: micro_f1 (higher is better)",
        "[@bob] Your progress reminder is now: a private message",
        "[#study] alice's progress entry #1\n  Worked on: baseline\n"
        "  Score: 50 (task absa, metric micro_f1)\n  Submitted — 1 today (daily limit: 1)\n"
        "  🎉 New group best for absa: 50\n  Streak: 1 study day in a row",
        "[#study] alice's progress entry #2\n  Worked on: again\n"
        "  Score: 52 (task absa, metric micro_f1)\n"
        "  Submitted — 2 today, over the daily limit of 1.\n"
        "  🎉 New group best for absa: 52\n  Streak: 1 study day in a row",
        "[@bob] No progress logged today (Mon 2026-12-07) yet. "
        "Tell us with `/progress log note:what you did`. "
        "(You can switch this reminder on, off or to a private message with `/progress reminder`.)",
        "[#study] Tue 2026-12-08: time for code review! Today's moderator is alice.\n"
        "  No problem was set for today.\n"
        "  Share your solutions and review each other's code.",
        "[#study] Progress digest for Mon 2026-12-07: 2 entries\n"
        "  #1 Mon 2026-12-07 alice: baseline (absa micro_f1 50, submitted)\n"
        "  #2 Mon 2026-12-07 alice: again (absa micro_f1 52, submitted)\n"
        "  Did not log on Mon 2026-12-07: bob\n"
        "  New best absa (micro_f1): 52 — alice\n"
        "  Days left until the competition deadline (Wed 2026-12-09): 1",
    ]
