"""Builds hearth: one AsyncApp, one Slack client, one database and one scheduler per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.coalesce import Coalescer
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.scheduler import Scheduler
from bot.slack import create_web_client
from bot.slack_status import StatusCache

logger = logging.getLogger(__name__)

BOARD_REFRESH_INTERVAL_SECONDS = 1.0


@dataclass
class Deps:
    """What listeners and jobs need; passed to each domain's `register`."""

    sessionmaker: async_sessionmaker[AsyncSession]
    client: AsyncWebClient
    clock: Clock
    scheduler: Scheduler
    board_refresher: Coalescer
    statuses: StatusCache


@dataclass
class Hearth:
    settings: Settings
    engine: AsyncEngine
    deps: Deps
    app: AsyncApp

    @property
    def scheduler(self) -> Scheduler:
        return self.deps.scheduler

    async def start(self, *, run_scheduler: bool = True) -> None:
        """Load what is due from the database and (unless told not to) start the timers."""
        await self.deps.scheduler.reconcile()
        if run_scheduler:
            self.deps.scheduler.start()

    async def settle(self) -> None:
        """Wait for background work (board refreshes) to finish: for tests and shutdown."""
        await self.deps.board_refresher.drain()

    async def close(self) -> None:
        self.deps.scheduler.shutdown()
        await self.deps.board_refresher.drain()
        await self.engine.dispose()


def create_hearth(
    settings: Settings,
    *,
    clock: Clock | None = None,
    process_before_response: bool = False,
    board_refresh_interval: float = BOARD_REFRESH_INTERVAL_SECONDS,
) -> Hearth:
    """Wire everything together. Nothing here talks to Slack or the database yet."""
    from handlers import register_all

    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    client = create_web_client(settings)
    scheduler = Scheduler(sessionmaker, clock)
    deps = Deps(
        sessionmaker=sessionmaker,
        client=client,
        clock=clock,
        scheduler=scheduler,
        board_refresher=Coalescer(board_refresh_interval),
        statuses=StatusCache(client, clock),
    )
    app = AsyncApp(
        client=client,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        process_before_response=process_before_response,
        request_verification_enabled=settings.slack_signing_secret is not None,
    )
    register_all(app, deps)
    return Hearth(settings=settings, engine=engine, deps=deps, app=app)
