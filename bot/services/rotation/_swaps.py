"""Swapping turns: a member asks another to exchange their next turns (or an admin forces
it); the swap pins both days, and everything before the later one, as projected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.replies import Action, Mention, Reply, Visibility
from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Actor
from bot.services.duty_runs import was_announced
from bot.services.permissions import active_member, is_admin, require_member
from bot.services.roster import mention
from bot.services.rotation._rule import Turn, project
from db.models import Group, Member, ModAssignment, SwapRequest

SWAP_WINDOW_DAYS = 60


def _first_turn(turns: list[Turn], member_id: int) -> date | None:
    for turn in turns:
        if turn.member is not None and turn.member.id == member_id:
            return turn.day
    return None


def _swap_start(session: Session, group: Group, now: datetime) -> date:
    """Swaps never touch a day whose review post already went out."""
    today = local_today(group, now)
    return today + timedelta(days=1) if was_announced(session, group, today) else today


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
        else active_member(session, group, member_user_id)
    )
    second = active_member(session, group, other_user_id)
    if first is None or second is None:
        raise NotFound("error.member_missing")
    if first.id == second.id:
        raise InvalidInput("error.swap_self")
    start = _swap_start(session, group, now)
    turns = project(session, group, start, SWAP_WINDOW_DAYS)
    first_day = _first_turn(turns, first.id)
    second_day = _first_turn(turns, second.id)
    if first_day is None or second_day is None:
        raise Conflict("error.swap_no_turn", days=SWAP_WINDOW_DAYS)
    if not force:
        _refuse_repeat(session, group, first, first_day, second, second_day)
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


def _refuse_repeat(
    session: Session,
    group: Group,
    first: Member,
    first_day: date,
    second: Member,
    second_day: date,
) -> None:
    """The same exchange already waits for an answer: asking again is refused, naming the
    open request (or, when the other member asked for it, how to accept theirs)."""
    rows = session.scalars(
        select(SwapRequest).where(
            SwapRequest.group_id == group.id,
            SwapRequest.status == "pending",
            SwapRequest.first_member_id.in_((first.id, second.id)),
            SwapRequest.second_member_id.in_((first.id, second.id)),
        )
    )
    wanted = {(first.id, first_day), (second.id, second_day)}
    for row in rows:
        if {(row.first_member_id, row.first_day), (row.second_member_id, row.second_day)} != wanted:
            continue
        asked_by = session.get(Member, row.first_member_id)
        assert asked_by is not None
        if row.first_member_id == first.id:
            raise Conflict(
                "input.swap_duplicate",
                id=row.id,
                a=mention(session, first),
                a_day=first_day,
                b=mention(session, second),
                b_day=second_day,
            )
        raise Conflict("input.swap_reverse_pending", id=row.id, name=mention(session, asked_by))


def _apply_swap(session: Session, group: Group, request: SwapRequest, now: datetime) -> bool:
    """Fix the projection up to the later day, then exchange the two days.

    False (and nothing written) when the schedule no longer matches the request."""
    start = _swap_start(session, group, now)
    last_day = max(request.first_day, request.second_day)
    calendar = StudyCalendar(session, group)
    count = len([d for d in calendar.study_days(start, SWAP_WINDOW_DAYS) if d <= last_day])
    turns = project(session, group, start, count)
    plan = {turn.day: turn.member.id for turn in turns if turn.member is not None}
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
