"""The daily moderator rotation.

Rule: on each study day the moderator is, among active members not away that day, the
one who moderated least recently (never = first), ties broken by the stable join order.
So between two turns of the same member, everyone eligible at the second turn has had one.

Rows in ``mod_assignments`` for today or earlier are history; rows for later days are
pins (made by swaps) that the projection keeps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.replies import Action, Mention, Reply, Text, Visibility
from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Actor
from bot.services.members import active_members, mention
from bot.services.permissions import active_member, is_admin, require_admin, require_member
from db.models import Away, DutyRun, Group, Member, ModAssignment, SwapRequest

SWAP_WINDOW_DAYS = 60
MAX_SCHEDULE_DAYS = 30
REVIEW_DUTY = "review_post"


@dataclass(frozen=True)
class Slot:
    day: date
    member: Member | None
    pinned: bool


class AwayBook:
    def __init__(self, session: Session, members: list[Member], start: date) -> None:
        self._periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
        if not members:
            return
        rows = session.execute(
            select(Away.member_id, Away.start, Away.end).where(
                Away.member_id.in_([m.id for m in members]),
                Away.cancelled_at.is_(None),
                Away.end >= start,
            )
        )
        for member_id, begin, end in rows:
            self._periods[member_id].append((begin, end))

    def is_away(self, member_id: int, day: date) -> bool:
        return any(begin <= day <= end for begin, end in self._periods.get(member_id, ()))


def _last_served(session: Session, group: Group, before: date) -> dict[int, date]:
    """Each member's latest turn before ``before``. A turn fixed in advance (by a swap) on
    a day that is no longer a study day (declared off since) and was never announced did
    not happen, so it does not count."""
    calendar = StudyCalendar(session, group)
    announced = set(
        session.scalars(
            select(DutyRun.local_date).where(
                DutyRun.group_id == group.id,
                DutyRun.duty == REVIEW_DUTY,
                DutyRun.local_date < before,
            )
        )
    )
    rows = session.execute(
        select(ModAssignment.member_id, ModAssignment.day).where(
            ModAssignment.group_id == group.id, ModAssignment.day < before
        )
    )
    last: dict[int, date] = {}
    for member_id, day in rows:
        if day not in announced and not calendar.is_study_day(day):
            continue
        if day > last.get(member_id, date.min):
            last[member_id] = day
    return last


def _pins(session: Session, group: Group, start: date) -> dict[date, int]:
    rows = session.execute(
        select(ModAssignment.day, ModAssignment.member_id).where(
            ModAssignment.group_id == group.id, ModAssignment.day >= start
        )
    )
    return {day: member_id for day, member_id in rows}


def pick(
    members: list[Member],
    day: date,
    last_served: dict[int, date],
    away: AwayBook,
    exclude: set[int] = frozenset(),  # type: ignore[assignment]
) -> Member | None:
    """The least-recently-served eligible member (stable order breaks ties)."""
    eligible = [m for m in members if m.id not in exclude and not away.is_away(m.id, day)]
    if not eligible:
        return None
    return min(eligible, key=lambda m: (last_served.get(m.id, date.min), m.position, m.id))


def project(session: Session, group: Group, start: date, count: int) -> list[Slot]:
    """The moderators of the first ``count`` study days from ``start`` (inclusive)."""
    calendar = StudyCalendar(session, group)
    days = calendar.study_days(start, count)
    members = active_members(session, group)
    by_id = {m.id: m for m in members}
    away = AwayBook(session, members, start)
    last = _last_served(session, group, start)
    pins = _pins(session, group, start)
    slots: list[Slot] = []
    for day in days:
        if day in pins:
            member = by_id.get(pins[day]) or session.get(Member, pins[day])
            slots.append(Slot(day, member, True))
        else:
            member = pick(members, day, last, away)
            slots.append(Slot(day, member, False))
        if member is not None:
            last[member.id] = day
    return slots


def moderator_for(session: Session, group: Group, day: date, now: datetime) -> Member | None:
    """Fix (materialise) and return the moderator of a study day; None when nobody can
    (or the day is not a study day, even if a turn had been fixed before it was made one)."""
    if not StudyCalendar(session, group).is_study_day(day):
        return None
    existing = session.scalar(
        select(ModAssignment).where(ModAssignment.group_id == group.id, ModAssignment.day == day)
    )
    if existing is not None:
        return session.get(Member, existing.member_id)
    slots = project(session, group, day, 1)
    if not slots or slots[0].member is None:
        return None
    member = slots[0].member
    try:
        with session.begin_nested():
            session.add(
                ModAssignment(
                    group_id=group.id,
                    day=day,
                    member_id=member.id,
                    source="rotation",
                    created_at=now,
                )
            )
    except IntegrityError:  # another process fixed it first: use theirs
        row = session.scalar(
            select(ModAssignment).where(
                ModAssignment.group_id == group.id, ModAssignment.day == day
            )
        )
        assert row is not None
        return session.get(Member, row.member_id)
    return member


def is_moderator_today(session: Session, group: Group, actor: Actor, now: datetime) -> bool:
    member = moderator_for(session, group, local_today(group, now), now)
    return member is not None and member.active and member.user_id == actor.user_id


# --- commands ------------------------------------------------------------------------


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
    moderator_for(session, group, today, now)  # today's turn is fixed once asked about
    slots = project(session, group, today, count)
    reply = Reply.private("mod.schedule", count=len(slots))
    for slot in slots:
        if slot.member is None:
            reply.lines.append(Text("mod.schedule_line_nobody", {"day": slot.day}))
        else:
            key = (
                "mod.schedule_line_pinned"
                if slot.pinned and slot.day > today
                else "mod.schedule_line"
            )
            reply.lines.append(Text(key, {"day": slot.day, "name": mention(session, slot.member)}))
    if not slots:
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
    last = _last_served(session, group, today)
    replacement = pick(members, today, last, AwayBook(session, members, today), {current.id})
    if replacement is None:
        raise Conflict("error.nobody_to_skip_to")
    row = session.scalar(
        select(ModAssignment).where(ModAssignment.group_id == group.id, ModAssignment.day == today)
    )
    assert row is not None
    row.member_id = replacement.id
    row.source = "skip"
    session.flush()
    return Reply.public(
        "mod.skipped", old=mention(session, current), new=mention(session, replacement)
    )


def _first_turn(slots: list[Slot], member_id: int) -> date | None:
    for slot in slots:
        if slot.member is not None and slot.member.id == member_id:
            return slot.day
    return None


def _swap_start(session: Session, group: Group, now: datetime) -> date:
    """Swaps never touch a day whose review post already went out."""
    today = local_today(group, now)
    announced = session.scalar(
        select(DutyRun.id).where(
            DutyRun.group_id == group.id, DutyRun.duty == REVIEW_DUTY, DutyRun.local_date == today
        )
    )
    return today if announced is None else date.fromordinal(today.toordinal() + 1)


def request_swap(
    session: Session,
    group: Group,
    actor: Actor,
    other_user_id: int,
    now: datetime,
    member_user_id: int | None = None,
    force: bool = False,
) -> Reply:
    admin = is_admin(session, group, actor)
    if (force or member_user_id not in (None, actor.user_id)) and not admin:
        raise PermissionDenied("error.admin_only")
    first = (
        require_member(session, group, actor)
        if member_user_id in (None, actor.user_id)
        else active_member(session, group, member_user_id)  # type: ignore[arg-type]
    )
    second = active_member(session, group, other_user_id)
    if first is None or second is None:
        raise NotFound("error.member_missing")
    if first.id == second.id:
        raise InvalidInput("error.swap_self")
    start = _swap_start(session, group, now)
    slots = project(session, group, start, SWAP_WINDOW_DAYS)
    first_day = _first_turn(slots, first.id)
    second_day = _first_turn(slots, second.id)
    if first_day is None or second_day is None:
        raise Conflict("error.swap_no_turn", days=SWAP_WINDOW_DAYS)
    request = SwapRequest(
        group_id=group.id,
        requester_id=require_member(session, group, actor).id if not admin else first.id,
        first_member_id=first.id,
        second_member_id=second.id,
        first_day=first_day,
        second_day=second_day,
        status="pending",
        created_at=now,
    )
    session.add(request)
    session.flush()
    if force:
        if not _apply_swap(session, group, request, now):
            raise Conflict("error.swap_stale")
        request.status = "forced"
        request.resolved_at = now
        return Reply.public(
            "mod.swap_forced",
            a=mention(session, first),
            a_day=first_day,
            b=mention(session, second),
            b_day=second_day,
        )
    return Reply(
        key="mod.swap_requested",
        params={
            "a": mention(session, first),
            "a_day": first_day,
            "b": mention(session, second),
            "b_day": second_day,
            "id": request.id,
        },
        visibility=Visibility.PUBLIC,
        actions=[
            Action("swap_accept", request.id, "mod.button_accept", f"/mod accept id:{request.id}"),
            Action(
                "swap_decline", request.id, "mod.button_decline", f"/mod decline id:{request.id}"
            ),
        ],
    )


def _apply_swap(session: Session, group: Group, request: SwapRequest, now: datetime) -> bool:
    """Fix the projection up to the later day, then exchange the two days.

    False (and nothing written) when the schedule no longer matches the request."""
    start = _swap_start(session, group, now)
    last_day = max(request.first_day, request.second_day)
    calendar = StudyCalendar(session, group)
    count = len([d for d in calendar.study_days(start, SWAP_WINDOW_DAYS) if d <= last_day])
    slots = project(session, group, start, count)
    plan = {slot.day: slot.member.id for slot in slots if slot.member is not None}
    if (
        plan.get(request.first_day) != request.first_member_id
        or plan.get(request.second_day) != request.second_member_id
    ):
        return False
    plan[request.first_day] = request.second_member_id
    plan[request.second_day] = request.first_member_id
    existing = {
        row.day: row
        for row in session.scalars(
            select(ModAssignment).where(
                ModAssignment.group_id == group.id,
                ModAssignment.day >= start,
                ModAssignment.day <= last_day,
            )
        )
    }
    for day, member_id in plan.items():
        source = "swap" if day in (request.first_day, request.second_day) else "rotation"
        row = existing.get(day)
        if row is None:
            session.add(
                ModAssignment(
                    group_id=group.id,
                    day=day,
                    member_id=member_id,
                    source=source,
                    created_at=now,
                )
            )
        elif row.member_id != member_id:
            row.member_id = member_id
            row.source = source
    session.flush()
    return True


def _pending_request(session: Session, group: Group, request_id: int) -> SwapRequest:
    request = session.get(SwapRequest, request_id)
    if request is None or request.group_id != group.id:
        raise NotFound("error.swap_missing", id=request_id)
    if request.status != "pending":
        raise Conflict("error.swap_closed", id=request_id)
    return request


@dataclass(frozen=True)
class PendingSwap:
    id: int
    first: Mention
    first_day: date
    second: Mention
    second_day: date


def pending_swaps(session: Session, group: Group, limit: int = 25) -> list[PendingSwap]:
    """The group's open swap requests, newest first (for pickers such as autocomplete)."""
    rows = session.scalars(
        select(SwapRequest)
        .where(SwapRequest.group_id == group.id, SwapRequest.status == "pending")
        .order_by(SwapRequest.id.desc())
        .limit(limit)
    ).all()
    found = []
    for row in rows:
        first = session.get(Member, row.first_member_id)
        second = session.get(Member, row.second_member_id)
        assert first is not None and second is not None
        found.append(
            PendingSwap(
                row.id,
                mention(session, first),
                row.first_day,
                mention(session, second),
                row.second_day,
            )
        )
    return found


