"""Group set-up: channel, timezone, study days, times, locale, holidays, days off."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.errors import Conflict, InvalidInput, NotFound
from bot.replies import Reply, SettingsChanged, Text, Visibility
from bot.services import freetext, outbox
from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Actor
from bot.services.dates import Yearless, month_day
from bot.services.group_cache import load_group
from bot.services.permissions import require_admin
from db.models import DayOff, Group

DEFAULT_STUDY_DAYS = "1,2,3,4,5"
DEFAULT_REVIEW_TIME = time(9, 30)
DEFAULT_PROBLEM_DEADLINE = time(19, 0)
DEFAULT_REMINDER_MINUTES = 60
DEFAULT_PROGRESS_TIME = time(21, 0)
MAX_REMINDER_MINUTES = 720
MAX_DAY_OFF_REASON = 200  # DayOff.reason
# settings that move when the group's duties fall due (the scheduler must re-time them)
RETIMING = frozenset(
    {
        "timezone",
        "review_time",
        "problem_deadline",
        "problem_reminder_minutes",
        "progress_time",
    }
)

_DAY_NAMES = {
    "mon": 1,
    "tue": 2,
    "wed": 3,
    "thu": 4,
    "fri": 5,
    "sat": 6,
    "sun": 7,
    "월": 1,
    "화": 2,
    "수": 3,
    "목": 4,
    "금": 5,
    "토": 6,
    "일": 7,
}


def get_group(session: Session, group_id: int) -> Group:
    group = load_group(session, group_id)
    if group is None:
        raise NotFound("error.group_missing")
    return group


@dataclass(frozen=True)
class GroupInfo:
    """A group's settings that change how its messages look, read in one go."""

    id: int
    locale: str
    channel_name: str | None
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def group_info(session: Session, group_id: int) -> GroupInfo:
    group = get_group(session, group_id)
    return GroupInfo(group.id, group.locale, group.channel_name, group.timezone)


def find_group_by_guild(session: Session, guild_id: int) -> Group | None:
    return session.scalar(select(Group).where(Group.guild_id == guild_id))


def open_local_group(
    session: Session,
    *,
    guild_id: int,
    channel_id: int,
    channel_name: str | None,
    default_channel: str,
    now: datetime,
    settings: Settings,
    locale: str | None = None,
) -> tuple[Group, bool]:
    """A front end's one group (the console's): created on first start with the channel
    given (or ``default_channel``) and ``locale``; on a later start an explicit
    ``channel_name`` renames its channel. Returns the group and whether it was created."""
    existing = find_group_by_guild(session, guild_id)
    group = get_or_create_group(
        session,
        guild_id=guild_id,
        now=now,
        settings=settings,
        channel_id=channel_id,
        channel_name=channel_name or default_channel,
        locale=locale,
    )
    if existing is not None and channel_name:
        group.channel_id = channel_id
        group.channel_name = channel_name
    return group, existing is None


