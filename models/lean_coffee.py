"""Lean Coffee sessions, their topics, dot votes, "Keep going?" polls and takeaways."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class LeanCoffeeSession(Base):
    """One Lean Coffee in one channel. At most one per channel is not ended."""

    __tablename__ = "lean_coffee_session"
    __table_args__ = (
        # One running session per channel, held by the database itself.
        Index(
            "uq_lean_coffee_session_running",
            "team_id",
            "channel_id",
            unique=True,
            sqlite_where=text("status != 'ended'"),
            postgresql_where=text("status != 'ended'"),
        ),
        CheckConstraint("votes_per_person BETWEEN 1 AND 10", name="votes_per_person_range"),
        CheckConstraint("timebox_minutes BETWEEN 1 AND 60", name="timebox_range"),
        CheckConstraint("status IN ('collecting', 'discussing', 'ended')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    facilitator_id: Mapped[str] = mapped_column(String(32))
    started_by_id: Mapped[str] = mapped_column(String(32))
    votes_per_person: Mapped[int] = mapped_column(Integer)
    timebox_minutes: Mapped[int] = mapped_column(Integer)
    extension_minutes: Mapped[list[int]] = mapped_column(JSON)
    anonymous_topics: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="collecting")
    board_ts: Mapped[str | None] = mapped_column(String(32))
    # A digest of the board last drawn in Slack: a board whose state no longer matches is
    # redrawn by any process (`bot.jobs.lean_coffee.redraw_stale_boards`), so a redraw never
    # dies with the process that was to make it.
    board_drawn: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    voting_closed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class LeanCoffeeTopic(Base):
    __tablename__ = "lean_coffee_topic"
    __table_args__ = (
        CheckConstraint(
            "state IN ('open', 'discussing', 'discussed', 'withdrawn', 'merged')",
            name="state_known",
        ),
        Index("ix_lean_coffee_topic_session_state", "session_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lean_coffee_session.id", ondelete="CASCADE")
    )
    team_id: Mapped[str] = mapped_column(String(32))
    proposer_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")
    proposed_at: Mapped[datetime]
    # Where it came from when carried over from the channel's previous session.
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("lean_coffee_topic.id", ondelete="SET NULL")
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("lean_coffee_topic.id", ondelete="SET NULL")
    )
    # Fixed when voting closes: the order topics are discussed in.
    queue_position: Mapped[int | None] = mapped_column(Integer)
    votes_at_close: Mapped[int | None] = mapped_column(Integer)
    discussion_started_at: Mapped[datetime | None]
    discussion_ends_at: Mapped[datetime | None]
    discussion_finished_at: Mapped[datetime | None]
    # Which time-box is running: 0 for the first, 1 after the first extension, …
    round: Mapped[int] = mapped_column(Integer, default=0)


class LeanCoffeeVote(Base):
    """One dot. A person's dots in a session are numbered 1..budget, so the database
    itself refuses a dot beyond the budget even when two clicks race."""

    __tablename__ = "lean_coffee_vote"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", "slot"),
        CheckConstraint("slot >= 1", name="slot_positive"),
        Index("ix_lean_coffee_vote_topic", "topic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lean_coffee_session.id", ondelete="CASCADE")
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("lean_coffee_topic.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    slot: Mapped[int] = mapped_column(Integer)
    voted_at: Mapped[datetime]


class LeanCoffeePoll(Base):
    """A "Keep going?" poll, asked in the board's thread when a time-box ends."""

    __tablename__ = "lean_coffee_poll"
    __table_args__ = (UniqueConstraint("topic_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lean_coffee_session.id", ondelete="CASCADE")
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("lean_coffee_topic.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    decides_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class LeanCoffeePollVote(Base):
    __tablename__ = "lean_coffee_poll_vote"
    __table_args__ = (
        UniqueConstraint("poll_id", "user_id"),
        CheckConstraint("choice IN ('keep_going', 'either_way', 'move_on')", name="choice_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("lean_coffee_poll.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    choice: Mapped[str] = mapped_column(String(16))
    voted_at: Mapped[datetime]


class LeanCoffeeTakeaway(Base):
    """Something the group took away from a topic; with an owner it is an action."""

    __tablename__ = "lean_coffee_takeaway"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("lean_coffee_session.id", ondelete="CASCADE")
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("lean_coffee_topic.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    is_action: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    # An action is open until someone marks it done (see `bot.services.actions`).
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[str | None] = mapped_column(String(32))
