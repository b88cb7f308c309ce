"""The optional daily nudge (a private message at the member's chosen local time when
cards wait), and the digest's count of cards learned the day before.

``sweep`` runs every minute. For each member whose nudge time has come today (within
``GRACE``, so a minute missed by a busy scheduler is not lost) on one of their study days,
it claims the day with one conditional UPDATE of ``nudged_on`` and queues the message in the
same transaction: a second sweep, late or from another process, finds the claim and sends
nothing. Members with nothing waiting are not nudged (and not claimed: cards may come due
later that day only through a miss, which is not worth a second look). A simulated clock
(the console) stops at each of ``moments_between`` and sweeps there instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.replies import Reply, Text
from bot.services import freetext
from bot.services.calendar import StudyCalendar, local_now, local_today, zone
from bot.services.context import Actor
from bot.services.groups import parse_time
from bot.services.outbox import enqueue
from bot.services.permissions import require_member
from bot.services.quiz._deck import member_days, quiz_member, rows_of, waiting
from db.models import Group, Member, QuizCard, QuizMember

Columns = TypeVarTuple("Columns")
GRACE = timedelta(minutes=30)
OFF_WORDS = frozenset({"off", "none", "끔", "끄기", "없음"})


def set_nudge(
    session: Session, group: Group, actor: Actor, now: datetime, when: str | None
) -> Reply:
    """``time:HH:MM`` sets the nudge, ``time:off`` clears it, nothing shows it."""
    member = require_member(session, group, actor)
    table = quiz_member(session, member, now)
    if when is None or not when.strip():
        if table.nudge_time is None:
            return Reply.private("quiz.nudge_off")
        return Reply.private("quiz.nudge_at", time=table.nudge_time)
    if when.strip().lower() in OFF_WORDS:
        table.nudge_time = None
        table.updated_at = now
        return Reply.private("quiz.nudge_cleared")
    try:
        chosen = parse_time(when)
    except InvalidInput:
        raise InvalidInput("quiz.bad_nudge_time", value=freetext.echo(when)) from None
    table.nudge_time = chosen
    table.updated_at = now
    return Reply.private("quiz.nudge_set", time=chosen)


def _due_now(group: Group, nudge: time, now: datetime) -> bool:
    local = local_now(group, now)
    moment = datetime.combine(local.date(), nudge, tzinfo=zone(group))
    return moment <= local < moment + GRACE


def _nudging(query: Select[*Columns]) -> Select[*Columns]:
    """``query`` (over ``QuizMember``) narrowed to the active members who set a nudge, in
    groups that are not paused."""
    return (
        query.join(Member, Member.id == QuizMember.member_id)
        .join(Group, Group.id == Member.group_id)
        .where(
            QuizMember.nudge_time.is_not(None),
            Member.active.is_(True),
            Group.paused_at.is_(None),
        )
    )


def moments_between(session: Session, after: datetime, until: datetime) -> list[datetime]:
    """The instants in ``(after, until]`` at which some member's nudge time comes (in their
    group's zone), in order: where a simulated clock must stop and ``sweep``, as the
    minute job of a bot running all along would have. Whether anyone is nudged there is
    ``sweep``'s to decide."""
    times = session.execute(_nudging(select(QuizMember.nudge_time, Group.timezone)).distinct())
    found: set[datetime] = set()
    for nudge, timezone in times:
        assert nudge is not None  # selected so
        tz = ZoneInfo(timezone)
        day = after.astimezone(tz).date()
        while day <= until.astimezone(tz).date():
            moment = datetime.combine(day, nudge, tzinfo=tz)
            if after < moment <= until:
                found.add(moment.astimezone(UTC))
            day += timedelta(days=1)
    return sorted(found)


def sweep(session: Session, now: datetime) -> int:
    """Queue today's nudges that are due; returns how many were queued."""
    rows = session.execute(_nudging(select(QuizMember, Member, Group))).all()
    queued = 0
    for table, member, group in rows:
        assert table.nudge_time is not None
        today = local_today(group, now)
        if table.nudged_on == today or not _due_now(group, table.nudge_time, now):
            continue
        if not member_days(session, group, member)(today):
            continue
        count = waiting(group, rows_of(session, member), today)
        if count == 0:
            continue
        claimed = session.execute(
            update(QuizMember)
            .where(
                QuizMember.member_id == member.id,
                or_(QuizMember.nudged_on.is_(None), QuizMember.nudged_on != today),
            )
            .values(nudged_on=today)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue  # another sweep claimed it
        session.refresh(table)
        expires = datetime.combine(today + timedelta(days=1), time(0, 0), tzinfo=zone(group))
        enqueue(
            session, group, Reply.private("quiz.nudge", count=count), now,
            user_id=member.user_id, expires_at=expires,
        )  # fmt: skip
        queued += 1
    return queued


def learned_between(session: Session, group: Group, start: date, end: date) -> int:
    """Cards the group's members learned (their fifth recall) from ``start`` to ``end``."""
    count = session.scalar(
        select(func.count())
        .select_from(QuizCard)
        .join(Member, Member.id == QuizCard.member_id)
        .where(
            Member.group_id == group.id,
            QuizCard.learned_on >= start,
            QuizCard.learned_on <= end,
        )
    )
    return int(count or 0)


def digest_line(session: Session, group: Group, today: date) -> Text | None:
    """For the morning digest: cards learned yesterday (since the last study day, when
    days without study came between); None when there were none."""
    yesterday = today - timedelta(days=1)
    start = StudyCalendar(session, group).previous_study_day(today) or yesterday
    count = learned_between(session, group, start, yesterday)
    if count == 0:
        return None
    if start >= yesterday:
        return Text("quiz.digest_learned", {"count": count})
    return Text("quiz.digest_learned_span", {"count": count, "start": start, "end": yesterday})
