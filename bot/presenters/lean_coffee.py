"""Puts Lean Coffee state in front of people: reads a snapshot, builds blocks, calls Slack.

Listeners and scheduled jobs both need to redraw the board or post into its thread, so that
work lives here once. New messages (the board, notes in its thread, polls, the minutes) are
*owed* through the outbox, in the transaction of the change that causes them (`owe_*`), and
go out when it commits (`Deps.outbox.kick()`); they are never lost to a Slack outage nor
doubled by a retry. Redraws are plain `chat.update`s, which are safe to repeat: each reads in
its own short transaction and talks to Slack outside it, so no database lock is held while
waiting on the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import lean_coffee as blocks
from bot.presenters import actions as present_actions
from bot.services import lean_coffee as service
from bot.services import lean_coffee_messages as messages
from bot.services import outbox
from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.outbox import Owed
from models.lean_coffee import LeanCoffeeSession

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

# How long a message may wait for Slack before it is no use: people at a Lean Coffee will not
# wait an hour for their board; the minutes are worth posting whenever Slack is back.
BOARD_PATIENCE = timedelta(minutes=15)
NOTE_PATIENCE = timedelta(minutes=10)


def _dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


async def owe_board(
    session: AsyncSession, team_id: str, lc: LeanCoffeeSession, now: datetime
) -> None:
    """Owe a new session's board in its channel, with the channel's open actions in its
    thread. The board's ts is recorded when Slack takes it (`lean_coffee_messages`)."""
    board = await service.board_view(session, lc)
    await outbox.record(
        session,
        team_id,
        Owed(
            key=messages.board_key(lc.id),
            channel=board.channel_id,
            text=blocks.board_text(board),
            blocks=_dicts(blocks.board_blocks(board)),
            purpose=messages.BOARD,
            subject_id=lc.id,
            patience=BOARD_PATIENCE,
        ),
        now,
    )
    await present_actions.owe_open_actions(
        session, team_id, lc.channel_id, messages.board_key(lc.id), now
    )


async def refresh_board(
    deps: Deps, team_id: str, session_id: int, *, unless_drawn: str | None = None
) -> None:
    """Redraw the board from the database as it is now, and remember what was drawn.
    With `unless_drawn`, nothing is sent when the board already shows that."""
    async with deps.sessionmaker() as session:
        lc = await service.get_session(session, team_id, session_id)
        if lc.board_ts is None:
            return
        board = await service.board_view(session, lc)
        ts = lc.board_ts
    text, drawn = blocks.board_text(board), _dicts(blocks.board_blocks(board))
    digest = board_digest(text, drawn)
    if unless_drawn is not None and digest == unless_drawn:
        return
    await deps.client.chat_update(channel=board.channel_id, ts=ts, text=text, blocks=drawn)
    async with deps.sessionmaker.begin() as session:
        await messages.board_drawn(session, team_id, session_id, digest)


def board_digest(text: str, drawn: list[dict[str, Any]]) -> str:
    """A short digest of a board as drawn, to tell whether Slack shows the latest."""
    content = json.dumps({"text": text, "blocks": drawn}, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()


def request_board_refresh(deps: Deps, team_id: str, session_id: int) -> None:
    """Ask for a redraw soon; a burst of requests becomes about one update per second."""

    async def redraw() -> None:
        await refresh_board(deps, team_id, session_id)

    deps.board_refresher.request(("lean_coffee.board", team_id, session_id), redraw)


async def owe_note(
    session: AsyncSession,
    team_id: str,
    lc: LeanCoffeeSession,
    text: str,
    now: datetime,
    extra: list[Block] | None = None,
) -> None:
    """Owe a note in the board's thread (time-box news, hand-overs)."""
    await outbox.record(
        session,
        team_id,
        Owed(
            key=f"lean_coffee.note:{lc.id}:{uuid.uuid4().hex}",
            channel=lc.channel_id,
            thread_key=messages.board_key(lc.id),
            text=text,
            blocks=_dicts(extra) if extra else None,
            patience=NOTE_PATIENCE,
        ),
        now,
    )


async def owe_poll(session: AsyncSession, team_id: str, poll_id: int, now: datetime) -> None:
    """Owe "Keep going?" in the board's thread, once. Its minute starts when it is posted."""
    poll = await service.get_poll(session, team_id, poll_id)
    view = await service.poll_view(session, team_id, poll_id)
    lc = await service.get_session(session, team_id, poll.session_id)
    await outbox.record(
        session,
        team_id,
        Owed(
            key=messages.poll_key(poll_id),
            channel=lc.channel_id,
            thread_key=messages.board_key(lc.id),
            text=blocks.keep_going_text(view),
            blocks=_dicts(blocks.keep_going_blocks(view)),
            purpose=messages.POLL,
            subject_id=poll_id,
            patience=NOTE_PATIENCE,
        ),
        now,
    )


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


async def owe_minutes(
    session: AsyncSession, team_id: str, minutes: LeanCoffeeMinutes, now: datetime
) -> None:
    """Owe the minutes in the board's thread, the first part also sent to the channel (and
    linked from the archive once posted)."""
    text = blocks.minutes_text(minutes)
    for part, chunk in enumerate(blocks.minutes_messages(minutes)):
        await outbox.record(
            session,
            team_id,
            Owed(
                key=messages.minutes_key(minutes.session_id, part),
                channel=minutes.channel_id,
                thread_key=messages.board_key(minutes.session_id),
                broadcast=part == 0,
                text=text,
                blocks=_dicts(chunk),
                purpose=messages.MINUTES if part == 0 else None,
                subject_id=minutes.session_id if part == 0 else None,
            ),
            now,
        )


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
