"""What hearth has told an action's owner: the reminder on its due date, owed once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ActionReminder(Base):
    """One due-date reminder for one action, keyed by where the action was recorded
    (`source`, e.g. "lean_coffee"), its id there and the due date, so an action whose due
    date moves is reminded again on the new date. `done_at` is set when its message was owed
    through the outbox (`outcome` "owed", to `sent_to`) or it was not needed; the outbox then
    sets `outcome` to "sent" (with `message_ts`) or "failed" (its outbox row says why)."""

    __tablename__ = "action_reminder"
    __table_args__ = (UniqueConstraint("source", "action_id", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    action_id: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # owed, sent, failed, late, not_needed
    outcome: Mapped[str | None] = mapped_column(String(16))
    sent_to: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
