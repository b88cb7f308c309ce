"""Start-up cost with many groups: building the scheduler's jobs and the reconcile pass
(every group's 09:30 review post is 30 minutes late, so each group posts once).

Each size runs in a fresh process (its own peak RSS); the figures of the two sizes and the
ratio of their per-group costs (1.0: flat) are printed as one JSON object.
Run: .venv/bin/python bench/startup.py [--groups 1000 10000] [--members M]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# the repository in place of this folder (so a script named like a standard module could not
# hide the standard library's)
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.core import Core
from bot.schedule.scheduler import DutyScheduler
from bot.services.groups import (
    DEFAULT_PROBLEM_DEADLINE,
    DEFAULT_REVIEW_TIME,
    DEFAULT_STUDY_DAYS,
)
from db.models import Group, Member, User

CHUNK = 5000  # rows per insert while populating (keeps the bench's own memory small)


def _insert(core: Core, model: object, rows: list[dict[str, object]]) -> None:
    with core.services.transaction() as session:
        for i in range(0, len(rows), CHUNK):
            session.execute(insert(model), rows[i : i + CHUNK])  # type: ignore[call-overload]


def populate(core: Core, groups: int, members: int, now: datetime) -> None:
    _insert(
        core,
        User,
        [
            {"id": 10_000 + u, "name": f"user{u}", "created_at": now}
            for u in range(groups * members)
        ],
    )
    _insert(
        core,
        Group,
        [
            {
                "id": g + 1,
                "guild_id": 1_000_000_000_000_000 + g,
                "channel_id": 2_000_000_000_000_000 + g,
                "channel_name": "study",
                "timezone": "Asia/Seoul",
                "study_days": DEFAULT_STUDY_DAYS,
                "review_time": DEFAULT_REVIEW_TIME,
                "problem_deadline": DEFAULT_PROBLEM_DEADLINE,
                "locale": "ko",
                "skip_holidays": True,
                "created_at": now,
            }
            for g in range(groups)
        ],
    )
    _insert(
        core,
        Member,
        [
            {
                "group_id": g + 1,
                "user_id": 10_000 + g * members + m,
                "position": m + 1,
                "active": True,
                "joined_at": now,
            }
            for g in range(groups)
            for m in range(members)
        ],
    )


def one(groups: int, members: int) -> dict[str, object]:
    """One size, in this process."""
    # Monday 2026-12-07, 10:00 in Seoul: every group's 09:30 review post is 30 min late.
    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", _env_file=None)  # type: ignore[call-arg]
        clock = ManualClock(start - timedelta(days=1))
        core = build_core(settings, clock)
        populate(core, groups, members, clock.now())
        populated_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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

    startup_s = build_s + reconcile_s
    return {
        "groups": groups,
        "members_per_group": members,
        "jobs": jobs,
        "build_jobs_s": round(build_s, 3),
        "reconcile_s": round(reconcile_s, 3),
        "startup_s": round(startup_s, 3),
        "startup_ms_per_group": round(startup_s * 1000 / max(groups, 1), 4),
        "reconcile_posted": len(posted),
        "second_reconcile_s": round(reconcile_again_s, 3),
        "second_reconcile_posted": len(again),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "populated_rss_mb": round(populated_rss_mb, 1),
        "torch_imported": "torch" in sys.modules,
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--one", action="store_true", help="one size, in this process")
    args = parser.parse_args()
    if args.one:
        return one(args.groups[0], args.members)
    sizes = []
    for groups in args.groups:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                "--groups",
                str(groups),
                "--members",
                str(args.members),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        sizes.append(json.loads(out))
    first, last = sizes[0], sizes[-1]
    return {
        "bench": "startup",
        "sizes": sizes,
        "per_group_cost_ratio": round(
            float(last["startup_ms_per_group"]) / float(first["startup_ms_per_group"]), 3
        ),
        "goal": "largest size: startup_s < 10, peak_rss_mb < 200, per_group_cost_ratio ~ 1",
    }


if __name__ == "__main__":
    print(json.dumps(main()))
