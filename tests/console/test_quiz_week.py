"""A member learns one review card over five study days, through the console's grammar
(``NAME: /quiz``, ``/quiz answer choice:N``, ``/quiz stats``): ``scripts/quiz_week.txt``
starts on Monday 2026-12-07 08:00 (Asia/Seoul). alice's private answers are compared in
order, and the review post of the day after the fifth recall counts the learned card."""

from __future__ import annotations

from pathlib import Path

from tests.console.conftest import ConsoleRunner

SCRIPT = Path(__file__).parent / "scripts" / "quiz_week.txt"
START = "2026-12-07T08:00+09:00"
CARD = "backward-gradient.vector-output"

QUESTION = (
    "[@alice] 📝 복습 카드 — backward()의 gradient 인자: 벡터-야코비안 곱\n"
    "  출력 y가 벡터일 때 gradient 없이 y.backward()를 부르면 어떻게 될까?\n"
    "  레슨으로 직접 확인하기: `/lesson run id:backward-gradient`\n"
    "  1. 모든 출력의 합에 대한 기울기를 구한다\n"
    "  2. RuntimeError: 스칼라 출력에만 기울기를 암묵적으로 만들 수 있다\n"
    "  3. 첫 번째 출력의 기울기만 구한다\n"
    "  번호를 골라 답하세요: `/quiz answer choice:번호`\n"
    + "\n".join(f"  [button] {n}번 → /quiz answer choice:{n} card:{CARD}" for n in (1, 2, 3))
)


def knew(count: int, day: str) -> str:
    return (
        f"[@alice] 좋아요! 서로 다른 날 {count}/5번째 기억했습니다. 다음 복습: {day}\n"
        "  ✅ 정답입니다: 2. RuntimeError: 스칼라 출력에만 기울기를 암묵적으로 만들 수 있다\n"
        "  답: 오류가 난다. 여러 출력을 어떻게 합칠지 알 수 없으니 v를 gradient로 줘야 한다.\n"
        "  다음 카드: `/quiz`\n"
        "  [button] 다음 카드 → /quiz"
    )


LEARNED = (
    "[@alice] 🎉 서로 다른 날 5번 기억해 냈습니다. 이 카드는 익혔어요!\n"
    "  ✅ 정답입니다: 2. RuntimeError: 스칼라 출력에만 기울기를 암묵적으로 만들 수 있다\n"
    "  답: 오류가 난다. 여러 출력을 어떻게 합칠지 알 수 없으니 v를 gradient로 줘야 한다.\n"
    "  다음 카드: `/quiz`\n"
    "  [button] 다음 카드 → /quiz"
)


def stats(learned: int, progress: int) -> str:
    return (
        f"[@alice] 내 복습 현황: 익힌 카드 {learned}장, 익히는 중 {progress}장, "
        "오늘 복습할 카드 0장 (새 카드 포함 오늘 받을 수 있는 카드 5장), 전체 22장"
    )


EXPECTED = [
    QUESTION,
    "[@alice] 객관식 카드입니다. 1부터 3까지 번호를 골라 `/quiz answer choice:번호`로 답하세요.",
    knew(1, "12월 8일(화)"),
    "[@alice] 먼저 `/quiz`로 카드를 받으세요.",
    QUESTION,
    knew(2, "12월 10일(목)"),
    stats(0, 1),
    QUESTION,
    knew(3, "12월 15일(화)"),
    QUESTION,
    knew(4, "12월 22일(화)"),
    QUESTION,
    LEARNED,
    "[#study] 어제 익힌 복습 카드: 1장",
    stats(1, 0),
]


def test_a_member_learns_one_card_over_five_study_days(console: ConsoleRunner) -> None:
    result = console.run_file(SCRIPT, "--clock", START)
    assert result.code == 0, result.err
    quiz = [
        block
        for block in result.blocks
        if block.startswith("[@alice]") or "복습 카드" in block.split("\n")[0]
    ]
    assert quiz == EXPECTED


def test_the_schedule_survives_a_restart_between_days(console: ConsoleRunner) -> None:
    first = console.script(
        """
        alice: /member join
        alice: /quiz
        alice: /quiz answer choice:2
        """,
        "--clock",
        START,
    )
    assert first.code == 0, first.err
    monday = console.script("alice: /quiz stats\n", "--clock", "2026-12-07T12:00+09:00")
    assert monday.blocks[-1] == (
        "[@alice] 내 복습 현황: 익힌 카드 0장, 익히는 중 1장, 오늘 복습할 카드 0장 "
        "(새 카드 포함 오늘 받을 수 있는 카드 4장), 전체 22장"
    )
    tuesday = console.script(
        "alice: /quiz\nalice: /quiz answer choice:2\n", "--clock", "2026-12-08T10:00+09:00"
    )
    assert tuesday.code == 0, tuesday.err
    alice = [block for block in tuesday.blocks if block.startswith("[@alice]")]
    assert alice == [QUESTION, knew(2, "12월 10일(목)")]
