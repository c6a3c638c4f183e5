"""Imports every model module so `Base.metadata` knows every table (alembic, tests)."""

from models import (
    community,
    health_check,
    health_check_jobs,
    lean_coffee,
    minutes,
    rota,
    rota_reminders,
    scheduling,
)
from models.base import Base

__all__ = [
    "Base",
    "community",
    "health_check",
    "health_check_jobs",
    "lean_coffee",
    "minutes",
    "rota",
    "rota_reminders",
    "scheduling",
]
