"""Puts the rota in front of people: reads a snapshot for the block builders, and owes the
direct messages and channel notes that rota changes cause.

Snapshots are read inside the caller's transaction (working out the next meetups may create
their rows). New messages are *owed* through the outbox in that same transaction (`owe_*`)
and go out once it commits (`Deps.outbox.kick()`), so a change that is saved always gets
its messages, a change rolled back gets none, and Slack failing delays them without losing
or doubling them; nothing waits on Slack while a database lock is held. A message that can
never be delivered is given up in the outbox, never allowed to undo the change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import rota as blocks
from bot.services import community as community_service
from bot.services import outbox, rota
from bot.services.actor import Actor
from bot.services.outbox import Owed
from bot.services.recurrence import Frequency
from bot.services.rota import CalledOff, MeetupFormat, ScheduleInput
from models.community import Community
from models.rota import MeetupSchedule, SwapRequest

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


def summary_of(schedule: MeetupSchedule) -> blocks.ScheduleSummary:
    return blocks.ScheduleSummary(
        description=rota.cadence_of(schedule).describe(),
        time_zone=schedule.time_zone,
        duration_minutes=schedule.duration_minutes,
        format=schedule.format,
        reminder_minutes_before=schedule.reminder_minutes_before,
        announce_minutes_before=schedule.announce_minutes_before,
    )


def input_of(schedule: MeetupSchedule) -> ScheduleInput:
    """The schedule as the form's starting values."""
    hours, minutes = (int(part) for part in schedule.at_time.split(":"))
    return ScheduleInput(
        frequency=Frequency(schedule.frequency),
        weekday=schedule.weekday,
        at=time(hours, minutes),
        time_zone=schedule.time_zone,
        starts_on=schedule.anchor,
        every_weeks=schedule.every_weeks,
        week_of_month=schedule.week_of_month,
        duration_minutes=schedule.duration_minutes,
        format=MeetupFormat(schedule.format),
        reminder_minutes_before=schedule.reminder_minutes_before,
        announce_minutes_before=schedule.announce_minutes_before,
    )


def _available(_user_id: str, _starts_at: datetime) -> bool:
    return False


async def overview(
    session: AsyncSession,
    community: Community,
    viewer: Actor,
    now: datetime,
    unavailable: rota.Unavailable | None = None,
) -> blocks.RotaOverview:
    """What `/rota` shows `viewer` (call inside a write transaction: it plans meetups)."""
    schedule = await rota.get_schedule(session, community)
    today = await rota.local_today(session, community, now)
    return blocks.RotaOverview(
        community_id=community.id,
        channel_id=community.channel_id,
        viewer_id=viewer.user_id,
        viewer_is_lead=await community_service.is_lead(session, community, viewer),
        schedule=summary_of(schedule) if schedule else None,
        turns=(
            await rota.plan(session, community, now, unavailable=unavailable or _available)
            if schedule
            else ()
        ),
        members=[m.user_id for m in await rota.members(session, community)],
        leads=await community_service.leads(session, community),
        aways=await rota.aways_ahead(session, community, today),
    )


async def today_for(session: AsyncSession, community: Community, now: datetime) -> date:
    return await rota.local_today(session, community, now)


# --- messages owed -------------------------------------------------------------------------


def _patience(until: datetime | None, now: datetime) -> timedelta:
    """How long a message may wait for Slack: until `until` (when it stops being any use:
    a meetup starting, say), or the outbox's default."""
    if until is None:
        return outbox.DEFAULT_PATIENCE
    return max(until - now, timedelta(0))


async def owe(
    session: AsyncSession,
    team_id: str,
    channel: str,
    text: str,
    now: datetime,
    extra: Sequence[Block] | None = None,
    *,
    key: str | None = None,
    until: datetime | None = None,
    purpose: str | None = None,
    subject_id: int | None = None,
) -> None:
    """Owe `channel` (a channel id, or a person's id for their DM with hearth) a message,
    in the transaction of the change that causes it. `key` names it when something else
    needs to find it (a swap request, a notice); otherwise it is one of a kind."""
    await outbox.record(
        session,
        team_id,
        Owed(
            key=key or f"rota.message:{uuid.uuid4().hex}",
            channel=channel,
            text=text,
            blocks=dicts(list(extra)) if extra else None,
            purpose=purpose,
            subject_id=subject_id,
            patience=_patience(until, now),
        ),
        now,
    )


