"""The review quiz on Discord: real interaction payloads through the tree, and buttons
pressed as the gateway delivers them, also on a freshly built bot (a restart)."""

from __future__ import annotations

from sqlalchemy import select

from bot.config import Settings
from bot.core import Core
from db.models import QuizCard
from tests.discord.fakes import ALICE, BOB, Gateway, Recorder, Sent, installed_bot

FIRST = "backward-gradient.vector-output"
SECOND = "backward-gradient.what-it-computes"


def recalls(core: Core, card_id: str) -> list[int]:
    with core.services.transaction() as session:
        return list(session.scalars(select(QuizCard.recalls).where(QuizCard.card_id == card_id)))


async def first_card(gateway: Gateway) -> Sent:
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    (card,) = await gateway.command("quiz", ALICE)
    return card


async def test_quiz_next_deals_a_private_card_with_persistent_choice_buttons(
    gateway: Gateway,
) -> None:
    card = await first_card(gateway)
    assert card.ephemeral
    assert card.content.startswith("📝 복습 카드 — backward()의 gradient 인자")
    assert "`/레슨 실행 아이디:backward-gradient`" in card.content or "/레슨 실행" in card.content
    assert card.custom_ids == [f"studybot:quiz:101:c{n}:{FIRST}" for n in (1, 2, 3)]
    labels = [c["label"] for c in card.data["components"][0]["components"]]
    assert labels == ["1번", "2번", "3번"]


async def test_a_choice_pressed_after_a_restart_is_graded(
    gateway: Gateway, core: Core, settings: Settings, recorder: Recorder
) -> None:
    card = await first_card(gateway)
    restarted = Gateway(await installed_bot(core, settings), recorder)
    try:
        (answer,) = await restarted.press(card, f"studybot:quiz:101:c2:{FIRST}", ALICE)
    finally:
        restarted.bot.scheduler.shutdown()
    assert answer.ephemeral
    assert answer.content.startswith("좋아요! 서로 다른 날 1/5번째 기억했습니다.")
    assert "✅ 정답입니다: 2." in answer.content
    assert answer.custom_ids == ["studybot:quiz:101:next:"]
    assert recalls(core, FIRST) == [1]


async def test_nobody_answers_another_members_card(gateway: Gateway, core: Core) -> None:
    card = await first_card(gateway)
    (refused,) = await gateway.press(card, f"studybot:quiz:101:c2:{FIRST}", BOB)
    assert refused.ephemeral and refused.type == 4
    assert refused.content == "다른 멤버의 카드입니다. 자기 카드에만 답할 수 있어요."
    assert recalls(core, FIRST) == [0]  # alice's card untouched, bob got none


async def test_show_answer_then_knew_it(gateway: Gateway, core: Core) -> None:
    card = await first_card(gateway)
    await gateway.press(card, f"studybot:quiz:101:c2:{FIRST}", ALICE)
    (open_card,) = await gateway.command("quiz", ALICE)
    assert open_card.custom_ids == [f"studybot:quiz:101:reveal:{SECOND}"]
    assert [c["label"] for c in open_card.data["components"][0]["components"]] == ["답 보기"]
    (shown,) = await gateway.press(open_card, f"studybot:quiz:101:reveal:{SECOND}", ALICE)
    assert shown.ephemeral and "답: 벡터-야코비안 곱" in shown.content
    assert shown.custom_ids == [
        f"studybot:quiz:101:knew:{SECOND}",
        f"studybot:quiz:101:missed:{SECOND}",
    ]
    labels = [c["label"] for c in shown.data["components"][0]["components"]]
    assert labels == ["알았어요", "몰랐어요"]
    (graded,) = await gateway.press(shown, f"studybot:quiz:101:knew:{SECOND}", ALICE)
    assert graded.content.startswith("좋아요!")
    assert recalls(core, SECOND) == [1]
    # the same button again: the card is no longer on the table
    (late,) = await gateway.press(shown, f"studybot:quiz:101:knew:{SECOND}", ALICE)
    assert late.ephemeral and late.content.startswith("이 카드는 지금 답할 카드가 아닙니다")
    assert recalls(core, SECOND) == [1]


async def test_group_stats_attach_a_chart_and_export_an_anki_deck(gateway: Gateway) -> None:
    await first_card(gateway)
    (stats,) = await gateway.command("quiz stats", ALICE, scope="group")
    assert stats.ephemeral and stats.content.startswith("레슨별 숙달도 (멤버 2명")
    ((name, data),) = stats.files
    assert name.endswith(".png") and data.startswith(b"\x89PNG")
    (export,) = await gateway.command("quiz export", BOB)
    ((name, data),) = export.files
    assert name.endswith(".apkg") and data.startswith(b"PK")


async def test_quiz_commands_carry_korean_names(gateway: Gateway) -> None:
    await gateway.command("member join", ALICE)
    (nudge,) = await gateway.command("quiz nudge", ALICE)
    assert "/퀴즈 알림 시각:20:00" in nudge.content
