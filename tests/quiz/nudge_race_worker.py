"""A separate OS process that sweeps the quiz nudges (for the race test): it builds its
own engine on the shared database and waits at the barrier before each day, so two such
processes sweep the same minute at once."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.services import quiz

SEOUL = ZoneInfo("Asia/Seoul")
AT = time(20, 0)


def race(url: str, group_id: int, days: list[date], barrier: Any, results: Any) -> None:
    clock = ManualClock(datetime.combine(days[0], AT, tzinfo=SEOUL))
    core = build_core(Settings(database_url=url, _env_file=None), clock, migrate=False)  # type: ignore[call-arg]
    with core.services.session_factory() as session:  # connect before the start signal
        session.connection()
    for day in days:
        clock.set(datetime.combine(day, AT, tzinfo=SEOUL))
        barrier.wait(timeout=60)
        try:
            with core.services.transaction() as session:
                results.put((day, quiz.sweep(session, clock.now()), None))
        except Exception as exc:  # the test reports it
            results.put((day, None, repr(exc)))
    core.services.session_factory.kw["bind"].dispose()
