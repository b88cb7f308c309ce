"""The progress reminder at the group's progress time (21:00): one post naming only the
active members who are not away and have not logged that study day; members who chose
``dm`` get a private message instead, those who chose ``off`` nothing. Exactly once,
also after a crash or a restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from unittest import mock

import pytest

from bot.schedule.duties import DUTIES, ensure_progress_reminder
from bot.schedule.planner import due_at
from bot.schedule.runner import run_duty
from bot.schedule.scheduler import DutyScheduler
from bot.services.duty_runs import PROGRESS_REMINDER_DUTY
from tests.conftest import SEOUL, Harness
from tests.progress.helpers import advance, as_date, log, log_on, mention, outbox, runs

MONDAY = date(2026, 12, 7)
TUESDAY = date(2026, 12, 8)


def remind(harness: Harness, day: date = MONDAY, at: str = "21:00") -> bool:
    harness.at(f"{day.isoformat()} {at}")
    return run_duty(harness.core.services, harness.group_id, PROGRESS_REMINDER_DUTY, day)


@pytest.fixture
def busy(study: Harness) -> Harness:
    """Six members on Monday: alice logged; bob did not; carol is away; dave switched the
    reminder off; erin asked for a private message; frank left the group."""
    study.join("dave", "erin", "frank")
    study.at("2026-12-07 08:00")
    assert study.invoke("carol", "away", **{"from": "12-07", "to": "12-08"}).key == "away.added"
    assert study.invoke("dave", "progress reminder", mode="off").key == "progress.reminder_set"
    assert study.invoke("erin", "progress reminder", mode="dm").key == "progress.reminder_set"
    assert study.invoke("frank", "member leave").key == "member.left"
    log_on(study, "alice", "2026-12-07")
    return study


def test_the_reminder_names_only_members_who_have_not_logged(busy: Harness) -> None:
    assert advance(busy, "2026-12-07 20:59") == []
    assert advance(busy, "2026-12-07 21:00") == [(PROGRESS_REMINDER_DUTY, MONDAY)]
    logged = [row for row in outbox(busy) if row[1]["key"].startswith("progress.reminder")]
    erin = busy.actor("erin").user_id
    assert logged == [
        (
            None,
            {
                "key": "progress.reminder",
                "params": {"names": [mention(busy, "bob")], "day": as_date(MONDAY)},
                "visibility": "public",
                "lines": [],
                "actions": [],
                "thread": None,
            },
        ),
        (
            erin,
            {
                "key": "progress.reminder_dm",
                "params": {"day": as_date(MONDAY)},
                "visibility": "private",
                "lines": [],
                "actions": [],
                "thread": None,
            },
        ),
    ]
    assert runs(busy, PROGRESS_REMINDER_DUTY) == [(MONDAY, "posted")]


@pytest.mark.sqlite_only
def test_the_private_reminder_is_claimed_with_its_user(busy: Harness) -> None:
    advance(busy, "2026-12-07 21:00")
    pending = [p for p in busy.core.claim_outbox_sync(50) if p.reply.key.startswith("progress.")]
    assert [(p.reply.key, p.user_id) for p in pending] == [
        ("progress.reminder", None),
        ("progress.reminder_dm", busy.actor("erin").user_id),
    ]


@pytest.mark.sqlite_only
def test_nobody_missing_keeps_the_claim_and_posts_nothing(study: Harness) -> None:
    for who in ("alice", "bob", "carol"):
        log_on(study, who, "2026-12-07")
    assert remind(study) is False
    assert outbox(study) == []
    assert runs(study, PROGRESS_REMINDER_DUTY) == [(MONDAY, "skipped")]
    assert remind(study) is False
    assert runs(study, PROGRESS_REMINDER_DUTY) == [(MONDAY, "skipped")]


@pytest.mark.sqlite_only
def test_a_group_that_does_not_use_progress_is_never_reminded(study: Harness) -> None:
    assert remind(study) is False
    assert runs(study, PROGRESS_REMINDER_DUTY) == []  # not even claimed
    # setting a competition is using progress
    assert study.invoke("admin", "competition set", limit=5).key == "competition.updated"
    assert remind(study, TUESDAY) is True
    [(user_id, body)] = outbox(study)
    assert user_id is None
    assert body["params"]["names"] == [mention(study, n) for n in ("alice", "bob", "carol")]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("day", [date(2026, 12, 12), date(2026, 12, 13), date(2026, 12, 25)])
def test_no_reminder_on_a_day_without_study(study: Harness, day: date) -> None:
    log_on(study, "alice", "2026-12-07")
    assert remind(study, day) is False
    assert runs(study, PROGRESS_REMINDER_DUTY) == []
    assert outbox(study) == []


def test_running_twice_posts_once(busy: Harness) -> None:
    assert remind(busy) is True
    assert remind(busy) is False
    assert len(outbox(busy)) == 2
    assert runs(busy, PROGRESS_REMINDER_DUTY) == [(MONDAY, "posted")]


def test_a_crash_mid_duty_leaves_nothing_and_the_rerun_posts_once(busy: Harness) -> None:
    real = __import__("bot.schedule.duties", fromlist=["enqueue"]).enqueue
    calls = []

    def second_fails(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:  # the channel post is written, then the process dies
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    with (
        mock.patch("bot.schedule.duties.enqueue", side_effect=second_fails),
        pytest.raises(RuntimeError, match="killed"),
    ):
        remind(busy)
    assert outbox(busy) == [] and runs(busy, PROGRESS_REMINDER_DUTY) == []
    assert remind(busy) is True
    assert remind(busy) is False
    assert [body["key"] for _, body in outbox(busy)] == [
        "progress.reminder",
        "progress.reminder_dm",
    ]


def test_a_restart_catches_up_once_the_same_day_and_stays_quiet_after_midnight(
    busy: Harness,
) -> None:
    busy.at("2026-12-07 22:30")  # down at 21:00, back at 22:30 (grace: 3 h)
    caught = busy.core.reconcile_sync()
    assert [(d.duty, d.local_date) for d in caught] == [(PROGRESS_REMINDER_DUTY, MONDAY)]
    assert busy.core.reconcile_sync() == []
    assert len(outbox(busy)) == 2
    # Tuesday (reminder at 22:30): down from 20:00, back just after midnight; reminding
    # of a day that is over helps nobody, so the claim is kept and nothing is said
    busy.at("2026-12-08 20:00")
    assert busy.invoke("admin", "schedule set", progress_time="22:30").key == "schedule.updated"
    log(busy, "alice")
    busy.at("2026-12-09 00:10")
    assert busy.core.reconcile_sync() == []
    assert runs(busy, PROGRESS_REMINDER_DUTY) == [(MONDAY, "posted"), (TUESDAY, "skipped")]
    # nothing reminded; Tuesday's daytime duties, never run here, are reported missed
    assert [body["key"] for _, body in outbox(busy)][2:] == ["input.missed_while_offline"]


@pytest.mark.sqlite_only
def test_the_progress_time_is_a_schedule_setting(study: Harness) -> None:
    with study.group() as (_, group):
        assert DUTIES[PROGRESS_REMINDER_DUTY].run is ensure_progress_reminder
        assert DUTIES[PROGRESS_REMINDER_DUTY].time_of(group) == time(21, 0)
    reply = study.invoke("admin", "schedule set", progress_time="22:15")
    assert (reply.key, reply.params["progress_time"]) == ("schedule.updated", time(22, 15))
    bad = study.invoke("admin", "schedule set", progress_time="25:00")
    assert bad.key == "error.bad_time"
    assert study.invoke("bob", "schedule set", progress_time="20:00").key == "error.admin_only"
    with study.group() as (_, group):
        assert due_at(group, PROGRESS_REMINDER_DUTY, MONDAY).astimezone(SEOUL).time() == time(
            22, 15
        )
    log_on(study, "alice", "2026-12-07")
    assert advance(study, "2026-12-07 22:14") == []
    assert advance(study, "2026-12-07 22:15") == [(PROGRESS_REMINDER_DUTY, MONDAY)]


@pytest.mark.sqlite_only
def test_switching_the_reminder_back_on_and_bad_modes(busy: Harness) -> None:
    assert busy.invoke("erin", "progress reminder", mode="on").key == "progress.reminder_set"
    refused = busy.invoke("erin", "progress reminder", mode="loud")
    assert (refused.key, refused.params) == ("error.progress_bad_mode", {"value": "loud"})
    assert busy.invoke("stranger", "progress reminder", mode="dm").key == "error.not_member"
    assert remind(busy) is True
    [(user_id, body)] = outbox(busy)
    assert user_id is None
    assert body["params"]["names"] == [mention(busy, "bob"), mention(busy, "erin")]


async def test_before_the_reminder_only_the_people_it_names_are_looked_up(busy: Harness) -> None:
    """The presence check before the reminder asks about bob (named) and erin (written
    to), not about those who logged, are away, switched it off or left."""
    asked: list[list[int]] = []

    async def gone(_guild_id: int, user_ids: Sequence[int]) -> set[int]:
        asked.append(sorted(user_ids))
        return set()

    scheduler = DutyScheduler(busy.core, presence_check=gone)
    busy.at("2026-12-07 21:00")
    await scheduler.fire(busy.group_id, PROGRESS_REMINDER_DUTY)
    assert asked == [sorted([busy.actor("bob").user_id, busy.actor("erin").user_id])]