def get_or_create_group(
    session: Session,
    *,
    guild_id: int,
    now: datetime,
    settings: Settings,
    channel_id: int | None = None,
    channel_name: str | None = None,
    locale: str | None = None,
) -> Group:
    """The guild's group, created with the default schedule on first use."""
    group = find_group_by_guild(session, guild_id)
    if group is not None:
        return group
    group = Group(
        guild_id=guild_id,
        channel_id=channel_id,
        channel_name=channel_name,
        timezone=settings.default_timezone,
        study_days=DEFAULT_STUDY_DAYS,
        review_time=DEFAULT_REVIEW_TIME,
        problem_deadline=DEFAULT_PROBLEM_DEADLINE,
        locale=locale or settings.default_locale,
        skip_holidays=True,
        problem_reminder_minutes=DEFAULT_REMINDER_MINUTES,
        progress_time=DEFAULT_PROGRESS_TIME,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(group)
    except IntegrityError:  # another process created it first
        group = find_group_by_guild(session, guild_id)
        assert group is not None
    return group


# --- parsing of admin input ----------------------------------------------------------


def parse_time(text: str) -> time:
    """'09:30', also as typed with full-width characters ('０９：３０')."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", unicodedata.normalize("NFKC", text))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput("error.bad_time", value=text)
    return time(int(match[1]), int(match[2]))


def parse_study_days(text: str) -> str:
    """'mon-fri', 'mon,wed,fri', '월화수목금', '1,2,3' → '1,2,3,4,5'."""
    cleaned = text.strip().lower().replace(" ", "")
    days: set[int] = set()
    range_match = re.fullmatch(r"([a-z]{3}|[월화수목금토일])-([a-z]{3}|[월화수목금토일])", cleaned)
    if range_match and range_match[1] in _DAY_NAMES and range_match[2] in _DAY_NAMES:
        lo, hi = _DAY_NAMES[range_match[1]], _DAY_NAMES[range_match[2]]
        if lo > hi:
            raise InvalidInput("error.bad_days", value=text)
        days = set(range(lo, hi + 1))
    else:
        tokens = [t for t in re.split(r",", cleaned) if t]
        if len(tokens) == 1 and all(ch in _DAY_NAMES for ch in tokens[0]):
            tokens = list(tokens[0])  # Korean run like 월화수목금
        for token in tokens:
            if token in _DAY_NAMES:
                days.add(_DAY_NAMES[token])
            elif token.isdigit() and 1 <= int(token) <= 7:
                days.add(int(token))
            else:
                raise InvalidInput("error.bad_days", value=text)
    if not days:
        raise InvalidInput("error.bad_days", value=text)
    return ",".join(str(d) for d in sorted(days))


def parse_timezone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("error.bad_timezone", value=text) from None
    return text.strip()


LOCALE_WORDS = {
    "ko": "ko",
    "en": "en",
    "korean": "ko",
    "english": "en",
    "한국어": "ko",
    "한글": "ko",
    "영어": "en",
}


def parse_locale(text: str) -> str:
    """``ko`` or ``en``, also as typed by name: ``한국어``, ``영어``, ``Korean``."""
    value = LOCALE_WORDS.get(unicodedata.normalize("NFKC", text).strip().lower())
    if value is None:
        raise InvalidInput("error.bad_locale", value=text)
    return value


BOOL_WORDS = {
    True: ("on", "yes", "true", "1", "y", "예", "네", "응", "켬", "켜기", "참"),
    False: ("off", "no", "false", "0", "n", "아니오", "아니요", "아니", "끔", "끄기", "거짓"),
}


def parse_bool(text: str | bool) -> bool:
    """on/off, yes/no, true/false, 1/0 and the Korean 켬/끔, 예/아니요 (네, 아니오, ...)."""
    if isinstance(text, bool):
        return text
    value = unicodedata.normalize("NFKC", text).strip().lower()
    for meaning, words in BOOL_WORDS.items():
        if value in words:
            return meaning
    raise InvalidInput("error.bad_bool", value=text)


def day_names(study_days: str) -> list[Text]:
    return [Text(f"weekday.{d}") for d in study_days.split(",") if d]


# --- commands ------------------------------------------------------------------------


def schedule_reply(group: Group) -> Reply:
    """The group's settings, and what keeps its posts from being delivered (if anything)."""
    return Reply(
        key="schedule.show",
        params={
            "channel": group.channel_name or "-",
            "timezone": group.timezone,
            "days": day_names(group.study_days),
            "review_time": group.review_time,
            "deadline": group.problem_deadline,
            "locale": group.locale,
            "holidays": Text("common.on" if group.skip_holidays else "common.off"),
            "reminder": group.problem_reminder_minutes,
            "progress_time": group.progress_time,
        },
        visibility=Visibility.PRIVATE,
        lines=outbox.problem_report(group),
    )


@dataclass
class ScheduleChange:
    channel_id: int | None = None
    channel_name: str | None = None
    timezone: str | None = None
    study_days: str | None = None
    review_time: str | None = None
    deadline: str | None = None
    locale: str | None = None
    holidays: str | bool | None = None
    reminder_minutes: int | None = None
    progress_time: str | None = None


def set_schedule(session: Session, group: Group, actor: Actor, change: ScheduleChange) -> Reply:
    """Validate every field first, then apply them together (all or nothing)."""
    require_admin(session, group, actor)
    values: dict[str, object] = {}
    if change.timezone is not None:
        values["timezone"] = parse_timezone(change.timezone)
    if change.study_days is not None:
        values["study_days"] = parse_study_days(change.study_days)
    if change.review_time is not None:
        values["review_time"] = parse_time(change.review_time)
    if change.deadline is not None:
        values["problem_deadline"] = parse_time(change.deadline)
    if change.locale is not None:
        values["locale"] = parse_locale(change.locale)
    if change.holidays is not None:
        values["skip_holidays"] = parse_bool(change.holidays)
    if change.reminder_minutes is not None:
        if not 0 <= change.reminder_minutes <= MAX_REMINDER_MINUTES:
            raise InvalidInput("error.bad_reminder")
        values["problem_reminder_minutes"] = change.reminder_minutes
    if change.progress_time is not None:
        values["progress_time"] = parse_time(change.progress_time)
    if change.channel_id is not None:
        values["channel_id"] = change.channel_id
        values["channel_name"] = change.channel_name
    if not values:
        raise InvalidInput("error.nothing_to_change")
    for key, value in values.items():
        setattr(group, key, value)
    if change.channel_id is not None:
        # whoever sets the channel hears when posts cannot be delivered there; a new
        # channel starts without the old one's problem
        group.channel_set_by = actor.user_id
        outbox.clear_problem(group)
    session.flush()
    reply = schedule_reply(group)
    reply.key = "schedule.updated"
    reply.outcome = SettingsChanged(tuple(values), retime=not RETIMING.isdisjoint(values))
    return reply


def set_day_off(
    session: Session,
    group: Group,
    actor: Actor,
    day: date,
    now: datetime,
    reason: str | None = None,
    cancel: bool = False,
) -> Reply:
    require_admin(session, group, actor)
    existing = session.scalar(select(DayOff).where(DayOff.group_id == group.id, DayOff.day == day))
    if cancel:
        if existing is None:
            raise NotFound("error.day_off_missing", day=day)
        session.delete(existing)
        return Reply.public("schedule.day_off_cancelled", day=day)
    if existing is not None:
        raise Conflict("error.day_off_exists", day=day)
    if day < local_today(group, now):
        raise InvalidInput("error.date_in_past", day=day)
    cleaned = freetext.clean(  # posted in the channel: no pings; refused, never cut
        reason, "reason", MAX_DAY_OFF_REASON, too_long="error.reason_too_long"
    )
    session.add(DayOff(group_id=group.id, day=day, reason=cleaned))
    session.flush()
    return Reply.public("schedule.day_off_added", day=day, reason=cleaned or "-")


def upcoming_days_off(session: Session, group: Group, today: date) -> list[tuple[date, str | None]]:
    """The group's days off from ``today`` on, in order: (day, reason)."""
    return StudyCalendar(session, group).days_off_from(today)


__all__ = [
    "RETIMING",
    "GroupInfo",
    "ScheduleChange",
    "StudyCalendar",
    "get_group",
    "get_or_create_group",
    "group_info",
    "open_local_group",
    "schedule_reply",
    "set_day_off",
    "set_schedule",
]


_RELATIVE_DAYS = {"today": 0, "오늘": 0, "tomorrow": 1, "내일": 1, "모레": 2}


def parse_date(
    text: str, today: date, *, rule: Yearless = Yearless.UPCOMING, anchor: date | None = None
) -> date:
    """'2026-12-01', '12-01', '12/1', 'today', 'tomorrow', '오늘', '내일', '모레'.

    A month-day without a year follows ``rule`` from ``anchor`` (default: today); see
    ``bot.services.dates``. Full-width digits and signs ('１２－０１') read as ASCII."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if value in _RELATIVE_DAYS:
        return date.fromordinal(today.toordinal() + _RELATIVE_DAYS[value])
    try:
        match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    else:
        match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})", value)
        if match:
            return month_day(int(match[1]), int(match[2]), anchor or today, rule, text)
    raise InvalidInput("error.bad_date", value=freetext.echo(text))
