"""Puts a chat meetup in front of people: reads a snapshot, builds blocks, calls Slack.

Listeners and scheduled jobs both owe the meetup's messages and read its threads back before
a close, so that work lives here once. New messages (the opening, each prompt, nudges and
closing notes in the prompts' threads, anonymous posts, the minutes, notes to the
facilitator) are *owed* through the outbox in the transaction of the step that causes them
(`owe_*`), and go out when it commits (`Deps.outbox.kick()`): never lost to a Slack outage
nor doubled by a retry, and a prompt or nudge still waiting for Slack when its meetup's time
is up is given up rather than posted late. Redraws are plain `chat.update`s, each reading
in its own short transaction and talking to Slack outside it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import meetup as blocks
from bot.blocks.common import section, unescape_slack
from bot.clean import clean_text
from bot.presenters import actions as present_actions
from bot.services import meetup as service
from bot.services import meetup_messages as messages
from bot.services import outbox
from bot.services.meetup import AnonymousPost, ClaimedTimer, MeetupMinutes, MeetupState
from bot.services.outbox import Owed
from models.meetup import ChatMeetup

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
# How long a message may wait for Slack. The opening, prompts, nudges and anonymous posts are
# no use once the meetup's time is up; a closing note is worth a little while after; the
# minutes (and notes to people) whenever Slack is back (the outbox's default).
CLOSING_NOTE_PATIENCE = timedelta(hours=1)


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
        # Read back from a thread, it has not been through the request middleware.
        text=clean_text(unescape_slack(str(message.get("text") or ""))),
    )
    return str(thread_ts), reply


def _dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


def _until_end(ends_at: datetime, now: datetime) -> timedelta:
    """Patience for a message that is no use once the meetup's time is up: it is given up
    rather than posted after the end."""
    return ends_at - now


async def snapshot(deps: Deps, team_id: str, meetup_id: int) -> MeetupState:
    async with deps.sessionmaker() as session:
        meetup = await service.get_meetup(session, team_id, meetup_id)
        return await service.state_of(session, meetup)


async def _under(
    session: AsyncSession, team_id: str, key: str, ts: str | None
) -> dict[str, str] | None:
    """Where a reply under a message of the outbox (`key`) goes: its ts when known, else
    its key (the reply waits for it); None when that message was given up."""
    if ts is not None:
        return {"thread_ts": ts}
    if await outbox.given_up_reasons(session, team_id, [key]):
        return None
    return {"thread_key": key}


# --- owed messages -----------------------------------------------------------------------------


async def owe_opening(
    session: AsyncSession, team_id: str, meetup: ChatMeetup, now: datetime
) -> None:
    """Owe the opening message (the time-box, how to take part, the meetup's buttons), with
    the community's open actions in its thread, so the meetup starts from where it left off.
    Its ts is recorded when Slack takes it (`meetup_messages`), and it is redrawn then."""
    state = await service.state_of(session, meetup)
    key = messages.opening_key(meetup.id)
    await outbox.record(
        session,
        team_id,
        Owed(
            key=key,
            channel=state.channel_id,
            text=blocks.opening_text(state),
            blocks=_dicts(blocks.opening_blocks(state)),
            purpose=messages.OPENING,
            subject_id=meetup.id,
            patience=_until_end(state.ends_at, now),
        ),
        now,
    )
    await present_actions.owe_open_actions(session, team_id, state.channel_id, key, now)


async def owe_prompt(
    session: AsyncSession, team_id: str, meetup_id: int, prompt_id: int, now: datetime
) -> None:
    """Owe a released prompt: its own message, whose thread is the discussion (replies are
    heard there once Slack has taken it and its ts is recorded)."""
    meetup = await service.get_meetup(session, team_id, meetup_id)
    state = await service.state_of(session, meetup)
    prompt = next(p for p in state.prompts if p.id == prompt_id)
    if prompt.message_ts is not None:
        return
    text = blocks.prompt_text(prompt, len(state.prompts))
    await outbox.record(
        session,
        team_id,
        Owed(
            key=messages.prompt_key(prompt_id),
            channel=state.channel_id,
            text=text,
            blocks=_dicts([section(text)]),
            purpose=messages.PROMPT,
            subject_id=prompt_id,
            patience=_until_end(state.ends_at, now),
        ),
        now,
    )


async def _owe_in_threads(
    session: AsyncSession,
    team_id: str,
    meetup: ChatMeetup,
    key_for: Callable[[int], str],
    text: str,
    patience: timedelta,
    now: datetime,
) -> None:
    """The same note in the thread of every prompt released (a prompt still owed first)."""
    for prompt in await service.thread_prompts(session, meetup.id):
        thread = await _under(session, team_id, messages.prompt_key(prompt.id), prompt.message_ts)
        if thread is None:
            continue  # the prompt never reached the channel: no thread to note in
        await outbox.record(
            session,
            team_id,
            Owed(
                key=key_for(prompt.id),
                channel=meetup.channel_id,
                text=text,
                patience=patience,
                **thread,
            ),
            now,
        )


async def owe_nudge(session: AsyncSession, team_id: str, step: ClaimedTimer, now: datetime) -> None:
    """Owe a nudge in every released prompt's thread, for a nudge step just claimed."""
    meetup = await service.get_meetup(session, team_id, step.meetup_id)
    before = step.minutes_before_end or 0
    # The midpoint reads as "halfway", even when it falls five minutes before the end.
    half = before == meetup.length_minutes // 2
    await _owe_in_threads(
        session,
        team_id,
        meetup,
        lambda prompt_id: f"meetup.nudge:{step.timer_id}:{prompt_id}",
        blocks.nudge_text(before, meetup.ends_at, half_time=half),
        _until_end(meetup.ends_at, now),
        now,
    )


async def owe_close(
    session: AsyncSession, team_id: str, minutes: MeetupMinutes, now: datetime
) -> None:
    """After the close (in its transaction): a closing note in each thread, then the
    minutes."""
    meetup = await service.get_meetup(session, team_id, minutes.meetup_id)
    await _owe_in_threads(
        session,
        team_id,
        meetup,
        lambda prompt_id: f"meetup.closing_note:{prompt_id}",
        blocks.closing_note_text(),
        CLOSING_NOTE_PATIENCE,
        now,
    )
    await owe_minutes(session, team_id, minutes, now)


async def owe_minutes(
    session: AsyncSession, team_id: str, minutes: MeetupMinutes, now: datetime
) -> None:
    """Owe the minutes in the channel, once; long ones continue in the first message's
    thread. The first message's ts is recorded when Slack takes it."""
    text = blocks.minutes_text(minutes)
    first = messages.minutes_key(minutes.meetup_id, 0)
    for part, chunk in enumerate(blocks.minutes_messages(minutes)):
        await outbox.record(
            session,
            team_id,
            Owed(
                key=messages.minutes_key(minutes.meetup_id, part),
                channel=minutes.channel_id,
                thread_key=first if part else None,
                text=text,
                blocks=_dicts(chunk),
                purpose=messages.MINUTES if part == 0 else None,
                subject_id=minutes.meetup_id if part == 0 else None,
            ),
            now,
        )


async def owe_extended(
    session: AsyncSession, team_id: str, meetup: ChatMeetup, minutes: int, now: datetime
) -> None:
    """Owe the note that the meetup runs longer, in the opening's thread (after an
    extension, in its transaction)."""
    key = messages.opening_key(meetup.id)
    thread = await _under(session, team_id, key, meetup.opening_ts)
    if thread is None:
        return
    await outbox.record(
        session,
        team_id,
        Owed(
            # Each extension makes the meetup longer: its new length names it.
            key=f"meetup.extended:{meetup.id}:{meetup.length_minutes}",
            channel=meetup.channel_id,
            text=blocks.extended_text(meetup.ends_at, minutes),
            patience=_until_end(meetup.ends_at, now),
            **thread,
        ),
        now,
    )


async def owe_anonymous(
    session: AsyncSession, team_id: str, post: AnonymousPost, text: str, now: datetime
) -> None:
    """Owe a post made for someone in a prompt's thread (who sent it is not in it)."""
    await outbox.record(
        session,
        team_id,
        Owed(
            key=messages.anonymous_key(post.reply_id),
            channel=post.channel_id,
            thread_ts=post.thread_ts,
            text=blocks.anonymous_post_text(text),
            purpose=messages.ANONYMOUS,
            subject_id=post.reply_id,
            patience=_until_end(post.ends_at, now),
        ),
        now,
    )


async def owe_direct_message(
    session: AsyncSession, team_id: str, key: str, user_id: str, text: str, now: datetime
) -> None:
    """Owe a direct message to one person (the facilitator told a scheduled chat did not
    start, a saved plan confirmed)."""
    await outbox.record(session, team_id, Owed(key=key, channel=user_id, text=text), now)


def one_off_key(what: str) -> str:
    """A key for a message that is owed once each time its change happens."""
    return f"meetup.{what}:{uuid.uuid4().hex}"


# --- redraws -------------------------------------------------------------------------------------


async def refresh_opening(deps: Deps, team_id: str, meetup_id: int) -> None:
    state = await snapshot(deps, team_id, meetup_id)
    if state.opening_ts is None:
        return  # still owed: redrawn once Slack has taken it
    await deps.client.chat_update(
        channel=state.channel_id,
        ts=state.opening_ts,
        text=blocks.opening_text(state),
        blocks=_dicts(blocks.opening_blocks(state)),
    )


def request_opening_refresh(deps: Deps, team_id: str, meetup_id: int) -> None:
    """Redraw the opening message soon (extended, ended, or posted after either)."""

    async def redraw() -> None:
        await refresh_opening(deps, team_id, meetup_id)

    deps.board_refresher.request(("meetup.opening", team_id, meetup_id), redraw)


async def refresh_minutes(deps: Deps, team_id: str, meetup_id: int) -> None:
    """Redraw the first minutes message (after a takeaway was added)."""
    async with deps.sessionmaker() as session:
        meetup = await service.get_meetup(session, team_id, meetup_id)
        minutes = await service.stored_minutes(session, team_id, meetup_id)
        ts = meetup.minutes_ts
    if ts is None:
        return  # still owed: redrawn once Slack has taken it
    await deps.client.chat_update(
        channel=minutes.channel_id,
        ts=ts,
        text=blocks.minutes_text(minutes),
        blocks=_dicts(blocks.minutes_messages(minutes)[0]),
    )


def request_minutes_refresh(deps: Deps, team_id: str, meetup_id: int) -> None:
    async def redraw() -> None:
        await refresh_minutes(deps, team_id, meetup_id)

    deps.board_refresher.request(("meetup.minutes", team_id, meetup_id), redraw)


# --- reading the threads back ----------------------------------------------------------------


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
