"""Claims that make each scheduled firing happen exactly once, across restarts and processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class JobClaim(Base):
    """Whoever inserts the row for (job, occurrence) first is the one who acts on it."""

    __tablename__ = "job_claim"
    __table_args__ = (UniqueConstraint("job_key", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_key: Mapped[str] = mapped_column(String(200))
    occurrence: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
