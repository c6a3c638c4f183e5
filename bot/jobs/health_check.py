"""Timed health-check work: opening a scheduled check and owing its poll, reminding people
who have not answered, closing a check on time and owing its results, and keeping the results
of checks that closed before hearth archived them in the minutes archive.

The database says what is due (`health_check_jobs`). Opening is claimed by the check row (one
check per scheduled occurrence, under a unique constraint) and re-checks the set-up's
revision, so a deleted or changed schedule opens nothing. Every message is owed through the
outbox in the transaction of the change that causes it (the opening, the closing, a reminder
round's claim) and sent once it commits (`Deps.outbox.kick()`); the outbox retries, honours
`Retry-After`, looks before sending again, and limits how many messages are in flight, so a
hundred communities due at the same minute are posted steadily rather than in one burst.

A check's minutes are stored when it closes, in the same transaction. A closed check without
minutes (closed by an older version of hearth) is archived by a job planned from the
database until its minutes exist; the archive's unique (source, source_id) makes that once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.db import forget_deleted
from bot.errors import DomainError
from bot.presenters import health_check as present
from bot.scheduler import PlannedJob
from bot.services import anonymity
from bot.services import health_check as hc
from bot.services import health_check_jobs as jobs
from bot.services.anonymity import ForgetDue
from bot.services.health_check_jobs import DueClose, DueOpen, DueReminders
from bot.services.health_check_types import UnarchivedCheck
from bot.services.scheduling import claim
from bot.slack import UNDELIVERABLE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        closes, rounds = await jobs.due_work(session)
        planned = [
            PlannedJob(key=due.key, due_at=due.due_at, func=close_check, args=(deps, due))
            for due in closes
        ]
        planned.extend(
            PlannedJob(key=due.key, due_at=due.due_at, func=remind, args=(deps, due))
            for due in rounds
        )
        planned.extend(
            PlannedJob(key=due.key, due_at=due.due_at, func=open_check, args=(deps, due))
            for due in await jobs.due_opens(session, deps.clock.now())
        )
        planned.extend(
            PlannedJob(
                key=f"health_check.archive:{due.check_id}",
                due_at=due.closed_at,
                func=archive_check,
                args=(deps, due),
            )
            for due in await hc.unarchived_checks(session)
        )
        forget = await anonymity.forget_due(session)
        if forget is not None:
            planned.append(
                PlannedJob(
                    key="health_check.forget",
                    due_at=forget.due_at,
                    func=forget_secrets,
                    args=(deps, forget),
                )
            )
        return planned

    deps.scheduler.add_source(planned_jobs)
    present.register(deps)


# --- forgetting ----------------------------------------------------------------------------


async def forget_secrets(deps: Deps, due: ForgetDue) -> None:
    """Make the database files forget the secrets of checks that closed (they were deleted in
    the closing transaction, but their bytes may linger in SQLite's write-ahead log or in
    PostgreSQL's pages). Tried again later when the database is too busy."""
    done = await forget_deleted(
        deps.engine, anonymity.SECRET_TABLE, also_vacuum=anonymity.ALSO_VACUUM
    )
    async with deps.sessionmaker.begin() as session:
        await anonymity.record_forgotten(session, due.check_ids, deps.clock.now(), done=done)
    if not done:
        logger.warning(
            "The database was busy; %d closed health check(s) will be cleared from its files "
            "on the next try",
            len(due.check_ids),
        )


# --- opening ------------------------------------------------------------------------------


async def open_check(deps: Deps, due: DueOpen) -> None:
    """Open the check for a scheduled occurrence (once) and owe its poll. Closes the
    community's previous check first if its time is up."""
    now = deps.clock.now()
    async with deps.sessionmaker() as session:
        community_checks = [
            c for c in await hc.open_checks(session) if c.community_id == due.community_id
        ]
    for previous in community_checks:
        if previous.closes_at <= now:
            await close_check(deps, DueClose(previous.team_id, previous.id, previous.closes_at))
    async with deps.sessionmaker.begin() as session:
        check = await hc.open_scheduled_check(
            session, due.team_id, due.community_id, due.occurrence, now, revision=due.revision
        )
        if check is None:
            return
        await present.owe_poll(session, due.team_id, check, now)
    deps.outbox.kick()
    logger.info("Opened health check %s for community %s", check.id, due.community_id)


# --- reminders ------------------------------------------------------------------------------


async def remind(deps: Deps, due: DueReminders) -> None:
    """One round of reminders: a DM to each person in the channel who has not answered and
    has not asked to be left alone, owed in the transaction that claims the round, so the
    round happens once however often it is woken. A round that comes too late (the next one
    came, or the check closed) is claimed and skipped. When the channel's members cannot be
    read, the job fails and the scheduler tries it again after a back-off."""
    async with deps.sessionmaker() as session:
        try:
            check = await hc.get_check(session, due.team_id, due.check_id)
        except DomainError:
            return
    deadline = jobs.reminder_deadline(check, due.round)
    members: list[str] = []
    if check.is_open and deps.clock.now() < deadline:
        try:
            members = await present.member_ids(deps, check.channel_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error not in UNDELIVERABLE:
                raise
            logger.warning("Reminders of check %s cannot be sent (%s)", check.id, error)
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, due.key, jobs.ROUND_CLAIMED, now):
            return
        if not await jobs.still_open(session, due.team_id, due.check_id) or now >= deadline:
            logger.info("Reminder round %s of check %s is too late; skipped", due.round, check.id)
            return
        try:
            waiting = await hc.to_remind(session, due.team_id, check.id, members)
        except DomainError as exc:  # its secret cannot be read: nobody can be told apart
            logger.warning("Reminder round %s of check %s skipped: %s", due.round, check.id, exc)
            return
        owed = await present.owe_reminders(
            session, due.team_id, check, due.round, waiting, deadline, now
        )
    deps.outbox.kick()
    logger.info("Reminder round %s of check %s: %d reminders owed", due.round, check.id, owed)


# --- closing --------------------------------------------------------------------------------


async def close_check(deps: Deps, due: DueClose) -> None:
    """Close a check whose time is up and owe its results. Closing is exactly-once by itself
    (the check row is locked and closed once), and the results are owed with it."""
    async with deps.sessionmaker() as session:
        try:
            check = await hc.get_check(session, due.team_id, due.check_id)
        except DomainError:
            return
    if not check.is_open or check.closes_at > deps.clock.now():
        return
    try:
        member_count: int | None = len(await present.member_ids(deps, check.channel_id))
    except Exception as exc:  # the response rate is nice to have; closing on time is not
        logger.warning("Could not count the members of %s: %r", check.channel_id, exc)
        member_count = None
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        results = await hc.close_due(
            session, due.team_id, due.check_id, now, member_count=member_count
        )
        if results is None:
            return
        await present.owe_results(session, due.team_id, results, now)
    deps.outbox.kick()
    logger.info("Closed health check %s on time", due.check_id)
    await present.redraw_closed_poll(deps, due.team_id, due.check_id)


# --- the minutes archive --------------------------------------------------------------------


async def archive_check(deps: Deps, due: UnarchivedCheck) -> None:
    """Keep a closed check's results in the minutes archive, if they are not there yet."""
    async with deps.sessionmaker.begin() as session:
        try:
            kept = await hc.keep_minutes(session, due.team_id, due.check_id, deps.clock.now())
        except DomainError:  # the check is gone
            return
    if kept is not None:
        logger.info("Kept the results of health check %s in the minutes archive", due.check_id)
