"""Numbers as people read them in messages: positional, never with an exponent."""

from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["format_number"]


def format_number(value: float, *, grouped: bool = False) -> str:
    """``1000000`` → ``1000000`` (``1,000,000`` when ``grouped``), ``0.1`` → ``0.1``,
    ``1e-07`` → ``0.0000001``: positional, with the fewest digits that read back the same."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    sign = "-" if value < 0 else ""
    if isinstance(value, int) or value == int(value):
        whole, fraction = str(abs(int(value))), ""
    else:
        text = format(Decimal(repr(abs(value))), "f")
        whole, _, fraction = text.partition(".")
    if grouped:
        whole = f"{int(whole):,}"
    return sign + whole + (f".{fraction}" if fraction else "")
