"""Puts actions in front of people: the owner's reminder on the due date, a community's open
actions at the start of its next Lean Coffee or chat meetup, and the confirmation of an
action recorded after a health check in its results' thread.

Each is a new message, so each is *owed* through the outbox (`bot.services.outbox`) in the
transaction of the change that causes it, and goes out once that commits
(`Deps.outbox.kick()`): never lost to a Slack outage, never doubled by a retry.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import actions as blocks
from bot.services import actions, outbox
from bot.services.actions import Action, ReminderToSend
from bot.services.outbox import Owed

SHOWN = 20  # open actions listed; the rest are counted


def _dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


async def owe_open_actions(
    session: AsyncSession, team_id: str, channel_id: str, thread_key: str, now: datetime
) -> None:
    """Owe the channel's open actions in the thread of the outbox message `thread_key`
    (nothing when there are none)."""
    found = await actions.open_actions(session, team_id, channel_id, limit=SHOWN + 1)
    if not found:
        return
    message = blocks.open_actions_message(found[:SHOWN], more=len(found) > SHOWN)
    await outbox.record(
        session,
        team_id,
        Owed(
            key=f"{thread_key}:open_actions",
            channel=channel_id,
            thread_key=thread_key,
            text=message.text,
            blocks=_dicts(message.blocks),
        ),
        now,
    )


async def owe_reminder(session: AsyncSession, reminder: ReminderToSend, now: datetime) -> None:
    """Owe the owner's direct message on the due date, once per action and due date (its key
    says which), sent while the due date lasts; the reminder's row learns how it went."""
    message = blocks.reminder(reminder.action)
    await outbox.record(
        session,
        reminder.action.team_id,
        Owed(
            key=reminder.key,
            channel=reminder.owner_id,
            text=message.text,
            blocks=_dicts(message.blocks),
            purpose=actions.REMINDER,
            subject_id=reminder.reminder_id,
            patience=reminder.until - now,
        ),
        now,
    )
    await actions.close_reminder(
        session, reminder.reminder_id, now, actions.Outcome.OWED, sent_to=reminder.owner_id
    )


async def owe_recorded(
    session: AsyncSession, action: Action, thread_ts: str | None, now: datetime
) -> None:
    """Owe the confirmation of a newly recorded action in the thread of the message it came
    from (in the channel itself when there is none)."""
    message = blocks.recorded_message(action)
    await outbox.record(
        session,
        action.team_id,
        Owed(
            key=f"actions.recorded:{action.source}:{action.id}",
            channel=action.channel_id,
            thread_ts=thread_ts,
            text=message.text,
            blocks=_dicts(message.blocks),
        ),
        now,
    )
