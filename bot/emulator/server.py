"""`SlackEmulator`: a local Slack for the app to talk to, and for tests to act through.

One aiohttp server on 127.0.0.1 answers the Web API under `/api/<method>`, `response_url`
POSTs under `/response/<id>` and Socket Mode under `/link/`. It also delivers what people
do (commands, clicks, submissions, events) to the app, over HTTP or Socket Mode.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.emulator.api import Violation, WebApi, normalise_params
from bot.emulator.delivery import DeliveryResult, HttpDelivery, Kind
from bot.emulator.oauth import AUTHORIZE_PATH, OAUTH_METHODS, Grant, OAuth, Tokens
from bot.emulator.payloads import event_callback
from bot.emulator.requests import SignedRequestBuilder
from bot.emulator.seed import seed_default_workspace
from bot.emulator.socket_mode import SocketModeHub
from bot.emulator.state import WorkspaceState
from bot.emulator.workspace import Workspace

if TYPE_CHECKING:
    from bot.emulator.actor import SlackUser

JSON = dict[str, Any]


@dataclass
class Call:
    """One request the app made: a Web API method, or `response_url` for a response URL."""

    method: str
    params: JSON
    response: JSON
    status: int = 200
    at: float = 0.0
    injected: str | None = None
    team_id: str | None = None  # the workspace whose token made the call
    token: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class Failure:
    """A failure to inject into the next `times` calls of `method` ("*" for any method)."""

    method: str
    status: int = 429
    retry_after: int = 1
    times: int = 1
    timeout: bool = False
    hold_seconds: float = 60.0
    error: str | None = None
    after_success: bool = False
    used: int = field(default=0)

    def matches(self, method: str) -> bool:
        return self.used < self.times and self.method in ("*", method)


@dataclass
class RateLimit:
    """At most `calls` of `method` per `per_seconds` of workspace time (per channel if asked)."""

    method: str
    calls: int
    per_seconds: float
    per_channel: bool = False
    seen: dict[str, list[float]] = field(default_factory=dict)

    def retry_after(self, params: JSON, now: float) -> int | None:
        """Seconds to wait when this call is over the limit, else None (and count it)."""
        key = str(params.get("channel", "")) if self.per_channel else ""
        recent = [t for t in self.seen.get(key, []) if now - t < self.per_seconds]
        if len(recent) >= self.calls:
            self.seen[key] = recent
            return max(1, math.ceil(self.per_seconds - (now - recent[0])))
        self.seen[key] = [*recent, now]
        return None


class SlackEmulator:
    def __init__(
        self,
        *,
        state: WorkspaceState | None = None,
        clock: Clock | None = None,
        seed: bool = True,
        bot_token: str = "xoxb-emulator",
        app_token: str = "xapp-emulator",
        signing_secret: str = "emulator-signing-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        delivery_timeout: float = 10.0,
        signing_clock: Clock | None = None,
        client_id: str = "emulator-client-id",
        client_secret: str = "emulator-client-secret",
    ) -> None:
        """`clock` is the workspace's time (message ts, trigger expiry, response_url expiry).

        Requests are signed with `signing_clock` (default: the real time), because the app
        checks signatures against its machine's clock and refuses any more than five minutes
        off; so a test may set the workspace clock to any date and still use HTTP mode.
        """
        self.state = state or WorkspaceState(clock)
        if state is None and seed:
            seed_default_workspace(self.state)
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.host = host
        self.port = port
        self.delivery_timeout = delivery_timeout
        self.builder = SignedRequestBuilder(signing_secret, signing_clock or SystemClock())
        self.socket_mode = SocketModeHub(self.state.app_id, timeout=delivery_timeout)
        # Every token issued, in every workspace; expiry in real time, as Slack keeps it.
        self.tokens = Tokens(signing_clock or SystemClock())
        self.tokens.add(Grant(bot_token, "bot", self.state.team.id))
        self.tokens.add(Grant(app_token, "app", None))
        self.api = WebApi(
            self.state,
            bot_token=bot_token,
            app_token=app_token,
            socket_url=self._socket_url,
            upload_url=self._upload_url,
            tokens=self.tokens,
        )
        # The default workspace, and any added with `add_workspace`.
        self.workspaces: dict[str, Workspace] = {
            self.state.team.id: Workspace(self, self.state, self.api)
        }
        # Installing the app: its client id and secret, Redirect URLs, token rotation.
        self.oauth = OAuth(
            client_id=client_id,
            client_secret=client_secret,
            tokens=self.tokens,
            workspace=self._state_of,
            default_team=self.state.team.id,
        )
        self.oauth.installed.add(self.state.team.id)  # the bot token above is its install
        self.calls: list[Call] = []
        self.deliveries: list[DeliveryResult] = []
        # Awaited after each delivery, e.g. to let an app finish work it does after acking,
        # so a test (or the sandbox) reads the screen once the app is done.
        self.after_delivery: list[Callable[[], Awaitable[None]]] = []
        # Called (not awaited) whenever the workspace may have changed: after each Web API
        # call, response_url answer and delivery. The sandbox redraws its page from these.
        self.on_change: list[Callable[[], None]] = []
        self._failures: list[Failure] = []
        self._limits: list[RateLimit] = []
        self._http: HttpDelivery | None = None
        self._socket = False
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{url_id}", self._response_url)
        app.router.add_get("/link/", self.socket_mode.handle)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get(AUTHORIZE_PATH, self._authorize)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing.set()
        await self.socket_mode.close()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What `SLACK_API_URL` / `AsyncWebClient(base_url=…)` should be set to."""
        return f"{self.base_url}/api/"

    @property
    def violations(self) -> list[Violation]:
        """Everything the app sent that Slack would refuse or hearth promises never to do."""
        return self.api.violations

    def _socket_url(self) -> str:
        ticket = self.socket_mode.new_ticket()
        return f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.state.app_id}"

    def _upload_url(self, file_id: str) -> str:
        return f"{self.base_url}/upload/{file_id}"

    def response_url(self, url_id: str) -> str:
        return f"{self.base_url}/response/{url_id}"

    # -- delivery mode ----------------------------------------------------------------------

    def set_request_url(self, url: str) -> None:
        """HTTP mode: deliver signed requests to the app's Request URL."""
        self._http = HttpDelivery(url, self.builder, timeout=self.delivery_timeout)
        self._socket = False

    def use_socket_mode(self) -> None:
        """Socket Mode: deliver envelopes over the app's WebSocket."""
        self._socket = True

    async def deliver(self, kind: Kind, payload: JSON) -> DeliveryResult:
        """Send one request to the app the way Slack would, and record its answer."""
        if self._socket:
            result = await self.socket_mode.deliver(kind, payload)
        elif self._http is not None:
            result = await self._http.deliver(kind, payload)
        else:
            raise RuntimeError("call set_request_url(...) or use_socket_mode() first")
        self.deliveries.append(result)
        self.notify_change()
        for hook in self.after_delivery:
            await hook()
        return result

    async def send_event(self, event: JSON) -> DeliveryResult:
        """Deliver one Events API event (wrapped in its `event_callback` envelope)."""
        return await self.deliver("events_api", event_callback(self.state, event))

    def notify_change(self) -> None:
        """Tell `on_change` listeners that what people see may have changed."""
        for listener in self.on_change:
            listener()

    # -- workspaces ---------------------------------------------------------------------------

    def add_workspace(self, state: WorkspaceState) -> Workspace:
        """Another workspace the app can be installed in (see `bot.emulator.seed`'s
        `second_workspace`): its own people, channels and bot user, the same app and clock.
        The app is not installed there until someone approves it (`oauth`)."""
        if state.team.id in self.workspaces:
            raise ValueError(f"workspace {state.team.id} is already here")
        state.clock = self.state.clock
        state.app_id = self.state.app_id
        api = WebApi(
            state,
            bot_token="",
            app_token="",
            socket_url=self._socket_url,
            upload_url=self._upload_url,
            tokens=self.tokens,
        )
        api.violations = self.api.violations  # one list of what Slack would refuse
        workspace = Workspace(self, state, api)
        self.workspaces[state.team.id] = workspace
        return workspace

    def workspace(self, team_id: str | None = None) -> Workspace:
        """A workspace by team id (the default one without)."""
        return self.workspaces[team_id or self.state.team.id]

    def _state_of(self, team_id: str) -> WorkspaceState | None:
        found = self.workspaces.get(team_id)
        return found.state if found is not None else None

    def _api_for(self, token: str | None) -> WebApi:
        """The Web API of the workspace a token belongs to (the default one's for a token
        it does not know, which it then refuses as Slack would)."""
        grant = self.tokens.get(token)
        if grant is not None and grant.team_id in self.workspaces:
            return self.workspaces[grant.team_id].api
        return self.api

    async def uninstall(self, team_id: str | None = None) -> list[DeliveryResult]:
        """Someone removes the app from a workspace: its tokens stop working, and the app
        hears `tokens_revoked` and `app_uninstalled`, as from Slack."""
        workspace = self.workspace(team_id)
        revoked = self.oauth.uninstall(workspace.team_id)
        bots = sorted({workspace.state.bot_user_id for g in revoked if g.kind == "bot"})
        return [
            await workspace.send_event(
                {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": bots}}
            ),
            await workspace.send_event({"type": "app_uninstalled"}),
        ]

    # -- people -----------------------------------------------------------------------------

    def user(self, user_id: str) -> SlackUser:
        """Act as a person: run commands, read messages, click, fill and submit modals."""
        from bot.emulator.actor import SlackUser

        if user_id not in self.state.users:
            raise KeyError(f"no user {user_id!r}; known: {', '.join(self.state.users)}")
        return SlackUser(self, user_id)

    # -- inspection -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_until(
        self, predicate: Callable[[], Any], *, within: float = 5.0, interval: float = 0.01
    ) -> None:
        """Wait for background work the app does after acking (real time, not the clock)."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {within}s")
            await asyncio.sleep(interval)

    async def wait_for_calls(self, method: str, count: int = 1, *, within: float = 5.0) -> None:
        await self.wait_until(lambda: len(self.calls_to(method)) >= count, within=within)

    # -- failure injection ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        timeout: bool = False,
        hold_seconds: float = 60.0,
        error: str | None = None,
        after_success: bool = False,
    ) -> Failure:
        """Make the next `times` calls of `method` fail.

        status=429 answers `ratelimited` with `Retry-After`; 500/503 a server error;
        `timeout=True` holds the request unanswered for `hold_seconds` (longer than the
        client waits); `error="..."` answers HTTP 200 with `{"ok": false, "error": ...}`.
        Injected calls are not carried out, unless `after_success=True`: then the call is
        carried out and only its answer is lost (Slack's 504 after posting, or a timeout).
        """
        failure = Failure(
            method, status, retry_after, times, timeout, hold_seconds, error, after_success
        )
        self._failures.append(failure)
        return failure

    def clear_failures(self) -> None:
        """Slack is well again: forget every failure still waiting to be injected."""
        self._failures.clear()

    def limit_rate(
        self, method: str, calls: int, per_seconds: float, *, per_channel: bool = False
    ) -> RateLimit:
        """Answer `ratelimited` (HTTP 429, `Retry-After`) beyond `calls` per `per_seconds`.

        Off by default. Slack's own limits, to opt into where a test cares:
        `limit_rate("chat.update", 50, 60)` (Tier 3) and
        `limit_rate("chat.postMessage", 1, 1, per_channel=True)` (about one a second).
        Time is the workspace clock, so with a `ManualClock` a burst stays a burst.
        """
        limit = RateLimit(method, calls, per_seconds, per_channel)
        self._limits.append(limit)
        return limit

    def _injected(self, method: str) -> Failure | None:
        for failure in self._failures:
            if failure.matches(method):
                failure.used += 1
                return failure
        return None

    # -- HTTP handlers ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: JSON = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except json.JSONDecodeError:
                    return self._record(method, params, {"ok": False, "error": "invalid_json"})
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = params.pop("token", None)
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ").strip()
        if method in OAUTH_METHODS:  # the app's own id and secret, not a token
            return await self._oauth_access(method, params, request)
        api = self._api_for(token)
        failure = self._injected(method)
        if failure is not None:
            if failure.after_success:
                api.call(method, params, token)  # carried out; only the answer is lost
            return await self._fail(method, params, failure)
        for limit in self._limits:
            wait = limit.retry_after(params, self.state.now()) if limit.method == method else None
            if wait is not None:
                return await self._fail(method, params, Failure(method, 429, wait))
        response = api.call(method, params, token)
        return self._record(method, params, response, team_id=api.state.team.id, token=token)

    async def _authorize(self, request: web.Request) -> web.Response:
        """Slack's approval page: approves at once and sends the person back."""
        answer = self.oauth.authorize(request.query)
        self.notify_change()
        if answer.location is not None:
            raise web.HTTPFound(answer.location)
        return web.Response(status=answer.status, text=answer.page, content_type="text/html")

    async def _oauth_access(self, method: str, params: JSON, request: web.Request) -> web.Response:
        failure = self._injected(method)
        recorded = {k: v for k, v in params.items() if k != "client_secret"}
        if failure is not None:
            return await self._fail(method, recorded, failure)
        basic = _basic_auth(request.headers.get("Authorization", ""))
        return self._record(method, recorded, self.oauth.access(params, basic))

    def _record(
        self,
        method: str,
        params: JSON,
        response: JSON,
        *,
        status: int = 200,
        injected: str | None = None,
        headers: dict[str, str] | None = None,
        team_id: str | None = None,
        token: str | None = None,
    ) -> web.Response:
        try:
            recorded = normalise_params(params)
        except Exception:  # keep the raw params when they cannot be decoded
            recorded = params
        self.calls.append(
            Call(method, recorded, response, status, self.state.now(), injected, team_id, token)
        )
        self.notify_change()
        return web.json_response(response, status=status, headers=headers)

    async def _fail(self, method: str, params: JSON, failure: Failure) -> web.Response:
        if failure.timeout:
            self.calls.append(Call(method, params, {}, 0, self.state.now(), injected="timeout"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), failure.hold_seconds)
            return web.json_response({"ok": False, "error": "request_timeout"}, status=504)
        if failure.error is not None:
            return self._record(
                method, params, {"ok": False, "error": failure.error}, injected=failure.error
            )
        if failure.status == 429:
            return self._record(
                method,
                params,
                {"ok": False, "error": "ratelimited"},
                status=429,
                injected="ratelimited",
                headers={"Retry-After": str(failure.retry_after)},
            )
        return self._record(
            method,
            params,
            {"ok": False, "error": "internal_error"},
            status=failure.status,
            injected=f"http {failure.status}",
        )

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL of files.getUploadURLExternal: takes the file's raw bytes."""
        file_id = request.match_info["file_id"]
        content = await request.read()
        api = next((w.api for w in self.workspaces.values() if file_id in w.state.files), self.api)
        accepted = api.receive_upload(file_id, content)
        self.calls.append(
            Call(
                "upload",
                {"file_id": file_id, "bytes": len(content)},
                {"ok": accepted},
                200 if accepted else 404,
                self.state.now(),
            )
        )
        self.notify_change()
        if not accepted:
            return web.Response(status=404, text="Not Found", content_type="text/plain")
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        url_id = request.match_info["url_id"]
        api = next(
            (w.api for w in self.workspaces.values() if url_id in w.state.response_urls),
            self.api,
        )
        status, response = api.respond(url_id, body)
        params = body if isinstance(body, dict) else {"raw": body}
        return self._record("response_url", params, response, status=status)


def _basic_auth(header: str) -> tuple[str, str] | None:
    """(client id, client secret) from an HTTP Basic `Authorization` header."""
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ").strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None
