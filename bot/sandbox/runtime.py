"""The sandbox in one process: the Slack emulator, hearth served to it, and the page.

Everything shares one event loop and one `OffsetClock`, so the page can move time forward
and see hearth's time-boxes fire at once, through the same scheduler and jobs as production.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot import migrate
from bot.app import Hearth, create_hearth
from bot.config import KeySettings, load_settings
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.keys import Sealer, sealer_for
from bot.sandbox.clock import OffsetClock
from bot.sandbox.feed import ChangeFeed
from bot.server import create_web_app, wait_for_stop_signal

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# What Slack allows an app to acknowledge a request in.
SLACK_ACK_SECONDS = 3.0
STARTING_USER = Seed.ALICE
STARTING_CHANNEL = Seed.PRACTICE


@dataclass
class Sandbox:
    """A running sandbox: what the page server and the tests work with."""

    emulator: SlackEmulator
    hearth: Hearth
    clock: OffsetClock
    feed: ChangeFeed
    database_url: str
    url: str = ""
    _violations_logged: int = field(default=0, init=False, repr=False)

    async def advance(self, delta: timedelta) -> int:
        """Move time forward and run whatever came due; returns how many jobs ran."""
        self.clock.advance(delta)
        ran = await self.hearth.scheduler.run_due()
        # Timers still waiting were set for the old time; set them again for the new one.
        await self.hearth.scheduler.reconcile()
        await self.hearth.settle()
        self.feed.notify()
        return ran

    def _note_violations(self) -> None:
        for violation in self.emulator.violations[self._violations_logged :]:
            logger.warning("Slack would refuse this: %s", violation)
        self._violations_logged = len(self.emulator.violations)

    def changed(self) -> None:
        self._note_violations()
        self.feed.notify()


@asynccontextmanager
async def running_sandbox(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    database_url: str | None = None,
    delivery_timeout: float = SLACK_ACK_SECONDS,
    run_scheduler: bool = True,
    start: datetime | None = None,
) -> AsyncIterator[Sandbox]:
    """Start the emulator, hearth and the page (port 0: any free port); stop them on exit.

    Without `database_url` hearth gets a throwaway SQLite database, deleted on exit.
    `start` sets the sandbox's time (then it runs on from there), so pictures taken by the
    tests show a Monday morning whenever they are taken.
    """
    from bot.sandbox.server import create_page_app

    clock = OffsetClock(start - datetime.now(UTC) if start is not None else timedelta(0))
    async with AsyncExitStack() as stack:
        # A throwaway database needs no lasting key; a kept one uses the installation's.
        if database_url is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-sandbox-"))
            database_url = f"sqlite+aiosqlite:///{Path(scratch) / 'sandbox.db'}"
            sealer: Sealer | None = Sealer.ephemeral()
        else:
            sealer = sealer_for(KeySettings(database_url=database_url))
        await migrate.upgrade(database_url, sealer=sealer)

        emulator = SlackEmulator(clock=clock, delivery_timeout=delivery_timeout)
        await emulator.start()
        stack.push_async_callback(emulator.stop)

        settings = load_settings(
            _env_file=None,
            slack_bot_token=emulator.bot_token,
            slack_signing_secret=emulator.signing_secret,
            slack_app_token=None,
            slack_api_url=emulator.api_url,
            database_url=database_url,
        )
        hearth = create_hearth(settings, clock=clock, process_before_response=False, sealer=sealer)
        await hearth.start(run_scheduler=run_scheduler)
        stack.push_async_callback(hearth.close)

        app_url = await _serve(
            stack, create_web_app(hearth.app, engine=hearth.engine, app_clock=clock), "127.0.0.1", 0
        )
        emulator.set_request_url(f"{app_url}/slack/events")

        feed = ChangeFeed()
        sandbox = Sandbox(emulator, hearth, clock, feed, database_url)
        emulator.on_change.append(sandbox.changed)
        sandbox.url = await _serve(stack, create_page_app(sandbox), host, port)
        # Runs first on exit: open pages' event streams end, so the page server stops at once.
        stack.callback(feed.close)
        yield sandbox


async def _serve(stack: AsyncExitStack, app: web.Application, host: str, port: int) -> str:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{bound}"


async def run_sandbox(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    database_url: str | None = None,
    open_message: Callable[[str], object] = print,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the sandbox until SIGINT/SIGTERM (or `stop`), telling the person where to look."""
    async with running_sandbox(host=host, port=port, database_url=database_url) as sandbox:
        kept = "" if database_url is None else " (keeping its data)"
        open_message(
            f"hearth is running in sandbox mode{kept}: no Slack workspace needed.\n"
            f"Open {sandbox.url}/ in your browser to try it. Press Ctrl+C to stop."
        )
        await wait_for_stop_signal(stop)
