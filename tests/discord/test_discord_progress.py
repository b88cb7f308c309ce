"""/progress and /competition end to end: payload → command tree → core → recorded
Discord response (files included, as multipart).

Drawing charts may take a while on a busy machine; the bot here never defers, so each
command has one answer to look at (deferral is ``test_discord_slow``'s subject).
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.core import Core
from bot.services.progress import CSV_COLUMNS
from db.models import ProgressEntry
from tests.discord.fakes import ALICE, BOB, CAROL, Gateway


@pytest.fixture(autouse=True)
def never_deferred(studybot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(studybot, "defer_after", 600)


async def members(gateway: Gateway) -> None:
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)


async def competition(gateway: Gateway) -> None:
    await gateway.command("competition set", ALICE, admin=True, name="모두의 말뭉치")
    await gateway.command("competition task", ALICE, admin=True, name="absa", metric="micro_f1")
    await gateway.command(
        "competition task", ALICE, admin=True, name="sentiment", metric="accuracy"
    )


def entries(core: Core) -> list[ProgressEntry]:
    with core.services.transaction() as session:
        found = list(session.scalars(select(ProgressEntry).order_by(ProgressEntry.id)))
        session.expunge_all()
        return found


async def test_a_member_logs_with_options_in_public(gateway: Gateway, core: Core) -> None:
    await members(gateway)
    (logged,) = await gateway.command(
        "progress log", ALICE, note="tokenizer baseline", task="sentiment", score=0.8125
    )
    assert (logged.via, logged.type) == ("response", 4)
    assert not logged.ephemeral
    lines = logged.content.splitlines()
    assert lines[0] == "<@101> 님의 진행 기록 #1"
    assert "한 일: tokenizer baseline" in lines
    assert "0.8125" in logged.content
    ((entry,),) = [entries(core)]
    assert (entry.note, entry.task, entry.score) == ("tokenizer baseline", "sentiment", 0.8125)


async def test_the_form_logs_through_the_core(gateway: Gateway, core: Core) -> None:
    await members(gateway)
    await competition(gateway)
    (form,) = await gateway.command("progress log", ALICE, task="absa", submitted=True)
    assert form.type == 9 and form.inputs["task"]["value"] == "absa"

    (logged,) = await gateway.submit(form, {"note": "ensemble of three seeds", "score": "66.79"})
    assert logged.type == 4 and not logged.ephemeral
    assert logged.content.startswith("<@101> 님의 진행 기록 #1")
    (entry,) = entries(core)
    assert (entry.note, entry.task, entry.metric) == ("ensemble of three seeds", "absa", "micro_f1")
    assert entry.score == 66.79 and entry.submitted is True  # submitted travelled with the form


async def test_the_core_refuses_a_form_privately(gateway: Gateway, core: Core) -> None:
    await members(gateway)
    (form,) = await gateway.command("progress log", CAROL)  # Carol has not joined
    (refused,) = await gateway.submit(form, {"note": "hello"}, CAROL)
    assert refused.type == 4 and refused.ephemeral
    assert refused.content == "먼저 `/멤버 참여`로 스터디에 참여하세요."  # Korean names
    assert entries(core) == []


async def test_task_names_complete_from_the_competition(gateway: Gateway) -> None:
    await competition(gateway)
    choices = await gateway.autocomplete("progress log", "task", "")
    assert choices == [
        {"name": "absa (micro_f1)", "value": "absa"},
        {"name": "sentiment (accuracy)", "value": "sentiment"},
    ]
    assert [c["value"] for c in await gateway.autocomplete("progress log", "task", "SENT")] == [
        "sentiment"
    ]
    leaderboard = await gateway.autocomplete("progress leaderboard", "task", "ab")
    assert [c["value"] for c in leaderboard] == ["absa"]
    existing = await gateway.autocomplete("competition task", "name", "")
    assert [c["value"] for c in existing] == ["absa", "sentiment"]


async def test_group_progress_comes_with_charts(gateway: Gateway) -> None:
    await members(gateway)
    await gateway.command("progress log", ALICE, note="baseline", task="sentiment", score=0.7)
    await gateway.command("progress log", BOB, note="eda", task="sentiment", score=0.6)
    (week,) = await gateway.command("progress group", ALICE, period="week")
    assert week.type == 4
    assert "alice" in week.content and "bob" in week.content
    names = [name for name, _ in week.files]
    assert len(names) >= 1 and all(name.endswith(".png") for name in names)
    assert all(data.startswith(b"\x89PNG") for _, data in week.files)
    assert [a["filename"] for a in week.data["attachments"]] == names  # sent as multipart


async def test_export_is_a_private_csv(gateway: Gateway) -> None:
    await members(gateway)
    await gateway.command("progress log", ALICE, note="baseline, with a comma", score=0.7)
    (export,) = await gateway.command("progress export", ALICE)
    assert export.ephemeral
    ((name, data),) = export.files
    assert name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1][CSV_COLUMNS.index("note")] == "baseline, with a comma"


async def test_only_an_admin_sets_the_competition(gateway: Gateway) -> None:
    (refused,) = await gateway.command("competition set", ALICE, name="모두의 말뭉치")
    assert refused.ephemeral
    assert refused.content == "관리자만 할 수 있습니다."
    (shown,) = await gateway.command("competition show", ALICE)
    assert "모두의 말뭉치" not in shown.content

    (done,) = await gateway.command(
        "competition set", ALICE, admin=True, name="모두의 말뭉치", deadline="2026-12-31", limit=3
    )
    assert done.ephemeral
    assert done.content.startswith("대회 설정을 바꿨습니다.\n대회: 모두의 말뭉치")
    assert "12월 31일(목)" in done.content


async def test_only_an_admin_forgets_a_member(gateway: Gateway, core: Core) -> None:
    await members(gateway)
    await gateway.command("progress log", BOB, note="eda")
    (refused,) = await gateway.command("progress forget", ALICE, user=BOB)
    assert refused.ephemeral and refused.content == "관리자만 할 수 있습니다."
    assert len(entries(core)) == 1

    (forgotten,) = await gateway.command("progress forget", ALICE, admin=True, user=BOB)
    assert forgotten.content.startswith("<@102> 님의 진행 기록 1건")
    assert entries(core) == []


async def test_edit_and_delete_own_entries_by_number(gateway: Gateway, core: Core) -> None:
    await members(gateway)
    await gateway.command("progress log", ALICE, note="first try", score=0.5)
    (edited,) = await gateway.command("progress edit", ALICE, id=1, score=0.75, submitted=True)
    assert edited.ephemeral and edited.content.startswith("기록 #1")
    assert entries(core)[0].score == 0.75

    (refused,) = await gateway.command("progress delete", BOB, id=1)
    assert refused.ephemeral
    (deleted,) = await gateway.command("progress delete", ALICE, id=1)
    assert deleted.ephemeral
    assert entries(core) == []
