"""What the scheduler has sent for each health check: the poll, reminder rounds, the results.

A row per message (or round of reminder DMs) counts failed attempts, so each attempt can be
claimed under its number and the next one planned after a back-off; `done_at` is set once it
went out or was given up on. While a reminder round is being sent, who has been reminded is
kept so that a retry never DMs anyone twice; those rows go when the round is done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class HealthCheckDelivery(Base):
    """One scheduled message about one check: its poll (`round` 0), the n-th round of
    reminders (`round` n), or its results (`round` 0)."""

    __tablename__ = "health_check_delivery"
    __table_args__ = (
        UniqueConstraint("check_id", "kind", "round"),
        CheckConstraint("kind IN ('post', 'remind', 'results')", name="kind_known"),
        Index("ix_health_check_delivery_open", "kind", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("health_check.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # sent, late, failed, …


class HealthCheckReminded(Base):
    """Someone was sent (or could never be sent) this round's reminder.

    `person` is the Slack user id in a named check and, in an anonymous one, the person's
    keyed hash under the check's secret, so the table names nobody once the secret is gone.
    There is no timestamp. The rows are deleted when the round is done.
    """

    __tablename__ = "health_check_reminded"
    __table_args__ = (UniqueConstraint("delivery_id", "person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("health_check_delivery.id", ondelete="CASCADE")
    )
    person: Mapped[str] = mapped_column(String(64))
