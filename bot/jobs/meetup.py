"""Timed chat-meetup work: releasing prompts, nudging the threads, closing the meetup.

Each step is a `chat_meetup_timer` row. A job re-reads its row and claims the firing in the
transaction that marks it done and owes what the step says through the outbox (the prompt,
the nudges, the closing notes and the minutes), so a step happens once however many
processes or restarts see it, and Slack failing loses and doubles nothing. Before the close
is claimed, the threads are read back from Slack (outside any transaction) so that replies
whose events never arrived are in the minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import Conflict
from bot.presenters import meetup as present
from bot.scheduler import PlannedJob
from bot.services import meetup as service
from bot.services import meetup_messages as messages
from bot.services.meetup import TimerKind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        return [
            PlannedJob(
                key=f"meetup.timer:{due.timer_id}",
                due_at=due.due_at,
                func=run_timer,
                args=(deps, due.team_id, due.timer_id),
                team_id=due.team_id,
            )
            for due in await service.due_timers(session)
        ]

    deps.scheduler.add_source(planned_jobs)
    # An opening or minutes owed while the meetup moved on (extended, ended, a takeaway
    # added before Slack took them) are redrawn once they are in the channel.
    deps.outbox.after_delivered(
        messages.OPENING,
        lambda landed: present.request_opening_refresh(deps, landed.team_id, landed.subject_id),
    )
    deps.outbox.after_delivered(
        messages.MINUTES,
        lambda landed: present.request_minutes_refresh(deps, landed.team_id, landed.subject_id),
    )


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
        if step.kind == TimerKind.RELEASE and step.prompt_id is not None:
            await present.owe_prompt(session, team_id, step.meetup_id, step.prompt_id, now)
        elif step.kind == TimerKind.NUDGE:
            await present.owe_nudge(session, team_id, step, now)
        elif step.kind == TimerKind.CLOSE:
            try:
                minutes = await service.end(
                    session, team_id, step.meetup_id, now, replies_may_be_missing=not complete
                )
            except Conflict:
                return
            await present.owe_close(session, team_id, minutes, now)
    deps.outbox.kick()
    if step.kind == TimerKind.CLOSE:
        present.request_opening_refresh(deps, team_id, step.meetup_id)


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
