"""The timed side of health checks: which check opens when, and which close and reminder
rounds are still to come.

Everything is worked out from current rows, so a deleted schedule or a changed set-up stops
future checks at once, and a check that came due while hearth was down is opened when it
returns, as long as its open window has not passed. Opening itself is claimed by the check
row: a scheduled occurrence becomes at most one check (a unique constraint), so only the
process that inserted it owes its poll.

What a check says is owed through the outbox (`bot.services.health_check_messages`): the poll
with the opening, the results with the closing, and a round of reminder DMs with the round's
claim (`job_claim`), so a round is done once however often it is woken, and a round not yet
claimed is still planned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from bot.services import health_check as hc
from bot.services.health_check_types import CheckView
from models.health_check import HealthCheck, HealthCheckSetup
from models.scheduling import JobClaim

logger = logging.getLogger(__name__)


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
class DueReminders:
    """Round `round` (from 1) of a check's reminders: ids only, re-read by the job."""

    team_id: str
    check_id: int
    round: int
    due_at: datetime

    @property
    def key(self) -> str:
        """The job's key, and what is claimed (`ROUND_CLAIMED` as the occurrence)."""
        return reminders_claim_key(self.check_id, self.round)


# A round is claimed once, as a whole. (Versions before the outbox claimed each attempt at a
# round under its number, from "0": a round any of them claimed counts as claimed.)
ROUND_CLAIMED = "0"


def reminders_claim_key(check_id: int, round_: int) -> str:
    return f"health_check.remind:{check_id}:{round_}"


# --- when -----------------------------------------------------------------------------------


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


async def due_work(session: AsyncSession) -> tuple[list[DueClose], list[DueReminders]]:
    """Every open check's close, and its reminder rounds not yet claimed."""
    checks = await hc.open_checks(session)
    rounds = [
        DueReminders(check.team_id, check.id, round_, at)
        for check in checks
        for round_, at in enumerate(hc.reminder_times(check), start=1)
    ]
    claimed: set[str] = set()
    if rounds:
        claimed = set(
            await session.scalars(
                select(JobClaim.job_key).where(JobClaim.job_key.in_([r.key for r in rounds]))
            )
        )
    closes = [DueClose(c.team_id, c.id, c.closes_at) for c in checks]
    rounds = [r for r in rounds if r.key not in claimed]
    return closes, rounds


async def still_open(session: AsyncSession, team_id: str, check_id: int) -> bool:
    """Whether the check is open, holding it open until this transaction ends: closing waits
    (on PostgreSQL; SQLite's write transactions take turns anyway), so reminders are never
    owed for a check that has closed meanwhile, whose closing forgets them."""
    closed_at = await session.execute(
        select(HealthCheck.closed_at)
        .where(HealthCheck.id == check_id, HealthCheck.team_id == team_id)
        .with_for_update(read=True)
    )
    row = closed_at.one_or_none()
    return row is not None and row.closed_at is None
