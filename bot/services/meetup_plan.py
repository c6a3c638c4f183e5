"""The rota's meetups held as a time-boxed chat: the plan chosen ahead, and the start.

When a community's schedule says its meetups are chats, each planned meetup starts by itself
at its time, in the channel, with whoever's turn it is on the rota. Its facilitator (or a
lead) may choose the prompts, pace and nudges ahead; the length is the schedule's. Without a
plan the meetup opens with a couple of general prompts, so it still happens.

Starting is a claimed firing (keyed by the meetup and its start time) in the same transaction
that opens the chat meetup, and the chat meetup's unique `rota_meetup_id` backs that up, so a
meetup starts once whatever restarts or processes see it. Nothing here talks to Slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.services import community as community_service
from bot.services import meetup as meetup_service
from bot.services import rota
from bot.services.actor import Actor
from bot.services.meetup import (
    MAX_LENGTH_MINUTES,
    MIN_LENGTH_MINUTES,
    StartOptions,
)
from bot.services.rota import MeetupFormat, MeetupStatus, Unavailable
from bot.services.rota_reminders import turn_for
from bot.services.scheduling import claim
from models.community import Community
from models.meetup import ChatMeetup, ChatMeetupPlan
from models.rota import Meetup, MeetupSchedule
from models.scheduling import JobClaim

logger = logging.getLogger(__name__)

JOB = "meetup.rota_start"
# Warm and general, for a meetup whose facilitator chose nothing ahead.
DEFAULT_PROMPTS = (
    "What have you been working on since we last met?",
    "What's one thing you'd like help with?",
)


def length_for(duration_minutes: int) -> int:
    """The rota meetup's length, within what a chat meetup allows."""
    return max(MIN_LENGTH_MINUTES, min(MAX_LENGTH_MINUTES, duration_minutes))


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    prompts: tuple[str, ...]
    pace_minutes: int = 0
    nudge_half_time: bool = True
    nudge_five_before: bool = True


@dataclass(frozen=True)
class SavedPlan:
    prompts: tuple[str, ...]
    pace_minutes: int
    nudge_half_time: bool
    nudge_five_before: bool
    updated_by_id: str
    updated_at: datetime


@dataclass(frozen=True)
class PlanTarget:
    """What the plan's form needs: which meetup, when, how long, and what is saved."""

    community_id: int
    meetup_id: int
    channel_id: str
    starts_at: datetime
    length_minutes: int
    facilitator_id: str | None
    plan: SavedPlan | None


def _saved(row: ChatMeetupPlan) -> SavedPlan:
    return SavedPlan(
        prompts=tuple(row.prompts),
        pace_minutes=row.pace_minutes,
        nudge_half_time=row.nudge_half_time,
        nudge_five_before=row.nudge_five_before,
        updated_by_id=row.updated_by_id,
        updated_at=row.updated_at,
    )


async def saved_plan(session: AsyncSession, rota_meetup_id: int) -> SavedPlan | None:
    row = await session.scalar(
        select(ChatMeetupPlan).where(ChatMeetupPlan.rota_meetup_id == rota_meetup_id)
    )
    return _saved(row) if row is not None else None


async def _chat_meetup_to_come(
    session: AsyncSession, community: Community, meetup_id: int, now: datetime
) -> Meetup:
    meetup = await rota.get_meetup(session, community, meetup_id)
    schedule = await rota.get_schedule(session, community)
    if schedule is None or schedule.format != MeetupFormat.CHAT:
        raise Conflict(
            "This community's meetups aren't time-boxed chats any more, so there are no "
            "prompts to choose. `/rota` shows what's coming up."
        )
    if meetup.status == MeetupStatus.CANCELLED:
        raise Conflict("That meetup was cancelled, so there are no prompts to choose.")
    if meetup.status != MeetupStatus.PLANNED or meetup.starts_at <= now:
        raise Conflict(
            "That meetup has already started, so its prompts are set. "
            "You can choose them for the next one when its reminder comes."
        )
    return meetup


async def _require_planner(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    meetup_id: int,
    now: datetime,
    unavailable: Unavailable,
) -> str | None:
    """The meetup's facilitator (whose turn it is now) or a lead; returns the facilitator."""
    turn = await turn_for(session, community, meetup_id, now, unavailable)
    facilitator = turn.facilitator_id if turn is not None else None
    if facilitator == actor.user_id:
        return facilitator
    if await community_service.is_lead(session, community, actor):
        return facilitator
    # Plain words, no mention: this is also shown under a modal's input, as plain text.
    raise NotAllowed(
        "Only this meetup's facilitator or one of the community's leads can choose its "
        "prompts. The turn may have passed to someone else: `/rota` shows whose it is."
    )


