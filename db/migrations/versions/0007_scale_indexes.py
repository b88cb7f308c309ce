"""scale: indexes for the start-up catch-up (duty runs by date, each group's latest run)
and for the deliverer's scan of undelivered outbox rows (a partial index)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDELIVERED = "sent_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    op.create_index("ix_duty_runs_local_date", "duty_runs", ["local_date"])
    op.create_index("ix_duty_runs_group_ran", "duty_runs", ["group_id", "ran_at"])
    op.create_index(
        "ix_outbox_undelivered",
        "outbox",
        ["id"],
        sqlite_where=sa.text(UNDELIVERED),
        postgresql_where=sa.text(UNDELIVERED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_undelivered", table_name="outbox")
    op.drop_index("ix_duty_runs_group_ran", table_name="duty_runs")
    op.drop_index("ix_duty_runs_local_date", table_name="duty_runs")
