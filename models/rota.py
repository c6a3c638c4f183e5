"""A community's meetup schedule, its meetups, and the facilitation rota."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class MeetupSchedule(Base):
    """When a community meets. `revision` changes with every edit, so reminders planned
    for an older version of the schedule are recognised as stale and never fire."""

    __tablename__ = "meetup_schedule"
    __table_args__ = (
        UniqueConstraint("community_id"),
        CheckConstraint("frequency IN ('weekly', 'monthly')", name="frequency_known"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("every_weeks BETWEEN 1 AND 8", name="every_weeks_range"),
        CheckConstraint("week_of_month IN (1, 2, 3, 4, -1)", name="week_of_month_known"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    frequency: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int] = mapped_column(Integer)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    week_of_month: Mapped[int] = mapped_column(Integer, default=1)
    at_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", wall clock in time_zone
    time_zone: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    format: Mapped[str] = mapped_column(String(16), default="lean_coffee")
    reminder_minutes_before: Mapped[int] = mapped_column(Integer, default=2 * 24 * 60)
    announce_minutes_before: Mapped[int] = mapped_column(Integer, default=60)
    created_by_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, default=1)


class Meetup(Base):
    """One meetup. `occurrence` is the schedule slot it came from (unique per community),
    `starts_at` when it actually starts (a meetup can be moved without touching the
    schedule). A facilitator is pinned only by a swap or a confirmation; otherwise the rota
    decides who is next."""

    __tablename__ = "meetup"
    __table_args__ = (
        UniqueConstraint("community_id", "occurrence"),
        CheckConstraint("status IN ('planned', 'cancelled', 'held')", name="status_known"),
        Index("ix_meetup_community_starts", "community_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    occurrence: Mapped[datetime]
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    facilitator_id: Mapped[str | None] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class RotaMember(Base):
    __tablename__ = "rota_member"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    joined_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RotaAway(Base):
    """Someone is away between two dates (inclusive) and is passed over for meetups then."""

    __tablename__ = "rota_away"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class MeetupSkip(Base):
    """Someone passed on facilitating one meetup; they keep their place for the next."""

    __tablename__ = "meetup_skip"
    __table_args__ = (UniqueConstraint("meetup_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("meetup.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class SwapRequest(Base):
    __tablename__ = "swap_request"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("meetup.id", ondelete="CASCADE"))
    from_user_id: Mapped[str] = mapped_column(String(32))
    to_user_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
