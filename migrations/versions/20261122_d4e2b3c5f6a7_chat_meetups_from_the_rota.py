"""chat meetups started from the rota

Revision ID: d4e2b3c5f6a7
Revises: c3f1a2b4d5e6
Create Date: 2026-11-22 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e2b3c5f6a7"
down_revision: str | Sequence[str] | None = "c3f1a2b4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_meetup_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("rota_meetup_id", sa.Integer(), nullable=False),
        sa.Column("prompts", sa.JSON(), nullable=False),
        sa.Column("pace_minutes", sa.Integer(), nullable=False),
        sa.Column("nudge_half_time", sa.Boolean(), nullable=False),
        sa.Column("nudge_five_before", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("pace_minutes >= 0", name=op.f("ck_chat_meetup_plan_pace_not_negative")),
        sa.ForeignKeyConstraint(
            ["rota_meetup_id"],
            ["meetup.id"],
            name=op.f("fk_chat_meetup_plan_rota_meetup_id_meetup"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_meetup_plan")),
        sa.UniqueConstraint("rota_meetup_id", name=op.f("uq_chat_meetup_plan_rota_meetup_id")),
    )
    # SQLite adds a foreign key or a unique constraint by copying the table (batch mode).
    with op.batch_alter_table("chat_meetup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rota_meetup_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("stand_in", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_chat_meetup_rota_meetup_id"), ["rota_meetup_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_chat_meetup_rota_meetup_id_meetup"),
            "meetup",
            ["rota_meetup_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_meetup", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_chat_meetup_rota_meetup_id_meetup"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_chat_meetup_rota_meetup_id"), type_="unique")
        batch_op.drop_column("stand_in")
        batch_op.drop_column("rota_meetup_id")
    op.drop_table("chat_meetup_plan")
