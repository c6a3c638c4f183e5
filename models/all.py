"""Imports every model module so `Base.metadata` knows every table (alembic, tests)."""

from models import (
    actions,
    community,
    health_check,
    health_check_actions,
    health_probe,
    installations,
    lean_coffee,
    meetup,
    minutes,
    outbox,
    replays,
    rota,
    rota_reminders,
    scheduling,
    workspace_data,
)
from models.base import Base

__all__ = [
    "Base",
    "actions",
    "community",
    "health_check",
    "health_check_actions",
    "health_probe",
    "installations",
    "lean_coffee",
    "meetup",
    "minutes",
    "outbox",
    "replays",
    "rota",
    "rota_reminders",
    "scheduling",
    "workspace_data",
]
