"""The rota's timed side: what is due about each meetup, and what the facilitator is handed.

Before each meetup the facilitator gets a reminder, on the day the channel hears who is
facilitating (and, when nobody has confirmed, the next person is asked to step in), and once
it has taken place the turn moves on. Every one of these is worked out from current rows
(meetups of a schedule that still exists), planned under the schedule's revision and the
meetup's start, so nothing fires from a deleted schedule, an older revision or a time the
meetup was moved away from. What was owed is kept in `RotaNotice`, so each is owed once;
the message itself is recorded in the outbox (`bot.services.outbox`) in the same transaction,
which sends it, retries it while Slack is unwell and gives it up once it is no use (a
reminder is never sent after its meetup started), and tells the notice how it went.

A changed schedule keeps the coming meetups that still fit it (see `rota.set_schedule`), and
what was sent about them stands: a notice belongs to the meetup and its start, not to the
revision. A facilitator already reminded about Tuesday's meetup is not reminded again because
a lead moved the reminder to a day ahead (or changed the length, the format or the
announcement): they know it is theirs and when, the channel is told the schedule changed,
and what is still to come (the announcement on the day, the chat's start) follows the new
schedule. A schedule change never moves a meetup it keeps; only a meetup whose start changes
(moved by a lead) is reminded about afresh, since its facilitator needs the new time. A
reminder not yet sent goes out at the new reminder time, or at once when that has already
passed, as long as the meetup has not started. Meetups the change dropped are gone, with
their notices, so nothing planned for them fires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from bot.services import actions, outbox, rota
from bot.services import community as community_service
from bot.services.health_check import MINUTES_SOURCE as HEALTH_CHECK_MINUTES
from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.meetup import MINUTES_SOURCE as MEETUP_MINUTES
from bot.services.meetup import MeetupMinutes
from bot.services.recurrence import zone
from bot.services.rota import MeetupStatus, Turn, Unavailable
from models.community import Community
from models.lean_coffee import (
    LeanCoffeeSession,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.minutes import Minutes
from models.rota import Meetup, MeetupSchedule
from models.rota_reminders import RotaNotice, RotaOverload

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTES_PER_DAY = 24 * 60
OVERLOAD_NOTICE_DAYS = 7  # leads hear about an overload within a week, or not at all
CATCH_UP_DAYS = 7  # meetups missed while hearth was down, this far back, are still recorded
PACK_ACTIONS = 40  # more than a message can hold: the blocks show what fits, and count the rest
PACK_TOPICS = 5
PACK_DISCUSSED = 5
# The outbox purpose of every notice's message: it learns its notice's id (`subject_id`).
NOTICE = "rota.notice"
# What a notice's firing is claimed under (with its `claim_key`): owing it is one step.
OWED_OCCURRENCE = "owed"


class JobKind(StrEnum):
    REMINDER = "reminder"  # DM to the facilitator, a while before
    ANNOUNCEMENT = "announcement"  # in the channel, on the day
    STEP_IN = "step_in"  # DM to the next person when the facilitator has not confirmed
    HELD = "held"  # the meetup is over: record who facilitated, moving the turn on
    # DM to a lead: someone is facilitating far more than their share. Not a job of its own:
    # owed when the meetup that tipped the balance is held.
    OVERLOAD = "overload"


NOTICE_KINDS = (JobKind.REMINDER, JobKind.ANNOUNCEMENT, JobKind.STEP_IN)


class Outcome(StrEnum):
    OWED = "owed"  # in the outbox, on its way: `sent` or `failed` once Slack has answered
    SENT = "sent"
    LATE = "late"  # came due while hearth was down, and is no use any more
    NOBODY = "nobody"  # nobody to send it to
    NOT_NEEDED = "not_needed"  # e.g. no step-in needed: the facilitator confirmed
    FAILED = "failed"  # given up: Slack refused it for good, or it was too late to be useful


@dataclass(frozen=True)
class DueJob:
    """One firing the database says is due: ids only, re-read by the job."""

    kind: JobKind
    community_id: int
    meetup_id: int
    revision: int
    starts_at: datetime
    due_at: datetime
    meetup_created_at: datetime | None = None  # tells a meetup from one reusing its id
    team_id: str | None = None  # the community's workspace, which the job acts for

    @property
    def claim_key(self) -> str:
        """What is claimed: the message about this meetup at this start, whichever revision
        planned it, so a firing planned before a schedule change and one planned after can't
        both send it. Also the key of the message in the outbox."""
        return message_key(self.kind, self.meetup_id, self.meetup_created_at, self.starts_at)

    @property
    def key(self) -> str:
        """The scheduler's name for it: a new revision is a new timer."""
        return f"{self.claim_key}:r{self.revision}"


