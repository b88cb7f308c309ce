"""Writing the progress log: checking what a command gave, logging, editing and deleting
one's entries, and deleting a member's data on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.replies import Reply, Text
from bot.services import competition, freetext
from bot.services.bounds import format_number
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.groups import parse_bool
from bot.services.permissions import require_admin, require_member
from bot.services.progress._records import format_score, load_entries, one_line, task_list
from bot.services.progress._stats import (
    best_by_task,
    better,
    counts_for,
    direction,
    score_of,
    streak,
    submissions_today,
)
from bot.services.roster import mention
from db.models import Group, Member, OutboxMessage, ProgressEntry

MAX_NOTE = 500
MAX_MODEL = 100
MAX_REPRO = 300


@dataclass(frozen=True)
class EntryInput:
    """What a command gave; None means "not given" (an edit keeps that field)."""

    note: str | None = None
    task: str | None = None
    metric: str | None = None
    score: Any = None
    model: str | None = None
    submitted: Any = None
    repro: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> EntryInput:
        return cls(**{name: options.get(name) for name in cls.__dataclass_fields__})


def _resolve(
    session: Session, group: Group, current: dict[str, Any], given: EntryInput
) -> tuple[dict[str, Any], competition.Score | None]:
    """The entry's fields after applying ``given`` to ``current``, all checked first, and
    how the score given (if any) was read."""
    values = dict(current)
    read: competition.Score | None = None
    if given.note is not None:
        values["note"] = freetext.clean(given.note, "note", MAX_NOTE, multiline=True, required=True)
    if given.task is not None:
        values["task"] = freetext.clean(given.task, "task", competition.MAX_TASK)
    if given.metric is not None:
        values["metric"] = competition.normalise_metric(given.metric)
    if given.model is not None:
        values["model"] = freetext.clean(given.model, "model", MAX_MODEL)
    if given.repro is not None:
        values["repro"] = freetext.clean(given.repro, "repro", MAX_REPRO)
    if given.submitted is not None:
        values["submitted"] = parse_bool(given.submitted)
    scoring = given.task is not None or given.metric is not None or given.score is not None
    tasks = competition.task_infos(session, group)
    if scoring and tasks:
        scored = given.score is not None or values.get("score") is not None
        if values.get("task") is None and scored:
            if len(tasks) > 1:
                raise InvalidInput("error.progress_score_needs_task", tasks=task_list(tasks))
            values["task"] = next(iter(tasks.values())).name
        if values.get("task") is not None:
            info = tasks.get(values["task"].casefold())
            if info is None:
                raise InvalidInput(
                    "error.progress_unknown_task", task=values["task"], tasks=task_list(tasks)
                )
            if given.metric is not None and values["metric"] not in (None, info.metric):
                raise InvalidInput(
                    "error.progress_metric_mismatch",
                    task=info.name,
                    metric=info.metric,
                    given=values["metric"],
                )
            values["task"], values["metric"] = info.name, info.metric
    if given.score is not None:
        read = competition.read_score(given.score, values.get("metric"))
        values["score"] = read.value
    elif values.get("score") is not None and values.get("metric") != current.get("metric"):
        values["score"] = competition.check_score(values["score"], values.get("metric"))
    return values, read


def _read_line(read: competition.Score | None, entry: ProgressEntry) -> list[Text]:
    """How an ambiguous score was read, and how to record the other reading instead.

    A fraction metric reads 0..1 as a fraction (×100). A decimal such as 0.6679 is plainly
    a fraction; a whole ``1`` (MCC: ``-1``) is not (a perfect score, or 1 point of 100?),
    so the reply says it was taken as 100 and how to record 1 point: never silently."""
    if read is None or read.fraction_low is None or abs(read.given) != 1:
        return []
    params = {
        "given": format_number(read.given),
        "stored": format_score(read.value),
        "low": read.fraction_low,
        "id": entry.id,
        "fix": format_number(read.given / 100),
    }
    return [Text("input.score_read_as_fraction", params)]


def _fields(entry: ProgressEntry) -> dict[str, Any]:
    return {
        "note": entry.note,
        "task": entry.task,
        "metric": entry.metric,
        "score": entry.score,
        "model": entry.model,
        "submitted": entry.submitted,
        "repro": entry.repro,
    }


_EMPTY: dict[str, Any] = {
    "note": None,
    "task": None,
    "metric": None,
    "score": None,
    "model": None,
    "submitted": False,
    "repro": None,
}


def limit_param(limit: int | None) -> Any:
    return limit if limit else Text("competition.no_limit")


def _detail_lines(entry: ProgressEntry) -> list[Text]:
    lines = []
    if entry.score is None and entry.task is not None:
        lines.append(Text("progress.detail_task", {"task": entry.task}))
    elif entry.score is not None:
        lines.append(
            Text(
                "progress.detail_score",
                {
                    "task": entry.task,
                    "metric": entry.metric,
                    "score": format_score(entry.score),
                },
            )
        )
    if entry.model:
        lines.append(Text("progress.detail_model", {"model": entry.model}))
    if entry.repro:
        lines.append(Text("progress.detail_repro", {"repro": entry.repro}))
    return lines


def log_entry(
    session: Session, group: Group, actor: Actor, now: datetime, given: EntryInput
) -> Reply:
    member = require_member(session, group, actor)
    if given.note is None:
        raise InvalidInput("error.progress_text_required", field=Text(freetext.FIELDS["note"]))
    values, read = _resolve(session, group, _EMPTY, given)
    today = local_today(group, now)
    tasks = competition.task_infos(session, group)
    before = load_entries(session, group)
    entry = ProgressEntry(
        group_id=group.id,
        member_id=member.id,
        local_date=today,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(entry)
    session.flush()
    reply = Reply.public("progress.logged", name=mention(session, member), id=entry.id)
    reply.lines.append(Text("progress.note", {"note": entry.note}))
    reply.lines += _detail_lines(entry)
    reply.lines += _read_line(read, entry)
    if entry.submitted:
        count = submissions_today(session, member, today)
        limit = competition.daily_limit(session, group)
        key = "progress.submitted_over" if limit and count > limit else "progress.submitted_line"
        reply.lines.append(Text(key, {"count": count, "limit": limit_param(limit)}))
    if counts_for(entry, tasks):
        assert entry.task is not None
        key = entry.task.casefold()
        higher = direction(entry.task, entry.metric, tasks)
        group_best = best_by_task(before, tasks).get(key)
        mine = best_by_task([e for e in before if e.member_id == member.id], tasks).get(key)
        params = {"task": entry.task, "score": format_score(score_of(entry))}
        if group_best is None or better(score_of(entry), score_of(group_best), higher):
            reply.lines.append(Text("progress.new_group_best", params))
        elif mine is None or better(score_of(entry), score_of(mine), higher):
            reply.lines.append(Text("progress.new_personal_best", params))
    days = streak(session, group, member, today)
    reply.lines.append(Text("progress.streak_line", {"days": days}))
    return reply


def _own_entry(
    session: Session, group: Group, actor: Actor, entry_id: int
) -> tuple[Member, ProgressEntry]:
    member = require_member(session, group, actor)
    entry = session.get(ProgressEntry, entry_id)
    if entry is None or entry.group_id != group.id:
        raise NotFound("error.progress_entry_missing", id=entry_id)
    if entry.member_id != member.id:
        raise PermissionDenied("error.progress_not_yours", id=entry_id)
    return member, entry


def edit_entry(
    session: Session, group: Group, actor: Actor, now: datetime, entry_id: int, given: EntryInput
) -> Reply:
    """Change the given fields of one's own entry (empty text clears a field)."""
    _member, entry = _own_entry(session, group, actor, entry_id)
    if all(value is None for value in vars(given).values()):
        raise InvalidInput("error.nothing_to_change")
    values, read = _resolve(session, group, _fields(entry), given)
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = now
    session.flush()
    reply = Reply.private("progress.edited", id=entry.id, day=entry.local_date)
    reply.lines.append(Text("progress.note", {"note": entry.note}))
    reply.lines += _detail_lines(entry)
    reply.lines += _read_line(read, entry)
    if entry.submitted:
        reply.lines.append(Text("progress.detail_submitted"))
    return reply


def delete_entry(session: Session, group: Group, actor: Actor, entry_id: int) -> Reply:
    _member, entry = _own_entry(session, group, actor, entry_id)
    day, note = entry.local_date, one_line(entry.note)
    session.delete(entry)
    session.flush()
    return Reply.private("progress.deleted", id=entry_id, day=day, note=note)


def forget(session: Session, group: Group, actor: Actor, user_id: int) -> Reply:
    """Admin: delete a member's (or former member's) progress data, on their request."""
    require_admin(session, group, actor)
    member = session.scalar(
        select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
    )
    if member is None:
        raise NotFound("error.member_missing")
    deleted = session.scalars(
        delete(ProgressEntry)
        .where(ProgressEntry.group_id == group.id, ProgressEntry.member_id == member.id)
        .returning(ProgressEntry.id)
    ).all()
    count = len(deleted)
    member.progress_reminder = "on"
    session.execute(  # undelivered private reminders to them go too
        delete(OutboxMessage).where(
            OutboxMessage.group_id == group.id,
            OutboxMessage.user_id == user_id,
            OutboxMessage.sent_at.is_(None),
        )
    )
    session.flush()
    return Reply.private("progress.forgot", name=mention(session, member), count=count)
