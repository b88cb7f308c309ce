"""After downtime longer than the grace window, the first post says what was missed.

Duties past the grace window are never run late; at start-up each group gets one post
listing, day by day, the posts that did not go out while the bot was offline (since the
group's latest recorded run). The missed duties are recorded as such, so a second start
reports nothing again and a missed review counts as no announcement.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.i18n import render
from bot.replies import Text, reply_from_json
from bot.schedule.runner import run_duty
from bot.services.duty_runs import (
    DEADLINE_DUTY,
    MISSED,
    REMINDER_DUTY,
    REVIEW_DUTY,
    announced_days,
)
from db.models import DutyRun, OutboxMessage
from tests.conftest import Harness

MON, TUE, WED = date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)


def outbox_keys(harness: Harness) -> list[str]:
    with harness.transaction() as session:
        return [
            b["key"] for b in session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id))
        ]


def last_post(harness: Harness) -> dict[str, Any]:
    with harness.transaction() as session:
        body = session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id.desc())).first()
    assert body is not None
    return body


def runs(harness: Harness) -> dict[tuple[str, date], str]:
    with harness.transaction() as session:
        rows = session.execute(select(DutyRun.duty, DutyRun.local_date, DutyRun.outcome))
        return {(duty, day): outcome for duty, day, outcome in rows}


@pytest.fixture
def ran_monday_morning(harness: Harness) -> Harness:
    """alice and bob; Monday's 09:30 review went out, then the bot went down."""
    harness.join("alice", "bob")
    harness.at("2026-12-07 09:30")
    assert run_duty(harness.core.services, harness.group_id, REVIEW_DUTY, MON)
    return harness


def test_the_first_post_lists_what_was_missed_day_by_day(ran_monday_morning: Harness) -> None:
    harness = ran_monday_morning
    harness.at("2026-12-09 13:00")  # back on Wednesday, 3.5 h after its review
    harness.core.reconcile_sync()
    keys = outbox_keys(harness)
    assert keys[0] == "duty.review"  # Monday's, before the downtime
    assert keys[1:] == ["input.missed_while_offline"]  # nothing within the grace window
    report = reply_from_json(last_post(harness))
    assert (report.params, report.visibility) == ({"count": 6, "days": 3}, "public")
    reminder, deadline = Text("input.duty_problem_reminder"), Text("input.duty_problem_deadline")
    review = Text("input.duty_review_post")
    assert report.lines == [
        Text("input.missed_day", {"day": MON, "duties": [reminder, deadline]}),
        Text("input.missed_day", {"day": TUE, "duties": [review, reminder, deadline]}),
        Text("input.missed_day", {"day": WED, "duties": [review]}),
    ]
    assert render(report, "en").splitlines()[1:] == [
        "- Mon 2026-12-07: the problem pick reminder, the problem deadline post",
        "- Tue 2026-12-08: the code review post, the problem pick reminder, "
        "the problem deadline post",
        "- Wed 2026-12-09: the code review post",
    ]
    assert runs(harness)[(REVIEW_DUTY, TUE)] == MISSED
    with harness.group() as (session, group):
        assert announced_days(session, group) == {MON}  # a missed review announced nothing
    # a second start (or a second process) says nothing again
    harness.core.reconcile_sync()
    harness.at("2026-12-09 13:30")
    harness.core.reconcile_sync()
    assert outbox_keys(harness).count("input.missed_while_offline") == 1


def test_the_report_comes_before_what_is_caught_up_within_the_grace_window(
    ran_monday_morning: Harness,
) -> None:
    harness = ran_monday_morning
    harness.at("2026-12-08 10:00")  # Monday evening missed; Tuesday's review 30 min late
    caught = harness.core.reconcile_sync()
    assert [(d.duty, d.local_date) for d in caught] == [(REVIEW_DUTY, TUE)]
    assert outbox_keys(harness) == ["duty.review", "input.missed_while_offline", "duty.review"]
    assert runs(harness)[(REMINDER_DUTY, MON)] == MISSED
    assert runs(harness)[(DEADLINE_DUTY, MON)] == MISSED


def test_a_short_downtime_or_a_new_group_reports_nothing(harness: Harness) -> None:
    harness.join("alice")
    harness.at("2026-12-09 13:00")  # nothing ever ran here: no "while offline" to speak of
    harness.core.reconcile_sync()
    assert "input.missed_while_offline" not in outbox_keys(harness)
    harness.at("2026-12-09 19:30")  # the 19:00 deadline is within the grace window
    harness.core.reconcile_sync()
    assert "input.missed_while_offline" not in outbox_keys(harness)


def test_quiet_duties_are_not_reported(ran_monday_morning: Harness) -> None:
    harness = ran_monday_morning
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "problem pick", problem="12899").key == "problem.picked"
    harness.at("2026-12-07 23:00")  # the 18:00 reminder would have stayed quiet (picked)
    harness.core.reconcile_sync()
    report = reply_from_json(last_post(harness))
    assert report.key == "input.missed_while_offline"
    assert report.lines == [
        Text("input.missed_day", {"day": MON, "duties": [Text("input.duty_problem_deadline")]})
    ]
    assert (REMINDER_DUTY, MON) not in runs(harness)
