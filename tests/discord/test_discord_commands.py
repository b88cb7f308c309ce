"""Slash commands end to end: payload → command tree → core → recorded Discord response."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from bot.adapters.discord.bot import StudyBot
from bot.core import Core
from bot.replies import Attachment, Reply
from bot.services.groups import find_group_by_guild
from tests.discord.fakes import ALICE, BOB, GUILD_ID, Channel, Gateway

NO_EVERYONE_NO_ROLES = {"parse": ["users"], "replied_user": True}


def group_row(core: Core) -> Any:
    with core.services.transaction() as session:
        group = find_group_by_guild(session, GUILD_ID)
        assert group is not None
        session.expunge(group)
        return group


async def test_join_is_public_and_today_is_private(gateway: Gateway) -> None:
    (joined,) = await gateway.command("member join", ALICE)
    assert joined.via == "response" and joined.type == 4
    assert not joined.ephemeral
    assert joined.content == "<@101> 님이 스터디에 참여했습니다. 환영합니다!"
    assert joined.data["allowed_mentions"] == NO_EVERYONE_NO_ROLES

    (today,) = await gateway.command("mod today", BOB)
    assert today.ephemeral
    assert today.content == "12월 7일(월) 오늘의 진행자는 <@101> 님입니다."
    assert today.data["allowed_mentions"] == NO_EVERYONE_NO_ROLES


async def test_non_admin_cannot_change_the_schedule(gateway: Gateway, core: Core) -> None:
    (refused,) = await gateway.command("schedule set", ALICE, timezone="Europe/Berlin")
    assert refused.ephemeral
    assert refused.content == "관리자만 할 수 있습니다."
    assert group_row(core).timezone == "Asia/Seoul"


async def test_manage_server_makes_an_admin(
    gateway: Gateway, core: Core, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[int] = []
    monkeypatch.setattr(studybot.scheduler, "refresh_group", refreshed.append)

    (updated,) = await gateway.command(
        "schedule set",
        ALICE,
        admin=True,
        channel=Channel(2_001, "study"),
        review_time="10:00",
        holidays=False,
        reminder=30,
    )
    assert updated.ephemeral
    assert updated.content.startswith("설정을 바꿨습니다.")
    assert "채널: study" in updated.content and "코드 리뷰: 10:00" in updated.content
    group = group_row(core)
    assert (group.channel_id, group.channel_name) == (2_001, "study")
    assert group.skip_holidays is False and group.problem_reminder_minutes == 30
    assert refreshed == [group.id]


async def test_refused_schedule_change_does_not_retime_duties(
    gateway: Gateway, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[int] = []
    monkeypatch.setattr(studybot.scheduler, "refresh_group", refreshed.append)
    await gateway.command("schedule set", ALICE, admin=True, review_time="25:00")
    assert refreshed == []


async def test_only_changes_that_move_duties_retime_them(
    gateway: Gateway, core: Core, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply's typed outcome says what changed; the front end re-times only then."""
    refreshed: list[int] = []
    monkeypatch.setattr(studybot.scheduler, "refresh_group", refreshed.append)
    await gateway.command("schedule set", ALICE, admin=True, locale="en", holidays=False)
    assert refreshed == []
    await gateway.command("schedule set", ALICE, admin=True, timezone="Europe/Berlin")
    assert refreshed == [group_row(core).id]


async def test_admin_role_by_name(
    gateway: Gateway, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studybot.settings, "admin_role", "스터디장")
    lead = gateway.add_role(555, "스터디장")
    other = gateway.add_role(556, "멤버")

    (refused,) = await gateway.command("schedule set", ALICE, roles=[other], days="mon,wed")
    assert refused.content == "관리자만 할 수 있습니다."
    (allowed,) = await gateway.command("schedule set", ALICE, roles=[lead], days="mon,wed")
    assert "스터디 요일: 월, 수" in allowed.content


