"""A channel's community of practice: who leads it. Every later feature hangs off it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Community(Base):
    __tablename__ = "community"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class CommunityLead(Base):
    """Someone who may change the community's set-up (besides workspace admins)."""

    __tablename__ = "community_lead"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    added_by_id: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime]
