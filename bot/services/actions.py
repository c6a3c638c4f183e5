"""Actions: something a person took on in a meeting, with an owner and maybe a due date.

Every format that records actions (today Lean Coffee takeaways marked as actions) is read
through this module, so the Home tab, the facilitator's hand-over pack, the start of the
next Lean Coffee and the due-date reminder all agree on what is open. An action stays open
until its owner (or whoever recorded it, the facilitator of the meeting it came from, or one
of the community's leads) marks it done.

The owner is reminded by direct message on the due date at `REMIND_AT` in the community's
meetup-schedule time zone (the one `/rota schedule` set), or UTC when it has none. Each
reminder is recorded in `ActionReminder` before it is sent, so it goes out once, and a
failed send is retried after a back-off until the due date is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotAllowed, NotFound
from bot.services import community as community_service
from bot.services.actor import Actor
from models.actions import ActionReminder
from models.community import Community
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTakeaway, LeanCoffeeTopic
from models.rota import MeetupSchedule

LEAN_COFFEE = "lean_coffee"  # `ActionReminder.source` of Lean Coffee actions
REMIND_AT = time(9, 0)  # local time of the due-date reminder
DEFAULT_LIMIT = 20
CATCH_UP_DAYS = 7  # reminders missed while hearth was down are looked at this far back
RETRY_FIRST_SECONDS = 15
RETRY_MAX_SECONDS = 10 * 60

GONE = "That action no longer exists: the meeting it came from may have been deleted."


class Outcome(StrEnum):
    SENT = "sent"
    LATE = "late"  # the due date was over before it could be sent
    NOT_NEEDED = "not_needed"  # done already, or its due date or owner changed
    FAILED = "failed"  # Slack refused it for good


@dataclass(frozen=True)
class Action:
    """One action, wherever it was recorded."""

    id: int
    team_id: str
    channel_id: str
    text: str
    owner_id: str | None
    author_id: str
    due_date: date | None
    created_at: datetime
    done_at: datetime | None
    done_by_id: str | None
    topic_title: str  # what was being discussed
    meeting_title: str  # e.g. the Lean Coffee's name

    @property
    def is_open(self) -> bool:
        return self.done_at is None


@dataclass(frozen=True)
class Done:
    """What `mark_done` did: `already` when someone had marked it done before."""

    action: Action
    already: bool


@dataclass(frozen=True)
class DueReminder:
    """A due-date reminder still to send: ids only, re-read by the job."""

    action_id: int
    due_date: date
    due_at: datetime
    attempt: int = 0

    @property
    def claim_key(self) -> str:
        return f"actions.reminder:{LEAN_COFFEE}:{self.action_id}:{self.due_date.isoformat()}"

    @property
    def key(self) -> str:
        return f"{self.claim_key}:{self.attempt}"


# --- reading --------------------------------------------------------------------------------


def _select() -> Select[tuple[LeanCoffeeTakeaway, str, str, str]]:
    return (
        select(
            LeanCoffeeTakeaway,
            LeanCoffeeSession.channel_id,
            LeanCoffeeSession.title,
            LeanCoffeeTopic.title,
        )
        .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeeTakeaway.session_id)
        .join(LeanCoffeeTopic, LeanCoffeeTopic.id == LeanCoffeeTakeaway.topic_id)
        .where(LeanCoffeeTakeaway.is_action.is_(True))
    )


def _action(
    row: LeanCoffeeTakeaway, channel_id: str, meeting_title: str, topic_title: str
) -> Action:
    return Action(
        id=row.id,
        team_id=row.team_id,
        channel_id=channel_id,
        text=row.text,
        owner_id=row.owner_id,
        author_id=row.author_id,
        due_date=row.due_date,
        created_at=row.created_at,
        done_at=row.done_at,
        done_by_id=row.done_by_id,
        topic_title=topic_title,
        meeting_title=meeting_title,
    )


async def open_actions(
    session: AsyncSession,
    team_id: str,
    channel_id: str | None = None,
    owner_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Action]:
    """Open actions of a workspace, of one channel and/or one owner, newest first."""
    query = _select().where(
        LeanCoffeeTakeaway.team_id == team_id,
        LeanCoffeeSession.team_id == team_id,
        LeanCoffeeTakeaway.done_at.is_(None),
    )
    if channel_id is not None:
        query = query.where(LeanCoffeeSession.channel_id == channel_id)
    if owner_id is not None:
        query = query.where(LeanCoffeeTakeaway.owner_id == owner_id)
    query = query.order_by(
        LeanCoffeeTakeaway.created_at.desc(), LeanCoffeeTakeaway.id.desc()
    ).limit(limit)
    return [_action(*row) for row in (await session.execute(query)).all()]


async def get_action(session: AsyncSession, team_id: str, action_id: int) -> Action:
    row = (
        await session.execute(
            _select().where(
                LeanCoffeeTakeaway.id == action_id, LeanCoffeeTakeaway.team_id == team_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(GONE)
    return _action(*row)


# --- marking done ---------------------------------------------------------------------------


async def may_mark_done(session: AsyncSession, actor: Actor, action: Action) -> bool:
    """The owner, whoever recorded it, the facilitator of the meeting it came from, or one of
    the community's leads (workspace admins count as leads)."""
    if actor.user_id in (action.owner_id, action.author_id):
        return True
    facilitator = await session.scalar(
        select(LeanCoffeeSession.facilitator_id)
        .join(LeanCoffeeTakeaway, LeanCoffeeTakeaway.session_id == LeanCoffeeSession.id)
        .where(LeanCoffeeTakeaway.id == action.id)
    )
    if actor.user_id == facilitator:
        return True
    community = await community_service.find_community(session, action.team_id, action.channel_id)
    if community is not None:
        return await community_service.is_lead(session, community, actor)
    return await actor.is_admin()


