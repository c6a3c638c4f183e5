"""The migrations build exactly the schema the models describe, and take it down again.

Runs on SQLite and PostgreSQL (the `empty_database` fixture), from inside the test's running
event loop, which is also how hearth migrates at start-up.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

import models.all
from bot.db import create_engine
from bot.migrate import current, downgrade, heads, upgrade


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, models.all.Base.metadata)


def _describe(difference: Any) -> str:
    """One line per difference, e.g. `add_table job_claim` or `modify_type minutes.title`."""
    if isinstance(difference, list):  # column changes come as a list of tuples
        return "; ".join(_describe(item) for item in difference)
    operation, *details = difference
    if operation in ("add_column", "remove_column"):
        _schema, table, column = details
        return f"{operation} {table}.{column.name}"
    if operation.startswith("modify_"):
        _schema, table, column = details[:3]
        return f"{operation} {table}.{column}"
    named = details[0]
    return f"{operation} {getattr(named, 'name', named)}"


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(database_url: str, fn: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def test_revisions_form_one_line() -> None:
    """Two people adding a migration at once leave two heads; they must be merged."""
    assert len(heads()) <= 1, (
        f"several migration heads {heads()}: make one revision's down_revision the other"
    )


async def test_upgrade_to_head_matches_the_models(empty_database: str) -> None:
    await upgrade(empty_database)

    assert set(await current(empty_database)) == set(heads())
    differences = await _inspect(empty_database, _schema_differences)
    assert differences == [], (
        'The models and the migrations disagree; write a migration with `make migration m="..."`:'
        + "".join(f"\n  {_describe(difference)}" for difference in differences)
    )


async def test_upgrade_twice_changes_nothing(empty_database: str) -> None:
    await upgrade(empty_database)
    before = await _inspect(empty_database, _table_names)

    assert await upgrade(empty_database) == []
    assert await _inspect(empty_database, _table_names) == before


async def test_downgrade_to_base_removes_every_table(empty_database: str) -> None:
    await upgrade(empty_database)
    await downgrade(empty_database, "base")

    assert await current(empty_database) == ()
    assert await _inspect(empty_database, _table_names) <= {"alembic_version"}
