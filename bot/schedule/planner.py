"""Pure timing: when each duty of each group falls due, in UTC."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.schedule.duties import DUTIES
from bot.services.calendar import zone
from db.models import Group

Owns = Callable[[int], bool]  # whether this process serves a guild's group (sharding)


@dataclass(frozen=True, order=True)
class DueDuty:
    due_at: datetime  # aware UTC
    group_id: int
    duty: str
    local_date: date


@lru_cache(maxsize=65536)
def _instant(local_date: date, at: time, timezone: str) -> datetime:
    """A local wall time as an instant (UTC); thousands of groups share a few of them."""
    return datetime.combine(local_date, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def due_at(group: Group, duty: str, local_date: date) -> datetime:
    return _instant(local_date, DUTIES[duty].time_of(group), group.timezone)


def due_for(group: Group, after: datetime, until: datetime) -> list[DueDuty]:
    """The group's duty instances with ``after < due_at <= until`` (and not before the
    group was created), in due order."""
    found: list[DueDuty] = []
    tz = zone(group)
    day = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        for name in DUTIES:
            when = due_at(group, name, day)
            # A duty that fell due before the group existed was never missed.
            if after < when <= until and when >= group.created_at:
                found.append(DueDuty(when, group.id, name, day))
        day += timedelta(days=1)
    found.sort()
    return found


def due_between(
    session: Session, after: datetime, until: datetime, owns: Owns | None = None
) -> list[DueDuty]:
    """Every duty instance with ``after < due_at <= until`` (and not before its group was
    created), in due order. Paused groups (their server removed the bot) have none, nor
    have the groups of servers this process does not ``owns`` (sharded: another's)."""
    found: list[DueDuty] = []
    active = select(Group).where(Group.paused_at.is_(None)).order_by(Group.id)
    for group in session.scalars(active):
        if owns is None or owns(group.guild_id):
            found.extend(due_for(group, after, until))
    found.sort()
    return found
