"""The outbox: every message hearth owes a channel or a person, recorded before it is sent.

A row is written in the same transaction as the change that makes the message owed (a
session started, a time-box ended, a meetup came due), so the message can be neither lost (it
is in the database once the change is) nor doubled (`key` is unique per workspace, and a send
whose outcome is unknown is looked for in Slack before it is tried again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OutboxMessage(Base):
    """One message owed: where it goes, what it says, and how sending it has gone.

    `thread_key` names another message of the outbox this one replies under (its `ts` is only
    known once that one is sent); `thread_ts` a message already in Slack. `purpose` and
    `subject_id` say whose record learns where the message landed (a board's ts, say).
    `maybe_sent` is set while an attempt is under way and cleared when Slack answered that it
    did not post; a message left with it set (the answer timed out, Slack answered 5xx, the
    process died) is looked for in Slack before it is sent again.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        CheckConstraint("state IN ('pending', 'sent', 'failed', 'withdrawn')", name="state_known"),
        Index("ix_outbox_message_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))  # a channel id, or a user id for a DM
    thread_key: Mapped[str | None] = mapped_column(String(200))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    broadcast: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    maybe_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    give_up_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_channel: Mapped[str | None] = mapped_column(String(32))
    sent_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
