"""/problem through the command tree: picks, solves, lookups and problem autocomplete."""

from __future__ import annotations

from bot.adapters.discord.options import MAX_CHOICES
from tests.discord.fakes import ALICE, BOB, Gateway

URL_12899 = "https://school.programmers.co.kr/learn/courses/30/lessons/12899"
NARA = {"name": "12899 124 나라의 숫자", "value": "12899"}


async def members(gateway: Gateway) -> None:
    """Alice (today's moderator: she joined first) and Bob."""
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)


async def test_moderator_picks_by_id_and_everyone_sees_it(gateway: Gateway) -> None:
    await members(gateway)
    (picked,) = await gateway.command("problem pick", ALICE, problem="12899")
    assert picked.via == "response" and picked.type == 4
    assert not picked.ephemeral
    assert picked.content == (
        "alice 님이 12월 8일(화) 코드 리뷰 문제를 골랐습니다: [12899] 124 나라의 숫자 (Lv2)\n"
        + URL_12899
    )


async def test_pick_by_link_or_title(gateway: Gateway) -> None:
    await members(gateway)
    (picked,) = await gateway.command("problem pick", ALICE, problem=URL_12899)
    assert "[12899] 124 나라의 숫자" in picked.content
    (repicked,) = await gateway.command("problem pick", ALICE, problem="올바른 괄호")
    assert not repicked.ephemeral
    assert "코드 리뷰 문제를 바꿨습니다: [12909] 올바른 괄호" in repicked.content


async def test_only_the_moderator_may_pick(gateway: Gateway) -> None:
    await members(gateway)
    (refused,) = await gateway.command("problem pick", BOB, problem="12899")
    assert refused.ephemeral
    assert refused.content.startswith("문제는 오늘의 진행자나 관리자만 고를 수 있습니다.")

    (forced,) = await gateway.command("problem pick", ALICE, problem="12899", force=True)
    assert forced.ephemeral and forced.content == "관리자만 할 수 있습니다."
    (allowed,) = await gateway.command("problem pick", BOB, admin=True, problem="12899")
    assert not allowed.ephemeral and "bob 님이" in allowed.content


async def test_solved_with_a_language_is_public(gateway: Gateway) -> None:
    await members(gateway)
    await gateway.command("problem pick", ALICE, problem="12899")

    (solved,) = await gateway.command("problem solved", BOB, language="python")
    assert not solved.ephemeral
    assert solved.content == "<@102> 님이 [124 나라의 숫자]를 풀었습니다! (언어: python)"

    link = "https://github.com/bob/study/blob/main/12899.py"
    (again,) = await gateway.command("problem solved", BOB, link=link, problem="12899")
    assert not again.ephemeral
    assert again.content.splitlines() == [
        "<@102> 님의 [124 나라의 숫자] 풀이 기록을 고쳤습니다. (언어: python)",
        f"풀이: {link}",
    ]


async def test_today_history_and_show_are_private(gateway: Gateway) -> None:
    await members(gateway)
    (none_yet,) = await gateway.command("problem today", BOB)
    assert none_yet.ephemeral and none_yet.content.startswith("코드 리뷰 문제:")

    await gateway.command("problem pick", ALICE, problem="12899")
    await gateway.command("problem solved", BOB)

    (today,) = await gateway.command("problem today", BOB)
    assert today.ephemeral
    assert f"다음(12월 8일(화)): [12899] 124 나라의 숫자 (Lv2) {URL_12899}" in today.content

    (history,) = await gateway.command("problem history", BOB, n=5)
    assert history.ephemeral
    assert history.content.splitlines()[0] == "최근 문제 1개:"
    assert "[12899] 124 나라의 숫자 — 푼 사람 1명" in history.content

    (bad,) = await gateway.command("problem history", BOB, n=99)
    assert bad.ephemeral and "50" in bad.content

    (shown,) = await gateway.command("problem show", BOB, problem="나라의 숫자")
    assert shown.ephemeral
    assert shown.content.startswith("[12899] 124 나라의 숫자\n난이도: Lv2")
    assert "푼 사람: <@102>" in shown.content


async def test_reroll_is_for_admins_and_auto_picks(gateway: Gateway) -> None:
    await members(gateway)
    (refused,) = await gateway.command("problem reroll", ALICE)
    assert refused.ephemeral and refused.content == "관리자만 할 수 있습니다."
    (nothing,) = await gateway.command("problem reroll", ALICE, admin=True)
    assert nothing.ephemeral  # no auto-pick to replace yet


async def test_problem_autocomplete_searches_korean_titles(gateway: Gateway) -> None:
    for command in ("problem pick", "problem solved", "problem show"):
        choices = await gateway.autocomplete(command, "problem", "나라")
        assert NARA in choices, command
        assert all("나라" in c["name"] for c in choices)

    assert await gateway.autocomplete("problem pick", "problem", "124 숫자") == [NARA]
    assert await gateway.autocomplete("problem show", "problem", "12899") == [NARA]
    assert await gateway.autocomplete("problem pick", "problem", URL_12899) == [NARA]
    assert await gateway.autocomplete("problem pick", "problem", "없는 문제 제목") == []


async def test_problem_autocomplete_without_input_suggests(gateway: Gateway) -> None:
    suggested = await gateway.autocomplete("problem pick", "problem", "")
    assert len(suggested) == MAX_CHOICES
    ids = [int(c["value"]) for c in suggested]
    assert ids == sorted(ids)  # unused algorithm problems by number
    assert all(c["name"].startswith(c["value"] + " ") for c in suggested)

    await members(gateway)
    await gateway.command("problem pick", ALICE, problem=suggested[0]["value"])
    after = await gateway.autocomplete("problem pick", "problem", "")
    assert suggested[0] not in after  # the group has it already
    assert after[: MAX_CHOICES - 1] == suggested[1:]

    current = await gateway.autocomplete("problem solved", "problem", "", BOB)
    assert current[0] == suggested[0]  # the problem being worked on comes first
    assert len(current) == MAX_CHOICES
    assert await gateway.autocomplete("problem show", "problem", "") == current
