"""The console blocks of the daily-problem routine, written out for exact comparisons.

Korean; days are written as the bot writes them ("12월 22일(화)"), thread names by ISO
date ("2026-12-22 리뷰").
"""

from __future__ import annotations

URL = "https://school.programmers.co.kr/learn/courses/30/lessons/{}"
TITLES = {
    12899: "124 나라의 숫자",
    12902: "3 x n 타일링",
    17679: "[1차] 프렌즈4블록",
    17680: "[1차] 캐시",
    17686: "[3차] 파일명 정렬",
    42584: "주식가격",
    42587: "프로세스",
    42747: "H-Index",
    43165: "타겟 넘버",
    59046: "루시와 엘라 찾기",
    68645: "삼각 달팽이",
    76502: "괄호 회전하기",
    132265: "롤케이크 자르기",
    147354: "테이블 해시 함수",
    160585: "혼자서 하는 틱택토",
}


def url(pid: int) -> str:
    return URL.format(pid)


def problem(pid: int) -> str:
    return f"[{pid}] {TITLES[pid]} (Lv2)"


# --- Korean ---------------------------------------------------------------------------

REVIEW_HINT = "풀이를 공유하고 서로의 코드를 리뷰해 주세요."


def review_post(day: str, name: str, pid: int | None = None) -> str:
    line = f"오늘의 문제: {problem(pid)} {url(pid)}" if pid else "오늘은 정해진 문제가 없습니다."
    return (
        f"[#study] {day} 코드 리뷰 시간입니다! 오늘의 진행자는 {name} 님입니다.\n"
        f"  {line}\n  {REVIEW_HINT}"
    )


def thread_post(iso_day: str, pid: int, *solvers: str) -> str:
    """The second review post, in the day's thread."""
    who = (
        f"푼 사람: {', '.join(solvers)}"
        if solvers
        else "아직 푼 사람이 없습니다. `/problem solved`로 알려 주세요."
    )
    first = f"[#study > {iso_day} 리뷰] [{pid}] {TITLES[pid]} 풀이를 이 스레드에 공유해 주세요."
    return f"{first}\n  {who}"


def reminder(name: str, day: str) -> str:
    return (
        f"[#study] {name} 님, 다음 스터디({day})의 코드 리뷰 문제를 19:00까지 골라 주세요. "
        "`/problem pick problem:번호·링크·제목`"
    )


def auto_pick(day: str, pid: int) -> str:
    return (
        f"[#study] {day} 코드 리뷰 문제를 마감까지 고르지 않아 자동으로 골랐습니다: "
        f"{problem(pid)}\n  {url(pid)}"
    )


def announce(day: str, pid: int) -> str:
    return f"[#study] {day} 코드 리뷰 문제: {problem(pid)}\n  {url(pid)}"


def picked(name: str, day: str, pid: int, *, changed: bool = False) -> str:
    verb = "바꿨습니다" if changed else "골랐습니다"
    return f"[#study] {name} 님이 {day} 코드 리뷰 문제를 {verb}: {problem(pid)}\n  {url(pid)}"


def joined(name: str) -> str:
    return f"[#study] {name} 님이 스터디에 참여했습니다. 환영합니다!"
