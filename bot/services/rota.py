"""The facilitation rota: when the community meets, and whose turn it is to facilitate.

Whose turn it is is not stored as a pointer that could drift: it is worked out from who has
facilitated least recently (people who never have go first, by when they joined), skipping
anyone away, anyone who passed on that meetup, and anyone already facilitating an earlier
one. A swap or a confirmation pins a facilitator to one meetup; a meetup that has taken place
records who facilitated it, which is what moves the turn on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.actor import Actor
from bot.services.community import is_lead, require_lead
from bot.services.recurrence import Cadence, Frequency, zone
from models.community import Community
from models.rota import Meetup, MeetupSchedule, MeetupSkip, RotaAway, RotaMember, SwapRequest

UPCOMING = 5  # the next meetup and the four after it
OVERLOAD_FACTOR = 2.0  # "far more than their share": twice the average…
OVERLOAD_MINIMUM = 3  # …and at least this many times
# A meetup this close (starting soon or under way) is "the current one".
CURRENT_MEETUP_WINDOW = timedelta(hours=12)
# The longest away period one command or form sets: long enough for parental leave.
MAX_AWAY_DAYS = 366


class MeetupFormat(StrEnum):
    LEAN_COFFEE = "lean_coffee"
    CHAT = "chat"  # a time-boxed Slack chat
    OTHER = "other"


class MeetupStatus(StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"
    HELD = "held"


class SwapStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn, or called off because it no longer made sense


class SwapEnd(StrEnum):
    """Why a pending swap request was called off without an answer."""

    MEETUP_CANCELLED = "meetup_cancelled"
    MEETUP_MOVED = "meetup_moved"  # the person asked agreed to nothing about the new time
    SCHEDULE_CHANGED = "schedule_changed"  # the meetup went with the old schedule
    TAKEN = "taken"  # someone else is facilitating it now (another swap, stepping in)
    NOT_THEIR_TURN = "not_their_turn"  # the requester passed it on or left the rota


@dataclass(frozen=True)
class ScheduleInput:
    frequency: Frequency
    weekday: int
    at: time
    time_zone: str
    starts_on: date
    every_weeks: int = 1
    week_of_month: int = 1
    duration_minutes: int = 60
    format: MeetupFormat = MeetupFormat.LEAN_COFFEE
    reminder_minutes_before: int = 2 * 24 * 60
    announce_minutes_before: int = 60

    def cadence(self) -> Cadence:
        return Cadence(
            frequency=self.frequency,
            weekday=self.weekday,
            at=self.at,
            time_zone=self.time_zone,
            anchor=self.starts_on,
            every_weeks=self.every_weeks,
            week_of_month=self.week_of_month,
        )


@dataclass(frozen=True)
class Turn:
    """One upcoming meetup and who facilitates it (None: nobody available)."""

    meetup_id: int
    starts_at: datetime
    duration_minutes: int
    facilitator_id: str | None
    confirmed: bool
    moved: bool  # not at its usual time


@dataclass(frozen=True)
class FacilitationStat:
    user_id: str
    times: int
    last_at: datetime | None


@dataclass(frozen=True)
class PendingSwap:
    """A swap request nobody has answered yet, with the meetup it is about."""

    swap_id: int
    meetup_id: int
    from_user_id: str
    to_user_id: str
    starts_at: datetime


@dataclass(frozen=True)
class CalledOff:
    """A pending swap request that stopped making sense, and why (`facilitator_id`: who
    has the meetup now, when someone else took it)."""

    swap: PendingSwap
    reason: SwapEnd
    facilitator_id: str | None = None


@dataclass(frozen=True)
class ScheduleChange:
    """A schedule just set or changed, and what became of the coming meetups `/rota` was
    showing: how many no longer fit and were dropped, and how many were kept as they were."""

    schedule: MeetupSchedule
    dropped: int = 0
    kept: int = 0


# Whether someone is unavailable for a meetup for a reason only Slack knows (their status
# says they are on holiday or out sick). Returns True to pass them over.
Unavailable = Callable[[str, datetime], bool]


def _nobody_unavailable(_user_id: str, _starts_at: datetime) -> bool:
    return False


# --- schedule -------------------------------------------------------------------------------


def cadence_of(schedule: MeetupSchedule) -> Cadence:
    hours, minutes = (int(part) for part in schedule.at_time.split(":"))
    return Cadence(
        frequency=Frequency(schedule.frequency),
        weekday=schedule.weekday,
        at=time(hours, minutes),
        time_zone=schedule.time_zone,
        anchor=schedule.anchor,
        every_weeks=schedule.every_weeks,
        week_of_month=schedule.week_of_month,
    )


async def get_schedule(session: AsyncSession, community: Community) -> MeetupSchedule | None:
    return await session.scalar(
        select(MeetupSchedule).where(MeetupSchedule.community_id == community.id)
    )


async def set_schedule(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    schedule_input: ScheduleInput,
    now: datetime,
) -> ScheduleChange:
    """Create or change the schedule, keeping what people planned for the meetups to come.

    A coming meetup whose slot the new schedule still has is kept as it is: its facilitator
    and confirmation, a cancellation or a move (a moved meetup keeps the time it was moved
    to), swap requests and chat prompts. It takes the new length unless it had a length of
    its own. Only meetups whose slot the new schedule no longer has are dropped, with all
    that hung on them (unless moved to a time that is now a slot: then it is that slot's
    meetup). The revision changes, so nothing planned for the old schedule fires.

    Returns the schedule with how many of the coming meetups were dropped and kept."""
    await require_lead(session, community, actor, "change the meetup schedule")
    cadence = schedule_input.cadence()  # validates; raises InvalidInput
    if not 5 <= schedule_input.duration_minutes <= 480:
        raise InvalidInput("A meetup lasts between 5 minutes and 8 hours.", field="duration")
    if schedule_input.reminder_minutes_before < 0 or schedule_input.announce_minutes_before < 0:
        raise InvalidInput("Reminders go before the meetup, not after.", field="reminder")
    cadence.next_after(now)  # a cadence that never comes round raises here
    schedule = await get_schedule(session, community)
    old_duration = schedule.duration_minutes if schedule is not None else None
    if schedule is None:
        schedule = MeetupSchedule(community_id=community.id, revision=0)
        session.add(schedule)
    schedule.frequency = schedule_input.frequency
    schedule.weekday = schedule_input.weekday
    schedule.every_weeks = schedule_input.every_weeks
    schedule.week_of_month = schedule_input.week_of_month
    schedule.at_time = schedule_input.at.strftime("%H:%M")
    schedule.time_zone = schedule_input.time_zone
    schedule.anchor = schedule_input.starts_on
    schedule.duration_minutes = schedule_input.duration_minutes
    schedule.format = schedule_input.format
    schedule.reminder_minutes_before = schedule_input.reminder_minutes_before
    schedule.announce_minutes_before = schedule_input.announce_minutes_before
    schedule.created_by_id = schedule.created_by_id or actor.user_id
    schedule.updated_at = now
    schedule.revision = (schedule.revision or 0) + 1
    dropped, kept = await _fit_meetups(
        session, community, cadence, schedule_input.duration_minutes, old_duration, now
    )
    await session.flush()
    return ScheduleChange(schedule, dropped=dropped, kept=kept)


async def delete_schedule(
    session: AsyncSession, actor: Actor, community: Community, now: datetime
) -> None:
    await require_lead(session, community, actor, "delete the meetup schedule")
    schedule = await get_schedule(session, community)
    if schedule is None:
        raise NotFound("This community has no meetup schedule to delete.")
    await session.delete(schedule)
    await _drop_future_meetups(session, community, now)
    await session.flush()


async def _drop_future_meetups(session: AsyncSession, community: Community, now: datetime) -> None:
    """With the schedule gone, no meetup is coming: drop them all (their notices, skips,
    swap requests and chat prompts go with them, by the database's cascades)."""
    await session.execute(
        delete(Meetup).where(
            Meetup.community_id == community.id,
            Meetup.starts_at > now,
            Meetup.status != MeetupStatus.HELD,
        )
    )


def _slots_between(cadence: Cadence, first: datetime, last: datetime) -> set[datetime]:
    """Every slot of `cadence` from `first` to `last`, both included."""
    slots: set[datetime] = set()
    after = first - timedelta(microseconds=1)
    while after < last:
        batch = cadence.occurrences(after, 16)
        slots.update(batch)
        after = batch[-1]
    return slots


async def _fit_meetups(
    session: AsyncSession,
    community: Community,
    cadence: Cadence,
    duration_minutes: int,
    old_duration: int | None,
    now: datetime,
) -> tuple[int, int]:
    """Fit the coming meetups (not yet started) to a changed schedule: keep those whose slot
    `cadence` still has, drop the others. A meetup moved to what is now one of the slots
    becomes that slot's meetup (it happens at that time, as planned). Meetups under way or
    held are left alone.

    Returns how many of the next `UPCOMING` meetups to start (those `/rota` was showing, as
    far as they had rows) were dropped, and how many kept, for telling the lead; rows further
    ahead were made ahead of time, and nobody has planned around them."""
    coming = list(
        await session.scalars(
            select(Meetup)
            .where(
                Meetup.community_id == community.id,
                Meetup.starts_at > now,
                Meetup.status != MeetupStatus.HELD,
            )
            .order_by(Meetup.starts_at, Meetup.id)
        )
    )
    if not coming:
        return 0, 0
    moments = [t for m in coming for t in (m.occurrence, m.starts_at)]
    slots = _slots_between(cadence, min(moments), max(moments))
    taken = {m.occurrence for m in coming if m.occurrence in slots}
    for meetup in coming:
        if meetup.occurrence not in slots and meetup.starts_at in slots - taken:
            meetup.occurrence = meetup.starts_at
            taken.add(meetup.starts_at)
    gone = [m.id for m in coming if m.occurrence not in slots]
    for meetup in coming:
        own_length = old_duration is not None and meetup.duration_minutes != old_duration
        if meetup.occurrence in slots and not own_length:
            meetup.duration_minutes = duration_minutes
    shown = [m for m in coming if m.status == MeetupStatus.PLANNED][:UPCOMING]
    dropped = sum(1 for m in shown if m.id in gone)
    if gone:
        await session.execute(delete(Meetup).where(Meetup.id.in_(gone)))
    return dropped, len(shown) - dropped


async def upcoming_meetups(
    session: AsyncSession, community: Community, now: datetime, count: int = UPCOMING
) -> list[Meetup]:
    """The next `count` meetups that will happen, creating their rows as needed.

    Rows make each meetup a stable thing to remind about, cancel or move. Creating them
    is idempotent (unique community + slot), so two processes can do it at once.
    """
    schedule = await get_schedule(session, community)
    if schedule is None:
        return []
    cadence = cadence_of(schedule)
    slots = cadence.occurrences(now - timedelta(minutes=schedule.duration_minutes), count * 3)
    existing = {
        m.occurrence: m
        for m in await session.scalars(
            select(Meetup).where(Meetup.community_id == community.id, Meetup.occurrence.in_(slots))
        )
    }
    for slot in slots:
        if slot in existing:
            continue
        meetup = Meetup(
            community_id=community.id,
            occurrence=slot,
            starts_at=slot,
            duration_minutes=schedule.duration_minutes,
            status=MeetupStatus.PLANNED,
            created_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(meetup)
                await session.flush()
            existing[slot] = meetup
        except IntegrityError:
            found = await session.scalar(
                select(Meetup).where(Meetup.community_id == community.id, Meetup.occurrence == slot)
            )
            if found is not None:
                existing[slot] = found
    # Moved meetups may now sit outside the slots' order; take everything still to come.
    coming = await session.scalars(
        select(Meetup)
        .where(
            Meetup.community_id == community.id,
            Meetup.status == MeetupStatus.PLANNED,
            # Meetups last at most 8 hours; the exact end is checked below.
            Meetup.starts_at >= now - timedelta(hours=8),
        )
        .order_by(Meetup.starts_at, Meetup.id)
    )
    return [m for m in coming if m.starts_at + timedelta(minutes=m.duration_minutes) > now][:count]


async def get_meetup(session: AsyncSession, community: Community, meetup_id: int) -> Meetup:
    meetup = await session.scalar(
        select(Meetup).where(Meetup.id == meetup_id, Meetup.community_id == community.id)
    )
    if meetup is None:
        raise NotFound("I can't find that meetup any more.")
    return meetup


async def cancel_meetup(
    session: AsyncSession, actor: Actor, community: Community, meetup_id: int, now: datetime
) -> Meetup:
    """Cancel one meetup; the schedule carries on."""
    await require_lead(session, community, actor, "cancel a meetup")
    meetup = await get_meetup(session, community, meetup_id)
    if meetup.status != MeetupStatus.PLANNED or meetup.starts_at <= now:
        raise Conflict("Only a meetup that hasn't started yet can be cancelled.")
    meetup.status = MeetupStatus.CANCELLED
    await session.flush()
    return meetup


async def move_meetup(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    meetup_id: int,
    starts_at: datetime,
    now: datetime,
) -> Meetup:
    """Move one meetup to another time; the schedule carries on."""
    await require_lead(session, community, actor, "move a meetup")
    meetup = await get_meetup(session, community, meetup_id)
    if meetup.status != MeetupStatus.PLANNED or meetup.starts_at <= now:
        raise Conflict("Only a meetup that hasn't started yet can be moved.")
    if starts_at <= now:
        raise InvalidInput("Pick a time in the future.", field="starts_at")
    meetup.starts_at = starts_at
    await session.flush()
    return meetup


# --- membership -------------------------------------------------------------------------


async def members(session: AsyncSession, community: Community) -> list[RotaMember]:
    result = await session.scalars(
        select(RotaMember)
        .where(RotaMember.community_id == community.id, RotaMember.active.is_(True))
        .order_by(RotaMember.joined_at, RotaMember.id)
    )
    return list(result)


async def _add_member(
    session: AsyncSession, community: Community, user_id: str, now: datetime
) -> bool:
    """Add (or re-activate) someone; False if they were already in the rota."""
    row = await session.scalar(
        select(RotaMember).where(
            RotaMember.community_id == community.id, RotaMember.user_id == user_id
        )
    )
    if row is not None:
        if row.active:
            return False
        row.active = True
        row.joined_at = now
        return True
    session.add(RotaMember(community_id=community.id, user_id=user_id, joined_at=now))
    await session.flush()
    return True


async def join(session: AsyncSession, actor: Actor, community: Community, now: datetime) -> None:
    if not await _add_member(session, community, actor.user_id, now):
        raise Conflict("You're already in the rota. Thank you!")


async def leave(session: AsyncSession, actor: Actor, community: Community) -> None:
    await _deactivate(session, community, actor.user_id, "You're not in the rota.")


async def add_members(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    user_ids: Sequence[str],
    now: datetime,
) -> list[str]:
    """Leads add people; returns who was newly added."""
    await require_lead(session, community, actor, "add people to the rota")
    if not user_ids:
        raise InvalidInput("Say who to add, for example `/rota add @alex @sam`.")
    added = []
    for user_id in dict.fromkeys(user_ids):
        if await _add_member(session, community, user_id, now):
            added.append(user_id)
    await session.flush()
    return added


async def remove_member(
    session: AsyncSession, actor: Actor, community: Community, user_id: str
) -> None:
    await require_lead(session, community, actor, "remove people from the rota")
    await _deactivate(session, community, user_id, f"<@{user_id}> isn't in the rota.")


async def _deactivate(
    session: AsyncSession, community: Community, user_id: str, not_there: str
) -> None:
    row = await session.scalar(
        select(RotaMember).where(
            RotaMember.community_id == community.id,
            RotaMember.user_id == user_id,
            RotaMember.active.is_(True),
        )
    )
    if row is None:
        raise NotFound(not_there)
    row.active = False
    # Their pinned turns go back to the rota.
    await session.execute(
        Meetup.__table__.update()
        .where(
            Meetup.community_id == community.id,
            Meetup.facilitator_id == user_id,
            Meetup.status == MeetupStatus.PLANNED,
        )
        .values(facilitator_id=None, confirmed_at=None)
    )
    await session.flush()


def check_away_period(
    starts_on: date, ends_on: date, today: date, *, the_other_way: str | None = None
) -> None:
    """The one rule for an away period, whether it came from `/rota away`, the form or
    elsewhere: it ends on or after its first day, is not wholly past, and lasts at most a
    year (so a mistyped year never makes one silently long). `the_other_way` says how to
    ask for it the right way round (the command's words); the form's is the default."""
    if ends_on < starts_on:
        raise InvalidInput(
            "That ends before it starts. "
            + (the_other_way or f"Pick a last day on or after {_day_words(starts_on)}."),
            field="ends_on",
        )
    if ends_on < today:
        raise InvalidInput(
            "Those dates are in the past. Pick today or a later day.", field="ends_on"
        )
    if (ends_on - starts_on).days >= MAX_AWAY_DAYS:
        raise InvalidInput(
            "That's more than a year. For a long break, leave the rota with `/rota leave` "
            "and join again when you're back.",
            field="ends_on",
        )


def _day_words(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


async def set_away(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    user_id: str,
    starts_on: date,
    ends_on: date,
    now: datetime,
) -> RotaAway:
    if user_id != actor.user_id:
        await require_lead(session, community, actor, "mark someone else as away")
    schedule = await get_schedule(session, community)
    check_away_period(
        starts_on, ends_on, now.astimezone(zone(schedule.time_zone if schedule else "UTC")).date()
    )
    away = RotaAway(
        community_id=community.id,
        user_id=user_id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(away)
    await session.flush()
    return away


# --- whose turn -------------------------------------------------------------------------


async def _last_facilitated(session: AsyncSession, community: Community) -> dict[str, datetime]:
    rows = await session.execute(
        select(Meetup.facilitator_id, func.max(Meetup.starts_at))
        .where(
            Meetup.community_id == community.id,
            Meetup.status == MeetupStatus.HELD,
            Meetup.facilitator_id.is_not(None),
        )
        .group_by(Meetup.facilitator_id)
    )
    return {user: last for user, last in rows if user is not None}


async def _away_periods(session: AsyncSession, community: Community) -> list[RotaAway]:
    return list(
        await session.scalars(select(RotaAway).where(RotaAway.community_id == community.id))
    )


async def _skips(session: AsyncSession, meetup_ids: Sequence[int]) -> set[tuple[int, str]]:
    if not meetup_ids:
        return set()
    rows = await session.execute(
        select(MeetupSkip.meetup_id, MeetupSkip.user_id).where(MeetupSkip.meetup_id.in_(meetup_ids))
    )
    return {(meetup_id, user_id) for meetup_id, user_id in rows}


async def plan(
    session: AsyncSession,
    community: Community,
    now: datetime,
    *,
    count: int = UPCOMING,
    unavailable: Unavailable = _nobody_unavailable,
) -> list[Turn]:
    """Who facilitates each of the next `count` meetups.

    Whoever has waited longest goes first: people who have never facilitated (in the order
    they joined), then whoever facilitated least recently. Each person then goes to the back
    of the queue, so a small rota simply takes turns.
    """
    meetups = await upcoming_meetups(session, community, now, count)
    rota = await members(session, community)
    last = await _last_facilitated(session, community)
    aways = await _away_periods(session, community)
    skips = await _skips(session, [m.id for m in meetups])
    schedule = await get_schedule(session, community)
    tz = zone(schedule.time_zone) if schedule else zone("UTC")
    queue = sorted(
        rota,
        key=lambda m: (m.user_id in last, last.get(m.user_id, m.joined_at), m.joined_at, m.id),
    )
    order = [m.user_id for m in queue]

    def is_away(user_id: str, meetup: Meetup) -> bool:
        day = meetup.starts_at.astimezone(tz).date()
        return any(a.user_id == user_id and a.starts_on <= day <= a.ends_on for a in aways)

    turns = []
    for meetup in meetups:
        chosen = meetup.facilitator_id
        if chosen is None:
            chosen = next(
                (
                    user_id
                    for user_id in order
                    if (meetup.id, user_id) not in skips
                    and not is_away(user_id, meetup)
                    and not unavailable(user_id, meetup.starts_at)
                ),
                None,
            )
        if chosen in order:
            order.remove(chosen)
            order.append(chosen)
        turns.append(
            Turn(
                meetup_id=meetup.id,
                starts_at=meetup.starts_at,
                duration_minutes=meetup.duration_minutes,
                facilitator_id=chosen,
                confirmed=meetup.confirmed_at is not None,
                moved=meetup.starts_at != meetup.occurrence,
            )
        )
    return turns


async def next_turn(
    session: AsyncSession,
    community: Community,
    now: datetime,
    *,
    unavailable: Unavailable = _nobody_unavailable,
) -> Turn:
    turns = await plan(session, community, now, count=1, unavailable=unavailable)
    if not turns:
        raise Conflict(
            "This community has no meetup schedule yet. A lead can set one with `/rota schedule`."
        )
    return turns[0]


async def _require_facilitator_of(
    session: AsyncSession, community: Community, actor: Actor, turn: Turn, doing: str
) -> None:
    if turn.facilitator_id == actor.user_id:
        return
    await require_lead(session, community, actor, f"{doing} for someone else")


async def skip(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    now: datetime,
    *,
    unavailable: Unavailable = _nobody_unavailable,
) -> Turn:
    """The next meetup's facilitator passes; returns the meetup with whoever takes it."""
    turn = await next_turn(session, community, now, unavailable=unavailable)
    if turn.facilitator_id is None:
        raise Conflict("Nobody is down to facilitate the next meetup, so there's nothing to skip.")
    await _require_facilitator_of(session, community, actor, turn, "skip a turn")
    meetup = await get_meetup(session, community, turn.meetup_id)
    session.add(MeetupSkip(meetup_id=meetup.id, user_id=turn.facilitator_id, created_at=now))
    meetup.facilitator_id = None
    meetup.confirmed_at = None
    await session.flush()
    return await next_turn(session, community, now, unavailable=unavailable)


async def confirm(
    session: AsyncSession, actor: Actor, community: Community, meetup_id: int, now: datetime
) -> Meetup:
    """The facilitator confirms they will facilitate that meetup."""
    turns = await plan(session, community, now)
    turn = next((t for t in turns if t.meetup_id == meetup_id), None)
    if turn is None:
        raise Conflict("That meetup has already happened or was cancelled.")
    if turn.facilitator_id != actor.user_id:
        raise NotAllowed("That turn isn't yours any more; the rota has moved on.")
    meetup = await get_meetup(session, community, meetup_id)
    meetup.facilitator_id = actor.user_id
    meetup.confirmed_at = now
    await session.flush()
    return meetup


async def request_swap(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    other_user_id: str,
    now: datetime,
    *,
    unavailable: Unavailable = _nobody_unavailable,
) -> SwapRequest:
    turn = await next_turn(session, community, now, unavailable=unavailable)
    if turn.facilitator_id != actor.user_id:
        raise NotAllowed(
            "Only the facilitator of the next meetup can ask for a swap"
            + (f" (that's <@{turn.facilitator_id}>)." if turn.facilitator_id else ".")
        )
    if other_user_id == actor.user_id:
        raise InvalidInput("Pick someone other than yourself to swap with.")
    asked_already = await session.scalar(
        select(SwapRequest.id).where(
            SwapRequest.meetup_id == turn.meetup_id,
            SwapRequest.from_user_id == actor.user_id,
            SwapRequest.to_user_id == other_user_id,
            SwapRequest.status == SwapStatus.PENDING,
        )
    )
    if asked_already is not None:
        raise Conflict(
            f"You've already asked <@{other_user_id}> about this meetup and they haven't "
            "answered yet. Give them a little time, or ask someone else as well."
        )
    swap = SwapRequest(
        meetup_id=turn.meetup_id,
        from_user_id=actor.user_id,
        to_user_id=other_user_id,
        status=SwapStatus.PENDING,
        created_at=now,
    )
    session.add(swap)
    await session.flush()
    return swap


async def _swap_of_team(
    session: AsyncSession, actor: Actor, swap_id: int
) -> tuple[SwapRequest, Meetup, Community]:
    # Locked, so a withdrawal and an answer clicked at the same moment can't both win.
    swap = await session.get(SwapRequest, swap_id, with_for_update=True)
    meetup = await session.get(Meetup, swap.meetup_id) if swap else None
    community = await session.get(Community, meetup.community_id) if meetup else None
    if swap is None or meetup is None or community is None or community.team_id != actor.team_id:
        raise NotFound("That swap request is no longer around.")
    return swap, meetup, community


async def swap_of_team(
    session: AsyncSession, team_id: str, swap_id: int
) -> tuple[SwapRequest, Community]:
    """A swap request of this team and the community it is about (read only: who may act on
    it is checked before anything changes)."""
    row = (
        await session.execute(
            select(SwapRequest, Community)
            .join(Meetup, Meetup.id == SwapRequest.meetup_id)
            .join(Community, Community.id == Meetup.community_id)
            .where(SwapRequest.id == swap_id, Community.team_id == team_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("That swap request is no longer around.")
    return row[0], row[1]


async def _swap_end(
    session: AsyncSession,
    community: Community,
    swap: SwapRequest,
    meetup: Meetup,
    *,
    moved_meetup_id: int | None = None,
) -> tuple[SwapEnd, str | None] | None:
    """Why a pending swap no longer makes sense (and who has the meetup, if someone else
    took it), or None while it still does: the meetup is on, nobody else has taken it, and
    the requester is still in the rota and has not passed it on. Being away does not end
    it: that is exactly when someone else taking the turn helps."""
    if meetup.status == MeetupStatus.CANCELLED:
        return SwapEnd.MEETUP_CANCELLED, None
    if meetup.id == moved_meetup_id:
        return SwapEnd.MEETUP_MOVED, None
    if meetup.facilitator_id not in (None, swap.from_user_id):
        return SwapEnd.TAKEN, meetup.facilitator_id
    if (meetup.id, swap.from_user_id) in await _skips(session, [meetup.id]):
        return SwapEnd.NOT_THEIR_TURN, None
    if swap.from_user_id not in {m.user_id for m in await members(session, community)}:
        return SwapEnd.NOT_THEIR_TURN, None
    return None


def _no_longer_text(swap: SwapRequest, end: SwapEnd, facilitator_id: str | None) -> str:
    """Said to the person asked when they answer a request that stopped making sense."""
    asker = f"<@{swap.from_user_id}>"
    why = {
        SwapEnd.MEETUP_CANCELLED: "that meetup was cancelled",
        SwapEnd.MEETUP_MOVED: "that meetup was moved",
        SwapEnd.SCHEDULE_CHANGED: "the meetup schedule changed",
        SwapEnd.TAKEN: f"<@{facilitator_id}> is facilitating it now",
        SwapEnd.NOT_THEIR_TURN: f"it isn't {asker}'s turn any more",
    }[end]
    return f"{asker}'s request is called off: {why}. There's nothing for you to do."


async def answer_swap(
    session: AsyncSession, actor: Actor, swap_id: int, accept: bool, now: datetime
) -> tuple[SwapRequest, Meetup]:
    swap, meetup, community = await _swap_of_team(session, actor, swap_id)
    if swap.to_user_id != actor.user_id:
        raise NotAllowed("Only the person asked can answer this swap.")
    if swap.status == SwapStatus.CANCELLED:
        end = await _swap_end(session, community, swap, meetup)
        if end is not None:
            raise Conflict(_no_longer_text(swap, *end))
        if meetup.starts_at != meetup.occurrence:
            raise Conflict(
                "This swap request isn't open any more: it was withdrawn, or called off when "
                "the meetup moved. Nothing has changed, and there's nothing for you to do."
            )
        raise Conflict(
            "This swap request was withdrawn, so there's nothing to answer and nothing has "
            f"changed: the meetup is still <@{swap.from_user_id}>'s. Thanks anyway!"
        )
    if swap.status != SwapStatus.PENDING:
        raise Conflict(f"That swap was already {swap.status}.")
    if meetup.status == MeetupStatus.HELD or meetup.starts_at <= now:
        raise Conflict("That meetup has already happened.")
    end = await _swap_end(session, community, swap, meetup)
    if end is not None:
        raise Conflict(_no_longer_text(swap, *end))
    swap.status = SwapStatus.ACCEPTED if accept else SwapStatus.DECLINED
    swap.decided_at = now
    if accept:
        await _add_member(session, community, actor.user_id, now)
        meetup.facilitator_id = actor.user_id
        meetup.confirmed_at = now
    await session.flush()
    return swap, meetup


async def withdraw_swap(
    session: AsyncSession, actor: Actor, swap_id: int, now: datetime
) -> tuple[SwapRequest, Meetup]:
    """The person who asked (or a lead) takes back a request nobody has answered yet."""
    swap, meetup, community = await _swap_of_team(session, actor, swap_id)
    if swap.from_user_id != actor.user_id and not await is_lead(session, community, actor):
        raise NotAllowed(
            f"Only <@{swap.from_user_id}>, who asked for this swap, or one of the community's "
            "leads can withdraw it."
        )
    asked = f"<@{swap.to_user_id}>"
    if swap.status == SwapStatus.ACCEPTED:
        raise Conflict(
            f"{asked} has already accepted, so the meetup is theirs now. If that needs to "
            f"change, {asked} can pass it on with `/rota skip`."
        )
    if swap.status == SwapStatus.DECLINED:
        raise Conflict(f"{asked} has already declined, so there's nothing to withdraw.")
    if swap.status == SwapStatus.CANCELLED:
        raise Conflict("This request was already withdrawn or called off. Nothing else to do!")
    swap.status = SwapStatus.CANCELLED
    swap.decided_at = now
    await session.flush()
    return swap, meetup


async def pending_swaps(session: AsyncSession, community: Community) -> list[PendingSwap]:
    """The community's swap requests still waiting for an answer, oldest first."""
    rows = await session.execute(
        select(SwapRequest, Meetup.starts_at)
        .join(Meetup, Meetup.id == SwapRequest.meetup_id)
        .where(Meetup.community_id == community.id, SwapRequest.status == SwapStatus.PENDING)
        .order_by(SwapRequest.created_at, SwapRequest.id)
    )
    return [
        PendingSwap(swap.id, swap.meetup_id, swap.from_user_id, swap.to_user_id, starts_at)
        for swap, starts_at in rows
    ]


async def call_off_swaps(
    session: AsyncSession,
    community: Community,
    now: datetime,
    *,
    moved_meetup_id: int | None = None,
    pending_before: Sequence[PendingSwap] = (),
) -> list[CalledOff]:
    """Cancel the pending swap requests that a change just made pointless, so both people
    can be told; call after anything that changes a meetup or whose turn it is.

    `moved_meetup_id` names a meetup just moved: its requests are called off, since the
    person asked said nothing about the new time. `pending_before` (from `pending_swaps`
    before a schedule change) finds requests that went with the meetups the change dropped.
    Requests for meetups already under way or held are left alone: too late to matter.
    """
    called: list[CalledOff] = []
    rows = await session.execute(
        select(SwapRequest, Meetup)
        .join(Meetup, Meetup.id == SwapRequest.meetup_id)
        .where(
            Meetup.community_id == community.id,
            SwapRequest.status == SwapStatus.PENDING,
            Meetup.status != MeetupStatus.HELD,
            Meetup.starts_at > now,
        )
        .order_by(SwapRequest.created_at, SwapRequest.id)
    )
    for swap, meetup in rows:
        end = await _swap_end(session, community, swap, meetup, moved_meetup_id=moved_meetup_id)
        if end is None:
            continue
        swap.status = SwapStatus.CANCELLED
        swap.decided_at = now
        pending = PendingSwap(
            swap.id, meetup.id, swap.from_user_id, swap.to_user_id, meetup.starts_at
        )
        called.append(CalledOff(pending, *end))
    if pending_before:
        still_there = set(
            await session.scalars(
                select(SwapRequest.id).where(
                    SwapRequest.id.in_([p.swap_id for p in pending_before])
                )
            )
        )
        called.extend(
            CalledOff(p, SwapEnd.SCHEDULE_CHANGED)
            for p in pending_before
            if p.swap_id not in still_there and p.starts_at > now
        )
    await session.flush()
    return called


async def mark_held(
    session: AsyncSession,
    community: Community,
    meetup_id: int,
    now: datetime,
    *,
    unavailable: Unavailable = _nobody_unavailable,
) -> Meetup | None:
    """The meetup has taken place: record who facilitated it, which moves the turn on.

    Returns None when it was already recorded (or cancelled): a second firing does nothing.
    """
    turns = await plan(session, community, now - timedelta(seconds=1), unavailable=unavailable)
    meetup = await get_meetup(session, community, meetup_id)
    if meetup.status != MeetupStatus.PLANNED:
        return None
    turn = next((t for t in turns if t.meetup_id == meetup_id), None)
    meetup.facilitator_id = meetup.facilitator_id or (turn.facilitator_id if turn else None)
    meetup.status = MeetupStatus.HELD
    await session.flush()
    return meetup


async def stats(session: AsyncSession, community: Community) -> list[FacilitationStat]:
    """How often each person in the rota has facilitated, and when last; busiest first."""
    rows = await session.execute(
        select(Meetup.facilitator_id, func.count(), func.max(Meetup.starts_at))
        .where(
            Meetup.community_id == community.id,
            Meetup.status == MeetupStatus.HELD,
            Meetup.facilitator_id.is_not(None),
        )
        .group_by(Meetup.facilitator_id)
    )
    counted = {user: (times, last) for user, times, last in rows if user is not None}
    people = [m.user_id for m in await members(session, community)]
    people += [u for u in counted if u not in people]
    result = [
        FacilitationStat(u, counted.get(u, (0, None))[0], counted.get(u, (0, None))[1])
        for u in people
    ]
    return sorted(result, key=lambda s: (-s.times, s.user_id))


def overloaded(rows: Sequence[FacilitationStat]) -> list[str]:
    """People who have facilitated far more than their share."""
    if not rows:
        return []
    average = sum(r.times for r in rows) / len(rows)
    return [
        r.user_id
        for r in rows
        if r.times >= OVERLOAD_MINIMUM and r.times > OVERLOAD_FACTOR * average
    ]


async def current_facilitator(
    session: AsyncSession, team_id: str, channel_id: str, now: datetime
) -> str | None:
    """Whose turn it is on the channel's rota when a meetup is on (or about to be), so a
    Lean Coffee or chat started then defaults to them; None when no meetup is near."""
    community = await session.scalar(
        select(Community).where(Community.team_id == team_id, Community.channel_id == channel_id)
    )
    if community is None or await get_schedule(session, community) is None:
        return None
    turns = await plan(session, community, now, count=1)
    if not turns or abs(turns[0].starts_at - now) > CURRENT_MEETUP_WINDOW:
        return None
    return turns[0].facilitator_id


async def step_in(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    meetup_id: int,
    now: datetime,
    *,
    unavailable: Unavailable = _nobody_unavailable,
) -> tuple[Meetup, str | None]:
    """Someone takes a turn its facilitator hasn't confirmed; they join the rota if needed.

    Returns the meetup and who was down to facilitate it before. The person passed over keeps
    their place in the queue, since they did not facilitate."""
    turns = await plan(session, community, now, unavailable=unavailable)
    turn = next((t for t in turns if t.meetup_id == meetup_id), None)
    if turn is None:
        raise Conflict("That meetup has already happened or was cancelled.")
    if turn.facilitator_id == actor.user_id:
        raise Conflict("You're already down to facilitate that meetup. Thank you!")
    if turn.confirmed:
        raise Conflict(
            f"<@{turn.facilitator_id}> has already confirmed they'll facilitate that meetup."
        )
    meetup = await get_meetup(session, community, meetup_id)
    await _add_member(session, community, actor.user_id, now)
    meetup.facilitator_id = actor.user_id
    meetup.confirmed_at = now
    await session.flush()
    return meetup, turn.facilitator_id


async def aways_ahead(
    session: AsyncSession, community: Community, today: date
) -> list[tuple[str, date, date]]:
    """Away periods of people in the rota that have not ended by `today` (a date in the
    community's time zone): (user, first day, last day), soonest first."""
    result = await session.execute(
        select(RotaAway.user_id, RotaAway.starts_on, RotaAway.ends_on)
        .where(RotaAway.community_id == community.id, RotaAway.ends_on >= today)
        .order_by(RotaAway.starts_on, RotaAway.id)
    )
    in_rota = {m.user_id for m in await members(session, community)}
    return [(u, first, last) for u, first, last in result if u in in_rota]


async def local_today(session: AsyncSession, community: Community, now: datetime) -> date:
    """Today in the community's time zone (UTC until it has a schedule)."""
    schedule = await get_schedule(session, community)
    return now.astimezone(zone(schedule.time_zone if schedule else "UTC")).date()
