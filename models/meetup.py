"""Time-boxed chat meetups: a channel meets in threads, one per prompt, for a set time.

The meetup row holds the time-box; every timed step (a prompt's release, a nudge, the close)
is a `ChatMeetupTimer` row with a due time, so the scheduler can rebuild its timers from the
database after a restart and each step is claimed and done once. What the meetup posts is
owed through the outbox (`models.outbox`); where it landed is kept here (`opening_ts`, a
prompt's `message_ts`, `minutes_ts`).
"""

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
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ChatMeetup(Base):
    """One chat meetup in one channel. At most one per channel is running."""

    __tablename__ = "chat_meetup"
    __table_args__ = (
        Index(
            "uq_chat_meetup_running",
            "team_id",
            "channel_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        CheckConstraint("length_minutes BETWEEN 5 AND 480", name="length_range"),
        CheckConstraint("status IN ('running', 'ended')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    facilitator_id: Mapped[str] = mapped_column(String(32))
    started_by_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    length_minutes: Mapped[int] = mapped_column(Integer)
    pace_minutes: Mapped[int] = mapped_column(Integer, default=0)  # 0: all prompts at once
    opening_ts: Mapped[str | None] = mapped_column(String(32))
    minutes_ts: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[str | None] = mapped_column(String(32))
    # The rota's scheduled meetup this one is (it starts by itself, once: hence unique).
    rota_meetup_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetup.id", ondelete="SET NULL"), unique=True
    )
    # Nobody on the rota was free, so a lead facilitates (the opening message says so).
    stand_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ChatMeetupPlan(Base):
    """The prompts, pace and nudges chosen ahead for a rota meetup held as a chat; its
    length is the schedule's. Without one, the meetup opens with general prompts."""

    __tablename__ = "chat_meetup_plan"
    __table_args__ = (CheckConstraint("pace_minutes >= 0", name="pace_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rota_meetup_id: Mapped[int] = mapped_column(
        ForeignKey("meetup.id", ondelete="CASCADE"), unique=True
    )
    prompts: Mapped[list[str]] = mapped_column(JSON)
    pace_minutes: Mapped[int] = mapped_column(Integer, default=0)
    nudge_half_time: Mapped[bool] = mapped_column(Boolean, default=True)
    nudge_five_before: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class ChatMeetupPrompt(Base):
    """A prompt; once released, its message's thread is where people discuss it."""

    __tablename__ = "chat_meetup_prompt"
    __table_args__ = (UniqueConstraint("meetup_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("chat_meetup.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(1000))
    release_at: Mapped[datetime]
    message_ts: Mapped[str | None] = mapped_column(String(32), index=True)


class ChatMeetupTimer(Base):
    """A timed step: `release` (of prompt `prompt_id`), `nudge` or `close`.

    `done_at` is set by whoever claims it, in the transaction that owes what it says through
    the outbox; the steps still to come when the meetup ends are deleted, so a release with
    `done_at` is a prompt that was released."""

    __tablename__ = "chat_meetup_timer"
    __table_args__ = (
        CheckConstraint("kind IN ('release', 'nudge', 'close')", name="kind_known"),
        Index("ix_chat_meetup_timer_pending", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("chat_meetup.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    prompt_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_meetup_prompt.id", ondelete="CASCADE")
    )
    minutes_before_end: Mapped[int | None] = mapped_column(Integer)  # nudges
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class ChatMeetupReply(Base):
    """A reply in a prompt's thread, heard while the meetup ran.

    `author_id` is None for anonymous posts: nothing about who sent them is stored; until
    Slack has taken one, its `message_ts` is a placeholder ("owed:…"). Replies marked off the
    record keep no text, only that someone spoke (for airtime)."""

    __tablename__ = "chat_meetup_reply"
    __table_args__ = (UniqueConstraint("prompt_id", "message_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("chat_meetup.id", ondelete="CASCADE"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("chat_meetup_prompt.id", ondelete="CASCADE"))
    message_ts: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    off_record: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class ChatMeetupTakeaway(Base):
    """A takeaway or (with an owner) an action added to a meetup's minutes."""

    __tablename__ = "chat_meetup_takeaway"

    id: Mapped[int] = mapped_column(primary_key=True)
    meetup_id: Mapped[int] = mapped_column(ForeignKey("chat_meetup.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(1000))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    # An action is open until someone marks it done (see `bot.services.actions`).
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[str | None] = mapped_column(String(32))