def message_key(
    kind: str,
    meetup_id: int,
    meetup_created_at: datetime | None,
    starts_at: datetime,
    about_id: str = "",
    to_id: str = "",
) -> str:
    """The name of one message about a meetup at one start (and, for an overload, about one
    person to one lead). The meetup's creation time is part of it, as SQLite may give a
    dropped meetup's id to a new one, whose messages are new messages."""
    stamp = int(starts_at.timestamp())
    key = f"rota.{kind}:{meetup_id}:{_microseconds(meetup_created_at)}:{stamp}"
    return f"{key}:{about_id}:{to_id}" if about_id or to_id else key


def _microseconds(moment: datetime | None) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) if moment is not None else 0


@dataclass(frozen=True)
class Preparation:
    """A community whose coming meetups have no rows yet, and when they are needed."""

    community_id: int
    due_at: datetime


@dataclass(frozen=True)
class NoticeTimes:
    remind_at: datetime
    announce_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class MeetupContext:
    community: Community
    schedule: MeetupSchedule
    meetup: Meetup


# --- when -----------------------------------------------------------------------------------


def before(starts_at: datetime, minutes: int, time_zone: str) -> datetime:
    """`minutes` before a meetup, whole days counted on the community's calendar.

    "Two days before a 10:00 meetup" is 10:00 two days earlier in the community's time zone,
    even when the clocks changed in between; what is left over (the hour before an
    announcement) is real elapsed time.
    """
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    local = starts_at.astimezone(zone(time_zone))
    return (local - timedelta(days=days)).astimezone(UTC) - timedelta(minutes=rest)


def notice_times(
    schedule: MeetupSchedule, starts_at: datetime, duration_minutes: int
) -> NoticeTimes:
    return NoticeTimes(
        remind_at=before(starts_at, schedule.reminder_minutes_before, schedule.time_zone),
        announce_at=before(starts_at, schedule.announce_minutes_before, schedule.time_zone),
        ends_at=starts_at + timedelta(minutes=duration_minutes),
    )


def deadline(kind: JobKind, starts_at: datetime, duration_minutes: int) -> datetime | None:
    """Until when a late notice is still worth sending (None: always); the outbox gives up
    on a message still unsent by then."""
    if kind in (JobKind.REMINDER, JobKind.STEP_IN):
        return starts_at  # no use once the meetup has begun
    if kind == JobKind.ANNOUNCEMENT:
        return starts_at + timedelta(minutes=duration_minutes)  # latecomers still join
    if kind == JobKind.OVERLOAD:
        return starts_at + timedelta(days=OVERLOAD_NOTICE_DAYS)
    return None  # a turn advance is always recorded


# --- what is due ------------------------------------------------------------------------------


