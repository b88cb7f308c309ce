"""The daily Programmers problem: the moderator's pick, auto-pick, solves and history.

The moderator of a study day picks the problem for the *next* study day before the
group's deadline (19:00); the review on that next day (09:30) discusses it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Set as AbstractSet
from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.replies import Reply, Text
from bot.services import catalogue, freetext
from bot.services.calendar import StudyCalendar, local_today, zone
from bot.services.context import Actor
from bot.services.permissions import is_admin, require_member
from bot.services.roster import mention
from bot.services.rotation import is_moderator_today
from db.models import Group, Member, Problem, ProblemPick, ProblemPickEvent, ProblemSolve

LANGUAGES = ("python", "java", "cpp", "c", "javascript", "kotlin", "swift", "go", "rust", "sql")
MAX_HISTORY = 50
MAX_LINK = 300  # ProblemSolve.link
_LINK = re.compile(rf"https://[^\s<>]{{1,{MAX_LINK - len('https://')}}}")


# --- lookups -------------------------------------------------------------------------


_PICK_FOR = select(ProblemPick).where(  # built once: building costs more than running
    ProblemPick.group_id == bindparam("group_id"), ProblemPick.for_date == bindparam("day")
)


_PICKED_ON = (  # (day, problem) of the group's picks on some days
    select(ProblemPick.for_date, Problem)
    .join(Problem, Problem.id == ProblemPick.problem_id)
    .where(
        ProblemPick.group_id == bindparam("group_id"),
        ProblemPick.for_date.in_(bindparam("days", expanding=True)),
    )
)


def pick_for(session: Session, group: Group, day: date) -> ProblemPick | None:
    return session.scalar(_PICK_FOR, {"group_id": group.id, "day": day})


def used_problem_ids(session: Session, group: Group, except_day: date | None = None) -> set[int]:
    query = select(ProblemPick.problem_id).where(ProblemPick.group_id == group.id)
    if except_day is not None:
        query = query.where(ProblemPick.for_date != except_day)
    return set(session.scalars(query))


def deadline_for(session: Session, group: Group, target: date) -> datetime | None:
    """When the pick for ``target`` is due: the deadline time on the study day before it."""
    pick_day = StudyCalendar(session, group).previous_study_day(target)
    if pick_day is None:
        return None
    return datetime.combine(pick_day, group.problem_deadline, tzinfo=zone(group))


def next_target(session: Session, group: Group, now: datetime) -> date:
    target = StudyCalendar(session, group).next_study_day(local_today(group, now))
    if target is None:
        raise Conflict("error.no_next_study_day")
    return target


def auto_candidate(
    session: Session,
    group: Group,
    day: date,
    exclude: AbstractSet[int] = frozenset(),
) -> Problem | None:
    """An unused algorithm problem chosen by a hash of (group, day): the same in every process."""
    used = used_problem_ids(session, group) | set(exclude)
    candidates = [
        p
        for p in session.scalars(
            select(Problem).where(Problem.kind == "algorithm").order_by(Problem.id)
        )
        if p.id not in used
    ]
    if not candidates:
        return None
    digest = hashlib.sha256(f"studybot:{group.id}:{day.isoformat()}".encode()).digest()
    return candidates[int.from_bytes(digest[:8], "big") % len(candidates)]


def problem_params(problem: Problem) -> dict[str, object]:
    return {
        "id": problem.id,
        "title": problem.title,
        "level": problem.level,
        "url": catalogue.problem_url(problem.id),
    }


def _record(
    session: Session,
    group: Group,
    day: date,
    problem: Problem,
    now: datetime,
    kind: str,
    user_id: int | None,
) -> tuple[ProblemPick, int | None]:
    """Create or replace the pick for ``day``; returns it and the replaced problem id."""
    existing = pick_for(session, group, day)
    old_id = existing.problem_id if existing else None
    if existing is None:
        existing = ProblemPick(
            group_id=group.id,
            for_date=day,
            problem_id=problem.id,
            picked_by_user_id=user_id,
            auto=kind == "auto",
            created_at=now,
            updated_at=now,
        )
        session.add(existing)
    else:
        existing.problem_id = problem.id
        existing.picked_by_user_id = user_id
        existing.auto = kind in ("auto", "reroll")
        existing.updated_at = now
    session.add(
        ProblemPickEvent(
            group_id=group.id,
            for_date=day,
            kind=kind,
            old_problem_id=old_id,
            new_problem_id=problem.id,
            user_id=user_id,
            created_at=now,
        )
    )
    session.flush()
    return existing, old_id


# --- commands ------------------------------------------------------------------------


def pick(
    session: Session, group: Group, actor: Actor, query: str, now: datetime, force: bool = False
) -> Reply:
    """Today's moderator (or an admin) sets the problem for the next study day."""
    admin = is_admin(session, group, actor)
    if not admin and not is_moderator_today(session, group, actor, now):
        raise PermissionDenied("error.pick_not_moderator")
    if force and not admin:
        raise PermissionDenied("error.admin_only")
    target = next_target(session, group, now)
    problem = catalogue.resolve(session, query)
    existing = pick_for(session, group, target)
    deadline = deadline_for(session, group, target)
    if existing is not None and deadline is not None and now >= deadline and not admin:
        raise Conflict("error.pick_after_deadline", day=target)
    if existing is not None and existing.problem_id == problem.id:
        raise Conflict("error.pick_same", day=target, title=problem.title)
    earlier = session.scalar(
        select(ProblemPick.for_date).where(
            ProblemPick.group_id == group.id,
            ProblemPick.problem_id == problem.id,
            ProblemPick.for_date != target,
        )
    )
    if earlier is not None and not force:
        key = "error.problem_repeat_admin" if admin else "error.problem_repeat"
        raise Conflict(key, title=problem.title, day=earlier)
    kind = "repick" if existing is not None else "pick"
    _record(session, group, target, problem, now, kind, actor.user_id)
    reply = Reply.public(
        "problem.repicked" if kind == "repick" else "problem.picked",
        name=actor.name,
        day=target,
        **problem_params(problem),
    )
    if problem.kind == "sql":
        reply.lines.append(Text("problem.sql_warning"))
    return reply


