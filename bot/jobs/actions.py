"""Timed work on actions: the owner's direct message on the due date, for actions from every
source (Lean Coffee, meetups, health checks).

The database says what is due (`actions.due_reminders`); each firing claims its attempt,
re-reads the action (done, re-dated or re-assigned since: nothing to send), records the
reminder before sending and what came of it after, so it goes out once however many times or
processes wake it. A message Slack fails to take is tried again after a back-off until the
due date is over.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.blocks import actions as blocks
from bot.scheduler import PlannedJob
from bot.services import actions
from bot.services.actions import DueReminder, Outcome
from bot.services.scheduling import claim
from bot.slack import UNDELIVERABLE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        return [
            PlannedJob(key=due.key, due_at=due.due_at, func=send_reminder, args=(deps, due))
            for due in await actions.due_reminders(session, deps.clock.now())
        ]

    deps.scheduler.add_source(planned_jobs)


async def send_reminder(deps: Deps, due: DueReminder) -> None:
    """Claim this attempt, check the action still needs it, DM the owner, record the result."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, due.claim_key, str(due.attempt), now):
            return
        to_send = await actions.start_reminder(session, due, now)
    if to_send is None:
        return
    message = blocks.reminder(to_send.action)
    try:
        response = await deps.client.chat_postMessage(
            channel=to_send.owner_id, text=message.text, blocks=message.blocks
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in UNDELIVERABLE:
            logger.error(
                "Slack refused the reminder for %s action %s (%s); not trying again",
                due.source,
                due.action_id,
                error,
            )
            await _close(deps, to_send.reminder_id, Outcome.FAILED, to_send.owner_id)
            return
        await _failed(deps, due, to_send.reminder_id, str(error))
        return
    except Exception as exc:  # connection trouble, timeouts: Slack may be back soon
        await _failed(deps, due, to_send.reminder_id, repr(exc))
        return
    await _close(
        deps, to_send.reminder_id, Outcome.SENT, str(response.get("channel")), response.get("ts")
    )


async def _close(
    deps: Deps, reminder_id: int, outcome: Outcome, sent_to: str, ts: str | None = None
) -> None:
    async with deps.sessionmaker.begin() as session:
        await actions.close_reminder(
            session, reminder_id, deps.clock.now(), outcome, sent_to=sent_to, message_ts=ts
        )


async def _failed(deps: Deps, due: DueReminder, reminder_id: int, why: str) -> None:
    logger.warning(
        "Sending the reminder for %s action %s failed (attempt %d: %s); will retry",
        due.source,
        due.action_id,
        due.attempt + 1,
        why,
    )
    async with deps.sessionmaker.begin() as session:
        await actions.reminder_failed(session, reminder_id, deps.clock.now())
