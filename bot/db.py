"""The async engine and unit-of-work sessions, tuned per dialect."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the engine; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

    A deferred SQLite transaction that reads and then writes fails with "database is locked"
    when another writer got there first; taking the write lock at BEGIN makes concurrent
    writers queue (up to the busy timeout) instead of failing.
    """
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "postgresql" and "options" in sa_url.query:
        sa_url, server_settings = _split_libpq_options(sa_url)
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("server_settings", {}).update(server_settings)
    engine = create_async_engine(sa_url, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine.sync_engine)
    return engine


def _split_libpq_options(url: URL) -> tuple[URL, dict[str, str]]:
    """Turn libpq's `?options=-csearch_path=x` into asyncpg `server_settings`.

    asyncpg does not take libpq's `options` parameter, but people copy such URLs from other
    tools (for example to put hearth in its own schema), so hearth honours it.
    """
    raw = url.query["options"]
    options = " ".join(raw) if isinstance(raw, tuple) else raw
    settings = dict(re.findall(r"-c\s*([\w.]+)=(\S+)", options))
    return url.difference_update_query(["options"]), settings


def _tune_sqlite(sync_engine: Engine) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from emitting its own BEGIN so we can emit BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Deleted rows (anonymous answers, destroyed secrets) are overwritten on disk, not
        # left readable in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        if sync_engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
