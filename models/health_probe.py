"""One row `/healthz` writes to, so a health check notices a database that can be read but
not written (a full disk, a read-only failover), not only one that cannot be reached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class HealthProbe(Base):
    __tablename__ = "health_probe"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    written_at: Mapped[datetime]
