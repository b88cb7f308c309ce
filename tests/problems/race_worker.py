"""A separate OS process that runs the problem duties (for the race test).

Run with the ``spawn`` start method (a fresh interpreter, so a fresh hash seed too): it
builds its own engine on the shared database and, for each planned duty, sets its clock to
the duty's time, works out which problem an auto-pick would choose, then waits at the
barrier so that two such processes run the same duty at the same moment.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.schedule.runner import run_duty
from bot.services import problems
from bot.services.calendar import StudyCalendar
from bot.services.groups import get_group
from tests.conftest import SEOUL

Plan = list[tuple[date, str, time]]  # (local date, duty, local time), in order


def race(url: str, group_id: int, plan: Plan, barrier: Any, results: Any) -> None:
    clock = ManualClock(datetime.combine(plan[0][0], plan[0][2], tzinfo=SEOUL))
    core = build_core(Settings(database_url=url, _env_file=None), clock, migrate=False)  # type: ignore[call-arg]
    with core.services.session_factory() as session:  # connect before the start signal
        session.connection()
    for day, duty, at in plan:
        clock.set(datetime.combine(day, at, tzinfo=SEOUL))
        try:
            with core.services.transaction() as session:
                group = get_group(session, group_id)
                target = StudyCalendar(session, group).next_study_day(day)
                assert target is not None
                chosen = problems.auto_candidate(session, group, target)
                expected = chosen.id if chosen else None
            barrier.wait(timeout=60)
            posted = run_duty(core.services, group_id, duty, day)
            results.put((day, duty, expected, posted, None))
        except Exception as exc:  # the test reports it
            results.put((day, duty, None, None, repr(exc)))
    core.services.session_factory.kw["bind"].dispose()
