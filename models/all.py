"""Imports every model module so `Base.metadata` knows every table (alembic, tests)."""

from models import (
    actions,
    community,
    health_check,
    health_check_actions,
    health_check_jobs,
    lean_coffee,
    meetup,
    minutes,
    rota,
    rota_reminders,
    scheduling,
)
from models.base import Base

__all__ = [
    "Base",
    "actions",
    "community",
    "health_check",
    "health_check_actions",
    "health_check_jobs",
    "lean_coffee",
    "meetup",
    "minutes",
    "rota",
    "rota_reminders",
    "scheduling",
]
