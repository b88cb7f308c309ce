"""Who may run which command: every command, walked with every kind of caller.

Refusals come back as private replies (``error.admin_only`` / ``error.not_member`` /
``error.swap_not_yours`` / ``error.pick_not_moderator`` / ``error.progress_not_yours``) and
leave the database exactly as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_core
from bot.clock import ManualClock
from bot.commands import COMMANDS, ChannelRef
from bot.config import Settings
from bot.replies import Visibility
from bot.schedule.duties import DUTIES
from bot.services.duty_runs import DEADLINE_DUTY
from db.models import Problem, ProblemPick
from sandbox.result import RunResult
from tests.conftest import GUILD_ID, START, Harness, engine_of, snapshot
from tests.services.test_code_runs import FakeSandbox

pytestmark = pytest.mark.sqlite_only

ROLES = ("stranger", "member", "moderator", "group_admin", "platform_admin")
ADMIN_ONLY = "error.admin_only"
NOT_MEMBER = "error.not_member"
NOT_YOURS = "error.swap_not_yours"
NOT_MODERATOR = "error.pick_not_moderator"
NOT_OWNER = "error.progress_not_yours"
REFUSALS = {ADMIN_ONLY, NOT_MEMBER, NOT_YOURS, NOT_MODERATOR, NOT_OWNER}
READ_ONLY = {
    "sandbox status",
    "member list",
    "mod today",
    "mod schedule",
    "schedule show",
    "away list",
    "problem today",
    "problem history",
    "problem show",
    "progress me",
    "progress group",
    "progress leaderboard",
    "progress export",
    "competition show",
    "lesson list",
    "lesson show",
    "lesson run",
    "run",
    "quiz reveal",  # refused (no card on the table): the matrix only checks who may ask
    "quiz grade",
    "quiz answer",
    "quiz stats",
    "quiz stats group",
    "quiz export",
}
FREE_PROBLEM = "$free"  # replaced by a problem nobody has picked yet


def who(role: str) -> tuple[str, bool]:
    """The harness name and platform-admin flag acting in ``role``."""
    return {
        "stranger": ("stranger", False),
        "member": ("bob", False),
        "moderator": ("alice", False),  # joined first: today's moderator
        "group_admin": ("carol", False),  # a member with a GroupAdmin row
        "platform_admin": ("root", True),  # Manage Server, not a member
    }[role]


@dataclass(frozen=True)
class Case:
    label: str
    command: str
    options: dict[str, Any]
    expected: tuple[str, str, str, str, str]  # reply key per role, in ROLES order


def everyone(key: str) -> tuple[str, str, str, str, str]:
    return (key,) * 5


def admins(key: str, platform: str | None = None) -> tuple[str, str, str, str, str]:
    return (ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, key, platform or key)


def members(key: str) -> tuple[str, str, str, str, str]:
    return (NOT_MEMBER, key, key, key, NOT_MEMBER)


def owner(key: str) -> tuple[str, str, str, str, str]:
    """Only the member who wrote it (bob); admins neither."""
    return (NOT_MEMBER, key, NOT_OWNER, NOT_OWNER, NOT_MEMBER)


CASES = [
    Case(
        "member join",
        "member join",
        {},
        ("member.joined", *("error.already_member",) * 3, "member.joined"),
    ),
    Case("member leave", "member leave", {}, members("member.left")),
    Case("member list", "member list", {}, everyone("member.list")),
    Case("lesson list", "lesson list", {}, everyone("lessons.list")),
    Case("lesson show", "lesson show", {"id": "backward-gradient"}, everyone("lessons.show")),
    # run code in a fake sandbox (see tests/services/test_code_runs.py)
    Case("lesson run", "lesson run", {"id": "backward-gradient"}, everyone("lessons.result")),
    Case("run", "run", {"code": "print(1)"}, members("lessons.result")),
    Case("member add", "member add", {"user": "newbie"}, admins("member.added")),
    Case("member remove", "member remove", {"user": "dave"}, admins("member.removed")),
    Case("mod today", "mod today", {}, everyone("mod.today")),
    Case("mod schedule", "mod schedule", {"days": 5}, everyone("mod.schedule")),
    Case("mod swap", "mod swap", {"with": "dave"}, members("mod.swap_requested")),
    Case(
        "mod swap force",
        "mod swap",
        {"with": "dave", "force": True},
        admins("mod.swap_forced", platform=NOT_MEMBER),  # a platform admin has no turn
    ),
    Case(
        "mod swap for another",
        "mod swap",
        {"member": "erin", "with": "dave"},
        admins("mod.swap_requested"),
    ),
    Case(
        "mod swap for another, forced",
        "mod swap",
        {"member": "erin", "with": "dave", "force": True},
        admins("mod.swap_forced"),
    ),
    Case(
        "mod accept",
        "mod accept",
        {"id": 1},
        (NOT_YOURS, NOT_YOURS, NOT_YOURS, "mod.swap_done", "mod.swap_done"),
    ),
    Case(
        "mod decline",
        "mod decline",
        {"id": 1},
        (NOT_YOURS, NOT_YOURS, NOT_YOURS, "mod.swap_declined", "mod.swap_declined"),
    ),
    Case("mod skip", "mod skip", {}, admins("mod.skipped")),
    Case("away", "away", {"from": "12-14", "to": "12-15"}, members("away.added")),
    Case("away list", "away", {}, members("away.none")),
    Case("schedule show", "schedule show", {}, everyone("schedule.show")),
    Case(
        "schedule set",
        "schedule set",
        {"review_time": "10:00", "channel": ChannelRef(77, "review")},
        admins("schedule.updated"),
    ),
    Case(
        "schedule dayoff",
        "schedule dayoff",
        {"date": "12-10", "reason": "workshop"},
        admins("schedule.day_off_added"),
    ),
    Case(
        "problem pick",
        "problem pick",
        {"problem": FREE_PROBLEM},
        (NOT_MODERATOR, NOT_MODERATOR, *("problem.repicked",) * 3),
    ),
    Case(
        "problem pick forced",
        "problem pick",
        {"problem": FREE_PROBLEM, "force": True},
        (NOT_MODERATOR, NOT_MODERATOR, ADMIN_ONLY, "problem.repicked", "problem.repicked"),
    ),
    Case("problem reroll", "problem reroll", {}, admins("problem.rerolled")),
    Case("problem solved", "problem solved", {}, members("problem.solved")),
    Case("problem today", "problem today", {}, everyone("problem.today_header")),
    Case("problem history", "problem history", {}, everyone("problem.history")),
    Case("problem show", "problem show", {"problem": "12899"}, everyone("problem.show")),
    Case("progress log", "progress log", {"note": "tokenizer"}, members("progress.logged")),
    Case("progress edit", "progress edit", {"id": 1, "note": "fixed"}, owner("progress.edited")),
    Case("progress delete", "progress delete", {"id": 1}, owner("progress.deleted")),
    Case("progress me", "progress me", {}, members("progress.me")),
    Case("progress group", "progress group", {}, everyone("progress.group")),
    Case("progress leaderboard", "progress leaderboard", {}, everyone("progress.leaderboard")),
    Case(
        "progress export",
        "progress export",
        {},
        (NOT_MEMBER, "progress.export_own", "progress.export_own", *("progress.export_all",) * 2),
    ),
    Case(
        "progress reminder", "progress reminder", {"mode": "dm"}, members("progress.reminder_set")
    ),
    Case("progress forget", "progress forget", {"user": "bob"}, admins("progress.forgot")),
    Case("sandbox status", "sandbox status", {}, admins("remote.status.local")),
    Case("competition show", "competition show", {}, everyone("competition.show")),
    Case(
        "competition set",
        "competition set",
        {"name": "모두의 말뭉치", "limit": 5},
        admins("competition.updated"),
    ),
    Case(
        "competition task",
        "competition task",
        {"name": "cola", "metric": "mcc"},
        admins("competition.task_added"),
    ),
    # the review quiz: members only, each on their own cards (tests/quiz)
    Case("quiz", "quiz", {}, members("quiz.card")),
    Case("quiz reveal", "quiz reveal", {}, members("quiz.no_card")),
    Case("quiz grade", "quiz grade", {"result": "knew"}, members("quiz.no_card")),
    Case("quiz answer", "quiz answer", {"choice": 2}, members("quiz.no_card")),
    Case("quiz stats", "quiz stats", {}, members("quiz.stats_me")),
    Case("quiz stats group", "quiz stats", {"scope": "group"}, members("quiz.stats_group")),
    Case("quiz nudge", "quiz nudge", {"time": "20:00"}, members("quiz.nudge_set")),
    Case("quiz export", "quiz export", {}, members("quiz.export")),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A group in a known state, built once; each case runs on a copy of its file.

    Members in join order alice (today's moderator), bob, carol (group admin), dave,
    erin, frank; erin has asked frank to swap (request 1); the bot has auto-picked the
    problem for tomorrow; the competition has the task absa and bob logged entry 1.
    """
    path = tmp_path_factory.mktemp("matrix") / "studybot.db"
    core = build_core(Settings(database_url=f"sqlite:///{path}"), ManualClock(START))
    harness = Harness(core, core.services.clock, core.group_for_guild_sync(GUILD_ID))  # type: ignore[arg-type]
    harness.join("alice", "bob", "carol", "dave", "erin", "frank")
    harness.grant_admin("carol")
    assert harness.invoke("stranger", "mod today").params["name"].name == "alice"
    reply = harness.invoke("erin", "mod swap", **{"with": harness.ref("frank")})
    assert (reply.key, reply.params["id"]) == ("mod.swap_requested", 1)
    reply = harness.invoke("carol", "competition task", name="absa", metric="micro_f1")
    assert reply.key == "competition.task_added", reply
    reply = harness.invoke("bob", "progress log", note="baseline", task="absa", score=0.4985)
    assert (reply.key, reply.params["id"]) == ("progress.logged", 1)
    for name in ("newbie", "root"):
        harness.actor(name)
    with harness.group() as (session, group):
        assert DUTIES[DEADLINE_DUTY].run(session, group, START.date(), START)
        auto = session.scalars(select(ProblemPick)).one()
        free = session.scalar(select(Problem.id).where(Problem.id != auto.problem_id))
    engine_of(core).dispose()
    yield path, {"actors": dict(harness.actors), FREE_PROBLEM: str(free)}


