"""Bot processes racing on one database: what the race tests share.

Each worker is a module-level function ``target(url, group_id, plan, barrier, results)``
run with the ``spawn`` start method (a fresh interpreter); it builds its own engine, waits
at ``barrier`` before each step of ``plan`` and puts one result per step on ``results``.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from typing import Any


def race_processes(
    target: Callable[..., None], url: str, group_id: int, plan: Sequence[Any], processes: int = 2
) -> tuple[list[int | None], list[Any]]:
    """Run ``processes`` workers at once; returns their exit codes and their results.

    Waits at most 90 s for each result (fewer come back when a worker fails), then 30 s for
    each worker to exit before killing it."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(url, group_id, plan, barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes: list[Any] = []
    try:
        for _ in range(processes * len(plan)):
            outcomes.append(results.get(timeout=90))
    except queue.Empty:
        pass
    for worker in workers:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.kill()
    return [worker.exitcode for worker in workers], outcomes
