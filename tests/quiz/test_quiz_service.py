"""/quiz through the shared command table (``Core.invoke_sync``), on SQLite and, when
configured, PostgreSQL: a card learned over five study days, the card on the table across
a restart, whose cards one may answer, refusals that change nothing, stats, the export and
the nudge."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import build_core
from bot.clock import ManualClock
from bot.commands import Call
from bot.config import Settings
from bot.core import Core
from bot.replies import Reply
from bot.services import quiz
from db.models import OutboxMessage, QuizCard, QuizMember, QuizReview
from tests.conftest import SEOUL, Harness, snapshot

FIRST = "backward-gradient.vector-output"  # the deck's first card: multiple choice, answer 2
SECOND = "backward-gradient.what-it-computes"  # an open card


def card_row(harness: Harness, name: str, card_id: str) -> QuizCard | None:
    user_id = harness.actor(name).user_id
    with harness.transaction() as session:
        from db.models import Member

        member = session.scalar(select(Member).where(Member.user_id == user_id))
        assert member is not None
        row = session.scalar(
            select(QuizCard).where(QuizCard.member_id == member.id, QuizCard.card_id == card_id)
        )
        if row is not None:
            session.expunge(row)
        return row


def day(text: str, hour: int = 10) -> str:
    return f"{text} {hour:02d}:00"


def test_a_member_learns_a_card_over_five_study_days(harness: Harness) -> None:
    harness.join("alice")
    days = ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-15", "2026-12-22"]
    for number, when in enumerate(days, start=1):
        harness.at(day(when))
        card = harness.invoke("alice", "quiz")
        assert card.key == "quiz.card", card
        assert card.actions[1].command == f"/quiz answer choice:2 card:{FIRST}"
        answered = harness.invoke("alice", "quiz answer", choice=2)
        row = card_row(harness, "alice", FIRST)
        assert row is not None and row.recalls == number
        if number < 5:
            assert answered.key == "quiz.knew", answered
            assert row.learned_on is None
            assert row.due_on.isoformat() == days[number]  # due again on the next of these
            assert answered.params["day"] == row.due_on
        else:
            assert answered.key == "quiz.learned"
            assert row.learned_on == date(2026, 12, 22)
    # the days in between (weekends too) it was not due: exactly these five days
    with harness.transaction() as session:
        knew = session.scalars(
            select(QuizReview.local_date).where(QuizReview.card_id == FIRST)
        ).all()
    assert [d.isoformat() for d in knew] == days


def test_an_open_card_is_revealed_then_self_graded(harness: Harness) -> None:
    harness.join("alice")
    harness.invoke("alice", "quiz")
    harness.invoke("alice", "quiz answer", choice=2)
    card = harness.invoke("alice", "quiz")
    assert [a.kind for a in card.actions] == ["quiz_reveal"]
    refused = harness.invoke("alice", "quiz grade", result="knew")
    assert refused.key == "quiz.reveal_first"
    assert harness.invoke("alice", "quiz answer", choice=1).key == "quiz.open_card"
    shown = harness.invoke("alice", "quiz reveal")
    assert shown.key == "quiz.answer"
    assert [a.kind for a in shown.actions] == ["quiz_knew", "quiz_missed"]
    missed = harness.invoke("alice", "quiz grade", result="몰랐음")
    assert missed.key == "quiz.missed" and missed.params["day"] == date(2026, 12, 8)
    row = card_row(harness, "alice", SECOND)
    assert row is not None and (row.box, row.recalls) == (1, 0)


def test_a_wrong_choice_is_a_miss_and_says_the_right_one(harness: Harness) -> None:
    harness.join("alice")
    harness.invoke("alice", "quiz")
    wrong = harness.invoke("alice", "quiz answer", choice=1)
    assert wrong.key == "quiz.missed"
    assert wrong.lines[0].key == "quiz.wrong" and wrong.lines[0].params["number"] == 2


def test_refusals_change_nothing(harness: Harness) -> None:
    harness.join("alice")
    with harness.transaction() as session:
        before = snapshot(session)
    for command, options, key in [
        ("quiz reveal", {}, "quiz.no_card"),
        ("quiz grade", {"result": "knew"}, "quiz.no_card"),
        ("quiz answer", {"choice": 1}, "quiz.no_card"),
        ("quiz nudge", {"time": "25:00"}, "quiz.bad_nudge_time"),
        ("quiz stats", {"scope": "everyone"}, "quiz.bad_scope"),
    ]:
        assert harness.invoke("alice", command, **options).key == key, command
    assert harness.invoke("alice", "quiz answer", choice=6).key == "input.out_of_range"
    overlong = harness.invoke("alice", "quiz nudge", time="9" * 500)
    assert overlong.key == "quiz.bad_nudge_time" and len(overlong.params["value"]) <= 100
    with harness.transaction() as session:
        after = snapshot(session)
    # refusals write nothing but the quiz state row made on first use (none here)
    assert {k: v for k, v in after.items() if k != "users"} == {
        k: v for k, v in before.items() if k != "users"
    }


def test_a_choice_card_refuses_reveal_and_a_bad_number(harness: Harness) -> None:
    harness.join("alice")
    harness.invoke("alice", "quiz")
    assert harness.invoke("alice", "quiz reveal").key == "quiz.choice_card"
    assert harness.invoke("alice", "quiz grade", result="knew").key == "quiz.choice_card"
    assert harness.invoke("alice", "quiz answer", choice=4).key == "quiz.bad_choice"
    assert harness.invoke("alice", "quiz grade", result="maybe").key == "quiz.bad_result"
    row = card_row(harness, "alice", FIRST)
    assert row is not None and row.recalls == 0


def test_nobody_answers_another_members_card(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.invoke("alice", "quiz")  # alice's card on the table
    # bob presses alice's button: his own table holds no such card
    assert harness.invoke("bob", "quiz answer", choice=2, card=FIRST).key == "quiz.stale_card"
    harness.invoke("bob", "quiz")  # bob gets the same card for himself
    harness.invoke("bob", "quiz answer", choice=2)
    bob_card = harness.invoke("bob", "quiz")  # bob's second card is on his table now
    assert bob_card.key == "quiz.card"
    # a button made for alice's first card does nothing to bob's table or alice's card
    assert harness.invoke("bob", "quiz answer", choice=2, card=FIRST).key == "quiz.stale_card"
    alice = card_row(harness, "alice", FIRST)
    assert alice is not None and alice.recalls == 0
    assert harness.invoke("carol", "quiz").key == "error.not_member"


def test_the_card_on_the_table_survives_a_restart(
    harness: Harness, settings: Settings, clock: ManualClock
) -> None:
    harness.join("alice")
    harness.invoke("alice", "quiz")
    harness.invoke("alice", "quiz answer", choice=2)
    harness.invoke("alice", "quiz")
    harness.invoke("alice", "quiz reveal")
    harness.core.close_sync()
    restarted = build_core(settings, clock)
    try:
        call = Call(harness.group_id, harness.actor("alice"))
        graded = restarted.invoke_sync(("quiz", "grade"), call, {"result": "knew", "card": SECOND})
        assert graded.key == "quiz.knew"
        harness.at(day("2026-12-08"))
        again = restarted.invoke_sync(("quiz",), call, {})
        assert again.key == "quiz.card"  # due again the next study day
        assert {a.command.split("card:")[1] for a in again.actions} in ({FIRST}, {SECOND})
    finally:
        restarted.close_sync()


def test_away_days_do_not_count(harness: Harness) -> None:
    harness.join("alice")
    assert harness.invoke("alice", "away", **{"from": "2026-12-08", "to": "2026-12-09"}).key
    harness.invoke("alice", "quiz")
    harness.invoke("alice", "quiz answer", choice=2)
    row = card_row(harness, "alice", FIRST)
    assert row is not None and row.due_on == date(2026, 12, 10)


def test_new_cards_come_a_few_a_day(harness: Harness) -> None:
    harness.join("alice")
    for _ in range(quiz.NEW_PER_DAY):
        card = harness.invoke("alice", "quiz")
        assert card.key == "quiz.card"
        if card.actions[0].kind == "quiz_choice":
            harness.invoke("alice", "quiz answer", choice=1)
        else:
            harness.invoke("alice", "quiz reveal")
            harness.invoke("alice", "quiz grade", result="missed")
    assert harness.invoke("alice", "quiz").key == "quiz.none_due_new_tomorrow"
    stats = harness.invoke("alice", "quiz stats")
    assert stats.params["progress"] == quiz.NEW_PER_DAY
    assert stats.params["due"] == 0 and stats.params["today"] == 0
    assert stats.params["total"] == len(quiz.deck())


def test_group_stats_draw_a_chart_after_the_transaction(harness: Harness) -> None:
    harness.join("alice", "bob")
    reply = harness.invoke("alice", "quiz stats", scope="group")
    assert reply.key == "quiz.stats_group" and reply.params["members"] == 2
    assert len(reply.lines) == len({card.lesson_id for card in quiz.deck()})
    (chart,) = reply.attachments
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")


def test_the_export_is_an_anki_deck_with_both_languages(harness: Harness, tmp_path: Path) -> None:
    harness.join("alice")
    reply = harness.invoke("alice", "quiz export")
    (deck,) = reply.attachments
    assert deck.filename.endswith(".apkg")
    with zipfile.ZipFile(io.BytesIO(deck.data)) as archive:
        assert "collection.anki2" in archive.namelist()
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "c.anki2") as db:
        notes = db.execute("select flds from notes").fetchall()
        cards = db.execute("select count(*) from cards").fetchone()[0]
    assert len(notes) == cards == len(quiz.deck())
    joined = "\n".join(fields for (fields,) in notes)
    first = quiz.find_card(FIRST)
    assert first is not None
    assert first.question_ko in joined and first.question_en in joined


def outbox_dms(harness: Harness) -> list[OutboxMessage]:
    with harness.transaction() as session:
        rows = list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.user_id.is_not(None)))
        )
        for row in rows:
            session.expunge(row)
        return rows


def sweep(core: Core) -> int:
    with core.services.transaction() as session:
        return quiz.sweep(session, core.services.clock.now())


def test_the_nudge_is_off_by_default_then_comes_once_a_day(harness: Harness) -> None:
    harness.join("alice", "bob")
    harness.at(day("2026-12-07", 20))
    assert sweep(harness.core) == 0  # nobody asked for one
    assert harness.invoke("alice", "quiz nudge").key == "quiz.nudge_off"
    assert harness.invoke("alice", "quiz nudge", time="20:30").key == "quiz.nudge_set"
    assert sweep(harness.core) == 0  # 20:00: not yet
    harness.at(datetime(2026, 12, 7, 20, 30, tzinfo=SEOUL))
    assert sweep(harness.core) == 1
    assert sweep(harness.core) == 0  # the same day: claimed already
    (dm,) = outbox_dms(harness)
    assert dm.user_id == harness.actor("alice").user_id
    assert dm.body["key"] == "quiz.nudge" and dm.body["params"]["count"] == quiz.NEW_PER_DAY
    harness.at(datetime(2026, 12, 12, 20, 31, tzinfo=SEOUL))  # Saturday: not a study day
    assert sweep(harness.core) == 0
    harness.at(datetime(2026, 12, 14, 20, 31, tzinfo=SEOUL))  # Monday
    assert sweep(harness.core) == 1
    assert harness.invoke("alice", "quiz nudge", time="끔").key == "quiz.nudge_cleared"
    harness.at(datetime(2026, 12, 15, 20, 31, tzinfo=SEOUL))
    assert sweep(harness.core) == 0
    with harness.transaction() as session:
        assert session.scalar(select(QuizMember.nudge_time)) is None


def test_the_digest_counts_cards_learned_yesterday(harness: Harness) -> None:
    harness.join("alice")
    for when in ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-15", "2026-12-22"]:
        harness.at(day(when))
        harness.invoke("alice", "quiz")
        last: Reply = harness.invoke("alice", "quiz answer", choice=2)
    assert last.key == "quiz.learned"
    with harness.group() as (session, group):
        line = quiz.digest_line(session, group, date(2026, 12, 23))
        assert line is not None and line.params == {"count": 1}
        assert quiz.digest_line(session, group, date(2026, 12, 22)) is None
        # Monday's digest covers Friday to Sunday
        span = quiz.digest_line(session, group, date(2026, 12, 28))
        assert span is None  # the card was learned on Tuesday
