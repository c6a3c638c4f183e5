"""Wakes jobs when something in the database comes due.

The database is the source of truth: each domain registers a *source* that reads its rows
(time-boxes ending, polls to decide, reminders) and returns `PlannedJob`s. `reconcile()` makes
APScheduler's in-memory jobs match them, at start-up and whenever a service changes a due
time. Jobs take ids, open their own session and claim their firing, so a job that runs twice
(two processes, a restart) acts once.

Nothing due is ever dropped. A job that fails (the database went away for a moment, say) is
still due in the database, so it is planned again, after a back-off that grows with each
failure in a row. And every process re-reads the database every few seconds (`resync`), which
is how it learns of work another process planned (that process may have been killed before
doing it) and how it recovers once the database is back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.workspaces import acting_for

logger = logging.getLogger(__name__)

JobFunc = Callable[..., Awaitable[None]]

# How often every process re-reads what is due (work planned elsewhere, or after a failure).
RESYNC_SECONDS = 5.0
RESYNC_JOB_ID = "hearth.resync"
# After a job's n-th failure in a row it is tried again this long after: 5 s, 10 s, … 5 min.
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=5)


def retry_after(failures: int) -> timedelta:
    """The wait before trying a job again after `failures` failures in a row."""
    if failures <= 0:
        return timedelta(0)
    return min(RETRY_FIRST * 2 ** (failures - 1), RETRY_MAX)


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (a passing outage), rather than
    that hearth did something wrong: such a failure is worth one line, not a traceback."""
    if isinstance(error, OperationalError | ConnectionError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


@dataclass(frozen=True)
class PlannedJob:
    """One thing to do at `due_at`: call `func(*args)`. `key` identifies it across reconciles.

    The job acts for a workspace (`acts_for`): `team_id`, or else that of an argument with a
    `team_id` (the due rows jobs take). Its Slack calls go out with that workspace's token
    (`bot.workspaces`), and it waits while hearth is removed from that workspace
    (`pause_teams`)."""

    key: str
    due_at: datetime
    func: JobFunc = field(compare=False)
    args: tuple[object, ...] = ()
    team_id: str | None = None

    @property
    def acts_for(self) -> str | None:
        if self.team_id is not None:
            return self.team_id
        for arg in self.args:
            team_id = getattr(arg, "team_id", None)
            if isinstance(team_id, str):
                return team_id
        return None


JobSource = Callable[[AsyncSession], Awaitable[Iterable[PlannedJob]]]
PausedTeams = Callable[[AsyncSession], Awaitable[set[str]]]


class Scheduler:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        resync_seconds: float = RESYNC_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._sources: list[JobSource] = []
        self._paused_teams: PausedTeams | None = None
        self._aps = AsyncIOScheduler(timezone="UTC")
        self._resync_seconds = resync_seconds
        # Jobs that failed, by key: (failures in a row, not to be tried again before).
        self._failures: dict[str, tuple[int, datetime]] = {}
        # Jobs running now: a resync must not start them a second time meanwhile.
        self._running: set[str] = set()
        self._database_down = False
        self._resyncing = False  # a periodic resync is under way

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def add_source(self, source: JobSource) -> None:
        self._sources.append(source)

    def pause_teams(self, paused: PausedTeams) -> None:
        """Leave out the jobs of the workspaces `paused` names (hearth was removed from them:
        nothing may act for them, and their work resumes if hearth is installed again)."""
        self._paused_teams = paused

    async def planned(self) -> list[PlannedJob]:
        """Everything the database says is scheduled, soonest first."""
        async with self._sessionmaker() as session:
            jobs = [job for source in self._sources for job in await source(session)]
            if self._paused_teams is not None:
                paused = await self._paused_teams(session)
                jobs = [job for job in jobs if job.acts_for not in paused]
        return sorted(jobs, key=lambda job: (job.due_at, job.key))

    async def reconcile(self) -> None:
        """Make the in-memory timers match the database (idempotent)."""
        planned = await self.planned()
        wanted = {job.key for job in planned}
        for job in planned:
            self._schedule(job)
        for existing in self._aps.get_jobs():
            if existing.id not in wanted and existing.id != RESYNC_JOB_ID:
                existing.remove()
        for key in set(self._failures) - wanted:
            del self._failures[key]  # done elsewhere, or no longer wanted

    async def changed(self) -> None:
        """Tell the scheduler that due times changed in the database (after commit)."""
        if self.running:
            await self.resync()

    async def resync(self) -> bool:
        """Reconcile, saying so once if the database cannot be reached (the next resync tries
        again). Returns whether it worked."""
        try:
            await self.reconcile()
        except Exception as exc:
            if not database_unreachable(exc):
                logger.exception("Could not read what is due from the database")
            elif not self._database_down:
                logger.warning(
                    "The database cannot be reached (%s); due work waits until it is back",
                    type(exc).__name__,
                )
            self._database_down = True
            return False
        if self._database_down:
            logger.info("The database is back; catching up on due work")
            self._database_down = False
        return True

    def _schedule(self, job: PlannedJob) -> None:
        # APScheduler keeps real time; our clock may be a test's or the sandbox's. Schedule by
        # how far away the job is on our clock. Something overdue (it came due while the bot
        # was down) runs now; a job that just failed waits for its retry.
        if job.key in self._running:
            return  # it reconciles again when it has finished
        run_date = datetime.now(UTC) + max(self._due_at(job) - self._clock.now(), timedelta(0))
        self._aps.add_job(
            self._run,
            DateTrigger(run_date=run_date),
            args=(job,),
            id=job.key,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def _due_at(self, job: PlannedJob) -> datetime:
        """When to run `job`: when it is due, or, after failing, when its retry is due."""
        failed = self._failures.get(job.key)
        return job.due_at if failed is None else max(job.due_at, failed[1])

    async def _run(self, job: PlannedJob) -> None:
        await self._attempt(job)
        # The job may have planned follow-ups (an extension, a poll to decide).
        await self.changed()

    async def _attempt(self, job: PlannedJob) -> bool:
        """Run one job; on failure remember when to try it again. Returns whether it ran."""
        self._running.add(job.key)
        try:
            with acting_for(job.acts_for):
                await job.func(*job.args)
        except Exception as exc:
            failures = self._failures.get(job.key, (0, job.due_at))[0] + 1
            wait = retry_after(failures)
            self._failures[job.key] = (failures, self._clock.now() + wait)
            if database_unreachable(exc):
                # Said once while the database is away (here or by `resync`), not once per
                # job and retry: during an outage every job fails the same way.
                logger.log(
                    logging.INFO if self._database_down else logging.WARNING,
                    "Scheduled job %s could not reach the database (%s); trying again in %ds",
                    job.key,
                    type(exc).__name__,
                    wait.total_seconds(),
                )
                self._database_down = True
            else:
                logger.exception(
                    "Scheduled job %s failed; trying again in %ds", job.key, wait.total_seconds()
                )
            return False
        finally:
            self._running.discard(job.key)
        self._failures.pop(job.key, None)
        return True

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
                if self._due_at(job) <= now and (job.key, job.due_at) not in ran
            ]
            if not due:
                return len(ran)
            job = due[0]
            ran.add((job.key, job.due_at))
            await self._attempt(job)

    async def _resync_periodically(self) -> None:
        """The periodic resync, one at a time: one still waiting on the database (a SQLite
        lock waits out the busy timeout) is not joined by more, and APScheduler has no reason
        to log, every few seconds, that it skipped one."""
        if self._resyncing:
            return
        self._resyncing = True
        try:
            await self.resync()
        finally:
            self._resyncing = False

    def start(self) -> None:
        if not self._aps.running:
            self._aps.add_job(
                self._resync_periodically,
                IntervalTrigger(seconds=self._resync_seconds),
                id=RESYNC_JOB_ID,
                replace_existing=True,
                coalesce=True,
                max_instances=2,  # the second returns at once while the first still waits
                misfire_grace_time=None,
            )
            self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
