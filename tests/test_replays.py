"""Remembering what came in: a repeat is spotted in memory, and across processes through the
database; entries lapse when their time is up; a database that cannot answer does not stop
hearth. The shared table runs on SQLite and PostgreSQL here (hearth uses it on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.db import create_engine
from bot.replays import Mark, RecentRequests
from bot.server import GATE_KEY, create_web_app
from models.replays import SeenSlackRequest

NOW = 1_796_000_000.0


def request(signature: str, until: float = NOW + 300) -> Mark:
    return Mark("request", signature, until)


def event(event_id: str, until: float = NOW + 1800) -> Mark:
    return Mark("event", event_id, until)


async def rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(SeenSlackRequest)))


# -- in memory ------------------------------------------------------------------------------


async def test_a_request_is_new_once() -> None:
    recent = RecentRequests()

    assert await recent.first_time([request("v0=a")], NOW)
    assert not await recent.first_time([request("v0=a")], NOW + 1)
    assert await recent.first_time([request("v0=b")], NOW + 1)


async def test_a_retried_event_is_a_repeat_whatever_its_signature() -> None:
    recent = RecentRequests()

    assert await recent.first_time([request("v0=first"), event("Ev1")], NOW)
    assert not await recent.first_time([request("v0=retry"), event("Ev1")], NOW + 60)
    assert await recent.first_time([request("v0=other"), event("Ev2")], NOW + 60)


async def test_a_request_is_forgotten_when_its_time_is_up() -> None:
    recent = RecentRequests()
    await recent.first_time([request("v0=a", until=NOW + 300)], NOW)

    assert not await recent.first_time([request("v0=a")], NOW + 299)
    assert await recent.first_time([request("v0=a", until=NOW + 900)], NOW + 300)


async def test_memory_is_bounded_forgetting_the_oldest() -> None:
    recent = RecentRequests(limit=3)
    for name in "abcd":
        assert await recent.first_time([request(name)], NOW)

    assert len(recent) == 3
    assert await recent.first_time([request("a")], NOW)  # the oldest went
    assert not await recent.first_time([request("d")], NOW)


async def test_forgetting_lets_an_event_in_again() -> None:
    recent = RecentRequests()
    await recent.first_time([event("Ev1")], NOW)

    await recent.forget(event("Ev1"))

    assert await recent.first_time([event("Ev1")], NOW)


def test_marks_are_keyed_by_kind_and_value_without_keeping_either() -> None:
    key = request("v0=abc").key

    assert len(key) == 64 and "abc" not in key
    assert key != event("v0=abc").key


# -- shared through the database ------------------------------------------------------------


async def test_two_processes_sharing_a_database_take_a_request_in_once(
    engine: AsyncEngine,
) -> None:
    one, other = RecentRequests(engine), RecentRequests(engine)

    assert await one.first_time([request("v0=a")], NOW)
    assert not await other.first_time([request("v0=a")], NOW)
    assert await other.first_time([request("v0=b")], NOW)
    assert not await one.first_time([request("v0=b")], NOW)
    assert await rows(engine) == 2


async def test_a_retry_reaching_another_process_is_a_repeat(engine: AsyncEngine) -> None:
    one, other = RecentRequests(engine), RecentRequests(engine)

    assert await one.first_time([request("v0=first"), event("Ev1")], NOW)
    assert not await other.first_time([request("v0=retry"), event("Ev1")], NOW + 60)


async def test_forgetting_reaches_the_other_processes(engine: AsyncEngine) -> None:
    one, other = RecentRequests(engine), RecentRequests(engine)
    await one.first_time([event("Ev1")], NOW)

    await one.forget(event("Ev1"))

    assert await other.first_time([event("Ev1")], NOW)


async def test_pruning_deletes_only_what_has_lapsed(engine: AsyncEngine) -> None:
    recent = RecentRequests(engine)
    await recent.first_time([request("v0=old", until=NOW + 10)], NOW)
    await recent.first_time([request("v0=new", until=NOW + 300)], NOW)

    assert await recent.prune(NOW + 11) == 1

    async with engine.connect() as connection:
        [left] = (await connection.execute(select(SeenSlackRequest.expires_at))).scalars()
    assert left == datetime.fromtimestamp(NOW + 300, UTC)


async def test_lapsed_rows_are_pruned_in_the_background(engine: AsyncEngine) -> None:
    recent = RecentRequests(engine)
    await recent.first_time([request("v0=old", until=NOW + 10)], NOW)
    clock = ManualClock(datetime.fromtimestamp(NOW + 11, UTC))

    pruning = asyncio.create_task(recent.keep_pruned(clock, interval=0.01))
    try:
        for _ in range(500):  # up to 5 s
            if not await rows(engine):
                break
            await asyncio.sleep(0.01)
    finally:
        pruning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruning

    assert await rows(engine) == 0


async def test_a_database_that_cannot_answer_falls_back_to_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = create_engine("postgresql+asyncpg://hearth@127.0.0.1:1/hearth")
    try:
        recent = RecentRequests(unreachable, database_timeout=5)

        assert await recent.first_time([request("v0=a")], NOW)
        assert not await recent.first_time([request("v0=a")], NOW)
        # An outage is said once a minute, not once for every request that comes in.
        for n in range(5):
            assert await recent.first_time([request(f"v0=b{n}")], NOW + n)
        assert await recent.first_time([request("v0=c")], NOW + 61)
    finally:
        await unreachable.dispose()
    lines = [r for r in caplog.records if r.name == "bot.replays"]
    assert len(lines) == 2, [r.getMessage() for r in lines]
    line = lines[0]
    assert line.levelno == logging.WARNING
    assert line.exc_info is None
    assert "going by this process's memory" in line.getMessage()


async def test_only_postgresql_is_shared(empty_database: str) -> None:
    engine = create_engine(empty_database)
    try:
        recent = RecentRequests.for_engine(engine)
        assert (recent.engine is engine) == empty_database.startswith("postgresql")
    finally:
        await engine.dispose()
    assert RecentRequests.for_engine(None).engine is None


# -- the front door that uses it ------------------------------------------------------------


async def _authorize(**_: object) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-1")


def test_serving_over_http_needs_a_signing_secret() -> None:
    app = AsyncApp(authorize=_authorize, request_verification_enabled=False)

    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        create_web_app(app)


def test_the_front_door_uses_the_given_secret_and_clock() -> None:
    app = AsyncApp(signing_secret="bolts-secret", authorize=_authorize)
    clock = ManualClock()

    by_default = create_web_app(app)[GATE_KEY]
    given = create_web_app(app, signing_secret="given-secret", clock=clock)[GATE_KEY]

    assert by_default.signing_secret == b"bolts-secret"
    assert (given.signing_secret, given.clock) == (b"given-secret", clock)
