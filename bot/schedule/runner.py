"""Running duties: one transaction per duty instance, and the start-up catch-up."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.clock import ManualClock
from bot.schedule.duties import DUTIES
from bot.schedule.planner import DueDuty, due_between
from bot.services import duty_runs
from bot.services.context import Services
from bot.services.groups import get_group

log = logging.getLogger(__name__)


def run_duty(services: Services, group_id: int, duty: str, local_date: date) -> bool:
    """Run one duty instance in its own transaction. True when it posted; a paused group
    (its server removed the bot) does nothing."""
    with services.transaction() as session:
        group = get_group(session, group_id)
        if group.paused_at is not None:
            return False
        return DUTIES[duty].run(session, group, local_date, services.clock.now())


def already_ran(session: Session, due: list[DueDuty]) -> set[tuple[int, str, date]]:
    """The (group, duty, date) keys among ``due`` that already have a run recorded."""
    if not due:
        return set()
    days = [item.local_date for item in due]
    return duty_runs.recorded(session, min(days), max(days))


def run_due(services: Services, after: datetime, until: datetime) -> list[DueDuty]:
    """Run every duty that fell due in (after, until]; returns those that posted."""
    with services.session_factory() as session:
        due = due_between(session, after, until)
        done = already_ran(session, due)
    posted = []
    for item in due:
        if (item.group_id, item.duty, item.local_date) in done:
            continue  # a shortcut only: the duty's own claim is what guarantees once
        try:
            if run_duty(services, item.group_id, item.duty, item.local_date):
                posted.append(item)
        except Exception:  # one group's failure must not stop the others
            log.exception(
                "duty %s for group %s on %s failed", item.duty, item.group_id, item.local_date
            )
    return posted


def step_through(services: Services, clock: ManualClock, until: datetime) -> list[DueDuty]:
    """Simulated time: move ``clock`` to each due instant up to ``until`` and run what falls
    due there, as a bot running all along would have; the clock ends at ``until``."""
    with services.session_factory() as session:
        due = due_between(session, clock.now(), until)
    posted = []
    for item in due:
        clock.set(item.due_at)
        if run_duty(services, item.group_id, item.duty, item.local_date):
            posted.append(item)
    clock.set(until)
    return posted


def _grace_window(services: Services) -> tuple[datetime, datetime]:
    now = services.clock.now()
    return now - timedelta(hours=services.settings.reconcile_grace_hours), now


def missed(services: Services) -> list[DueDuty]:
    """What ``reconcile`` would run now: due within the grace window, not run yet."""
    with services.session_factory() as session:
        due = due_between(session, *_grace_window(services))
        done = already_ran(session, due)
    return [item for item in due if (item.group_id, item.duty, item.local_date) not in done]


def reconcile(services: Services) -> list[DueDuty]:
    """At start-up: run what fell due while we were down, within the grace window."""
    return run_due(services, *_grace_window(services))
