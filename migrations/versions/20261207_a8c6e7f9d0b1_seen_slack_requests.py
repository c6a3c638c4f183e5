"""seen slack requests

Requests (by signature) and events (by `event_id`) already received, so several hearth
processes sharing PostgreSQL act on a replayed request or a retried event only once.

Revision ID: a8c6e7f9d0b1
Revises: f6a4d5e7b8c9
Create Date: 2026-12-07 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8c6e7f9d0b1"
down_revision: str | Sequence[str] | None = "f6a4d5e7b8c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_slack_request",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seen_slack_request")),
    )
    with op.batch_alter_table("seen_slack_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seen_slack_request_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("seen_slack_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_slack_request_expires_at"))
    op.drop_table("seen_slack_request")
