"""The data the trust migrations carry over (SQLite, PostgreSQL): an open anonymous check
keeps working across the upgrade (its secret is moved into its own row, sealed with the
installation's key), closed checks are queued to be forgotten, the downgrade restores the
column; and time zones only the server knew become UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy import Connection

from bot.db import create_engine
from bot.keys import Sealer
from bot.migrate import downgrade, upgrade

BEFORE, REVISION = "e5f3c4d6a7b8", "f6a4d5e7b8c9"
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SECRET = bytes(range(32))


def _insert(connection: Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO community (id, team_id, channel_id, created_by_id, created_at) "
            "VALUES (1, 'T1', 'C1', 'UA', :at), (2, 'T1', 'C2', 'UA', :at)"
        ),
        {"at": AT},
    )
    checks = sa.table(
        "health_check",
        *(
            sa.column(name, type_)
            for name, type_ in {
                "id": sa.Integer(),
                "team_id": sa.String(),
                "community_id": sa.Integer(),
                "setup_revision": sa.Integer(),
                "questions": sa.JSON(),
                "scale": sa.JSON(),
                "anonymous": sa.Boolean(),
                "min_answers": sa.Integer(),
                "reminders": sa.Integer(),
                "secret": sa.LargeBinary(),
                "opened_at": sa.DateTime(timezone=True),
                "closes_at": sa.DateTime(timezone=True),
                "closed_at": sa.DateTime(timezone=True),
                "post_attempts": sa.Integer(),
            }.items()
        ),
    )
    common: dict[str, Any] = {
        "team_id": "T1",
        "setup_revision": 1,
        "questions": [],
        "scale": [],
        "anonymous": True,
        "min_answers": 3,
        "reminders": 1,
        "opened_at": AT,
        "closes_at": AT,
        "post_attempts": 0,
    }
    connection.execute(
        checks.insert(),
        [
            {**common, "id": 1, "community_id": 1, "secret": SECRET, "closed_at": None},
            {**common, "id": 2, "community_id": 2, "secret": None, "closed_at": AT},
        ],
    )


async def _run(database_url: str, fn: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _rows(sql: str) -> Any:
    return lambda connection: [tuple(row) for row in connection.execute(sa.text(sql))]


async def test_an_open_check_keeps_its_secret_sealed_across_the_upgrade(
    empty_database: str,
) -> None:
    sealer = Sealer.ephemeral()
    await upgrade(empty_database, BEFORE)
    await _run(empty_database, _insert)

    await upgrade(empty_database, REVISION, sealer=sealer)

    [(check_id, sealed)] = await _run(
        empty_database, _rows("SELECT check_id, sealed FROM health_check_secret")
    )
    assert check_id == 1 and SECRET not in bytes(sealed)
    assert sealer.open(bytes(sealed)) == SECRET
    forgetting = await _run(
        empty_database,
        _rows("SELECT id, forgotten_at, forget_attempts FROM health_check ORDER BY id"),
    )
    assert forgetting == [(1, None, 0), (2, None, 0)]  # the closed one is queued to forget

    await downgrade(empty_database, BEFORE, sealer=sealer)

    restored = await _run(empty_database, _rows("SELECT id, secret FROM health_check ORDER BY id"))
    assert [(i, None if s is None else bytes(s)) for i, s in restored] == [(1, SECRET), (2, None)]


async def test_without_the_key_an_open_check_stops_the_upgrade_and_changes_nothing(
    empty_database: str,
) -> None:
    await upgrade(empty_database, BEFORE)
    await _run(empty_database, _insert)

    with pytest.raises((RuntimeError, CommandError), match="hearth db upgrade"):
        await upgrade(empty_database, REVISION)

    assert await _run(empty_database, _rows("SELECT id FROM health_check WHERE secret IS NOT NULL"))
    await upgrade(empty_database, REVISION, sealer=Sealer.ephemeral())  # then it goes through


async def test_time_zones_only_the_machine_knew_become_utc(empty_database: str) -> None:
    """hearth now refuses `localtime` and its kin (they depend on the server, not on the
    community); a set-up saved with one before is read as UTC after the upgrade."""
    await upgrade(empty_database, "a8c6e7f9d0b1")

    def insert(connection: Connection) -> None:
        connection.execute(
            sa.text(
                "INSERT INTO community (id, team_id, channel_id, created_by_id, created_at) "
                "VALUES (1, 'T1', 'C1', 'UA', :at), (2, 'T1', 'C2', 'UA', :at)"
            ),
            {"at": AT},
        )
        connection.execute(
            sa.text(
                "INSERT INTO health_check_setup (community_id, scale, time_zone, every_weeks, "
                "week_of_month, open_hours, anonymous, reminders, min_answers, created_by_id, "
                "updated_at, revision) VALUES (1, '[]', 'localtime', 1, 1, 48, true, 1, 3, "
                "'UA', :at, 1), (2, '[]', 'Europe/London', 1, 1, 48, true, 1, 3, 'UA', :at, 1)"
            ),
            {"at": AT},
        )

    await _run(empty_database, insert)
    await upgrade(empty_database)

    zones = await _run(
        empty_database, _rows("SELECT time_zone FROM health_check_setup ORDER BY community_id")
    )
    assert zones == [("UTC",), ("Europe/London",)]
