"""Timed work on actions: the owner's direct message on the due date, for actions from every
source (Lean Coffee, meetups, health checks).

The database says what is due (`actions.due_reminders`); each firing claims it, re-reads the
action (done, re-dated or re-assigned since: nothing to send) and owes the message through
the outbox in the same transaction, so it is owed once however many times or processes wake
it. The outbox sends it, retrying while the due date lasts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.presenters import actions as present
from bot.scheduler import PlannedJob
from bot.services import actions
from bot.services.actions import DueReminder
from bot.services.scheduling import claim

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

# The occurrence a reminder is claimed under (one per action and due date, in its key).
OWED = "owed"


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        return [
            PlannedJob(key=due.claim_key, due_at=due.due_at, func=send_reminder, args=(deps, due))
            for due in await actions.due_reminders(session, deps.clock.now())
        ]

    deps.scheduler.add_source(planned_jobs)


async def send_reminder(deps: Deps, due: DueReminder) -> None:
    """Claim the reminder, check the action still needs it, and owe the owner's DM."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, due.claim_key, OWED, now):
            return
        to_send = await actions.start_reminder(session, due, now)
        if to_send is None:
            return
        await present.owe_reminder(session, to_send, now)
    deps.outbox.kick()
