"""Requests hearth has already taken in, remembered briefly so a repeat is not acted on twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SeenSlackRequest(Base):
    """One request (by its signature) or one event (by its `event_id`) already received.

    Several hearth processes behind a load balancer share PostgreSQL; whichever inserts the
    key first handles the request, the others answer Slack and drop it. Rows are deleted once
    `expires_at` passes: by then Slack's signature window (or its retries) is over."""

    __tablename__ = "seen_slack_request"

    # A SHA-256 of the kind and the value: fixed length, and no request content at rest.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
