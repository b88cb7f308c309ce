"""Commands per second through the services (Core.invoke_sync) on SQLite.

Prints one JSON object with the rate of each command and its ratio to the cheapest one.
Run: .venv/bin/python bench/commands.py [--n N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
]


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300, help="calls per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", _env_file=None)
        core = build_core(settings, ManualClock(datetime(2026, 12, 7, 0, 0, tzinfo=UTC)))
        group_id = core.group_for_guild_sync(1, 2, "study")
        actors = [Actor(100 + i, f"member{i}") for i in range(10)]
        for actor in actors:
            reply = core.invoke_sync(("member", "join"), Call(group_id, actor), {})
            assert reply.key == "member.joined", reply.key
        rates: dict[str, float] = {}
        for label, path, options in CASES:
            start = time.perf_counter()
            for i in range(args.n):
                reply = core.invoke_sync(path, Call(group_id, actors[i % 10]), options)
                assert not reply.key.startswith("error."), reply.key
            rates[label] = args.n / (time.perf_counter() - start)
    fastest = max(rates.values())
    return {
        "bench": "commands",
        "backend": "sqlite",
        "calls_per_command": args.n,
        "per_second": {k: round(v, 1) for k, v in rates.items()},
        "ratio_to_fastest": {k: round(v / fastest, 3) for k, v in rates.items()},
        "torch_imported": "torch" in sys.modules,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
