"""What hearth has told an action's owner: the reminder on its due date, sent once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ActionReminder(Base):
    """One due-date reminder for one action, keyed by where the action was recorded
    (`source`, e.g. "lean_coffee"), its id there and the due date, so an action whose due
    date moves is reminded again on the new date. Failed attempts are counted (each attempt
    is claimed under its number), which plans the next one after a back-off; `done_at` is
    set when it was sent or given up on."""

    __tablename__ = "action_reminder"
    __table_args__ = (UniqueConstraint("source", "action_id", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    action_id: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # sent, late, failed, not_needed
    sent_to: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
