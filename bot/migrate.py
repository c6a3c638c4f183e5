"""Database migrations (alembic), configured in code so they work from a checkout or an install.

Why a shared connection: alembic's commands are synchronous, and an async `env.py` would
normally call `asyncio.run()`, which cannot run inside an event loop that is already running
(hearth's start-up, pytest-asyncio). So these coroutines open the connection themselves and
hand it to alembic through `config.attributes["connection"]` inside `AsyncConnection.run_sync`;
`migrations/env.py` then migrates on that connection without starting a loop. The whole
upgrade is one transaction (PostgreSQL and SQLite both have transactional DDL), so a failed
migration leaves the database as it was.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationInfo
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

import migrations
from bot.db import create_engine
from bot.keys import Sealer

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
# Any fixed number: PostgreSQL's advisory lock makes bots starting together migrate in turn.
POSTGRES_MIGRATION_LOCK = 0x6865617274  # "heart"


class MigrationError(Exception):
    """A migration could not be applied; the message says what to do."""


def alembic_config(database_url: str | None = None) -> Config:
    """An alembic `Config` built in code: no alembic.ini needed, wherever hearth is installed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    # Percent signs are doubled because alembic's options go through ConfigParser.
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
        config.attributes["database_url"] = database_url
    if importlib.util.find_spec("ruff") is not None:
        # New revision files come out lint-clean and formatted, like the rest of the code.
        config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
        for name, options in (
            ("ruff_fix", "check --fix --exit-zero --quiet REVISION_SCRIPT_FILENAME"),
            ("ruff_format", "format --quiet REVISION_SCRIPT_FILENAME"),
        ):
            config.set_section_option("post_write_hooks", f"{name}.type", "module")
            config.set_section_option("post_write_hooks", f"{name}.module", "ruff")
            config.set_section_option("post_write_hooks", f"{name}.options", options)
    return config


def create_migration_engine(database_url: str) -> AsyncEngine:
    """hearth's engine (SQLite pragmas, PostgreSQL `options`), made safe for schema changes.

    SQLite cannot alter most columns in place, so alembic's batch mode copies the table, drops
    the old one and renames the copy. With foreign keys enforced, dropping a referenced table
    would fail or cascade, so they are off while migrating (SQLite's own advice) and checked
    with `PRAGMA foreign_key_check` before commit.
    """
    engine = create_engine(database_url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.close()

    return engine


def describe_step(step: MigrationInfo) -> str:
    """`Applied 1a2b3c (add rota tables)` or `Undid 1a2b3c (add rota tables)`."""
    revision = step.up_revision
    label = ", ".join(step.up_revision_ids) if revision is None else revision.revision
    if revision is not None and revision.doc:
        label += f" ({revision.doc})"
    return ("Applied " if step.is_upgrade else "Undid ") + label


def heads() -> tuple[str, ...]:
    """The revisions a fully migrated database is at (none while there are no migrations)."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade(
    database_url: str, revision: str = "head", *, sealer: Sealer | None = None
) -> list[MigrationInfo]:
    """Bring the database up to `revision`; returns the steps applied (empty when up to date).

    `sealer` is the installation's (`bot.keys`), for migrations that seal secrets already
    stored."""
    return await _migrate(
        database_url, lambda config: command.upgrade(config, revision), sealer=sealer
    )


async def downgrade(
    database_url: str, revision: str, *, sealer: Sealer | None = None
) -> list[MigrationInfo]:
    """Take the database back to `revision` (`base` removes every table hearth made)."""
    return await _migrate(
        database_url, lambda config: command.downgrade(config, revision), sealer=sealer
    )


async def current(database_url: str) -> tuple[str, ...]:
    """The revisions the database is at now; empty for a database never migrated."""
    engine = create_migration_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: tuple(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()


async def revision(
    message: str, *, database_url: str | None = None, autogenerate: bool = True
) -> Path | None:
    """Write a new revision comparing the models with a database at head.

    Without `database_url` a scratch SQLite database is made and migrated to head first, so
    nothing but the models and the existing revisions decide what the new revision contains.
    Returns the new file, or None when autogenerate found nothing to change.
    """
    if database_url is None:
        with tempfile.TemporaryDirectory(prefix="hearth-migration-") as scratch:
            url = f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}"
            await upgrade(url)
            return await revision(message, database_url=url, autogenerate=autogenerate)

    (MIGRATIONS_DIR / "versions").mkdir(exist_ok=True)  # git keeps no empty folder
    written: list[Path] = []

    def _skip_empty(_context: Any, _revision: Any, directives: list[MigrationScript]) -> None:
        script = directives[0]
        if autogenerate and script.upgrade_ops is not None and script.upgrade_ops.is_empty():
            directives[:] = []

    def _write(config: Config) -> None:
        result = command.revision(
            config,
            message=message,
            autogenerate=autogenerate,
            process_revision_directives=_skip_empty,
        )
        written.extend(Path(script.path) for script in _scripts(result))

    await _migrate(database_url, _write)
    return written[0] if written else None


def _scripts(result: Script | list[Script | None] | None) -> Iterable[Script]:
    items = result if isinstance(result, list) else [result]
    return (script for script in items if script is not None)


async def _migrate(
    database_url: str, run: Callable[[Config], object], *, sealer: Sealer | None = None
) -> list[MigrationInfo]:
    """Run an alembic command on one connection, in one transaction, and report its steps."""
    config = alembic_config(database_url)
    config.attributes["sealer"] = sealer
    steps: list[MigrationInfo] = []
    config.attributes["on_version_apply"] = steps.append
    engine = create_migration_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_on_connection, config, run)
    finally:
        await engine.dispose()
    return steps


def _run_on_connection(
    connection: Connection, config: Config, run: Callable[[Config], object]
) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK}
        )
    config.attributes["connection"] = connection
    run(config)
    if connection.dialect.name == "sqlite":
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            tables = sorted({str(row[0]) for row in problems})
            raise MigrationError(
                "The migration would leave rows pointing at missing rows in "
                + ", ".join(tables)
                + "; nothing was changed."
            )
