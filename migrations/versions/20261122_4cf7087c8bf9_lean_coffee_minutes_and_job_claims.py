"""lean coffee, minutes and job claims

Revision ID: 4cf7087c8bf9
Revises:
Create Date: 2026-11-22 02:05:08.780154
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4cf7087c8bf9"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_key", sa.String(length=200), nullable=False),
        sa.Column("occurrence", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_claim")),
        sa.UniqueConstraint("job_key", "occurrence", name=op.f("uq_job_claim_job_key_occurrence")),
    )
    op.create_table(
        "lean_coffee_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("facilitator_id", sa.String(length=32), nullable=False),
        sa.Column("started_by_id", sa.String(length=32), nullable=False),
        sa.Column("votes_per_person", sa.Integer(), nullable=False),
        sa.Column("timebox_minutes", sa.Integer(), nullable=False),
        sa.Column("extension_minutes", sa.JSON(), nullable=False),
        sa.Column("anonymous_topics", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("board_ts", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voting_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('collecting', 'discussing', 'ended')",
            name=op.f("ck_lean_coffee_session_status_known"),
        ),
        sa.CheckConstraint(
            "timebox_minutes BETWEEN 1 AND 60", name=op.f("ck_lean_coffee_session_timebox_range")
        ),
        sa.CheckConstraint(
            "votes_per_person BETWEEN 1 AND 10",
            name=op.f("ck_lean_coffee_session_votes_per_person_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lean_coffee_session")),
    )
    with op.batch_alter_table("lean_coffee_session", schema=None) as batch_op:
        batch_op.create_index(
            "uq_lean_coffee_session_running",
            ["team_id", "channel_id"],
            unique=True,
            sqlite_where=sa.text("status != 'ended'"),
            postgresql_where=sa.text("status != 'ended'"),
        )

    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("facilitator_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_minutes_source_source_id")),
    )
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_minutes_team_channel_held", ["team_id", "channel_id", "held_on"], unique=False
        )

    op.create_table(
        "lean_coffee_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("proposer_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("carried_from_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("queue_position", sa.Integer(), nullable=True),
        sa.Column("votes_at_close", sa.Integer(), nullable=True),
        sa.Column("discussion_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discussion_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discussion_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'discussing', 'discussed', 'withdrawn', 'merged')",
            name=op.f("ck_lean_coffee_topic_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["lean_coffee_topic.id"],
            name=op.f("fk_lean_coffee_topic_carried_from_id_lean_coffee_topic"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["lean_coffee_topic.id"],
            name=op.f("fk_lean_coffee_topic_merged_into_id_lean_coffee_topic"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lean_coffee_session.id"],
            name=op.f("fk_lean_coffee_topic_session_id_lean_coffee_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lean_coffee_topic")),
    )
    with op.batch_alter_table("lean_coffee_topic", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lean_coffee_topic_session_state", ["session_id", "state"], unique=False
        )

    op.create_table(
        "lean_coffee_poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("post_attempts", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decides_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lean_coffee_session.id"],
            name=op.f("fk_lean_coffee_poll_session_id_lean_coffee_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["lean_coffee_topic.id"],
            name=op.f("fk_lean_coffee_poll_topic_id_lean_coffee_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lean_coffee_poll")),
        sa.UniqueConstraint("topic_id", "round", name=op.f("uq_lean_coffee_poll_topic_id_round")),
    )
    op.create_table(
        "lean_coffee_takeaway",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("is_action", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lean_coffee_session.id"],
            name=op.f("fk_lean_coffee_takeaway_session_id_lean_coffee_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["lean_coffee_topic.id"],
            name=op.f("fk_lean_coffee_takeaway_topic_id_lean_coffee_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lean_coffee_takeaway")),
    )
    op.create_table(
        "lean_coffee_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("slot >= 1", name=op.f("ck_lean_coffee_vote_slot_positive")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lean_coffee_session.id"],
            name=op.f("fk_lean_coffee_vote_session_id_lean_coffee_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["lean_coffee_topic.id"],
            name=op.f("fk_lean_coffee_vote_topic_id_lean_coffee_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lean_coffee_vote")),
        sa.UniqueConstraint(
            "session_id",
            "user_id",
            "slot",
            name=op.f("uq_lean_coffee_vote_session_id_user_id_slot"),
        ),
    )
    with op.batch_alter_table("lean_coffee_vote", schema=None) as batch_op:
        batch_op.create_index("ix_lean_coffee_vote_topic", ["topic_id"], unique=False)

    op.create_table(
        "lean_coffee_poll_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "choice IN ('keep_going', 'either_way', 'move_on')",
            name=op.f("ck_lean_coffee_poll_vote_choice_known"),
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["lean_coffee_poll.id"],
            name=op.f("fk_lean_coffee_poll_vote_poll_id_lean_coffee_poll"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lean_coffee_poll_vote")),
        sa.UniqueConstraint(
            "poll_id", "user_id", name=op.f("uq_lean_coffee_poll_vote_poll_id_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("lean_coffee_poll_vote")
    with op.batch_alter_table("lean_coffee_vote", schema=None) as batch_op:
        batch_op.drop_index("ix_lean_coffee_vote_topic")

    op.drop_table("lean_coffee_vote")
    op.drop_table("lean_coffee_takeaway")
    op.drop_table("lean_coffee_poll")
    with op.batch_alter_table("lean_coffee_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_lean_coffee_topic_session_state")

    op.drop_table("lean_coffee_topic")
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.drop_index("ix_minutes_team_channel_held")

    op.drop_table("minutes")
    with op.batch_alter_table("lean_coffee_session", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_lean_coffee_session_running",
            sqlite_where=sa.text("status != 'ended'"),
            postgresql_where=sa.text("status != 'ended'"),
        )

    op.drop_table("lean_coffee_session")
    op.drop_table("job_claim")
