"""Actions: something a person took on in a meeting, with an owner and maybe a due date.

Actions are recorded in three places: Lean Coffee takeaways marked as actions, meetup
takeaways given an owner, and actions recorded from a health check's results. Each is read
through one adapter in `bot.services.action_sources`, and everything else goes through this
module, so the Home tab, the facilitator's hand-over pack, the start of the next Lean Coffee
and the due-date reminder all agree on what is open. Ids are per source, so an action is
named by its source and id together. An action stays open until its owner (or whoever
recorded it, whoever ran the meeting it came from, or one of the community's leads) marks it
done.

The owner is reminded by direct message on the due date at `REMIND_AT` in the community's
meetup-schedule time zone (the one `/rota schedule` set), or UTC when it has none. Each
reminder is recorded in `ActionReminder` (under the action's source) in the transaction that
owes its message through the outbox (`bot.services.outbox`), so it is owed once per action
and due date; the outbox sends it, retrying until the due date is over, and tells the row
whether it was sent or given up (`reminder_delivered`, `reminder_given_up`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import outbox
from bot.services.action_sources import (
    HEALTH_CHECK,
    LEAN_COFFEE,
    MEETUP,
    SOURCES,
    ActionSource,
)
from bot.services.actor import Actor
from bot.services.personal_data_types import FORGOTTEN_ID
from models.actions import ActionReminder
from models.community import Community
from models.health_check_actions import HealthCheckAction
from models.rota import MeetupSchedule

__all__ = ["HEALTH_CHECK", "LEAN_COFFEE", "MEETUP"]

REMIND_AT = time(9, 0)  # local time of the due-date reminder
DEFAULT_LIMIT = 20
CATCH_UP_DAYS = 7  # reminders missed while hearth was down are looked at this far back
TEXT_MAX = 1000
# The outbox purpose of a due-date reminder (its `subject_id` is the `ActionReminder`'s id).
REMINDER = "actions.reminder"

GONE = "That action no longer exists: the meeting it came from may have been deleted."

# Modal fields a recording error belongs to (`DomainError.field`).
TEXT_FIELD = "text"
OWNER_FIELD = "owner"
DUE_FIELD = "due"


class Outcome(StrEnum):
    OWED = "owed"  # recorded in the outbox, not yet in Slack
    SENT = "sent"
    LATE = "late"  # the due date was over before it could be owed
    NOT_NEEDED = "not_needed"  # done already, or its due date or owner changed
    FAILED = "failed"  # the outbox gave up on it (Slack refused it, or the day ran out)


@dataclass(frozen=True)
class Action:
    """One action, wherever it was recorded (`source`, with `id` in that source's table)."""

    source: str
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
    facilitator_id: str | None  # who ran the meeting it came from
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


def reminder_key(source: str, action_id: int, due_date: date) -> str:
    """What names one action's reminder for one due date: its claim, and its outbox key."""
    return f"{REMINDER}:{source}:{action_id}:{due_date.isoformat()}"


@dataclass(frozen=True)
class DueReminder:
    """A due-date reminder still to owe: ids only, re-read by the job."""

    source: str
    team_id: str
    action_id: int
    due_date: date
    due_at: datetime

    @property
    def claim_key(self) -> str:
        return reminder_key(self.source, self.action_id, self.due_date)


# --- reading --------------------------------------------------------------------------------


def source_of(name: str) -> ActionSource:
    """The source called `name`; an unknown one (a button from a newer version) is gone."""
    source = SOURCES.get(name)
    if source is None:
        raise NotFound(GONE)
    return source


def _action(source: ActionSource, row: Mapping[str, Any]) -> Action:
    topic_title, meeting_title = source.titles(row)
    return Action(
        source=source.name,
        id=row["id"],
        team_id=row["team_id"],
        channel_id=row["channel_id"],
        text=row["text"],
        owner_id=row["owner_id"],
        author_id=row["author_id"],
        due_date=row["due_date"],
        created_at=row["created_at"],
        done_at=row["done_at"],
        done_by_id=row["done_by_id"],
        facilitator_id=row["facilitator_id"],
        topic_title=topic_title,
        meeting_title=meeting_title,
    )


def _open_in(
    source: ActionSource, team_id: str, channel_id: str | None, owner_id: str | None
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [
        *source.in_team(team_id),
        source.model.done_at.is_(None),
    ]
    if channel_id is not None:
        conditions.append(source.channel() == channel_id)
    if owner_id is not None:
        conditions.append(source.model.owner_id == owner_id)
    return source.select().where(*conditions)


def _newest_first(action: Action) -> tuple[datetime, str, int]:
    return (action.created_at, action.source, action.id)


async def open_actions(
    session: AsyncSession,
    team_id: str,
    channel_id: str | None = None,
    owner_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Action]:
    """Open actions of a workspace, of one channel and/or one owner, newest first, from
    every source (each asked for at most `limit`, then merged)."""
    found: list[Action] = []
    for source in SOURCES.values():
        model = source.model
        query = (
            _open_in(source, team_id, channel_id, owner_id)
            .order_by(model.created_at.desc(), model.id.desc())
            .limit(limit)
        )
        found += [_action(source, row) for row in (await session.execute(query)).mappings()]
    found.sort(key=_newest_first, reverse=True)
    return found[:limit]


async def count_open(
    session: AsyncSession, team_id: str, channel_id: str | None = None, owner_id: str | None = None
) -> int:
    """How many actions `open_actions` would list without a limit."""
    total = 0
    for source in SOURCES.values():
        query = _open_in(source, team_id, channel_id, owner_id).subquery()
        total += int(await session.scalar(select(func.count()).select_from(query)) or 0)
    return total


async def get_action(
    session: AsyncSession, team_id: str, action_id: int, source: str = LEAN_COFFEE
) -> Action:
    """One action of this workspace (`NotFound` when gone or another workspace's)."""
    found = source_of(source)
    row = (
        (
            await session.execute(
                found.select().where(*found.in_team(team_id), found.model.id == action_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(GONE)
    return _action(found, row)


# --- recording (health checks) --------------------------------------------------------------


async def record_after_check(
    session: AsyncSession,
    actor: Actor,
    check_id: int,
    text: str,
    owner_id: str | None,
    due_date: date | None,
    now: datetime,
) -> Action:
    """Record an action the community took on after talking over a health check's results.
    Anyone who can see the results may; the owner must be chosen (people, not bots, are
    checked by the caller, which asks Slack)."""
    text = text.strip()
    if not text:
        raise InvalidInput("Write what will be done first.", field=TEXT_FIELD)
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"Keep it under {TEXT_MAX} characters.", field=TEXT_FIELD)
    if not owner_id:
        raise InvalidInput("Pick who will do it.", field=OWNER_FIELD)
    if due_date is not None and due_date < now.date():
        raise InvalidInput("Pick a due date from today on, or leave it empty.", field=DUE_FIELD)
    check = await hc.get_check(session, actor.team_id, check_id)
    if check.is_open:
        raise Conflict("This health check is still open: record actions once its results are in.")
    row = HealthCheckAction(
        team_id=actor.team_id,
        check_id=check.id,
        author_id=actor.user_id,
        text=text,
        owner_id=owner_id,
        due_date=due_date,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await hc.keep_minutes(session, actor.team_id, check.id, now)  # the check's minutes list it
    return await get_action(session, actor.team_id, row.id, HEALTH_CHECK)


async def results_message_of(session: AsyncSession, team_id: str, check_id: int) -> str | None:
    """The ts of a check's results message, where what is recorded about it is confirmed."""
    return (await hc.get_check(session, team_id, check_id)).results_ts


# --- marking done ---------------------------------------------------------------------------


async def may_mark_done(session: AsyncSession, actor: Actor, action: Action) -> bool:
    """The owner, whoever recorded it, whoever ran the meeting it came from, or one of the
    community's leads (workspace admins count as leads)."""
    if actor.user_id in (action.owner_id, action.author_id, action.facilitator_id):
        return True
    community = await community_service.find_community(session, action.team_id, action.channel_id)
    if community is not None:
        return await community_service.is_lead(session, community, actor)
    return await actor.is_admin()


async def mark_done(
    session: AsyncSession, actor: Actor, action_id: int, now: datetime, source: str = LEAN_COFFEE
) -> Done:
    """Mark an action done. Doing it twice is harmless: the second time says who did it."""
    action = await get_action(session, actor.team_id, action_id, source)
    if not action.is_open:
        return Done(action, already=True)
    if not await may_mark_done(session, actor, action):
        owner = (
            f"<@{action.owner_id}>"
            if action.owner_id and action.owner_id != FORGOTTEN_ID
            else "whoever recorded it"
        )
        raise NotAllowed(
            f"Only {owner}, the meeting's facilitator or a lead of the community can mark "
            "this action done. If it's finished, let them know!"
        )
    row = await session.get(source_of(source).model, action_id)
    assert row is not None
    row.done_at = now
    row.done_by_id = actor.user_id
    await session.flush()
    return Done(await get_action(session, actor.team_id, action_id, source), already=False)


# --- due-date reminders ---------------------------------------------------------------------


def remind_at(due_date: date, time_zone: str | None) -> datetime:
    """`REMIND_AT` on the due date, in the given zone (UTC when None), as a UTC moment."""
    tz = ZoneInfo(time_zone) if time_zone else UTC
    return datetime.combine(due_date, REMIND_AT, tzinfo=tz).astimezone(UTC)


def day_over(due_date: date, time_zone: str | None) -> datetime:
    """When the due date ends in the given zone: after that a reminder is no use."""
    tz = ZoneInfo(time_zone) if time_zone else UTC
    return datetime.combine(due_date + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


async def time_zone_of(session: AsyncSession, team_id: str, channel_id: str) -> str | None:
    """The community's meetup-schedule time zone, if it has a schedule."""
    return await session.scalar(
        select(MeetupSchedule.time_zone)
        .join(Community, Community.id == MeetupSchedule.community_id)
        .where(Community.team_id == team_id, Community.channel_id == channel_id)
    )


async def due_reminders(session: AsyncSession, now: datetime) -> list[DueReminder]:
    """Every due-date reminder still to owe, whenever it is due (the scheduler's source):
    open actions of every source with an owner and a due date from `CATCH_UP_DAYS` ago on,
    whose reminder for that date has not been owed or given up on."""
    since = (now - timedelta(days=CATCH_UP_DAYS)).date()
    zones: dict[tuple[str, str], str | None] = {}
    due: list[DueReminder] = []
    for source in SOURCES.values():
        model = source.model
        rows = (
            (
                await session.execute(
                    source.select().where(
                        model.done_at.is_(None),
                        model.owner_id.is_not(None),
                        model.owner_id != FORGOTTEN_ID,  # nobody to remind
                        model.due_date >= since,
                    )
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            continue
        dealt_with = {
            (action_id, due_date)
            for action_id, due_date in await session.execute(
                select(ActionReminder.action_id, ActionReminder.due_date).where(
                    ActionReminder.source == source.name,
                    ActionReminder.action_id.in_([row["id"] for row in rows]),
                    ActionReminder.done_at.is_not(None),
                )
            )
        }
        for row in rows:
            action_id, due_date = row["id"], row["due_date"]
            team_id, channel_id = row["team_id"], row["channel_id"]
            if (action_id, due_date) in dealt_with:
                continue
            if (team_id, channel_id) not in zones:
                zones[(team_id, channel_id)] = await time_zone_of(session, team_id, channel_id)
            at = remind_at(due_date, zones[(team_id, channel_id)])
            due.append(DueReminder(source.name, team_id, action_id, due_date, at))
    due.sort(key=lambda d: (d.due_date, d.source, d.action_id))
    return due


async def due_today(session: AsyncSession, now: datetime) -> list[DueReminder]:
    """The reminders due by `now`."""
    return [r for r in await due_reminders(session, now) if r.due_at <= now]


@dataclass(frozen=True)
class ReminderToSend:
    reminder_id: int
    action: Action
    owner_id: str
    key: str  # its outbox key
    until: datetime  # when the due date is over: no use sending it after


async def start_reminder(
    session: AsyncSession, due: DueReminder, now: datetime
) -> ReminderToSend | None:
    """Open (or find) the reminder's record and decide whether it should still be owed:
    None when it was owed already, or it is given up on here (done, due date or owner
    changed, too late). Call after claiming the firing, in the transaction that owes it,
    then `close_reminder(..., Outcome.OWED, sent_to=owner)`."""
    reminder = await _reminder_row(session, due, now)
    if reminder.done_at is not None:
        return None
    try:
        action: Action | None = await get_action(session, due.team_id, due.action_id, due.source)
    except NotFound:
        action = None
    if action is None or not action.is_open or action.due_date != due.due_date:
        await close_reminder(session, reminder.id, now, Outcome.NOT_NEEDED)
        return None
    if action.owner_id is None or action.owner_id == FORGOTTEN_ID:
        await close_reminder(session, reminder.id, now, Outcome.NOT_NEEDED)
        return None
    zone = await time_zone_of(session, action.team_id, action.channel_id)
    until = day_over(due.due_date, zone)
    if now >= until:
        await close_reminder(session, reminder.id, now, Outcome.LATE)
        return None
    return ReminderToSend(reminder.id, action, action.owner_id, due.claim_key, until)


async def _reminder_row(session: AsyncSession, due: DueReminder, now: datetime) -> ActionReminder:
    where = (
        ActionReminder.source == due.source,
        ActionReminder.action_id == due.action_id,
        ActionReminder.due_date == due.due_date,
    )
    existing = await session.scalar(select(ActionReminder).where(*where))
    if existing is not None:
        return existing
    reminder = ActionReminder(
        source=due.source, action_id=due.action_id, due_date=due.due_date, created_at=now
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


async def close_reminder(
    session: AsyncSession,
    reminder_id: int,
    now: datetime,
    outcome: Outcome,
    *,
    sent_to: str | None = None,
    message_ts: str | None = None,
) -> None:
    """Done with the reminder: owed (to `sent_to`), or not to be sent (`outcome` says why)."""
    reminder = await session.get(ActionReminder, reminder_id)
    if reminder is None or reminder.done_at is not None:
        return
    reminder.done_at = now
    reminder.outcome = outcome
    reminder.sent_to = sent_to
    reminder.message_ts = message_ts
    await session.flush()


@outbox.on_delivered(REMINDER)
async def reminder_delivered(session: AsyncSession, landed: outbox.Landed) -> None:
    """The owner has the reminder: where it is, for the record."""
    await session.execute(
        update(ActionReminder)
        .where(ActionReminder.id == landed.subject_id)
        .values(outcome=Outcome.SENT, message_ts=landed.ts)
    )


@outbox.on_given_up(REMINDER)
async def reminder_given_up(
    session: AsyncSession, _team_id: str, reminder_id: int, _reason: str
) -> None:
    """It could not be sent (the owner's account is deactivated, the day ran out): the
    reason is in its outbox row."""
    await session.execute(
        update(ActionReminder)
        .where(ActionReminder.id == reminder_id)
        .values(outcome=Outcome.FAILED)
    )