async def owe_dm(
    session: AsyncSession,
    team_id: str,
    user_id: str,
    text: str,
    now: datetime,
    extra: Sequence[Block] | None = None,
    *,
    key: str | None = None,
    until: datetime | None = None,
) -> None:
    """Owe `user_id` a direct message from hearth (the app's Messages tab)."""
    await owe(session, team_id, user_id, text, now, extra, key=key, until=until)


async def owe_announcement(
    session: AsyncSession, team_id: str, channel_id: str, text: str, now: datetime
) -> None:
    """Owe the whole channel a note about a change to the rota everyone should know about."""
    await owe(session, team_id, channel_id, text, now)


def swap_request_key(swap: SwapRequest) -> str:
    """The outbox key of the direct message asking someone to take a swap. Its creation
    time is part of it, as SQLite may give a dropped request's id to a new one."""
    made = (swap.created_at - EPOCH) // timedelta(microseconds=1)
    return f"rota.swap_request:{swap.id}:{made}"


async def owe_swap_request(
    session: AsyncSession,
    team_id: str,
    swap: SwapRequest,
    channel_id: str,
    starts_at: datetime,
    now: datetime,
) -> None:
    """Owe the person asked to swap their DM with *Accept* and *Decline*; no use once the
    meetup has started."""
    asker_id, asked_id = swap.from_user_id, swap.to_user_id
    await owe_dm(
        session,
        team_id,
        asked_id,
        blocks.swap_request_text(asker_id, channel_id, starts_at),
        now,
        blocks.swap_request_blocks(swap.id, asker_id, channel_id, starts_at),
        key=swap_request_key(swap),
        until=starts_at,
    )


async def swap_request_landed(
    session: AsyncSession, team_id: str, swap: SwapRequest
) -> tuple[str, str] | None:
    """Where the swap request's DM is in Slack (channel, ts), once it has been posted."""
    return await outbox.landed(session, team_id, swap_request_key(swap))


async def owe_called_off(
    session: AsyncSession,
    team_id: str,
    called: Sequence[CalledOff],
    channel_id: str,
    now: datetime,
    was_at: datetime | None = None,
) -> None:
    """Owe both people of each swap request a change just called off a word about it."""
    for off in called:
        for user_id, for_asker in ((off.swap.from_user_id, True), (off.swap.to_user_id, False)):
            await owe_dm(
                session,
                team_id,
                user_id,
                blocks.swap_called_off_text(off, channel_id, for_asker=for_asker, was_at=was_at),
                now,
            )


# --- said or changed at once ------------------------------------------------------------------


async def redraw(deps: Deps, channel_id: str, ts: str, text: str, extra: list[Block]) -> None:
    """Change a message hearth sent earlier (a swap request that no longer stands)."""
    try:
        await deps.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=dicts(extra))
    except SlackApiError as exc:
        logger.warning("Could not update a message: %s", exc.response.get("error"))


async def tell(
    deps: Deps,
    channel_id: str,
    user_id: str,
    text: str,
    extra: list[Block] | None = None,
    *,
    team_id: str | None = None,
) -> None:
    """A private note in the channel ("Only visible to you"), or, when that fails (the person
    is not in the channel), a DM: owed through the outbox when `team_id` says whose."""
    try:
        await deps.client.chat_postEphemeral(
            channel=channel_id, user=user_id, text=text, blocks=dicts(extra) if extra else None
        )
    except SlackApiError as exc:
        logger.info("Private note failed in %s (%s)", channel_id, exc.response.get("error"))
    else:
        return
    if team_id is None:  # a caller that cannot say which workspace: straight to Slack
        try:
            await deps.client.chat_postMessage(
                channel=user_id, text=text, blocks=dicts(extra) if extra else None
            )
        except SlackApiError as exc:
            logger.warning("Could not send a direct message: %s", exc.response.get("error"))
        return
    async with deps.sessionmaker.begin() as session:
        await owe_dm(session, team_id, user_id, text, deps.clock.now(), extra)
    deps.outbox.kick()
