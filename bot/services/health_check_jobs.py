"""The timed side of health checks: which check opens when, and what is still to be sent.

Everything is worked out from current rows, so a deleted schedule or a changed set-up stops
future checks at once, and a check that came due while hearth was down is opened when it
returns, as long as its open window has not passed. Opening itself is claimed by the check
row: a scheduled occurrence becomes at most one check (a unique constraint), so only the
process that inserted it posts it.

The poll, each reminder round and the results are `HealthCheckDelivery` rows: each attempt
is claimed under its number, a failed one is counted and the next one planned after a
back-off, and a retry of a reminder round skips whoever was already reminded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from bot.services import anonymity
from bot.services import health_check as hc
from bot.services.health_check_types import CheckView
from models.health_check import HealthCheck, HealthCheckSetup
from models.health_check_jobs import HealthCheckDelivery, HealthCheckReminded

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 15  # after a failed attempt; doubling up to…
RETRY_MAX_SECONDS = 10 * 60
RESULTS_GIVE_UP_DAYS = 7  # results Slack keeps refusing are given up on after this


class Kind(StrEnum):
    POST = "post"  # the poll, in the channel
    REMIND = "remind"  # one round of DMs to people who have not answered
    RESULTS = "results"  # the results, in the channel, when the check closes on time


class Outcome(StrEnum):
    SENT = "sent"
    LATE = "late"  # no use any more (the check closed, or the next round came)
    FAILED = "failed"  # Slack refused it for good (hearth was removed from the channel, …)
    NOT_NEEDED = "not_needed"  # e.g. someone else already posted it


@dataclass(frozen=True)
class DueOpen:
    """A scheduled occurrence to open: at its time, or now if it is late but still open."""

    team_id: str
    community_id: int
    revision: int
    occurrence: datetime
    due_at: datetime

    @property
    def key(self) -> str:
        stamp = int(self.occurrence.timestamp())
        return f"health_check.open:{self.community_id}:{self.revision}:{stamp}"


@dataclass(frozen=True)
class DueClose:
    team_id: str
    check_id: int
    due_at: datetime

    @property
    def key(self) -> str:
        return f"health_check.close:{self.check_id}"


@dataclass(frozen=True)
class DueDelivery:
    """One attempt at a delivery: ids only, re-read by the job."""

    kind: Kind
    team_id: str
    check_id: int
    round: int
    due_at: datetime
    attempt: int = 0

    @property
    def claim_key(self) -> str:
        """What is claimed (with the attempt number as the occurrence)."""
        return f"health_check.{self.kind}:{self.check_id}:{self.round}"

    @property
    def key(self) -> str:
        return f"{self.claim_key}:{self.attempt}"


# --- when -----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 15 s, 30 s, 1 min, … up to 10 min."""
    if attempts <= 0:
        return timedelta(0)
    return timedelta(seconds=min(RETRY_FIRST_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS))


def _retry_at(row: HealthCheckDelivery | None, due: datetime) -> tuple[datetime, int]:
    if row is None:
        return due, 0
    if row.last_failed_at is not None:
        due = max(due, row.last_failed_at + retry_delay(row.attempts))
    return due, row.attempts


def results_deadline(closed_at: datetime) -> datetime:
    return closed_at + timedelta(days=RESULTS_GIVE_UP_DAYS)


def reminder_deadline(check: CheckView, round_: int) -> datetime:
    """Until when reminder round `round_` (from 1) is worth sending: until the next round
    comes, or the check closes."""
    times = hc.reminder_times(check)
    return times[round_] if round_ < len(times) else check.closes_at


# --- what is due ------------------------------------------------------------------------------


async def due_opens(session: AsyncSession, now: datetime) -> list[DueOpen]:
    """For each scheduled community, the occurrence to open next.

    That is the latest occurrence whose open window is still running and that has not been
    opened (hearth was down, or it is this minute), else the next one. Occurrences from before
    the set-up was last changed do not count, so saving a schedule never opens a check for a
    time that had already passed. When another check is still open (a lead ran one by hand),
    the occurrence waits for it to close, within its own window.
    """
    result: list[DueOpen] = []
    for scheduled in await hc.scheduled_setups(session):
        row = await session.scalar(
            select(HealthCheckSetup.updated_at).where(
                HealthCheckSetup.community_id == scheduled.community_id
            )
        )
        if row is None:
            continue
        window = timedelta(hours=scheduled.open_hours)
        since = max(now - window, row)
        try:
            candidates = scheduled.cadence.occurrences(since, 2)
        except DomainError:
            logger.warning("Health check schedule of community %s cannot be read", scheduled)
            continue
        opened = set(
            await session.scalars(
                select(HealthCheck.occurrence).where(
                    HealthCheck.community_id == scheduled.community_id,
                    HealthCheck.occurrence.in_(candidates),
                )
            )
        )
        pending = [c for c in candidates if c not in opened and c + window > now]
        blocking = await session.scalar(
            select(HealthCheck.closes_at).where(
                HealthCheck.community_id == scheduled.community_id,
                HealthCheck.closed_at.is_(None),
            )
        )
        for occurrence in pending:
            due = occurrence if blocking is None else max(occurrence, blocking)
            if due < occurrence + window:
                result.append(
                    DueOpen(
                        team_id=scheduled.team_id,
                        community_id=scheduled.community_id,
                        revision=scheduled.revision,
                        occurrence=occurrence,
                        due_at=due,
                    )
                )
                break
    return result


