"""What the entries add up to: best scores per task, streaks, today's submissions.

An entry counts for the group's local date when it was logged. A streak counts
consecutive study days with at least one entry; days that are not study days (weekends,
holidays, days off) and the member's own away days neither count nor break it, and today
does not break it before the day is over.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services import competition
from bot.services.calendar import StudyCalendar
from bot.services.competition import TaskInfo
from bot.services.rotation import AwayBook
from db.models import Group, Member, ProgressEntry


def direction(task: str | None, metric: str | None, tasks: dict[str, TaskInfo]) -> bool:
    info = tasks.get(task.casefold()) if task else None
    return info.higher_is_better if info else competition.higher_is_better(metric)


def counts_for(entry: ProgressEntry, tasks: dict[str, TaskInfo]) -> bool:
    """Scored, and (for a defined task) measured by the task's current metric."""
    if entry.score is None or entry.task is None:
        return False
    info = tasks.get(entry.task.casefold())
    return info is None or entry.metric in (None, info.metric)


def better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def score_of(entry: ProgressEntry) -> float:
    """The score of an entry that counts (``counts_for``): best lists hold only such."""
    if entry.score is None:
        raise ValueError(f"progress entry {entry.id} has no score")
    return entry.score


def best_by_task(
    entries: list[ProgressEntry], tasks: dict[str, TaskInfo]
) -> dict[str, ProgressEntry]:
    """The best scored entry per task (the earliest one on a tie)."""
    best: dict[str, ProgressEntry] = {}
    for entry in entries:
        if not counts_for(entry, tasks):
            continue
        assert entry.task is not None and entry.score is not None
        key = entry.task.casefold()
        current = best.get(key)
        higher = direction(entry.task, entry.metric, tasks)
        if current is None or better(score_of(entry), score_of(current), higher):
            best[key] = entry
    return best


def streak(session: Session, group: Group, member: Member, today: date) -> int:
    """Consecutive study days with an entry, ending today (or yesterday while today has
    none yet); non-study days and the member's away days are skipped."""
    days = set(
        session.scalars(
            select(ProgressEntry.local_date)
            .where(ProgressEntry.member_id == member.id, ProgressEntry.local_date <= today)
            .distinct()
        )
    )
    if not days:
        return 0
    earliest = min(days)
    calendar = StudyCalendar(session, group)
    away = AwayBook(session, [member], earliest)
    count = 0
    day = today if today in days else today - timedelta(days=1)
    while day >= earliest:
        if calendar.is_study_day(day) and not away.is_away(member.id, day):
            if day not in days:
                break
            count += 1
        day -= timedelta(days=1)
    return count


def submissions_today(session: Session, member: Member, today: date) -> int:
    return int(
        session.scalar(
            select(func.count(ProgressEntry.id)).where(
                ProgressEntry.member_id == member.id,
                ProgressEntry.local_date == today,
                ProgressEntry.submitted.is_(True),
            )
        )
        or 0
    )
