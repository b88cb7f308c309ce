"""Start-up cost with many groups: building the cron jobs and the reconcile pass.

Prints one JSON object. Run: .venv/bin/python bench/startup.py [--groups N] [--members M]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.schedule.scheduler import DutyScheduler
from bot.services.groups import (
    DEFAULT_PROBLEM_DEADLINE,
    DEFAULT_REVIEW_TIME,
    DEFAULT_STUDY_DAYS,
)
from db.models import Group, Member, User


def populate(core, groups: int, members: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with core.services.transaction() as session:
        session.add_all(
            User(id=10_000 + u, name=f"user{u}", created_at=now) for u in range(groups * members)
        )
        session.add_all(
            Group(
                id=g + 1,
                guild_id=1_000_000_000_000_000 + g,
                channel_id=2_000_000_000_000_000 + g,
                channel_name="study",
                timezone="Asia/Seoul",
                study_days=DEFAULT_STUDY_DAYS,
                review_time=DEFAULT_REVIEW_TIME,
                problem_deadline=DEFAULT_PROBLEM_DEADLINE,
                locale="ko",
                skip_holidays=True,
                created_at=now,
            )
            for g in range(groups)
        )
        session.flush()
        session.add_all(
            Member(
                group_id=g + 1,
                user_id=10_000 + g * members + m,
                position=m + 1,
                active=True,
                joined_at=now,
            )
            for g in range(groups)
            for m in range(members)
        )


async def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=10)
    args = parser.parse_args()
    # Monday 2026-12-07, 10:00 in Seoul: every group's 09:30 review post is 30 min late.
    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", _env_file=None)
        clock = ManualClock(start - timedelta(days=1))
        t0 = time.perf_counter()
        core = build_core(settings, clock)
        migrate_s = time.perf_counter() - t0
        populate(core, args.groups, args.members, clock.now())
        clock.set(start)

        scheduler = DutyScheduler(core)
        t0 = time.perf_counter()
        jobs = scheduler.build_jobs()
        build_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        posted = core.reconcile_sync()
        reconcile_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        again = core.reconcile_sync()
        reconcile_again_s = time.perf_counter() - t0
        scheduler.shutdown()

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bench": "startup",
        "groups": args.groups,
        "members_per_group": args.members,
        "migrate_s": round(migrate_s, 3),
        "jobs": jobs,
        "build_jobs_s": round(build_s, 3),
        "reconcile_s": round(reconcile_s, 3),
        "reconcile_posted": len(posted),
        "reconcile_ms_per_group": round(reconcile_s * 1000 / max(args.groups, 1), 3),
        "second_reconcile_s": round(reconcile_again_s, 3),
        "second_reconcile_posted": len(again),
        "second_vs_first_ratio": round(reconcile_again_s / reconcile_s, 3) if reconcile_s else None,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "torch_imported": "torch" in sys.modules,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
