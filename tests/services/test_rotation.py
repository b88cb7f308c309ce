"""The daily moderator rotation: least recently served first, in join order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.replies import Text
from bot.schedule.runner import run_duty
from bot.services.duty_runs import REVIEW_DUTY
from bot.services.rotation import moderator_for
from db.models import Member, ModAssignment, OutboxMessage
from tests.conftest import Harness

MONDAY = date(2026, 12, 7)


def names(harness: Harness) -> dict[int, str]:
    return {actor.user_id: name for name, actor in harness.actors.items()}


def review(harness: Harness, day: date) -> bool:
    """Run the review duty of ``day`` at 09:30 that day, as the scheduler would."""
    harness.at(f"{day.isoformat()} 09:30")
    return run_duty(harness.core.services, harness.group_id, REVIEW_DUTY, day)


def assignments(harness: Harness) -> dict[date, str]:
    """Who moderated (or is pinned to) each day, from the database."""
    who = names(harness)
    with harness.transaction() as session:
        rows = session.execute(
            select(ModAssignment.day, Member.user_id)
            .join(Member, Member.id == ModAssignment.member_id)
            .where(ModAssignment.group_id == harness.group_id)
            .order_by(ModAssignment.day)
        )
        return {day: who[user_id] for day, user_id in rows}


def run_days(harness: Harness, first: date, last: date) -> dict[date, str]:
    """Run the review duty on every calendar day in [first, last]; the moderators fixed."""
    day = first
    while day <= last:
        review(harness, day)
        day += timedelta(days=1)
    return {d: n for d, n in assignments(harness).items() if first <= d <= last}


def schedule(harness: Harness, who: str = "alice", days: int = 10) -> list[tuple[date, str]]:
    reply = harness.invoke(who, "mod schedule", days=days)
    assert reply.key == "mod.schedule", reply
    return [(line.params["day"], line.params["name"].name) for line in reply.lines]


def test_round_robin_over_two_weeks_skips_weekends(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    got = run_days(harness, MONDAY, MONDAY + timedelta(days=13))
    weekdays = [MONDAY + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]
    assert list(got) == weekdays
    assert list(got.values()) == ["alice", "bob", "carol"] * 3 + ["alice"]
    with harness.transaction() as session:
        posts = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [p.body["key"] for p in posts] == ["duty.review"] * 10
    assert [p.body["params"]["name"]["$mention"][1] for p in posts] == list(got.values())


@pytest.mark.sqlite_only
def test_mod_today_fixes_the_same_moderator_the_duty_announces(harness: Harness) -> None:
    harness.join("alice", "bob")
    reply = harness.invoke("bob", "mod today")
    assert (reply.key, reply.params["name"].name) == ("mod.today", "alice")
    harness.join("aaron")  # joins after today's turn was fixed: today stays alice
    review(harness, MONDAY)
    assert assignments(harness) == {MONDAY: "alice"}
    assert harness.invoke("bob", "mod today").params["name"].name == "alice"


def test_away_members_are_skipped_and_keep_their_place(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    reply = harness.invoke("bob", "away", **{"from": "12-08", "to": "12-09"})
    assert reply.key == "away.added"
    got = run_days(harness, MONDAY, date(2026, 12, 11))
    assert list(got.values()) == ["alice", "carol", "alice", "bob", "carol"]


@pytest.mark.sqlite_only
def test_everyone_away_means_nobody(harness: Harness) -> None:
    harness.join("alice")
    harness.invoke("alice", "away", **{"from": "today", "to": "today"})
    reply = harness.invoke("alice", "mod today")
    assert reply.key == "mod.today_nobody"
    assert review(harness, MONDAY) is True
    with harness.transaction() as session:
        post = session.scalars(select(OutboxMessage)).one()
    assert post.body["key"] == "duty.review_nobody"
    assert assignments(harness) == {}


def test_new_member_gets_a_turn_before_anyone_repeats(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    run_days(harness, MONDAY, MONDAY + timedelta(days=1))  # alice, bob
    harness.join("dave")
    got = run_days(harness, MONDAY, date(2026, 12, 14))
    assert list(got.values()) == ["alice", "bob", "carol", "dave", "alice", "bob"]


def test_leaving_keeps_history_and_rejoining_keeps_the_place(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    review(harness, MONDAY)  # alice
    assert harness.invoke("alice", "member leave").key == "member.left"
    left_at = harness.clock.now()
    run_days(harness, MONDAY + timedelta(days=1), MONDAY + timedelta(days=2))  # bob, carol
    with harness.transaction() as session:
        alice = session.scalars(
            select(Member).where(Member.user_id == harness.actor("alice").user_id)
        ).one()
        assert (alice.active, alice.left_at) == (False, left_at)
    assert assignments(harness)[MONDAY] == "alice"  # history kept
    listed = harness.invoke("bob", "member list")
    assert [line.params["name"].name for line in listed.lines] == ["bob", "carol"]

    harness.join("dave")
    harness.join("alice")  # back: her old turn counts, so the newcomer goes first
    got = run_days(harness, date(2026, 12, 10), date(2026, 12, 14))
    assert list(got.values()) == ["dave", "alice", "bob"]
    listed = harness.invoke("bob", "member list")
    assert [line.params["name"].name for line in listed.lines] == ["alice", "bob", "carol", "dave"]


def test_projection_equals_what_materialises(harness: Harness) -> None:
    harness.join("alice", "bob", "carol", "dave")
    harness.invoke("bob", "away", **{"from": "12-09", "to": "12-10"})
    harness.invoke("dave", "away", **{"from": "12-15", "to": "12-15"})
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "schedule dayoff", date="12-16").key == "schedule.day_off_added"
    planned = schedule(harness, days=15)
    assert len(planned) == 15
    last = planned[-1][0]
    assert date(2026, 12, 25) not in dict(planned)  # Christmas
    assert date(2026, 12, 16) not in dict(planned)  # the day off
    assert list(run_days(harness, MONDAY, last).items()) == planned


@pytest.mark.sqlite_only
def test_schedule_marks_swapped_days_and_bounds_the_count(harness: Harness) -> None:
    harness.join("alice", "bob")
    for days in (0, 31):
        refused = harness.invoke("alice", "mod schedule", days=days)
        assert (refused.key, refused.params["low"], refused.params["high"]) == (
            "input.out_of_range",
            "1",
            "30",
        )
    assert len(harness.invoke("alice", "mod schedule").lines) == 7  # default
    harness.invoke("alice", "mod swap", **{"with": harness.ref("bob")})
    request_id = 1
    assert harness.invoke("bob", "mod accept", id=request_id).key == "mod.swap_done"
    lines = harness.invoke("alice", "mod schedule", days=3).lines
    assert [line.key for line in lines] == [
        "mod.schedule_line",  # today: not marked
        "mod.schedule_line_pinned",
        "mod.schedule_line",
    ]
    assert [line.params["name"].name for line in lines] == ["bob", "alice", "bob"]


@pytest.mark.sqlite_only
def test_skip_hands_today_to_the_next_member(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    admin = harness.grant_admin("admin")
    reply = harness.invoke(admin, "mod skip")
    assert reply.key == "mod.skipped"
    assert (reply.params["old"].name, reply.params["new"].name) == ("alice", "bob")
    assert harness.invoke("carol", "mod today").params["name"].name == "bob"
    got = run_days(harness, MONDAY, date(2026, 12, 9))
    assert list(got.values()) == ["bob", "alice", "carol"]


@pytest.mark.sqlite_only
def test_skip_needs_someone_else(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "mod skip").key == "error.no_moderator_today"
    harness.join("alice")
    assert harness.invoke(admin, "mod skip").key == "error.nobody_to_skip_to"
    assert assignments(harness) == {}  # the refused skip left nothing behind


def test_away_releases_pinned_turns_but_not_announced_ones(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    harness.invoke("alice", "mod swap", **{"with": harness.ref("carol")})
    assert harness.invoke("carol", "mod accept", id=1).key == "mod.swap_done"
    assert assignments(harness) == {
        MONDAY: "carol",
        date(2026, 12, 8): "bob",
        date(2026, 12, 9): "alice",
    }
    review(harness, MONDAY)  # carol's day is announced
    reply = harness.invoke("carol", "away", **{"from": "today", "to": "12-08"})
    assert reply.key == "away.added"  # today stays (already announced), and it says so
    assert reply.lines == [Text("input.away_today_kept", {"day": MONDAY})]
    reply = harness.invoke("alice", "away", **{"from": "12-09", "to": "12-09"})
    assert [(line.key, line.params) for line in reply.lines] == [
        ("away.released", {"days": [date(2026, 12, 9)]})
    ]
    assert assignments(harness)[MONDAY] == "carol"
    assert date(2026, 12, 9) not in assignments(harness)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"from": "12-10", "to": "12-08"}, "error.away_order"),
        ({"from": "2026-12-01", "to": "2026-12-04"}, "error.date_in_past"),
        ({"to": "12-09"}, "error.away_needs_from"),
        ({"from": "2026-12-08", "to": "2027-12-31"}, "error.away_too_long"),
        ({"from": "sometime"}, "error.bad_date"),
        ({"cancel": True}, "error.away_missing"),
    ],
)
def test_away_refusals(harness: Harness, options: dict[str, object], key: str) -> None:
    harness.join("alice")
    assert harness.invoke("alice", "away", **options).key == key


@pytest.mark.sqlite_only
def test_away_list_and_cancel(harness: Harness) -> None:
    harness.join("alice", "bob")
    assert harness.invoke("alice", "away").key == "away.none"
    harness.invoke("alice", "away", **{"from": "12-08"})  # one day
    harness.invoke("alice", "away", **{"from": "12-14", "to": "12-15"})
    listed = harness.invoke("alice", "away")
    assert listed.key == "away.list"
    assert [(line.params["start"], line.params["end"]) for line in listed.lines] == [
        (date(2026, 12, 8), date(2026, 12, 8)),
        (date(2026, 12, 14), date(2026, 12, 15)),
    ]
    reply = harness.invoke("alice", "away", cancel=True, **{"from": "12-15"})
    assert (reply.key, reply.params) == ("away.cancelled", {"count": 1})
    assert len(harness.invoke("alice", "away").lines) == 1
    assert [n for _, n in schedule(harness, days=2)] == ["alice", "bob"]


def test_leaving_before_the_review_hands_today_to_someone_else(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    assert harness.invoke("bob", "mod today").params["name"].name == "alice"  # fixed at 08:00
    assert harness.invoke("alice", "member leave").key == "member.left"
    assert harness.invoke("bob", "mod today").params["name"].name == "bob"
    review(harness, MONDAY)
    assert assignments(harness) == {MONDAY: "bob"}


@pytest.mark.sqlite_only
def test_leaving_after_the_review_keeps_today_as_history(harness: Harness) -> None:
    harness.join("alice", "bob")
    review(harness, MONDAY)
    harness.at("2026-12-07 15:00")
    assert harness.invoke("alice", "member leave").key == "member.left"
    assert assignments(harness) == {MONDAY: "alice"}


@pytest.mark.sqlite_only
def test_a_day_off_on_a_swapped_day_is_no_phantom_turn(harness: Harness) -> None:
    harness.join("alice", "bob", "carol", "dave")
    reply = harness.invoke("alice", "mod swap", **{"with": harness.ref("carol")})
    assert harness.invoke("carol", "mod accept", id=reply.params["id"]).key == "mod.swap_done"
    # The swap fixed Mon carol, Tue bob, Wed alice; then Tuesday is declared off.
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "schedule dayoff", date="12-08").key == "schedule.day_off_added"
    planned = schedule(harness, days=6)
    assert [name for _, name in planned] == ["carol", "alice", "bob", "dave", "carol", "alice"]
    got = run_days(harness, MONDAY, planned[-1][0])
    got.pop(date(2026, 12, 8))  # the fixed row stays, but no review happens that day
    assert list(got.items()) == planned  # bob's turn is not lost to the day off


def test_a_turn_fixed_on_a_day_later_declared_off_is_no_turn(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    admin = harness.grant_admin("alice")
    assert harness.invoke("bob", "mod swap", **{"with": harness.ref("carol")}).key == (
        "mod.swap_requested"
    )
    assert harness.invoke("carol", "mod accept", id=1).key == "mod.swap_done"
    with harness.transaction() as session:
        pinned = session.scalars(
            select(ModAssignment.day).where(ModAssignment.source == "swap")
        ).all()
    day_off = max(pinned)
    reply = harness.invoke(admin, "schedule dayoff", date=day_off.isoformat())
    assert reply.key == "schedule.day_off_added"
    harness.at(f"{day_off.isoformat()} 10:00")
    assert harness.invoke("bob", "mod today").key == "mod.today_no_study"
    with harness.group() as (session, group):
        assert moderator_for(session, group, day_off, harness.clock.now()) is None
    for name in ("bob", "carol"):  # nobody moderates that day, so nobody but admins picks
        assert harness.invoke(name, "problem pick", problem="12899").key == (
            "error.pick_not_moderator"
        )
