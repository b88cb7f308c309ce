"""/quiz stats: a member's own numbers, or the group's mastery per lesson with a chart."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import i18n
from bot.errors import InvalidInput
from bot.replies import Drawing, Reply, Text
from bot.services import charts, freetext
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.lessons import catalogue as lesson_catalogue
from bot.services.permissions import require_member
from bot.services.quiz._deck import deck, due_rows, rows_of, waiting
from bot.services.roster import active_members
from db.models import Group, QuizCard

SCOPES = ("me", "group")
_SCOPE_WORDS = {"me": "me", "group": "group", "나": "me", "그룹": "group"}


def my_stats(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    member = require_member(session, group, actor)
    today = local_today(group, now)
    rows = rows_of(session, member)
    learned = sum(1 for row in rows.values() if row.learned_on is not None)
    return Reply.private(
        "quiz.stats_me",
        learned=learned,
        progress=len(rows) - learned,
        due=len(due_rows(rows, today)),
        today=waiting(group, rows, today),
        total=len(deck()),
    )


@dataclass(frozen=True)
class MasteryChart:
    title: str
    lessons: list[str]
    percents: list[float]  # learned cards / (cards x members), per lesson
    axis: str


def mastery_png(chart: MasteryChart) -> bytes:
    """Horizontal bars, one per lesson (Agg canvas, object API, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = charts.font_family()
    figure = Figure(figsize=(7.0, max(3.0, 0.4 * len(chart.lessons) + 1.5)), dpi=charts.DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_title(chart.title, fontfamily=family)
    positions = list(range(len(chart.lessons)))
    ax.barh(positions, chart.percents, color="tab:green")
    ax.set_yticks(positions, chart.lessons, fontfamily=family, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(chart.axis, fontfamily=family)
    ax.grid(True, axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=charts.DPI)
    return buffer.getvalue()


def group_stats(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    require_member(session, group, actor)
    members = active_members(session, group)
    ids = [m.id for m in members]
    learned: dict[str, int] = {}
    if ids:
        for row in session.scalars(
            select(QuizCard).where(QuizCard.member_id.in_(ids), QuizCard.learned_on.is_not(None))
        ):
            learned[row.card_id] = learned.get(row.card_id, 0) + 1
    locale = group.locale
    reply = Reply.private("quiz.stats_group", members=len(members))
    titles: list[str] = []
    percents: list[float] = []
    for lesson in lesson_catalogue():
        cards = [card for card in deck() if card.lesson_id == lesson.id]
        if not cards:
            continue
        done = sum(learned.get(card.id, 0) for card in cards)
        possible = len(cards) * len(members)
        percent = round(100 * done / possible) if possible else 0
        titles.append(lesson.id)
        percents.append(float(percent))
        reply.lines.append(
            Text(
                "quiz.stats_lesson",
                {"lesson": lesson.text("title", locale), "percent": percent, "done": done,
                 "possible": possible},
            )
        )  # fmt: skip
    chart = MasteryChart(
        title=i18n.text(locale, "quiz.chart_title"),
        lessons=titles,
        percents=percents,
        axis=i18n.text(locale, "quiz.chart_axis"),
    )
    today = local_today(group, now)
    reply.drawings.append(
        Drawing(f"quiz-mastery-{today.isoformat()}.png", partial(mastery_png, chart))
    )
    return reply


def stats(session: Session, group: Group, actor: Actor, now: datetime, scope: str | None) -> Reply:
    chosen = _SCOPE_WORDS.get((scope or "me").strip().lower())
    if chosen is None:
        raise InvalidInput("quiz.bad_scope", value=freetext.echo(scope or ""))
    if chosen == "group":
        return group_stats(session, group, actor, now)
    return my_stats(session, group, actor, now)
