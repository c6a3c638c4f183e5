"""Claiming a scheduled firing so that only one process, once, acts on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.scheduling import JobClaim


async def claim(session: AsyncSession, job_key: str, occurrence: str, now: datetime) -> bool:
    """Insert the claim row for (job_key, occurrence); True only for the first claimant.

    Call it inside the transaction that performs the job's database effects, so a crash
    before commit releases the claim together with the half-done work.
    """
    try:
        async with session.begin_nested():
            session.add(JobClaim(job_key=job_key, occurrence=occurrence, claimed_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True
