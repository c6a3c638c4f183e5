"""Puts a chat meetup in front of people: reads a snapshot, builds blocks, calls Slack.

Listeners and scheduled jobs both post into the meetup's messages and threads, so that I/O
lives here once; each function reads in its own short transaction and talks to Slack outside.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.blocks import meetup as blocks
from bot.blocks.common import section
from bot.presenters import actions as present_actions
from bot.services import meetup as service
from bot.services.meetup import MeetupMinutes, MeetupState

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)


def _dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


async def snapshot(deps: Deps, team_id: str, meetup_id: int) -> MeetupState:
    async with deps.sessionmaker() as session:
        meetup = await service.get_meetup(session, team_id, meetup_id)
        return await service.state_of(session, meetup)


async def post_opening(deps: Deps, team_id: str, meetup_id: int) -> None:
    """The opening message: the time-box, how to take part, and the meetup's buttons; then
    the community's open actions in its thread, so the meetup starts from where it left off."""
    state = await snapshot(deps, team_id, meetup_id)
    response = await deps.client.chat_postMessage(
        channel=state.channel_id,
        text=blocks.opening_text(state),
        blocks=_dicts(blocks.opening_blocks(state)),
    )
    opening_ts = str(response["ts"])
    async with deps.sessionmaker.begin() as session:
        await service.set_opening_ts(session, meetup_id, opening_ts)
    await present_actions.post_open_actions(deps, team_id, state.channel_id, opening_ts)


async def refresh_opening(deps: Deps, team_id: str, meetup_id: int) -> None:
    state = await snapshot(deps, team_id, meetup_id)
    if state.opening_ts is None:
        return
    await deps.client.chat_update(
        channel=state.channel_id,
        ts=state.opening_ts,
        text=blocks.opening_text(state),
        blocks=_dicts(blocks.opening_blocks(state)),
    )


async def post_prompt(deps: Deps, team_id: str, meetup_id: int, prompt_id: int) -> None:
    """Release a prompt: its own message, whose thread is the discussion."""
    state = await snapshot(deps, team_id, meetup_id)
    prompt = next(p for p in state.prompts if p.id == prompt_id)
    if prompt.message_ts is not None:
        return
    text = blocks.prompt_text(prompt, len(state.prompts))
    response = await deps.client.chat_postMessage(
        channel=state.channel_id, text=text, blocks=_dicts([section(text)])
    )
    async with deps.sessionmaker.begin() as session:
        await service.set_prompt_ts(session, prompt_id, str(response["ts"]))


async def post_in_threads(deps: Deps, team_id: str, meetup_id: int, text: str) -> None:
    """The same note in every released prompt's thread (nudges, the closing note)."""
    state = await snapshot(deps, team_id, meetup_id)
    for prompt in state.released:
        try:
            await deps.client.chat_postMessage(
                channel=state.channel_id, thread_ts=prompt.message_ts, text=text
            )
        except SlackApiError as exc:
            logger.warning(
                "Could not post in meetup %s thread: %s", meetup_id, exc.response.get("error")
            )


async def post_in_opening_thread(deps: Deps, team_id: str, meetup_id: int, text: str) -> None:
    state = await snapshot(deps, team_id, meetup_id)
    if state.opening_ts is None:
        return
    await deps.client.chat_postMessage(
        channel=state.channel_id, thread_ts=state.opening_ts, text=text
    )


async def post_anonymously(deps: Deps, channel_id: str, thread_ts: str, text: str) -> str:
    response = await deps.client.chat_postMessage(
        channel=channel_id, thread_ts=thread_ts, text=blocks.anonymous_post_text(text)
    )
    return str(response["ts"])


async def post_minutes(deps: Deps, team_id: str, minutes: MeetupMinutes) -> None:
    """The minutes in the channel; long ones continue in the first message's thread."""
    first_ts: str | None = None
    for chunk in blocks.minutes_messages(minutes):
        response = await deps.client.chat_postMessage(
            channel=minutes.channel_id,
            text=blocks.minutes_text(minutes),
            blocks=_dicts(chunk),
            thread_ts=first_ts,
        )
        first_ts = first_ts or str(response["ts"])
    if first_ts is not None:
        async with deps.sessionmaker.begin() as session:
            await service.set_minutes_ts(session, minutes.meetup_id, first_ts)


async def refresh_minutes(deps: Deps, team_id: str, meetup_id: int) -> None:
    """Redraw the first minutes message (after a takeaway was added)."""
    async with deps.sessionmaker() as session:
        meetup = await service.get_meetup(session, team_id, meetup_id)
        minutes = await service.stored_minutes(session, team_id, meetup_id)
        ts = meetup.minutes_ts
    if ts is None:
        return
    await deps.client.chat_update(
        channel=minutes.channel_id,
        ts=ts,
        text=blocks.minutes_text(minutes),
        blocks=_dicts(blocks.minutes_messages(minutes)[0]),
    )


async def tell(deps: Deps, channel_id: str, user_id: str, text: str) -> None:
    try:
        await deps.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except SlackApiError as exc:
        logger.warning(
            "Could not send a private note in %s: %s", channel_id, exc.response.get("error")
        )
