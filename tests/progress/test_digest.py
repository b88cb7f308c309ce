"""The digest in the review-time post: the previous study day's entries (and those of the
days off since), who did not log, new best scores, and the days left to the deadline.
It rides on the review duty's claim, so it is posted exactly once with it."""

from __future__ import annotations

from datetime import date

import pytest

from bot.replies import Reply, Text, reply_from_json
from bot.schedule.runner import run_duty
from bot.services.duty_runs import REVIEW_DUTY
from tests.conftest import Harness
from tests.progress.helpers import log_on, outbox

MONDAY, TUESDAY, WEDNESDAY = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)


def review(harness: Harness, day: date) -> list[Reply]:
    """Run the review duty of ``day`` at 09:30; the posts it wrote."""
    before = len(outbox(harness))
    harness.at(f"{day.isoformat()} 09:30")
    run_duty(harness.core.services, harness.group_id, REVIEW_DUTY, day)
    return [reply_from_json(body) for _, body in outbox(harness)[before:]]


def digest_of(posts: list[Reply]) -> Reply:
    [found] = [p for p in posts if p.key.startswith("progress.digest")]
    return found


@pytest.fixture
def competing(study: Harness) -> Harness:
    """The competition: task absa (micro F1), deadline Thursday 12-31."""
    study.at("2026-12-07 08:00")
    reply = study.invoke("admin", "competition set", name="말뭉치", deadline="2026-12-31")
    assert reply.key == "competition.updated"
    reply = study.invoke("admin", "competition task", name="absa", metric="micro_f1")
    assert reply.key == "competition.task_added"
    return study


def line(key: str, **params: object) -> Text:
    return Text(key, dict(params))


def test_the_review_post_is_followed_by_yesterdays_digest(competing: Harness) -> None:
    first = log_on(competing, "alice", "2026-12-07", "baseline", score=0.5)
    second = log_on(competing, "bob", "2026-12-07", "read the paper")
    posts = review(competing, TUESDAY)
    assert [p.key for p in posts] == ["duty.review", "progress.digest"]
    digest = posts[1]
    assert (digest.key, digest.params, digest.visibility) == (
        "progress.digest",
        {"day": MONDAY, "count": 2},
        "public",
    )
    assert digest.lines == [
        line(
            "progress.named_line_result",
            id=first,
            day=MONDAY,
            note="baseline",
            name="alice",
            result=["absa micro_f1 50"],
        ),
        line("progress.named_line", id=second, day=MONDAY, note="read the paper", name="bob"),
        line("progress.digest_missing", day=MONDAY, names=["carol"]),
        line("progress.digest_best", task="absa", metric="micro_f1", score="50", name="alice"),
        line("progress.digest_days_left", days=23, day=date(2026, 12, 31)),
    ]


def test_only_a_score_beating_every_earlier_one_is_a_new_best(competing: Harness) -> None:
    log_on(competing, "alice", "2026-12-07", "baseline", score=50)
    log_on(competing, "alice", "2026-12-08", "tuned", score=48)
    log_on(competing, "bob", "2026-12-08", "mine", score=49.5)
    log_on(competing, "carol", "2026-12-08", "ensemble", score=61.25, submitted=True)
    digest = digest_of(review(competing, WEDNESDAY))
    assert [t.key for t in digest.lines] == [
        "progress.named_line_result",
        "progress.named_line_result",
        "progress.named_line_result",
        "progress.digest_all_logged",
        "progress.digest_best",
        "progress.digest_days_left",
    ]
    assert digest.lines[2].params["result"] == [
        "absa micro_f1 61.25",
        Text("progress.submitted_mark"),
    ]
    assert digest.lines[3].params == {"day": TUESDAY}
    assert digest.lines[4].params == {
        "task": "absa",
        "metric": "micro_f1",
        "score": "61.25",
        "name": "carol",
    }
    log_on(competing, "bob", "2026-12-09", "worse", score=40)
    digest = digest_of(review(competing, date(2026, 12, 10)))
    assert "progress.digest_best" not in [t.key for t in digest.lines]


def test_monday_summarises_friday_and_the_weekend(competing: Harness) -> None:
    for who in ("alice", "bob", "carol"):
        log_on(competing, who, "2026-12-11")
    log_on(competing, "bob", "2026-12-12", "weekend work")
    digest = digest_of(review(competing, date(2026, 12, 14)))
    assert (digest.key, digest.params) == (
        "progress.digest_span",
        {"start": date(2026, 12, 11), "end": date(2026, 12, 13), "count": 4},
    )
    assert digest.lines[3].params["note"] == "weekend work"
    assert digest.lines[4] == line("progress.digest_all_logged", day=date(2026, 12, 11))


@pytest.mark.sqlite_only
def test_away_and_newly_joined_members_are_not_missing(competing: Harness) -> None:
    competing.at("2026-12-07 08:00")
    assert competing.invoke("bob", "away", **{"from": "12-07"}).key == "away.added"
    log_on(competing, "alice", "2026-12-07")
    competing.at("2026-12-08 08:00")
    competing.join("dave")  # joined Tuesday: Monday was not his to log
    digest = digest_of(review(competing, TUESDAY))
    assert line("progress.digest_missing", day=MONDAY, names=["carol"]) in digest.lines


@pytest.mark.sqlite_only
def test_nobody_logged_and_the_deadline_day(study: Harness) -> None:
    study.at("2026-12-07 08:00")
    study.invoke("admin", "competition set", deadline="2026-12-08")
    digest = digest_of(review(study, TUESDAY))
    assert digest.params == {"day": MONDAY, "count": 0}
    assert digest.lines == [
        line("progress.digest_no_entries"),
        line("progress.digest_missing", day=MONDAY, names=["alice", "bob", "carol"]),
        line("progress.digest_deadline_today", day=TUESDAY),
    ]
    digest = digest_of(review(study, WEDNESDAY))  # the deadline has passed: not mentioned
    assert [t.key for t in digest.lines] == [
        "progress.digest_no_entries",
        "progress.digest_missing",
    ]


@pytest.mark.sqlite_only
def test_a_group_that_does_not_use_progress_gets_the_review_post_alone(study: Harness) -> None:
    assert [p.key for p in review(study, TUESDAY)] == ["duty.review"]


def test_the_digest_is_posted_once_with_its_review(competing: Harness) -> None:
    log_on(competing, "alice", "2026-12-07")
    assert [p.key for p in review(competing, TUESDAY)] == ["duty.review", "progress.digest"]
    assert review(competing, TUESDAY) == []
    competing.at("2026-12-08 10:00")
    assert competing.core.reconcile_sync() == []