def run_case(world: tuple[Path, dict[str, Any]], tmp_path: Path, case: Case, role: str) -> None:
    template, facts = world
    path = tmp_path / "studybot.db"
    shutil.copyfile(template, path)
    core = build_core(
        Settings(database_url=f"sqlite:///{path}"),
        ManualClock(START),
        False,
        open_sandbox=fake_sandbox,
    )
    try:
        harness = Harness(core, core.services.clock, 1, dict(facts["actors"]))  # type: ignore[arg-type]
        options = {
            key: harness.ref(value) if key in ("user", "with", "member") else value
            for key, value in case.options.items()
        }
        options = {key: facts.get(value, value) for key, value in options.items()}
        name, platform_admin = who(role)
        actor = harness.actor(name, platform_admin=platform_admin)
        with harness.transaction() as session:
            before = snapshot(session)
        reply = harness.invoke(actor, case.command, **options)
        expected = case.expected[ROLES.index(role)]
        assert reply.key == expected, (case.label, role, reply)
        with harness.transaction() as session:
            after = snapshot(session)
        if expected in REFUSALS:
            assert reply.visibility is Visibility.PRIVATE
            assert after == before, "a refused command changed the database"
        elif expected.startswith("error."):
            assert reply.visibility is Visibility.PRIVATE
        elif case.label not in READ_ONLY:
            assert after != before, "an allowed change left no trace"
    finally:
        core.close_sync()
        engine_of(core).dispose()


async def fake_sandbox() -> FakeSandbox:
    return FakeSandbox(RunResult(status="ok", stdout="1\n"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_permission_matrix(
    world: tuple[Path, dict[str, Any]], tmp_path: Path, case: Case, role: str
) -> None:
    run_case(world, tmp_path, case, role)


def test_matrix_walks_every_command() -> None:
    walked = {tuple(case.command.split()) for case in CASES}
    missing = sorted(" ".join(path) for path in COMMANDS.keys() - walked)
    assert missing == [], "add these commands to CASES with who may run them"


def test_the_requested_member_and_the_requester_may_answer(
    world: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    template, facts = world
    path = tmp_path / "studybot.db"
    shutil.copyfile(template, path)
    core = build_core(Settings(database_url=f"sqlite:///{path}"), ManualClock(START), False)
    try:
        harness = Harness(core, core.services.clock, 1, dict(facts["actors"]))  # type: ignore[arg-type]
        assert harness.invoke("erin", "mod accept", id=1).key == NOT_YOURS  # not the requester
        assert harness.invoke("erin", "mod decline", id=1).key == "mod.swap_declined"  # withdraw
        assert harness.invoke("frank", "mod accept", id=1).key == "error.swap_closed"
    finally:
        engine_of(core).dispose()
