"""What pickers offer while someone types (Discord's autocomplete): swap requests,
problems and competition tasks, as ``(label, value)`` pairs of at most ``MAX_CHOICES``."""

from __future__ import annotations

import contextlib
from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import DomainError
from bot.i18n import text
from bot.services import catalogue, competition, problems, rotation
from db.models import Group

__all__ = ["MAX_CHOICES", "MAX_LABEL", "problem_choices", "swap_choices", "task_choices"]

MAX_CHOICES = 25  # Discord shows at most 25 choices
MAX_LABEL = 100  # and cuts their names at 100 characters


def swap_choices(
    session: Session, group: Group, now: datetime, current: str
) -> list[tuple[str, int]]:
    """The group's pending swap requests whose number starts with what was typed."""
    found: list[tuple[str, int]] = []
    for swap in rotation.pending_swaps(session, group):
        if not str(swap.id).startswith(current.strip()):
            continue
        label = text(
            group.locale,
            "discord.swap_choice",
            {
                "id": swap.id,
                "a": swap.first,
                "a_day": swap.first_day,
                "b": swap.second,
                "b_day": swap.second_day,
            },
        )
        found.append((label[:MAX_LABEL], swap.id))
    return found[:MAX_CHOICES]


def _problem(problem_id: int, title: str) -> tuple[str, str]:
    return f"{problem_id} {title}"[:MAX_LABEL], str(problem_id)


def problem_choices(
    session: Session, group: Group, now: datetime, current: str, lead_with_current: bool
) -> list[tuple[str, str]]:
    """Problems labelled "12899 124 나라의 숫자", valued by id.

    What was typed is searched in the catalogue (every word a part of the title, or of the
    id); a pasted problem link finds its problem. Nothing typed suggests the algorithm
    problems the group has not reviewed yet, by id; with ``lead_with_current`` the problem
    members are working on now comes first.
    """
    if current.strip():
        found = [_problem(p.id, p.title) for p in catalogue.search(session, current, MAX_CHOICES)]
        if not found:  # a pasted problem link
            with contextlib.suppress(DomainError):
                problem = catalogue.resolve(session, current)
                return [_problem(problem.id, problem.title)]
        return found
    suggested: list[tuple[int, str]] = []
    if lead_with_current:
        pick = problems.current_pick(session, group, now)
        if pick is not None:
            problem = catalogue.get(session, pick.problem_id)
            suggested.append((problem.id, problem.title))
    used = problems.used_problem_ids(session, group)
    for problem in catalogue.search(session, "", limit=len(used) + 10 * MAX_CHOICES):
        if len(suggested) >= MAX_CHOICES:
            break
        if problem.kind == "algorithm" and problem.id not in used:
            suggested.append((problem.id, problem.title))
    return [_problem(problem_id, title) for problem_id, title in suggested]


def task_choices(
    session: Session, group: Group, now: datetime, current: str
) -> list[tuple[str, str]]:
    """The competition's tasks whose name contains what was typed, labelled with their
    metric: "absa (micro_f1)". Other names may still be typed (the command checks them)."""
    needle = current.strip().casefold()
    return [
        (f"{task.name} ({task.metric})"[:MAX_LABEL], task.name)
        for task in competition.tasks_of(session, group)
        if needle in task.name.casefold()
    ][:MAX_CHOICES]
