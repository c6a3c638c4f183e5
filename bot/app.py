"""Builds hearth: one AsyncApp, one Slack client, one database and one scheduler per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.access import ChannelAccess
from bot.clock import Clock, SystemClock
from bot.coalesce import Coalescer
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.installations import Installations, create_installations, workspace_client
from bot.jobs.outbox import OutboxSender
from bot.jobs.outbox import register as register_outbox
from bot.keys import Sealer, sealer_for
from bot.request_gate import RefuseMalformedPayloads
from bot.scheduler import Scheduler
from bot.slack import create_outbox_client, create_web_client
from bot.slack_status import StatusCache
from bot.workspaces import act_for_workspace

logger = logging.getLogger(__name__)

BOARD_REFRESH_INTERVAL_SECONDS = 1.0


@dataclass
class Deps:
    """What listeners and jobs need; passed to each domain's `register`."""

    sessionmaker: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    client: AsyncWebClient
    clock: Clock
    scheduler: Scheduler
    board_refresher: Coalescer
    statuses: StatusCache
    # Who may act in which channel (private channels: only their members), asked of Slack.
    access: ChannelAccess
    outbox: OutboxSender
    # hearth installed in several workspaces (no SLACK_BOT_TOKEN): their OAuth and tokens.
    installations: Installations | None = None


@dataclass
class Hearth:
    settings: Settings
    engine: AsyncEngine
    deps: Deps
    app: AsyncApp

    @property
    def scheduler(self) -> Scheduler:
        return self.deps.scheduler

    @property
    def clock(self) -> Clock:
        return self.deps.clock

    async def start(self, *, run_scheduler: bool = True) -> None:
        """Load what is due from the database and (unless told not to) start the timers."""
        await self.deps.scheduler.reconcile()
        if run_scheduler:
            self.deps.scheduler.start()

    async def settle(self) -> None:
        """Wait for background work (sends, board refreshes) to finish: tests and shutdown."""
        await self.deps.outbox.settle()
        await self.deps.board_refresher.drain()

    async def close(self) -> None:
        self.deps.scheduler.shutdown()
        await self.deps.outbox.settle()
        await self.deps.board_refresher.drain()
        await self.engine.dispose()


def create_hearth(
    settings: Settings,
    *,
    clock: Clock | None = None,
    process_before_response: bool = False,
    board_refresh_interval: float = BOARD_REFRESH_INTERVAL_SECONDS,
    sealer: Sealer | None = None,
) -> Hearth:
    """Wire everything together. Nothing here talks to Slack or the database yet.

    `sealer` defaults to the installation's (`HEARTH_SECRET_KEY` or the key file)."""
    from handlers import register_all

    clock = clock or SystemClock()
    sealer = sealer or sealer_for(settings)
    if sealer is None:
        raise ValueError("hearth on PostgreSQL needs HEARTH_SECRET_KEY")
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine, sealer=sealer)
    installations: Installations | None = None
    if settings.several_workspaces:
        # Each workspace's token comes from the database; the clients speak for whichever
        # workspace hearth is acting for (bot.workspaces).
        installations = create_installations(settings, engine, sealer)
        client: AsyncWebClient = workspace_client(installations, settings, retries=True)
        outbox_client: AsyncWebClient = workspace_client(installations, settings, retries=False)
    else:
        client = create_web_client(settings)
        outbox_client = create_outbox_client(settings)
    scheduler = Scheduler(sessionmaker, clock)
    sender = OutboxSender(sessionmaker, outbox_client, clock)
    register_outbox(scheduler, sender)
    deps = Deps(
        sessionmaker=sessionmaker,
        engine=engine,
        client=client,
        clock=clock,
        scheduler=scheduler,
        board_refresher=Coalescer(board_refresh_interval),
        statuses=StatusCache(client, clock),
        access=ChannelAccess(client, clock),
        outbox=sender,
        installations=installations,
    )
    app = AsyncApp(
        client=client,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        process_before_response=process_before_response,
        # The front door (bot/server.py) verifies signatures on the raw bytes before Bolt;
        # this checks payload shapes in both modes, before Bolt reads ids from them.
        request_verification_enabled=False,
        before_authorize=RefuseMalformedPayloads(),
        # In several workspaces: /slack/install, and each request authorized by its team.
        **(installations.bolt_options() if installations is not None else {}),
    )
    if installations is not None:
        app.use(act_for_workspace)  # first: every listener speaks for the request's workspace
    register_all(app, deps)
    return Hearth(settings=settings, engine=engine, deps=deps, app=app)
