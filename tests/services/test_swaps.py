"""Swapping moderator days: request, answer, force, and requests that went stale."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.replies import Visibility
from bot.schedule.runner import run_duty
from bot.services.duty_runs import REVIEW_DUTY
from db.models import ModAssignment, SwapRequest
from tests.conftest import Harness, snapshot

MON, TUE, WED, THU, FRI = (date(2026, 12, d) for d in range(7, 12))


def plan(harness: Harness, days: int = 10) -> dict[date, str]:
    reply = harness.invoke("alice", "mod schedule", days=days)
    assert reply.key == "mod.schedule", reply
    return {line.params["day"]: line.params["name"].name for line in reply.lines}


def status(harness: Harness, request_id: int) -> str:
    with harness.transaction() as session:
        request = session.get(SwapRequest, request_id)
        assert request is not None
        return request.status


def ask(harness: Harness, who: str, other: str, **options: object) -> int:
    reply = harness.invoke(who, "mod swap", **{"with": harness.ref(other)}, **options)
    assert reply.key == "mod.swap_requested", reply
    return int(reply.params["id"])


def setup_four(harness: Harness) -> dict[date, str]:
    harness.join("alice", "bob", "carol", "dave")
    before = plan(harness)
    assert [before[d] for d in (MON, TUE, WED, THU, FRI)] == [
        "alice",
        "bob",
        "carol",
        "dave",
        "alice",
    ]
    return before


def test_request_and_accept_swaps_exactly_the_two_days(harness: Harness) -> None:
    before = setup_four(harness)
    reply = harness.invoke("alice", "mod swap", **{"with": harness.ref("carol")})
    assert reply.key == "mod.swap_requested"
    assert reply.visibility is Visibility.PUBLIC
    assert (reply.params["a_day"], reply.params["b_day"]) == (MON, WED)
    request_id = reply.params["id"]
    assert [(a.kind, a.target_id, a.command) for a in reply.actions] == [
        ("swap_accept", request_id, f"/mod accept id:{request_id}"),
        ("swap_decline", request_id, f"/mod decline id:{request_id}"),
    ]
    assert plan(harness) == before  # nothing moves until carol answers

    done = harness.invoke("carol", "mod accept", id=request_id)
    assert done.key == "mod.swap_done"
    assert (done.params["a"].name, done.params["a_day"]) == ("alice", WED)
    assert (done.params["b"].name, done.params["b_day"]) == ("carol", MON)
    after = plan(harness)
    assert after[MON] == "carol" and after[WED] == "alice"
    assert after[TUE] == before[TUE] == "bob"
    assert status(harness, request_id) == "accepted"
    assert harness.invoke("bob", "mod today").params["name"].name == "carol"
    # After the swapped days the rotation stays fair: one turn each per round.
    following = [name for day, name in sorted(after.items()) if day > WED][:4]
    assert sorted(following) == ["alice", "bob", "carol", "dave"]
    # Answering again is refused.
    assert harness.invoke("carol", "mod accept", id=request_id).key == "error.swap_closed"


@pytest.mark.sqlite_only
def test_swap_of_two_later_days_keeps_the_days_around_them(harness: Harness) -> None:
    before = setup_four(harness)
    request_id = ask(harness, "bob", "dave")
    assert harness.invoke("dave", "mod accept", id=request_id).key == "mod.swap_done"
    after = plan(harness)
    assert [after[d] for d in (MON, TUE, WED, THU, FRI)] == [
        before[MON],
        "dave",
        before[WED],
        "bob",
        before[FRI],
    ]


def test_decline_changes_nothing(harness: Harness) -> None:
    before = setup_four(harness)
    request_id = ask(harness, "alice", "carol")
    reply = harness.invoke("carol", "mod decline", id=request_id)
    assert reply.key == "mod.swap_declined"
    assert status(harness, request_id) == "declined"
    assert plan(harness) == before
    assert harness.invoke("carol", "mod accept", id=request_id).key == "error.swap_closed"


@pytest.mark.sqlite_only
def test_a_third_member_cannot_accept(harness: Harness) -> None:
    before = setup_four(harness)
    request_id = ask(harness, "alice", "carol")
    reply = harness.invoke("bob", "mod accept", id=request_id)
    assert (reply.key, reply.visibility) == ("error.swap_not_yours", Visibility.PRIVATE)
    assert status(harness, request_id) == "pending"
    assert plan(harness) == before
    assert harness.invoke("bob", "mod accept", id=99).key == "error.swap_missing"


@pytest.mark.sqlite_only
def test_admin_can_force_a_swap_for_others(harness: Harness) -> None:
    setup_four(harness)
    root = harness.actor("root", platform_admin=True)
    reply = harness.invoke(
        root, "mod swap", member=harness.ref("bob"), force=True, **{"with": harness.ref("dave")}
    )
    assert reply.key == "mod.swap_forced"
    after = plan(harness)
    assert (after[TUE], after[THU]) == ("dave", "bob")
    with harness.transaction() as session:
        request = session.scalars(select(SwapRequest)).one()
        assert (request.status, request.resolved_at) == ("forced", harness.clock.now())


def test_request_goes_stale_when_the_schedule_changes(harness: Harness) -> None:
    setup_four(harness)
    request_id = ask(harness, "alice", "carol")  # Monday <-> Wednesday
    harness.invoke("bob", "away", **{"from": "12-08", "to": "12-08"})  # carol moves to Tue
    before = plan(harness)
    assert before[TUE] == "carol"
    reply = harness.invoke("carol", "mod accept", id=request_id)
    assert (reply.key, reply.visibility) == ("error.swap_stale", Visibility.PRIVATE)
    assert plan(harness) == before  # nothing swapped
    assert status(harness, request_id) == "stale"  # and the request is closed
    assert harness.invoke("carol", "mod accept", id=request_id).key == "error.swap_closed"


@pytest.mark.sqlite_only
def test_request_goes_stale_when_its_day_has_passed(harness: Harness) -> None:
    setup_four(harness)
    request_id = ask(harness, "alice", "carol")
    harness.at("2026-12-10 08:00")
    assert harness.invoke("carol", "mod accept", id=request_id).key == "error.swap_stale"
    assert status(harness, request_id) == "stale"


@pytest.mark.sqlite_only
def test_an_announced_day_is_never_swapped(harness: Harness) -> None:
    setup_four(harness)
    harness.at("2026-12-07 09:30")
    assert run_duty(harness.core.services, harness.group_id, REVIEW_DUTY, MON)
    reply = harness.invoke("alice", "mod swap", **{"with": harness.ref("carol")})
    assert (reply.params["a_day"], reply.params["b_day"]) == (FRI, WED)
    assert harness.invoke("carol", "mod accept", id=reply.params["id"]).key == "mod.swap_done"
    after = plan(harness)
    assert (after[MON], after[WED], after[FRI]) == ("alice", "alice", "carol")


def test_leaving_cancels_pending_requests(harness: Harness) -> None:
    setup_four(harness)
    to_carol = ask(harness, "alice", "carol")
    from_dave = ask(harness, "dave", "bob")
    other = ask(harness, "bob", "alice")
    assert harness.invoke("carol", "member leave").key == "member.left"
    root = harness.actor("root", platform_admin=True)
    assert harness.invoke(root, "member remove", user=harness.ref("dave")).key == "member.removed"
    assert (status(harness, to_carol), status(harness, from_dave)) == ("stale", "stale")
    assert status(harness, other) == "pending"
    assert harness.invoke("bob", "mod accept", id=from_dave).key == "error.swap_closed"


@pytest.mark.sqlite_only
def test_swap_refusals(harness: Harness) -> None:
    setup_four(harness)
    assert harness.invoke("alice", "mod swap", **{"with": harness.ref("alice")}).key == (
        "error.swap_self"
    )
    reply = harness.invoke("alice", "mod swap", **{"with": harness.ref("stranger")})
    assert reply.key == "error.member_missing"
    with harness.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SwapRequest)) == 0
        assert session.scalar(select(func.count()).select_from(ModAssignment)) == 1  # today


def test_a_repeated_identical_request_is_refused(harness: Harness) -> None:
    setup_four(harness)
    first = ask(harness, "alice", "carol")
    with harness.transaction() as session:
        before = snapshot(session)
    again = harness.invoke("alice", "mod swap", **{"with": harness.ref("carol")})
    assert (again.key, again.visibility, again.params["id"]) == (
        "input.swap_duplicate",
        Visibility.PRIVATE,
        first,
    )
    # the other side asking for the very same exchange is pointed at the open request
    mirrored = harness.invoke("carol", "mod swap", **{"with": harness.ref("alice")})
    assert (mirrored.key, mirrored.params["id"]) == ("input.swap_reverse_pending", first)
    assert mirrored.params["name"].name == "alice"
    with harness.transaction() as session:
        assert snapshot(session) == before
    # another exchange is another request; once answered, asking again is fine
    assert ask(harness, "alice", "bob") == first + 1
    assert harness.invoke("carol", "mod decline", id=first).key == "mod.swap_declined"
    assert ask(harness, "alice", "carol") == first + 2


def test_the_schedule_labels_only_the_days_a_swap_exchanged(harness: Harness) -> None:
    setup_four(harness)
    request = ask(harness, "alice", "carol")  # Monday ↔ Wednesday; Tuesday fixed on the way
    assert harness.invoke("carol", "mod accept", id=request).key == "mod.swap_done"
    with harness.transaction() as session:
        rows = session.execute(select(ModAssignment.day, ModAssignment.source))
        assert dict(rows.all()) == {MON: "swap", TUE: "rotation", WED: "swap"}
    harness.at("2026-12-06 12:00")  # the day before: Monday is ahead, so it shows too
    lines = harness.invoke("bob", "mod schedule", days=4).lines
    assert [(line.params["day"], line.key) for line in lines] == [
        (MON, "mod.schedule_line_pinned"),
        (TUE, "mod.schedule_line"),  # pinned as projected, not exchanged: no label
        (WED, "mod.schedule_line_pinned"),
        (THU, "mod.schedule_line"),
    ]
