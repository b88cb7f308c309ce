"""Commands per second through the services (Core.invoke_sync), on SQLite by default or on
the database given (``--database-url postgresql://...``: a schema of its own, dropped
afterwards). A group of ten members with a month of history (turns, a day off, an away
period) answers each command.

Prints one JSON object with the rate of each command (the best of ``ROUNDS`` rounds of
``--n`` calls, as the machine is shared) and its ratio to the cheapest one.
Run: .venv/bin/python bench/commands.py [--n N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

# the repository in place of this folder (so a script named like a standard module could not
# hide the standard library's)
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url

from bot.app import build_core
from bot.clock import ManualClock
from bot.commands import Call
from bot.config import Settings
from bot.services.context import Actor

CASES: list[tuple[str, tuple[str, ...], dict[str, object]]] = [
    ("schedule show", ("schedule", "show"), {}),
    ("member list", ("member", "list"), {}),
    ("mod today", ("mod", "today"), {}),
    ("mod schedule days:7", ("mod", "schedule"), {"days": 7}),
    ("mod schedule days:30", ("mod", "schedule"), {"days": 30}),
    ("away (list)", ("away",), {}),
    ("problem today", ("problem", "today"), {}),
]
GOAL = 1000.0  # calls per second, every command
ROUNDS = 3  # each command is timed this many times; the best round counts


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """SQLite in a temporary folder, or a new schema on the PostgreSQL server at ``url``."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"studybot_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300, help="calls per command")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--group-cache-seconds",
        type=float,
        default=None,
        help="the group cache's time (default: the setting's; 0: every command reads its group)",
    )
    args = parser.parse_args()
    with database(args.database_url) as url:
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        if args.group_cache_seconds is not None:
            settings = settings.model_copy(update={"group_cache_seconds": args.group_cache_seconds})
        # a month of history: the clock walks from 2026-11-02 (Monday), the review running
        # each study day, to Monday 2026-12-07 08:00 in Seoul
        clock = ManualClock(datetime(2026, 11, 1, 15, 0, tzinfo=UTC))
        core = build_core(settings, clock)
        group_id = core.group_for_guild_sync(1, 2, "study")
        actors = [Actor(100 + i, f"member{i}") for i in range(10)]
        for actor in actors:
            reply = core.invoke_sync(("member", "join"), Call(group_id, actor), {})
            assert reply.key == "member.joined", reply.key
        admin = Actor(100, "member0", platform_admin=True)
        reply = core.invoke_sync(
            ("schedule", "dayoff"), Call(group_id, admin), {"date": "2026-12-24", "reason": "x"}
        )
        assert not reply.key.startswith("error."), reply.key
        reply = core.invoke_sync(
            ("away",), Call(group_id, actors[3]), {"from": "2026-12-09", "to": "2026-12-11"}
        )
        assert reply.key == "away.added", reply.key
        core.step_through_sync(clock, datetime(2026, 12, 6, 23, 0, tzinfo=UTC))
        rates: dict[str, float] = {}
        for label, path, options in CASES:
            best = float("inf")
            for _round in range(ROUNDS):  # the best round: the machine is shared
                start = time.perf_counter()
                for i in range(args.n):
                    reply = core.invoke_sync(path, Call(group_id, actors[i % 10]), options)
                    assert not reply.key.startswith("error."), (label, reply.key)
                best = min(best, time.perf_counter() - start)
            rates[label] = args.n / best
        clock.set(clock.now() + timedelta(seconds=1))
    backend = make_url(url).get_backend_name()
    fastest = max(rates.values())
    return {
        "bench": "commands",
        "backend": backend,
        "group_cache_seconds": settings.group_cache_seconds,
        "calls_per_command": args.n,
        "rounds_best_of": ROUNDS,
        "per_second": {k: round(v, 1) for k, v in rates.items()},
        "ratio_to_fastest": {k: round(v / fastest, 3) for k, v in rates.items()},
        "slowest_vs_goal": round(min(rates.values()) / GOAL, 3),
        "torch_imported": "torch" in sys.modules,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
