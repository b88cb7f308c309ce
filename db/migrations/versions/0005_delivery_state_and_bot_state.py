"""delivery state: outbox backoff, expiry, permanent failures, Discord ids and parent
posts; groups' delivery problem, channel setter and pause; bot_state

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )
    # "groups" is referenced by every table: add its columns in place (no table rebuild)
    with op.batch_alter_table("groups", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("channel_set_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("delivery_problem", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_problem_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("paused_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("expires_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("failed_at", db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("failure", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("discord_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("thread_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_parent_id_outbox"), "outbox", ["parent_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_parent_id_outbox"), type_="foreignkey")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("thread_id")
        batch_op.drop_column("discord_message_id")
        batch_op.drop_column("failure")
        batch_op.drop_column("failed_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("groups", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("delivery_problem_at")
        batch_op.drop_column("delivery_problem")
        batch_op.drop_column("channel_set_by")
    op.drop_table("bot_state")
