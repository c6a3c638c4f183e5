"""Change notifications for open pages: each page waits on its own small queue.

A burst of changes (a vote updates the board, posts a private note and acks) becomes one
wake-up per page, because a queue that already holds a wake-up takes no more.
"""

from __future__ import annotations

import asyncio

CLOSED = -1


class ChangeFeed:
    def __init__(self) -> None:
        self.version = 0
        self._queues: set[asyncio.Queue[int]] = set()

    def notify(self) -> None:
        """Something changed; safe to call from anywhere on the event loop, as often as wanted."""
        self.version += 1
        for queue in self._queues:
            if queue.empty():
                queue.put_nowait(self.version)

    def subscribe(self) -> asyncio.Queue[int]:
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[int]) -> None:
        self._queues.discard(queue)

    def close(self) -> None:
        """Wake every page's stream with `CLOSED`, so the server can stop without waiting."""
        for queue in self._queues:
            if not queue.empty():
                queue.get_nowait()
            queue.put_nowait(CLOSED)

    @property
    def subscribers(self) -> int:
        return len(self._queues)
