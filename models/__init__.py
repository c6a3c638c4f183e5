"""SQLAlchemy models; importing this package registers every table on `Base.metadata`."""

from models.base import Base

__all__ = ["Base"]