async def test_english_group_gets_english(gateway: Gateway) -> None:
    (changed,) = await gateway.command("schedule set", ALICE, admin=True, locale="en")
    assert changed.content.startswith("Settings changed.")
    assert "Language: en" in changed.content

    (joined,) = await gateway.command("member join", BOB)
    assert joined.content == "<@102> joined the study group. Welcome!"
    (refused,) = await gateway.command("member join", BOB)
    assert refused.ephemeral
    assert refused.content == "bob is already a member."


async def test_options_reach_the_command(gateway: Gateway) -> None:
    await gateway.command("member join", ALICE)
    (away,) = await gateway.command("away", ALICE, from_="2026-12-08", to="2026-12-09")
    assert away.ephemeral
    assert away.content.startswith("12월 8일(화)부터 12월 9일(수)까지 부재로 등록했습니다.")

    (listed,) = await gateway.command("mod schedule", ALICE, days=2)
    assert listed.content.splitlines()[0] == "앞으로 2번의 스터디 진행자:"

    (added,) = await gateway.command("member add", ALICE, admin=True, user=BOB)
    assert not added.ephemeral
    assert "<@102>" in added.content


async def test_direct_messages_are_refused(gateway: Gateway) -> None:
    (refused,) = await gateway.command("member join", ALICE, guild_id=None, user_locale="en-US")
    assert refused.ephemeral
    assert refused.content == (
        "StudyBot commands work only in a server channel, not in direct messages."
    )
    (refused_ko,) = await gateway.command("member join", ALICE, guild_id=None, user_locale="ko")
    assert refused_ko.content.startswith("스터디봇 명령은")


async def test_unexpected_error_shows_an_id_not_a_traceback(
    gateway: Gateway,
    studybot: StudyBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: Any) -> Reply:
        raise RuntimeError("secret database password in a stack trace")

    monkeypatch.setattr(studybot.core, "invoke", broken)
    with caplog.at_level(logging.ERROR, logger="studybot"):
        (answer,) = await gateway.command("member join", ALICE)

    assert answer.ephemeral
    match = re.search(r"오류 번호 ([0-9a-f]{8})", answer.content)
    assert match, answer.content
    assert "Traceback" not in answer.content and "secret" not in answer.content
    logged = [r for r in caplog.records if match[1] in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_error_after_the_answer_is_a_private_follow_up(
    gateway: Gateway, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(group_id: int) -> None:
        raise RuntimeError("scheduler down")

    monkeypatch.setattr(studybot, "refresh_schedule", broken)
    first, second = await gateway.command("schedule set", ALICE, admin=True, deadline="18:00")
    assert first.via == "response" and first.content.startswith("설정을 바꿨습니다.")
    assert second.via == "followup" and second.ephemeral
    assert re.search(r"오류 번호 [0-9a-f]{8}", second.content)


async def test_long_replies_are_cut_and_attached(
    gateway: Gateway, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_name = "가" * 2500

    async def long_reply(*args: Any) -> Reply:
        reply = Reply.public("member.joined", name=long_name)
        reply.attachments.append(Attachment("chart.png", b"\x89PNG"))
        return reply

    monkeypatch.setattr(studybot.core, "invoke", long_reply)
    (answer,) = await gateway.command("member join", ALICE)
    assert len(answer.content) <= 2000
    assert answer.content.endswith("(메시지가 길어 전체 내용은 첨부 파일에 있습니다.)")
    files = dict(answer.files)
    assert files["message.txt"].decode() == f"{long_name} 님이 스터디에 참여했습니다. 환영합니다!"
    assert files["chart.png"] == b"\x89PNG"
    assert [a["filename"] for a in answer.data["attachments"]] == ["message.txt", "chart.png"]


async def test_a_command_discord_still_shows_but_the_bot_lacks(gateway: Gateway) -> None:
    stale = {"id": "1", "name": "retired", "type": 1, "options": [{"name": "run", "type": 1}]}
    (answer,) = await gateway.send_command(stale)
    assert answer.ephemeral
    assert answer.content == "/retired 명령을 알 수 없습니다."

    stale_sub = {"id": "1", "name": "problem", "type": 1, "options": [{"name": "vote", "type": 1}]}
    (answer,) = await gateway.send_command(stale_sub)
    assert answer.ephemeral
    assert answer.content == "/problem vote 명령을 알 수 없습니다."
