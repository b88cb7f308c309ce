"""Competition progress: members log what they did each day; streaks, the group's view,
the leaderboard, charts, CSV export, reminder preferences and deleting a member's data.

An entry counts for the group's local date when it was logged. A streak counts
consecutive study days with at least one entry; days that are not study days (weekends,
holidays, days off) and the member's own away days neither count nor break it, and today
does not break it before the day is over.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import i18n
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.replies import Attachment, Mention, Reply, Text
from bot.services import charts, competition, freetext
from bot.services.calendar import MAX_SCAN_DAYS, StudyCalendar, local_today, zone
from bot.services.competition import TaskInfo
from bot.services.context import Actor
from bot.services.groups import parse_bool
from bot.services.members import active_members, mention
from bot.services.permissions import is_admin, require_admin, require_member
from bot.services.rotation import AwayBook
from db.models import Competition, Group, Member, OutboxMessage, ProgressEntry, User

MAX_NOTE = 500
MAX_MODEL = 100
MAX_REPRO = 300
RECENT = 5
MAX_LIST_LINES = 30
SHORT_NOTE = 80
PERIODS = {"week": 7, "month": 30, "주": 7, "월": 30}
REMINDER_MODES = {
    "on": "on",
    "off": "off",
    "dm": "dm",
    "켬": "on",
    "끔": "off",
    "개인": "dm",
    "디엠": "dm",
}
MODE_KEYS = {"on": "progress.mode_on", "off": "progress.mode_off", "dm": "progress.mode_dm"}
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


# --- lookups ---------------------------------------------------------------------------


def tracks_progress(session: Session, group: Group) -> bool:
    """The group uses progress (a competition is set, or someone logged): only then do the
    reminder and the digest speak."""
    if session.get(Competition, group.id) is not None:
        return True
    return (
        session.scalar(select(ProgressEntry.id).where(ProgressEntry.group_id == group.id).limit(1))
        is not None
    )


def _entries(
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


def _names(session: Session, group: Group) -> dict[int, str]:
    """Every member's (past ones too) display name by member id."""
    rows = session.execute(
        select(Member.id, User.name)
        .join(User, User.id == Member.user_id)
        .where(Member.group_id == group.id)
    )
    return {member_id: name for member_id, name in rows}


def _one_line(text: str, limit: int = SHORT_NOTE) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_score(score: float) -> str:
    return f"{score:g}"


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
        "note": _one_line(entry.note),
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


def _direction(task: str | None, metric: str | None, tasks: dict[str, TaskInfo]) -> bool:
    info = tasks.get(task.casefold()) if task else None
    return info.higher_is_better if info else competition.higher_is_better(metric)


def _counts_for(entry: ProgressEntry, tasks: dict[str, TaskInfo]) -> bool:
    """Scored, and (for a defined task) measured by the task's current metric."""
    if entry.score is None or entry.task is None:
        return False
    info = tasks.get(entry.task.casefold())
    return info is None or entry.metric in (None, info.metric)


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def best_by_task(
    entries: list[ProgressEntry], tasks: dict[str, TaskInfo]
) -> dict[str, ProgressEntry]:
    """The best scored entry per task (the earliest one on a tie)."""
    best: dict[str, ProgressEntry] = {}
    for entry in entries:
        if not _counts_for(entry, tasks):
            continue
        assert entry.task is not None and entry.score is not None
        key = entry.task.casefold()
        current = best.get(key)
        higher = _direction(entry.task, entry.metric, tasks)
        if current is None or _better(entry.score, current.score, higher):  # type: ignore[arg-type]
            best[key] = entry
    return best


# --- validation --------------------------------------------------------------------------