async def meetups_to_prepare(session: AsyncSession, now: datetime) -> list[Preparation]:
    """Communities whose next few meetups have no rows yet (a new or changed schedule, or
    time moving on): due at once, or when the earliest of them first needed a message if
    that has passed (so the rows are made as of then).

    Meetups missed while hearth was not running (since the schedule was set, up to
    `CATCH_UP_DAYS` back) count too, so their turn still moves on and their late messages
    are skipped on the record rather than forgotten.
    """
    result = []
    for schedule in await session.scalars(select(MeetupSchedule).order_by(MeetupSchedule.id)):
        duration = timedelta(minutes=schedule.duration_minutes)
        try:
            cadence = rota.cadence_of(schedule)
            horizon = cadence.occurrences(now - duration, rota.UPCOMING)[-1]
            since = max(schedule.updated_at, now - timedelta(days=CATCH_UP_DAYS)) - duration
            slots = [s for s in cadence.occurrences(since, 4 * rota.UPCOMING) if s <= horizon]
        except DomainError:
            logger.warning("Meetup schedule %s cannot be read; skipping it", schedule.id)
            continue
        existing = set(
            await session.scalars(
                select(Meetup.occurrence).where(
                    Meetup.community_id == schedule.community_id, Meetup.occurrence.in_(slots)
                )
            )
        )
        missing = [slot for slot in slots if slot not in existing]
        if missing:
            times = [notice_times(schedule, slot, schedule.duration_minutes) for slot in missing]
            first_needed = min(min(t.remind_at, t.announce_at) for t in times)
            due = min(now, max(first_needed, schedule.updated_at))
            result.append(Preparation(schedule.community_id, due))
    return result


async def due_jobs(session: AsyncSession) -> list[DueJob]:
    """Every reminder, announcement, step-in ask and turn advance still to do, for meetups of
    schedules that exist now (a notice owed is done: the outbox sends it).

    Due times come from the schedule as it is now (a changed reminder time moves what is
    still to send); what was already done for the meetup at its current start is not
    planned again, whatever revision it was sent under."""
    rows = (
        await session.execute(
            select(Meetup, MeetupSchedule, Community.team_id)
            .join(MeetupSchedule, MeetupSchedule.community_id == Meetup.community_id)
            .join(Community, Community.id == Meetup.community_id)
            .where(Meetup.status == MeetupStatus.PLANNED)
            .order_by(Meetup.starts_at, Meetup.id)
        )
    ).all()
    notices: dict[tuple[int, str, datetime], RotaNotice] = {}
    if rows:
        for notice in await session.scalars(
            select(RotaNotice).where(
                RotaNotice.meetup_id.in_([m.id for m, _, _ in rows]),
                RotaNotice.kind.in_([str(k) for k in NOTICE_KINDS]),
            )
        ):
            notices[(notice.meetup_id, notice.kind, notice.starts_at)] = notice
    jobs: list[DueJob] = []
    for meetup, schedule, team_id in rows:
        times = notice_times(schedule, meetup.starts_at, meetup.duration_minutes)
        planned_at = {
            JobKind.REMINDER: times.remind_at,
            JobKind.ANNOUNCEMENT: times.announce_at,
            JobKind.STEP_IN: times.announce_at,
        }
        for kind, at in planned_at.items():
            notice = notices.get((meetup.id, kind, meetup.starts_at))
            if notice is not None and notice.done_at is not None:
                continue
            jobs.append(
                DueJob(
                    kind,
                    meetup.community_id,
                    meetup.id,
                    schedule.revision,
                    meetup.starts_at,
                    at,
                    meetup_created_at=meetup.created_at,
                    team_id=team_id,
                )
            )
        jobs.append(
            DueJob(
                JobKind.HELD,
                meetup.community_id,
                meetup.id,
                schedule.revision,
                meetup.starts_at,
                times.ends_at,
                meetup_created_at=meetup.created_at,
                team_id=team_id,
            )
        )
    return jobs


