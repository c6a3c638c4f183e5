"""What `/healthz` reports: whether hearth can read and write its database, whether the disk
under a SQLite database is running out, and how its outbox is doing.

A load balancer or uptime monitor takes a 503 to mean "this process cannot do its work": the
database cannot be reached, or it cannot be written (a full disk, a read-only failover),
which would lose every click. Messages waiting for Slack are reported but do not make hearth
unhealthy: Slack being down is not something restarting hearth would fix.

A monitor asks every few seconds, so a problem is logged when it starts (or changes), and its
end once, not once per probe.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.db import create_sessionmaker
from bot.services import outbox
from models.health_probe import HealthProbe

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
# Below this much free space a SQLite database is about to refuse writes.
LOW_DISK_BYTES = 64 * 1024 * 1024

# The problem last logged for each engine, while it lasts.
_problems: weakref.WeakKeyDictionary[AsyncEngine, str] = weakref.WeakKeyDictionary()
# The probe write under way for each engine.
_probes: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Task[None]] = weakref.WeakKeyDictionary()


def _note_problem(engine: AsyncEngine, problem: str, message: str, *args: object) -> None:
    """Log `message` when `problem` starts (or another takes its place), not on every probe."""
    if _problems.get(engine) == problem:
        return
    _problems[engine] = problem
    logger.warning(message + "; saying so again only when this changes", *args)


def _probe(engine: AsyncEngine, clock: Clock) -> asyncio.Task[None]:
    """The write that tells whether the database can be written: one at a time per engine.

    It runs apart from the request that asked, so the answer comes within `TIMEOUT_SECONDS`
    even when giving up cannot be quick (a SQLite write waiting on a lock holds its driver
    thread until the busy timeout); requests meanwhile wait on the same write."""
    running = _probes.get(engine)
    if running is not None and not running.done():
        return running

    async def write() -> None:
        async with engine.begin() as connection:
            await connection.execute(delete(HealthProbe))
            await connection.execute(insert(HealthProbe).values(id=1, written_at=clock.now()))

    task = asyncio.create_task(write(), name="hearth health probe")
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    _probes[engine] = task
    return task


def _note_healthy(engine: AsyncEngine) -> None:
    if _problems.pop(engine, None) is not None:
        logger.info("Health check: the database can be written again")


async def report(engine: AsyncEngine, clock: Clock) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for `/healthz`."""
    try:
        await asyncio.wait_for(asyncio.shield(_probe(engine, clock)), TIMEOUT_SECONDS)
    except Exception as exc:
        cause = _cause(exc)
        if "full" in cause.lower() or "space" in cause.lower():
            _note_problem(
                engine, "disk full", "Health check: the database's disk is full (%s)", cause
            )
            return 503, {"ok": False, "database": "disk full"}
        _note_problem(
            engine, "unwritable", "Health check: the database cannot be written (%s)", cause
        )
        return 503, {"ok": False, "database": "unreachable"}
    body: dict[str, Any] = {"ok": True, "database": "ok"}
    free = _free_bytes(engine)
    if free is not None and free < LOW_DISK_BYTES:
        _note_problem(
            engine, "low disk", "Health check: only %d MB free for the database", free // 2**20
        )
        return 503, {"ok": False, "database": "disk full", "free_mb": free // 2**20}
    _note_healthy(engine)
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), create_sessionmaker(engine)() as session:
            state = await outbox.health(session, clock.now())
        body["outbox"] = {"overdue": state.overdue, "given_up_today": state.given_up}
    except Exception as exc:
        logger.warning("Health check: could not read the outbox (%s)", _cause(exc))
    return 200, body


def _free_bytes(engine: AsyncEngine) -> int | None:
    """Free space where a SQLite database lives (PostgreSQL's disk is the server's to watch)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    try:
        return shutil.disk_usage(Path(str(engine.url.database)).resolve().parent).free
    except OSError:
        return None


def _cause(exc: BaseException) -> str:
    """The innermost message, one line ("database or disk is full"), no traceback."""
    if isinstance(exc, TimeoutError):  # its cause is only the cancellation
        return f"no answer within {TIMEOUT_SECONDS:g} seconds"
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
