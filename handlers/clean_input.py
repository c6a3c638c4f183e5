"""Control characters are stripped at the edge, once, before any listener sees a request.

Whatever a person sends (slash command text, modal values, message text, button values)
may carry control characters, and a NUL makes PostgreSQL refuse the write (see `bot.clean`).
A global Bolt middleware cleans `req.body` in place: every listener argument (`body`,
`command`, `action`, `view`, `event`, `message`, `payload`) is a view into that same dict,
built after global middleware runs, so HTTP and Socket Mode requests are covered alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.clean import clean_in_place


async def clean_request(req: AsyncBoltRequest, next_: Callable[[], Awaitable[None]]) -> None:
    """Bolt global middleware: runs after signature verification (which reads the raw
    body, untouched) and before any listener is matched."""
    clean_in_place(req.body)
    await next_()


def register(app: AsyncApp) -> None:
    """Register before anything else that reads what people send."""
    app.middleware(clean_request)
