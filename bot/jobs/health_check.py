"""Timed health-check work: opening a scheduled check and posting its poll, reminding people
who have not answered, closing a check on time with its results, and keeping the results of
checks that closed before hearth archived them in the minutes archive.

The database says what is due (`health_check_jobs`). Opening is claimed by the check row (one
check per scheduled occurrence, under a unique constraint) and re-checks the set-up's
revision, so a deleted or changed schedule opens nothing. Every message is a delivery whose
attempts are claimed by number: one that Slack fails to take (beyond the client's own retries
of 429 and 5xx) is counted and tried again after a back-off, until it is too late to be
useful. Slack is called outside database transactions, and at most `MAX_CONCURRENT_SENDS`
messages are in flight per process, so a hundred communities due at the same minute are
posted steadily rather than in one burst. Each community has its own channel, so Slack's
limit of about one message a second per channel is never approached.

A check's minutes are stored when it closes, in the same transaction. A closed check without
minutes (closed by an older version of hearth) is archived by a job planned from the
database until its minutes exist; the archive's unique (source, source_id) makes that once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import health_check_reminders as blocks
from bot.errors import DomainError
from bot.presenters import health_check as present
from bot.scheduler import PlannedJob
from bot.services import health_check as hc
from bot.services import health_check_jobs as jobs
from bot.services.health_check_jobs import DueClose, DueDelivery, DueOpen, Kind, Outcome
from bot.services.health_check_types import UnarchivedCheck
from bot.services.scheduling import claim
from bot.slack import UNDELIVERABLE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)

MAX_CONCURRENT_SENDS = 4


T = TypeVar("T")

_gates: weakref.WeakKeyDictionary[AsyncWebClient, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _gate(deps: Deps) -> asyncio.Semaphore:
    """The process's limit on scheduled messages in flight (one Slack client per process)."""
    gate = _gates.get(deps.client)
    if gate is None:
        gate = _gates[deps.client] = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
    return gate


async def _send(deps: Deps, call: Callable[[], Awaitable[T]]) -> T:
    async with _gate(deps):
        return await call()


