"""Alembic environment for hearth: async engines, SQLite batch mode, every model's tables.

`bot.migrate` passes an open connection in `config.attributes["connection"]` (see its
docstring for why); without one, this file opens its own with `asyncio.run()`, which is what
a plain `alembic` command line would do.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, TypeDecorator

import models.all
from bot.config import DEFAULT_DATABASE_URL
from bot.migrate import create_migration_engine

config = context.config
target_metadata = models.all.Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write hearth's own column types (such as `UTCDateTime`) as the SQLAlchemy type they store.

    A revision then depends only on SQLAlchemy, so renaming or moving a model type later
    cannot break an old migration.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy.sql"):
            return f"sa.{impl!r}"
    return False


def do_run_migrations(connection: Connection) -> None:
    on_version_apply: Callable[[Any], None] | None = config.attributes.get("on_version_apply")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode writes migrations that do that.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        on_version_apply=(
            (lambda *, step, **_: on_version_apply(step)) if on_version_apply else None
        ),
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(database_url: str) -> None:
    engine = create_migration_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def database_url() -> str:
    return (
        config.attributes.get("database_url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


if context.is_offline_mode():
    raise SystemExit("hearth's migrations run against a database; offline (--sql) mode is off.")

connection = config.attributes.get("connection")
if connection is not None:
    do_run_migrations(connection)
else:
    asyncio.run(run_async_migrations(database_url()))
