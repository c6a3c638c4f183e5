"""Puts Lean Coffee state in front of people: reads a snapshot, builds blocks, calls Slack.

Listeners and scheduled jobs both need to redraw the board or post into its thread, so that
I/O lives here once. Each function reads in its own short transaction and talks to Slack
outside it, so no database lock is held while waiting on the network.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.blocks import lean_coffee as blocks
from bot.services import lean_coffee as service
from bot.services.lean_coffee_types import LeanCoffeeMinutes

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)


def _dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


async def post_board(deps: Deps, team_id: str, session_id: int) -> str:
    """Post a new session's board in its channel and remember where it is."""
    async with deps.sessionmaker() as session:
        lc = await service.get_session(session, team_id, session_id)
        board = await service.board_view(session, lc)
    response = await deps.client.chat_postMessage(
        channel=board.channel_id,
        text=blocks.board_text(board),
        blocks=_dicts(blocks.board_blocks(board)),
    )
    ts = str(response["ts"])
    async with deps.sessionmaker.begin() as session:
        lc = await service.get_session(session, team_id, session_id)
        await service.set_board_ts(session, lc, ts)
    return ts


async def refresh_board(deps: Deps, team_id: str, session_id: int) -> None:
    """Redraw the board from the database as it is now."""
    async with deps.sessionmaker() as session:
        lc = await service.get_session(session, team_id, session_id)
        if lc.board_ts is None:
            return
        board = await service.board_view(session, lc)
        ts = lc.board_ts
    await deps.client.chat_update(
        channel=board.channel_id,
        ts=ts,
        text=blocks.board_text(board),
        blocks=_dicts(blocks.board_blocks(board)),
    )


def request_board_refresh(deps: Deps, team_id: str, session_id: int) -> None:
    """Ask for a redraw soon; a burst of requests becomes about one update per second."""

    async def redraw() -> None:
        await refresh_board(deps, team_id, session_id)

    deps.board_refresher.request(("lean_coffee.board", team_id, session_id), redraw)


async def post_in_thread(
    deps: Deps, team_id: str, session_id: int, text: str, extra: list[Block] | None = None
) -> str | None:
    """Post a note in the board's thread (time-box news, hand-overs)."""
    async with deps.sessionmaker() as session:
        lc = await service.get_session(session, team_id, session_id)
        channel, thread = lc.channel_id, lc.board_ts
    if thread is None:
        return None
    response = await deps.client.chat_postMessage(
        channel=channel,
        thread_ts=thread,
        text=text,
        blocks=_dicts(extra) if extra else None,
    )
    return str(response["ts"])


async def post_poll(deps: Deps, team_id: str, poll_id: int) -> None:
    """Ask "Keep going?" in the board's thread, once."""
    async with deps.sessionmaker() as session:
        poll = await service.get_poll(session, team_id, poll_id)
        if poll.message_ts is not None:
            return
        view = await service.poll_view(session, team_id, poll_id)
        lc = await service.get_session(session, team_id, poll.session_id)
        channel, thread = lc.channel_id, lc.board_ts
    response = await deps.client.chat_postMessage(
        channel=channel,
        thread_ts=thread,
        text=blocks.keep_going_text(view),
        blocks=_dicts(blocks.keep_going_blocks(view)),
    )
    async with deps.sessionmaker.begin() as session:
        await service.set_poll_ts(session, poll_id, str(response["ts"]), deps.clock.now())


async def refresh_poll(deps: Deps, team_id: str, poll_id: int) -> None:
    async with deps.sessionmaker() as session:
        poll = await service.get_poll(session, team_id, poll_id)
        if poll.message_ts is None:
            return
        view = await service.poll_view(session, team_id, poll_id)
        lc = await service.get_session(session, team_id, poll.session_id)
        channel, ts = lc.channel_id, poll.message_ts
    await deps.client.chat_update(
        channel=channel,
        ts=ts,
        text=blocks.keep_going_text(view),
        blocks=_dicts(blocks.keep_going_blocks(view)),
    )


def request_poll_refresh(deps: Deps, team_id: str, poll_id: int) -> None:
    async def redraw() -> None:
        await refresh_poll(deps, team_id, poll_id)

    deps.board_refresher.request(("lean_coffee.poll", team_id, poll_id), redraw)


async def post_minutes(deps: Deps, team_id: str, minutes: LeanCoffeeMinutes) -> None:
    """Post the minutes in the board's thread, the first part also sent to the channel."""
    async with deps.sessionmaker() as session:
        lc = await service.get_session(session, team_id, minutes.session_id)
        thread = lc.board_ts
    text = blocks.minutes_text(minutes)
    first_ts: str | None = None
    for chunk in blocks.minutes_messages(minutes):
        response = await deps.client.chat_postMessage(
            channel=minutes.channel_id,
            text=text,
            blocks=_dicts(chunk),
            thread_ts=thread,
            reply_broadcast=first_ts is None and thread is not None,
        )
        first_ts = first_ts or str(response["ts"])
    if first_ts is not None:
        async with deps.sessionmaker.begin() as session:
            await service.set_minutes_ts(session, team_id, minutes.session_id, first_ts)


async def tell(deps: Deps, channel_id: str, user_id: str, text: str) -> None:
    """A private note to one person in the channel ("Only visible to you")."""
    try:
        await deps.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except SlackApiError as exc:
        # A private note that cannot be delivered (the person left the channel) is not worth
        # failing the action that caused it.
        logger.warning(
            "Could not send a private note in %s: %s", channel_id, exc.response.get("error")
        )
