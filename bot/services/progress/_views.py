"""Reading progress back: a member's own view, the group's week or month (with charts),
and the leaderboard."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from bot import i18n
from bot.errors import InvalidInput
from bot.replies import Drawing, Reply, Text
from bot.services import charts, competition, freetext
from bot.services.calendar import StudyCalendar, local_today
from bot.services.competition import TaskInfo
from bot.services.context import Actor
from bot.services.permissions import own_member
from bot.services.progress._entries import limit_param
from bot.services.progress._records import (
    MAX_LIST_LINES,
    entry_line,
    format_score,
    load_entries,
    member_names,
    task_list,
)
from bot.services.progress._stats import (
    best_by_task,
    better,
    counts_for,
    direction,
    score_of,
    streak,
    submissions_today,
)
from bot.services.roster import active_members, mention
from bot.services.rotation import AwayBook
from db.models import Group, ProgressEntry

RECENT = 5
PERIODS = {  # days looked back, by what people type
    "week": 7,
    "month": 30,
    "주": 7,
    "주간": 7,
    "일주일": 7,
    "월": 30,
    "월간": 30,
    "한달": 30,
    "한 달": 30,
}


def me_reply(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    """A member's own entries, streak and bests; a former member still sees theirs."""
    member = own_member(session, group, actor)
    today = local_today(group, now)
    tasks = competition.task_infos(session, group)
    mine = load_entries(session, group, member_id=member.id)
    reply = Reply.private(
        "progress.me",
        name=mention(session, member),
        streak=streak(session, group, member, today),
        count=len(mine),
    )
    if not member.active:
        reply.lines.append(Text("input.progress_former_member"))
    limit = competition.daily_limit(session, group)
    reply.lines.append(
        Text(
            "progress.me_submissions",
            {"count": submissions_today(session, member, today), "limit": limit_param(limit)},
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
                        "score": format_score(score_of(entry)),
                        "day": entry.local_date,
                    },
                )
            )
    reply.lines.append(Text("progress.me_recent_header"))
    for entry in reversed(mine[-RECENT:]):
        reply.lines.append(entry_line(entry))
    return reply


def _day_label(day: date, locale: str) -> str:
    return f"{day.month}/{day.day}({i18n.text(locale, f'weekday.{day.isoweekday()}')})"


def _chart_text(locale: str, key: str, **params: Any) -> str:
    return i18n.text(locale, key, params)


def group_reply(session: Session, group: Group, now: datetime, period: str | None) -> Reply:
    """Who logged what in the last week (or month), with two charts."""
    length = PERIODS.get((period or "week").strip().lower())
    if length is None:
        raise InvalidInput("error.progress_bad_period", value=freetext.echo(period))
    end = local_today(group, now)
    start = end - timedelta(days=length - 1)
    days = [start + timedelta(days=i) for i in range(length)]
    tasks = competition.task_infos(session, group)
    names = member_names(session, group)
    entries = load_entries(session, group, start=start, end=end)
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
    best = best_by_task(load_entries(session, group, end=end), tasks)
    for entry in sorted(best.values(), key=lambda e: (e.task or "").casefold()):
        reply.lines.append(
            Text(
                "progress.group_best",
                {
                    "task": entry.task,
                    "metric": entry.metric,
                    "score": format_score(score_of(entry)),
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
    reply.drawings += [  # drawn once the transaction is over (Reply.finish)
        Drawing(
            f"progress-entries-{end.isoformat()}.png", partial(charts.entries_png, entries_chart)
        ),
        Drawing(f"progress-scores-{end.isoformat()}.png", partial(charts.scores_png, scores_chart)),
    ]
    return reply


def _score_series(
    session: Session, group: Group, tasks: dict[str, TaskInfo], days: list[date]
) -> list[charts.ScoreSeries]:
    """Per task with scores: the group's best so far on each day, and the day's scores."""
    scored = [e for e in load_entries(session, group, end=days[-1]) if counts_for(e, tasks)]
    by_task: dict[str, list[ProgressEntry]] = defaultdict(list)
    for entry in scored:
        assert entry.task is not None
        by_task[entry.task.casefold()].append(entry)
    index = {d: i for i, d in enumerate(days)}
    series = []
    for key in sorted(by_task):
        rows = by_task[key]
        first = rows[0]
        higher = direction(first.task, first.metric, tasks)
        info = tasks.get(key)
        metric = info.metric if info else first.metric
        best: list[float | None] = []
        current: float | None = None
        for day in days:
            for entry in rows:
                counts = entry.local_date == day or (day == days[0] and entry.local_date < day)
                if counts and (current is None or better(score_of(entry), current, higher)):
                    current = entry.score
            best.append(current)
        points = [(index[e.local_date], score_of(e)) for e in rows if e.local_date in index]
        if not points and current is None:
            continue
        title = f"{info.name if info else first.task} ({metric})" if metric else str(first.task)
        series.append(charts.ScoreSeries(title=title, best=best, points=points))
    return series


def leaderboard_reply(session: Session, group: Group, task: str | None) -> Reply:
    """Best score per member, per task (or for the one task asked about)."""
    tasks = competition.task_infos(session, group)
    names = member_names(session, group)
    wanted = freetext.clean(task, "task", competition.MAX_TASK) if task else None
    if wanted is not None and tasks and wanted.casefold() not in tasks:
        raise InvalidInput("error.progress_unknown_task", task=wanted, tasks=task_list(tasks))
    scored = [e for e in load_entries(session, group) if counts_for(e, tasks)]
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
        higher = direction(first.task, first.metric, tasks)
        info = tasks.get(key)
        best: dict[int, ProgressEntry] = {}
        for entry in rows:
            current = best.get(entry.member_id)
            if current is None or better(score_of(entry), score_of(current), higher):
                best[entry.member_id] = entry
        ranking = sorted(
            best.values(),
            key=lambda e: ((-score_of(e) if higher else score_of(e)), e.created_at, e.id),
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
                "score": format_score(score_of(entry)),
                "day": entry.local_date,
                "model": entry.model,
            }
            key_line = (
                "progress.leaderboard_line_model" if entry.model else "progress.leaderboard_line"
            )
            reply.lines.append(Text(key_line, params))
    return reply
