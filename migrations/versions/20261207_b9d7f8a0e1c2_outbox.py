"""outbox

One table for every message hearth owes a channel or a person (`models.outbox`). Lean Coffee
polls, rota notices, action reminders, meetup timers and health checks owe their messages
through it, so their own counts of attempts (and health checks' delivery tables) go. And
`health_probe`: the one row `/healthz` writes, to notice a database that can no longer be
written. `lean_coffee_session.board_drawn`: which version of a board is in Slack, so any
process redraws a stale one. Saved time zones that only the machine knows (`localtime`,
`Factory`, `posix/…`), which hearth no longer accepts, become UTC.

Revision ID: b9d7f8a0e1c2
Revises: a8c6e7f9d0b1
Create Date: 2026-12-07 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b9d7f8a0e1c2"
down_revision: str | Sequence[str] | None = "a8c6e7f9d0b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("thread_key", sa.String(length=200), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("broadcast", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("maybe_sent", sa.Boolean(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("sent_channel", sa.String(length=32), nullable=True),
        sa.Column("sent_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed', 'withdrawn')",
            name=op.f("ck_outbox_message_state_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_outbox_message_team_id_key")),
    )
    op.create_index(
        "ix_outbox_message_due", "outbox_message", ["state", "next_attempt_at"], unique=False
    )
    with op.batch_alter_table("lean_coffee_poll", schema=None) as batch_op:
        batch_op.drop_column("post_attempts")
    with op.batch_alter_table("lean_coffee_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("board_drawn", sa.String(length=64), nullable=True))
    with op.batch_alter_table("health_check", schema=None) as batch_op:
        batch_op.drop_column("post_attempts")
    for table in ("rota_notice", "action_reminder"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("last_failed_at")
            batch_op.drop_column("attempts")
    with op.batch_alter_table("chat_meetup_timer", schema=None) as batch_op:
        batch_op.drop_column("attempts")
    op.drop_table("health_check_reminded")
    with op.batch_alter_table("health_check_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_health_check_delivery_open")
    op.drop_table("health_check_delivery")
    for table in ("meetup_schedule", "health_check_setup"):
        op.execute(
            f"UPDATE {table} SET time_zone = 'UTC' WHERE time_zone IN "
            "('localtime', 'Factory', 'posixrules') OR time_zone LIKE 'posix/%' "
            "OR time_zone LIKE 'right/%'"
        )
    op.create_table(
        "health_probe",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_probe")),
    )


def downgrade() -> None:
    op.drop_table("health_probe")
    with op.batch_alter_table("lean_coffee_session", schema=None) as batch_op:
        batch_op.drop_column("board_drawn")
    op.create_table(
        "health_check_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "kind IN ('post', 'remind', 'results')",
            name=op.f("ck_health_check_delivery_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["health_check.id"],
            name=op.f("fk_health_check_delivery_check_id_health_check"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check_delivery")),
        sa.UniqueConstraint(
            "check_id", "kind", "round", name=op.f("uq_health_check_delivery_check_id_kind_round")
        ),
    )
    with op.batch_alter_table("health_check_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_health_check_delivery_open", ["kind", "done_at"], unique=False)
    op.create_table(
        "health_check_reminded",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["health_check_delivery.id"],
            name=op.f("fk_health_check_reminded_delivery_id_health_check_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check_reminded")),
        sa.UniqueConstraint(
            "delivery_id", "person", name=op.f("uq_health_check_reminded_delivery_id_person")
        ),
    )
    with op.batch_alter_table("chat_meetup_timer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    for table in ("rota_notice", "action_reminder"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("attempts", sa.Integer(), server_default="0", nullable=False)
            )
            batch_op.add_column(
                sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True)
            )
    with op.batch_alter_table("health_check", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("lean_coffee_poll", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False)
        )
    op.drop_index("ix_outbox_message_due", table_name="outbox_message")
    op.drop_table("outbox_message")
