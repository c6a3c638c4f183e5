"""How Slack reaches hearth: an HTTP endpoint, or a Socket Mode connection hearth opens itself.

Both run until SIGINT or SIGTERM, then stop taking new work, give work already acknowledged a
moment to finish, and close hearth (scheduler, pending board refreshes, database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import health
from bot.clock import Clock, SystemClock
from bot.installations import add_oauth_routes
from bot.replays import EVENT_MEMORY_SECONDS, Mark, RecentRequests
from bot.request_gate import (
    SIGNATURE_WINDOW_SECONDS,
    Body,
    Malformed,
    Refused,
    check_signature,
    check_timestamp,
    describe,
    payload_problem,
    read_body,
    single_header,
)
from bot.workspaces import serving_request

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import Hearth

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack waits 3 s for an answer, so a request still open after this is not coming back.
HTTP_SHUTDOWN_TIMEOUT_SECONDS = 10.0
# Listeners keep running after `ack()`; give them this long to finish on shutdown.
BACKGROUND_GRACE_SECONDS = 10.0

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
RETRY_NUM_HEADER = "X-Slack-Retry-Num"
RETRY_REASON_HEADER = "X-Slack-Retry-Reason"
# A flood of junk must not flood the log: one line per kind of refusal per this many seconds.
REFUSAL_LOG_INTERVAL_SECONDS = 60.0


class QuietLog:
    """Log a line at most once per `interval` for each reason, counting the ones held back."""

    def __init__(
        self,
        interval: float = REFUSAL_LOG_INTERVAL_SECONDS,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._now = now
        self._last: dict[str, float] = {}
        self._held_back: dict[str, int] = {}

    def note(self, level: int, reason: str, message: str, *args: object) -> None:
        now = self._now()
        last = self._last.get(reason)
        if last is not None and now - last < self._interval:
            self._held_back[reason] = self._held_back.get(reason, 0) + 1
            return
        self._last[reason] = now
        held_back = self._held_back.pop(reason, 0)
        if held_back:
            message += " (and %d more like it since the last note)"
            args = (*args, held_back)
        logger.log(level, message, *args)


@dataclass
class Gate:
    """What the front door needs: the signing secret, the time, and what it has seen.

    The time is the machine's real time (the same clock Slack signs with), not hearth's
    `Clock`: tests and the sandbox move that one to any date, while Slack (and the emulator
    standing in for it) always sign with the real time."""

    signing_secret: bytes
    clock: Clock = field(default_factory=SystemClock)
    recent: RecentRequests = field(default_factory=RecentRequests)
    log: QuietLog = field(default_factory=QuietLog)


BOLT_APP_KEY = web.AppKey("bolt_app", AsyncApp)
ENGINE_KEY = web.AppKey("engine", AsyncEngine)
GATE_KEY = web.AppKey("gate", Gate)
APP_CLOCK_KEY = web.AppKey("app_clock", Clock)


def create_web_app(
    bolt_app: AsyncApp,
    *,
    engine: AsyncEngine | None = None,
    signing_secret: str | None = None,
    clock: Clock | None = None,
    app_clock: Clock | None = None,
) -> web.Application:
    """Serve slash commands, interactivity and events on one URL, plus a health check.

    Every request to the events URL passes the gate first (see `bot.request_gate`): signed by
    Slack within five minutes, readable, and not a repeat. `signing_secret` defaults to the
    one `bolt_app` was built with. With `engine`, `/healthz` also writes to the database and
    reports the outbox (`bot.health`, on hearth's `app_clock`), so a load balancer or an
    uptime monitor notices when hearth cannot use its database; on PostgreSQL, processes
    sharing it also share what they have seen.
    """
    secret = signing_secret or getattr(bolt_app, "_signing_secret", None)
    if not secret:
        raise ValueError("Serving Slack over HTTP needs SLACK_SIGNING_SECRET")
    gate = Gate(
        signing_secret=secret.encode(),
        clock=clock or SystemClock(),
        recent=RecentRequests.for_engine(engine),
    )
    web_app = web.Application()
    web_app[BOLT_APP_KEY] = bolt_app
    web_app[GATE_KEY] = gate
    web_app[APP_CLOCK_KEY] = app_clock or SystemClock()
    if engine is not None:
        web_app[ENGINE_KEY] = engine
    if gate.recent.engine is not None:
        web_app.cleanup_ctx.append(_pruning)
    web_app.router.add_post(EVENTS_PATH, _slack_events)
    web_app.router.add_get(HEALTH_PATH, _healthz)
    if bolt_app.oauth_flow is not None:  # installed in several workspaces: /slack/install
        add_oauth_routes(web_app, bolt_app.oauth_flow)
    return web_app


async def _pruning(web_app: web.Application) -> AsyncIterator[None]:
    gate = web_app[GATE_KEY]
    task = asyncio.create_task(gate.recent.keep_pruned(gate.clock))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _slack_events(request: web.Request) -> web.StreamResponse:
    """Verify, read, check and de-duplicate; only then does Bolt see the request."""
    gate = request.app[GATE_KEY]
    now = gate.clock.now().timestamp()
    try:
        timestamp = single_header(request.headers.getall(TIMESTAMP_HEADER, []), "timestamp")
        signed_at = check_timestamp(timestamp, now)
        signature = single_header(request.headers.getall(SIGNATURE_HEADER, []), "signature")
        raw = await request.read()  # over aiohttp's size limit: 413
        check_signature(gate.signing_secret, timestamp, raw, signature)
        body = read_body(raw, request.content_type)
        problem = payload_problem(body)
        if problem is not None:
            raise Malformed(problem)
    except Refused as refused:
        _note_refusal(gate, request, refused)
        return web.json_response({"ok": False, "error": refused.error}, status=refused.status)

    marks = [Mark("request", signature, signed_at + SIGNATURE_WINDOW_SECONDS + 1)]
    event: Mark | None = None
    if body.get("type") == "event_callback":
        event = Mark("event", body["event_id"], now + EVENT_MEMORY_SECONDS)
        marks.append(event)
    if not await gate.recent.first_time(marks, now):
        _note_repeat(gate, request, body)
        return web.Response(status=200)

    with serving_request():  # the workspace it acts for ends with it
        response = await request.app[BOLT_APP_KEY].async_dispatch(
            _bolt_request(raw.decode("utf-8"), body, request)
        )
    if event is not None and not 200 <= response.status < 300:
        await gate.recent.forget(event)  # so Slack's retry of it is taken in
    return await to_aiohttp_response(response)


def _bolt_request(raw: str, body: Body, request: web.Request) -> AsyncBoltRequest:
    """The request for Bolt, carrying the body exactly as the gate read and checked it.

    Bolt would read the raw text its own way, which differs: a slash command whose text
    says "payload" comes out as an empty body, and a form starting with "{" as JSON."""
    bolt_request = AsyncBoltRequest(
        body=raw,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
    )
    bolt_request.body = body
    bolt_request.context = build_async_context(AsyncBoltContext(), body)
    return bolt_request


def _note_refusal(gate: Gate, request: web.Request, refused: Refused) -> None:
    hint = ""
    if refused.reason == "the signature does not match":
        hint = "; if every request is refused, check SLACK_SIGNING_SECRET"
    elif "clock" in refused.reason:
        hint = "; if every request is refused, check this machine's clock"
    gate.log.note(
        logging.WARNING,
        f"{refused.status} {refused.reason}",
        "Refused a request from %s with %d: %s%s",
        request.remote or "an unknown address",
        refused.status,
        refused.reason,
        hint,
    )


def _plain_word(value: str) -> str:
    """A header value fit for a log line: Slack's reasons are short snake_case words."""
    plain = len(value) <= 40 and value.isascii() and value.replace("_", "").isalnum()
    return value if plain else ""


def _note_repeat(gate: Gate, request: web.Request, body: Body) -> None:
    retry = request.headers.get(RETRY_NUM_HEADER)
    if retry is not None:
        gate.log.note(
            logging.INFO,
            "retry",
            "Slack re-sent an event hearth already has (retry %s, %s); not acting on it again",
            retry if retry.isdigit() and len(retry) <= 3 else "?",
            _plain_word(request.headers.get(RETRY_REASON_HEADER, "")) or "no reason given",
        )
        return
    gate.log.note(
        logging.INFO,
        "repeat",
        "A %s arrived again; it was already handled, so it is not acted on twice",
        describe(body),
    )


async def _healthz(request: web.Request) -> web.Response:
    engine = request.app.get(ENGINE_KEY)
    if engine is None:
        return web.json_response({"ok": True})
    status, body = await health.report(engine, request.app[APP_CLOCK_KEY])
    return web.json_response(body, status=status)


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
        create_web_app(hearth.app, engine=hearth.engine, app_clock=hearth.clock),
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


def checked_socket_mode_handler(
    app: AsyncApp, app_token: str, *, web_client: AsyncWebClient
) -> AsyncSocketModeHandler:
    """Bolt's Socket Mode handler, checking each payload's shape before Bolt reads it.

    Bolt reads ids out of a payload before any middleware runs, and some shapes (a list
    where an object belongs) make that raise, which would leave the request unacknowledged
    and a traceback in the log. Such a payload is acknowledged and dropped with one line."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.socket_mode.response import SocketModeResponse

    class CheckedSocketModeHandler(AsyncSocketModeHandler):
        async def handle(  # type: ignore[override]  # Bolt's own handle narrows it too
            self, client: AsyncBaseSocketModeClient, req: SocketModeRequest
        ) -> None:
            problem = payload_problem(req.payload)
            if problem is None:
                await super().handle(client, req)
                return
            logger.warning("Dropped a request hearth cannot read (%s)", problem)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    return CheckedSocketModeHandler(app, app_token, web_client=web_client)


async def serve_socket_mode(
    hearth: Hearth,
    *,
    stop: asyncio.Event | None = None,
    grace_seconds: float = BACKGROUND_GRACE_SECONDS,
) -> None:
    """Open a Socket Mode connection (no public URL needed) and serve until told to stop."""
    already_running = asyncio.all_tasks()

    app_token = hearth.settings.slack_app_token
    if app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    handler = checked_socket_mode_handler(
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
