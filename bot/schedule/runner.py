"""Running duties: one transaction per duty instance, and the start-up catch-up."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.replies import Reply, Text
from bot.schedule import batch as batching
from bot.schedule.duties import DUTIES, end_of_day
from bot.schedule.planner import DueDuty, Owns, due_between, due_for
from bot.services import duty_runs, problems, progress, quiz
from bot.services.calendar import StudyCalendar, local_today
from bot.services.context import Services
from bot.services.groups import get_group
from bot.services.outbox import enqueue
from db.models import DutyRun, Group

log = logging.getLogger(__name__)


def run_duty(services: Services, group_id: int, duty: str, local_date: date) -> bool:
    """Run one duty instance in its own transaction. True when it posted; a paused group
    (its server removed the bot) does nothing."""
    with services.transaction() as session:
        group = get_group(session, group_id)
        if group.paused_at is not None:
            return False
        return DUTIES[duty].run(session, group, local_date, services.clock.now())


def run_batch(
    services: Services, duty: str, local_date: date, group_ids: list[int], isolate: bool = True
) -> list[int]:
    """Run ``duty`` of ``local_date`` for many groups in one transaction (paused groups do
    nothing); the ids of those that posted. When the batch fails it is rolled back and run
    group by group, so one group's failure costs only that group (``isolate``: its error is
    logged; otherwise it is raised)."""
    try:
        with services.transaction() as session:
            groups = list(
                session.scalars(
                    select(Group)
                    .where(Group.id.in_(group_ids), Group.paused_at.is_(None))
                    .order_by(Group.id)
                )
            )
            return batching.run_many(session, duty, groups, local_date, services.clock.now())
    except Exception:
        if len(group_ids) == 1 and not isolate:
            raise
        log.warning("duty %s on %s: batch failed, running it group by group", duty, local_date)
    posted = []
    for group_id in group_ids:
        try:
            if run_duty(services, group_id, duty, local_date):
                posted.append(group_id)
        except Exception:  # one group's failure must not stop the others
            if not isolate:
                raise
            log.exception("duty %s for group %s on %s failed", duty, group_id, local_date)
    return posted


def already_ran(session: Session, due: list[DueDuty]) -> set[tuple[int, str, date]]:
    """The (group, duty, date) keys among ``due`` that already have a run recorded."""
    if not due:
        return set()
    days = [item.local_date for item in due]
    return duty_runs.recorded(session, min(days), max(days))


def moments(due: list[DueDuty]) -> list[list[DueDuty]]:
    """``due`` (in due order) cut into runs of one duty of one date at one instant, each
    at most ``BATCH`` groups long: what one batch runs."""
    found: list[list[DueDuty]] = []
    for item in due:
        last = found[-1] if found else None
        if (
            last is not None
            and len(last) < batching.BATCH
            and (last[0].due_at, last[0].duty, last[0].local_date)
            == (item.due_at, item.duty, item.local_date)
        ):
            last.append(item)
        else:
            found.append([item])
    return found


def _run_moments(
    services: Services, due: list[DueDuty], clock: ManualClock | None = None
) -> list[DueDuty]:
    posted: list[DueDuty] = []
    for batch in moments(due):
        first = batch[0]
        if clock is not None:
            clock.set(first.due_at)
        ids = run_batch(
            services,
            first.duty,
            first.local_date,
            [item.group_id for item in batch],
            isolate=clock is None,
        )
        done = set(ids)
        posted.extend(item for item in batch if item.group_id in done)
    return posted


def run_due(
    services: Services, after: datetime, until: datetime, owns: Owns | None = None
) -> list[DueDuty]:
    """Run every duty that fell due in (after, until] (of the groups this process
    ``owns``); returns those that posted."""
    with services.session_factory() as session:
        due = due_between(session, after, until, owns)
        done = already_ran(session, due)
    # skipping what ran is a shortcut only: the duty's own claim is what guarantees once
    todo = [item for item in due if (item.group_id, item.duty, item.local_date) not in done]
    return _run_moments(services, todo)


def step_through(services: Services, clock: ManualClock, until: datetime) -> list[DueDuty]:
    """Simulated time: move ``clock`` to each due instant up to ``until`` and run what falls
    due there, as a bot running all along would have; the clock ends at ``until``. The
    quiz's nudges are swept at each member's nudge time in between (the minute job's
    work; duties due at the same instant run first)."""
    with services.session_factory() as session:
        due = due_between(session, clock.now(), until)
        nudges = quiz.moments_between(session, clock.now(), until)
    posted: list[DueDuty] = []
    for moment in nudges:
        posted += _run_moments(services, [item for item in due if item.due_at <= moment], clock)
        due = [item for item in due if item.due_at > moment]
        clock.set(moment)
        with services.transaction() as session:
            quiz.sweep(session, moment)
    posted += _run_moments(services, due, clock)
    clock.set(until)
    return posted


def _grace_window(services: Services) -> tuple[datetime, datetime]:
    now = services.clock.now()
    return now - timedelta(hours=services.settings.reconcile_grace_hours), now


def missed(services: Services, owns: Owns | None = None) -> list[DueDuty]:
    """What ``reconcile`` would run now: due within the grace window, not run yet."""
    with services.session_factory() as session:
        due = due_between(session, *_grace_window(services), owns)
        done = already_ran(session, due)
    return [item for item in due if (item.group_id, item.duty, item.local_date) not in done]


MAX_OFFLINE_DAYS = 31  # how far back the offline report looks for missed duties
# what each duty's line in the offline report calls it
DUTY_LABELS = {
    duty_runs.REVIEW_DUTY: "input.duty_review_post",
    duty_runs.REMINDER_DUTY: "input.duty_problem_reminder",
    duty_runs.DEADLINE_DUTY: "input.duty_problem_deadline",
    duty_runs.PROGRESS_REMINDER_DUTY: "input.duty_progress_reminder",
}


def _would_post(session: Session, group: Group, item: DueDuty, calendar: StudyCalendar) -> bool:
    """Whether the duty would have posted that day, had the bot been running (a duty that
    would have stayed quiet was not missed)."""
    day = item.local_date
    if not calendar.is_study_day(day):
        return False
    if item.duty == duty_runs.REMINDER_DUTY:
        target = calendar.next_study_day(day)
        return (
            group.problem_reminder_minutes > 0
            and target is not None
            and problems.pick_for(session, group, target) is None
        )
    if item.duty == duty_runs.DEADLINE_DUTY:
        return calendar.next_study_day(day) is not None
    if item.duty == duty_runs.PROGRESS_REMINDER_DUTY:
        if not progress.tracks_progress(session, group):
            return False
        public, private = progress.reminder_targets(session, group, day)
        return bool(public or private)
    return True


def _report_missed(session: Session, group: Group, due: list[DueDuty], now: datetime) -> bool:
    """Record the group's duties that fell due while the bot was down and are past the
    grace window (``MISSED``: they never run late), and post one message listing them.
    Only the duties this call claims are listed, so two processes never both report."""
    calendar = StudyCalendar(session, group)
    claimed: dict[date, list[Text]] = {}
    for item in due:
        if not _would_post(session, group, item, calendar):
            continue
        run = duty_runs.claim(
            session, group, item.duty, item.local_date, now, outcome=duty_runs.MISSED
        )
        if run is not None:
            claimed.setdefault(item.local_date, []).append(Text(DUTY_LABELS[item.duty]))
    if not claimed:
        return False
    count = sum(len(labels) for labels in claimed.values())
    reply = Reply.public("input.missed_while_offline", count=count, days=len(claimed))
    for day, labels in sorted(claimed.items()):
        reply.lines.append(Text("input.missed_day", {"day": day, "duties": labels}))
    enqueue(session, group, reply, now, expires_at=end_of_day(group, local_today(group, now)))
    return True


def report_offline(services: Services, owns: Owns | None = None) -> list[int]:
    """At start-up, after downtime longer than the grace window: for each group, one post
    saying which duties (of which days) were missed while the bot was offline, since the
    group's latest recorded run (a group that never ran a duty is not told). Returns the
    ids of the groups told."""
    now = services.clock.now()
    start, _ = _grace_window(services)
    oldest = start - timedelta(days=MAX_OFFLINE_DAYS)
    told = []
    with services.session_factory() as session:
        latest = {
            group_id: ran
            for group_id, ran in session.execute(
                select(DutyRun.group_id, func.max(DutyRun.ran_at)).group_by(DutyRun.group_id)
            )
        }
        group_ids = [
            group_id
            for group_id, guild_id in session.execute(
                select(Group.id, Group.guild_id).where(Group.paused_at.is_(None)).order_by(Group.id)
            )
            if owns is None or owns(guild_id)
        ]
    for group_id in group_ids:
        ran = latest.get(group_id)
        # never ran here: a new group (or clock) missed nothing; ran within the grace
        # window: nothing fell due before it that was not run
        if ran is None or ran >= start:
            continue
        try:
            with services.transaction() as session:
                group = get_group(session, group_id)
                last = duty_runs.last_ran(session, group)
                if last is None:
                    continue
                due = due_for(group, max(oldest, last), start)
                if due and _report_missed(session, group, due, now):
                    told.append(group_id)
        except Exception:  # one group's failure must not stop the others
            log.exception("offline report for group %s failed", group_id)
    return told


def reconcile(services: Services, owns: Owns | None = None) -> list[DueDuty]:
    """At start-up: say what was missed beyond the grace window (``report_offline``: the
    first post), then run what fell due while we were down within it (of the groups this
    process ``owns``: sharded, each process catches up on its own)."""
    report_offline(services, owns)
    return run_due(services, *_grace_window(services), owns)
