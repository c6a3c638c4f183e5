"""Fixtures for the fault suite: an emulator on a clock the test moves, and a cluster of real
hearth processes on `empty_database` (SQLite, then PostgreSQL). On a failure the processes'
logs are shown with the test's report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest

from bot.emulator.server import SlackEmulator
from bot.emulator.testing import running_emulator
from tests.faults.harness import SLACK_ACK_SECONDS, Cluster, running_cluster, start_offset
from tests.faults.process import MovableClock

CLUSTER = pytest.StashKey[Cluster]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    cluster = item.stash.get(CLUSTER, None)
    if cluster is not None and report.failed:
        report.sections.append(("hearth processes (stderr)", cluster.logs()))
    return report


@pytest.fixture
def clock() -> MovableClock:
    """The emulator's clock: START now, moved only with the processes' (`Cluster.advance`)."""
    return MovableClock(start_offset())


@pytest.fixture
async def slack(clock: MovableClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=clock, delivery_timeout=SLACK_ACK_SECONDS) as emulator:
        yield emulator


@pytest.fixture
async def cluster(
    request: pytest.FixtureRequest,
    slack: SlackEmulator,
    clock: MovableClock,
    empty_database: str,
    tmp_path: Path,
) -> AsyncIterator[Cluster]:
    """No process is running yet: the test spawns them (`cluster.spawn()`)."""
    async with running_cluster(slack, clock, empty_database, tmp_path) as running:
        request.node.stash[CLUSTER] = running
        yield running