def reroll(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    """Admin: replace the bot's auto-pick for the next study day with another one."""
    if not is_admin(session, group, actor):
        raise PermissionDenied("error.admin_only")
    target = next_target(session, group, now)
    existing = pick_for(session, group, target)
    if existing is None or not existing.auto:
        raise Conflict("error.reroll_not_auto", day=target)
    rejected = session.scalars(  # never back to one an earlier reroll replaced
        select(ProblemPickEvent.old_problem_id).where(
            ProblemPickEvent.group_id == group.id,
            ProblemPickEvent.for_date == target,
            ProblemPickEvent.kind == "reroll",
        )
    )
    exclude = {existing.problem_id} | {p for p in rejected if p is not None}
    problem = auto_candidate(session, group, target, exclude=exclude)
    if problem is None:
        raise Conflict("error.no_unused_problem")
    old = session.get(Problem, existing.problem_id)
    _record(session, group, target, problem, now, "reroll", actor.user_id)
    return Reply.public(
        "problem.rerolled",
        day=target,
        old=old.title if old else existing.problem_id,
        name=actor.name,
        **problem_params(problem),
    )


def current_pick(session: Session, group: Group, now: datetime) -> ProblemPick | None:
    """The problem members are working on: today's before its review, else the next one."""
    today = local_today(group, now)
    calendar = StudyCalendar(session, group)
    nxt = calendar.next_study_day(today)
    todays = pick_for(session, group, today) if calendar.is_study_day(today) else None
    upcoming = pick_for(session, group, nxt) if nxt else None
    review_at = datetime.combine(today, group.review_time, tzinfo=zone(group))
    if todays is not None and now < review_at:
        return todays
    return upcoming or todays


def mark_solved(
    session: Session,
    group: Group,
    actor: Actor,
    now: datetime,
    link: str | None = None,
    language: str | None = None,
    query: str | None = None,
) -> Reply:
    member = require_member(session, group, actor)
    if query:
        problem = catalogue.resolve(session, query)
    else:
        current = current_pick(session, group, now)
        if current is None:
            raise NotFound("error.no_current_problem")
        problem = catalogue.get(session, current.problem_id)
    link = _clean_link(link)
    language = _clean_language(language)
    solve = session.scalar(
        select(ProblemSolve).where(
            ProblemSolve.group_id == group.id,
            ProblemSolve.problem_id == problem.id,
            ProblemSolve.member_id == member.id,
        )
    )
    again = solve is not None
    if solve is None:
        solve = ProblemSolve(
            group_id=group.id, problem_id=problem.id, member_id=member.id, created_at=now
        )
        session.add(solve)
    if link is not None:
        solve.link = link
    if language is not None:
        solve.language = language
    try:
        session.flush()
    except IntegrityError:  # the same report arrived twice at once
        raise Conflict("error.conflict") from None
    reply = Reply.public(
        "problem.solved_again" if again else "problem.solved",
        name=mention(session, member),
        title=problem.title,
        language=solve.language or "-",
    )
    if solve.link:
        reply.lines.append(Text("problem.solution_link", {"link": solve.link}))
    return reply


def _clean_link(link: str | None) -> str | None:
    """A solution link as the channel will show it; refused with the real reason: a
    mention in it, over ``MAX_LINK`` characters, or not an https address."""
    if link is None or not link.strip():
        return None
    value = link.strip()
    if freetext.has_mention(value):
        raise InvalidInput("input.link_mention", value=freetext.echo(value))
    if len(value) > MAX_LINK:
        raise InvalidInput(
            "error.progress_text_too_long",
            field=Text(freetext.FIELDS["link"]),
            max=MAX_LINK,
            length=len(value),
        )
    if not _LINK.fullmatch(value):
        raise InvalidInput("error.bad_link", value=freetext.echo(value))
    return value


def _clean_language(language: str | None) -> str | None:
    if language is None or not language.strip():
        return None
    value = unicodedata.normalize("NFKC", language).strip().lower()
    aliases = {
        "py": "python",
        "python3": "python",
        "js": "javascript",
        "c++": "cpp",
        "kt": "kotlin",
        # as Koreans write them
        "파이썬": "python",
        "자바": "java",
        "씨쁠쁠": "cpp",
        "씨플플": "cpp",
        "자바스크립트": "javascript",
        "코틀린": "kotlin",
        "스위프트": "swift",
        "고": "go",
        "러스트": "rust",
    }
    value = aliases.get(value, value)
    if value not in LANGUAGES:
        raise InvalidInput(
            "error.bad_language", value=freetext.echo(language), choices=", ".join(LANGUAGES)
        )
    return value


def solvers(session: Session, group: Group, problem_id: int) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(ProblemSolve, ProblemSolve.member_id == Member.id)
            .where(ProblemSolve.group_id == group.id, ProblemSolve.problem_id == problem_id)
            .order_by(ProblemSolve.created_at, ProblemSolve.id)
        )
    )


