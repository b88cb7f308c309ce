"""Exporting entries as CSV: admins get everyone's, members (former ones too) their own."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy.orm import Session

from bot.replies import Attachment, Reply
from bot.services.calendar import local_today, zone
from bot.services.context import Actor
from bot.services.permissions import is_admin, own_member
from bot.services.progress._records import load_entries, member_names
from db.models import Group, ProgressEntry

CSV_COLUMNS = (
    "date",
    "member",
    "task",
    "metric",
    "score",
    "model",
    "submitted",
    "repro",
    "note",
    "created_at",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    """Text as a spreadsheet shows it, never as a formula."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_bytes(rows: list[tuple[ProgressEntry, str]], group: Group) -> bytes:
    """UTF-8 with a BOM (Excel opens Korean correctly), one row per entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry, name in rows:
        writer.writerow(
            [
                entry.local_date.isoformat(),
                _cell(name),
                _cell(entry.task),
                _cell(entry.metric),
                "" if entry.score is None else repr(float(entry.score)),
                _cell(entry.model),
                "yes" if entry.submitted else "no",
                _cell(entry.repro),
                _cell(entry.note),
                entry.created_at.astimezone(zone(group)).isoformat(timespec="seconds"),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_reply(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    """Admins get everyone's entries; members their own (also after they left)."""
    admin = is_admin(session, group, actor)
    names = member_names(session, group)
    if admin:
        entries = load_entries(session, group)
        key, stem = "progress.export_all", "progress"
    else:
        member = own_member(session, group, actor)  # a former member keeps theirs
        entries = load_entries(session, group, member_id=member.id)
        key, stem = "progress.export_own", "my-progress"
    today = local_today(group, now)
    data = csv_bytes([(e, names.get(e.member_id, "?")) for e in entries], group)
    reply = Reply.private(key, count=len(entries))
    reply.attachments.append(Attachment(f"{stem}-{today.isoformat()}.csv", data))
    return reply
