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
    def __init__(self, interval: float, *, retries: int = 3) -> None:
        self.interval = interval
        self.retries = retries
        self._pending: dict[Hashable, Action] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._last_run: dict[Hashable, float] = {}

    def request(self, key: Hashable, action: Action) -> None:
        """Ask for `action` to run soon; later requests for the same key replace it."""
        self._pending[key] = action
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"coalesce:{key}")

    async def _run(self, key: Hashable) -> None:
        failures = 0
        try:
            while key in self._pending:
                # After a failure (Slack down beyond the client's own retries) back off more.
                spacing = self.interval * (2**failures)
                wait = self._last_run.get(key, float("-inf")) + spacing - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                action = self._pending.pop(key)
                self._last_run[key] = time.monotonic()
                try:
                    await action()
                    failures = 0
                except Exception:
                    failures += 1
                    if failures > self.retries:
                        logger.exception("Refresh of %s failed; giving up for now", key)
                        failures = 0
                    else:
                        logger.warning("Refresh of %s failed; retrying", key, exc_info=True)
                        self._pending.setdefault(key, action)
        finally:
            del self._tasks[key]

    async def drain(self) -> None:
        """Wait until nothing is pending (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
