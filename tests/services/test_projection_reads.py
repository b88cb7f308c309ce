"""The rotation's projection reads the group's days off with its turns and its members as
plain rows: what it reads that way must match what the calendar and the roster say."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.services.calendar import StudyCalendar
from bot.services.roster import SeatRow, mention
from bot.services.rotation import project
from db.models import DayOff
from tests.conftest import Harness

MONDAY = date(2026, 12, 7)


def days(harness: Harness) -> list[date]:
    with harness.group() as (session, group):
        return [turn.day for turn in project(session, group, MONDAY, 3)]


def test_days_off_read_with_the_turns_are_skipped(harness: Harness) -> None:
    harness.at("2026-12-07 08:00")
    harness.join("ann", "bob")
    admin = harness.grant_admin("admin")
    reply = harness.invoke(admin, "schedule dayoff", date="2026-12-08", reason="workshop")
    assert reply.key == "schedule.day_off_added"
    with harness.group() as (session, group):
        turns = project(session, group, MONDAY, 3)
        # the calendar then knows the day off (held from the same query), reason and all
        assert StudyCalendar(session, group).why_not(date(2026, 12, 8)) == (
            "calendar.day_off",
            "workshop",
        )
    assert [turn.day for turn in turns] == [MONDAY, date(2026, 12, 9), date(2026, 12, 10)]


def test_days_off_changed_in_the_session_count(harness: Harness) -> None:
    harness.at("2026-12-07 08:00")
    harness.join("ann", "bob")
    with harness.group() as (session, group):
        assert StudyCalendar(session, group).is_study_day(date(2026, 12, 8))  # held now
        session.add(DayOff(group_id=group.id, day=date(2026, 12, 8), reason=None))
        turns = project(session, group, MONDAY, 3)
        assert [turn.day for turn in turns] == [MONDAY, date(2026, 12, 9), date(2026, 12, 10)]
        day_off = session.scalars(select(DayOff)).one()
        session.delete(day_off)  # and taken back: the day counts again
        turns = project(session, group, MONDAY, 3)
        assert [turn.day for turn in turns] == [MONDAY, date(2026, 12, 8), date(2026, 12, 9)]
    assert days(harness) == [MONDAY, date(2026, 12, 8), date(2026, 12, 9)]


def test_projected_members_are_named_as_the_roster_names_them(harness: Harness) -> None:
    harness.at("2026-12-07 08:00")
    harness.join("ann", "bob", "cho")
    with harness.group() as (session, group):
        turns = project(session, group, MONDAY, 3)
        names = [mention(session, turn.member).name for turn in turns if turn.member]
        assert all(isinstance(turn.member, SeatRow) for turn in turns)
    assert names == ["ann", "bob", "cho"]
