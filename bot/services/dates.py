"""Dates people type and dates replies show.

A date typed without a year (``12-01``) gets the year a person would mean: the upcoming
such day within about six months (``UPCOMING``: away periods, days off, a competition
deadline), or the nearest one, before or after today (``NEAREST``: cancelling something
that may have begun). When no year fits, the refusal shows both candidates and asks for
the year, instead of silently taking one almost a year away.

Replies show a date's year whenever it is not the current one (``mark_years``): a date of
another year becomes ``Text("input.date_with_year")``, which the catalogues render with
the year (Korean ``2027년 12월 1일(수)``; English dates always carry it).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from bot.errors import DomainError, InvalidInput
from bot.replies import Reply, Text
from bot.services import freetext

YEARLESS_WINDOW = timedelta(days=183)  # "about six months": how far ahead a bare 12-01 may be


class Yearless(StrEnum):
    UPCOMING = "upcoming"  # today or later, within YEARLESS_WINDOW of the anchor
    NEAREST = "nearest"  # the closest to the anchor, before or after


def with_year(day: date) -> Text:
    """``day`` shown with its year, whatever the current year is."""
    return Text("input.date_with_year", {"year": day.year, "day": day})


def month_day(month: int, day: int, anchor: date, rule: Yearless, typed: str) -> date:
    """The ``month``-``day`` a person means, seen from ``anchor`` (usually today)."""
    candidates = []
    for year in (anchor.year - 1, anchor.year, anchor.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:  # 02-29 outside a leap year, 13-01, 12-32
            continue
    if not candidates:
        raise InvalidInput("error.bad_date", value=freetext.echo(typed))
    if rule is Yearless.NEAREST:
        return min(candidates, key=lambda d: (abs((d - anchor).days), d))
    ahead = [d for d in candidates if anchor <= d <= anchor + YEARLESS_WINDOW]
    if ahead:
        return ahead[0]
    past = max((d for d in candidates if d < anchor), default=None)
    upcoming = min((d for d in candidates if d >= anchor), default=None)
    raise InvalidInput(
        "input.date_needs_year",
        value=freetext.echo(typed),
        past=with_year(past) if past else "-",
        next=with_year(upcoming) if upcoming else "-",
        example=(upcoming or anchor).isoformat(),
    )


# --- showing the year -------------------------------------------------------------------


_UNMARKED = (str, int, float, bool, type(None))  # kinds of parameter that hold no date


def _marked(value: Any, year: int) -> Any:
    """``value`` with its dates of another year than ``year`` marked; ``value`` itself
    (not a copy) when it holds none, which is nearly always."""
    kind = type(value)
    if kind in _UNMARKED:
        return value
    if kind is date:  # a datetime is not shown as a date
        return value if value.year == year else with_year(value)
    if isinstance(value, Text):
        if value.key == "input.date_with_year":
            return value
        params = mark_params(value.params, year)
        return value if params is value.params else Text(value.key, params)
    if isinstance(value, list | tuple):
        items = [_marked(item, year) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


def mark_params(params: dict[str, Any], year: int) -> dict[str, Any]:
    """``params`` with every date of another year than ``year`` shown with its year (the
    same dict when none is)."""
    changed: dict[str, Any] | None = None
    for key, value in params.items():
        marked = _marked(value, year)
        if marked is not value:
            if changed is None:
                changed = dict(params)
            changed[key] = marked
    return params if changed is None else changed


def mark_years(reply: Reply, today: date) -> Reply:
    """Show the year of every date in ``reply`` that is not in ``today``'s year."""
    reply.params = mark_params(reply.params, today.year)
    reply.lines = [_marked(line, today.year) for line in reply.lines]
    return reply


def mark_error(error: DomainError, today: date) -> DomainError:
    """The same for a refusal's parameters."""
    error.params = mark_params(error.params, today.year)
    return error


__all__ = [
    "YEARLESS_WINDOW",
    "Yearless",
    "mark_error",
    "mark_params",
    "mark_years",
    "month_day",
    "with_year",
]
