"""Numbers people give: the ranges they must fall in, and how numbers are shown to people.

Every id and count a command takes is checked against its range before it reaches the
database, with a message that names the option and the range: ids start at 1 and fit
their column (the numbers the bot gives out, swap requests and progress entries, are
``INTEGER``: 32 bits on PostgreSQL; problem and Discord ids are ``BIGINT``: 64 bits).
Numbers in messages are written for people: no exponent (``1e+06``), thousands grouped in
ranges, and never rounded so far that a value and its bound read the same.
"""

from __future__ import annotations

from bot.errors import InvalidInput
from bot.i18n.numbers import format_number

MAX_ROW_ID = 2**31 - 1  # the numbers the bot gives out (INTEGER keys); they start at 1
MAX_BIG_ID = 2**63 - 1  # problem numbers and Discord ids (BIGINT)
MAX_SCORE = 1_000_000  # any score: a finite number within ±MAX_SCORE

__all__ = ["MAX_BIG_ID", "MAX_ROW_ID", "MAX_SCORE", "big_id", "check_range", "format_number"]


def check_range(name: object, value: float, low: float, high: float) -> None:
    """Refuse ``value`` outside [low, high], naming the option (``name``: its name, or an
    ``OptionRef`` that each front end shows as its users type it) and its range."""
    if low <= value <= high:
        return
    raise InvalidInput(
        "input.out_of_range",
        name=name,
        value=format_number(value),
        low=format_number(low, grouped=True),
        high=format_number(high, grouped=True),
    )


def big_id(name: object, value: int) -> int:
    """A problem's or a person's number as a command gave it: 1 up to BIGINT's largest."""
    check_range(name, value, 1, MAX_BIG_ID)
    return value
