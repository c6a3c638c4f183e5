"""Remembering requests already taken in, so a replayed request or a retried event is acted
on once (one click, one dot).

Slack never sends the same signed request twice: a signature covers the timestamp and the
body, so an exact repeat within the five-minute window is a replay, and is dropped. Slack
does re-send events it thinks were lost (`X-Slack-Retry-Num`), re-signed, with the same
`event_id`; an `event_id` already received is dropped too.

Each process remembers in memory (bounded). On PostgreSQL, where several hearth processes
may sit behind one load balancer, they also share a table: whoever inserts the key first
handles the request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from models.replays import SeenSlackRequest

logger = logging.getLogger(__name__)

# Slack retries an event three times, the last about five minutes after the first try;
# remembering event ids for half an hour covers that with room to spare.
EVENT_MEMORY_SECONDS = 30 * 60
# About 10 MB at most; far more requests than one process takes in half an hour.
MEMORY_LIMIT = 50_000
# Slack waits 3 s for an answer: a slow database must not use them all up.
DATABASE_TIMEOUT_SECONDS = 1.0
PRUNE_INTERVAL_SECONDS = 60.0

_table = SeenSlackRequest.__table__


@dataclass(frozen=True)
class Mark:
    """Something to remember about a request until `until` (seconds since the epoch)."""

    kind: str  # "request" (its signature) or "event" (its event_id)
    value: str
    until: float

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}:{self.value}".encode()).hexdigest()


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


WARN_EVERY_SECONDS = 60.0


class RecentRequests:
    """What this process (and, given an engine, every process sharing it) took in lately."""

    def __init__(
        self,
        engine: AsyncEngine | None = None,
        *,
        limit: int = MEMORY_LIMIT,
        database_timeout: float = DATABASE_TIMEOUT_SECONDS,
    ) -> None:
        self.engine = engine
        self._limit = limit
        self._database_timeout = database_timeout
        self._memory: OrderedDict[str, float] = OrderedDict()
        # When the database last could not be asked: said once a minute, not per request.
        self._warned_at = float("-inf")

    @classmethod
    def for_engine(cls, engine: AsyncEngine | None) -> RecentRequests:
        """Shared through the database on PostgreSQL; on SQLite one process owns the
        database, so its memory is enough (and spares every request a write)."""
        if engine is not None and engine.dialect.name == "postgresql":
            return cls(engine)
        return cls()

    async def first_time(self, marks: Sequence[Mark], now: float) -> bool:
        """True (and remembered) when none of `marks` was seen before; False for a repeat.

        If the database cannot be asked, this process's memory decides: a repeat sent to
        another process might then be acted on, which beats refusing every request."""
        self._forget_expired(now)
        if any(self._memory.get(mark.key, 0.0) > now for mark in marks):
            return False
        for mark in marks:
            self._memory[mark.key] = mark.until
            self._memory.move_to_end(mark.key)
        while len(self._memory) > self._limit:
            self._memory.popitem(last=False)
        if self.engine is None:
            return True
        try:
            async with asyncio.timeout(self._database_timeout):
                inserted = await self._insert(self.engine, marks)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if now - self._warned_at >= WARN_EVERY_SECONDS:
                self._warned_at = now
                logger.warning(
                    "Could not check the database for repeated requests (%s); going by this "
                    "process's memory (said at most once a minute)",
                    type(exc).__name__,
                )
            return True
        return inserted == {mark.key for mark in marks}

    async def forget(self, mark: Mark) -> None:
        """Let `mark` be taken in again: Slack retries an event hearth failed to take."""
        self._memory.pop(mark.key, None)
        if self.engine is None:
            return
        try:
            async with asyncio.timeout(self._database_timeout), self.engine.begin() as conn:
                await conn.execute(delete(_table).where(_table.c.key == mark.key))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            logger.warning("Could not forget a request (%s)", type(exc).__name__)

    async def prune(self, now: float) -> int:
        """Delete shared rows whose time is up; how many went."""
        self._forget_expired(now)
        if self.engine is None:
            return 0
        async with asyncio.timeout(self._database_timeout * 10), self.engine.begin() as conn:
            result = await conn.execute(delete(_table).where(_table.c.expires_at <= _utc(now)))
        return int(result.rowcount or 0)

    async def keep_pruned(self, clock: Clock, interval: float = PRUNE_INTERVAL_SECONDS) -> None:
        """Prune every `interval` seconds until cancelled: one indexed DELETE a minute."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.prune(clock.now().timestamp())
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                logger.warning("Could not prune remembered requests (%s)", type(exc).__name__)

    def __len__(self) -> int:
        return len(self._memory)

    def _forget_expired(self, now: float) -> None:
        """Drop expired entries from the oldest end (lookups check the time anyway)."""
        while self._memory:
            key, until = next(iter(self._memory.items()))
            if until > now:
                return
            del self._memory[key]

    @staticmethod
    async def _insert(engine: AsyncEngine, marks: Sequence[Mark]) -> set[str]:
        """Insert each mark unless its key is there already; the keys that went in."""
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(_table)
            .values([{"key": mark.key, "expires_at": _utc(mark.until)} for mark in marks])
            .on_conflict_do_nothing(index_elements=[_table.c.key])
            .returning(_table.c.key)
        )
        async with engine.begin() as conn:
            result = await conn.execute(statement)
            return {row[0] for row in result}
