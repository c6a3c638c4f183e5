"""Minutes of every meeting format, kept so a community can look back (and search later)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Minutes(Base):
    __tablename__ = "minutes"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_minutes_team_channel_held", "team_id", "channel_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))  # "lean_coffee", later "meetup", …
    source_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    facilitator_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    # What search matches words against: the case-folded text of every searchable piece of
    # the body, one piece a line. Filled by `bot.services.minutes` whenever a row is stored or
    # its body changes; NULL only for rows written some other way, which search still reads.
    search_text: Mapped[str | None] = mapped_column(Text)
