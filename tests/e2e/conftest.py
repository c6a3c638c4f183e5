"""End-to-end harness: the real hearth app, served over HTTP (or Socket Mode), talking to the
local Slack emulator, on a database migrated by alembic, under a clock the test controls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot import migrate
from bot.app import Hearth, create_hearth
from bot.clock import ManualClock
from bot.config import load_settings
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import running_emulator
from bot.server import create_web_app

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday morning
# One installation key for every hearth process a test starts: processes sharing a database
# must seal with the same key, as HEARTH_SECRET_KEY makes them in production.
SECRET_KEY = "e2e-installation-key-" + "k" * 24


@asynccontextmanager
async def running_hearth(
    slack: SlackEmulator,
    database_url: str,
    clock: ManualClock,
    *,
    socket_mode: bool = False,
    serve: bool = True,
    run_scheduler: bool = False,
    board_refresh_interval: float = 0.05,
    settle_after_each_request: bool = True,
) -> AsyncIterator[Hearth]:
    """One hearth process: migrated database, app built as in production, served to the
    emulator over HTTP or Socket Mode. Timers are off unless `run_scheduler` (tests fire them
    with `run_due`), and each request waits for the redraws it caused unless told not to."""
    settings = load_settings(
        _env_file=None,
        slack_bot_token=slack.bot_token,
        slack_signing_secret=slack.signing_secret,
        slack_app_token=slack.app_token if socket_mode else None,
        slack_api_url=slack.api_url,
        database_url=database_url,
        hearth_secret_key=SECRET_KEY,
    )
    await migrate.upgrade(database_url)
    hearth = create_hearth(
        settings,
        clock=clock,
        process_before_response=True,
        board_refresh_interval=board_refresh_interval,
    )
    await hearth.start(run_scheduler=run_scheduler)
    if settle_after_each_request:
        slack.after_delivery.append(hearth.settle)
    runner: web.AppRunner | None = None
    handler = None
    try:
        if serve and socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            slack.use_socket_mode()
            handler = AsyncSocketModeHandler(
                hearth.app, slack.app_token, web_client=hearth.deps.client
            )
            await handler.connect_async()
            await slack.socket_mode.wait_connected()
        elif serve:
            runner = web.AppRunner(create_web_app(hearth.app, engine=hearth.engine))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            slack.set_request_url(f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events")
        yield hearth
    finally:
        if handler is not None:
            await handler.close_async()
        if runner is not None:
            await runner.cleanup()
        if hearth.settle in slack.after_delivery:
            slack.after_delivery.remove(hearth.settle)
        await hearth.close()


@dataclass
class World:
    """What an end-to-end test works with."""

    slack: SlackEmulator
    hearth: Hearth
    clock: ManualClock
    database_url: str

    async def settle(self) -> None:
        """Let background redraws (coalesced board updates) finish."""
        await self.hearth.settle()

    async def advance(self, delta: timedelta) -> int:
        """Move time on and fire whatever came due, as the scheduler would."""
        self.clock.advance(delta)
        ran = await self.hearth.scheduler.run_due()
        await self.settle()
        return ran


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def slack(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def world(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> AsyncIterator[World]:
    async with running_hearth(slack, empty_database, clock) as hearth:
        yield World(slack=slack, hearth=hearth, clock=clock, database_url=empty_database)


__all__ = ["START", "Seed", "World", "running_hearth"]
