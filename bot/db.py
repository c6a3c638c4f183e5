"""The async engine and unit-of-work sessions, tuned per dialect."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from bot.keys import Sealer

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The database and its -wal and -shm files hold everything people said: their owner only.
OWNER_ONLY = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


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
        database = engine.url.database
        if database not in (None, "", ":memory:"):
            _owner_only(Path(database))
        _tune_sqlite(engine.sync_engine)
    return engine


def _owner_only(database: Path) -> None:
    """Create the SQLite file readable by its owner alone, and tighten one made looser.

    SQLite gives its -wal and -shm files the database file's permissions, so making the
    database 0600 before SQLite first opens it covers them too.
    """
    if not database.exists() and database.parent.is_dir():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, OWNER_ONLY))
    for suffix in SQLITE_COMPANIONS:
        path = database.with_name(database.name + suffix)
        try:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(OWNER_ONLY)
                logger.info("%s was readable by others; it is now readable by its owner only", path)
        except FileNotFoundError:
            continue


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


def create_sessionmaker(
    engine: AsyncEngine, *, sealer: Sealer | None = None
) -> async_sessionmaker[AsyncSession]:
    """Units of work on `engine`. Each session carries the installation's `sealer` in its
    `info`, for the few services that must open a sealed secret (`bot.services.anonymity`)."""
    return async_sessionmaker(engine, expire_on_commit=False, info={"sealer": sealer})


async def forget_deleted(
    engine: AsyncEngine, table: str, *, also_vacuum: Sequence[str] = ()
) -> bool:
    """Make rows that committed transactions deleted from `table` unrecoverable from the
    database's files; True once done, False when it could not be done yet (try again).

    SQLite overwrites deleted rows in place (`secure_delete`), but earlier versions of their
    pages stay in the write-ahead log until it is checkpointed and truncated (which waits for
    readers of older snapshots). PostgreSQL leaves deleted rows in the table's pages until
    they are vacuumed; `VACUUM FULL` writes the table's live rows into a new file and drops
    the old one (use it on small tables only: it locks the table meanwhile). Either keeps a
    deleted row that a transaction begun before the deletion may still see, so on PostgreSQL
    it only counts as done when no such transaction was open. `also_vacuum` tables get a plain
    `VACUUM`, which prunes their deleted rows without locking them against writes.
    """
    if engine.dialect.name == "sqlite":
        if engine.url.database in (None, "", ":memory:"):
            return True
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log_frames, _copied = await cursor.fetchone()
            await cursor.close()
            return busy == 0
    for name in (table, *also_vacuum):
        if not re.fullmatch(r"[a-z_]+", name):
            raise ValueError(f"not a table name: {name!r}")
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        started = await autocommit.scalar(text("SELECT clock_timestamp()"))
        await autocommit.exec_driver_sql(f"VACUUM FULL {table}")
        for name in also_vacuum:
            await autocommit.exec_driver_sql(f"VACUUM {name}")
        older = await autocommit.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND xact_start < :started"
            ),
            {"started": started},
        )
    return not older
