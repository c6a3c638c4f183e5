"""Puts the rota in front of people: reads a snapshot for the block builders, and sends the
direct messages and channel notes that rota changes cause.

Snapshots are read inside the caller's transaction (working out the next meetups may create
their rows); messages are sent after it, so no database lock is held while Slack answers.
A note that cannot be delivered is logged, never allowed to undo a change already made.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import rota as blocks
from bot.services import community as community_service
from bot.services import rota
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from bot.services.rota import MeetupFormat, ScheduleInput
from models.community import Community
from models.rota import MeetupSchedule

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)


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


async def dm(
    deps: Deps, user_id: str, text: str, extra: list[Block] | None = None
) -> tuple[str, str] | None:
    """A direct message from hearth (the app's Messages tab); logged if it cannot be sent.

    Returns where it went (channel, ts), so it can be redrawn later, or None."""
    try:
        sent = await deps.client.chat_postMessage(
            channel=user_id, text=text, blocks=dicts(extra) if extra else None
        )
    except SlackApiError as exc:
        logger.warning("Could not send a direct message: %s", exc.response.get("error"))
        return None
    return str(sent.get("channel") or ""), str(sent.get("ts") or "")


async def redraw(deps: Deps, channel_id: str, ts: str, text: str, extra: list[Block]) -> None:
    """Change a message hearth sent earlier (a swap request that no longer stands)."""
    try:
        await deps.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=dicts(extra))
    except SlackApiError as exc:
        logger.warning("Could not update a message: %s", exc.response.get("error"))


async def announce(deps: Deps, channel_id: str, text: str) -> None:
    """A note to the whole channel about a change to the rota everyone should know about."""
    try:
        await deps.client.chat_postMessage(channel=channel_id, text=text)
    except SlackApiError as exc:
        logger.warning("Could not post in %s: %s", channel_id, exc.response.get("error"))


async def tell(
    deps: Deps, channel_id: str, user_id: str, text: str, extra: list[Block] | None = None
) -> None:
    """A private note in the channel ("Only visible to you"), or a DM when that fails."""
    try:
        await deps.client.chat_postEphemeral(
            channel=channel_id, user=user_id, text=text, blocks=dicts(extra) if extra else None
        )
    except SlackApiError as exc:
        logger.info("Private note failed in %s (%s)", channel_id, exc.response.get("error"))
        await dm(deps, user_id, text, extra)
