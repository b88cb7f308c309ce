"""drop groups.admin_role_id (never read: admins come from Manage Server, the configured
admin role name, or group_admins rows)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ALTER TABLE (SQLite 3.35 and newer drop a column in place): rebuilding "groups",
# which every other table references, would trip SQLite's foreign-key checks.


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("admin_role_id")


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("admin_role_id", sa.BigInteger(), nullable=True))
