"""communities, meetup schedules and the facilitation rota

Revision ID: 998827cc2051
Revises: 4cf7087c8bf9
Create Date: 2026-11-22 02:14:18.126971
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "998827cc2051"
down_revision: str | Sequence[str] | None = "4cf7087c8bf9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community")),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_community_team_id_channel_id")),
    )
    op.create_table(
        "community_lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("added_by_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_community_lead_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_lead")),
        sa.UniqueConstraint(
            "community_id", "user_id", name=op.f("uq_community_lead_community_id_user_id")
        ),
    )
    op.create_table(
        "meetup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("facilitator_id", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'cancelled', 'held')", name=op.f("ck_meetup_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_meetup_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetup")),
        sa.UniqueConstraint(
            "community_id", "occurrence", name=op.f("uq_meetup_community_id_occurrence")
        ),
    )
    with op.batch_alter_table("meetup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meetup_community_starts", ["community_id", "starts_at"], unique=False
        )

    op.create_table(
        "meetup_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("week_of_month", sa.Integer(), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("reminder_minutes_before", sa.Integer(), nullable=False),
        sa.Column("announce_minutes_before", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "frequency IN ('weekly', 'monthly')", name=op.f("ck_meetup_schedule_frequency_known")
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 5 AND 480", name=op.f("ck_meetup_schedule_duration_range")
        ),
        sa.CheckConstraint(
            "every_weeks BETWEEN 1 AND 8", name=op.f("ck_meetup_schedule_every_weeks_range")
        ),
        sa.CheckConstraint(
            "week_of_month IN (1, 2, 3, 4, -1)", name=op.f("ck_meetup_schedule_week_of_month_known")
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_meetup_schedule_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_meetup_schedule_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetup_schedule")),
        sa.UniqueConstraint("community_id", name=op.f("uq_meetup_schedule_community_id")),
    )
    op.create_table(
        "rota_away",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_rota_away_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_rota_away_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_away")),
    )
    op.create_table(
        "rota_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_rota_member_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_member")),
        sa.UniqueConstraint(
            "community_id", "user_id", name=op.f("uq_rota_member_community_id_user_id")
        ),
    )
    op.create_table(
        "meetup_skip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meetup_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meetup_id"],
            ["meetup.id"],
            name=op.f("fk_meetup_skip_meetup_id_meetup"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetup_skip")),
        sa.UniqueConstraint("meetup_id", "user_id", name=op.f("uq_meetup_skip_meetup_id_user_id")),
    )
    op.create_table(
        "swap_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meetup_id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.String(length=32), nullable=False),
        sa.Column("to_user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled')",
            name=op.f("ck_swap_request_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["meetup_id"],
            ["meetup.id"],
            name=op.f("fk_swap_request_meetup_id_meetup"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_request")),
    )


def downgrade() -> None:
    op.drop_table("swap_request")
    op.drop_table("meetup_skip")
    op.drop_table("rota_member")
    op.drop_table("rota_away")
    op.drop_table("meetup_schedule")
    with op.batch_alter_table("meetup", schema=None) as batch_op:
        batch_op.drop_index("ix_meetup_community_starts")

    op.drop_table("meetup")
    op.drop_table("community_lead")
    op.drop_table("community")
