"""The problem duties: the reminder before the deadline, the deadline's announcement or
auto-pick, the admin's reroll of an auto-pick, and the review post with its thread.
Each runs exactly once, also after a crash, a restart or a race of two processes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from itertools import pairwise
from unittest import mock

import pytest
from sqlalchemy import select

from bot.app import build_core
from bot.replies import Mention
from bot.schedule.duties import DUTIES, reminder_time
from bot.schedule.runner import run_duty
from bot.services import problems
from bot.services.duty_runs import DEADLINE_DUTY, REMINDER_DUTY, REVIEW_DUTY
from db.models import DutyRun, OutboxMessage, Problem, ProblemPick, ProblemPickEvent
from tests.conftest import Harness, engine_of
from tests.problems.conftest import populate
from tests.problems.helpers import (
    MONDAY,
    NARA,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    add_past_picks,
    advance,
    as_date,
    candidate,
    count,
    duty_runs,
    events,
    kind_of,
    mention,
    params,
    picks,
    posts,
)
from tests.problems.race_worker import race
from tests.racing import race_processes


def mention_obj(harness: Harness, name: str) -> Mention:
    actor = harness.actor(name)
    return Mention(actor.user_id, actor.name)


# --- the reminder ---------------------------------------------------------------------


def test_the_reminder_names_the_moderator_when_nothing_is_picked(study: Harness) -> None:
    study.at("2026-12-07 10:00")  # (past Monday's review)
    assert advance(study, "2026-12-07 17:59") == []
    assert advance(study, "2026-12-07 18:00") == [(REMINDER_DUTY, MONDAY)]  # 1 h before 19:00
    [body] = posts(study)
    assert body["key"] == "problem.reminder"
    assert body["visibility"] == "public"
    assert body["params"] == {
        "name": mention(study, "alice"),
        "day": as_date(TUESDAY),
        "deadline": {"$time": "19:00"},
    }
    assert advance(study, "2026-12-07 18:30") == []  # never twice
    assert len(posts(study)) == 1


def test_no_reminder_once_the_moderator_has_picked(study: Harness) -> None:
    study.at("2026-12-07 10:00")
    assert study.invoke("alice", "problem pick", problem="12899").key == "problem.picked"
    assert advance(study, "2026-12-07 18:30") == []
    assert posts(study) == []
    assert (REMINDER_DUTY, MONDAY) in duty_runs(study)  # it ran, found the pick, stayed quiet
    with study.transaction() as session:
        outcome = session.scalar(select(DutyRun.outcome).where(DutyRun.duty == REMINDER_DUTY))
    assert outcome == "skipped"
    assert advance(study, "2026-12-07 19:00") == [(DEADLINE_DUTY, MONDAY)]
    assert [b["key"] for b in posts(study)] == ["problem.announce"]


def test_the_reminder_time_is_configurable(study: Harness) -> None:
    assert study.invoke("alice", "schedule set", reminder=30).key == "error.admin_only"
    for bad in (-1, 721):
        refused = study.invoke("admin", "schedule set", reminder=bad)
        assert (refused.key, refused.params["low"], refused.params["high"]) == (
            "input.out_of_range",
            "0",
            "720",
        )
    reply = study.invoke("admin", "schedule set", reminder=30)
    assert (reply.key, reply.params["reminder"]) == ("schedule.updated", 30)
    with study.group() as (_, group):
        assert reminder_time(group) == time(18, 30)
    study.at("2026-12-07 10:00")  # (past Monday's review)
    assert advance(study, "2026-12-07 18:29") == []
    assert advance(study, "2026-12-07 18:30") == [(REMINDER_DUTY, MONDAY)]
    assert [b["key"] for b in posts(study)] == ["problem.reminder"]


def test_a_restart_catches_up_the_missed_duties_once(study: Harness) -> None:
    """The bot was down from before 18:00 until 19:30: at start-up the missed deadline
    auto-picks, once, however often it starts again; the missed reminder keeps its claim
    but says nothing, since asking to pick "by 19:00" at 19:30 would be stale."""
    expected = candidate(study, TUESDAY)
    study.at("2026-12-07 19:30")
    restarted = build_core(study.core.services.settings, study.clock, migrate=False)
    try:
        caught_up = [(d.duty, d.local_date) for d in restarted.reconcile_sync()]
        assert caught_up == [(DEADLINE_DUTY, MONDAY)]
        assert [b["key"] for b in posts(study)] == ["problem.auto_picked"]
        assert sorted(duty_runs(study)) == [(DEADLINE_DUTY, MONDAY), (REMINDER_DUTY, MONDAY)]
        # Another start-up, by this process or the first, changes nothing.
        assert restarted.reconcile_sync() == []
        assert study.core.reconcile_sync() == []
    finally:
        engine_of(restarted).dispose()
    assert len(posts(study)) == 1
    assert picks(study) == {TUESDAY: (expected, True, None)}


def test_the_reminder_does_not_name_a_moderator_who_left(study: Harness) -> None:
    study.at("2026-12-07 10:00")  # alice's turn was fixed and announced at 09:30
    with study.transaction() as session:
        session.add(
            DutyRun(
                group_id=1,
                duty=REVIEW_DUTY,
                local_date=MONDAY,
                ran_at=study.clock.now(),
                outcome="posted",
            )
        )
    assert study.invoke("alice", "mod today").params["name"] == mention_obj(study, "alice")
    assert study.invoke("alice", "member leave").key == "member.left"
    assert study.invoke("alice", "problem pick", problem="12899").key == "error.pick_not_moderator"
    assert advance(study, "2026-12-07 18:00") == [(REMINDER_DUTY, MONDAY)]
    [body] = posts(study)
    assert body["key"] == "problem.reminder_nobody"


def test_reminder_zero_switches_it_off(study: Harness) -> None:
    assert study.invoke("admin", "schedule set", reminder=0).key == "schedule.updated"
    study.at("2026-12-07 10:00")
    assert advance(study, "2026-12-07 19:00") == [(DEADLINE_DUTY, MONDAY)]
    assert [b["key"] for b in posts(study)] == ["problem.auto_picked"]


# --- the deadline ---------------------------------------------------------------------


def test_the_deadline_auto_picks_an_unused_algorithm_problem(study: Harness) -> None:
    study.at("2026-12-07 10:00")  # (past Monday's review)
    expected = candidate(study, TUESDAY)
    assert advance(study, "2026-12-07 19:00") == [
        (REMINDER_DUTY, MONDAY),
        (DEADLINE_DUTY, MONDAY),
    ]
    assert picks(study) == {TUESDAY: (expected, True, None)}
    assert events(study) == [(TUESDAY, "auto", None, expected, None)]
    assert kind_of(study, expected) == "algorithm"
    reminder, announce = posts(study)
    assert reminder["key"] == "problem.reminder"
    assert announce["key"] == "problem.auto_picked"
    assert announce["visibility"] == "public"
    assert announce["params"]["day"] == as_date(TUESDAY)
    assert announce["params"]["id"] == expected
    # Running it again (a second scheduler tick, a restart) changes nothing.
    assert run_duty(study.core.services, study.group_id, DEADLINE_DUTY, MONDAY) is False
    assert study.core.reconcile_sync() == []
    assert len(posts(study)) == 2
    assert len(events(study)) == 1


def test_the_auto_pick_is_the_same_for_the_same_group_and_date(
    another_database: Callable[[], Harness],
) -> None:
    """Two separate databases with the same history pick the same problem."""
    first, second = another_database(), another_database()
    assert first.group_id == second.group_id
    chosen = []
    for harness in (first, second):
        populate(harness)
        add_past_picks(harness, [NARA[0], 42578, 1844], date(2026, 11, 30))
        assert advance(harness, "2026-12-07 19:00")[-1] == (DEADLINE_DUTY, MONDAY)
        [(problem_id, auto, _)] = [v for d, v in picks(harness).items() if d == TUESDAY]
        assert auto is True
        chosen.append(problem_id)
    assert chosen[0] == chosen[1]
    assert chosen[0] not in (NARA[0], 42578, 1844)
    # A different date generally gives a different problem.
    days = [TUESDAY + timedelta(days=7 * n) for n in range(1, 11)]
    others = {candidate(first, day) for day in days}
    assert len(others) >= 5, others
    assert candidate(first, days[0]) == candidate(second, days[0]) == candidate(first, days[0])


def test_the_auto_pick_never_takes_a_used_or_sql_problem(study: Harness) -> None:
    with study.transaction() as session:
        algorithms = list(session.scalars(select(Problem.id).where(Problem.kind == "algorithm")))
    left = {NARA[0], 42578}
    add_past_picks(study, sorted(set(algorithms) - left), date(2025, 1, 1))
    advance(study, "2026-12-07 19:00")
    first = picks(study)[TUESDAY][0]
    assert first in left
    advance(study, "2026-12-08 19:05")  # Tuesday's deadline takes the last one
    second = picks(study)[WEDNESDAY][0]
    assert {first, second} == left
    assert study.invoke("admin", "problem reroll").key == "error.no_unused_problem"
    advance(study, "2026-12-09 19:00")
    assert THURSDAY not in picks(study)
    keys = [b["key"] for b in posts(study) if b["key"].startswith("problem.")]
    assert [k for k in keys if k != "problem.reminder"][-1] == "problem.no_unused"
    assert posts(study)[-1]["params"] == {"day": as_date(THURSDAY)}
    assert [kind for _, kind, *_ in events(study)] == ["auto", "auto"]


def test_two_processes_racing_every_problem_duty_post_once(study: Harness) -> None:
    """Two bot processes on one database run the review, the reminder and the deadline of
    three study days at the same moments: each posts once and one problem is picked."""
    days = [MONDAY, TUESDAY, WEDNESDAY]
    plan = [
        (day, duty, at)
        for day in days
        for duty, at in (
            (REVIEW_DUTY, time(9, 30)),
            (REMINDER_DUTY, time(18, 0)),
            (DEADLINE_DUTY, time(19, 0)),
        )
    ]
    in_process = candidate(study, TUESDAY)
    url = study.core.services.settings.database_url
    exit_codes, outcomes = race_processes(race, url, study.group_id, plan)
    assert exit_codes == [0, 0]
    assert [error for *_, error in outcomes if error] == []
    assert len(outcomes) == 2 * len(plan)
    for day, duty, _ in plan:
        posted = [ok for d, name, _, ok, _ in outcomes if (d, name) == (day, duty)]
        assert sorted(posted) == [False, True], (day, duty)  # exactly one process posted
    chosen = picks(study)
    targets = {MONDAY: TUESDAY, TUESDAY: WEDNESDAY, WEDNESDAY: THURSDAY}
    for day, target in targets.items():
        expected = {e for d, name, e, _, _ in outcomes if (d, name) == (day, DEADLINE_DUTY)}
        # Both processes (fresh interpreters) would have chosen the problem that was picked.
        assert expected == {chosen[target][0]}, day
    assert chosen[TUESDAY][0] == in_process
    assert sorted(chosen) == [TUESDAY, WEDNESDAY, THURSDAY]
    assert len({problem for problem, _, _ in chosen.values()}) == 3
    assert [kind for _, kind, *_ in events(study)] == ["auto"] * 3
    bodies = posts(study)
    assert [b["key"] for b in bodies] == [
        "duty.review",
        "problem.reminder",
        "problem.auto_picked",
        *["duty.review", "problem.thread_open", "problem.reminder", "problem.auto_picked"] * 2,
    ]
    announced = [b["params"]["id"] for b in bodies if b["key"] == "problem.auto_picked"]
    assert announced == [chosen[target][0] for target in targets.values()]
    threads = [b for b in bodies if b["thread"]]
    assert [(b["thread"], b["params"]["id"]) for b in threads] == [
        ("2026-12-08 리뷰", chosen[TUESDAY][0]),
        ("2026-12-09 리뷰", chosen[WEDNESDAY][0]),
    ]
    assert sorted(duty_runs(study)) == sorted((duty, day) for day, duty, _ in plan)


def test_a_crash_mid_duty_leaves_nothing_and_the_rerun_posts_once(study: Harness) -> None:
    study.at("2026-12-07 19:00")
    with (
        mock.patch("bot.schedule.duties.enqueue", side_effect=RuntimeError("killed")),
        pytest.raises(RuntimeError, match="killed"),
    ):
        run_duty(study.core.services, study.group_id, DEADLINE_DUTY, MONDAY)
    for model in (DutyRun, ProblemPick, ProblemPickEvent, OutboxMessage):
        assert count(study, model) == 0, model
    assert run_duty(study.core.services, study.group_id, DEADLINE_DUTY, MONDAY) is True
    assert run_duty(study.core.services, study.group_id, DEADLINE_DUTY, MONDAY) is False
    assert [b["key"] for b in posts(study)] == ["problem.auto_picked"]
    assert count(study, ProblemPick) == count(study, ProblemPickEvent) == 1


def test_no_problem_duty_runs_on_a_day_without_study(study: Harness) -> None:
    for name in (REMINDER_DUTY, DEADLINE_DUTY):
        for day in (date(2026, 12, 12), date(2026, 12, 13), date(2026, 12, 25)):
            assert run_duty(study.core.services, study.group_id, name, day) is False
    assert (count(study, DutyRun), count(study, ProblemPick), posts(study)) == (0, 0, [])
    with study.group() as (_, group):
        assert DUTIES[DEADLINE_DUTY].time_of(group) == time(19, 0)
        assert DUTIES[REMINDER_DUTY].time_of(group) == time(18, 0)


# --- reroll ---------------------------------------------------------------------------


def test_an_admin_rerolls_an_auto_pick(study: Harness) -> None:
    advance(study, "2026-12-07 19:00")
    first = picks(study)[TUESDAY][0]
    study.at("2026-12-07 19:05")
    for name in ("alice", "bob"):  # today's moderator is no admin either
        assert study.invoke(name, "problem reroll").key == "error.admin_only"
    admin = study.actor("admin").user_id
    reply = study.invoke("admin", "problem reroll")
    assert reply.key == "problem.rerolled"
    assert reply.visibility == "public"
    second = reply.params["id"]
    with study.transaction() as session:
        old_title = session.get(Problem, first).title  # type: ignore[union-attr]
        new = session.get(Problem, second)
        assert new is not None
    assert reply.params == {
        "day": TUESDAY,
        "old": old_title,
        "name": "admin",
        **params((second, new.title)),
    }
    assert second != first
    assert new.kind == "algorithm"
    assert picks(study) == {TUESDAY: (second, True, admin)}
    chain = [first, second]
    for _ in range(3):  # never back to one the admin has rejected
        again = study.invoke("admin", "problem reroll")
        assert again.params["old"] != again.params["title"]
        chain.append(again.params["id"])
    assert len(set(chain)) == len(chain), chain
    third = chain[-1]
    assert events(study) == [(TUESDAY, "auto", None, first, None)] + [
        (TUESDAY, "reroll", old, new, admin) for old, new in pairwise(chain)
    ]
    advance(study, "2026-12-08 09:30")
    review = [b for b in posts(study) if b["key"] == "duty.review"][-1]
    assert review["params"]["day"] == as_date(TUESDAY)
    assert review["lines"][0]["$text"][1]["id"] == third


def test_only_an_auto_pick_can_be_rerolled(study: Harness) -> None:
    nothing = study.invoke("admin", "problem reroll")
    assert (nothing.key, nothing.params) == ("error.reroll_not_auto", {"day": TUESDAY})
    study.invoke("alice", "problem pick", problem="12899")
    assert study.invoke("admin", "problem reroll").key == "error.reroll_not_auto"
    assert picks(study) == {TUESDAY: (NARA[0], False, study.actor("alice").user_id)}
    assert [kind for _, kind, *_ in events(study)] == ["pick"]


# --- the review post ------------------------------------------------------------------


def test_the_review_post_carries_the_problem_a_thread_and_the_solvers(study: Harness) -> None:
    study.at("2026-12-07 10:00")
    study.invoke("alice", "problem pick", problem="12899")
    study.at("2026-12-07 12:00")
    assert study.invoke("carol", "problem solved", language="py").key == "problem.solved"
    study.at("2026-12-07 13:00")
    assert study.invoke("bob", "problem solved").key == "problem.solved"
    advance(study, "2026-12-08 09:30")
    announce, review, thread = posts(study)
    assert announce["key"] == "problem.announce"
    assert review["key"] == "duty.review"
    assert review["thread"] is None
    assert review["params"] == {"day": as_date(TUESDAY), "name": mention(study, "bob")}
    assert review["lines"] == [
        {"$text": ["problem.review_problem", params(NARA)]},
        {"$text": ["duty.review_hint", {}]},
    ]
    assert thread["key"] == "problem.thread_open"
    assert thread["visibility"] == "public"
    assert thread["thread"] == "2026-12-08 리뷰"
    assert thread["params"] == params(NARA)
    assert thread["lines"] == [
        {
            "$text": [
                "problem.thread_solvers",
                {"names": [mention(study, "carol"), mention(study, "bob")]},
            ]
        }
    ]


def test_a_review_without_a_problem_says_so_and_opens_no_thread(study: Harness) -> None:
    assert advance(study, "2026-12-07 09:30") == [("review_post", MONDAY)]
    [review] = posts(study)
    assert review["lines"] == [
        {"$text": ["problem.review_no_problem", {}]},
        {"$text": ["duty.review_hint", {}]},
    ]


def test_a_review_thread_with_nobody_solved_invites_reports(study: Harness) -> None:
    assert study.invoke("admin", "schedule set", locale="en").key == "schedule.updated"
    advance(study, "2026-12-08 09:30")  # Monday's deadline auto-picked Tuesday's problem
    thread = posts(study)[-1]
    assert thread["thread"] == "2026-12-08 review"
    assert thread["lines"] == [{"$text": ["problem.thread_no_solvers", {}]}]
    assert thread["params"]["id"] == picks(study)[TUESDAY][0]


def test_auto_candidate_is_stable_within_a_database(study: Harness) -> None:
    with study.group() as (session, group):
        a = problems.auto_candidate(session, group, TUESDAY)
        b = problems.auto_candidate(session, group, TUESDAY)
        assert a is not None and b is not None and a.id == b.id
        excluded = problems.auto_candidate(session, group, TUESDAY, exclude={a.id})
        assert excluded is not None and excluded.id != a.id
