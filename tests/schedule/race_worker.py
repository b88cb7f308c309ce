"""A separate OS process that runs the review duty (for the race test).

Run with the ``spawn`` start method: it builds its own engine on the shared database and
waits at the barrier before each day, so two such processes claim the same duty at once.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.schedule.runner import run_batch, run_duty
from bot.services.duty_runs import REVIEW_DUTY

SEOUL = ZoneInfo("Asia/Seoul")


def race(url: str, group_id: int, days: list[date], barrier: Any, results: Any) -> None:
    clock = ManualClock(datetime.combine(days[0], time(9, 30), tzinfo=SEOUL))
    core = build_core(Settings(database_url=url, _env_file=None), clock, migrate=False)  # type: ignore[call-arg]
    with core.services.session_factory() as session:  # connect before the start signal
        session.connection()
    for day in days:
        clock.set(datetime.combine(day, time(9, 30), tzinfo=SEOUL))
        barrier.wait(timeout=60)
        try:
            results.put((day, run_duty(core.services, group_id, REVIEW_DUTY, day), None))
        except Exception as exc:  # the test reports it
            results.put((day, None, repr(exc)))
    core.services.session_factory.kw["bind"].dispose()


def race_batch(url: str, _group_id: int, plan: list[Any], barrier: Any, results: Any) -> None:
    """Like ``race``, for a batch: each step of ``plan`` is (day, group ids), run through
    ``run_batch`` (bulk claims ``INSERT ... ON CONFLICT DO NOTHING``)."""
    first_day = plan[0][0]
    clock = ManualClock(datetime.combine(first_day, time(9, 30), tzinfo=SEOUL))
    core = build_core(Settings(database_url=url, _env_file=None), clock, migrate=False)  # type: ignore[call-arg]
    with core.services.session_factory() as session:
        session.connection()
    for day, group_ids in plan:
        clock.set(datetime.combine(day, time(9, 30), tzinfo=SEOUL))
        barrier.wait(timeout=60)
        try:
            posted = run_batch(core.services, REVIEW_DUTY, day, group_ids, isolate=False)
            results.put((day, posted, None))
        except Exception as exc:  # the test reports it
            results.put((day, None, repr(exc)))
    core.services.session_factory.kw["bind"].dispose()
