"""Reading the progress log: a group's entries, its members' names, and an entry as one
line (shared by the entry commands, the views and the digest)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.replies import Mention, Text
from bot.services.bounds import format_number
from bot.services.competition import TaskInfo
from db.models import Group, Member, ProgressEntry, User

SHORT_NOTE = 80
MAX_LIST_LINES = 30


def load_entries(
    session: Session,
    group: Group,
    *,
    member_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[ProgressEntry]:
    """The group's entries (of one member, between two dates), oldest first."""
    query = select(ProgressEntry).where(ProgressEntry.group_id == group.id)
    if member_id is not None:
        query = query.where(ProgressEntry.member_id == member_id)
    if start is not None:
        query = query.where(ProgressEntry.local_date >= start)
    if end is not None:
        query = query.where(ProgressEntry.local_date <= end)
    return list(session.scalars(query.order_by(ProgressEntry.local_date, ProgressEntry.id)))


def member_names(session: Session, group: Group) -> dict[int, str]:
    """Every member's (past ones too) display name by member id."""
    rows = session.execute(
        select(Member.id, User.name)
        .join(User, User.id == Member.user_id)
        .where(Member.group_id == group.id)
    )
    return {member_id: name for member_id, name in rows}


def one_line(text: str, limit: int = SHORT_NOTE) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_score(score: float) -> str:
    """A score for people: positional, as precise as stored (66.79, 1000000, 0.0001)."""
    return format_number(score)


def _result(entry: ProgressEntry) -> list[Any]:
    """The short result of an entry: "absa micro_f1 66.79", "submitted"."""
    parts: list[Any] = []
    head = " ".join(
        p
        for p in (
            entry.task,
            entry.metric if entry.score is not None else None,
            format_score(entry.score) if entry.score is not None else None,
        )
        if p
    )
    if head:
        parts.append(head)
    if entry.submitted:
        parts.append(Text("progress.submitted_mark"))
    return parts


def entry_line(entry: ProgressEntry, name: str | Mention | None = None) -> Text:
    params: dict[str, Any] = {
        "id": entry.id,
        "day": entry.local_date,
        "note": one_line(entry.note),
    }
    result = _result(entry)
    if name is not None:
        params["name"] = name
        key = "progress.named_line_result" if result else "progress.named_line"
    else:
        key = "progress.entry_line_result" if result else "progress.entry_line"
    if result:
        params["result"] = result
    return Text(key, params)


def task_list(tasks: dict[str, TaskInfo]) -> str:
    return ", ".join(info.name for info in tasks.values())