async def current(session: AsyncSession, job: DueJob) -> MeetupContext | None:
    """The meetup, schedule and community a job was planned for, if that is still what the
    database says: None when the schedule was deleted or changed (another revision: the job
    planned under the new one takes over), or the meetup was cancelled, held, moved or
    deleted (a meetup the change dropped is gone, with its notices)."""
    meetup = await session.scalar(select(Meetup).where(Meetup.id == job.meetup_id))
    if meetup is None or meetup.community_id != job.community_id:
        return None
    if job.meetup_created_at is not None and meetup.created_at != job.meetup_created_at:
        return None  # another meetup, given the id of one that was dropped
    if meetup.status != MeetupStatus.PLANNED or meetup.starts_at != job.starts_at:
        return None
    schedule = await session.scalar(
        select(MeetupSchedule).where(MeetupSchedule.community_id == meetup.community_id)
    )
    if schedule is None or schedule.revision != job.revision:
        return None
    community = await session.get(Community, meetup.community_id)
    if community is None:
        return None
    return MeetupContext(community, schedule, meetup)


async def member_ids(session: AsyncSession, community_id: int) -> list[str]:
    community = await session.get(Community, community_id)
    if community is None:
        return []
    return [m.user_id for m in await rota.members(session, community)]


# --- notices ----------------------------------------------------------------------------------


