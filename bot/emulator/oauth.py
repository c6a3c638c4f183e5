"""Slack's side of installing an app: tokens, the approval page and `oauth.v2.access`.

What Slack documents, as far as hearth relies on it:

- `GET /oauth/v2/authorize?client_id&scope&user_scope&redirect_uri&state&team` is the page
  where someone approves the app for a workspace (`team` picks it; otherwise the emulator's
  first). Here approving is immediate: the answer is a redirect to the redirect URI (the one
  given, which must be under one of the app's Redirect URLs, else the first of those) with
  `code` and `state`, or with `error=access_denied` when told to refuse (`deny_next`).
- `oauth.v2.access` takes the app's client id and secret (HTTP Basic or form fields) and
  either `code` (once, within ten minutes, with the same `redirect_uri` if one was sent to
  the page) or `grant_type=refresh_token` with a refresh token (once: the answer carries the
  next one). It answers with the workspace, the bot token, its scopes and the bot user, and,
  with token rotation on, `refresh_token` and `expires_in`.
- Tokens belong to one workspace; a revoked one answers `token_revoked`, an expired one
  `token_expired`. Uninstalling revokes them all. Expiry is kept in real time, as both Slack
  and the apps it talks to keep it (the workspace clock may be anywhere a test likes).
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from yarl import URL

from bot.clock import Clock, SystemClock
from bot.emulator.state import WorkspaceState

JSON = dict[str, Any]

AUTHORIZE_PATH = "/oauth/v2/authorize"
OAUTH_METHODS = frozenset({"oauth.v2.access"})
CODE_LIFETIME_SECONDS = 600.0
DEFAULT_EXPIRES_IN = 43_200  # Slack's rotating tokens last 12 hours

TokenKind = Literal["bot", "app", "refresh"]


@dataclass
class Grant:
    """One token Slack issued: whose it is, and whether it still works."""

    token: str
    kind: TokenKind
    team_id: str | None  # None for the app-level token
    expires_at: float | None = None
    revoked: bool = False
    used: bool = False  # a refresh token works once


class Tokens:
    """Every token the emulator issued, across workspaces."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._grants: dict[str, Grant] = {}

    def now(self) -> float:
        return self.clock.now().timestamp()

    def add(self, grant: Grant) -> Grant:
        self._grants[grant.token] = grant
        return grant

    def get(self, token: str | None) -> Grant | None:
        return self._grants.get(token or "")

    def mint_bot(self, team_id: str, *, expires_in: int | None = None) -> Grant:
        if expires_in is None:
            token = f"xoxb-{team_id}-{secrets.token_hex(12)}"
            return self.add(Grant(token, "bot", team_id))
        token = f"xoxe.xoxb-1-{team_id}-{secrets.token_hex(16)}"
        return self.add(Grant(token, "bot", team_id, expires_at=self.now() + expires_in))

    def mint_refresh(self, team_id: str) -> Grant:
        return self.add(Grant(f"xoxe-1-{team_id}-{secrets.token_hex(16)}", "refresh", team_id))

    def current_bot(self, team_id: str) -> Grant | None:
        """The workspace's newest bot token that still works."""
        now = self.now()
        working = [
            g
            for g in self._grants.values()
            if g.kind == "bot"
            and g.team_id == team_id
            and not g.revoked
            and (g.expires_at is None or g.expires_at > now)
        ]
        return working[-1] if working else None

    def revoke_team(self, team_id: str) -> list[Grant]:
        revoked = [g for g in self._grants.values() if g.team_id == team_id and not g.revoked]
        for grant in revoked:
            grant.revoked = True
        return revoked

    def problem(self, token: str, *, team_id: str, wants_app_token: bool) -> str | None:
        """Slack's error for `token` used in workspace `team_id`, or None when it works."""
        grant = self.get(token)
        if grant is None or grant.kind == "refresh":
            return "invalid_auth"
        if wants_app_token != (grant.kind == "app"):
            return "not_allowed_token_type"
        if grant.revoked:
            return "token_revoked"
        if grant.expires_at is not None and self.now() >= grant.expires_at:
            return "token_expired"
        if grant.team_id is not None and grant.team_id != team_id:
            return "invalid_auth"
        return None


@dataclass
class Code:
    code: str
    team_id: str
    installer: str
    scopes: list[str]
    redirect_uri: str | None
    issued_at: float
    used: bool = False


@dataclass(frozen=True)
class PageAnswer:
    """What the approval page answers: a redirect, or an error page Slack would show."""

    status: int
    location: str | None = None
    page: str = ""