def today_reply(session: Session, group: Group, now: datetime) -> Reply:
    today = local_today(group, now)
    reply = Reply.private("problem.today_header")
    calendar = StudyCalendar(session, group)
    nxt = calendar.next_study_day(today)
    # both days' picks and their problems in one query
    picked = {
        day: problem
        for day, problem in session.execute(
            _PICKED_ON, {"group_id": group.id, "days": [today] if nxt is None else [today, nxt]}
        )
    }
    if today in picked:
        problem = picked[today]
        reply.lines.append(Text("problem.today_line", {"day": today, **problem_params(problem)}))
    elif calendar.is_study_day(today):
        reply.lines.append(Text("input.problem_today_none", {"day": today}))
    else:
        reply.lines.append(Text("input.problem_today_no_study", {"day": today}))
    if nxt is not None and nxt in picked:
        problem = picked[nxt]
        reply.lines.append(Text("problem.next_line", {"day": nxt, **problem_params(problem)}))
    elif nxt is not None:
        deadline = deadline_for(session, group, nxt)
        at = deadline.time() if deadline else None  # a datetime would render as a date
        reply.lines.append(Text("problem.next_unpicked", {"day": nxt, "deadline": at}))
    if not reply.lines:
        reply.key = "problem.none_yet"
    return reply


def history_reply(session: Session, group: Group, now: datetime, count: int | None) -> Reply:
    n = 10 if count is None else count
    if not 1 <= n <= MAX_HISTORY:
        raise InvalidInput("error.bad_history_count", max=MAX_HISTORY)
    rows = session.execute(
        select(ProblemPick, Problem, func.count(ProblemSolve.id))
        .join(Problem, Problem.id == ProblemPick.problem_id)
        .outerjoin(
            ProblemSolve,
            (ProblemSolve.problem_id == ProblemPick.problem_id)
            & (ProblemSolve.group_id == ProblemPick.group_id),
        )
        .where(ProblemPick.group_id == group.id)
        .group_by(ProblemPick.id, Problem.id)
        .order_by(ProblemPick.for_date.desc())
        .limit(n)
    ).all()
    if not rows:
        return Reply.private("problem.history_empty")
    reply = Reply.private("problem.history", count=len(rows))
    for pick_row, problem, solved in rows:
        key = "problem.history_line_auto" if pick_row.auto else "problem.history_line"
        reply.lines.append(
            Text(key, {"day": pick_row.for_date, "solved": solved, **problem_params(problem)})
        )
    return reply


def show_reply(session: Session, group: Group, query: str) -> Reply:
    problem = catalogue.resolve(session, query)
    days = list(
        session.scalars(
            select(ProblemPick.for_date)
            .where(ProblemPick.group_id == group.id, ProblemPick.problem_id == problem.id)
            .order_by(ProblemPick.for_date)
        )
    )
    reply = Reply.private(
        "problem.show",
        kind=Text("problem.kind_sql" if problem.kind == "sql" else "problem.kind_algorithm"),
        **problem_params(problem),
    )
    if days:
        reply.lines.append(Text("problem.show_used", {"days": days}))
    names = [mention(session, m) for m in solvers(session, group, problem.id)]
    if names:
        reply.lines.append(Text("problem.show_solvers", {"names": names}))
    return reply


def record_auto_pick(
    session: Session, group: Group, day: date, problem: Problem, now: datetime
) -> ProblemPick:
    pick_row, _old = _record(session, group, day, problem, now, "auto", None)
    return pick_row
