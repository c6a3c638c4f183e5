"""Actions a community records after talking over a health check's results."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class HealthCheckAction(Base):
    """Something a person took on after a health check, recorded from its results message.

    It always has an owner (the form asks for one) and maybe a due date; it stays open until
    someone marks it done (see `bot.services.actions`), and goes with its check."""

    __tablename__ = "health_check_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    check_id: Mapped[int] = mapped_column(ForeignKey("health_check.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(1000))
    owner_id: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[str | None] = mapped_column(String(32))
