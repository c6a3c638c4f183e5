"""Starting the rota's chat meetups by themselves, at their time.

The database says which planned meetups of chat-format schedules have not started
(`meetup_plan.due_starts`); the job re-reads the meetup and claims its start in the
transaction that opens the chat meetup and owes its opening message through the outbox (or,
when a chat is already running there, the note to the facilitator), as `/meetup` does: a
post Slack refuses is sent late, never lost nor doubled (the prompts, nudges and close are
timers of their own).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.blocks import meetup_plan as blocks
from bot.jobs import meetup as meetup_jobs
from bot.presenters import meetup as present
from bot.scheduler import PlannedJob
from bot.services import meetup as meetup_service
from bot.services import meetup_plan as service
from bot.services import rota_reminders
from bot.services.meetup_plan import DueStart, StartOutcome
from bot.slack_status import away_checker

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        return [
            PlannedJob(
                key=f"{due.key}:{int(due.starts_at.timestamp())}",
                due_at=due.starts_at,
                func=start_meetup,
                args=(deps, due),
            )
            for due in await service.due_starts(session)
        ]

    deps.scheduler.add_source(planned_jobs)


async def start_meetup(deps: Deps, due: DueStart) -> None:
    """Start one rota meetup's chat, once; or note why not."""
    async with deps.sessionmaker() as session:
        people = await rota_reminders.member_ids(session, due.community_id)
    unavailable = await away_checker(deps.client, people)  # as the rota's reminders see it
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        result = await service.start_from_rota(session, due, now, unavailable)
        if result.outcome == StartOutcome.STARTED and result.chat_meetup_id is not None:
            chat = await meetup_service.get_meetup(session, due.team_id, result.chat_meetup_id)
            await present.owe_opening(session, due.team_id, chat, now)
        elif result.outcome == StartOutcome.BUSY and result.facilitator_id:
            await present.owe_direct_message(
                session,
                due.team_id,
                f"meetup.busy:{due.meetup_id}:{due.occurrence}",
                result.facilitator_id,
                blocks.busy_text(result.channel_id or "", result.facilitator_id),
                now,
            )
    deps.outbox.kick()
    if result.outcome == StartOutcome.STALE:
        return
    if result.outcome == StartOutcome.LATE:
        logger.warning(
            "Chat meetup for rota meetup %s was due at %s, but its time was over when hearth "
            "got to it; not started",
            due.meetup_id,
            due.starts_at.isoformat(),
        )
        return
    if result.outcome == StartOutcome.NOBODY:
        logger.warning(
            "Chat meetup for rota meetup %s not started: nobody on the rota and no lead to "
            "facilitate it",
            due.meetup_id,
        )
        return
    if result.outcome == StartOutcome.BUSY:
        logger.info(
            "Chat meetup for rota meetup %s not started: one is already running in %s",
            due.meetup_id,
            result.channel_id,
        )
        return
    chat_id = result.chat_meetup_id
    assert chat_id is not None
    logger.info("Chat meetup %s started for rota meetup %s", chat_id, due.meetup_id)
    await meetup_jobs.run_due_now(deps, due.team_id, chat_id)
    await deps.scheduler.changed()
