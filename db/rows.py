"""Plain-column reads at the Core level, for the queries every command runs.

``session.execute`` of a select passes through the ORM's compile and result layers even
when it names only columns: on a busy command that is a third of a query's cost. These
reads write the session's pending changes first (as the ORM's autoflush would, so a name
changed in the unit reads as changed) and run the statement on the session's connection,
in its transaction. The rows are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVarTuple

from sqlalchemy import CompoundSelect, Result, Select
from sqlalchemy.orm import Session

Ts = TypeVarTuple("Ts")


def plain_rows(
    session: Session,
    statement: Select[*Ts] | CompoundSelect[*Ts],
    params: Mapping[str, Any] | None = None,
) -> Result[*Ts]:
    """The rows of ``statement`` (plain columns, no mapped objects) in ``session``."""
    session.flush()  # (nothing to write: returns at once)
    return session.connection().execute(statement, params)