def _close_stale(request: SwapRequest, now: datetime) -> Reply:
    """Close a request the schedule has moved past. A reply, not an error, so the
    closing is committed (an error would roll it back and leave the request pending)."""
    request.status = "stale"
    request.resolved_at = now
    return Reply.private("error.swap_stale")


def answer_swap(
    session: Session, group: Group, actor: Actor, request_id: int, accept: bool, now: datetime
) -> Reply:
    request = _pending_request(session, group, request_id)
    second = session.get(Member, request.second_member_id)
    first = session.get(Member, request.first_member_id)
    assert first is not None and second is not None
    requester = session.get(Member, request.requester_id)
    deciders = {second.user_id}
    if not accept and requester is not None:
        deciders.add(requester.user_id)  # the requester may withdraw
    if actor.user_id not in deciders and not is_admin(session, group, actor):
        raise PermissionDenied("error.swap_not_yours")
    if min(request.first_day, request.second_day) < local_today(group, now):
        return _close_stale(request, now)
    if not accept:
        request.status = "declined"
        request.resolved_at = now
        return Reply.public(
            "mod.swap_declined", a=mention(session, first), b=mention(session, second)
        )
    if not _apply_swap(session, group, request, now):
        return _close_stale(request, now)
    request.status = "accepted"
    request.resolved_at = now
    return Reply.public(
        "mod.swap_done",
        a=mention(session, first),
        a_day=request.second_day,
        b=mention(session, second),
        b_day=request.first_day,
    )


