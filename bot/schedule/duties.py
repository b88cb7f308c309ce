"""The daily duties the scheduler runs: what each says, and when it falls due (``DUTIES``).

Each is an idempotent ``ensure`` keyed by (group, duty, local date): it claims its
``duty_runs`` row and writes its posts to the outbox in the caller's transaction, so a
crash before commit leaves nothing and a second run finds the claim.

Each post expires when its moment has passed, so a delivery held up by an outage drops
it instead of posting it late: the problem reminder at the day's problem deadline, the
deadline's announcement at the review time of the day it is for, and the review post,
its thread, the digest and the progress reminders at the end of the local day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot import i18n
from bot.replies import Reply, Text
from bot.services import catalogue, problems, progress, quiz
from bot.services.calendar import StudyCalendar, local_today, zone
from bot.services.duty_runs import (
    DEADLINE_DUTY,
    PROGRESS_REMINDER_DUTY,
    REMINDER_DUTY,
    REVIEW_DUTY,
    claim,
)
from bot.services.outbox import enqueue
from bot.services.roster import mention
from bot.services.rotation import moderator_for
from db.models import DutyRun, Group, Member, OutboxMessage, Problem


@dataclass(frozen=True)
class Duty:
    name: str
    time_of: Callable[[Group], time]  # local time of day it falls due
    run: Callable[[Session, Group, date, datetime], bool]  # True when it posted


def _quiet(run: DutyRun) -> bool:
    """The duty ran and decided to say nothing (the claim stays, so it runs only once)."""
    run.outcome = "skipped"
    return False


def _claim_study_day(
    session: Session, group: Group, duty: str, local_date: date, now: datetime
) -> tuple[StudyCalendar, DutyRun] | None:
    calendar = StudyCalendar(session, group)
    if not calendar.is_study_day(local_date):
        return None
    run = claim(session, group, duty, local_date, now)
    return None if run is None else (calendar, run)


def end_of_day(group: Group, local_date: date) -> datetime:
    """Local midnight after ``local_date``: the day's posts are not delivered later."""
    return datetime.combine(local_date + timedelta(days=1), time(0, 0), tzinfo=zone(group))


@dataclass
class ReviewFacts:
    """What a review post says, read before it is written (one group's, or a batch's)."""

    member: Member | None  # the day's moderator (None: nobody can)
    problem: Problem | None  # the day's problem, if one was picked
    solvers: list[Member] = field(default_factory=list)  # who solved it already
    digest: bool = True  # False when the group surely has no progress digest
    quiz: bool = True  # False when the group's members surely learned no quiz card lately


@dataclass
class Queued:
    """A post to enqueue; ``parent``: the index of the post (earlier in the same list)
    whose thread it goes into."""

    reply: Reply
    expires_at: datetime | None = None
    parent: int | None = None


def review_facts(session: Session, group: Group, local_date: date, now: datetime) -> ReviewFacts:
    """One group's facts (fixes the day's moderator)."""
    member = moderator_for(session, group, local_date, now)
    pick = problems.pick_for(session, group, local_date)
    problem = catalogue.get(session, pick.problem_id) if pick else None
    solvers = problems.solvers(session, group, problem.id) if problem is not None else []
    return ReviewFacts(member, problem, solvers)


def review_posts(
    session: Session, group: Group, local_date: date, now: datetime, facts: ReviewFacts
) -> list[Queued]:
    """The review post, the thread for solutions started from it, and the digest."""
    member, problem = facts.member, facts.problem
    if member is None:
        reply = Reply.public("duty.review_nobody", day=local_date)
    else:
        reply = Reply.public("duty.review", day=local_date, name=mention(session, member))
    if problem is not None:
        reply.lines.append(Text("problem.review_problem", problems.problem_params(problem)))
    else:
        reply.lines.append(Text("problem.review_no_problem"))
    reply.lines.append(Text("duty.review_hint"))
    expires = end_of_day(group, local_date)
    posts = [Queued(reply, expires)]
    if problem is not None:
        thread = Reply.public("problem.thread_open", **problems.problem_params(problem))
        thread.thread = i18n.text(
            group.locale, "problem.thread_name", {"date": local_date.isoformat()}
        )
        names = [mention(session, m) for m in facts.solvers]
        thread.lines.append(
            Text("problem.thread_solvers", {"names": names})
            if names
            else Text("problem.thread_no_solvers")
        )
        posts.append(Queued(thread, None, parent=0))
    summary = progress.digest(session, group, local_date) if facts.digest else None
    # review cards learned yesterday (a batch knows which groups surely learned none)
    learned = quiz.digest_line(session, group, local_date) if facts.quiz else None
    if learned is not None and summary is None:
        summary = Reply.public(learned.key, **learned.params)
    elif learned is not None and summary is not None:
        summary.lines.append(learned)
    if summary is not None:
        posts.append(Queued(summary, expires))
    return posts


