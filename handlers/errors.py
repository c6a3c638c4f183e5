"""One place that turns any failure into a kind, private explanation.

A `DomainError` is something the person can fix: they are told what happened and what to do.
The database being out of reach (a restart, a failover, a lock held too long) is nobody's
mistake: the person is told plainly that nothing was saved and to try again shortly, and the
log says so once a minute, not once per click. Anything else is our fault: it is logged with a
short id, and the person gets that id to quote.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.errors import DomainError
from bot.scheduler import database_unreachable

logger = logging.getLogger("hearth.errors")

DATABASE_DOWN_TEXT = (
    "I can't reach my database right now, so that didn't go through and nothing was saved. "
    "Please try again in a minute."
)
# While the database is away every click fails the same way: say so in the log this often.
DATABASE_DOWN_LOG_SECONDS = 60.0
# Longer than Bolt's look for an acknowledgement (every 10 ms); see `on_error`.
LET_BOLT_SEE_THE_ACK_SECONDS = 0.05


def _where_to_tell(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, user) for a private note about this request."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else body.get("user_id")
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else body.get("channel_id")
    if channel_id is None and isinstance(body.get("view"), dict):
        try:
            meta = json.loads(body["view"].get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        if isinstance(meta, dict):
            channel_id = meta.get("channel")
    return channel_id, user_id


async def tell_privately(
    client: AsyncWebClient, body: dict[str, Any], text: str, respond: AsyncRespond | None = None
) -> None:
    """Reply only the person sees: through the request's response_url when it has one (that
    works even in channels hearth is not in), else as an ephemeral message, else by DM."""
    if respond is not None and body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    channel_id, user_id = _where_to_tell(body)
    if user_id is None:
        return
    try:
        if channel_id and not str(channel_id).startswith("D"):
            await client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        else:
            await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError as exc:
        if channel_id is None:
            raise
        # Not in that channel (any more): fall back to a direct message.
        logger.info(
            "Private note failed in %s (%s); sending a DM", channel_id, exc.response.get("error")
        )
        await client.chat_postMessage(channel=user_id, text=text)


def register(app: AsyncApp, deps: Deps) -> None:
    database_down_noted: list[float] = []  # when the log last said so (monotonic)

    def note_database_down(error: Exception) -> None:
        now = time.monotonic()
        if database_down_noted and now - database_down_noted[-1] < DATABASE_DOWN_LOG_SECONDS:
            return
        database_down_noted[:] = [now]
        logger.warning(
            "A request failed because the database cannot be reached (%s); people are told "
            "to try again (said at most once a minute)",
            type(error).__name__,
        )

    @app.error
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        ack: AsyncAck,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        if response is None:
            # Acknowledged, then failed. Once this handler returns, Bolt's runner sets the
            # request's acknowledgement to the (absent) response it gave us; its wait for
            # the acknowledgement looks every 10 ms, so an ack followed within those 10 ms
            # by a failure (a database refusing connections fails that fast) would reach
            # Slack as no acknowledgement at all. Let the wait see the ack first.
            await asyncio.sleep(LET_BOLT_SEE_THE_ACK_SECONDS)
        if isinstance(error, DomainError):
            text = error.message
        elif database_unreachable(error):
            note_database_down(error)
            text = DATABASE_DOWN_TEXT
        else:
            error_id = uuid.uuid4().hex[:8]
            logger.exception(
                "Unexpected error %s handling a %s",
                error_id,
                body.get("type") or body.get("command"),
                exc_info=error,
            )
            text = (
                f"Sorry, something went wrong on my side (error `{error_id}`). Please try "
                "again in a moment; if it keeps happening, share that code with whoever "
                "runs hearth for your workspace."
            )
        with contextlib.suppress(Exception):  # it may have been acknowledged already
            await ack()
        try:
            await tell_privately(client, body, text, respond)
        except SlackApiError:
            logger.exception("Could not tell the user about an error")
        # The person has been told; a failure status would make Slack show its own, less
        # helpful error next to ours. A request already acknowledged (the listener acked,
        # then failed) was answered: Bolt gives no response to fill in, and must get none.
        if response is None:
            return None
        return BoltResponse(status=200, body="")