# --- away ----------------------------------------------------------------------------

MAX_AWAY_DAYS = 366


def set_away(
    session: Session, group: Group, actor: Actor, start: date, end: date, now: datetime
) -> Reply:
    member = require_member(session, group, actor)
    today = local_today(group, now)
    if end < start:
        raise InvalidInput("error.away_order")
    if end < today:
        raise InvalidInput("error.date_in_past", day=end)
    if (end - start).days >= MAX_AWAY_DAYS:
        raise InvalidInput("error.away_too_long", max=MAX_AWAY_DAYS)
    session.add(Away(member_id=member.id, start=start, end=end, created_at=now))
    released = _release_turns(session, group, member, max(start, today), end)
    reply = Reply.private("away.added", start=start, end=end)
    if released:
        reply.lines.append(Text("away.released", {"days": released}))
    return reply


def _release_turns(
    session: Session, group: Group, member: Member, start: date, end: date
) -> list[date]:
    """Drop the member's fixed turns in the range, except days already announced."""
    announced = set(
        session.scalars(
            select(DutyRun.local_date).where(
                DutyRun.group_id == group.id,
                DutyRun.duty == REVIEW_DUTY,
                DutyRun.local_date >= start,
                DutyRun.local_date <= end,
            )
        )
    )
    rows = session.scalars(
        select(ModAssignment).where(
            ModAssignment.group_id == group.id,
            ModAssignment.member_id == member.id,
            ModAssignment.day >= start,
            ModAssignment.day <= end,
        )
    ).all()
    released = []
    for row in rows:
        if row.day not in announced:
            released.append(row.day)
            session.delete(row)
    session.flush()
    return sorted(released)


def list_away(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    member = require_member(session, group, actor)
    rows = _upcoming_away(session, member, local_today(group, now))
    if not rows:
        return Reply.private("away.none")
    reply = Reply.private("away.list", count=len(rows))
    reply.lines = [Text("away.line", {"start": r.start, "end": r.end}) for r in rows]
    return reply


def _upcoming_away(session: Session, member: Member, today: date) -> list[Away]:
    return list(
        session.scalars(
            select(Away)
            .where(Away.member_id == member.id, Away.cancelled_at.is_(None), Away.end >= today)
            .order_by(Away.start)
        )
    )


def cancel_away(
    session: Session, group: Group, actor: Actor, now: datetime, on: date | None = None
) -> Reply:
    """Cancel the upcoming away periods (only the one covering ``on`` when given)."""
    member = require_member(session, group, actor)
    rows = _upcoming_away(session, member, local_today(group, now))
    if on is not None:
        rows = [r for r in rows if r.start <= on <= r.end]
    if not rows:
        raise NotFound("error.away_missing")
    for row in rows:
        row.cancelled_at = now
    return Reply.private("away.cancelled", count=len(rows))
