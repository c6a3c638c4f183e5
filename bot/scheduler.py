"""Wakes jobs when something in the database comes due.

The database is the source of truth: each domain registers a *source* that reads its rows
(time-boxes ending, polls to decide, reminders) and returns `PlannedJob`s. `reconcile()` makes
APScheduler's in-memory jobs match them, at start-up and whenever a service changes a due
time. Jobs take ids, open their own session and claim their firing, so a job that runs twice
(two processes, a restart) acts once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock

logger = logging.getLogger(__name__)

JobFunc = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class PlannedJob:
    """One thing to do at `due_at`: call `func(*args)`. `key` identifies it across reconciles."""

    key: str
    due_at: datetime
    func: JobFunc = field(compare=False)
    args: tuple[object, ...] = ()


JobSource = Callable[[AsyncSession], Awaitable[Iterable[PlannedJob]]]


class Scheduler:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._sources: list[JobSource] = []
        self._aps = AsyncIOScheduler(timezone="UTC")

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def add_source(self, source: JobSource) -> None:
        self._sources.append(source)

    async def planned(self) -> list[PlannedJob]:
        """Everything the database says is scheduled, soonest first."""
        async with self._sessionmaker() as session:
            jobs = [job for source in self._sources for job in await source(session)]
        return sorted(jobs, key=lambda job: (job.due_at, job.key))

    async def reconcile(self) -> None:
        """Make the in-memory timers match the database (idempotent)."""
        planned = await self.planned()
        wanted = {job.key for job in planned}
        for job in planned:
            self._schedule(job)
        for existing in self._aps.get_jobs():
            if existing.id not in wanted:
                existing.remove()

    async def changed(self) -> None:
        """Tell the scheduler that due times changed in the database (after commit)."""
        if self.running:
            await self.reconcile()

    def _schedule(self, job: PlannedJob) -> None:
        # APScheduler keeps real time; our clock may be a test's or the sandbox's. Schedule by
        # how far away the job is on our clock. Something overdue (it came due while the bot
        # was down) runs now.
        delay = max(job.due_at - self._clock.now(), timedelta(0))
        run_date = datetime.now(UTC) + delay
        self._aps.add_job(
            self._run,
            DateTrigger(run_date=run_date),
            args=(job,),
            id=job.key,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    async def _run(self, job: PlannedJob) -> None:
        try:
            await job.func(*job.args)
        except Exception:
            logger.exception("Scheduled job %s failed", job.key)
        # The job may have planned follow-ups (an extension, a poll to decide).
        await self.changed()

    async def run_due(self, now: datetime | None = None) -> int:
        """Run, in order, every job the database says is due by `now`.

        Used by the tests and the sandbox's clock control to fire timers deterministically,
        through the same job code and claims as the live scheduler. Jobs that come due as a
        result of running others (in the past of `now`) run too. Returns how many ran.
        """
        now = now or self._clock.now()
        ran: set[tuple[str, datetime]] = set()
        while True:
            due = [
                job
                for job in await self.planned()
                if job.due_at <= now and (job.key, job.due_at) not in ran
            ]
            if not due:
                return len(ran)
            job = due[0]
            ran.add((job.key, job.due_at))
            try:
                await job.func(*job.args)
            except Exception:
                logger.exception("Scheduled job %s failed", job.key)

    def start(self) -> None:
        if not self._aps.running:
            self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
