"""Puts health checks in front of people: owes the poll, the results and the reminder DMs
through the outbox, keeps the poll's answer count current, and finds who is in the channel.

New messages are *owed* (`owe_*`) in the transaction of the change that causes them (the
opening, the closing, a reminder round's claim) and go out when it commits
(`Deps.outbox.kick()`): a Slack outage delays them but never loses or doubles them. Redraws
are plain `chat.update`s, safe to repeat: each reads in its own short transaction and talks to
Slack outside it, so no database lock is held while Slack answers. Nothing here logs or posts
who answered what.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import health_check as blocks
from bot.blocks import health_check_reminders as reminder_blocks
from bot.services import health_check as hc
from bot.services import health_check_messages as messages
from bot.services import outbox
from bot.services.health_check_types import CheckResults, CheckView
from bot.services.outbox import Owed

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

# Results are worth posting whenever Slack takes them, within reason.
RESULTS_PATIENCE = timedelta(days=7)

# Whether a user id is a bot never changes, so it is asked of Slack once per process.
_IS_BOT: dict[str, bool] = {}
_BOT_CACHE_LIMIT = 50_000


def dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


def register(deps: Deps) -> None:
    """A poll that lands after people answered (from a reminder) or after the check closed
    is redrawn as it is now."""
    deps.outbox.after_delivered(
        messages.POLL,
        lambda landed: request_count_refresh(deps, landed.team_id, landed.subject_id),
    )


async def owe_poll(session: AsyncSession, team_id: str, check: CheckView, now: datetime) -> None:
    """Owe a newly opened check's poll in its channel; worth posting until the check closes.
    Its ts is recorded when Slack takes it (`health_check_messages`)."""
    respondents = await hc.respondent_count(session, team_id, check.id)
    await outbox.record(
        session,
        team_id,
        Owed(
            key=messages.poll_key(check.id),
            channel=check.channel_id,
            text=blocks.poll_text(check, respondents),
            blocks=dicts(blocks.poll_blocks(check, respondents)),
            purpose=messages.POLL,
            subject_id=check.id,
            patience=check.closes_at - now,
        ),
        now,
    )


async def owe_results(
    session: AsyncSession, team_id: str, results: CheckResults, now: datetime
) -> None:
    """In the transaction that closed the check: owe its results in the channel, and forget
    whom its reminders went to (`health_check_messages`)."""
    await outbox.record(
        session,
        team_id,
        Owed(
            key=messages.results_key(results.check_id),
            channel=results.channel_id,
            text=blocks.results_text(results),
            blocks=dicts(blocks.results_blocks(results)),
            purpose=messages.RESULTS,
            subject_id=results.check_id,
            patience=RESULTS_PATIENCE,
        ),
        now,
    )
    await messages.forget_reminders(session, team_id, results.check_id)


async def owe_reminders(
    session: AsyncSession,
    team_id: str,
    check: CheckView,
    round_: int,
    people: Sequence[str],
    until: datetime,
    now: datetime,
) -> int:
    """Owe round `round_`'s reminder DM to each of `people`, each worth sending `until` (the
    next round, or the close). Keyed so that nothing stored names them once sent
    (`health_check_messages`). Returns how many were owed."""
    keys = await messages.reminder_keys(session, team_id, check.id, round_, people)
    if keys is None or until <= now:
        return 0
    message = reminder_blocks.reminder(check)
    body = dicts(message.blocks)
    owed = 0
    for user_id, key in zip(people, keys, strict=True):
        owed += await outbox.record(
            session,
            team_id,
            Owed(
                key=key,
                channel=user_id,
                text=message.text,
                blocks=body,
                purpose=messages.REMINDER,
                subject_id=check.id,
                patience=until - now,
            ),
            now,
        )
    return owed


async def refresh_poll(deps: Deps, team_id: str, check_id: int) -> None:
    """Redraw the poll from the database as it is now (its count, or closed)."""
    async with deps.sessionmaker() as session:
        check = await hc.get_check(session, team_id, check_id)
        respondents = await hc.respondent_count(session, team_id, check_id)
    if check.message_ts is None:
        return
    await deps.client.chat_update(
        channel=check.channel_id,
        ts=check.message_ts,
        text=blocks.poll_text(check, respondents),
        blocks=dicts(blocks.poll_blocks(check, respondents)),
    )


def request_count_refresh(deps: Deps, team_id: str, check_id: int) -> None:
    """Ask for the poll's "N people have answered" to be redrawn soon; a burst of answers
    becomes about one `chat.update` per second."""

    async def redraw() -> None:
        await refresh_poll(deps, team_id, check_id)

    deps.board_refresher.request(("health_check.poll", team_id, check_id), redraw)


async def redraw_closed_poll(deps: Deps, team_id: str, check_id: int) -> None:
    """Redraw a poll as closed, without its buttons (after the closing commits)."""
    try:
        await refresh_poll(deps, team_id, check_id)
    except SlackApiError as exc:
        # The poll may have been deleted; the results are owed, which is what matters.
        logger.warning("Could not redraw a closed poll: %s", exc.response.get("error"))


async def _is_bot(deps: Deps, user_id: str) -> bool:
    if user_id not in _IS_BOT:
        try:
            response = await deps.client.users_info(user=user_id)
        except SlackApiError:
            return False  # unknown: count them, as Slack listed them as a member
        user = response.get("user") or {}
        if len(_IS_BOT) >= _BOT_CACHE_LIMIT:
            _IS_BOT.clear()
        _IS_BOT[user_id] = bool(user.get("is_bot")) or user_id == "USLACKBOT"
    return _IS_BOT[user_id]


async def member_ids(deps: Deps, channel_id: str) -> list[str]:
    """The people in a channel (bots left out), every page of them."""
    members: list[str] = []
    cursor: str | None = None
    while True:
        response = await deps.client.conversations_members(
            channel=channel_id, cursor=cursor or None, limit=200
        )
        members.extend(str(m) for m in response.get("members") or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return [u for u in dict.fromkeys(members) if not await _is_bot(deps, u)]
