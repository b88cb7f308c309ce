"""Bad input never reaches the database or a channel as it was typed.

Every number option is range-checked in the command layer before any handler runs (ids
fit a signed 64-bit integer and start at 1); dates without a year get the year a person
means, or a question; free text a post shows is neutralised at every entry point and is
refused with its limit when too long; reserved names cannot become members. Each refusal
leaves every table as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.commands import COMMANDS, NUMBER_KINDS, UserRef
from bot.i18n import render
from bot.replies import Reply, Text, Visibility
from bot.services.bounds import MAX_BIG_ID, MAX_ROW_ID, format_number
from bot.services.freetext import ZWSP, is_reserved_name
from db.models import Away, Competition, DayOff, Member, ProblemSolve, User
from tests.conftest import Harness, snapshot

HUGE = 99999999999999999999999  # the example: wider than any database integer
MONDAY = date(2026, 12, 7)


@contextmanager
def unchanged(harness: Harness) -> Iterator[None]:
    """The block must leave every row of every table as it was."""
    with harness.transaction() as session:
        before = snapshot(session)
    yield
    with harness.transaction() as session:
        assert snapshot(session) == before, "a refused command changed the database"


def refused(harness: Harness, who: str, command: str, **options: Any) -> Reply:
    with unchanged(harness):
        reply = harness.invoke(who, command, **options)
    assert reply.visibility is Visibility.PRIVATE, reply
    assert reply.key not in ("error.unexpected",), reply
    return reply


@pytest.fixture
def group(harness: Harness) -> Harness:
    harness.join("alice", "bob")
    harness.grant_admin("admin")
    return harness


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_every_number_option_declares_its_range() -> None:
    numbers = [(c.name, o) for c in COMMANDS.values() for o in c.options if o.kind in NUMBER_KINDS]
    assert len(numbers) >= 8
    for name, option in numbers:
        assert option.low is not None and option.high is not None, name
        assert option.high <= MAX_BIG_ID, name
    ids = [o for c in COMMANDS.values() for o in c.options if o.name == "id" and o.kind == "int"]
    assert ids and all((o.low, o.high) == (1, 2**31 - 1) for o in ids)  # INTEGER keys


@pytest.mark.parametrize(
    ("command", "options", "name"),
    [
        ("mod accept", {"id": HUGE}, "id"),
        ("mod decline", {"id": HUGE}, "id"),
        ("mod accept", {"id": 0}, "id"),
        ("progress edit", {"id": HUGE, "note": "x"}, "id"),
        ("progress delete", {"id": -1}, "id"),
        ("problem pick", {"problem": str(HUGE)}, "problem"),
        ("problem show", {"problem": str(HUGE)}, "problem"),
        ("problem solved", {"problem": str(HUGE)}, "problem"),
        (
            "problem show",
            {"problem": f"https://school.programmers.co.kr/learn/courses/30/lessons/{HUGE}"},
            "problem",
        ),
        ("mod schedule", {"days": HUGE}, "days"),
        ("problem history", {"n": -HUGE}, "n"),
        ("competition set", {"limit": HUGE}, "limit"),
        ("schedule set", {"reminder": HUGE}, "reminder"),
        ("progress log", {"note": "x", "score": 1e300}, "score"),
    ],
)
def test_numbers_out_of_range_are_refused_before_the_database(
    group: Harness, command: str, options: dict[str, Any], name: str
) -> None:
    reply = refused(
        group,
        "admin" if command.startswith(("competition", "schedule")) else "alice",
        command,
        **options,
    )
    assert reply.key == "input.out_of_range", reply
    assert reply.params["name"].option == name
    assert "e+" not in reply.params["value"] and "e+" not in reply.params["high"]
    text = render(reply, "en")
    assert f"must be from {reply.params['low']} to {reply.params['high']}" in text


def test_the_largest_id_is_asked_for_and_simply_not_found(group: Harness) -> None:
    assert refused(group, "bob", "mod accept", id=MAX_ROW_ID).key == "error.swap_missing"
    assert refused(group, "alice", "progress delete", id=MAX_ROW_ID).key == (
        "error.progress_entry_missing"
    )
    assert refused(group, "alice", "problem show", problem=str(MAX_BIG_ID)).key == (
        "error.problem_missing"
    )
    just_over = refused(group, "bob", "mod accept", id=MAX_ROW_ID + 1)
    assert (just_over.key, just_over.params["high"]) == ("input.out_of_range", "2,147,483,647")


@pytest.mark.sqlite_only
def test_numbers_of_the_wrong_type_are_refused_or_taken_as_meant(group: Harness) -> None:
    assert refused(group, "alice", "mod schedule", days="abc").key == "error.bad_option"
    assert refused(group, "alice", "mod schedule", days=2.5).key == "error.bad_option"
    assert refused(group, "alice", "mod schedule", days=True).key == "error.bad_option"
    assert len(group.invoke("alice", "mod schedule", days=3.0).lines) == 3
    assert len(group.invoke("alice", "mod schedule", days=" 2 ").lines) == 2


@pytest.mark.sqlite_only
def test_numbers_read_as_people_write_them() -> None:
    assert format_number(1e6) == "1000000"
    assert format_number(1e6, grouped=True) == "1,000,000"
    assert format_number(1000000.5) == "1000000.5"
    assert format_number(1e-7) == "0.0000001"
    assert format_number(-0.25) == "-0.25"
    assert format_number(2**63 - 1, grouped=True) == "9,223,372,036,854,775,807"


def test_a_score_just_over_its_bound_does_not_read_as_the_bound(group: Harness) -> None:
    reply = refused(group, "alice", "progress log", note="x", metric="loss", score=1000000.5)
    assert reply.params["value"] == "1000000.5" and reply.params["high"] == "1,000,000"
    reply = refused(group, "alice", "progress log", note="x", metric="f1", score=100.5)
    assert (reply.key, reply.params["value"], reply.params["high"]) == (
        "error.progress_score_range",
        "100.5",
        "100",
    )


# --- dates without a year ---------------------------------------------------------------


def test_a_recent_past_month_day_is_not_next_year(group: Harness) -> None:
    """The issue's case: /away from:12-01 to:12-02 on 12-14 registered 2027."""
    group.at("2026-12-14 10:00")
    reply = refused(group, "alice", "away", **{"from": "12-01", "to": "12-02"})
    assert reply.key == "input.date_needs_year"
    assert reply.params["past"] == Text(
        "input.date_with_year", {"year": 2026, "day": date(2026, 12, 1)}
    )
    assert reply.params["example"] == "2027-12-01"
    assert "2026년 12월 1일" in render(reply, "ko") and "2027-12-01" in render(reply, "ko")
    reply = refused(group, "admin", "schedule dayoff", date="12-01")
    assert reply.key == "input.date_needs_year"


