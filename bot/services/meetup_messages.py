"""Where a chat meetup's messages landed, as the outbox reports it (`bot.services.outbox`).

The opening message, each prompt, the anonymous posts and the minutes are owed through the
outbox (`bot.presenters.meetup`); when Slack has taken one, the meetup learns its ts here.
A prompt's ts is what its replies are matched by (its thread is the discussion), so until
then a reply in it cannot be heard live; the read-back at the close catches up. An anonymous
post Slack never took is not a reply.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import meetup, outbox

OPENING = "meetup.opening"
PROMPT = "meetup.prompt"
ANONYMOUS = "meetup.anonymous"
MINUTES = "meetup.minutes"


def opening_key(meetup_id: int) -> str:
    """The outbox key of a meetup's opening message (the open actions go in its thread)."""
    return f"{OPENING}:{meetup_id}"


def prompt_key(prompt_id: int) -> str:
    """The outbox key of a released prompt (nudges and the closing note go in its thread)."""
    return f"{PROMPT}:{prompt_id}"


def anonymous_key(reply_id: int) -> str:
    return f"{ANONYMOUS}:{reply_id}"


def minutes_key(meetup_id: int, part: int) -> str:
    return f"{MINUTES}:{meetup_id}:{part}"


@outbox.on_delivered(OPENING)
async def opening_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    await meetup.set_opening_ts(session, landed.team_id, landed.subject_id, landed.ts)


@outbox.on_delivered(PROMPT)
async def prompt_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    """The prompt is out: replies in its thread are heard from now."""
    await meetup.set_prompt_ts(session, landed.subject_id, landed.ts)


@outbox.on_delivered(ANONYMOUS)
async def anonymous_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    await meetup.anonymous_posted(session, landed.subject_id, landed.ts)


@outbox.on_given_up(ANONYMOUS)
async def anonymous_never_posted(
    session: AsyncSession, _team_id: str, reply_id: int, _reason: str
) -> None:
    await meetup.anonymous_never_posted(session, reply_id)


@outbox.on_delivered(MINUTES)
async def minutes_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    """The minutes' first message: redrawn when takeaways are added, linked from the
    archive."""
    await meetup.set_minutes_ts(session, landed.team_id, landed.subject_id, landed.ts)
