"""Actions can be done; due-date reminders for actions are recorded

Revision ID: 402c7dabc776
Revises: af39ad797302
Create Date: 2026-11-22 03:41:44.942947
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "402c7dabc776"
down_revision: str | Sequence[str] | None = "af39ad797302"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("sent_to", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_reminder")),
        sa.UniqueConstraint(
            "source",
            "action_id",
            "due_date",
            name=op.f("uq_action_reminder_source_action_id_due_date"),
        ),
    )
    with op.batch_alter_table("lean_coffee_takeaway", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("done_by_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lean_coffee_takeaway", schema=None) as batch_op:
        batch_op.drop_column("done_by_id")
        batch_op.drop_column("done_at")

    op.drop_table("action_reminder")