class OAuthError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class OAuth:
    """The app's OAuth settings in Slack, and installs in the emulator's workspaces."""

    client_id: str
    client_secret: str
    tokens: Tokens
    workspace: Callable[[str], WorkspaceState | None]
    default_team: str
    # The app's Redirect URLs (OAuth & Permissions); the first is used when none is sent.
    redirect_urls: list[str] = field(default_factory=list)
    # Token rotation (OAuth & Permissions → Advanced token security).
    token_rotation: bool = False
    expires_in: int = DEFAULT_EXPIRES_IN
    deny_next: bool = False
    installed: set[str] = field(default_factory=set)
    scopes: dict[str, list[str]] = field(default_factory=dict)
    _codes: dict[str, Code] = field(default_factory=dict)

    # -- the approval page ------------------------------------------------------------------

    def authorize(self, query: Mapping[str, str]) -> PageAnswer:
        if query.get("client_id") != self.client_id:
            return _error_page("invalid_client_id")
        team_id = query.get("team") or self.default_team
        state = self.workspace(team_id)
        if state is None:
            return _error_page("team_not_found")
        given = query.get("redirect_uri") or None
        if given is not None:
            if self.redirect_urls and not any(given.startswith(u) for u in self.redirect_urls):
                return _error_page("bad_redirect_uri")
            target = given
        elif self.redirect_urls:
            target = self.redirect_urls[0]
        else:
            return _error_page("no_redirect_uri")
        scopes = _split(query.get("scope"))
        if not scopes and not _split(query.get("user_scope")):
            return _error_page("invalid_scope")
        back = {"state": query["state"]} if "state" in query else {}
        if self.deny_next:
            self.deny_next = False
            return PageAnswer(302, str(URL(target).update_query(error="access_denied", **back)))
        code = Code(
            code=f"{secrets.randbelow(10**10)}.{secrets.token_hex(16)}",
            team_id=team_id,
            installer=_installer(state),
            scopes=scopes,
            redirect_uri=given,
            issued_at=self.tokens.now(),
        )
        self._codes[code.code] = code
        return PageAnswer(302, str(URL(target).update_query(code=code.code, **back)))

    # -- oauth.v2.access --------------------------------------------------------------------

    def access(self, params: Mapping[str, Any], basic: tuple[str, str] | None) -> JSON:
        try:
            return {"ok": True, **self._access(params, basic)}
        except OAuthError as exc:
            return {"ok": False, "error": exc.error}

    def _access(self, params: Mapping[str, Any], basic: tuple[str, str] | None) -> JSON:
        client_id, secret = basic or (params.get("client_id"), params.get("client_secret"))
        if client_id != self.client_id:
            raise OAuthError("invalid_client_id")
        if secret != self.client_secret:
            raise OAuthError("bad_client_secret")
        grant_type = params.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            return self._refresh(str(params.get("refresh_token") or ""))
        if grant_type != "authorization_code":
            raise OAuthError("invalid_grant_type")
        code = self._codes.get(str(params.get("code") or ""))
        if code is None or code.used or self.tokens.now() - code.issued_at > CODE_LIFETIME_SECONDS:
            raise OAuthError("invalid_code")
        code.used = True
        if code.redirect_uri is not None and params.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("bad_redirect_uri")
        state = self.workspace(code.team_id)
        if state is None:
            raise OAuthError("invalid_code")
        self.installed.add(code.team_id)
        self.scopes[code.team_id] = code.scopes
        answer = self._bot_answer(state, self._bot_grant(code.team_id))
        answer["authed_user"] = {"id": code.installer}
        return answer

    def _bot_grant(self, team_id: str) -> Grant:
        if self.token_rotation:
            return self.tokens.mint_bot(team_id, expires_in=self.expires_in)
        current = self.tokens.current_bot(team_id)
        if current is not None and current.expires_at is None:
            return current  # the bot keeps its token across reinstalls
        return self.tokens.mint_bot(team_id)

    def _refresh(self, refresh_token: str) -> JSON:
        grant = self.tokens.get(refresh_token)
        if grant is None or grant.kind != "refresh" or grant.used or grant.revoked:
            raise OAuthError("invalid_refresh_token")
        grant.used = True
        assert grant.team_id is not None
        state = self.workspace(grant.team_id)
        if state is None or grant.team_id not in self.installed:
            raise OAuthError("invalid_refresh_token")
        bot = self.tokens.mint_bot(grant.team_id, expires_in=self.expires_in)
        return self._bot_answer(state, bot)

    def _bot_answer(self, state: WorkspaceState, bot: Grant) -> JSON:
        answer: JSON = {
            "app_id": state.app_id,
            "scope": ",".join(self.scopes.get(state.team.id, [])),
            "token_type": "bot",
            "access_token": bot.token,
            "bot_user_id": state.bot_user_id,
            "team": {"id": state.team.id, "name": state.team.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if bot.expires_at is not None:
            answer["refresh_token"] = self.tokens.mint_refresh(state.team.id).token
            answer["expires_in"] = round(bot.expires_at - self.tokens.now())
        return answer

    # -- removing the app -------------------------------------------------------------------

    def uninstall(self, team_id: str) -> list[Grant]:
        self.installed.discard(team_id)
        return self.tokens.revoke_team(team_id)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _installer(state: WorkspaceState) -> str:
    """Who approves: the workspace's first admin, else its first person."""
    people = [u for u in state.users.values() if not u.is_bot and not u.deleted]
    admins = [u for u in people if u.is_admin or u.is_owner]
    chosen = (admins or people)[0] if (admins or people) else None
    if chosen is None:
        raise ValueError(f"workspace {state.team.id} has nobody to install the app")
    return chosen.id


def _error_page(error: str) -> PageAnswer:
    return PageAnswer(
        400,
        page=f"<!doctype html><title>Slack</title><p>Something went wrong: "
        f"<code>{html.escape(error)}</code></p>",
    )