def _resolve(
    session: Session, group: Group, current: dict[str, Any], given: EntryInput
) -> dict[str, Any]:
    """The entry's fields after applying ``given`` to ``current``, all checked first."""
    values = dict(current)
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
                raise InvalidInput("error.progress_score_needs_task", tasks=_task_list(tasks))
            values["task"] = next(iter(tasks.values())).name
        if values.get("task") is not None:
            info = tasks.get(values["task"].casefold())
            if info is None:
                raise InvalidInput(
                    "error.progress_unknown_task", task=values["task"], tasks=_task_list(tasks)
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
        values["score"] = competition.check_score(given.score, values.get("metric"))
    elif values.get("score") is not None and values.get("metric") != current.get("metric"):
        values["score"] = competition.check_score(values["score"], values.get("metric"))
    return values


def _task_list(tasks: dict[str, TaskInfo]) -> str:
    return ", ".join(info.name for info in tasks.values())


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


# --- streaks -------------------------------------------------------------------------------


def streak(session: Session, group: Group, member: Member, today: date) -> int:
    """Consecutive study days with an entry, ending today (or yesterday while today has
    none yet); non-study days and the member's away days are skipped."""
    days = set(
        session.scalars(
            select(ProgressEntry.local_date)
            .where(ProgressEntry.member_id == member.id, ProgressEntry.local_date <= today)
            .distinct()
        )
    )
    if not days:
        return 0
    earliest = min(days)
    calendar = StudyCalendar(session, group)
    away = AwayBook(session, [member], earliest)
    count = 0
    day = today if today in days else today - timedelta(days=1)
    while day >= earliest:
        if calendar.is_study_day(day) and not away.is_away(member.id, day):
            if day not in days:
                break
            count += 1
        day -= timedelta(days=1)
    return count


# --- members' commands ---------------------------------------------------------------------


def _submissions_today(session: Session, member: Member, today: date) -> int:
    return int(
        session.scalar(
            select(func.count(ProgressEntry.id)).where(
                ProgressEntry.member_id == member.id,
                ProgressEntry.local_date == today,
                ProgressEntry.submitted.is_(True),
            )
        )
        or 0
    )


def _limit_param(limit: int | None) -> Any:
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
    values = _resolve(session, group, _EMPTY, given)
    today = local_today(group, now)
    tasks = competition.task_infos(session, group)
    before = _entries(session, group)
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
    if entry.submitted:
        count = _submissions_today(session, member, today)
        limit = competition.daily_limit(session, group)
        key = "progress.submitted_over" if limit and count > limit else "progress.submitted_line"
        reply.lines.append(Text(key, {"count": count, "limit": _limit_param(limit)}))
    if _counts_for(entry, tasks):
        assert entry.task is not None
        key = entry.task.casefold()
        higher = _direction(entry.task, entry.metric, tasks)
        group_best = best_by_task(before, tasks).get(key)
        mine = best_by_task([e for e in before if e.member_id == member.id], tasks).get(key)
        params = {"task": entry.task, "score": format_score(entry.score)}  # type: ignore[arg-type]
        if group_best is None or _better(entry.score, group_best.score, higher):  # type: ignore[arg-type]
            reply.lines.append(Text("progress.new_group_best", params))
        elif mine is None or _better(entry.score, mine.score, higher):  # type: ignore[arg-type]
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
    values = _resolve(session, group, _fields(entry), given)
    for key, value in values.items():
        setattr(entry, key, value)
    entry.updated_at = now
    session.flush()
    reply = Reply.private("progress.edited", id=entry.id, day=entry.local_date)
    reply.lines.append(Text("progress.note", {"note": entry.note}))
    reply.lines += _detail_lines(entry)
    if entry.submitted:
        reply.lines.append(Text("progress.detail_submitted"))
    return reply


def delete_entry(session: Session, group: Group, actor: Actor, entry_id: int) -> Reply:
    _member, entry = _own_entry(session, group, actor, entry_id)
    day, note = entry.local_date, _one_line(entry.note)
    session.delete(entry)
    session.flush()
    return Reply.private("progress.deleted", id=entry_id, day=day, note=note)


def me_reply(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    member = require_member(session, group, actor)
    today = local_today(group, now)
    tasks = competition.task_infos(session, group)
    mine = _entries(session, group, member_id=member.id)
    reply = Reply.private(
        "progress.me",
        name=mention(session, member),
        streak=streak(session, group, member, today),
        count=len(mine),
    )
    limit = competition.daily_limit(session, group)
    reply.lines.append(
        Text(
            "progress.me_submissions",
            {"count": _submissions_today(session, member, today), "limit": _limit_param(limit)},
        )
    )
    if not mine:
        reply.lines.append(Text("progress.me_none"))
        return reply
    best = best_by_task(mine, tasks)
    if best:
        reply.lines.append(Text("progress.me_best_header"))
        for entry in sorted(best.values(), key=lambda e: (e.task or "").casefold()):
            reply.lines.append(
                Text(
                    "progress.best_line",
                    {
                        "task": entry.task,
                        "metric": entry.metric,
                        "score": format_score(entry.score),  # type: ignore[arg-type]
                        "day": entry.local_date,
                    },
                )
            )
    reply.lines.append(Text("progress.me_recent_header"))
    for entry in reversed(mine[-RECENT:]):
        reply.lines.append(entry_line(entry))
    return reply


def set_reminder(session: Session, group: Group, actor: Actor, mode: str) -> Reply:
    member = require_member(session, group, actor)
    value = REMINDER_MODES.get(str(mode).strip().lower())
    if value is None:
        raise InvalidInput("error.progress_bad_mode", value=str(mode)[:30])
    member.progress_reminder = value
    session.flush()
    return Reply.private("progress.reminder_set", mode=Text(MODE_KEYS[value]))


def forget(session: Session, group: Group, actor: Actor, user_id: int) -> Reply:
    """Admin: delete a member's (or former member's) progress data, on their request."""
    require_admin(session, group, actor)
    member = session.scalar(
        select(Member).where(Member.group_id == group.id, Member.user_id == user_id)
    )
    if member is None:
        raise NotFound("error.member_missing")
    count = session.execute(
        delete(ProgressEntry).where(
            ProgressEntry.group_id == group.id, ProgressEntry.member_id == member.id
        )
    ).rowcount  # type: ignore[attr-defined]
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


# --- the group's view ---------------------------------------------------------------------


def _day_label(day: date, locale: str) -> str:
    return f"{day.month}/{day.day}({i18n.text(locale, f'weekday.{day.isoweekday()}')})"


def _chart_text(locale: str, key: str, **params: Any) -> str:
    return i18n.text(locale, key, params)


def group_reply(session: Session, group: Group, now: datetime, period: str | None) -> Reply:
    """Who logged what in the last week (or month), with two charts."""
    length = PERIODS.get((period or "week").strip().lower())
    if length is None:
        raise InvalidInput("error.progress_bad_period", value=str(period)[:30])
    end = local_today(group, now)
    start = end - timedelta(days=length - 1)
    days = [start + timedelta(days=i) for i in range(length)]
    tasks = competition.task_infos(session, group)
    names = _names(session, group)
    entries = _entries(session, group, start=start, end=end)
    members = active_members(session, group)
    shown = [m.id for m in members] + sorted(
        {e.member_id for e in entries} - {m.id for m in members}
    )
    calendar = StudyCalendar(session, group)
    away = AwayBook(session, members, start)
    study_days = [d for d in days if calendar.is_study_day(d)]

    reply = Reply.private(
        "progress.group", start=start, end=end, count=len(entries), members=len(shown)
    )
    by_member: dict[int, list[ProgressEntry]] = defaultdict(list)
    for entry in entries:
        by_member[entry.member_id].append(entry)
    joined = {m.id: local_today(group, m.joined_at) for m in members}
    for member_id in shown:
        mine = by_member.get(member_id, [])
        logged = {e.local_date for e in mine}
        expected = [  # from joining; today only once logged (the day is not over)
            d
            for d in study_days
            if d >= joined.get(member_id, start)
            and not away.is_away(member_id, d)
            and (d < end or d in logged)
        ]
        reply.lines.append(
            Text(
                "progress.group_member",
                {
                    "name": names.get(member_id, "?"),
                    "count": len(mine),
                    "logged": len([d for d in expected if d in logged]),
                    "study_days": len(expected),
                },
            )
        )
    best = best_by_task(_entries(session, group, end=end), tasks)
    for entry in sorted(best.values(), key=lambda e: (e.task or "").casefold()):
        reply.lines.append(
            Text(
                "progress.group_best",
                {
                    "task": entry.task,
                    "metric": entry.metric,
                    "score": format_score(entry.score),  # type: ignore[arg-type]
                    "name": names.get(entry.member_id, "?"),
                    "day": entry.local_date,
                },
            )
        )
    if length == PERIODS["week"] and entries:
        reply.lines.append(Text("progress.group_entries_header"))
        for entry in entries[-MAX_LIST_LINES:]:
            reply.lines.append(entry_line(entry, names.get(entry.member_id, "?")))
    elif not entries:
        reply.lines.append(Text("progress.group_none"))

    locale = group.locale
    labels = [_day_label(d, locale) for d in days]
    entries_chart = charts.EntriesChart(
        title=_chart_text(locale, "progress.chart_entries", start=start, end=end),
        day_labels=labels,
        members=[names.get(m, "?") for m in shown],
        counts=[
            [sum(1 for e in by_member.get(m, []) if e.local_date == d) for d in days] for m in shown
        ],
        empty_text=_chart_text(locale, "progress.chart_empty"),
    )
    scores_chart = charts.ScoresChart(
        title=_chart_text(locale, "progress.chart_scores", start=start, end=end),
        day_labels=labels,
        series=_score_series(session, group, tasks, days),
        best_label=_chart_text(locale, "progress.chart_best"),
        points_label=_chart_text(locale, "progress.chart_points"),
        empty_text=_chart_text(locale, "progress.chart_no_scores"),
    )
    reply.attachments.append(
        Attachment(f"progress-entries-{end.isoformat()}.png", charts.entries_png(entries_chart))
    )
    reply.attachments.append(
        Attachment(f"progress-scores-{end.isoformat()}.png", charts.scores_png(scores_chart))
    )
    return reply


def _score_series(
    session: Session, group: Group, tasks: dict[str, TaskInfo], days: list[date]
) -> list[charts.ScoreSeries]:
    """Per task with scores: the group's best so far on each day, and the day's scores."""
    scored = [e for e in _entries(session, group, end=days[-1]) if _counts_for(e, tasks)]
    by_task: dict[str, list[ProgressEntry]] = defaultdict(list)
    for entry in scored:
        assert entry.task is not None
        by_task[entry.task.casefold()].append(entry)
    index = {d: i for i, d in enumerate(days)}
    series = []
    for key in sorted(by_task):
        rows = by_task[key]
        first = rows[0]
        higher = _direction(first.task, first.metric, tasks)
        info = tasks.get(key)
        metric = info.metric if info else first.metric
        best: list[float | None] = []
        current: float | None = None
        for day in days:
            for entry in rows:
                counts = entry.local_date == day or (day == days[0] and entry.local_date < day)
                if counts and (current is None or _better(entry.score, current, higher)):  # type: ignore[arg-type]
                    current = entry.score
            best.append(current)
        points = [(index[e.local_date], float(e.score)) for e in rows if e.local_date in index]  # type: ignore[arg-type]
        if not points and current is None:
            continue
        title = f"{info.name if info else first.task} ({metric})" if metric else str(first.task)
        series.append(charts.ScoreSeries(title=title, best=best, points=points))
    return series


def leaderboard_reply(session: Session, group: Group, task: str | None) -> Reply:
    """Best score per member, per task (or for the one task asked about)."""
    tasks = competition.task_infos(session, group)
    names = _names(session, group)
    wanted = freetext.clean(task, "task", competition.MAX_TASK) if task else None
    if wanted is not None and tasks and wanted.casefold() not in tasks:
        raise InvalidInput("error.progress_unknown_task", task=wanted, tasks=_task_list(tasks))
    scored = [e for e in _entries(session, group) if _counts_for(e, tasks)]
    if wanted is not None:
        scored = [e for e in scored if (e.task or "").casefold() == wanted.casefold()]
    by_task: dict[str, list[ProgressEntry]] = defaultdict(list)
    for entry in scored:
        by_task[(entry.task or "").casefold()].append(entry)
    if not by_task:
        return Reply.private("progress.leaderboard_empty", task=wanted or "-")
    reply = Reply.private("progress.leaderboard", tasks=len(by_task))
    for key in sorted(by_task):
        rows = by_task[key]
        first = rows[0]
        higher = _direction(first.task, first.metric, tasks)
        info = tasks.get(key)
        best: dict[int, ProgressEntry] = {}
        for entry in rows:
            current = best.get(entry.member_id)
            if current is None or _better(entry.score, current.score, higher):  # type: ignore[arg-type]
                best[entry.member_id] = entry
        ranking = sorted(
            best.values(),
            key=lambda e: ((-e.score if higher else e.score), e.created_at, e.id),  # type: ignore[operator]
        )
        reply.lines.append(
            Text(
                "progress.leaderboard_task",
                {
                    "task": info.name if info else first.task,
                    "metric": (info.metric if info else first.metric) or "-",
                    "direction": Text("competition.higher" if higher else "competition.lower"),
                },
            )
        )
        rank = 0
        previous: float | None = None
        for position, entry in enumerate(ranking, start=1):
            if entry.score != previous:
                rank, previous = position, entry.score
            params = {
                "rank": rank,
                "name": names.get(entry.member_id, "?"),
                "score": format_score(entry.score),  # type: ignore[arg-type]
                "day": entry.local_date,
                "model": entry.model,
            }
            key_line = (
                "progress.leaderboard_line_model" if entry.model else "progress.leaderboard_line"
            )
            reply.lines.append(Text(key_line, params))
    return reply


# --- export ----------------------------------------------------------------------------------


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
    """Admins get everyone's entries; members their own."""
    admin = is_admin(session, group, actor)
    names = _names(session, group)
    if admin:
        entries = _entries(session, group)
        key, stem = "progress.export_all", "progress"
    else:
        member = require_member(session, group, actor)
        entries = _entries(session, group, member_id=member.id)
        key, stem = "progress.export_own", "my-progress"
    today = local_today(group, now)
    data = csv_bytes([(e, names.get(e.member_id, "?")) for e in entries], group)
    reply = Reply.private(key, count=len(entries))
    reply.attachments.append(Attachment(f"{stem}-{today.isoformat()}.csv", data))
    return reply


# --- what the duties say ------------------------------------------------------------------


def reminder_targets(
    session: Session, group: Group, day: date
) -> tuple[list[Member], list[Member]]:
    """Active members, not away on ``day``, with no entry that day: (named in the channel,
    reminded privately). Members who switched the reminder off are neither."""
    members = active_members(session, group)
    away = AwayBook(session, members, day)
    logged = set(
        session.scalars(
            select(ProgressEntry.member_id).where(
                ProgressEntry.group_id == group.id, ProgressEntry.local_date == day
            )
        )
    )
    missing = [m for m in members if m.id not in logged and not away.is_away(m.id, day)]
    public = [m for m in missing if m.progress_reminder == "on"]
    private = [m for m in missing if m.progress_reminder == "dm"]
    return public, private


def _previous_study_day(calendar: StudyCalendar, before: date) -> date | None:
    day = before - timedelta(days=1)
    for _ in range(MAX_SCAN_DAYS):
        if calendar.is_study_day(day):
            return day
        day -= timedelta(days=1)
    return None


def digest(session: Session, group: Group, today: date) -> Reply | None:
    """The review-time summary of the previous study day (and the days off since): who
    logged what, who did not, new best scores, days left to the deadline."""
    if not tracks_progress(session, group):
        return None
    calendar = StudyCalendar(session, group)
    day = _previous_study_day(calendar, today)
    if day is None or day < local_today(group, group.created_at):
        return None  # no study day since the group began
    end = today - timedelta(days=1)
    entries = _entries(session, group, start=day, end=end)
    names = _names(session, group)
    tasks = competition.task_infos(session, group)
    if end == day:
        reply = Reply.public("progress.digest", day=day, count=len(entries))
    else:
        reply = Reply.public("progress.digest_span", start=day, end=end, count=len(entries))
    for entry in entries[:MAX_LIST_LINES]:
        reply.lines.append(entry_line(entry, names.get(entry.member_id, "?")))
    if len(entries) > MAX_LIST_LINES:
        reply.lines.append(Text("progress.more", {"count": len(entries) - MAX_LIST_LINES}))
    if not entries:
        reply.lines.append(Text("progress.digest_no_entries"))
    members = [m for m in active_members(session, group) if local_today(group, m.joined_at) <= day]
    away = AwayBook(session, members, day)
    logged = {e.member_id for e in entries if e.local_date == day}
    missing = [
        names.get(m.id, "?") for m in members if m.id not in logged and not away.is_away(m.id, day)
    ]
    if missing:
        reply.lines.append(Text("progress.digest_missing", {"day": day, "names": missing}))
    elif members:
        reply.lines.append(Text("progress.digest_all_logged", {"day": day}))
    earlier = best_by_task(_entries(session, group, end=day - timedelta(days=1)), tasks)
    for key, entry in sorted(best_by_task(entries, tasks).items()):
        old = earlier.get(key)
        higher = _direction(entry.task, entry.metric, tasks)
        if old is None or _better(entry.score, old.score, higher):  # type: ignore[arg-type]
            reply.lines.append(
                Text(
                    "progress.digest_best",
                    {
                        "task": entry.task,
                        "metric": entry.metric,
                        "score": format_score(entry.score),  # type: ignore[arg-type]
                        "name": names.get(entry.member_id, "?"),
                    },
                )
            )
    left = competition.days_left(session, group, today)
    if left is not None:
        deadline, days = left
        if days > 0:
            reply.lines.append(Text("progress.digest_days_left", {"days": days, "day": deadline}))
        elif days == 0:
            reply.lines.append(Text("progress.digest_deadline_today", {"day": deadline}))
    return reply


__all__ = [
    "CSV_COLUMNS",
    "EntryInput",
    "best_by_task",
    "csv_bytes",
    "delete_entry",
    "digest",
    "edit_entry",
    "export_reply",
    "forget",
    "group_reply",
    "leaderboard_reply",
    "log_entry",
    "me_reply",
    "reminder_targets",
    "set_reminder",
    "streak",
    "tracks_progress",
]
