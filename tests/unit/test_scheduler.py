"""The scheduler never drops due work: a job that fails (the database went away for a moment)
is tried again after a back-off, a resync that cannot reach the database says so once and
catches up when it is back, work planned by another process is picked up by a resync, and a
job still running is not started twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock, SystemClock
from bot.scheduler import PlannedJob, Scheduler, retry_after

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
Maker = async_sessionmaker[AsyncSession]


def outage() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


class FlakyJob:
    """A job that fails with a database outage `failures` times, then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.done = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise outage()
        self.done.set()


def test_the_back_off_grows_and_stops_growing() -> None:
    assert [retry_after(n).total_seconds() for n in range(1, 5)] == [5, 10, 20, 40]
    assert retry_after(30) == timedelta(minutes=5)


async def test_a_job_that_hits_an_outage_is_tried_again_later(
    sessionmaker: Maker, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(NOW)
    job = FlakyJob(failures=1)

    async def source(_session: AsyncSession) -> Iterable[PlannedJob]:
        return [] if job.done.is_set() else [PlannedJob("flaky", NOW, job)]

    scheduler = Scheduler(sessionmaker, clock)
    scheduler.add_source(source)
    with caplog.at_level(logging.INFO):
        assert await scheduler.run_due() == 1
    assert job.calls == 1 and not job.done.is_set()
    # Not again at once, and not dropped either: planned again after the back-off.
    assert await scheduler.run_due() == 0
    clock.advance(retry_after(1))
    assert await scheduler.run_due() == 1
    assert job.done.is_set()
    warnings = [r for r in caplog.records if r.name == "bot.scheduler"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "trying again in 5s" in warnings[0].getMessage()
    assert warnings[0].exc_info is None, "a passing outage is one line, not a traceback"


async def test_a_resync_during_an_outage_says_so_once_and_catches_up(
    sessionmaker: Maker, caplog: pytest.LogCaptureFixture
) -> None:
    down = True
    job = FlakyJob(failures=0)

    async def source(_session: AsyncSession) -> Iterable[PlannedJob]:
        if down:
            raise outage()
        return [] if job.done.is_set() else [PlannedJob("due", NOW, job)]

    scheduler = Scheduler(sessionmaker, ManualClock(NOW), resync_seconds=0.05)
    scheduler.add_source(source)
    with caplog.at_level(logging.INFO):
        scheduler.start()
        try:
            await asyncio.sleep(0.3)  # several resyncs fail
            down = False
            await asyncio.wait_for(job.done.wait(), timeout=5)
        finally:
            scheduler.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.scheduler"]
    assert sum("cannot be reached" in line for line in lines) == 1, lines
    assert any("The database is back" in line for line in lines)
    assert not [r for r in caplog.records if r.exc_info], "no traceback for an outage"


async def test_work_planned_by_another_process_is_picked_up(sessionmaker: Maker) -> None:
    """Process A planned a timer and was killed before it fired; B learns of it by resyncing."""
    due_rows: list[PlannedJob] = []
    job = FlakyJob(failures=0)

    async def source(_session: AsyncSession) -> Iterable[PlannedJob]:
        return [] if job.done.is_set() else list(due_rows)

    survivor = Scheduler(sessionmaker, SystemClock(), resync_seconds=0.05)
    survivor.add_source(source)
    await survivor.reconcile()
    survivor.start()
    try:
        # The dead process's row appears in the database after B last reconciled.
        due_rows.append(PlannedJob("planned-elsewhere", datetime.now(UTC), job))
        await asyncio.wait_for(job.done.wait(), timeout=5)
    finally:
        survivor.shutdown()
    assert job.calls == 1


async def test_a_running_job_is_not_started_twice_by_a_resync(sessionmaker: Maker) -> None:
    started = 0
    release = asyncio.Event()

    async def slow() -> None:
        nonlocal started
        started += 1
        await release.wait()

    async def source(_session: AsyncSession) -> Iterable[PlannedJob]:
        return [PlannedJob("slow", datetime.now(UTC), slow)]

    scheduler = Scheduler(sessionmaker, SystemClock(), resync_seconds=0.05)
    scheduler.add_source(source)
    await scheduler.reconcile()
    scheduler.start()
    try:
        await asyncio.sleep(0.5)  # ten resyncs while the job runs
        assert started == 1
    finally:
        release.set()
        scheduler.shutdown()
