"""Puts a chat meetup in front of people: reads a snapshot, builds blocks, calls Slack.

Listeners and scheduled jobs both post into the meetup's messages and threads, and both
read the threads back before a close, so that I/O lives here once; each function reads and
writes in its own short transactions and talks to Slack outside them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.blocks import meetup as blocks
from bot.blocks.common import section, unescape_slack
from bot.presenters import actions as present_actions
from bot.services import meetup as service
from bot.services.meetup import MeetupMinutes, MeetupState

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

# Plain replies, replies also sent to the channel, and replies with a file are heard; joins,
# bots' posts (hearth's own nudges, notes and anonymous posts included) and the like are not.
HEARD_SUBTYPES = (None, "thread_broadcast", "file_share")
# Reading a thread back: Slack recommends pages of at most 200; a thread longer than this many
# pages is not read to its end (the minutes then say replies may be missing).
HISTORY_PAGE_SIZE = 200
MAX_HISTORY_PAGES = 25


def heard_reply(message: Mapping[str, Any]) -> tuple[str, service.HeardReply] | None:
    """(thread, reply) for a person's reply in a thread, from a `message` event or a message
    read back from a thread; None for anything else (a thread's parent, a bot's post)."""
    thread_ts = message.get("thread_ts")
    user_id = message.get("user")
    ts = message.get("ts")
    if (
        not thread_ts
        or not ts
        or thread_ts == ts
        or message.get("subtype") not in HEARD_SUBTYPES
        or message.get("bot_id")
        or not user_id
    ):
        return None
    reply = service.HeardReply(
        message_ts=str(ts),
        author_id=str(user_id),
        text=unescape_slack(str(message.get("text") or "")),
    )
    return str(thread_ts), reply


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


async def catch_up(deps: Deps, team_id: str, meetup_id: int, closes_at: datetime) -> bool:
    """Just before a close: read each released prompt's thread back once (pages of 200) and
    record the replies posted by `closes_at` that were never heard (hearth was down or
    restarting, an event was not delivered). Slack's rate limits are honoured by the client,
    which waits as long as Slack asks and tries again.

    Returns False when a thread could not be read (hearth was removed from the channel, Slack
    kept refusing): the meetup still closes, and its minutes say replies may be missing."""
    try:
        return await _catch_up(deps, team_id, meetup_id, closes_at)
    except Exception:  # never let reading back keep a meetup from closing
        logger.exception("Meetup %s: reading its threads back failed", meetup_id)
        return False


async def _catch_up(deps: Deps, team_id: str, meetup_id: int, closes_at: datetime) -> bool:
    state = await snapshot(deps, team_id, meetup_id)
    if state.status != service.RUNNING:
        return True
    added = 0
    for prompt in state.released:
        cursor: str | None = None
        for _page in range(MAX_HISTORY_PAGES):
            try:
                response = await deps.client.conversations_replies(
                    channel=state.channel_id,
                    ts=str(prompt.message_ts),
                    limit=HISTORY_PAGE_SIZE,
                    cursor=cursor,
                )
            except SlackApiError as exc:
                error = exc.response.get("error")
                if error == "thread_not_found":
                    break  # the prompt's message was deleted before anyone replied
                return _gave_up(meetup_id, added, f"Slack answered {error}")
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                return _gave_up(meetup_id, added, f"Slack could not be reached ({exc})")
            replies = []
            for message in response.get("messages") or []:
                heard = heard_reply(message)
                if heard is not None and heard[0] == prompt.message_ts:
                    replies.append(heard[1])
            async with deps.sessionmaker.begin() as session:
                stored = await service.record_missed_replies(
                    session, team_id, meetup_id, prompt.id, replies, closes_at, deps.clock.now()
                )
            if stored is None:
                return True  # closed meanwhile by someone else, who read the threads too
            added += stored
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
        else:
            return _gave_up(meetup_id, added, f"a thread is longer than {MAX_HISTORY_PAGES} pages")
    if added:
        logger.info(
            "Meetup %s: %d replies were not heard live; read back from Slack", meetup_id, added
        )
    return True


def _gave_up(meetup_id: int, added: int, why: str) -> bool:
    logger.warning(
        "Meetup %s: could not read its threads back before the close (%s); closing with the "
        "replies heard (%d more read back). Its minutes say replies may be missing.",
        meetup_id,
        why,
        added,
    )
    return False


async def tell(deps: Deps, channel_id: str, user_id: str, text: str) -> None:
    try:
        await deps.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except SlackApiError as exc:
        logger.warning(
            "Could not send a private note in %s: %s", channel_id, exc.response.get("error")
        )
