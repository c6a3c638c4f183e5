"""Puts a community's open actions in front of people at the start of its next Lean Coffee,
and confirms an action recorded after a health check in its results' thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.blocks import actions as blocks
from bot.services import actions
from bot.services.actions import Action

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

SHOWN = 20  # open actions listed; the rest are counted


async def post_open_actions(deps: Deps, team_id: str, channel_id: str, thread_ts: str) -> None:
    """Post the channel's open actions in the board's thread (nothing when there are none).
    A failure is logged: it must never stop a Lean Coffee from starting."""
    async with deps.sessionmaker() as session:
        found = await actions.open_actions(session, team_id, channel_id, limit=SHOWN + 1)
    if not found:
        return
    message = blocks.open_actions_message(found[:SHOWN], more=len(found) > SHOWN)
    try:
        await deps.client.chat_postMessage(
            channel=channel_id,
            thread_ts=thread_ts,
            text=message.text,
            blocks=[b.to_dict() for b in message.blocks],
        )
    except SlackApiError as exc:
        logger.warning("Could not post the open actions: %s", exc.response.get("error"))


async def post_recorded(deps: Deps, action: Action, thread_ts: str | None) -> None:
    """Confirm a newly recorded action in the thread of the message it came from (in the
    channel itself when there is none). A failure is logged: the action is saved anyway."""
    message = blocks.recorded_message(action)
    try:
        await deps.client.chat_postMessage(
            channel=action.channel_id,
            thread_ts=thread_ts,
            text=message.text,
            blocks=[b.to_dict() for b in message.blocks],
        )
    except SlackApiError as exc:
        logger.warning("Could not confirm a recorded action: %s", exc.response.get("error"))
