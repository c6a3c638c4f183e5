"""Database fixtures: every test that needs a database runs on SQLite and on PostgreSQL.

PostgreSQL tests use a fresh schema each, on the server named by HEARTH_TEST_POSTGRES_URL
(default: the local trust-auth server). When it cannot be reached they skip, unless
HEARTH_REQUIRE_POSTGRES=1 (set by CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import models.all  # noqa: F401  (registers every table)
from bot.db import create_engine, create_sessionmaker
from bot.keys import Sealer
from models.base import Base

POSTGRES_URL = os.environ.get(
    "HEARTH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("HEARTH_REQUIRE_POSTGRES", "") not in ("", "0", "false")


async def _postgres_schema_url() -> tuple[str, str]:
    """Create an empty schema for one test and return (url, schema)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, ConnectionError) as exc:
        await admin.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    await admin.dispose()
    return POSTGRES_URL, schema


async def _drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL with nothing in it, on each dialect in turn.

    For PostgreSQL the URL carries the schema in `options`, so every connection made from it
    (the app's, alembic's) lands in the test's own schema.
    """
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
        return
    url, schema = await _postgres_schema_url()
    yield f"{url}?options=-csearch_path%3D{schema}"
    await _drop_schema(schema)


@pytest.fixture
async def engine(empty_database: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database holding every table (created from the models)."""
    engine = create_engine(empty_database)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine, sealer=Sealer.ephemeral())
