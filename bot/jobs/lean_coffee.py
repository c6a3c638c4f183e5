"""Timed Lean Coffee work: a time-box running out, and a "Keep going?" poll deciding itself.

The database says what is due (`planned_jobs`); each job re-reads its row, claims its firing
and acts once, however many times it is woken (restarts, several processes, catch-up). What
it has to say (the poll, the out-of-time note) is owed through the outbox in the same
transaction, so Slack failing loses and doubles nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.blocks import lean_coffee_notes as notes
from bot.presenters import lean_coffee as present
from bot.scheduler import PlannedJob
from bot.services import lean_coffee as service
from bot.services import lean_coffee_messages as messages
from bot.services.lean_coffee_types import PollOutcome
from bot.services.scheduling import claim
from bot.workspaces import acting_for

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)

# How often every process checks that running boards show what the database holds.
BOARD_SWEEP = timedelta(seconds=30)


def register(deps: Deps) -> None:
    swept = [deps.clock.now()]  # when this process last checked the boards

    async def sweep() -> None:
        swept[0] = deps.clock.now()
        await redraw_stale_boards(deps)

    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        jobs = [
            PlannedJob(
                key=f"lean_coffee.timebox:{due.topic_id}:{due.round}",
                due_at=due.due_at,
                func=timebox_ended,
                args=(deps, due.team_id, due.topic_id, due.round),
                team_id=due.team_id,
            )
            for due in await service.due_timeboxes(session)
        ]
        jobs.extend(
            PlannedJob(
                key=f"lean_coffee.decide:{due.poll_id}",
                due_at=due.due_at,
                func=decide_poll,
                args=(deps, due.team_id, due.poll_id),
                team_id=due.team_id,
            )
            for due in await service.due_polls(session)
        )
        if await messages.running_boards(session):
            jobs.append(
                PlannedJob(
                    key="lean_coffee.redraw_stale_boards",
                    due_at=swept[0] + BOARD_SWEEP,
                    func=sweep,
                )
            )
        return jobs

    deps.scheduler.add_source(planned_jobs)
    # A board owed while the session moved on (topics proposed before Slack took it) is
    # redrawn once it is in the channel.
    deps.outbox.after_delivered(
        messages.BOARD,
        lambda landed: present.request_board_refresh(deps, landed.team_id, landed.subject_id),
    )


async def redraw_stale_boards(deps: Deps) -> None:
    """Redraw any running board that does not show its session as it is now.

    Redraws are asked for in the memory of the process that made a change (a burst of votes
    becomes one `chat.update` a second); if that process dies first, or two processes drew
    from snapshots of different moments, this is what puts the board right, within
    `BOARD_SWEEP`, whichever process runs it. A board already right costs no Slack call."""
    async with deps.sessionmaker() as session:
        boards = await messages.running_boards(session)
    for drawn in boards:
        with acting_for(drawn.team_id):
            try:
                await present.refresh_board(
                    deps, drawn.team_id, drawn.session_id, unless_drawn=drawn.drawn or ""
                )
            except SlackApiError as exc:
                logger.info(
                    "Could not redraw board %d (%s); trying at the next sweep",
                    drawn.session_id,
                    exc.response.get("error"),
                )


async def timebox_ended(deps: Deps, team_id: str, topic_id: int, round_: int) -> None:
    """Time is up on a topic: ask the group in the board's thread whether to keep going, or,
    with the extensions used up, move on and offer the facilitator the next topic."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, f"lean_coffee.timebox:{topic_id}", str(round_), now):
            return
        outcome = await service.time_up(session, team_id, topic_id, round_, now)
        if outcome is None:
            return
        if outcome.poll_id is not None:
            await present.owe_poll(session, team_id, outcome.poll_id, now)
        else:
            lc = await service.get_session(session, team_id, outcome.session_id)
            board = await service.board_view(session, lc)
            text = notes.out_of_time_text(board)
            await present.owe_note(
                session, team_id, lc, text, now, notes.next_topic_prompt(board, text)
            )
    deps.outbox.kick()
    present.request_board_refresh(deps, team_id, outcome.session_id)


async def decide_poll(
    deps: Deps, team_id: str, poll_id: int, actor: service.Actor | None = None
) -> service.PollDecision | None:
    """Decide a "Keep going?" poll (by itself when its minute is up, or for the facilitator)."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        decision = await service.decide_poll(session, team_id, poll_id, now, actor=actor)
        if decision is None:
            return None
        poll = await service.get_poll(session, team_id, poll_id)
        lc = await service.get_session(session, team_id, poll.session_id)
        board = await service.board_view(session, lc)
        if decision.outcome == PollOutcome.EXTENDED and board.discussing is not None:
            text = notes.extended_text(board.discussing, decision.extension_minutes or 0)
            await present.owe_note(session, team_id, lc, text, now)
        else:
            text = notes.moved_on_text(board)
            await present.owe_note(
                session, team_id, lc, text, now, notes.next_topic_prompt(board, text)
            )
    deps.outbox.kick()
    await present.refresh_poll(deps, team_id, poll_id)
    present.request_board_refresh(deps, team_id, lc.id)
    return decision
