"""Keyed hashes that stand in for people in an anonymous health check.

Each check gets its own random secret, stored sealed under the installation's key in a row of
its own (`HealthCheckSecret`), so the database alone never holds it in the clear. While the
check is open, HMAC-SHA256(secret, person) lets hearth enforce one answer per person and find
who has not answered yet (by hashing the channel's members), without storing who anyone is.
Once the secret is destroyed at close, and the database files have forgotten it (`forget_due`,
`bot.db.forget_deleted`), the hashes are random-looking strings that nobody can tie back to a
person: a keyed hash cannot be reversed or recomputed by trying every user id without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict
from bot.keys import SealBroken, Sealer
from models.health_check import HealthCheck, HealthCheckSecret

logger = logging.getLogger(__name__)

# The one table whose deleted rows the database must forget (`bot.db.forget_deleted`).
SECRET_TABLE = HealthCheckSecret.__tablename__
# Tables whose deleted rows a closed check leaves behind: its keyed answers, and reminder DMs
# that named the people who had not answered yet.
ALSO_VACUUM = ("health_check_answer", "outbox_message")

SECRET_BYTES = 32
VOTER_KEY_LENGTH = 64  # hex characters of a SHA-256 digest


def new_secret() -> bytes:
    """A fresh secret for one check, from the operating system's secure random source."""
    return secrets.token_bytes(SECRET_BYTES)


def voter_key(secret: bytes, team_id: str, user_id: str) -> str:
    """The hash that stands for one person in one check (hex)."""
    message = f"{team_id}:{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


# --- the secret of an open check, sealed in its own row --------------------------------------


class SecretUnreadable(Conflict):
    """The check's secret was sealed under another installation key."""


def sealer_of(session: AsyncSession) -> Sealer:
    """The installation's sealer, carried by the unit of work (`bot.db.create_sessionmaker`)."""
    sealer = session.info.get("sealer")
    if sealer is None:
        raise RuntimeError(
            "This session has no sealer: make sessions with create_sessionmaker(engine, sealer=...)"
        )
    return sealer


def keep_secret(session: AsyncSession, check_id: int) -> None:
    """Make the secret of a newly opened anonymous check and store it sealed."""
    sealed = sealer_of(session).seal(new_secret())
    session.add(HealthCheckSecret(check_id=check_id, sealed=sealed))


async def check_secret(session: AsyncSession, check_id: int) -> bytes | None:
    """The open check's secret; None once it is destroyed (the check has closed)."""
    sealed = await session.scalar(
        select(HealthCheckSecret.sealed).where(HealthCheckSecret.check_id == check_id)
    )
    if sealed is None:
        return None
    try:
        return sealer_of(session).open(sealed)
    except SealBroken:
        logger.error(
            "Health check %d: its secret was sealed with another HEARTH_SECRET_KEY (or key "
            "file), so it cannot take answers; restore the key it was opened with",
            check_id,
        )
        raise SecretUnreadable(
            "This health check can't take answers right now: hearth's secret key has "
            "changed since it opened. Please let whoever runs hearth know."
        ) from None


async def destroy_secret(session: AsyncSession, check_id: int) -> None:
    """Delete the check's secret: from here on no hash can be tied to anyone. The database
    files forget the deleted bytes once `bot.db.forget_deleted` has run on the table."""
    await session.execute(delete(HealthCheckSecret).where(HealthCheckSecret.check_id == check_id))


# --- making the database forget a closed check's secret -------------------------------------

FORGET_BATCH = 200
FORGET_RETRY_AFTER = timedelta(minutes=1)
FORGET_RETRY_AT_MOST = timedelta(hours=1)


@dataclass(frozen=True)
class ForgetDue:
    """Closed anonymous checks whose deleted secrets the database files may still hold."""

    check_ids: tuple[int, ...]
    due_at: datetime


async def forget_due(session: AsyncSession) -> ForgetDue | None:
    """What the database still has to forget, and when to try: at once after a close, later
    (doubling, at most hourly) after each attempt the database was too busy for."""
    rows = (
        await session.execute(
            select(HealthCheck.id, HealthCheck.closed_at, HealthCheck.forget_attempts)
            .where(
                HealthCheck.anonymous.is_(True),
                HealthCheck.closed_at.is_not(None),
                HealthCheck.forgotten_at.is_(None),
            )
            .order_by(HealthCheck.closed_at, HealthCheck.id)
            .limit(FORGET_BATCH)
        )
    ).all()
    if not rows:
        return None
    due_at = min(
        closed_at + _forget_backoff(attempts)
        for _id, closed_at, attempts in rows
        if closed_at is not None
    )
    return ForgetDue(check_ids=tuple(row[0] for row in rows), due_at=due_at)


def _forget_backoff(attempts: int) -> timedelta:
    if attempts == 0:
        return timedelta(0)
    return min(FORGET_RETRY_AFTER * 2 ** (attempts - 1), FORGET_RETRY_AT_MOST)


async def record_forgotten(
    session: AsyncSession, check_ids: Sequence[int], now: datetime, *, done: bool
) -> None:
    """The database forgot these checks' secrets (`done`), or was too busy to this time."""
    chosen = HealthCheck.id.in_(check_ids)
    if done:
        await session.execute(update(HealthCheck).where(chosen).values(forgotten_at=now))
    else:
        await session.execute(
            update(HealthCheck)
            .where(chosen)
            .values(forget_attempts=HealthCheck.forget_attempts + 1)
        )
