"""Study-day arithmetic: weekdays, Korean public holidays and declared days off."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from bot.services.group_cache import keep_days_off, kept_days_off
from db.models import DayOff, Group
from db.rows import plain_rows

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


_DAYS_OFF = "studybot.calendar.days_off"  # session.info key: group id -> its days off
# built once (statements built per call cost more than running them)
_DAYS_OFF_OF = select(DayOff.day, DayOff.reason).where(DayOff.group_id == bindparam("group_id"))


def _touches_days_off(session: Session) -> bool:
    """Days off added or deleted in the session and not written yet (days off are never
    changed in place)."""
    return any(isinstance(obj, DayOff) for part in (session.new, session.deleted) for obj in part)


@event.listens_for(Session, "after_flush")
def _forget_days_off(session: Session, _context: object) -> None:
    """A flush that wrote days off makes the session read them again."""
    if _DAYS_OFF in session.info and _touches_days_off(session):
        del session.info[_DAYS_OFF]


def _days_off(session: Session, group_id: int) -> dict[date, str | None]:
    """The group's days off, read once per session (a command asks its calendar often)."""
    if _touches_days_off(session):  # changed and not written yet: read them as they are
        session.info.pop(_DAYS_OFF, None)
        return {
            row.day: row.reason
            for row in session.scalars(select(DayOff).where(DayOff.group_id == group_id))
        }
    known = _held(session, group_id)
    if known is None:
        known = {
            day: reason for day, reason in plain_rows(session, _DAYS_OFF_OF, {"group_id": group_id})
        }
        hold_days_off(session, group_id, known)
    return known


def _held(session: Session, group_id: int) -> dict[date, str | None] | None:
    """The group's days off the session holds, or the process keeps (``group_cache``)."""
    held: dict[int, dict[date, str | None]] = session.info.setdefault(_DAYS_OFF, {})
    if group_id not in held:
        kept = kept_days_off(session, group_id)
        if kept is None:
            return None
        held[group_id] = kept
    return held[group_id]


def known_days_off(session: Session, group_id: int) -> bool:
    """Whether the session holds the group's days off already (no need to read them)."""
    return not _touches_days_off(session) and _held(session, group_id) is not None


def hold_days_off(session: Session, group_id: int, days_off: dict[date, str | None]) -> None:
    """Hold the group's days off read (as they are in the database) with another query;
    ignored while the session has days off not written yet."""
    if not _touches_days_off(session):
        session.info.setdefault(_DAYS_OFF, {})[group_id] = days_off
        keep_days_off(session, group_id, days_off)


class StudyCalendar:
    """Answers "is this a study day?" for one group, caching its days off."""

    def __init__(
        self, session: Session, group: Group, days_off: dict[date, str | None] | None = None
    ) -> None:
        """``days_off``: the group's days off when the caller already read them (a batch
        of groups read at once); otherwise they are read here."""
        self.group = group
        self._weekdays = weekdays(group)
        if days_off is None:
            days_off = _days_off(session, group.id)
        self._days_off = days_off

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

    def days_off_from(self, start: date) -> list[tuple[date, str | None]]:
        """The days off declared from ``start`` on, in order: (day, reason)."""
        return sorted((day, reason) for day, reason in self._days_off.items() if day >= start)

    def study_days(self, start: date, count: int) -> list[date]:
        """The first ``count`` study days on or after ``start``."""
        # ``is_study_day`` inlined (a 30-day schedule asks about some 40 days)
        found: list[date] = []
        day = start
        one_day = timedelta(days=1)
        limit = start + timedelta(days=MAX_SCAN_DAYS + count * 7)
        language = "ko" if self.group.locale == "ko" else "en_US"
        skip_holidays = self.group.skip_holidays
        year, holiday_names = day.year, _korean_holidays(day.year, language)
        while len(found) < count and day <= limit:
            if day.year != year:
                year, holiday_names = day.year, _korean_holidays(day.year, language)
            if (
                day.isoweekday() in self._weekdays
                and not (skip_holidays and holiday_names.get(day))
                and day not in self._days_off
            ):
                found.append(day)
            day += one_day
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