async def mark_done(session: AsyncSession, actor: Actor, action_id: int, now: datetime) -> Done:
    """Mark an action done. Doing it twice is harmless: the second time says who did it."""
    action = await get_action(session, actor.team_id, action_id)
    if not action.is_open:
        return Done(action, already=True)
    if not await may_mark_done(session, actor, action):
        owner = f"<@{action.owner_id}>" if action.owner_id else "whoever recorded it"
        raise NotAllowed(
            f"Only {owner}, the meeting's facilitator or a lead of the community can mark "
            "this action done. If it's finished, let them know!"
        )
    row = await session.get(LeanCoffeeTakeaway, action_id)
    assert row is not None
    row.done_at = now
    row.done_by_id = actor.user_id
    await session.flush()
    return Done(await get_action(session, actor.team_id, action_id), already=False)


# --- due-date reminders ---------------------------------------------------------------------


def remind_at(due_date: date, time_zone: str | None) -> datetime:
    """`REMIND_AT` on the due date, in the given zone (UTC when None), as a UTC moment."""
    tz = ZoneInfo(time_zone) if time_zone else UTC
    return datetime.combine(due_date, REMIND_AT, tzinfo=tz).astimezone(UTC)


def day_over(due_date: date, time_zone: str | None) -> datetime:
    """When the due date ends in the given zone: after that a reminder is no use."""
    tz = ZoneInfo(time_zone) if time_zone else UTC
    return datetime.combine(due_date + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th failure: 15 s, 30 s, 1 min, … up to 10 min."""
    if attempts <= 0:
        return timedelta(0)
    return timedelta(seconds=min(RETRY_FIRST_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS))


async def time_zone_of(session: AsyncSession, team_id: str, channel_id: str) -> str | None:
    """The community's meetup-schedule time zone, if it has a schedule."""
    return await session.scalar(
        select(MeetupSchedule.time_zone)
        .join(Community, Community.id == MeetupSchedule.community_id)
        .where(Community.team_id == team_id, Community.channel_id == channel_id)
    )


async def due_reminders(session: AsyncSession, now: datetime) -> list[DueReminder]:
    """Every due-date reminder still to send, whenever it is due (the scheduler's source):
    open actions with an owner and a due date from `CATCH_UP_DAYS` ago on, whose reminder for
    that date has not been sent or given up on."""
    since = (now - timedelta(days=CATCH_UP_DAYS)).date()
    rows = (
        await session.execute(
            select(LeanCoffeeTakeaway, LeanCoffeeSession.team_id, LeanCoffeeSession.channel_id)
            .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeeTakeaway.session_id)
            .where(
                LeanCoffeeTakeaway.is_action.is_(True),
                LeanCoffeeTakeaway.done_at.is_(None),
                LeanCoffeeTakeaway.owner_id.is_not(None),
                LeanCoffeeTakeaway.due_date >= since,
            )
            .order_by(LeanCoffeeTakeaway.due_date, LeanCoffeeTakeaway.id)
        )
    ).all()
    if not rows:
        return []
    reminders = {
        (r.action_id, r.due_date): r
        for r in await session.scalars(
            select(ActionReminder).where(
                ActionReminder.source == LEAN_COFFEE,
                ActionReminder.action_id.in_([t.id for t, _, _ in rows]),
            )
        )
    }
    zones: dict[tuple[str, str], str | None] = {}
    due: list[DueReminder] = []
    for takeaway, team_id, channel_id in rows:
        assert takeaway.due_date is not None
        reminder = reminders.get((takeaway.id, takeaway.due_date))
        if reminder is not None and reminder.done_at is not None:
            continue
        if (team_id, channel_id) not in zones:
            zones[(team_id, channel_id)] = await time_zone_of(session, team_id, channel_id)
        at = remind_at(takeaway.due_date, zones[(team_id, channel_id)])
        attempt = 0
        if reminder is not None:
            attempt = reminder.attempts
            if reminder.last_failed_at is not None:
                at = max(at, reminder.last_failed_at + retry_delay(reminder.attempts))
        due.append(DueReminder(takeaway.id, takeaway.due_date, at, attempt))
    return due


