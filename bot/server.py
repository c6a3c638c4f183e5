"""How Slack reaches hearth: an HTTP endpoint, or a Socket Mode connection hearth opens itself.

Both run until SIGINT or SIGTERM, then stop taking new work, give work already acknowledged a
moment to finish, and close hearth (scheduler, pending board refreshes, database).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from bot.app import Hearth

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HEALTH_DB_TIMEOUT_SECONDS = 5.0
# Slack waits 3 s for an answer, so a request still open after this is not coming back.
HTTP_SHUTDOWN_TIMEOUT_SECONDS = 10.0
# Listeners keep running after `ack()`; give them this long to finish on shutdown.
BACKGROUND_GRACE_SECONDS = 10.0

BOLT_APP_KEY = web.AppKey("bolt_app", AsyncApp)
ENGINE_KEY = web.AppKey("engine", AsyncEngine)


def create_web_app(bolt_app: AsyncApp, *, engine: AsyncEngine | None = None) -> web.Application:
    """Serve slash commands, interactivity and events on one URL, plus a health check.

    With `engine`, `/healthz` also runs `SELECT 1`, so a load balancer or an uptime monitor
    notices when hearth cannot reach its database.
    """
    web_app = web.Application()
    web_app[BOLT_APP_KEY] = bolt_app
    if engine is not None:
        web_app[ENGINE_KEY] = engine
    web_app.router.add_post(EVENTS_PATH, _slack_events)
    web_app.router.add_get(HEALTH_PATH, _healthz)
    return web_app


async def _slack_events(request: web.Request) -> web.Response:
    bolt_app = request.app[BOLT_APP_KEY]
    bolt_response = await bolt_app.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def _healthz(request: web.Request) -> web.Response:
    engine = request.app.get(ENGINE_KEY)
    if engine is None:
        return web.json_response({"ok": True})
    try:
        async with asyncio.timeout(HEALTH_DB_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        logger.warning("Health check: the database did not answer", exc_info=True)
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)
    return web.json_response({"ok": True, "database": "ok"})


async def wait_for_stop_signal(stop: asyncio.Event | None = None) -> None:
    """Return on SIGINT or SIGTERM (or when `stop` is set, which is how tests stop a server)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or a platform without signal support
        installed.append(signum)
    try:
        await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def finish_background_work(
    grace_seconds: float = BACKGROUND_GRACE_SECONDS,
    *,
    already_running: set[asyncio.Task[Any]] | frozenset[asyncio.Task[Any]] = frozenset(),
) -> None:
    """Let listeners that already acknowledged Slack finish before the database closes.

    Tasks in `already_running` (those from before serving began, such as whoever awaits the
    server) are not waited for.
    """
    current = asyncio.current_task()
    pending = {
        task
        for task in asyncio.all_tasks()
        if task is not current and task not in already_running and not task.done()
    }
    if not pending:
        return
    _done, still_running = await asyncio.wait(pending, timeout=grace_seconds)
    if still_running:
        logger.warning("Stopping with %d task(s) still running", len(still_running))


async def serve_http(
    hearth: Hearth,
    host: str,
    port: int,
    *,
    stop: asyncio.Event | None = None,
    grace_seconds: float = BACKGROUND_GRACE_SECONDS,
) -> None:
    """Listen on host:port until told to stop; Slack posts to https://<your host>/slack/events."""
    already_running = asyncio.all_tasks()
    runner = web.AppRunner(
        create_web_app(hearth.app, engine=hearth.engine),
        shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT_SECONDS,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        logger.info("hearth is listening on http://%s:%d%s", host, port, EVENTS_PATH)
        await wait_for_stop_signal(stop)
        logger.info("Stopping: no new requests, finishing the ones in progress")
    finally:
        await runner.cleanup()
        await finish_background_work(grace_seconds, already_running=already_running)
        await hearth.close()
    logger.info("hearth stopped")


async def serve_socket_mode(
    hearth: Hearth,
    *,
    stop: asyncio.Event | None = None,
    grace_seconds: float = BACKGROUND_GRACE_SECONDS,
) -> None:
    """Open a Socket Mode connection (no public URL needed) and serve until told to stop."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    already_running = asyncio.all_tasks()

    app_token = hearth.settings.slack_app_token
    if app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    handler = AsyncSocketModeHandler(
        hearth.app, app_token.get_secret_value(), web_client=hearth.deps.client
    )
    try:
        await handler.connect_async()
        logger.info("hearth is connected to Slack over Socket Mode")
        await wait_for_stop_signal(stop)
        logger.info("Stopping: closing the Socket Mode connection")
    finally:
        await handler.close_async()
        await finish_background_work(grace_seconds, already_running=already_running)
        await hearth.close()
    logger.info("hearth stopped")
