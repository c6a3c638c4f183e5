"""A workspace that removed hearth, and when its data is to be deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class WorkspaceDeparture(Base):
    """Slack told hearth it was uninstalled from `team_id` (or that its bot token was revoked)
    at `left_at`. The workspace's data is kept until `forget_at` (the retention period later),
    so a reinstall within it keeps the community's history; then it is deleted
    (`bot.services.workspace_data`). A reinstall removes this row."""

    __tablename__ = "workspace_departure"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # app_uninstalled, tokens_revoked
    left_at: Mapped[datetime]
    forget_at: Mapped[datetime]
