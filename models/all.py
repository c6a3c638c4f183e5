"""Imports every model module so `Base.metadata` knows every table (alembic, tests)."""

from models import lean_coffee, minutes, scheduling
from models.base import Base

__all__ = ["Base", "lean_coffee", "minutes", "scheduling"]
