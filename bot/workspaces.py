"""Which workspace hearth is acting for, and the Slack client that speaks for it.

hearth in one workspace has one bot token, and its one `AsyncWebClient` carries it. hearth
installed in several workspaces has a token per workspace (sealed in the database, refreshed
by Bolt when Slack rotates it: `bot.installations`), yet listeners, presenters and jobs keep
using the one `deps.client`: a `WorkspaceClient`, which sends each call with the token of the
workspace being acted for.

That workspace is a context variable. A request's is set once Bolt has authorized it (the
token Bolt found for the request's team: `act_for_workspace`), inside `serving_request()`,
which the HTTP front door wraps around each request so that nothing carries over to the next
one on the same connection. A scheduled job's is its `PlannedJob.team_id` (`bot.scheduler`),
and an outbox message's its row's team (`bot.jobs.outbox`); their token is looked up (and
refreshed when it is about to expire) through `TokenSource`. Work started from there (tasks,
board redraws) inherits the variable, as asyncio copies context into new tasks.

In one workspace none of this is in play: the variable may be set, but the plain client
ignores it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import BoltResponse
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

logger = logging.getLogger(__name__)

# What Slack answers a call made without a token; hearth answers it itself when it has no
# token for the workspace (never installed there, or removed), rather than asking Slack.
NO_TOKEN_ERROR = "not_authed"
# A token looked up for a job is reused this long (a burst of reminders is one look-up).
TOKEN_REUSE_SECONDS = 60.0
# One warning per workspace per this long when hearth has no token for it.
NO_TOKEN_LOG_INTERVAL_SECONDS = 300.0


@dataclass(frozen=True)
class Acting:
    """The workspace hearth is acting for, with its token when already known."""

    team_id: str
    token: str | None = None


_acting: ContextVar[Acting | None] = ContextVar("hearth_acting_for", default=None)


def acting() -> Acting | None:
    return _acting.get()


@contextmanager
def acting_for(team_id: str | None, token: str | None = None) -> Iterator[None]:
    """Act for `team_id` inside the block (nothing changes for None)."""
    if team_id is None:
        yield
        return
    reset = _acting.set(Acting(team_id, token))
    try:
        yield
    finally:
        _acting.reset(reset)


@contextmanager
def serving_request() -> Iterator[None]:
    """One request's scope: whatever it acted for ends with it."""
    reset = _acting.set(None)
    try:
        yield
    finally:
        _acting.reset(reset)


async def act_for_workspace(
    context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """Bolt middleware (after authorization): act for the request's workspace with the token
    Bolt authorized it with. Runs inside `serving_request()`, which ends it."""
    if context.team_id is not None:
        _acting.set(Acting(context.team_id, context.bot_token))
    await next()
    return None


class TokenSource(Protocol):
    async def token_for(self, team_id: str) -> str | None:
        """The workspace's bot token (refreshed if it is about to expire), or None when
        hearth is not installed there."""
        ...

    def forget(self, team_id: str) -> None:
        """Drop what is remembered of the workspace's token (it was removed or reinstalled)."""
        ...


@dataclass
class _Remembered:
    token: str
    until: float


class RememberedTokens:
    """A `TokenSource` that reuses a looked-up token briefly, so a job sending a hundred
    messages looks the workspace up once, not a hundred times."""

    def __init__(
        self,
        look_up: Callable[[str], Awaitable[str | None]],
        *,
        reuse_seconds: float = TOKEN_REUSE_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._look_up = look_up
        self._reuse_seconds = reuse_seconds
        self._now = now
        self._remembered: dict[str, _Remembered] = {}

    async def token_for(self, team_id: str) -> str | None:
        remembered = self._remembered.get(team_id)
        if remembered is not None and remembered.until > self._now():
            return remembered.token
        token = await self._look_up(team_id)
        if token is None:
            self._remembered.pop(team_id, None)
            return None
        self._remembered[team_id] = _Remembered(token, self._now() + self._reuse_seconds)
        return token

    def forget(self, team_id: str) -> None:
        self._remembered.pop(team_id, None)


class WorkspaceClient(AsyncWebClient):
    """`AsyncWebClient` whose calls carry the token of the workspace being acted for.

    A call that names its own token (`token=…`) or authenticates as the app (`oauth.v2.access`
    with the client id and secret) is sent as it is. Without a workspace, or without a token
    for it, the call is answered here the way Slack answers a call without a token
    (`not_authed`), and never sent.
    """

    def __init__(self, tokens: TokenSource, **kwargs: Any) -> None:
        kwargs.pop("token", None)
        super().__init__(token=None, **kwargs)
        self._tokens = tokens
        self._last_warned: dict[str, float] = {}

    async def api_call(  # type: ignore[override]
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = None,
    ) -> AsyncSlackResponse:
        if auth is None and not _names_a_token(data, params, json):
            token = await self._token(api_method)
            if token is None:
                return self._refused(api_method, http_verb)
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        return await super().api_call(
            api_method,
            http_verb=http_verb,
            files=files,
            data=data,
            params=params,
            json=json,
            headers=headers,
            auth=auth,
        )

    async def _token(self, api_method: str) -> str | None:
        now = acting()
        if now is None:
            self._warn(
                "", f"hearth called Slack ({api_method}) without knowing for which workspace"
            )
            return None
        if now.token is not None:
            return now.token
        token = await self._tokens.token_for(now.team_id)
        if token is None:
            self._warn(
                now.team_id,
                f"hearth has no token for workspace {now.team_id} (it is not installed there); "
                f"{api_method} was not sent",
            )
        return token

    def _warn(self, key: str, message: str) -> None:
        last = self._last_warned.get(key)
        if last is not None and time.monotonic() - last < NO_TOKEN_LOG_INTERVAL_SECONDS:
            return
        self._last_warned[key] = time.monotonic()
        logger.warning(message)

    def _refused(self, api_method: str, http_verb: str) -> AsyncSlackResponse:
        response = AsyncSlackResponse(
            client=self,
            http_verb=http_verb,
            api_url=self.base_url + api_method,
            req_args={},
            data={"ok": False, "error": NO_TOKEN_ERROR},
            headers={},
            status_code=200,
        )
        return response.validate()  # raises SlackApiError, as Slack's answer would


def _names_a_token(*bodies: Any) -> bool:
    return any(isinstance(body, dict) and body.get("token") for body in bodies)
