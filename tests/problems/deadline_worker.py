"""A separate OS process that runs the problem deadline duty (for the race test).

Run with the ``spawn`` start method (a fresh interpreter, so a fresh hash seed too): it
builds its own engine on the shared database, works out which problem it would auto-pick,
then waits at the barrier so that two such processes run the same duty at once.
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
from bot.services.duties import DEADLINE_DUTY
from bot.services.groups import get_group
from tests.conftest import SEOUL


def race(url: str, group_id: int, days: list[date], barrier: Any, results: Any) -> None:
    clock = ManualClock(datetime.combine(days[0], time(19, 0), tzinfo=SEOUL))
    core = build_core(Settings(database_url=url, _env_file=None), clock, migrate=False)  # type: ignore[call-arg]
    with core.services.session_factory() as session:  # connect before the start signal
        session.connection()
    for day in days:
        clock.set(datetime.combine(day, time(19, 0), tzinfo=SEOUL))
        try:
            with core.services.transaction() as session:
                group = get_group(session, group_id)
                target = StudyCalendar(session, group).next_study_day(day)
                assert target is not None
                chosen = problems.auto_candidate(session, group, target)
                expected = chosen.id if chosen else None
            barrier.wait(timeout=60)
            posted = run_duty(core.services, group_id, DEADLINE_DUTY, day)
            results.put((day, expected, posted, None))
        except Exception as exc:  # the test reports it
            results.put((day, None, None, repr(exc)))
    core.services.session_factory.kw["bind"].dispose()
