"""Commands typed in the console: who may do what, and how replies look."""

from __future__ import annotations

import pytest

from bot.adapters.console.options import usage
from bot.commands import COMMANDS
from bot.i18n import text
from tests.console.conftest import ConsoleRunner, Result

MONDAY_8AM = "2026-12-07T08:00+09:00"

BASICS = """\
    # the first speaker becomes the group's admin
    alice: /member join
    bob: /member join
    alice: /schedule set review_time:09:00
    bob: /schedule set review_time:10:00
    alice: /mod today
    alice: /mod swap with:@bob
    bob: /mod accept id:1
    alice: /mod today
    alice: /mod schedule days:abc
    alice: /mod schedule dayz:3
    alice: /member add
    alice: /progress dance note:"tokenizer baseline"
    alice: /mod today please
"""


@pytest.fixture(scope="module")
def basics(tmp_path_factory: pytest.TempPathFactory) -> Result:
    runner = ConsoleRunner(tmp_path_factory.mktemp("basics"))
    return runner.script(BASICS, "--clock", MONDAY_8AM)


def test_script_with_refusals_still_exits_zero(basics: Result) -> None:
    assert basics.code == 0, basics.err
    assert "Traceback" not in basics.err


def test_member_join_is_posted_in_the_channel(basics: Result) -> None:
    assert basics.blocks[:2] == [
        "[#study] alice 님이 스터디에 참여했습니다. 환영합니다!",
        "[#study] bob 님이 스터디에 참여했습니다. 환영합니다!",
    ]


def test_first_user_is_admin_and_others_are_refused(basics: Result) -> None:
    assert basics.blocks[2] == (
        "[@alice] 설정을 바꿨습니다.\n"
        "  채널: study\n"
        "  시간대: Asia/Seoul\n"
        "  스터디 요일: 월, 화, 수, 목, 금\n"
        "  코드 리뷰: 09:00\n"
        "  문제 마감: 19:00 (알림: 60분 전)\n"
        "  언어: ko\n"
        "  공휴일 쉼: 켬\n"
        "  진행 기록 알림: 21:00"
    )
    assert basics.blocks[3] == "[@bob] 관리자만 할 수 있습니다."


def test_mod_today_is_private(basics: Result) -> None:
    assert basics.blocks[4] == "[@alice] 12월 7일(월) 오늘의 진행자는 alice 님입니다."


def test_swap_request_shows_buttons_and_can_be_accepted(basics: Result) -> None:
    assert basics.blocks[5:8] == [
        "[#study] alice 님이 진행 순서 교대를 요청했습니다: "
        "alice 님의 12월 7일(월) ↔ bob 님의 12월 8일(화). "
        "bob 님, 수락하시겠어요? (요청 번호 1)\n"
        "  [button] 수락 → /mod accept id:1\n"
        "  [button] 거절 → /mod decline id:1",
        "[#study] 교대가 확정되었습니다: "
        "alice 님은 12월 8일(화), bob 님은 12월 7일(월)에 진행합니다.",
        "[@alice] 12월 7일(월) 오늘의 진행자는 bob 님입니다.",
    ]


def test_option_problems_are_private_refusals(basics: Result) -> None:
    progress_commands = [
        f"  {usage(c)} — {text('ko', 'cmd.' + '.'.join(c.path) + '.description')}"
        for c in COMMANDS.values()
        if c.path[0] == "progress"
    ]
    assert basics.blocks[8:] == [
        "[@alice] days 옵션 값 'abc'를 이해할 수 없습니다. 정수로 적어 주세요. 예: 7",
        "[@alice] /mod schedule에는 dayz 옵션이 없습니다. 사용할 수 있는 옵션: days",
        "[@alice] /member add에는 user 옵션이 필요합니다.",
        "[@alice] 그런 명령은 없습니다: /progress dance. /progress 다음에 쓸 수 있는 명령:\n"
        + "\n".join(progress_commands),
        "[@alice] `옵션:값` 형식이 아닙니다: 'please'. "
        '공백이 있는 값은 `note:"두 단어"`처럼 따옴표로 감싸세요.',
    ]


def test_locale_en_on_first_start(console: ConsoleRunner) -> None:
    script = """\
        alice: /member join
        alice: /mod today
        bob: /schedule set locale:ko
    """
    result = console.script(script, "--clock", MONDAY_8AM, "--locale", "en")
    assert result.code == 0, result.err
    assert result.blocks == [
        "[#study] alice joined the study group. Welcome!",
        "[@alice] Mon 2026-12-07: today's moderator is alice.",
        "[@bob] Only an admin can do that.",
    ]


def test_channel_name_and_locale_switch(console: ConsoleRunner) -> None:
    script = """\
        alice: /member join
        alice: /schedule set locale:en channel:#general
        alice: /member leave
    """
    result = console.script(script, "--clock", MONDAY_8AM, "--channel", "lab")
    assert result.code == 0, result.err
    assert result.blocks[0] == "[#lab] alice 님이 스터디에 참여했습니다. 환영합니다!"
    assert result.blocks[1].startswith("[@alice] Settings changed.\n  Channel: general\n")
    assert result.blocks[2] == "[#general] alice left the study group. Their history is kept."
