"""Coalesce bursts of refresh requests into at most one run per interval per key.

Fifty people voting in ten seconds must not become fifty `chat.update` calls (Slack allows
about fifty a minute). Each run re-reads the truth from the database, and a request that
arrives while a run is in flight triggers one more run afterwards, so the last run always
shows the final state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable

logger = logging.getLogger(__name__)

Action = Callable[[], Awaitable[None]]


class Coalescer:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: dict[Hashable, Action] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._last_run: dict[Hashable, float] = {}

    def request(self, key: Hashable, action: Action) -> None:
        """Ask for `action` to run soon; later requests for the same key replace it."""
        self._pending[key] = action
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"coalesce:{key}")

    async def _run(self, key: Hashable) -> None:
        try:
            while key in self._pending:
                wait = self._last_run.get(key, float("-inf")) + self.interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                action = self._pending.pop(key)
                self._last_run[key] = time.monotonic()
                try:
                    await action()
                except Exception:
                    logger.exception("Refresh of %s failed", key)
        finally:
            del self._tasks[key]

    async def drain(self) -> None:
        """Wait until nothing is pending (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
