"""Swap request buttons: their custom ids, and pressing them after a restart."""

from __future__ import annotations

from sqlalchemy import select

from bot.config import Settings
from bot.core import Core
from db.models import SwapRequest
from tests.discord.fakes import ALICE, BOB, CAROL, Gateway, Recorder, Sent, installed_bot


def swap_status(core: Core, request_id: int) -> str:
    with core.services.transaction() as session:
        status = session.scalar(select(SwapRequest.status).where(SwapRequest.id == request_id))
        assert status is not None
        return status


async def request_swap(gateway: Gateway) -> tuple[int, Sent]:
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    (requested,) = await gateway.command("mod swap", ALICE, with_=BOB)
    return 1, requested


async def test_swap_request_carries_accept_and_decline_buttons(gateway: Gateway) -> None:
    _, requested = await request_swap(gateway)
    assert not requested.ephemeral
    assert "<@101>" in requested.content and "<@102>" in requested.content
    assert requested.custom_ids == ["studybot:swap:accept:1", "studybot:swap:decline:1"]
    labels = [c["label"] for c in requested.data["components"][0]["components"]]
    assert labels == ["수락", "거절"]


async def test_pressing_accept_after_a_restart_completes_the_swap(
    gateway: Gateway, core: Core, settings: Settings, recorder: Recorder
) -> None:
    request_id, requested = await request_swap(gateway)
    restarted = Gateway(await installed_bot(core, settings), recorder)

    update, announcement = await restarted.press(requested, "studybot:swap:accept:1", BOB)

    assert update.type == 7 and update.data["components"] == []  # the buttons are gone
    assert announcement.via == "followup" and not announcement.ephemeral
    assert announcement.content.startswith("교대가 확정되었습니다: <@101> 님은 12월 8일(화)")
    assert swap_status(core, request_id) == "accepted"

    (today,) = await gateway.command("mod today", ALICE)
    assert "<@102>" in today.content


async def test_only_the_member_asked_may_accept(gateway: Gateway, core: Core) -> None:
    request_id, requested = await request_swap(gateway)
    await gateway.command("member join", CAROL)

    (refused,) = await gateway.press(requested, "studybot:swap:accept:1", CAROL)

    assert refused.type == 4 and refused.ephemeral
    assert refused.content.startswith("이 교대 요청에 답할 수 있는 사람은")
    assert swap_status(core, request_id) == "pending"


async def test_requester_may_withdraw_with_decline(gateway: Gateway, core: Core) -> None:
    request_id, requested = await request_swap(gateway)
    _, announcement = await gateway.press(requested, "studybot:swap:decline:1", ALICE)
    assert announcement.content == "<@101> 님과 <@102> 님의 교대 요청이 취소되었습니다."
    assert swap_status(core, request_id) == "declined"

    (late,) = await gateway.press(requested, "studybot:swap:accept:1", BOB)
    assert late.ephemeral and late.content == "교대 요청 1번은 이미 처리되었습니다."
