"""Bad input is refused with a clear message and writes nothing: scores are finite numbers
in their metric's range, free text is cleaned, length-limited and cannot ping anyone,
tasks must be the competition's."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from bot.errors import InvalidInput
from bot.replies import Text
from bot.services import freetext
from bot.services.bounds import format_number
from bot.services.competition import check_score, normalise_metric
from tests.conftest import Harness, snapshot
from tests.progress.helpers import entries, log

ZW = freetext.ZWSP


@pytest.fixture
def tasks(study: Harness) -> Harness:
    """Tasks absa (micro F1), cola (MCC) and loss-measured lm (lower is better)."""
    for name, metric in (("absa", "Micro-F1"), ("cola", "mcc"), ("lm", "loss")):
        reply = study.invoke("admin", "competition task", name=name, metric=metric)
        assert reply.key == "competition.task_added", reply
    return study


def refused(harness: Harness, who: str, command: str, **options: object) -> tuple[str, dict]:
    """Invoke a command that must be refused and must leave every table as it was."""
    with harness.transaction() as session:
        before = snapshot(session)
    reply = harness.invoke(who, command, **options)
    assert reply.key.startswith(("error.", "input.")), reply
    assert reply.visibility == "private"
    with harness.transaction() as session:
        assert snapshot(session) == before, "a refused command changed the database"
    return reply.key, reply.params


# --- scores (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "metric", "stored"),
    [
        (0.6679, "micro_f1", 66.79),  # a fraction is stored on the leaderboard's ×100 scale
        (66.79, "micro_f1", 66.79),
        (1, "accuracy", 100.0),
        (0, "f1", 0.0),
        (100, "acc", 100.0),
        (-0.25, "mcc", -25.0),
        (-40, "mcc", -40.0),
        (0.31, "loss", 0.31),  # not a percentage: as given
        (-123.5, None, -123.5),
        ("  12.5 ", "bleu", 12.5),
    ],
)
def test_scores_in_range_are_kept_on_the_leaderboard_scale(
    value: object, metric: str | None, stored: float
) -> None:
    assert check_score(value, metric) == pytest.approx(stored)


@pytest.mark.parametrize(
    ("value", "metric", "key"),
    [
        (math.nan, None, "error.progress_bad_score"),
        (math.inf, "f1", "error.progress_bad_score"),
        (-math.inf, None, "error.progress_bad_score"),
        ("abc", None, "error.progress_bad_score"),
        ("nan", None, "error.progress_bad_score"),
        (True, None, "error.progress_bad_score"),
        (100.01, "micro_f1", "error.progress_score_range"),
        (-0.1, "accuracy", "error.progress_score_range"),
        (-101, "mcc", "error.progress_score_range"),
        (-1, "loss", "error.progress_score_range"),
        (2e6, None, "error.progress_score_range"),
        (-2e6, "bleu", "error.progress_score_range"),
    ],
)
def test_scores_that_are_not_sane_numbers_are_refused(
    value: object, metric: str | None, key: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_score(value, metric)
    assert caught.value.key == key


def test_metric_names_are_normalised() -> None:
    assert normalise_metric(" Micro-F1 ") == "micro_f1"
    assert normalise_metric("macro f1") == "macro_f1"
    assert normalise_metric("") is None
    with pytest.raises(InvalidInput):
        normalise_metric("f1; drop")


# --- free text (pure) ----------------------------------------------------------------------


def test_mass_and_user_mentions_are_neutralised() -> None:
    text = "thanks @everyone and @here, <@123> <@!45> <@&67> <#89> mail@example.com"
    assert freetext.neutralise_mentions(text) == (
        f"thanks @{ZW}everyone and @{ZW}here, <@{ZW}123> <@{ZW}!45> <@{ZW}&67> <#{ZW}89> "
        "mail@example.com"
    )
    assert freetext.neutralise_mentions("@Everyone") == f"@{ZW}Everyone"


def test_control_characters_are_stripped_and_lines_kept_only_in_notes() -> None:
    raw = "  first\x00 line\r\nsecond\x1b[31m line\u202e\n\n\n\nthird\t end  "
    assert freetext.clean(raw, "note", 500, multiline=True) == (
        "first line\nsecond[31m line\n\nthird  end"
    )
    assert freetext.clean(raw, "model", 100) == "first line second[31m line third end"
    assert freetext.clean(" \x07 ", "model", 100) is None


# --- through the commands -----------------------------------------------------------------


def test_a_bad_score_writes_nothing(tasks: Harness) -> None:
    log(tasks, "alice", "first", task="absa", score=50)
    key, params = refused(tasks, "bob", "progress log", note="x", task="absa", score=math.nan)
    assert (key, params["value"]) == ("error.bad_option", "nan")  # not a number at all
    assert refused(tasks, "bob", "progress log", note="x", task="absa", score=101) == (
        "error.progress_score_range",
        {"metric": "micro_f1", "value": "101", "low": "0", "high": "100"},
    )
    key, _ = refused(tasks, "alice", "progress edit", id=1, score=-5, note="changed")
    assert key == "error.progress_score_range"
    assert [row[3] for row in entries(tasks)] == ["first"]  # the note did not change either


def test_notes_are_limited_to_500_characters(study: Harness) -> None:
    assert refused(study, "alice", "progress log", note="가" * 501) == (
        "error.progress_text_too_long",
        {"field": _field("note"), "max": 500, "length": 501},
    )
    assert refused(study, "alice", "progress log", note=" \n ") == (
        "error.progress_text_required",
        {"field": _field("note")},
    )
    key, params = refused(study, "alice", "progress log", note="ok", model="m" * 101)
    assert (key, params["max"]) == ("error.progress_text_too_long", 100)
    key, params = refused(study, "alice", "progress log", note="ok", repro="r" * 301)
    assert (key, params["max"]) == ("error.progress_text_too_long", 300)
    log(study, "alice", "가" * 500)
    assert len(entries(study)[0][3]) == 500


def _field(name: str) -> Text:
    return Text(freetext.FIELDS[name])


def test_mentions_in_an_entry_are_stored_harmless(study: Harness) -> None:
    reply = log(study, "alice", "done @everyone <@42>", model="@here-bert")
    [row] = entries(study)
    assert row[3] == f"done @{ZW}everyone <@{ZW}42>"
    assert row[7] == f"@{ZW}here-bert"
    assert reply.lines[0].params == {"note": row[3]}


@pytest.mark.sqlite_only
def test_an_unknown_task_is_refused_with_the_list(tasks: Harness) -> None:
    assert refused(tasks, "alice", "progress log", note="x", task="wic", score=70) == (
        "error.progress_unknown_task",
        {"task": "wic", "tasks": "absa, cola, lm"},
    )
    assert refused(tasks, "alice", "progress log", note="x", score=70) == (
        "error.progress_score_needs_task",
        {"tasks": "absa, cola, lm"},
    )
    assert refused(tasks, "alice", "progress log", note="x", task="absa", metric="acc") == (
        "error.progress_metric_mismatch",
        {"task": "absa", "metric": "micro_f1", "given": "acc"},
    )
    assert refused(tasks, "alice", "progress leaderboard", task="wic")[0] == (
        "error.progress_unknown_task"
    )


@pytest.mark.sqlite_only
def test_the_metric_comes_from_the_task(tasks: Harness) -> None:
    log(tasks, "alice", "a", task="ABSA", score=0.5012)  # the task's own spelling is kept
    log(tasks, "alice", "b", task="cola", score=-0.2, metric="MCC")
    log(tasks, "alice", "c", task="lm", score=2.5)
    log(tasks, "alice", "d", task="absa")  # a task without a score is fine
    assert [(row[4], row[5], row[6]) for row in entries(tasks)] == [
        ("absa", "micro_f1", pytest.approx(50.12)),
        ("cola", "mcc", pytest.approx(-20.0)),
        ("lm", "loss", 2.5),
        ("absa", "micro_f1", None),
    ]


@pytest.mark.sqlite_only
def test_without_tasks_anything_sane_goes_and_one_task_is_the_default(study: Harness) -> None:
    log(study, "alice", "free", task="my-task", metric="bleu", score=33.3)
    assert entries(study)[0][4:7] == ("my-task", "bleu", 33.3)
    study.invoke("admin", "competition task", name="absa", metric="micro_f1")
    log(study, "alice", "only one task", score=0.66)
    assert entries(study)[1][4:7] == ("absa", "micro_f1", pytest.approx(66.0))


@pytest.mark.sqlite_only
def test_editing_changes_only_the_given_fields(tasks: Harness) -> None:
    entry_id = int(
        log(tasks, "alice", "first", task="absa", score=50, model="bert", repro="seed 1").params[
            "id"
        ]
    )
    tasks.clock.advance(timedelta(hours=1))
    reply = tasks.invoke("alice", "progress edit", id=entry_id, score=0.55, submitted=True)
    assert (reply.key, reply.visibility) == ("progress.edited", "private")
    assert entries(tasks)[0][3:] == ("first", "absa", "micro_f1", 55.0, "bert", True, "seed 1")
    tasks.invoke("alice", "progress edit", id=entry_id, model="", note="second")
    assert entries(tasks)[0][3:] == ("second", "absa", "micro_f1", 55.0, None, True, "seed 1")
    assert refused(tasks, "alice", "progress edit", id=entry_id) == (
        "error.nothing_to_change",
        {},
    )
    assert refused(tasks, "alice", "progress edit", id=entry_id, note="")[0] == (
        "error.progress_text_required"
    )
    assert refused(tasks, "alice", "progress edit", id=999, note="x") == (
        "error.progress_entry_missing",
        {"id": 999},
    )


@pytest.mark.sqlite_only
def test_competition_settings_are_checked(study: Harness) -> None:
    key, params = refused(study, "admin", "competition set", limit=-1)
    assert (key, params["value"], params["low"], params["high"]) == (
        "input.out_of_range",
        "-1",
        "0",
        "1,000",
    )
    assert refused(study, "admin", "competition set")[0] == "error.nothing_to_change"
    assert refused(study, "admin", "competition set", deadline="someday")[0] == "error.bad_date"
    assert refused(study, "admin", "competition task", name="absa") == (
        "error.competition_task_needs_metric",
        {"name": "absa"},
    )
    assert refused(study, "admin", "competition task", name="absa", remove=True) == (
        "error.competition_task_missing",
        {"name": "absa"},
    )
    reply = study.invoke("admin", "competition set", name="말뭉치", deadline="12-31", limit=0)
    assert (reply.key, reply.params["limit"]) == (
        "competition.updated",
        Text("competition.no_limit"),
    )
    reply = study.invoke("admin", "competition set", deadline="none")
    assert reply.params["deadline"] == "-"
    reply = study.invoke("admin", "competition task", name="lm", metric="loss")
    assert reply.params["direction"].key == "competition.lower"
    reply = study.invoke("admin", "competition task", name="LM", higher=True)
    assert (reply.key, reply.params["direction"].key) == (
        "competition.task_updated",
        "competition.higher",
    )
    assert study.invoke("admin", "competition task", name="lm", remove=True).key == (
        "competition.task_removed"
    )


# --- a score both scales accept ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "score", "stored", "noted", "fix"),
    [
        ("absa", 1, 100.0, True, "0.01"),  # a perfect score, or 1 point of 100? said so
        ("absa", 0.6679, 66.79, False, None),  # plainly a fraction
        ("absa", 66.79, 66.79, False, None),
        ("cola", -1, -100.0, True, "-0.01"),
        ("cola", 1, 100.0, True, "0.01"),
        ("lm", 1, 1.0, False, None),  # not a fraction metric: as given
    ],
)
def test_an_ambiguous_score_says_how_it_was_read(
    tasks: Harness, task: str, score: float, stored: float, noted: bool, fix: str | None
) -> None:
    reply = log(tasks, "alice", "x", task=task, score=score)
    notes = [line for line in reply.lines if line.key == "input.score_read_as_fraction"]
    assert [row[6] for row in entries(tasks)] == [pytest.approx(stored)]
    if not noted:
        assert notes == []
        return
    (note,) = notes
    assert (note.params["given"], note.params["fix"], note.params["id"]) == (
        format_number(score),
        fix,
        reply.params["id"],
    )
    edited = tasks.invoke("alice", "progress edit", id=reply.params["id"], score=float(fix or 0))
    assert edited.key == "progress.edited"
    assert [row[6] for row in entries(tasks)] == [pytest.approx(stored / 100)]