async def plan_target(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    meetup_id: int,
    now: datetime,
    unavailable: Unavailable,
) -> PlanTarget:
    """The meetup and its saved plan, for someone allowed to choose the prompts."""
    meetup = await _chat_meetup_to_come(session, community, meetup_id, now)
    facilitator = await _require_planner(session, actor, community, meetup_id, now, unavailable)
    return PlanTarget(
        community_id=community.id,
        meetup_id=meetup.id,
        channel_id=community.channel_id,
        starts_at=meetup.starts_at,
        length_minutes=length_for(meetup.duration_minutes),
        facilitator_id=facilitator,
        plan=await saved_plan(session, meetup.id),
    )


async def save_plan(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    meetup_id: int,
    form: PlanInput,
    now: datetime,
    unavailable: Unavailable,
) -> SavedPlan:
    """Keep the prompts, pace and nudges for the meetup (replacing an earlier plan)."""
    meetup = await _chat_meetup_to_come(session, community, meetup_id, now)
    await _require_planner(session, actor, community, meetup_id, now, unavailable)
    prompts = tuple(p.strip() for p in form.prompts if p.strip())
    meetup_service.check_options(
        StartOptions(
            prompts=prompts,
            length_minutes=length_for(meetup.duration_minutes),
            pace_minutes=form.pace_minutes,
        )
    )
    values = {
        "prompts": list(prompts),
        "pace_minutes": form.pace_minutes,
        "nudge_half_time": form.nudge_half_time,
        "nudge_five_before": form.nudge_five_before,
        "updated_by_id": actor.user_id,
        "updated_at": now,
    }
    row = await session.scalar(
        select(ChatMeetupPlan).where(ChatMeetupPlan.rota_meetup_id == meetup.id)
    )
    if row is None:
        row = ChatMeetupPlan(team_id=community.team_id, rota_meetup_id=meetup.id, **values)
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
            return _saved(row)
        except IntegrityError:  # saved at the same moment by someone else: this one wins
            row = await session.scalar(
                select(ChatMeetupPlan).where(ChatMeetupPlan.rota_meetup_id == meetup.id)
            )
            if row is None:
                raise
    for name, value in values.items():
        setattr(row, name, value)
    await session.flush()
    return _saved(row)


def options_from(plan: SavedPlan | None, length_minutes: int) -> StartOptions:
    """How the meetup runs: the plan if it still fits the time (with less time than planned,
    because hearth came back late, every prompt at the start), else the general prompts."""
    if plan is not None:
        for pace in (plan.pace_minutes, 0):
            options = StartOptions(
                prompts=plan.prompts,
                length_minutes=length_minutes,
                pace_minutes=pace,
                nudge_half_time=plan.nudge_half_time,
                nudge_five_before=plan.nudge_five_before,
            )
            try:
                meetup_service.check_options(options)
            except InvalidInput:
                continue
            return options
    return StartOptions(prompts=DEFAULT_PROMPTS, length_minutes=length_minutes)


# --- starting at the meetup's time ---------------------------------------------------------


@dataclass(frozen=True)
class DueStart:
    """A chat-format rota meetup still to start: ids and its time, re-read by the job."""

    team_id: str
    community_id: int
    meetup_id: int
    starts_at: datetime

    @property
    def key(self) -> str:
        return f"{JOB}:{self.meetup_id}"

    @property
    def occurrence(self) -> str:
        """A moved meetup is a new occurrence: it starts at its new time."""
        return self.starts_at.isoformat()


async def due_starts(session: AsyncSession) -> list[DueStart]:
    """Planned meetups of chat-format schedules that have not started nor been dealt with
    (a firing claimed but skipped, because it was too late or the channel was busy)."""
    rows = (
        await session.execute(
            select(Meetup, Community.team_id)
            .join(MeetupSchedule, MeetupSchedule.community_id == Meetup.community_id)
            .join(Community, Community.id == Meetup.community_id)
            .outerjoin(ChatMeetup, ChatMeetup.rota_meetup_id == Meetup.id)
            .where(
                Meetup.status == MeetupStatus.PLANNED,
                MeetupSchedule.format == MeetupFormat.CHAT,
                ChatMeetup.id.is_(None),
            )
            .order_by(Meetup.starts_at, Meetup.id)
        )
    ).all()
    due = [DueStart(team_id, m.community_id, m.id, m.starts_at) for m, team_id in rows]
    if not due:
        return []
    claimed = set(
        (
            await session.execute(
                select(JobClaim.job_key, JobClaim.occurrence).where(
                    JobClaim.job_key.in_([d.key for d in due])
                )
            )
        ).all()
    )
    return [d for d in due if (d.key, d.occurrence) not in claimed]


