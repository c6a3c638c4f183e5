"""Timed chat-meetup work: releasing prompts, nudging the threads, closing the meetup.

Each step is a `chat_meetup_timer` row. A job re-reads its row, claims the firing in the
transaction that marks it done, and only then talks to Slack, so a step happens once however
many processes or restarts see it. A post Slack refuses is planned again after a back-off.
Before the close is claimed, the threads are read back from Slack (outside any transaction)
so that replies whose events never arrived are in the minutes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.blocks import meetup as blocks
from bot.errors import Conflict
from bot.presenters import meetup as present
from bot.scheduler import PlannedJob
from bot.services import meetup as service
from bot.services.meetup import TimerKind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        return [
            PlannedJob(
                key=f"meetup.timer:{due.timer_id}",
                due_at=due.due_at,
                func=run_timer,
                args=(deps, due.team_id, due.timer_id),
            )
            for due in await service.due_timers(session)
        ]

    deps.scheduler.add_source(planned_jobs)


async def run_timer(deps: Deps, team_id: str, timer_id: int) -> None:
    """Do one timed step, once."""
    now = deps.clock.now()
    async with deps.sessionmaker() as session:
        closing = await service.closing_meetup(session, team_id, timer_id, now)
    # Two processes seeing the same close both read the threads back (nothing is stored
    # twice); only the one that claims the step closes the meetup.
    complete = closing is None or await present.catch_up(deps, team_id, closing, now)
    async with deps.sessionmaker.begin() as session:
        step = await service.claim_timer(session, team_id, timer_id, now)
        if step is None:
            return
        if step.kind == TimerKind.CLOSE:
            try:
                minutes = await service.end(
                    session, team_id, step.meetup_id, now, replies_may_be_missing=not complete
                )
            except Conflict:
                return
    try:
        if step.kind == TimerKind.RELEASE and step.prompt_id is not None:
            await present.post_prompt(deps, team_id, step.meetup_id, step.prompt_id)
        elif step.kind == TimerKind.NUDGE:
            state = await present.snapshot(deps, team_id, step.meetup_id)
            before = step.minutes_before_end or 0
            # The midpoint reads as "halfway", even when it falls five minutes before the end.
            half = before == state.length_minutes // 2
            await present.post_in_threads(
                deps,
                team_id,
                step.meetup_id,
                blocks.nudge_text(before, state.ends_at, half_time=half),
            )
        elif step.kind == TimerKind.CLOSE:
            await finish(deps, team_id, minutes)
    except Exception:
        if step.kind == TimerKind.CLOSE:
            raise  # the meetup is closed and its minutes kept; only the posts went missing
        logger.warning("Meetup step %s could not be posted; will retry", timer_id)
        async with deps.sessionmaker.begin() as session:
            await service.timer_failed(session, timer_id, deps.clock.now())


async def finish(deps: Deps, team_id: str, minutes: service.MeetupMinutes) -> None:
    """After the close: a closing note in each thread, the opening message redrawn, minutes."""
    await present.post_in_threads(deps, team_id, minutes.meetup_id, blocks.closing_note_text())
    await present.refresh_opening(deps, team_id, minutes.meetup_id)
    await present.post_minutes(deps, team_id, minutes)


async def run_due_now(deps: Deps, team_id: str, meetup_id: int) -> None:
    """Do this meetup's steps that are due already (the prompts released at the start)."""
    async with deps.sessionmaker() as session:
        due = [
            d
            for d in await service.due_timers(session)
            if d.meetup_id == meetup_id and d.due_at <= deps.clock.now()
        ]
    for step in due:
        await run_timer(deps, team_id, step.timer_id)
