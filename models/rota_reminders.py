"""What hearth has told people about a meetup: reminders, announcements, step-in asks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class RotaNotice(Base):
    """One message about one meetup at one time, owed once.

    Keyed by the time the meetup starts, so a meetup moved after its reminder went out is
    reminded about again at its new time. `done_at` is set when the message was owed through
    the outbox (which sends it, retrying as needed, and tells the notice `sent` with its
    `message_ts`, or `failed`), or when there was nothing to send (too late to be useful,
    or nobody to tell). `sent_to` is whom it was owed to (a person, or the channel).
    """

    __tablename__ = "rota_notice"
    __table_args__ = (
        UniqueConstraint("meetup_id", "kind", "starts_at", "about_id", "to_id"),
        CheckConstraint(
            "kind IN ('reminder', 'announcement', 'step_in', 'overload')", name="kind_known"
        ),
        Index("ix_rota_notice_open", "kind", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("meetup.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    # Overload notices: who is overloaded (`about_id`) and which lead is told (`to_id`).
    about_id: Mapped[str] = mapped_column(String(32), default="")
    to_id: Mapped[str] = mapped_column(String(32), default="")
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # sent, late, nobody, …
    sent_to: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))


class RotaOverload(Base):
    """Someone is facilitating far more than their share. The row exists while that lasts,
    so the leads hear about it once each time someone crosses the line."""

    __tablename__ = "rota_overload"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime]
