"""Study days: weekdays only, Korean public holidays and declared days off skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest

from bot.errors import InvalidInput
from bot.replies import SettingsChanged
from bot.services.calendar import StudyCalendar, holiday_name, local_today
from bot.services.groups import (
    MAX_DAY_OFF_REASON,
    parse_bool,
    parse_date,
    parse_study_days,
    parse_time,
)
from db.models import Group
from tests.conftest import Harness

pytestmark = pytest.mark.sqlite_only

MONDAY = date(2026, 12, 7)


def study_days(harness: Harness, start: date, count: int) -> list[date]:
    with harness.group() as (session, group):
        return StudyCalendar(session, group).study_days(start, count)


def test_weekends_are_skipped(harness: Harness) -> None:
    days = study_days(harness, MONDAY, 7)
    assert days == [MONDAY + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8)]
    with harness.group() as (session, group):
        calendar = StudyCalendar(session, group)
        assert calendar.why_not(date(2026, 12, 12)) == ("calendar.not_study_weekday", None)
        assert calendar.next_study_day(date(2026, 12, 11)) == date(2026, 12, 14)


def test_christmas_and_chuseok_are_skipped_by_default(harness: Harness) -> None:
    kr = holidays.country_holidays("KR", years=2026)
    assert {date(2026, 12, 25), date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 26)} <= set(kr)
    assert study_days(harness, date(2026, 12, 24), 2) == [date(2026, 12, 24), date(2026, 12, 28)]
    # Chuseok 2026 is Thu 24 - Sat 26 September.
    assert study_days(harness, date(2026, 9, 23), 2) == [date(2026, 9, 23), date(2026, 9, 28)]
    with harness.group() as (session, group):
        reason = StudyCalendar(session, group).why_not(date(2026, 12, 25))
    assert reason == ("calendar.holiday", holiday_name(date(2026, 12, 25), "ko"))
    assert reason[1]  # a name to show


def test_every_weekday_holiday_of_the_year_is_skipped_and_no_other_day(harness: Harness) -> None:
    kr = holidays.country_holidays("KR", years=2026)
    with harness.group() as (session, group):
        calendar = StudyCalendar(session, group)
        day = date(2026, 1, 1)
        while day.year == 2026:
            expected = day.isoweekday() <= 5 and day not in kr
            assert calendar.is_study_day(day) == expected, day
            day += timedelta(days=1)


def test_holiday_names_follow_the_locale() -> None:
    assert holiday_name(date(2026, 12, 25), "en") == "Christmas Day"
    assert holiday_name(date(2026, 12, 25), "ko") == "기독탄신일"
    assert holiday_name(date(2026, 12, 24), "ko") is None


def test_declared_day_off_is_skipped(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    reply = harness.invoke(admin, "schedule dayoff", date="2026-12-09", reason="workshop")
    assert reply.key == "schedule.day_off_added"
    assert study_days(harness, MONDAY, 3) == [MONDAY, date(2026, 12, 8), date(2026, 12, 10)]
    with harness.group() as (session, group):
        assert StudyCalendar(session, group).why_not(date(2026, 12, 9)) == (
            "calendar.day_off",
            "workshop",
        )
    harness.at("2026-12-09 08:00")
    assert harness.invoke("anyone", "mod today").key == "mod.today_no_study"
    reply = harness.invoke(admin, "schedule dayoff", date="2026-12-09", cancel=True)
    assert reply.key == "schedule.day_off_cancelled"
    assert study_days(harness, MONDAY, 3) == [MONDAY, date(2026, 12, 8), date(2026, 12, 9)]


def test_day_off_in_the_past_or_twice_is_refused(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "schedule dayoff", date="2026-12-04").key == "error.date_in_past"
    assert harness.invoke(admin, "schedule dayoff", date="12-10").key == "schedule.day_off_added"
    assert harness.invoke(admin, "schedule dayoff", date="12-10").key == "error.day_off_exists"
    assert (
        harness.invoke(admin, "schedule dayoff", date="12-11", cancel=True).key
        == "error.day_off_missing"
    )


def test_holidays_off_makes_holidays_study_days(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "schedule set", holidays=False).key == "schedule.updated"
    assert study_days(harness, date(2026, 12, 24), 2) == [date(2026, 12, 24), date(2026, 12, 25)]
    assert harness.invoke(admin, "schedule set", holidays="on").key == "schedule.updated"
    assert study_days(harness, date(2026, 12, 24), 2) == [date(2026, 12, 24), date(2026, 12, 28)]


def test_study_days_setting_changes_the_week(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    assert harness.invoke(admin, "schedule set", days="월수금").key == "schedule.updated"
    assert study_days(harness, MONDAY, 4) == [
        MONDAY,
        date(2026, 12, 9),
        date(2026, 12, 11),
        date(2026, 12, 14),
    ]


def test_local_today_uses_the_group_zone() -> None:
    seoul = Group(timezone="Asia/Seoul")
    london = Group(timezone="Europe/London")
    instant = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    assert local_today(seoul, instant) == date(2026, 12, 7)
    assert local_today(london, instant) == date(2026, 12, 6)


# --- parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        (" 2027-1-5 ", date(2027, 1, 5)),
        ("12-09", date(2026, 12, 9)),
        ("12/7", date(2026, 12, 7)),  # today counts as upcoming
        ("1.15", date(2027, 1, 15)),  # month-day already past this year: next year
        ("2-1", date(2027, 2, 1)),  # within about six months ahead
        ("today", MONDAY),
        ("Tomorrow", date(2026, 12, 8)),
        ("오늘", MONDAY),
        ("내일", date(2026, 12, 8)),
        ("모레", date(2026, 12, 9)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text, MONDAY) == expected


@pytest.mark.parametrize(
    "text", ["", "someday", "2026-13-01", "2026-02-30", "12-32", "2026/12/01", "7", "02-29"]
)
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date(text, MONDAY)
    assert caught.value.key == "error.bad_date"
    assert caught.value.params == {"value": text}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:30", time(9, 30)), ("9:30", time(9, 30)), (" 23:59 ", time(23, 59)), ("0:00", time())],
)
def test_parse_time_accepts(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9:60", "930", "9.30", "nine", "", "09:30:00"])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_time(text)
    assert caught.value.key == "error.bad_time"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", "1,2,3,4,5"),
        ("Mon, Wed, Fri", "1,3,5"),
        ("월화수목금", "1,2,3,4,5"),
        ("월-금", "1,2,3,4,5"),
        ("월,수", "1,3"),
        ("sat-sun", "6,7"),
        ("3,1,2", "1,2,3"),
        ("mon,mon", "1"),
    ],
)
def test_parse_study_days_accepts(text: str, expected: str) -> None:
    assert parse_study_days(text) == expected


@pytest.mark.parametrize("text", ["", ",", "fri-mon", "funday", "8", "0", "mon-xyz", "월화x"])
def test_parse_study_days_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_study_days(text)
    assert caught.value.key == "error.bad_days"


def test_parse_bool() -> None:
    assert parse_bool("on") is True and parse_bool("끔") is False and parse_bool(True) is True
    with pytest.raises(InvalidInput):
        parse_bool("maybe")


def test_bad_settings_change_nothing(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    reply = harness.invoke(admin, "schedule set", review_time="10:00", timezone="Mars/Base")
    assert (reply.key, reply.params) == ("error.bad_timezone", {"value": "Mars/Base"})
    with harness.group() as (_, group):
        assert group.review_time == time(9, 30)  # all or nothing
    assert harness.invoke(admin, "schedule set").key == "error.nothing_to_change"


def test_settings_changes_say_what_changed_and_whether_duties_move(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    reply = harness.invoke(admin, "schedule set", locale="en", days="월수금")
    assert reply.outcome == SettingsChanged(("study_days", "locale"), retime=False)
    reply = harness.invoke(admin, "schedule set", deadline="18:30")
    assert reply.outcome == SettingsChanged(("problem_deadline",), retime=True)
    refused = harness.invoke(admin, "schedule set", deadline="25:00")
    assert refused.outcome is None


def test_an_overlong_day_off_reason_is_refused_not_cut(harness: Harness) -> None:
    admin = harness.grant_admin("admin")
    reason = "가" * (MAX_DAY_OFF_REASON + 1)
    reply = harness.invoke(admin, "schedule dayoff", date="2026-12-09", reason=reason)
    assert (reply.key, reply.params["max"], reply.params["length"]) == (
        "error.reason_too_long",
        MAX_DAY_OFF_REASON,
        MAX_DAY_OFF_REASON + 1,
    )
    reply = harness.invoke(admin, "schedule dayoff", date="2026-12-09", reason=reason[:-1])
    assert reply.key == "schedule.day_off_added"
