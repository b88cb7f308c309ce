"""Study-day arithmetic: weekdays, Korean public holidays and declared days off."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import DayOff, Group

MAX_SCAN_DAYS = 366


def zone(group: Group) -> ZoneInfo:
    return ZoneInfo(group.timezone)


def local_now(group: Group, now: datetime) -> datetime:
    return now.astimezone(zone(group))


def local_today(group: Group, now: datetime) -> date:
    return local_now(group, now).date()


def weekdays(group: Group) -> set[int]:
    """ISO weekdays (1 = Monday) the group studies on."""
    return {int(x) for x in group.study_days.split(",") if x}


@lru_cache(maxsize=64)
def _korean_holidays(year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays("KR", years=year, language=language))


def holiday_name(day: date, locale: str) -> str | None:
    language = "ko" if locale == "ko" else "en_US"
    return _korean_holidays(day.year, language).get(day)


class StudyCalendar:
    """Answers "is this a study day?" for one group, caching its days off."""

    def __init__(self, session: Session, group: Group) -> None:
        self.group = group
        self._weekdays = weekdays(group)
        self._days_off = {
            row.day: row.reason
            for row in session.scalars(select(DayOff).where(DayOff.group_id == group.id))
        }

    def why_not(self, day: date) -> tuple[str, str | None] | None:
        """None for a study day, else (reason key, detail)."""
        if day.isoweekday() not in self._weekdays:
            return ("calendar.not_study_weekday", None)
        if self.group.skip_holidays:
            name = holiday_name(day, self.group.locale)
            if name:
                return ("calendar.holiday", name)
        if day in self._days_off:
            return ("calendar.day_off", self._days_off[day])
        return None

    def is_study_day(self, day: date) -> bool:
        return self.why_not(day) is None

    def study_days(self, start: date, count: int) -> list[date]:
        """The first ``count`` study days on or after ``start``."""
        found: list[date] = []
        day = start
        limit = start + timedelta(days=MAX_SCAN_DAYS + count * 7)
        while len(found) < count and day <= limit:
            if self.is_study_day(day):
                found.append(day)
            day += timedelta(days=1)
        return found

    def next_study_day(self, after: date) -> date | None:
        days = self.study_days(after + timedelta(days=1), 1)
        return days[0] if days else None

    def previous_study_day(self, before: date) -> date | None:
        """The last study day before ``before`` (None when none in ``MAX_SCAN_DAYS``)."""
        day = before - timedelta(days=1)
        for _ in range(MAX_SCAN_DAYS):
            if self.is_study_day(day):
                return day
            day -= timedelta(days=1)
        return None
