"""Timed Lean Coffee work: a time-box running out, and a "Keep going?" poll deciding itself.

The database says what is due (`planned_jobs`); each job re-reads its row, claims its firing
and acts once, however many times it is woken (restarts, several processes, catch-up).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.blocks import lean_coffee_notes as notes
from bot.presenters import lean_coffee as present
from bot.scheduler import PlannedJob
from bot.services import lean_coffee as service
from bot.services.lean_coffee_types import PollOutcome
from bot.services.scheduling import claim

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        jobs = [
            PlannedJob(
                key=f"lean_coffee.timebox:{due.topic_id}:{due.round}",
                due_at=due.due_at,
                func=timebox_ended,
                args=(deps, due.team_id, due.topic_id, due.round),
            )
            for due in await service.due_timeboxes(session)
        ]
        jobs.extend(
            PlannedJob(
                key=f"lean_coffee.post_poll:{poll.poll_id}:{poll.attempt}",
                due_at=poll.retry_at,
                func=deliver_poll,
                args=(deps, poll.team_id, poll.poll_id, poll.attempt),
            )
            for poll in await service.unposted_polls(session)
        )
        jobs.extend(
            PlannedJob(
                key=f"lean_coffee.decide:{due.poll_id}",
                due_at=due.due_at,
                func=decide_poll,
                args=(deps, due.team_id, due.poll_id),
            )
            for due in await service.due_polls(session)
        )
        return jobs

    deps.scheduler.add_source(planned_jobs)


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
        if outcome.poll_id is None:
            lc = await service.get_session(session, team_id, outcome.session_id)
            board = await service.board_view(session, lc)
    present.request_board_refresh(deps, team_id, outcome.session_id)
    if outcome.poll_id is not None:
        await deliver_poll(deps, team_id, outcome.poll_id, attempt=0)
    else:
        await present.post_in_thread(
            deps,
            team_id,
            outcome.session_id,
            notes.out_of_time_text(board),
            notes.next_topic_prompt(board, notes.out_of_time_text(board)),
        )


async def deliver_poll(deps: Deps, team_id: str, poll_id: int, attempt: int) -> None:
    """Post a poll's message, once. Each attempt is claimed under its number; a failed one
    is counted, which plans the next attempt after a back-off (see `unposted_polls`)."""
    async with deps.sessionmaker.begin() as session:
        if not await claim(
            session, f"lean_coffee.post_poll:{poll_id}", str(attempt), deps.clock.now()
        ):
            return
    try:
        await present.post_poll(deps, team_id, poll_id)
    except Exception:
        logger.warning("Posting poll %s failed (attempt %d); will retry", poll_id, attempt + 1)
        async with deps.sessionmaker.begin() as session:
            await service.poll_post_failed(session, poll_id)


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
    await present.refresh_poll(deps, team_id, poll_id)
    if decision.outcome == PollOutcome.EXTENDED and board.discussing is not None:
        await present.post_in_thread(
            deps,
            team_id,
            lc.id,
            notes.extended_text(board.discussing, decision.extension_minutes or 0),
        )
    else:
        await present.post_in_thread(
            deps,
            team_id,
            lc.id,
            notes.moved_on_text(board),
            notes.next_topic_prompt(board, notes.moved_on_text(board)),
        )
    present.request_board_refresh(deps, team_id, lc.id)
    return decision