class StartOutcome(StrEnum):
    STARTED = "started"
    STALE = "stale"  # cancelled, moved, no longer a chat, or already dealt with
    LATE = "late"  # hearth was down until the meetup's time was (nearly) over
    BUSY = "busy"  # a chat meetup is already running in the channel
    NOBODY = "nobody"  # nobody on the rota and no lead to facilitate


@dataclass(frozen=True)
class RotaStart:
    outcome: StartOutcome
    chat_meetup_id: int | None = None
    facilitator_id: str | None = None
    channel_id: str | None = None


async def _stand_in(session: AsyncSession, community: Community, schedule: MeetupSchedule) -> str:
    """Who facilitates when nobody on the rota can: whoever set the schedule if they still
    lead the community, else its first lead; "" when it has none."""
    leads = await community_service.leads(session, community)
    if schedule.created_by_id in leads:
        return schedule.created_by_id
    return leads[0] if leads else ""


async def start_from_rota(
    session: AsyncSession, due: DueStart, now: datetime, unavailable: Unavailable
) -> RotaStart:
    """Start the rota meetup's chat in its channel, once; or say why it did not start."""
    meetup = await session.get(Meetup, due.meetup_id)
    if (
        meetup is None
        or meetup.community_id != due.community_id
        or meetup.status != MeetupStatus.PLANNED
        or meetup.starts_at != due.starts_at
    ):
        return RotaStart(StartOutcome.STALE)
    community = await session.get(Community, meetup.community_id)
    schedule = await session.scalar(
        select(MeetupSchedule).where(MeetupSchedule.community_id == meetup.community_id)
    )
    if community is None or community.team_id != due.team_id:
        return RotaStart(StartOutcome.STALE)
    if schedule is None or schedule.format != MeetupFormat.CHAT or now < meetup.starts_at:
        return RotaStart(StartOutcome.STALE)
    if not await claim(session, due.key, due.occurrence, now):
        return RotaStart(StartOutcome.STALE)
    channel_id = community.channel_id
    if await session.scalar(select(ChatMeetup.id).where(ChatMeetup.rota_meetup_id == meetup.id)):
        return RotaStart(StartOutcome.STALE)
    ends_at = meetup.starts_at + timedelta(minutes=meetup.duration_minutes)
    left = int((ends_at - now).total_seconds() // 60)
    if left < MIN_LENGTH_MINUTES:
        return RotaStart(StartOutcome.LATE, channel_id=channel_id)
    length = length_for(min(meetup.duration_minutes, left))
    turn = await turn_for(session, community, meetup.id, now, unavailable)
    facilitator = turn.facilitator_id if turn is not None else None
    stand_in = facilitator is None
    if facilitator is None:
        facilitator = await _stand_in(session, community, schedule) or None
    if facilitator is None:
        return RotaStart(StartOutcome.NOBODY, channel_id=channel_id)
    options = options_from(await saved_plan(session, meetup.id), length)
    running = await meetup_service.running_meetup(session, community.team_id, channel_id)
    if running is not None:
        return RotaStart(StartOutcome.BUSY, facilitator_id=facilitator, channel_id=channel_id)
    try:
        chat = await meetup_service.start(
            session,
            Actor(community.team_id, facilitator),
            channel_id,
            options,
            now,
            rota_meetup_id=meetup.id,
            stand_in=stand_in,
        )
    except Conflict:  # started in the channel a moment ago
        return RotaStart(StartOutcome.BUSY, facilitator_id=facilitator, channel_id=channel_id)
    if not stand_in and meetup.facilitator_id is None:
        # Whoever runs it is who facilitated it, whatever statuses say by the time it ends.
        meetup.facilitator_id = facilitator
        await session.flush()
    return RotaStart(
        StartOutcome.STARTED,
        chat_meetup_id=chat.id,
        facilitator_id=facilitator,
        channel_id=channel_id,
    )
