"""What a health check owes through the outbox (`bot.services.outbox`), and where it landed.

The poll is owed in the transaction that opens the check, the results in the one that closes
it, and a round of reminder DMs in the one that claims the round (`bot.presenters.health_check`
builds them). When Slack has taken the poll or the results, the check learns their ts here.

Reminder DMs and anonymity. A reminder goes to someone who had not answered at the time, so a
list of whom a round reached, next to the answer counts, would tell who answered. The outbox
row of a DM has to carry the person's id as its channel until Slack has it, so:

- its key names nobody: in an anonymous check it holds a keyed hash under the check's secret,
  kept apart from the hash that stands for the person in the answers (a different message is
  hashed, with the round in it), so reminder rows and answer rows cannot be joined, and once
  the secret is destroyed nothing can tie the key to anyone. Only a named check, whose answers
  name people anyway, keys it by the user id;
- once it is sent or given up, the row's channel and the DM it landed in are overwritten
  (`reminder_sent`, `reminder_given_up`), so a reminder row names its person only while it
  waits for Slack;
- closing the check deletes every reminder row of it (`forget_reminders`, in the closing
  transaction), waiting ones included: a reminder is no use once the check has closed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import anonymity, outbox
from bot.services import health_check as hc
from models.health_check import HealthCheck
from models.outbox import OutboxMessage

POLL = "health_check.poll"
RESULTS = "health_check.results"
REMINDER = "health_check.reminder"
# What a delivered reminder's channel becomes: it names nobody.
NOBODY = "-"


def poll_key(check_id: int) -> str:
    return f"{POLL}:{check_id}"


def results_key(check_id: int) -> str:
    return f"{RESULTS}:{check_id}"


def _reminder_hash(secret: bytes, team_id: str, round_: int, user_id: str) -> str:
    # Not `anonymity.voter_key` (the answers' hash): another message, so the two never match.
    message = f"{REMINDER}:{round_}:{team_id}:{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


async def reminder_keys(
    session: AsyncSession, team_id: str, check_id: int, round_: int, user_ids: Sequence[str]
) -> list[str] | None:
    """The outbox key of round `round_`'s reminder to each of `user_ids` (the same person and
    round always gets the same key, so a reminder is owed once). None once an anonymous check
    has lost its secret (it has closed: nobody is reminded then)."""
    anonymous = await session.scalar(
        select(HealthCheck.anonymous).where(
            HealthCheck.id == check_id, HealthCheck.team_id == team_id
        )
    )
    if anonymous is None:
        return None
    prefix = f"{REMINDER}:{check_id}:{round_}"
    if not anonymous:
        return [f"{prefix}:{user_id}" for user_id in user_ids]
    secret = await anonymity.check_secret(session, check_id)
    if secret is None:
        return None
    return [f"{prefix}:{_reminder_hash(secret, team_id, round_, u)}" for u in user_ids]


async def forget_reminders(session: AsyncSession, team_id: str, check_id: int) -> None:
    """The check has closed: delete its reminder DMs from the outbox, sent or not."""
    await session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.purpose == REMINDER,
            OutboxMessage.subject_id == check_id,
        )
        .execution_options(synchronize_session=False)
    )


# --- where they landed ----------------------------------------------------------------------


@outbox.on_delivered(POLL)
async def poll_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    await hc.record_message(session, landed.team_id, landed.subject_id, landed.ts)


@outbox.on_delivered(RESULTS)
async def results_posted(session: AsyncSession, landed: outbox.Landed) -> None:
    await hc.record_results_message(session, landed.team_id, landed.subject_id, landed.ts)


@outbox.on_delivered(REMINDER)
async def reminder_sent(session: AsyncSession, landed: outbox.Landed) -> None:
    """The DM is in Slack: its row no longer says whom it went to."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == landed.team_id,
            OutboxMessage.purpose == REMINDER,
            OutboxMessage.subject_id == landed.subject_id,
            OutboxMessage.sent_channel == landed.channel,
            OutboxMessage.sent_ts == landed.ts,
        )
        .values(channel=NOBODY, sent_channel=NOBODY)
        .execution_options(synchronize_session=False)
    )


@outbox.on_given_up(REMINDER)
async def reminder_given_up(
    session: AsyncSession, team_id: str, check_id: int, _reason: str
) -> None:
    """A DM that never can be (or no longer needs to be) sent names nobody either."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.purpose == REMINDER,
            OutboxMessage.subject_id == check_id,
            OutboxMessage.state == outbox.FAILED,
        )
        .values(channel=NOBODY, sent_channel=None)
        .execution_options(synchronize_session=False)
    )
