"""What the duties say about progress: whether a group uses it, who to remind (and each
member's reminder mode), and the review-time digest of the previous study day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.replies import Reply, Text
from bot.services import competition, freetext
from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Actor
from bot.services.permissions import require_member
from bot.services.progress._records import (
    MAX_LIST_LINES,
    entry_line,
    format_score,
    load_entries,
    member_names,
)
from bot.services.progress._stats import best_by_task, better, direction, score_of
from bot.services.roster import active_members
from bot.services.rotation import AwayBook
from db.models import Competition, Group, Member, ProgressEntry

REMINDER_MODES = {
    "on": "on",
    "off": "off",
    "dm": "dm",
    "켬": "on",
    "끔": "off",
    "개인": "dm",
    "디엠": "dm",
}
MODE_KEYS = {"on": "progress.mode_on", "off": "progress.mode_off", "dm": "progress.mode_dm"}


def tracks_progress(session: Session, group: Group) -> bool:
    """The group uses progress (a competition is set, or someone logged): only then do the
    reminder and the digest speak."""
    if session.get(Competition, group.id) is not None:
        return True
    return (
        session.scalar(select(ProgressEntry.id).where(ProgressEntry.group_id == group.id).limit(1))
        is not None
    )


def set_reminder(session: Session, group: Group, actor: Actor, mode: str) -> Reply:
    member = require_member(session, group, actor)
    value = REMINDER_MODES.get(str(mode).strip().lower())
    if value is None:
        raise InvalidInput("error.progress_bad_mode", value=freetext.echo(mode))
    member.progress_reminder = value
    session.flush()
    return Reply.private("progress.reminder_set", mode=Text(MODE_KEYS[value]))


def reminder_targets(
    session: Session, group: Group, day: date
) -> tuple[list[Member], list[Member]]:
    """Active members, not away on ``day``, with no entry that day: (named in the channel,
    reminded privately). Members who switched the reminder off are neither."""
    members = active_members(session, group)
    away = AwayBook(session, members, day)
    logged = set(
        session.scalars(
            select(ProgressEntry.member_id).where(
                ProgressEntry.group_id == group.id, ProgressEntry.local_date == day
            )
        )
    )
    missing = [m for m in members if m.id not in logged and not away.is_away(m.id, day)]
    public = [m for m in missing if m.progress_reminder == "on"]
    private = [m for m in missing if m.progress_reminder == "dm"]
    return public, private


def digest(session: Session, group: Group, today: date) -> Reply | None:
    """The review-time summary of the previous study day (and the days off since): who
    logged what, who did not, new best scores, days left to the deadline."""
    if not tracks_progress(session, group):
        return None
    calendar = StudyCalendar(session, group)
    day = calendar.previous_study_day(today)
    if day is None or day < local_today(group, group.created_at):
        return None  # no study day since the group began
    end = today - timedelta(days=1)
    entries = load_entries(session, group, start=day, end=end)
    names = member_names(session, group)
    tasks = competition.task_infos(session, group)
    if end == day:
        reply = Reply.public("progress.digest", day=day, count=len(entries))
    else:
        reply = Reply.public("progress.digest_span", start=day, end=end, count=len(entries))
    for entry in entries[:MAX_LIST_LINES]:
        reply.lines.append(entry_line(entry, names.get(entry.member_id, "?")))
    if len(entries) > MAX_LIST_LINES:
        reply.lines.append(Text("progress.more", {"count": len(entries) - MAX_LIST_LINES}))
    if not entries:
        reply.lines.append(Text("progress.digest_no_entries"))
    members = [m for m in active_members(session, group) if local_today(group, m.joined_at) <= day]
    away = AwayBook(session, members, day)
    logged = {e.member_id for e in entries if e.local_date == day}
    missing = [
        names.get(m.id, "?") for m in members if m.id not in logged and not away.is_away(m.id, day)
    ]
    if missing:
        reply.lines.append(Text("progress.digest_missing", {"day": day, "names": missing}))
    elif members:
        reply.lines.append(Text("progress.digest_all_logged", {"day": day}))
    earlier = best_by_task(load_entries(session, group, end=day - timedelta(days=1)), tasks)
    for key, entry in sorted(best_by_task(entries, tasks).items()):
        old = earlier.get(key)
        higher = direction(entry.task, entry.metric, tasks)
        if old is None or better(score_of(entry), score_of(old), higher):
            reply.lines.append(
                Text(
                    "progress.digest_best",
                    {
                        "task": entry.task,
                        "metric": entry.metric,
                        "score": format_score(score_of(entry)),
                        "name": names.get(entry.member_id, "?"),
                    },
                )
            )
    left = competition.days_left(session, group, today)
    if left is not None:
        deadline, days = left
        if days > 0:
            reply.lines.append(Text("progress.digest_days_left", {"days": days, "day": deadline}))
        elif days == 0:
            reply.lines.append(Text("progress.digest_deadline_today", {"day": deadline}))
    return reply
