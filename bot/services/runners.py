"""Where code runs, as a reply: this machine's sandbox, or the remote runners (``studybot
worker`` processes) with their queues, GPUs and counts. Shared by ``/sandbox status`` (the
admin command, on Discord and in the console) and ``studybot worker status``."""

from __future__ import annotations

from typing import Any

from bot.replies import Reply, Text

__all__ = ["status_lines", "status_reply"]


def _names(values: Any) -> str:
    return ", ".join(str(value) for value in values) if values else "-"


def status_lines(status: dict[str, Any]) -> list[Text]:
    """One line for the back end, one per worker."""
    if status.get("mode") != "celery":
        return [
            Text(
                "remote.status.local",
                {
                    "mode": str(status.get("mode", "off")),
                    "gpus": _names(status.get("gpus")),
                    "running": int(status.get("running", 0)),
                    "waiting": int(status.get("waiting", 0)),
                },
            )
        ]
    broker = str(status.get("broker", "-"))
    if status.get("error"):
        return [Text("remote.status.unreachable", {"broker": broker, "detail": status["error"]})]
    workers = list(status.get("workers") or [])
    if not workers:
        return [Text("remote.status.none", {"broker": broker})]
    lines = [Text("remote.status.title", {"broker": broker, "count": len(workers)})]
    for row in workers:
        lines.append(
            Text(
                "remote.status.worker",
                {
                    "name": row["name"],
                    "queues": _names(row.get("queues")),
                    "gpus": _names(row.get("gpus")),
                    "concurrency": row.get("concurrency", 0),
                    "done": row.get("done", 0),
                    "failed": row.get("failed", 0),
                    "running": row.get("running", 0),
                },
            )
        )
    return lines


def status_reply(status: dict[str, Any]) -> Reply:
    lines = status_lines(status)
    reply = Reply.private(lines[0].key, **lines[0].params)
    reply.lines.extend(lines[1:])
    return reply