def test_an_upcoming_month_day_in_the_next_year_is_taken_and_shown_with_its_year(
    group: Harness,
) -> None:
    group.at("2026-12-14 10:00")
    reply = group.invoke("alice", "away", **{"from": "01-05", "to": "1-6"})
    assert reply.key == "away.added"
    year = {"year": 2027}
    assert reply.params["start"] == Text("input.date_with_year", {**year, "day": date(2027, 1, 5)})
    assert render(reply, "ko").startswith("2027년 1월 5일(화)부터 2027년 1월 6일(수)까지")
    with group.transaction() as session:
        assert session.scalars(select(Away.start)).all() == [date(2027, 1, 5)]
    this_year = group.invoke("alice", "away", **{"from": "12-21"})
    assert this_year.params["start"] == date(2026, 12, 21)  # the current year: no year shown


def test_a_public_post_shows_the_year_of_another_year(group: Harness) -> None:
    group.at("2026-12-14 10:00")
    reply = group.invoke("admin", "schedule dayoff", date="01-04", reason="신년 휴식")
    assert reply.visibility is Visibility.PUBLIC
    assert render(reply, "ko").startswith("2027년 1월 4일(월)")
    with group.transaction() as session:
        assert session.scalars(select(DayOff.day)).all() == [date(2027, 1, 4)]


