"""``worker status``: who serves the queues, asked through the broker (Celery's remote
control broadcast), with what GPUs, and how many jobs each has done and failed."""

from __future__ import annotations

from typing import Any

from celery import Celery

__all__ = ["STATUS_COMMAND", "worker_status"]

STATUS_COMMAND = "studybot_status"


def _clean(name: str, reply: Any) -> dict[str, Any] | None:
    """One worker's answer, reduced to the known fields of the known types."""
    if not isinstance(reply, dict) or not reply:
        return None
    row: dict[str, Any] = {"name": str(name)[:120]}
    for key in ("queues", "gpus"):
        value = reply.get(key)
        row[key] = [str(item)[:80] for item in value][:16] if isinstance(value, list) else []
    for key in ("concurrency", "ready", "done", "failed", "running"):
        value = reply.get(key)
        row[key] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    row["sandbox"] = str(reply.get("sandbox", "?"))[:20]
    return row


def worker_status(app: Celery, timeout: float = 1.0) -> list[dict[str, Any]]:
    """Each worker that answers within ``timeout``, by name. Raises the broker's error
    when it cannot be reached."""
    replies = app.control.broadcast(STATUS_COMMAND, reply=True, timeout=timeout) or []
    rows: list[dict[str, Any]] = []
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        for name, answer in reply.items():
            row = _clean(name, answer)
            if row is not None:
                rows.append(row)
    return sorted(rows, key=lambda row: row["name"])