def enqueue_posts(
    session: Session, batch: Sequence[tuple[Group, list[Queued]]], now: datetime
) -> None:
    """Write every group's posts: the n-th post of each group in one flush, so a batch of
    groups costs a few statements, and each group's posts keep their order (ids)."""
    rows: list[list[OutboxMessage]] = [[] for _ in batch]
    depth = max((len(posts) for _, posts in batch), default=0)
    for n in range(depth):
        for (group, posts), written in zip(batch, rows, strict=True):
            if n < len(posts):
                post = posts[n]
                parent = written[post.parent] if post.parent is not None else None
                written.append(
                    enqueue(
                        session,
                        group,
                        post.reply,
                        now,
                        expires_at=post.expires_at,
                        parent=parent,
                        flush=False,
                    )
                )
        session.flush()


def ensure_review_post(session: Session, group: Group, local_date: date, now: datetime) -> bool:
    """At review time: the day's moderator, the day's problem and a thread for solutions,
    started from the review post (its posts name the review post as their parent)."""
    if _claim_study_day(session, group, REVIEW_DUTY, local_date, now) is None:
        return False
    facts = review_facts(session, group, local_date, now)
    enqueue_posts(session, [(group, review_posts(session, group, local_date, now, facts))], now)
    return True


def reminder_time(group: Group) -> time:
    deadline = datetime.combine(date(2000, 1, 2), group.problem_deadline)
    earlier = max(
        deadline - timedelta(minutes=group.problem_reminder_minutes),
        datetime.combine(date(2000, 1, 2), time(0, 0)),
    )
    return earlier.time()


def ensure_problem_reminder(
    session: Session, group: Group, local_date: date, now: datetime
) -> bool:
    """Before the deadline: remind the day's moderator, only if nothing is picked yet.

    ``problem_reminder_minutes == 0`` switches it off; run late (a catch-up after the
    deadline) it keeps its claim but says nothing, since the deadline duty has the word.
    """
    if group.problem_reminder_minutes == 0:
        return False
    claimed = _claim_study_day(session, group, REMINDER_DUTY, local_date, now)
    if claimed is None:
        return False
    calendar, run = claimed
    target = calendar.next_study_day(local_date)
    if target is None or problems.pick_for(session, group, target) is not None:
        return _quiet(run)
    deadline = datetime.combine(local_date, group.problem_deadline, tzinfo=zone(group))
    if now >= deadline:
        return _quiet(run)
    member = moderator_for(session, group, local_date, now)
    if member is None or not member.active:
        reply = Reply.public("problem.reminder_nobody", day=target, deadline=deadline.time())
    else:
        reply = Reply.public(
            "problem.reminder", name=mention(session, member), day=target, deadline=deadline.time()
        )
    enqueue(session, group, reply, now, expires_at=deadline)
    return True


def ensure_problem_deadline(
    session: Session, group: Group, local_date: date, now: datetime
) -> bool:
    """At the deadline: announce the next study day's pick, or auto-pick one."""
    claimed = _claim_study_day(session, group, DEADLINE_DUTY, local_date, now)
    if claimed is None:
        return False
    calendar, run = claimed
    target = calendar.next_study_day(local_date)
    if target is None:
        return _quiet(run)
    pick = problems.pick_for(session, group, target)
    if pick is not None:
        picked = catalogue.get(session, pick.problem_id)
        reply = Reply.public("problem.announce", day=target, **problems.problem_params(picked))
    else:
        problem = problems.auto_candidate(session, group, target)
        if problem is None:
            reply = Reply.public("problem.no_unused", day=target)
        else:
            problems.record_auto_pick(session, group, target, problem, now)
            reply = Reply.public(
                "problem.auto_picked", day=target, **problems.problem_params(problem)
            )
    review = datetime.combine(target, group.review_time, tzinfo=zone(group))
    enqueue(session, group, reply, now, expires_at=review)
    return True


def ensure_progress_reminder(
    session: Session, group: Group, local_date: date, now: datetime
) -> bool:
    """At the group's progress time on study days: name the members who have not logged
    today (one post), and remind those who asked for it privately (one message each).

    Quiet (and not even claimed) while the group does not use progress; quiet when
    everyone logged, or when run after the day is over.
    """
    if not progress.tracks_progress(session, group):
        return False
    claimed = _claim_study_day(session, group, PROGRESS_REMINDER_DUTY, local_date, now)
    if claimed is None:
        return False
    _calendar, run = claimed
    if local_today(group, now) != local_date:
        return _quiet(run)
    public, private = progress.reminder_targets(session, group, local_date)
    if not public and not private:
        return _quiet(run)
    expires = end_of_day(group, local_date)
    if public:
        names = [mention(session, m) for m in public]
        reply = Reply.public("progress.reminder", names=names, day=local_date)
        enqueue(session, group, reply, now, expires_at=expires)
    for member in private:
        reply = Reply.private("progress.reminder_dm", day=local_date)
        enqueue(session, group, reply, now, user_id=member.user_id, expires_at=expires)
    return True


DUTIES: dict[str, Duty] = {
    REMINDER_DUTY: Duty(REMINDER_DUTY, reminder_time, ensure_problem_reminder),
    DEADLINE_DUTY: Duty(DEADLINE_DUTY, lambda g: g.problem_deadline, ensure_problem_deadline),
    REVIEW_DUTY: Duty(REVIEW_DUTY, lambda g: g.review_time, ensure_review_post),
    PROGRESS_REMINDER_DUTY: Duty(
        PROGRESS_REMINDER_DUTY, lambda g: g.progress_time, ensure_progress_reminder
    ),
}
