"""The competition a group works on: its name, deadline, daily submission limit and tasks
(each with a metric and whether higher is better), and how scores are checked.

Scores are kept on the leaderboard's scale. Metrics that are fractions (F1, accuracy, ...)
are shown ×100 on the leaderboard (66.79), so a score given as a fraction (0.6679) is
stored ×100; MCC likewise from −1..1 to −100..100.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import Conflict, InvalidInput, NotFound
from bot.replies import Reply, Text
from bot.services import freetext
from bot.services.bounds import MAX_SCORE, format_number
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.permissions import require_admin
from db.models import Competition, CompetitionTask, Group

MAX_NAME = 100
MAX_TASK = 50
MAX_METRIC = 30
MAX_TASKS = 20
MAX_DAILY_LIMIT = 1000
SCORE_BOUND = MAX_SCORE  # any metric: a finite number within ±1e6

# Metrics whose leaderboard shows a fraction ×100; a score may be given either way.
PERCENT_METRICS = frozenset(
    {
        "f1",
        "micro_f1",
        "macro_f1",
        "weighted_f1",
        "f1_score",
        "accuracy",
        "acc",
        "precision",
        "recall",
        "auc",
        "roc_auc",
        "em",
        "exact_match",
    }
)
SIGNED_PERCENT_METRICS = frozenset({"mcc", "matthews", "matthews_corrcoef"})
LOWER_IS_BETTER = frozenset(
    {"loss", "rmse", "mse", "mae", "wer", "cer", "ppl", "perplexity", "error", "error_rate"}
)
_CLEAR = {"none", "-", "없음", "off"}


@dataclass(frozen=True)
class TaskInfo:
    name: str
    metric: str
    higher_is_better: bool


# --- metrics and scores ----------------------------------------------------------------


def normalise_metric(value: str | None) -> str | None:
    """'Micro-F1' → 'micro_f1'; None or blank → None."""
    text = freetext.clean(value, "metric", MAX_METRIC)
    if text is None:
        return None
    name = re.sub(r"[\s\-]+", "_", text.strip().lower())
    if not re.fullmatch(r"[\w.@%+]+", name):
        raise InvalidInput("error.progress_bad_metric", value=text)
    return name


def higher_is_better(metric: str | None) -> bool:
    return metric not in LOWER_IS_BETTER


@dataclass(frozen=True)
class Score:
    """A score as stored (on the leaderboard's scale) and how it was read from ``given``:
    ``fraction`` when a fraction metric's 0..1 (MCC: -1..1) value was taken ×100."""

    value: float
    given: float
    fraction_low: int | None = None  # read as a fraction of fraction_low..1 (0 or -1)

    @property
    def fraction(self) -> bool:
        return self.fraction_low is not None


def _out_of_range(metric: str | None, score: float, low: float, high: float) -> InvalidInput:
    return InvalidInput(
        "error.progress_score_range",
        metric=metric or "-",
        value=format_number(score),
        low=format_number(low, grouped=True),
        high=format_number(high, grouped=True),
    )


def read_score(value: object, metric: str | None) -> Score:
    """A finite number in the metric's range, on the leaderboard's scale, and how it was
    read. A fraction metric takes 0..1 as a fraction (×100) and above 1 as shown on the
    leaderboard; a value that both scales accept (0..1) is read as a fraction, and the
    reply says so (``Score.fraction``)."""
    if isinstance(value, bool):
        raise InvalidInput("error.progress_bad_score", value=str(value))
    if isinstance(value, int | float):
        score = float(value)
    else:
        try:
            score = float(str(value).strip())
        except ValueError:
            raise InvalidInput("error.progress_bad_score", value=freetext.echo(value)) from None
    if not math.isfinite(score):
        raise InvalidInput("error.progress_bad_score", value=freetext.echo(value))
    if metric in PERCENT_METRICS:
        if not 0 <= score <= 100:
            raise _out_of_range(metric, score, 0, 100)
        if 0 < score <= 1:
            return Score(round(score * 100, 6), score, 0)
        return Score(score, score)
    if metric in SIGNED_PERCENT_METRICS:
        if not -100 <= score <= 100:
            raise _out_of_range(metric, score, -100, 100)
        if score != 0 and -1 <= score <= 1:
            return Score(round(score * 100, 6), score, -1)
        return Score(score, score)
    if metric in LOWER_IS_BETTER:
        if not 0 <= score <= SCORE_BOUND:
            raise _out_of_range(metric, score, 0, SCORE_BOUND)
        return Score(score, score)
    if abs(score) > SCORE_BOUND:
        raise _out_of_range(metric, score, -SCORE_BOUND, SCORE_BOUND)
    return Score(score, score)


def check_score(value: object, metric: str | None) -> float:
    """A finite number in the metric's range, on the leaderboard's scale."""
    return read_score(value, metric).value


# --- lookups ----------------------------------------------------------------------------


def settings_of(session: Session, group: Group) -> Competition | None:
    return session.get(Competition, group.id)


def tasks_of(session: Session, group: Group) -> list[CompetitionTask]:
    return list(
        session.scalars(
            select(CompetitionTask)
            .where(CompetitionTask.group_id == group.id)
            .order_by(CompetitionTask.id)
        )
    )


def task_infos(session: Session, group: Group) -> dict[str, TaskInfo]:
    """The defined tasks by their case-folded name."""
    return {
        t.name.casefold(): TaskInfo(t.name, t.metric, t.higher_is_better)
        for t in tasks_of(session, group)
    }


def daily_limit(session: Session, group: Group) -> int | None:
    row = settings_of(session, group)
    return row.daily_limit if row else None


def days_left(session: Session, group: Group, today: date) -> tuple[date, int] | None:
    """(deadline, days from today) when a deadline is set."""
    row = settings_of(session, group)
    if row is None or row.deadline is None:
        return None
    return row.deadline, (row.deadline - today).days


def _ensure_settings(session: Session, group: Group, now: datetime) -> Competition:
    row = settings_of(session, group)
    if row is None:
        row = Competition(group_id=group.id, updated_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # created at the same moment elsewhere
            row = settings_of(session, group)
            assert row is not None
    return row


# --- commands ---------------------------------------------------------------------------


def _direction(higher: bool) -> Text:
    return Text("competition.higher" if higher else "competition.lower")


def show_reply(
    session: Session, group: Group, now: datetime, key: str = "competition.show"
) -> Reply:
    row = settings_of(session, group)
    today = local_today(group, now)
    limit = row.daily_limit if row else None
    reply = Reply.private(
        key,
        name=(row.name if row and row.name else "-"),
        deadline=_deadline_text(row.deadline if row else None, today),
        limit=limit if limit else Text("competition.no_limit"),
    )
    tasks = tasks_of(session, group)
    for task in tasks:
        reply.lines.append(
            Text(
                "competition.task_line",
                {
                    "name": task.name,
                    "metric": task.metric,
                    "direction": _direction(task.higher_is_better),
                },
            )
        )
    if not tasks:
        reply.lines.append(Text("competition.no_tasks"))
    return reply


def _deadline_text(deadline: date | None, today: date) -> Text | str:
    if deadline is None:
        return "-"
    left = (deadline - today).days
    if left > 0:
        return Text("competition.deadline_left", {"day": deadline, "days": left})
    if left == 0:
        return Text("competition.deadline_today", {"day": deadline})
    return Text("competition.deadline_passed", {"day": deadline})


def set_competition(
    session: Session,
    group: Group,
    actor: Actor,
    now: datetime,
    *,
    name: str | None = None,
    deadline: date | None = None,
    clear_deadline: bool = False,
    limit: int | None = None,
) -> Reply:
    """Admin: change the name, deadline or daily limit (0: no limit); all or nothing."""
    require_admin(session, group, actor)
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = freetext.clean(name, "name", MAX_NAME)
    if clear_deadline:
        values["deadline"] = None
    elif deadline is not None:
        if deadline < local_today(group, now):
            raise InvalidInput("input.deadline_past", day=deadline)
        values["deadline"] = deadline
    if limit is not None:
        if not 0 <= limit <= MAX_DAILY_LIMIT:
            raise InvalidInput("error.competition_bad_limit", max=MAX_DAILY_LIMIT)
        values["daily_limit"] = limit or None
    if not values:
        raise InvalidInput("error.nothing_to_change")
    row = _ensure_settings(session, group, now)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    return show_reply(session, group, now, key="competition.updated")


def is_clear(text: object) -> bool:
    return isinstance(text, str) and text.strip().lower() in _CLEAR


def set_task(
    session: Session,
    group: Group,
    actor: Actor,
    now: datetime,
    name: str,
    *,
    metric: str | None = None,
    higher: bool | None = None,
    remove: bool = False,
) -> Reply:
    """Admin: add, change or remove one task."""
    require_admin(session, group, actor)
    cleaned = freetext.clean(name, "task", MAX_TASK, required=True)
    assert cleaned is not None
    existing = next(
        (t for t in tasks_of(session, group) if t.name.casefold() == cleaned.casefold()), None
    )
    if remove:
        if existing is None:
            raise NotFound("error.competition_task_missing", name=cleaned)
        session.delete(existing)
        session.flush()
        return Reply.private("competition.task_removed", name=existing.name)
    metric_name = normalise_metric(metric)
    if existing is None:
        if metric_name is None:
            raise InvalidInput("error.competition_task_needs_metric", name=cleaned)
        if len(tasks_of(session, group)) >= MAX_TASKS:
            raise Conflict("error.competition_too_many_tasks", max=MAX_TASKS)
        _ensure_settings(session, group, now)
        task = CompetitionTask(
            group_id=group.id,
            name=cleaned,
            metric=metric_name,
            higher_is_better=higher_is_better(metric_name) if higher is None else higher,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(task)
        except IntegrityError:
            raise Conflict("error.conflict") from None
        key = "competition.task_added"
    else:
        if metric_name is None and higher is None:
            raise InvalidInput("error.nothing_to_change")
        task = existing
        if metric_name is not None:
            task.metric = metric_name
            if higher is None:
                task.higher_is_better = higher_is_better(metric_name)
        if higher is not None:
            task.higher_is_better = higher
        session.flush()
        key = "competition.task_updated"
    return Reply.private(
        key, name=task.name, metric=task.metric, direction=_direction(task.higher_is_better)
    )


__all__ = [
    "PERCENT_METRICS",
    "Score",
    "TaskInfo",
    "check_score",
    "daily_limit",
    "days_left",
    "higher_is_better",
    "is_clear",
    "normalise_metric",
    "read_score",
    "set_competition",
    "set_task",
    "settings_of",
    "show_reply",
    "task_infos",
    "tasks_of",
]
