"""Starting the rota's chat meetups by themselves, at their time.

The database says which planned meetups of chat-format schedules have not started
(`meetup_plan.due_starts`); the job re-reads the meetup, claims its start in the transaction
that opens the chat meetup, and only then talks to Slack, through the same path as `/meetup`:
the meetup is kept before anything is posted, so a post Slack refuses loses nothing (the
prompts, nudges and close are timers of their own, retried as usual).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.blocks import meetup_plan as blocks
from bot.jobs import meetup as meetup_jobs
from bot.presenters import meetup as present
from bot.scheduler import PlannedJob
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
        await _tell_busy(deps, result.channel_id or "", result.facilitator_id or "")
        return
    chat_id = result.chat_meetup_id
    assert chat_id is not None
    logger.info("Chat meetup %s started for rota meetup %s", chat_id, due.meetup_id)
    try:
        await present.post_opening(deps, due.team_id, chat_id)
    except Exception:
        # The meetup runs all the same: its prompts come out on their own timers.
        logger.warning("The opening of chat meetup %s could not be posted", chat_id, exc_info=True)
    await meetup_jobs.run_due_now(deps, due.team_id, chat_id)
    await deps.scheduler.changed()


async def _tell_busy(deps: Deps, channel_id: str, facilitator_id: str) -> None:
    if not facilitator_id:
        return
    try:
        await deps.client.chat_postMessage(
            channel=facilitator_id, text=blocks.busy_text(channel_id, facilitator_id)
        )
    except SlackApiError as exc:
        logger.warning(
            "Could not tell %s the scheduled chat did not start: %s",
            facilitator_id,
            exc.response.get("error"),
        )