async def due_today(session: AsyncSession, now: datetime) -> list[DueReminder]:
    """The reminders due by `now`."""
    return [r for r in await due_reminders(session, now) if r.due_at <= now]


@dataclass(frozen=True)
class ReminderToSend:
    reminder_id: int
    action: Action
    owner_id: str


async def start_reminder(
    session: AsyncSession, due: DueReminder, now: datetime
) -> ReminderToSend | None:
    """Open (or find) the reminder's record and decide whether it should still be sent:
    None when it was sent already, or it is given up on here (done, due date or owner
    changed, too late). Call after claiming the attempt, in the same transaction."""
    row = await session.get(LeanCoffeeTakeaway, due.action_id)
    reminder = await _reminder_row(session, due, now)
    if reminder.done_at is not None:
        return None
    if row is None or row.done_at is not None or row.due_date != due.due_date:
        await close_reminder(session, reminder.id, now, Outcome.NOT_NEEDED)
        return None
    action = await get_action(session, row.team_id, row.id)
    if action.owner_id is None:
        await close_reminder(session, reminder.id, now, Outcome.NOT_NEEDED)
        return None
    zone = await time_zone_of(session, action.team_id, action.channel_id)
    if now >= day_over(due.due_date, zone):
        await close_reminder(session, reminder.id, now, Outcome.LATE)
        return None
    return ReminderToSend(reminder.id, action, action.owner_id)


async def _reminder_row(session: AsyncSession, due: DueReminder, now: datetime) -> ActionReminder:
    where = (
        ActionReminder.source == LEAN_COFFEE,
        ActionReminder.action_id == due.action_id,
        ActionReminder.due_date == due.due_date,
    )
    existing = await session.scalar(select(ActionReminder).where(*where))
    if existing is not None:
        return existing
    reminder = ActionReminder(
        source=LEAN_COFFEE,
        action_id=due.action_id,
        due_date=due.due_date,
        attempts=0,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(reminder)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(select(ActionReminder).where(*where))
        assert found is not None
        return found
    return reminder


async def reminder_failed(session: AsyncSession, reminder_id: int, now: datetime) -> None:
    """Count a failed attempt; the next is planned after `retry_delay`."""
    reminder = await session.get(ActionReminder, reminder_id)
    if reminder is not None and reminder.done_at is None:
        reminder.attempts += 1
        reminder.last_failed_at = now
        await session.flush()


async def close_reminder(
    session: AsyncSession,
    reminder_id: int,
    now: datetime,
    outcome: Outcome,
    *,
    sent_to: str | None = None,
    message_ts: str | None = None,
) -> None:
    reminder = await session.get(ActionReminder, reminder_id)
    if reminder is None or reminder.done_at is not None:
        return
    reminder.done_at = now
    reminder.outcome = outcome
    reminder.sent_to = sent_to
    reminder.message_ts = message_ts
    await session.flush()