async def _deliveries(
    session: AsyncSession, check_ids: list[int]
) -> dict[tuple[int, str, int], HealthCheckDelivery]:
    if not check_ids:
        return {}
    rows = await session.scalars(
        select(HealthCheckDelivery).where(HealthCheckDelivery.check_id.in_(check_ids))
    )
    return {(r.check_id, r.kind, r.round): r for r in rows}


async def due_work(session: AsyncSession) -> tuple[list[DueClose], list[DueDelivery]]:
    """Every open check's close, its poll if the schedule opened it and it is not posted yet,
    its reminder rounds not yet done; and results of checks closed on time not yet posted."""
    checks = await hc.open_checks(session)
    known = await _deliveries(session, [c.id for c in checks])
    closes = [DueClose(c.team_id, c.id, c.closes_at) for c in checks]
    deliveries: list[DueDelivery] = []
    for check in checks:
        post = known.get((check.id, Kind.POST, 0))
        unposted = check.started_by_id is None and check.message_ts is None
        if unposted and (post is None or post.done_at is None):
            due, attempt = _retry_at(post, check.opened_at)
            deliveries.append(DueDelivery(Kind.POST, check.team_id, check.id, 0, due, attempt))
        for round_, at in enumerate(hc.reminder_times(check), start=1):
            row = known.get((check.id, Kind.REMIND, round_))
            if row is not None and row.done_at is not None:
                continue
            due, attempt = _retry_at(row, at)
            deliveries.append(
                DueDelivery(Kind.REMIND, check.team_id, check.id, round_, due, attempt)
            )
    results = await session.execute(
        select(HealthCheckDelivery, HealthCheck.team_id, HealthCheck.closed_at)
        .join(HealthCheck, HealthCheck.id == HealthCheckDelivery.check_id)
        .where(HealthCheckDelivery.kind == Kind.RESULTS, HealthCheckDelivery.done_at.is_(None))
    )
    for row, team_id, closed_at in results:
        due, attempt = _retry_at(row, closed_at or row.created_at)
        deliveries.append(DueDelivery(Kind.RESULTS, team_id, row.check_id, 0, due, attempt))
    return closes, deliveries


# --- deliveries -----------------------------------------------------------------------------


async def open_delivery(
    session: AsyncSession, check_id: int, kind: Kind, round_: int, now: datetime
) -> HealthCheckDelivery:
    """The delivery's row, created on first use (racing creators find the same row)."""
    where = (
        HealthCheckDelivery.check_id == check_id,
        HealthCheckDelivery.kind == kind,
        HealthCheckDelivery.round == round_,
    )
    existing = await session.scalar(select(HealthCheckDelivery).where(*where))
    if existing is not None:
        return existing
    row = HealthCheckDelivery(
        check_id=check_id, kind=kind, round=round_, attempts=0, created_at=now
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(select(HealthCheckDelivery).where(*where))
        assert found is not None
        return found
    return row


async def delivery_failed(session: AsyncSession, delivery_id: int, now: datetime) -> int:
    """Count a failed attempt; the next is planned after `retry_delay`. Returns attempts."""
    row = await session.get(HealthCheckDelivery, delivery_id)
    if row is None or row.done_at is not None:
        return 0
    row.attempts += 1
    row.last_failed_at = now
    await session.flush()
    return row.attempts


async def finish_delivery(
    session: AsyncSession, delivery_id: int, now: datetime, outcome: Outcome
) -> None:
    """Mark it sent or given up on; a reminder round forgets whom it reminded."""
    row = await session.get(HealthCheckDelivery, delivery_id)
    if row is None or row.done_at is not None:
        return
    row.done_at = now
    row.outcome = outcome
    await session.execute(
        delete(HealthCheckReminded).where(HealthCheckReminded.delivery_id == delivery_id)
    )
    await session.flush()


# --- reminders ------------------------------------------------------------------------------


async def _person_key(
    session: AsyncSession, check_id: int, team_id: str, user_id: str
) -> str | None:
    """What stands for someone in the reminded list: their hash while an anonymous check is
    open (so nothing stored names them), their id in a named check; None once an anonymous
    check has closed (nobody is reminded then, and nothing may name them)."""
    row = (
        await session.execute(
            select(HealthCheck.anonymous, HealthCheck.secret).where(HealthCheck.id == check_id)
        )
    ).one_or_none()
    if row is None:
        return None
    anonymous, secret = row
    if not anonymous:
        return user_id
    return None if secret is None else anonymity.voter_key(secret, team_id, user_id)


async def not_yet_reminded(
    session: AsyncSession, delivery_id: int, team_id: str, check_id: int, people: list[str]
) -> list[str]:
    """Those of `people` this round has not reached yet."""
    done = set(
        await session.scalars(
            select(HealthCheckReminded.person).where(HealthCheckReminded.delivery_id == delivery_id)
        )
    )
    result = []
    for user_id in people:
        key = await _person_key(session, check_id, team_id, user_id)
        if key is not None and key not in done:
            result.append(user_id)
    return result


async def record_reminded(
    session: AsyncSession, delivery_id: int, team_id: str, check_id: int, user_id: str
) -> None:
    """This round reached `user_id` (or never can): a retry passes them over."""
    person = await _person_key(session, check_id, team_id, user_id)
    if person is None:
        return
    try:
        async with session.begin_nested():
            session.add(HealthCheckReminded(delivery_id=delivery_id, person=person))
            await session.flush()
    except IntegrityError:
        pass  # recorded already
