"""Slow answers: the interaction is deferred before Discord's 3 s run out ("thinking…",
private when the command's answer is), then the reply replaces it: an edit when it is seen
by the same people, else the thinking message is deleted and the reply sent anew.

No test waits for real: the bot defers at once (``defer_after = 0``) and the core holds
its answer until the deferral has been sent.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord
import pytest

from bot.adapters.discord.bot import StudyBot
from bot.replies import Attachment, Reply
from tests.discord.fakes import ALICE, BOB, CAROL, EPHEMERAL, Gateway, Person, Sent

DEFERRED = 5  # deferred channel message: "studybot is thinking…"
DEFERRED_UPDATE = 6  # deferred update of the message a button is on


def hold_until_deferred(studybot: StudyBot, patch: pytest.MonkeyPatch) -> asyncio.Event:
    """The bot defers at once and the core answers only after that; the event is set by
    each deferral (and cleared by the answer it let through)."""
    deferred = asyncio.Event()
    defer = discord.InteractionResponse.defer

    async def recording_defer(self: discord.InteractionResponse[Any], **kwargs: Any) -> Any:
        result = await defer(self, **kwargs)
        deferred.set()
        return result

    invoke = studybot.core.invoke

    async def slow_invoke(*args: Any) -> Reply:
        await asyncio.wait_for(deferred.wait(), timeout=5)
        deferred.clear()
        return await invoke(*args)

    patch.setattr(discord.InteractionResponse, "defer", recording_defer)
    patch.setattr(studybot.core, "invoke", slow_invoke)
    patch.setattr(studybot, "defer_after", 0)
    return deferred


@pytest.fixture
def slow(studybot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    return hold_until_deferred(studybot, monkeypatch)


async def test_fast_answers_are_not_deferred(gateway: Gateway, studybot: StudyBot) -> None:
    assert studybot.defer_after == 2.0
    (joined,) = await gateway.command("member join", ALICE)
    assert joined.via == "response" and joined.type == 4


@pytest.mark.usefixtures("slow")
async def test_slow_public_reply_edits_the_thinking_message(gateway: Gateway) -> None:
    thinking, edited = await gateway.command("member join", ALICE)
    assert (thinking.via, thinking.type) == ("response", DEFERRED)
    assert not thinking.data.get("flags", 0) & EPHEMERAL  # everyone sees it thinking
    assert edited.via == "edit"
    assert edited.content == "<@101> 님이 스터디에 참여했습니다. 환영합니다!"
    assert edited.data["allowed_mentions"]["parse"] == ["users"]


@pytest.mark.usefixtures("slow")
async def test_slow_private_reply_thinks_privately(gateway: Gateway) -> None:
    """``mod today`` answers privately: even "thinking…" is shown to the caller alone."""
    thinking, private = await gateway.command("mod today", BOB)
    assert (thinking.via, thinking.type) == ("response", DEFERRED)
    assert thinking.data["flags"] == EPHEMERAL and thinking.ephemeral
    assert private.via == "edit" and private.ephemeral
    assert private.content.startswith("12월 7일(월)")


@pytest.mark.usefixtures("slow")
async def test_slow_refusal_is_private(gateway: Gateway) -> None:
    await gateway.command("member join", ALICE)
    thinking, deleted, refused = await gateway.command("problem pick", ALICE, problem="99999999")
    assert thinking.type == DEFERRED and deleted.via == "delete"
    assert refused.ephemeral and refused.content.startswith(
        "99999999번 문제는 카탈로그에 없습니다."
    )


async def test_error_after_deferring_is_private_and_clears_the_thinking(
    gateway: Gateway, studybot: StudyBot, slow: asyncio.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> Reply:
        await asyncio.wait_for(slow.wait(), timeout=5)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(studybot.core, "invoke", broken)
    thinking, deleted, error = await gateway.command("member join", ALICE)
    assert thinking.type == DEFERRED and deleted.via == "delete"
    assert error.via == "followup" and error.ephemeral
    assert re.search(r"오류 번호 [0-9a-f]{8}", error.content)


async def test_slow_long_reply_keeps_its_files(
    gateway: Gateway, studybot: StudyBot, slow: asyncio.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def long_reply(*args: Any) -> Reply:
        await asyncio.wait_for(slow.wait(), timeout=5)
        reply = Reply.public("member.joined", name="가" * 2500)
        reply.attachments.append(Attachment("chart.png", b"\x89PNG"))
        return reply

    monkeypatch.setattr(studybot.core, "invoke", long_reply)
    _thinking, edited = await gateway.command("member join", ALICE)
    assert edited.via == "edit" and len(edited.content) <= 2000
    assert [name for name, _ in edited.files] == ["message.txt", "chart.png"]
    assert [a["filename"] for a in edited.data["attachments"]] == ["message.txt", "chart.png"]


async def press_swap_accept_slowly(
    gateway: Gateway, studybot: StudyBot, person: Person
) -> list[Sent]:
    """Alice asks Bob to swap; ``person`` presses accept while the core answers slowly."""
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    (requested,) = await gateway.command("mod swap", ALICE, with_=BOB)
    with pytest.MonkeyPatch.context() as patch:
        hold_until_deferred(studybot, patch)
        return await gateway.press(requested, "studybot:swap:accept:1", person)


async def test_slow_button_defers_quietly_then_announces(
    gateway: Gateway, studybot: StudyBot
) -> None:
    update, buttons_gone, announcement = await press_swap_accept_slowly(gateway, studybot, BOB)
    assert (update.via, update.type) == ("response", DEFERRED_UPDATE)
    assert buttons_gone.via == "edit" and buttons_gone.data["components"] == []
    assert announcement.via == "followup" and not announcement.ephemeral
    assert announcement.content.startswith("교대가 확정되었습니다")


async def test_slow_button_refusal_is_a_private_follow_up(
    gateway: Gateway, studybot: StudyBot
) -> None:
    update, refused = await press_swap_accept_slowly(gateway, studybot, CAROL)
    assert (update.via, update.type) == ("response", DEFERRED_UPDATE)
    assert refused.via == "followup" and refused.ephemeral
    assert refused.content.startswith("이 교대 요청에 답할 수 있는 사람은")


async def test_slow_form_submission_is_deferred_then_posted(
    gateway: Gateway, studybot: StudyBot
) -> None:
    await gateway.command("member join", ALICE)
    (form,) = await gateway.command("progress log", ALICE)  # a form: never deferred

    with pytest.MonkeyPatch.context() as patch:
        hold_until_deferred(studybot, patch)
        thinking, edited = await gateway.submit(form, {"note": "slow day"})

    assert (thinking.via, thinking.type) == ("response", DEFERRED)
    assert edited.via == "edit"
    assert edited.content.startswith("<@101> 님의 진행 기록 #1")