def test_cancelling_takes_the_nearest_such_day(group: Harness) -> None:
    group.at("2026-12-14 10:00")
    group.invoke("alice", "away", **{"from": "2026-12-10", "to": "2026-12-20"})
    reply = group.invoke("alice", "away", cancel=True, **{"from": "12-10"})  # begun already
    assert (reply.key, reply.params) == ("away.cancelled", {"count": 1})


def test_a_competition_deadline_in_the_past_is_refused(group: Harness) -> None:
    group.at("2026-12-14 10:00")
    reply = refused(group, "admin", "competition set", deadline="2026-12-13")
    assert reply.key == "input.deadline_past"
    assert refused(group, "admin", "competition set", deadline="12-01").key == (
        "input.date_needs_year"
    )
    today = group.invoke("admin", "competition set", deadline="2026-12-14")
    assert today.key == "competition.updated"
    later = group.invoke("admin", "competition set", deadline="3-31")
    assert later.key == "competition.updated"
    with group.transaction() as session:
        assert session.scalar(select(Competition.deadline)) == date(2027, 3, 31)


# --- free text --------------------------------------------------------------------------


def test_a_day_off_reason_is_neutralised_where_it_is_posted_and_kept(group: Harness) -> None:
    reply = group.invoke("admin", "schedule dayoff", date="2026-12-09", reason="@everyone <@123>")
    assert reply.visibility is Visibility.PUBLIC
    assert reply.params["reason"] == f"@{ZWSP}everyone <@{ZWSP}123>"
    with group.transaction() as session:
        assert session.scalar(select(DayOff.reason)) == f"@{ZWSP}everyone <@{ZWSP}123>"
    shown = group.invoke("alice", "schedule show")
    assert "@everyone" not in render(shown, "en")


def test_display_names_posts_show_cannot_ping(group: Harness) -> None:
    pinger = group.actor("@here", platform_admin=True)
    reply = group.invoke(pinger, "member add", user=UserRef(777, "<@&9> team"))
    assert reply.key == "member.added"
    assert reply.params["by"] == f"@{ZWSP}here"
    assert reply.params["name"].name == f"<@{ZWSP}&9> team"
    with group.transaction() as session:
        assert session.scalar(select(User.name).where(User.id == 777)) == f"<@{ZWSP}&9> team"


def test_a_link_with_a_mention_gets_the_real_reason(group: Harness) -> None:
    group.invoke("admin", "problem pick", problem="12899")
    for link in ("https://github.com/x/@everyone", "https://x.com/<@123>"):
        reply = refused(group, "bob", "problem solved", link=link)
        assert reply.key == "input.link_mention"
        assert "@everyone" not in reply.params["value"]
    with group.transaction() as session:
        assert session.scalars(select(ProblemSolve)).all() == []


def test_echoed_input_is_as_typed_and_visibly_shortened(group: Harness) -> None:
    long = "x" * 500
    reply = refused(group, "alice", "progress group", period=long)
    assert reply.params["value"] == "x" * 99 + "…"
    reply = refused(group, "alice", "progress reminder", mode="sometimes")
    assert reply.params["value"] == "sometimes"


# --- reserved names ---------------------------------------------------------------------


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("name", "reserved"),
    [
        ("everyone", True),
        ("Everyone", True),
        ("@here", True),
        (f"@{ZWSP}HERE", True),
        (" @everyone ", True),
        ("everyone2", False),
        ("here-and-there", False),
        ("alice", False),
    ],
)
def test_reserved_names(name: str, reserved: bool) -> None:
    assert is_reserved_name(name) is reserved


@pytest.mark.parametrize("name", ["everyone", "Here", "@everyone"])
def test_reserved_names_cannot_become_members(group: Harness, name: str) -> None:
    reply = refused(group, name, "member join")
    assert reply.key == "input.reserved_name"
    added = refused(group, "admin", "member add", user=UserRef(4242, name))
    assert added.key == "input.reserved_name"
    with group.transaction() as session:
        assert len(session.scalars(select(Member)).all()) == 2