def _undeliverable(exc: Exception) -> str | None:
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error"))
        if error in UNDELIVERABLE:
            return error
    return None


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        closes, deliveries = await jobs.due_work(session)
        planned = [
            PlannedJob(key=due.key, due_at=due.due_at, func=close_check, args=(deps, due))
            for due in closes
        ]
        planned.extend(
            PlannedJob(key=due.key, due_at=due.due_at, func=DELIVER[due.kind], args=(deps, due))
            for due in deliveries
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
        return planned

    deps.scheduler.add_source(planned_jobs)


# --- opening ------------------------------------------------------------------------------


async def open_check(deps: Deps, due: DueOpen) -> None:
    """Open the check for a scheduled occurrence (once) and post its poll. Closes the
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
        await jobs.open_delivery(session, check.id, Kind.POST, 0, now)
    logger.info("Opened health check %s for community %s", check.id, due.community_id)
    await deliver_poll(deps, DueDelivery(Kind.POST, due.team_id, check.id, 0, now))


async def deliver_poll(deps: Deps, due: DueDelivery) -> None:
    """Post a scheduled check's poll in its channel, once."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, due.claim_key, str(due.attempt), now):
            return
        try:
            check = await hc.get_check(session, due.team_id, due.check_id)
        except DomainError:
            return
        delivery = await jobs.open_delivery(session, check.id, Kind.POST, 0, now)
        if delivery.done_at is not None:
            return
        delivery_id = delivery.id
        if check.message_ts is not None or not check.is_open or check.closes_at <= now:
            outcome = Outcome.NOT_NEEDED if check.message_ts else Outcome.LATE
            await jobs.finish_delivery(session, delivery_id, now, outcome)
            return
    try:
        await _send(deps, lambda: present.post_check(deps, due.team_id, due.check_id))
    except Exception as exc:
        if await _failed(deps, due, delivery_id, exc):
            async with deps.sessionmaker.begin() as session:
                await hc.record_post_failed(session, due.team_id, due.check_id)
        return
    await _done(deps, delivery_id, Outcome.SENT)


# --- reminders ------------------------------------------------------------------------------


async def deliver_reminders(deps: Deps, due: DueDelivery) -> None:
    """One round of reminders: a DM to each person in the channel who has not answered and
    has not asked to be left alone. Claimed per attempt; a retry skips whoever was reached."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, due.claim_key, str(due.attempt), now):
            return
        try:
            check = await hc.get_check(session, due.team_id, due.check_id)
        except DomainError:
            return
        delivery = await jobs.open_delivery(session, check.id, Kind.REMIND, due.round, now)
        if delivery.done_at is not None:
            return
        delivery_id = delivery.id
        if not check.is_open or now >= jobs.reminder_deadline(check, due.round):
            logger.info("Reminder round %s of check %s is too late; skipped", due.round, check.id)
            await jobs.finish_delivery(session, delivery_id, now, Outcome.LATE)
            return
    try:
        members = await present.member_ids(deps, check.channel_id)
    except Exception as exc:
        await _failed(deps, due, delivery_id, exc)
        return
    async with deps.sessionmaker() as session:
        try:
            waiting = await hc.to_remind(session, due.team_id, check.id, members)
        except DomainError:  # it closed in the meantime
            waiting = []
        waiting = await jobs.not_yet_reminded(session, delivery_id, due.team_id, check.id, waiting)
    message = blocks.reminder(check)
    results = await asyncio.gather(
        *(_remind(deps, due, delivery_id, user_id, message) for user_id in waiting)
    )
    if all(results):
        await _done(deps, delivery_id, Outcome.SENT)
    else:
        failed = results.count(False)
        await _failed(deps, due, delivery_id, RuntimeError(f"{failed} reminders not sent"))


async def _remind(
    deps: Deps, due: DueDelivery, delivery_id: int, user_id: str, message: blocks.Outgoing
) -> bool:
    """DM one person and record it (also when they can never be reached). False: try again."""
    try:
        await _send(
            deps,
            lambda: deps.client.chat_postMessage(
                channel=user_id, text=message.text, blocks=message.blocks
            ),
        )
    except Exception as exc:
        error = _undeliverable(exc)
        if error is None:
            logger.warning("A health check reminder could not be sent yet: %r", exc)
            return False
        logger.info("A health check reminder cannot be delivered (%s)", error)
    async with deps.sessionmaker.begin() as session:
        await jobs.record_reminded(session, delivery_id, due.team_id, due.check_id, user_id)
    return True


# --- closing --------------------------------------------------------------------------------


async def close_check(deps: Deps, due: DueClose) -> None:
    """Close a check whose time is up and post its results. Closing is exactly-once by
    itself (the check row is locked and closed once); the results are a delivery."""
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
        await jobs.open_delivery(session, due.check_id, Kind.RESULTS, 0, now)
    logger.info("Closed health check %s on time", due.check_id)
    await deliver_results(deps, DueDelivery(Kind.RESULTS, due.team_id, due.check_id, 0, now))


async def deliver_results(deps: Deps, due: DueDelivery) -> None:
    """Post a check's results (as stored at close) in its channel, once."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        if not await claim(session, due.claim_key, str(due.attempt), now):
            return
        delivery = await jobs.open_delivery(session, due.check_id, Kind.RESULTS, 0, now)
        if delivery.done_at is not None:
            return
        delivery_id = delivery.id
        try:
            check = await hc.get_check(session, due.team_id, due.check_id)
            results = await hc.results(session, due.team_id, due.check_id)
        except DomainError:
            await jobs.finish_delivery(session, delivery_id, now, Outcome.LATE)
            return
        if check.results_ts is not None:
            await jobs.finish_delivery(session, delivery_id, now, Outcome.NOT_NEEDED)
            return
        if now >= jobs.results_deadline(results.closed_at):
            logger.warning("Results of check %s are a week late; given up", check.id)
            await jobs.finish_delivery(session, delivery_id, now, Outcome.LATE)
            return
    try:
        await _send(deps, lambda: present.post_results(deps, due.team_id, results))
    except Exception as exc:
        await _failed(deps, due, delivery_id, exc)
        return
    await _done(deps, delivery_id, Outcome.SENT)


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


# --- bookkeeping ----------------------------------------------------------------------------


async def _done(deps: Deps, delivery_id: int, outcome: Outcome) -> None:
    async with deps.sessionmaker.begin() as session:
        await jobs.finish_delivery(session, delivery_id, deps.clock.now(), outcome)


async def _failed(deps: Deps, due: DueDelivery, delivery_id: int, exc: Exception) -> bool:
    """Record a failed attempt: given up for good when Slack can never take it, else counted
    so the next attempt comes after a back-off. True when it will be tried again."""
    error = _undeliverable(exc)
    if error is not None:
        logger.error(
            "Slack refused the health check %s of check %s (%s); not trying again",
            due.kind,
            due.check_id,
            error,
        )
        await _done(deps, delivery_id, Outcome.FAILED)
        return False
    async with deps.sessionmaker.begin() as session:
        attempts = await jobs.delivery_failed(session, delivery_id, deps.clock.now())
    logger.warning(
        "Sending the health check %s of check %s failed (attempt %d: %r); will retry",
        due.kind,
        due.check_id,
        attempts,
        exc,
    )
    return True


DELIVER: dict[Kind, Callable[[Deps, DueDelivery], Awaitable[None]]] = {
    Kind.POST: deliver_poll,
    Kind.REMIND: deliver_reminders,
    Kind.RESULTS: deliver_results,
}
