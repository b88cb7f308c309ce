"""Entries: only their author edits or deletes them; the leaderboard; CSV export (admins
everything, members their own) that round-trips; and deleting a member's data."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.replies import Reply, Text
from bot.schedule.runner import run_duty
from bot.services.duty_runs import PROGRESS_REMINDER_DUTY
from bot.services.progress import CSV_COLUMNS
from db.models import Member
from tests.conftest import SEOUL, Harness, snapshot
from tests.progress.helpers import entries, log, log_on, outbox


def read_csv(reply: Reply) -> list[dict[str, str]]:
    """The export's rows, parsed back as a spreadsheet would (BOM, quoting, formulas)."""
    [attachment] = reply.attachments
    assert attachment.filename.endswith(".csv")
    assert attachment.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Korean
    text = attachment.data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def unescape(cell: str) -> str:
    """A spreadsheet shows a leading quote as "text, not a formula"."""
    return cell[1:] if cell[:2] in {"'=", "'+", "'-", "'@"} else cell


def as_entry(row: dict[str, str]) -> tuple[Any, ...]:
    """A CSV row in the shape of ``helpers.entries`` (without the id)."""
    return (
        unescape(row["member"]),
        date.fromisoformat(row["date"]),
        unescape(row["note"]),
        unescape(row["task"]) or None,
        unescape(row["metric"]) or None,
        float(row["score"]) if row["score"] else None,
        unescape(row["model"]) or None,
        {"yes": True, "no": False}[row["submitted"]],
        unescape(row["repro"]) or None,
    )


@pytest.fixture
def logged(study: Harness) -> Harness:
    """Entries 1-2 by alice, 3 by bob (tricky text), 4 by carol."""
    study.invoke("admin", "competition task", name="absa", metric="micro_f1")
    log_on(study, "alice", "2026-12-07", 'baseline, "quoted"\nsecond line', score=49.85)
    log_on(study, "alice", "2026-12-08", "토크나이저 교체", score=0.5512, model="klue/roberta")
    log_on(
        study,
        "bob",
        "2026-12-08",
        '=HYPERLINK("http://evil")',
        score=61.0,
        model="+cmd",
        repro="-seed 7, @config.yaml",
        submitted=True,
    )
    log_on(study, "carol", "2026-12-09", "read the ABSA paper")
    return study


# --- ownership ------------------------------------------------------------------------


def test_only_the_author_may_edit_or_delete_an_entry(logged: Harness) -> None:
    with logged.transaction() as session:
        before = snapshot(session)
    for who in ("bob", "carol"):
        for command, options in (("progress edit", {"note": "mine now"}), ("progress delete", {})):
            reply = logged.invoke(who, command, id=1, **options)
            assert (reply.key, reply.params) == ("error.progress_not_yours", {"id": 1}), who
    root = logged.actor("root", platform_admin=True)  # an admin, but no author
    assert logged.invoke(root, "progress delete", id=1).key == "error.not_member"
    logged.join("root")
    assert logged.invoke(root, "progress delete", id=1).key == "error.progress_not_yours"
    with logged.transaction() as session:
        after = snapshot(session)
    assert after["progress_entries"] == before["progress_entries"]
    reply = logged.invoke("alice", "progress delete", id=1)
    assert (reply.key, reply.params["id"]) == ("progress.deleted", 1)
    assert [row[0] for row in entries(logged)] == [2, 3, 4]
    assert logged.invoke("alice", "progress delete", id=1).key == "error.progress_entry_missing"


@pytest.mark.sqlite_only
def test_a_member_who_left_can_no_longer_change_entries(logged: Harness) -> None:
    assert logged.invoke("carol", "member leave").key == "member.left"
    assert logged.invoke("carol", "progress edit", id=4, note="x").key == "error.not_member"


def test_a_former_member_still_sees_their_own_kept_history(logged: Harness) -> None:
    assert logged.invoke("carol", "member leave").key == "member.left"
    me = logged.invoke("carol", "progress me")
    assert (me.key, me.params["count"]) == ("progress.me", 1)
    keys = [line.key for line in me.lines]
    assert keys[0] == "input.progress_former_member"
    assert "progress.entry_line" in keys  # the kept entry is listed
    exported = logged.invoke("carol", "progress export")
    assert (exported.key, exported.params) == ("progress.export_own", {"count": 1})
    assert {row["member"] for row in read_csv(exported)} == {"carol"}
    stranger = logged.invoke("stranger", "progress me")
    assert stranger.key == "error.not_member"  # never a member: nothing to see
    back = logged.invoke("carol", "member join")
    assert back.key == "member.joined"
    again = logged.invoke("carol", "progress me")
    assert "input.progress_former_member" not in [line.key for line in again.lines]


# --- leaderboard ---------------------------------------------------------------------


