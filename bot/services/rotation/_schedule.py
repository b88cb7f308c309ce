"""The rotation's commands about turns: today's moderator, the schedule ahead, and an
admin's skip of today's turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import Conflict, InvalidInput, NotFound
from bot.replies import Reply, Text
from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Actor
from bot.services.permissions import require_admin
from bot.services.roster import active_members, mention
from bot.services.rotation._rule import (
    AwayBook,
    fixed_turn,
    last_served,
    moderator_for,
    pick,
    project,
)
from db.models import Group

MAX_SCHEDULE_DAYS = 30


def today_reply(session: Session, group: Group, now: datetime) -> Reply:
    today = local_today(group, now)
    calendar = StudyCalendar(session, group)
    reason = calendar.why_not(today)
    if reason is None:
        member = moderator_for(session, group, today, now)
        if member is None:
            return Reply.private("mod.today_nobody", day=today)
        return Reply.private("mod.today", day=today, name=mention(session, member))
    nxt = project(session, group, calendar.next_study_day(today) or today, 1)
    reply = Reply.private("mod.today_no_study", day=today, why=Text(reason[0], {"name": reason[1]}))
    if nxt and nxt[0].member is not None:
        reply.lines.append(
            Text("mod.next_line", {"day": nxt[0].day, "name": mention(session, nxt[0].member)})
        )
    return reply


def schedule_reply(session: Session, group: Group, now: datetime, days: int | None) -> Reply:
    count = 7 if days is None else days
    if not 1 <= count <= MAX_SCHEDULE_DAYS:
        raise InvalidInput("error.bad_days_count", max=MAX_SCHEDULE_DAYS)
    today = local_today(group, now)
    turns = project(session, group, today, count)
    if turns and turns[0].day == today and not turns[0].pinned:
        # today's turn is fixed once asked about (the projection read it when it was)
        moderator_for(session, group, today, now)
        turns = project(session, group, today, count)
    reply = Reply.private("mod.schedule", count=len(turns))
    for turn in turns:
        if turn.member is None:
            reply.lines.append(Text("mod.schedule_line_nobody", {"day": turn.day}))
        else:
            # "(swap)" only where a swap exchanged the day, not on the days it fixed as
            # projected on the way (nor on today's turn, fixed once asked about)
            key = (
                "mod.schedule_line_pinned"
                if turn.swapped and turn.day > today
                else "mod.schedule_line"
            )
            reply.lines.append(Text(key, {"day": turn.day, "name": mention(session, turn.member)}))
    if not turns:
        reply.key = "mod.schedule_empty"
    return reply


def skip(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    """Admin: hand today's turn to the next eligible member."""
    require_admin(session, group, actor)
    today = local_today(group, now)
    current = moderator_for(session, group, today, now)
    if current is None:
        raise NotFound("error.no_moderator_today")
    members = active_members(session, group)
    last = last_served(session, group, today)
    replacement = pick(members, today, last, AwayBook(session, members, today), {current.id})
    if replacement is None:
        raise Conflict("error.nobody_to_skip_to")
    row = fixed_turn(session, group, today)
    assert row is not None
    row.member_id = replacement.id
    row.source = "skip"
    session.flush()
    return Reply.public(
        "mod.skipped", old=mention(session, current), new=mention(session, replacement)
    )
