"""Meetup actions can be marked done; actions recorded after a health check

Revision ID: c3f1a2b4d5e6
Revises: b6620e572317
Create Date: 2026-11-22 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f1a2b4d5e6"
down_revision: str | Sequence[str] | None = "b6620e572317"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_meetup_takeaway", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("done_by_id", sa.String(length=32), nullable=True))

    op.create_table(
        "health_check_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["health_check.id"],
            name=op.f("fk_health_check_action_check_id_health_check"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check_action")),
    )


def downgrade() -> None:
    op.drop_table("health_check_action")

    with op.batch_alter_table("chat_meetup_takeaway", schema=None) as batch_op:
        batch_op.drop_column("done_by_id")
        batch_op.drop_column("done_at")
