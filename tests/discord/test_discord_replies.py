"""Replies as Discord shows them: who sees them, who is notified, when the bot answers,
what the client refuses before the bot does, how long text is cut, and who sees the admin
commands. Checked against the strict double (``fakes``), which refuses or shows what
Discord would.

Slow answers are made without waiting: an interaction created ``age`` seconds ago (by the
clock the double and the bot share) is deferred at once when the bot's 2 seconds are over.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.cogs.admin import ADMIN_COMMANDS, table_path
from bot.adapters.discord.dispatch import DEFER_AFTER
from bot.adapters.discord.dispatch import _until_deferral as until_deferral
from bot.adapters.discord.options import MAX_CODE, MAX_ID
from bot.adapters.discord.rendering import MAX_CONTENT, render_reply, safe_cut
from bot.clock import ManualClock
from bot.commands import COMMANDS
from bot.core import Core
from bot.i18n import text
from bot.replies import Reply
from bot.services import competition, groups, problems, progress, quiz, rotation
from bot.services.code_runs import CodeRunner
from bot.services.groups import MAX_REMINDER_MINUTES
from sandbox.result import JobSpec, RunResult
from tests.discord import discord_rules as rules
from tests.discord.fakes import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL_ID,
    DEFERRED,
    DM_CHANNELS,
    MESSAGE,
    MODAL,
    Gateway,
    Recorder,
)
from tests.discord.test_discord_translation import leaves, payloads
from tests.services.test_permissions import (  # world: the permission matrix's group
    ADMIN_ONLY,
    CASES,
    REFUSALS,
    ROLES,
    Case,
    run_case,
    world,
)

__all__ = ["world"]  # a fixture, used by name

SLOW = DEFER_AFTER + 0.5  # an interaction this old is deferred at once
TRUNCATED = text("ko", "discord.truncated")


# --- 2. visibility is decided before deferring -----------------------------------------------


async def test_a_private_answer_thinks_privately(gateway: Gateway) -> None:
    thinking, answer = await gateway.command("mod today", BOB, age=SLOW)
    assert (thinking.type, thinking.ephemeral) == (DEFERRED, True)
    assert answer.via == "edit" and answer.ephemeral
    assert answer.content.startswith("12월 7일(월)")


async def test_a_public_command_refused_answers_in_a_new_private_message(
    gateway: Gateway,
) -> None:
    await gateway.command("member join", ALICE)
    thinking, deleted, refused = await gateway.command(
        "problem pick", ALICE, problem="99999999", age=SLOW
    )
    assert thinking.type == DEFERRED and not thinking.ephemeral
    assert deleted.via == "delete"
    assert refused.via == "followup" and not refused.edits_original and refused.ephemeral
    assert refused.content.startswith("99999999번 문제는 카탈로그에 없습니다.")


def _succeeding_role(case: Case) -> str | None:
    for role, key in zip(ROLES, case.expected, strict=True):
        if key not in REFUSALS and not key.startswith("error."):
            return role
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_every_command_declares_who_sees_its_answer(
    world: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    case: Case,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command table says in advance who sees each command's answer, and the services
    answer so (each case of the permission matrix, run as someone it succeeds for)."""
    declared = COMMANDS[tuple(case.command.split())].visibility
    assert declared is not None, f"/{case.command} does not say who sees its answer"
    role = _succeeding_role(case)
    assert role is not None
    answers: list[Reply] = []
    invoke = Core.invoke_sync

    def recording(core: Core, *args: Any, **kwargs: Any) -> Reply:
        answers.append(invoke(core, *args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(Core, "invoke_sync", recording)
    run_case(world, tmp_path, case, role)
    (reply,) = answers
    assert reply.visibility is declared, (case.label, reply.key)


# --- 3. an edited message never pings ------------------------------------------------------


async def test_a_slow_swap_request_is_a_new_message_that_notifies(gateway: Gateway) -> None:
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    thinking, deleted, request = await gateway.command("mod swap", ALICE, with_=BOB, age=SLOW)
    assert thinking.type == DEFERRED and deleted.via == "delete"
    assert request.via == "followup" and not request.edits_original
    assert not request.ephemeral and BOB.id in request.notified
    assert request.custom_ids == ["studybot:swap:accept:1", "studybot:swap:decline:1"]


async def test_a_slow_answer_naming_only_the_caller_edits_thinking(gateway: Gateway) -> None:
    thinking, edited = await gateway.command("member join", ALICE, age=SLOW)
    assert thinking.type == DEFERRED
    assert edited.via == "edit" and edited.content.startswith("<@101>")


# --- 4. deferral is timed from the interaction's creation; forms open at once ----------------


@pytest.mark.parametrize(
    ("age", "left"), [(0.0, 2.0), (1.5, 0.5), (2.0, 0.0), (30.0, 0.0), (-5.0, 2.0)]
)
async def test_deferral_is_timed_from_the_interactions_creation(
    gateway: Gateway, studybot: StudyBot, age: float, left: float
) -> None:
    """Seconds the bot may still answer directly: 2 after the interaction was created
    (never more, even when the clocks disagree)."""
    assert until_deferral(studybot, gateway.interaction(age=age)) == pytest.approx(left)


async def test_an_interaction_that_arrives_late_is_deferred_at_once(gateway: Gateway) -> None:
    (fresh,) = await gateway.command("member list", ALICE)
    assert fresh.type == MESSAGE
    thinking, answer = await gateway.command("member list", ALICE, age=SLOW)
    assert thinking.type == DEFERRED and answer.via == "edit"


async def test_forms_open_without_waiting_on_the_database(
    gateway: Gateway, studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_database(*args: Any) -> Any:
        raise AssertionError("the form waited on the database")

    monkeypatch.setattr(studybot.core, "group_info", no_database)
    monkeypatch.setattr(studybot.core, "group_for_guild", no_database)
    # the group's language is not known yet: the member's own
    (form,) = await gateway.command("progress log", ALICE, user_locale="en-US")
    assert form.type == MODAL and form.data["title"] == "Today's progress"
    (run_form,) = await gateway.command("run", ALICE, user_locale="ko")
    assert run_form.type == MODAL and run_form.data["title"] == "파이썬 실행"


async def test_form_prefills_are_cut_to_their_fields(gateway: Gateway) -> None:
    """Options longer than the form's fields (from a client that does not check) fill the
    form cut to length: Discord would refuse the form otherwise."""
    (form,) = await gateway.command(
        "progress log", ALICE, task="t" * 80, model="m" * 150, repro="r" * 400
    )
    assert form.type == MODAL
    for name, limit in (
        ("task", competition.MAX_TASK),
        ("model", progress.MAX_MODEL),
        ("repro", progress.MAX_REPRO),
    ):
        assert form.inputs[name]["max_length"] == limit
        assert form.inputs[name]["value"] == name[0] * limit


# --- 5. results after the token expired go to the channel -----------------------------------


@dataclass
class LongTicket:
    position: int
    result: RunResult
    clock: ManualClock
    takes: timedelta

    def __await__(self) -> Generator[Any, None, RunResult]:
        yield from asyncio.sleep(0).__await__()
        self.clock.advance(self.takes)  # the run took this long
        return self.result


@dataclass
class LongSandbox:
    result: RunResult
    clock: ManualClock
    takes: timedelta = timedelta(minutes=16)
    position: int = 0

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> LongTicket:
        return LongTicket(self.position, self.result, self.clock, self.takes)

    async def close(self) -> None:
        return None


@pytest.fixture
def channels(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder.install_channels(monkeypatch)
    return recorder


def long_runs(studybot: StudyBot, clock: ManualClock, result: RunResult) -> LongSandbox:
    box = LongSandbox(result, clock)
    studybot.core.runner = CodeRunner.with_sandbox(studybot.core.services, box)
    return box


async def test_a_result_after_15_minutes_goes_to_the_channel(
    gateway: Gateway, studybot: StudyBot, clock: ManualClock, channels: Recorder
) -> None:
    await gateway.command("member join", ALICE)
    long_runs(studybot, clock, RunResult(status="ok", stdout="2\n", wall_ms=960_000))
    (thinking,) = await gateway.command("run", ALICE, code="print(2)")
    assert thinking.type == DEFERRED  # nothing more through the dead token
    (post,) = channels.posts
    assert post.channel_id == CHANNEL_ID and not post.ephemeral
    assert post.content.splitlines()[0] == "<@101> 님, 요청하신 결과가 나왔습니다."
    assert "```\n2\n```" in post.content
    assert ALICE.id in post.notified  # a new message: the member is told it is done


async def test_a_private_answer_after_15_minutes_is_a_direct_message(
    gateway: Gateway, studybot: StudyBot, clock: ManualClock, channels: Recorder
) -> None:
    await gateway.command("member join", ALICE)
    refused = RunResult.rejected("sandbox.closed", "closing")
    long_runs(studybot, clock, refused)
    (thinking,) = await gateway.command("run", ALICE, code="print(2)")
    assert thinking.type == DEFERRED
    (direct,) = channels.posts
    assert direct.channel_id == DM_CHANNELS + ALICE.id and direct.ephemeral
    assert "샌드박스가 종료 중입니다." in direct.content


# --- 6. option limits are declared to Discord --------------------------------------------------

# Each limited option: (min_value, max_value) for numbers, max_length for text, all taken
# from the services that enforce them (ids: what Discord and a 64-bit id both hold).
RANGES = {
    ("mod", "schedule", "days"): (1, rotation.MAX_SCHEDULE_DAYS),
    ("mod", "accept", "id"): (1, MAX_ID),
    ("mod", "decline", "id"): (1, MAX_ID),
    ("problem", "history", "n"): (1, problems.MAX_HISTORY),
    ("progress", "edit", "id"): (1, MAX_ID),
    ("progress", "delete", "id"): (1, MAX_ID),
    ("schedule", "set", "reminder"): (0, MAX_REMINDER_MINUTES),
    ("competition", "set", "limit"): (0, competition.MAX_DAILY_LIMIT),
    ("quiz", "answer", "choice"): (1, quiz.MAX_CHOICE),
}
ENTRY_LENGTHS = {
    "note": progress.MAX_NOTE,
    "task": competition.MAX_TASK,
    "metric": competition.MAX_METRIC,
    "model": progress.MAX_MODEL,
    "repro": progress.MAX_REPRO,
}
LENGTHS = {
    **{("progress", "log", name): limit for name, limit in ENTRY_LENGTHS.items()},
    **{("progress", "edit", name): limit for name, limit in ENTRY_LENGTHS.items()},
    ("progress", "leaderboard", "task"): competition.MAX_TASK,
    ("competition", "set", "name"): competition.MAX_NAME,
    ("competition", "task", "name"): competition.MAX_TASK,
    ("competition", "task", "metric"): competition.MAX_METRIC,
    ("run", "code"): MAX_CODE,
    ("schedule", "dayoff", "reason"): groups.MAX_DAY_OFF_REASON,
    ("problem", "solved", "link"): problems.MAX_LINK,
    **{("quiz", name, "card"): quiz.MAX_CARD_ID for name in ("reveal", "grade", "answer")},
}
# numbers without a limit in the services
UNBOUNDED = {("progress", "log", "score"), ("progress", "edit", "score")}


async def test_every_limited_option_declares_the_services_limit(studybot: StudyBot) -> None:
    seen: set[tuple[str, ...]] = set()
    for payload in await payloads(studybot):
        if payload.get("type", 1) != 1:
            continue
        for shown, command in leaves(payload):
            for option in command.get("options", []):
                key = (*table_path(shown), option["name"])
                seen.add(key)
                if option["type"] in (4, 10):  # integer, number
                    bounds = (option.get("min_value"), option.get("max_value"))
                    assert bounds == RANGES.get(key, (None, None)), key
                    assert key in RANGES or key in UNBOUNDED, f"{key}: a number without range"
                elif option["type"] == 3:  # string
                    assert option.get("max_length") == LENGTHS.get(key), key
    assert seen >= RANGES.keys() | LENGTHS.keys()
    assert MAX_ID <= rules.MAX_SAFE_INTEGER and MAX_ID < 2**63
    assert MAX_CODE <= rules.TEXT_INPUT_VALUE  # the /run form holds as much as the option


# --- 7. truncation never cuts inside a code block, a mention or a character ------------------


def _rendered(name: str) -> str:
    content = render_reply(Reply.public("member.joined", name=name), "ko").content
    assert len(content) <= MAX_CONTENT
    assert content.endswith(TRUNCATED)
    return content


def test_a_cut_closes_the_code_block_it_falls_in() -> None:
    content = _rendered("```python\n" + "x = 1\n" * 500)
    assert content.count("```") == 2
    assert content.endswith("…\n```\n" + TRUNCATED)


def test_a_cut_after_a_closed_code_block_adds_no_fence() -> None:
    content = _rendered("```\ncode\n```\n" + "가" * 2500)
    assert content.count("```") == 2 and content.endswith("가…\n" + TRUNCATED)


@pytest.mark.parametrize("shift", range(0, 30, 3))
def test_a_cut_never_splits_a_mention(shift: int) -> None:
    content = _rendered("가" * (1930 - shift) + "<@123456789012345678> " * 5)
    assert "<@" not in re.sub(r"<@\d+>", "", content), content[-60:]


@pytest.mark.parametrize(
    ("full", "limit", "kept"),
    [
        ("hi <@1234> there", 7, "hi "),
        ("hi <#1234> there", 5, "hi "),
        ("ab👍🏽", 3, "ab"),  # a thumb and its skin tone
        ("a👩\u200d💻", 3, "a"),  # a joined emoji
        ("e\u0301e", 1, ""),  # a combining accent stays with its letter
        ("x\ud83d\ude00", 2, "x"),  # a surrogate pair (UTF-16 text) stays whole
        ("🇰🇷🇯🇵", 3, "🇰🇷"),  # flags are pairs of letters
        ("a ```b", 3, "a "),  # a fence is never split
        ("한국어", 2, "한국"),
    ],
)
def test_safe_cut(full: str, limit: int, kept: str) -> None:
    assert safe_cut(full, limit) == kept


# --- 8. admin commands: one top-level group only managers see ---------------------------------


async def test_admin_commands_live_in_one_group_for_server_managers(studybot: StudyBot) -> None:
    top = {p["name"]: p for p in await payloads(studybot)}
    manage_guild = str(discord.Permissions(manage_guild=True).value)
    assert str(top["admin"]["default_member_permissions"]) == manage_guild
    others = [p for name, p in top.items() if name != "admin"]
    assert all(p.get("default_member_permissions") is None for p in others)
    assert {table_path(path) for path, _ in leaves(top["admin"])} == ADMIN_COMMANDS
    slash = [p for p in others if p.get("type", 1) == 1]
    assert not {table_path(path) for p in slash for path, _ in leaves(p)} & ADMIN_COMMANDS


def test_the_admin_group_holds_what_only_admins_may_do() -> None:
    """Exactly the commands the permission matrix refuses to plain members."""
    member = ROLES.index("member")
    admin_only = {
        tuple(case.command.split())
        for case in CASES
        if case.label == case.command and case.expected[member] == ADMIN_ONLY
    }
    assert admin_only == ADMIN_COMMANDS


def _korean(node: dict[str, Any]) -> str:
    return str(node["name_localizations"]["ko"])


async def test_admin_commands_read_naturally_in_korean(studybot: StudyBot) -> None:
    (admin,) = [p for p in await payloads(studybot) if p["name"] == "admin"]
    names = {
        " ".join([_korean(admin), _korean(group), _korean(command)])
        for group in admin["options"]
        for command in group["options"]
    }
    assert names == {
        "관리 멤버 추가",
        "관리 멤버 제외",
        "관리 진행자 건너뛰기",
        "관리 일정 설정",
        "관리 일정 휴일",
        "관리 문제 다시뽑기",
        "관리 기록 잊기",
        "관리 대회 설정",
        "관리 대회 과제",
        "관리 실행기 상태",
    }
    for node in [admin, *admin["options"]]:  # the group texts are new: no English in them
        for korean in (_korean(node), node["description_localizations"]["ko"]):
            assert not re.search(r"[A-Za-z]", korean), korean


async def test_the_server_still_checks_who_runs_an_admin_command(gateway: Gateway) -> None:
    """A server may show /admin to others (integration settings): the services refuse."""
    (refused,) = await gateway.command("member add", BOB, user=CAROL)
    assert refused.ephemeral and refused.content == "관리자만 할 수 있습니다."
    (added,) = await gateway.command("member add", ALICE, admin=True, user=CAROL)
    assert not added.ephemeral and "<@103>" in added.content