async def open_notice(session: AsyncSession, job: DueJob, now: datetime) -> RotaNotice:
    """The notice row for a reminder, announcement or step-in ask, created on first use."""
    where = (
        RotaNotice.meetup_id == job.meetup_id,
        RotaNotice.kind == job.kind,
        RotaNotice.starts_at == job.starts_at,
        RotaNotice.about_id == "",
        RotaNotice.to_id == "",
    )
    existing = await session.scalar(select(RotaNotice).where(*where))
    if existing is not None:
        return existing
    notice = RotaNotice(
        meetup_id=job.meetup_id,
        kind=job.kind,
        starts_at=job.starts_at,
        about_id="",
        to_id="",
        revision=job.revision,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(notice)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(select(RotaNotice).where(*where))
        assert found is not None
        return found
    return notice


async def close_notice(
    session: AsyncSession,
    notice_id: int,
    now: datetime,
    outcome: Outcome,
    *,
    sent_to: str | None = None,
    message_ts: str | None = None,
) -> None:
    notice = await session.get(RotaNotice, notice_id)
    if notice is None or notice.done_at is not None:
        return
    notice.done_at = now
    notice.outcome = outcome
    notice.sent_to = sent_to
    notice.message_ts = message_ts
    await session.flush()


@outbox.on_delivered(NOTICE)
async def notice_delivered(session: AsyncSession, landed: outbox.Landed) -> None:
    """The notice's message is in Slack: where it landed, in the delivery's transaction."""
    await session.execute(
        update(RotaNotice)
        .where(RotaNotice.id == landed.subject_id, RotaNotice.outcome == Outcome.OWED)
        .values(outcome=Outcome.SENT, message_ts=landed.ts)
    )


@outbox.on_given_up(NOTICE)
async def notice_given_up(
    session: AsyncSession, _team_id: str, notice_id: int, reason: str
) -> None:
    """Slack never took it (the person left, the channel is archived, or it stayed down until
    the message was no use): the outbox row says why; the notice says it failed."""
    logger.warning("Gave up on rota notice %s: %s", notice_id, reason)
    await session.execute(
        update(RotaNotice)
        .where(RotaNotice.id == notice_id, RotaNotice.outcome == Outcome.OWED)
        .values(outcome=Outcome.FAILED)
    )


# --- whose turn -----------------------------------------------------------------------------


async def turn_for(
    session: AsyncSession,
    community: Community,
    meetup_id: int,
    now: datetime,
    unavailable: Unavailable,
) -> Turn | None:
    turns = await rota.plan(session, community, now, unavailable=unavailable)
    return next((t for t in turns if t.meetup_id == meetup_id), None)


async def step_in_candidate(
    session: AsyncSession,
    community: Community,
    turn: Turn,
    now: datetime,
    unavailable: Unavailable,
) -> str | None:
    """Who the rota would pick for this meetup if its facilitator could not come."""
    if turn.facilitator_id is None:
        return None

    def without_facilitator(user_id: str, starts_at: datetime) -> bool:
        if user_id == turn.facilitator_id and starts_at == turn.starts_at:
            return True
        return unavailable(user_id, starts_at)

    other = await turn_for(session, community, turn.meetup_id, now, without_facilitator)
    if other is None or other.facilitator_id == turn.facilitator_id:
        return None
    return other.facilitator_id


async def record_overloads(
    session: AsyncSession, community: Community, meetup: Meetup, revision: int, now: datetime
) -> list[RotaNotice]:
    """After a meetup: note who has just become overloaded (one notice per lead, to be owed
    by the caller in the same transaction) and forget who no longer is. Returns the new
    notices."""
    heavy = set(rota.overloaded(await rota.stats(session, community)))
    known = {
        row.user_id: row
        for row in await session.scalars(
            select(RotaOverload).where(RotaOverload.community_id == community.id)
        )
    }
    gone = [user_id for user_id in known if user_id not in heavy]
    if gone:
        await session.execute(
            delete(RotaOverload).where(
                RotaOverload.community_id == community.id, RotaOverload.user_id.in_(gone)
            )
        )
    leads = await community_service.leads(session, community)
    created: list[RotaNotice] = []
    for user_id in sorted(heavy - known.keys()):
        session.add(RotaOverload(community_id=community.id, user_id=user_id, since=now))
        for lead in leads:
            notice = RotaNotice(
                meetup_id=meetup.id,
                kind=JobKind.OVERLOAD,
                starts_at=meetup.starts_at,
                about_id=user_id,
                to_id=lead,
                revision=revision,
                created_at=now,
            )
            session.add(notice)
            created.append(notice)
    await session.flush()
    return created


async def times_facilitated(
    session: AsyncSession, community: Community, user_id: str
) -> tuple[int, float]:
    """How many meetups `user_id` has facilitated, and the rota's average."""
    rows = await rota.stats(session, community)
    mine = next((r.times for r in rows if r.user_id == user_id), 0)
    average = sum(r.times for r in rows) / len(rows) if rows else 0.0
    return mine, average


# --- the hand-over pack ---------------------------------------------------------------------


@dataclass(frozen=True)
class LastMinutes:
    title: str
    held_on: date
    facilitator_id: str
    topics: tuple[str, ...]  # discussed (a chat meetup's prompts), first few
    topics_discussed: int
    takeaways: int  # actions included
    actions: int
    topic_word: str = "topic"  # what `topics` are called: "topic", or "prompt" for a chat


@dataclass(frozen=True)
class OpenAction:
    text: str
    owner_id: str | None
    due_date: date | None
    topic_title: str
    action_id: int  # with `source`, what its "Mark as done" button carries
    source: str


@dataclass(frozen=True)
class WaitingTopic:
    title: str
    votes: int


@dataclass(frozen=True)
class HandoverPack:
    """What a facilitator needs to pick up where the last meetup left off."""

    last: LastMinutes | None
    actions: tuple[OpenAction, ...]  # newest first
    waiting: tuple[WaitingTopic, ...]
    waiting_total: int
    actions_total: int = 0  # open actions in all, of which `actions` are the newest


async def handover_pack(session: AsyncSession, community: Community) -> HandoverPack:
    waiting, waiting_total = await _waiting_topics(session, community)
    open_actions, actions_total = await _open_actions(session, community)
    return HandoverPack(
        last=await _last_minutes(session, community),
        actions=open_actions,
        waiting=waiting,
        waiting_total=waiting_total,
        actions_total=actions_total,
    )


async def _last_minutes(session: AsyncSession, community: Community) -> LastMinutes | None:
    """The channel's last meeting in short. Health checks are passed over: they are not a
    meeting to pick up from, and the actions recorded after them are among the open ones."""
    row = await session.scalar(
        select(Minutes)
        .where(
            Minutes.team_id == community.team_id,
            Minutes.channel_id == community.channel_id,
            Minutes.source != HEALTH_CHECK_MINUTES,
        )
        .order_by(Minutes.held_on.desc(), Minutes.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    try:
        if row.source == MEETUP_MINUTES:
            return _meetup_last_minutes(row, MeetupMinutes.model_validate(row.body))
        body = LeanCoffeeMinutes.model_validate(row.body)
    except ValidationError:  # another format's minutes: show what every format has
        return LastMinutes(row.title, row.held_on, row.facilitator_id, (), 0, 0, 0)
    return LastMinutes(
        title=row.title,
        held_on=row.held_on,
        facilitator_id=row.facilitator_id,
        topics=tuple(t.title for t in body.discussed[:PACK_DISCUSSED]),
        topics_discussed=len(body.discussed),
        takeaways=sum(len(t.takeaways) for t in body.discussed),
        actions=len(body.actions),
    )


def _meetup_last_minutes(row: Minutes, body: MeetupMinutes) -> LastMinutes:
    """A chat meetup in short: its prompts (each a thread), takeaways and actions (takeaways
    with an owner), as its minutes and the archive count them."""
    return LastMinutes(
        title=row.title,
        held_on=row.held_on,
        facilitator_id=row.facilitator_id,
        topics=tuple(p.text for p in body.prompts[:PACK_DISCUSSED]),
        topics_discussed=len(body.prompts),
        takeaways=len(body.takeaways),
        actions=sum(1 for t in body.takeaways if t.owner_id),
        topic_word="prompt",
    )


async def _open_actions(
    session: AsyncSession, community: Community
) -> tuple[tuple[OpenAction, ...], int]:
    """The channel's actions nobody has marked done yet (from every format), newest first,
    and how many there are in all."""
    found = await actions.open_actions(
        session, community.team_id, community.channel_id, limit=PACK_ACTIONS
    )
    total = len(found)
    if total == PACK_ACTIONS:
        total = await actions.count_open(session, community.team_id, community.channel_id)
    listed = tuple(
        OpenAction(a.text, a.owner_id, a.due_date, a.topic_title, a.id, a.source) for a in found
    )
    return listed, total


async def _waiting_topics(
    session: AsyncSession, community: Community
) -> tuple[tuple[WaitingTopic, ...], int]:
    """Topics still to discuss: on the running board, or left over from the last session;
    most votes first. Returns the top few and how many there are in all."""
    in_channel = (
        LeanCoffeeSession.team_id == community.team_id,
        LeanCoffeeSession.channel_id == community.channel_id,
    )
    source = await session.scalar(
        select(LeanCoffeeSession.id).where(*in_channel, LeanCoffeeSession.status != "ended")
    )
    if source is None:
        source = await session.scalar(
            select(LeanCoffeeSession.id)
            .where(*in_channel, LeanCoffeeSession.status == "ended")
            .order_by(LeanCoffeeSession.ended_at.desc(), LeanCoffeeSession.id.desc())
            .limit(1)
        )
    if source is None:
        return (), 0
    votes = func.count(LeanCoffeeVote.id)
    rows = (
        await session.execute(
            select(LeanCoffeeTopic.title, votes)
            .outerjoin(LeanCoffeeVote, LeanCoffeeVote.topic_id == LeanCoffeeTopic.id)
            .where(LeanCoffeeTopic.session_id == source, LeanCoffeeTopic.state == "open")
            .group_by(LeanCoffeeTopic.id, LeanCoffeeTopic.title, LeanCoffeeTopic.proposed_at)
            .order_by(votes.desc(), LeanCoffeeTopic.proposed_at, LeanCoffeeTopic.id)
        )
    ).all()
    return tuple(WaitingTopic(title, count) for title, count in rows[:PACK_TOPICS]), len(rows)


async def withdraw_notices(
    session: AsyncSession, team_id: str, meetup: Meetup, starts_at: datetime, now: datetime
) -> int:
    """Take back the reminder, announcement and step-in ask owed for `meetup` at `starts_at`
    that Slack has not taken yet (the meetup was cancelled or moved from that time)."""
    keys = [message_key(kind, meetup.id, meetup.created_at, starts_at) for kind in NOTICE_KINDS]
    return await outbox.withdraw(session, team_id, keys, now)
