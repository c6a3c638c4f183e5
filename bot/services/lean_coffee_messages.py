"""Where Lean Coffee's messages landed, as the outbox reports it (`bot.services.outbox`).

The board, each "Keep going?" poll and the minutes are owed through the outbox; when Slack
has taken one, the session learns its ts here (the board's thread is where everything else
goes; a poll's minute starts when people can see it). When one can never be posted, the
session is not left waiting for it: a board that never appeared abandons its session (so the
channel can start another), and a poll nobody could see is decided without votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import lean_coffee, outbox
from bot.services.lean_coffee import MINUTES_SOURCE
from bot.services.lean_coffee_types import KEEP_GOING_POLL_SECONDS, SessionStatus
from models.lean_coffee import LeanCoffeePoll, LeanCoffeeSession
from models.minutes import Minutes

BOARD = "lean_coffee.board"
POLL = "lean_coffee.poll"
MINUTES = "lean_coffee.minutes"


def board_key(session_id: int) -> str:
    """The outbox key of a session's board (the thread every other message goes in)."""
    return f"{BOARD}:{session_id}"


def poll_key(poll_id: int) -> str:
    return f"{POLL}:{poll_id}"


def minutes_key(session_id: int, part: int) -> str:
    return f"{MINUTES}:{session_id}:{part}"


@outbox.on_delivered(BOARD)
async def board_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    await session.execute(
        update(LeanCoffeeSession)
        .where(
            LeanCoffeeSession.id == landed.subject_id,
            LeanCoffeeSession.team_id == landed.team_id,
        )
        .values(board_ts=landed.ts)
    )


@outbox.on_given_up(BOARD)
async def board_never_posted(
    session: AsyncSession, team_id: str, session_id: int, _reason: str
) -> None:
    """Nobody ever saw the board: the session is over before it began."""
    await session.execute(
        update(LeanCoffeeSession)
        .where(
            LeanCoffeeSession.id == session_id,
            LeanCoffeeSession.team_id == team_id,
            LeanCoffeeSession.board_ts.is_(None),
            LeanCoffeeSession.status != SessionStatus.ENDED,
        )
        .values(status=SessionStatus.ENDED)
    )


@outbox.on_delivered(POLL)
async def poll_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    """The poll reached the channel: people get their full minute from now."""
    poll = await session.get(LeanCoffeePoll, landed.subject_id)
    if poll is None:
        return
    poll.message_ts = landed.ts
    poll.decides_at = max(poll.decides_at, landed.at + timedelta(seconds=KEEP_GOING_POLL_SECONDS))
    await session.flush()


@outbox.on_given_up(POLL)
async def poll_never_posted(
    session: AsyncSession, team_id: str, poll_id: int, _reason: str
) -> None:
    """Nobody could see the poll, so nobody voted: it decides now, without votes."""
    poll = await session.get(LeanCoffeePoll, poll_id)
    if poll is None or poll.decided_at is not None:
        return
    await lean_coffee.decide_poll(session, team_id, poll_id, poll.decides_at)


@outbox.on_delivered(MINUTES)
async def minutes_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    """The minutes' first part is the one linked from the archive."""
    await session.execute(
        update(Minutes)
        .where(
            Minutes.team_id == landed.team_id,
            Minutes.source == MINUTES_SOURCE,
            Minutes.source_id == landed.subject_id,
        )
        .values(posted_ts=landed.ts)
    )


# --- boards drawn ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawnBoard:
    """A running session's board in Slack, and the digest of what was last drawn there."""

    team_id: str
    session_id: int
    drawn: str | None


async def running_boards(session: AsyncSession) -> list[DrawnBoard]:
    """Every board in Slack whose session is still running, in every workspace."""
    rows = await session.execute(
        select(LeanCoffeeSession.team_id, LeanCoffeeSession.id, LeanCoffeeSession.board_drawn)
        .where(
            LeanCoffeeSession.status != SessionStatus.ENDED,
            LeanCoffeeSession.board_ts.is_not(None),
        )
        .order_by(LeanCoffeeSession.id)
    )
    return [DrawnBoard(team, session_id, drawn) for team, session_id, drawn in rows]


async def board_drawn(session: AsyncSession, team_id: str, session_id: int, digest: str) -> None:
    """What the board in Slack now shows (a digest of it)."""
    await session.execute(
        update(LeanCoffeeSession)
        .where(LeanCoffeeSession.id == session_id, LeanCoffeeSession.team_id == team_id)
        .values(board_drawn=digest)
    )
