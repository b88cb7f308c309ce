"""review quiz: members' card schedule, answers, and quiz state (current card, nudge)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quiz_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=80), nullable=False),
        sa.Column("box", sa.Integer(), nullable=False),
        sa.Column("recalls", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("last_answered_on", sa.Date(), nullable=True),
        sa.Column("learned_on", sa.Date(), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_quiz_cards_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_cards")),
        sa.UniqueConstraint("member_id", "card_id", name=op.f("uq_quiz_cards_member_id_card_id")),
    )
    with op.batch_alter_table("quiz_cards", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_cards_member_due", ["member_id", "due_on"], unique=False)
    op.create_table(
        "quiz_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=80), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("knew", sa.Boolean(), nullable=False),
        sa.Column("box_after", sa.Integer(), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_quiz_reviews_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_reviews")),
    )
    with op.batch_alter_table("quiz_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quiz_reviews_member_day", ["member_id", "local_date"], unique=False
        )
    op.create_table(
        "quiz_members",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("current_card_id", sa.String(length=80), nullable=True),
        sa.Column("revealed", sa.Boolean(), nullable=False),
        sa.Column("nudge_time", sa.Time(), nullable=True),
        sa.Column("nudged_on", sa.Date(), nullable=True),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_quiz_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_quiz_members")),
    )


def downgrade() -> None:
    op.drop_table("quiz_members")
    with op.batch_alter_table("quiz_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_reviews_member_day")
    op.drop_table("quiz_reviews")
    with op.batch_alter_table("quiz_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_cards_member_due")
    op.drop_table("quiz_cards")
