"""Timed rota work: reminding the facilitator, announcing the meetup on the day, asking the
next person to step in, moving the turn on afterwards, and telling leads about overload.

The database says what is due (`rota_reminders.due_jobs`); each job re-reads the meetup and
its schedule, gives up if either changed since it was planned, claims its firing (per
message: a timer planned before a schedule change and its replacement can't both send) and
acts once, however many times or processes wake it. The message it has to send is owed
through the outbox in the claim's transaction, so it can be neither lost nor doubled: the
outbox sends it, retries it with back-off while Slack fails, and gives it up once it is too
late to be useful (a reminder or a step-in ask once the meetup has started).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.blocks import rota_reminders as blocks
from bot.presenters import rota as present
from bot.scheduler import PlannedJob
from bot.services import rota
from bot.services import rota_reminders as reminders
from bot.services.rota import Unavailable
from bot.services.rota_reminders import DueJob, JobKind, MeetupContext, Outcome
from bot.services.scheduling import claim
from bot.slack_status import away_checker
from models.community import Community
from models.rota import Meetup
from models.rota_reminders import RotaNotice

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """Where a message goes (a channel, or a person's id for their DM with hearth)."""

    channel: str
    message: blocks.Outgoing


Compose = Callable[
    ["AsyncSession", MeetupContext, Unavailable, datetime], Awaitable[Draft | Outcome]
]


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        jobs = [
            PlannedJob(
                key=f"rota.prepare:{prep.community_id}",
                due_at=prep.due_at,
                func=prepare_meetups,
                args=(deps, prep.community_id, prep.due_at),
            )
            for prep in await reminders.meetups_to_prepare(session, deps.clock.now())
        ]
        jobs.extend(
            PlannedJob(key=due.key, due_at=due.due_at, func=JOBS[due.kind], args=(deps, due))
            for due in await reminders.due_jobs(session)
        )
        return jobs

    deps.scheduler.add_source(planned_jobs)


async def prepare_meetups(deps: Deps, community_id: int, due_at: datetime) -> None:
    """Give the coming meetups rows, so each can be reminded about (idempotent). Counted
    from when this was due, so a meetup missed while hearth was down gets its row too."""
    async with deps.sessionmaker.begin() as session:
        community = await session.get(Community, community_id)
        if community is not None:
            await rota.upcoming_meetups(session, community, min(deps.clock.now(), due_at))


# --- reminder, announcement, step-in --------------------------------------------------------


async def send_reminder(deps: Deps, job: DueJob) -> None:
    await _deliver(deps, job, _compose_reminder)


async def announce(deps: Deps, job: DueJob) -> None:
    await _deliver(deps, job, _compose_announcement)


async def ask_to_step_in(deps: Deps, job: DueJob) -> None:
    await _deliver(deps, job, _compose_step_in)


def _info(ctx: MeetupContext) -> blocks.MeetupInfo:
    return blocks.MeetupInfo(
        community_id=ctx.community.id,
        meetup_id=ctx.meetup.id,
        channel_id=ctx.community.channel_id,
        starts_at=ctx.meetup.starts_at,
        duration_minutes=ctx.meetup.duration_minutes,
        format=ctx.schedule.format,
    )


async def _compose_reminder(
    session: AsyncSession, ctx: MeetupContext, unavailable: Unavailable, now: datetime
) -> Draft | Outcome:
    turn = await reminders.turn_for(session, ctx.community, ctx.meetup.id, now, unavailable)
    if turn is None or turn.facilitator_id is None:
        return Outcome.NOBODY
    pack = await reminders.handover_pack(session, ctx.community)
    message = blocks.reminder(_info(ctx), turn.facilitator_id, turn.confirmed, pack)
    return Draft(turn.facilitator_id, message)


async def _compose_announcement(
    session: AsyncSession, ctx: MeetupContext, unavailable: Unavailable, now: datetime
) -> Draft | Outcome:
    turn = await reminders.turn_for(session, ctx.community, ctx.meetup.id, now, unavailable)
    if turn is None:
        return Outcome.NOBODY
    step_in = None
    if not turn.confirmed and now < ctx.meetup.starts_at:  # the ask goes out until then
        step_in = await reminders.step_in_candidate(session, ctx.community, turn, now, unavailable)
    message = blocks.announcement(_info(ctx), turn.facilitator_id, turn.confirmed, step_in)
    return Draft(ctx.community.channel_id, message)


async def _compose_step_in(
    session: AsyncSession, ctx: MeetupContext, unavailable: Unavailable, now: datetime
) -> Draft | Outcome:
    turn = await reminders.turn_for(session, ctx.community, ctx.meetup.id, now, unavailable)
    if turn is None or turn.facilitator_id is None:
        return Outcome.NOBODY  # the announcement asks the whole channel instead
    if turn.confirmed:
        return Outcome.NOT_NEEDED
    asked = await reminders.step_in_candidate(session, ctx.community, turn, now, unavailable)
    if asked is None:
        return Outcome.NOBODY
    return Draft(asked, blocks.step_in_request(_info(ctx), turn.facilitator_id, asked))


async def _away_check(deps: Deps, job: DueJob) -> Unavailable | None:
    """Whose Slack status says they are away, fetched once for this run; None when the job
    is stale (nothing to do, so Slack need not be asked)."""
    async with deps.sessionmaker() as session:
        if await reminders.current(session, job) is None:
            return None
        people = await reminders.member_ids(session, job.community_id)
    return await away_checker(deps.client, people)


async def _deliver(deps: Deps, job: DueJob, compose: Compose) -> None:
    """Claim this message, work out what it says from what the database says now, and owe
    it through the outbox in the same transaction."""
    unavailable = await _away_check(deps, job)
    if unavailable is None:
        return
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        ctx = await reminders.current(session, job)
        if ctx is None:
            return
        if not await claim(session, job.claim_key, reminders.OWED_OCCURRENCE, now):
            return
        notice = await reminders.open_notice(session, job, now)
        if notice.done_at is not None:
            return
        limit = reminders.deadline(job.kind, ctx.meetup.starts_at, ctx.meetup.duration_minutes)
        if limit is not None and now >= limit:
            logger.warning(
                "Rota %s for meetup %s came due at %s but it is too late now; skipped",
                job.kind,
                job.meetup_id,
                job.due_at.isoformat(),
            )
            await reminders.close_notice(session, notice.id, now, Outcome.LATE)
            return
        draft = await compose(session, ctx, unavailable, now)
        if isinstance(draft, Outcome):
            await reminders.close_notice(session, notice.id, now, draft)
            return
        await _owe(session, ctx.community.team_id, notice, job.claim_key, draft, limit, now)
    deps.outbox.kick()


async def _owe(
    session: AsyncSession,
    team_id: str,
    notice: RotaNotice,
    key: str,
    draft: Draft,
    until: datetime | None,
    now: datetime,
) -> None:
    """Owe a notice's message (given up if still unsent at `until`); the notice is done, and
    learns from the outbox whether it was sent."""
    await present.owe(
        session,
        team_id,
        draft.channel,
        draft.message.text,
        now,
        draft.message.blocks,
        key=key,
        until=until,
        purpose=reminders.NOTICE,
        subject_id=notice.id,
    )
    await reminders.close_notice(session, notice.id, now, Outcome.OWED, sent_to=draft.channel)


# --- after the meetup -------------------------------------------------------------------------


async def meetup_held(deps: Deps, job: DueJob) -> None:
    """The meetup is over: record who facilitated it (the turn moves on), and tell the leads
    about anyone now facilitating far more than their share, in the same transaction."""
    unavailable = await _away_check(deps, job)
    if unavailable is None:
        return
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        ctx = await reminders.current(session, job)
        if ctx is None or not await claim(session, job.claim_key, "0", now):
            return
        ended = min(now, job.due_at)  # "who facilitated" as of the meetup, even when late
        held = await rota.mark_held(
            session, ctx.community, ctx.meetup.id, ended, unavailable=unavailable
        )
        if held is None:
            return
        notices = await reminders.record_overloads(session, ctx.community, held, job.revision, now)
        for notice in notices:
            await _tell_lead(session, ctx.community, held, notice, now)
        logger.info("Meetup %s held, facilitated by %s", held.id, held.facilitator_id)
    if notices:
        deps.outbox.kick()


async def _tell_lead(
    session: AsyncSession, community: Community, meetup: Meetup, notice: RotaNotice, now: datetime
) -> None:
    """Owe one lead a DM: someone has facilitated far more than their share (within a week
    of the meetup that showed it; after that, it is skipped)."""
    limit = reminders.deadline(JobKind.OVERLOAD, notice.starts_at, meetup.duration_minutes)
    if limit is not None and now >= limit:
        logger.warning("Overload notice %s is a week late; skipped", notice.id)
        await reminders.close_notice(session, notice.id, now, Outcome.LATE)
        return
    times, average = await reminders.times_facilitated(session, community, notice.about_id)
    draft = Draft(
        notice.to_id,
        blocks.overload_notice(community.channel_id, notice.about_id, times, average),
    )
    key = reminders.message_key(
        JobKind.OVERLOAD,
        meetup.id,
        meetup.created_at,
        notice.starts_at,
        notice.about_id,
        notice.to_id,
    )
    await _owe(session, community.team_id, notice, key, draft, limit, now)


JOBS: dict[JobKind, Callable[[Deps, DueJob], Awaitable[None]]] = {
    JobKind.REMINDER: send_reminder,
    JobKind.ANNOUNCEMENT: announce,
    JobKind.STEP_IN: ask_to_step_in,
    JobKind.HELD: meetup_held,
}