def test_the_leaderboard_ranks_each_members_best_score(logged: Harness) -> None:
    logged.at("2026-12-09 21:00")
    log(logged, "carol", "tie with bob", score=61)
    reply = logged.invoke("stranger", "progress leaderboard")
    assert (reply.key, reply.params) == ("progress.leaderboard", {"tasks": 1})
    assert reply.lines == [
        Text(
            "progress.leaderboard_task",
            {"task": "absa", "metric": "micro_f1", "direction": Text("competition.higher")},
        ),
        Text(
            "progress.leaderboard_line_model",
            {
                "rank": 1,
                "name": "bob",
                "score": "61",
                "day": date(2026, 12, 8),
                "model": "+cmd",
            },
        ),
        Text(
            "progress.leaderboard_line",
            {"rank": 1, "name": "carol", "score": "61", "day": date(2026, 12, 9), "model": None},
        ),
        Text(
            "progress.leaderboard_line_model",
            {
                "rank": 3,
                "name": "alice",
                "score": "55.12",
                "day": date(2026, 12, 8),
                "model": "klue/roberta",
            },
        ),
    ]


@pytest.mark.sqlite_only
def test_lower_is_better_and_a_task_filter(study: Harness) -> None:
    study.invoke("admin", "competition task", name="lm", metric="loss")
    study.invoke("admin", "competition task", name="absa", metric="micro_f1")
    assert study.invoke("alice", "progress leaderboard").key == "progress.leaderboard_empty"
    log(study, "alice", "a", task="lm", score=2.5)
    log(study, "alice", "b", task="lm", score=1.5)
    log(study, "bob", "c", task="lm", score=1.9)
    log(study, "bob", "d", task="absa", score=70)
    reply = study.invoke("alice", "progress leaderboard", task="LM")
    assert [(t.params.get("name"), t.params.get("score")) for t in reply.lines] == [
        (None, None),
        ("alice", "1.5"),
        ("bob", "1.9"),
    ]
    assert reply.lines[0].params["direction"] == Text("competition.lower")
    assert study.invoke("alice", "progress leaderboard").params == {"tasks": 2}


# --- export --------------------------------------------------------------------------


def test_the_csv_export_round_trips(logged: Harness) -> None:
    logged.at("2026-12-10 08:00")
    reply = logged.invoke("admin", "progress export")
    assert (reply.key, reply.params, reply.visibility) == (
        "progress.export_all",
        {"count": 4},
        "private",
    )
    assert reply.attachments[0].filename == "progress-2026-12-10.csv"
    rows = read_csv(reply)
    assert [as_entry(row) for row in rows] == [row[1:] for row in entries(logged)]
    # formulas are shown as text, never run; numbers stay numbers
    assert rows[2]["note"] == '\'=HYPERLINK("http://evil")'
    assert (rows[2]["model"], rows[2]["repro"]) == ("'+cmd", "'-seed 7, @config.yaml")
    assert rows[1]["score"] == "55.12"
    created = datetime.fromisoformat(rows[0]["created_at"])
    assert created == datetime(2026, 12, 7, 20, 0, tzinfo=SEOUL)
    assert created.utcoffset() == SEOUL.utcoffset(created)  # in the group's time


def test_members_export_only_their_own_entries(logged: Harness) -> None:
    reply = logged.invoke("alice", "progress export")
    assert (reply.key, reply.params) == ("progress.export_own", {"count": 2})
    assert {row["member"] for row in read_csv(reply)} == {"alice"}
    assert reply.attachments[0].filename.startswith("my-progress-")
    assert logged.invoke("stranger", "progress export").key == "error.not_member"


# --- deleting a member's data ---------------------------------------------------------


def test_an_admin_deletes_a_members_data_and_exports_forget_them(logged: Harness) -> None:
    assert logged.invoke("bob", "progress reminder", mode="dm").key == "progress.reminder_set"
    logged.at("2026-12-10 21:00")  # nobody logged Thursday: bob's private reminder is queued
    run_duty(logged.core.services, logged.group_id, PROGRESS_REMINDER_DUTY, date(2026, 12, 10))
    bob = logged.actor("bob").user_id
    assert [user_id for user_id, _ in outbox(logged)] == [None, bob]
    refused = logged.invoke("carol", "progress forget", user=logged.ref("bob"))
    assert refused.key == "error.admin_only"
    assert logged.invoke("bob", "member leave").key == "member.left"  # a former member too
    reply = logged.invoke("admin", "progress forget", user=logged.ref("bob"))
    assert (reply.key, reply.params["count"], reply.visibility) == (
        "progress.forgot",
        1,
        "private",
    )
    assert [row[1] for row in entries(logged)] == ["alice", "alice", "carol"]
    rows = read_csv(logged.invoke("admin", "progress export"))
    assert {row["member"] for row in rows} == {"alice", "carol"}
    assert all("evil" not in value for row in rows for value in row.values())
    leaderboard = logged.invoke("admin", "progress leaderboard")
    assert "bob" not in [t.params.get("name") for t in leaderboard.lines]
    assert [user_id for user_id, _ in outbox(logged)] == [None]  # his reminder went too
    with logged.transaction() as session:
        member = session.scalars(select(Member).where(Member.user_id == bob)).one()
        assert member.progress_reminder == "on"
    missing = logged.invoke("admin", "progress forget", user=logged.ref("nobody"))
    assert missing.key == "error.member_missing"


def test_a_deleted_entrys_number_is_never_given_to_another(logged: Harness) -> None:
    assert logged.invoke("carol", "progress delete", id=4).key == "progress.deleted"  # the last
    assert log(logged, "carol", "again").params["id"] == 5
