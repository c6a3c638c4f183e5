"""hearth installed in several workspaces: Slack's OAuth, with tokens sealed at rest.

When `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` are set (and no `SLACK_BOT_TOKEN`), anyone
who runs a workspace can add hearth to it at `https://<your host>/slack/install`: Slack asks
them to approve hearth's scopes and sends them back to `/slack/oauth_redirect`, where Bolt's
`AsyncOAuthFlow` exchanges the code for the workspace's bot token (`oauth.v2.access`) and
keeps it in the installation store. From then on Bolt authorizes every request by its team
from that store, and refreshes the token before it expires when the app has token rotation
turned on (`RotatingAuthorize`).

The stores are slack_sdk's SQLAlchemy ones, on hearth's own database and tables
(`models.installations`, created by alembic). Every token is sealed with the installation's
key (`HEARTH_SECRET_KEY`, `bot.keys.Sealer`) before it is written and opened when read, so a
copy of the database or of a backup holds no usable token.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Table, and_, delete, desc, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Settings
from bot.keys import SealBroken, Sealer
from bot.slack import WEB_API_TIMEOUT_SECONDS, retry_handlers
from bot.workspaces import RememberedTokens, WorkspaceClient
from models import installations as tables
from models.base import Base

logger = logging.getLogger(__name__)
# What Bolt and slack_sdk log from inside the flow and the stores goes under their own names,
# so that their DEBUG lines (request and response bodies) stay out of the log
# (`bot.logging.PayloadFilter`), as for the rest of those libraries.
bolt_logger = logging.getLogger("slack_bolt.hearth")
sdk_logger = logging.getLogger("slack_sdk.hearth")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# How long someone has between opening the install page and approving hearth in Slack.
STATE_EXPIRATION_SECONDS = 600
# Bolt refreshes a rotating token this long before it expires (Slack's last 12 hours).
TOKEN_ROTATION_MINUTES = 120
# The bot scopes hearth asks for: the manifest's (`tests/test_manifest.py` checks).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "channels:read",
    "groups:read",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
    "im:write",
)
# What someone in a workspace that removed hearth sees when they try to use it.
NOT_INSTALLED_MESSAGE = (
    "hearth isn't installed in this workspace any more, so it can't do that. "
    "Whoever looks after your Slack workspace can add it again."
)


# -- the installation store ------------------------------------------------------------------


class SealedInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store on hearth's tables, sealing every token.

    Saving writes the installation and its bot in one transaction, each token sealed; finding
    opens them. A token that will not open (hearth was started with another
    `HEARTH_SECRET_KEY`) is reported once in the log and the workspace treated as not
    installed, so its people get a kind message rather than an error.
    """

    def __init__(self, *, client_id: str, engine: AsyncEngine, sealer: Sealer) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=sdk_logger)
        self.metadata = Base.metadata
        self.installations = tables.slack_installations
        self.bots = tables.slack_bots
        self._sealer = sealer
        self._reported_broken = False

    # -- sealing

    def _seal(self, row: dict[str, Any]) -> dict[str, Any]:
        sealed = dict(row)
        for column in tables.SEALED_COLUMNS:
            value = sealed.get(column)
            if value:
                sealed[column] = self._sealer.seal(value.encode()).decode("ascii")
        return sealed

    def _open(self, row: Mapping[str, Any]) -> dict[str, Any]:
        opened = dict(row)
        for column in tables.SEALED_COLUMNS:
            value = opened.get(column)
            if value:
                opened[column] = self._sealer.open(value.encode("ascii")).decode()
        return opened

    def _broken(self, team_id: str | None) -> None:
        if not self._reported_broken:
            self._reported_broken = True
            logger.error(
                "The tokens of workspace %s cannot be opened: HEARTH_SECRET_KEY is not the key "
                "they were sealed with. Start hearth with that key, or reinstall hearth in "
                "the workspace.",
                team_id,
            )

    # -- saving

    async def async_save(self, installation: Installation) -> None:
        row = self._timestamps(installation.to_dict())
        bot = self._timestamps(installation.to_bot().to_dict())
        async with self.engine.begin() as connection:
            await self._save_row(connection, self.installations, row, installation)
            await self._save_row(connection, self.bots, bot, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        row = self._timestamps(bot.to_dict())
        async with self.engine.begin() as connection:
            await self._save_row(connection, self.bots, row, bot)

    def _timestamps(self, row: dict[str, Any]) -> dict[str, Any]:
        row = dict(row, client_id=self.client_id)
        for column in ("installed_at", "bot_token_expires_at", "user_token_expires_at"):
            if column in row:
                row[column] = normalize_datetime_for_db(row[column])
        return row

    async def _save_row(
        self,
        connection: AsyncConnection,
        table: Table,
        row: dict[str, Any],
        installed: Installation | Bot,
    ) -> None:
        """slack_sdk's rule: one row per (workspace, installed_at), updated in place when a
        token is refreshed; a reinstall adds a row and the newest wins."""
        c = table.c
        found = await connection.execute(
            select(c.id)
            .where(
                c.client_id == self.client_id,
                c.enterprise_id == installed.enterprise_id,
                c.team_id == installed.team_id,
                c.installed_at == row["installed_at"],
            )
            .limit(1)
        )
        row_id = found.scalar()
        sealed = self._seal({key: value for key, value in row.items() if key in c})
        if row_id is None:
            await connection.execute(table.insert().values(**sealed))
        else:
            await connection.execute(table.update().where(c.id == row_id).values(**sealed))

    # -- finding

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        if is_enterprise_install or team_id is None:
            team_id = None
        c = self.bots.c
        query = (
            self.bots.select()
            .where(
                c.client_id == self.client_id,
                c.enterprise_id == enterprise_id,
                c.team_id == team_id,
                c.bot_token.is_not(None),
            )
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        try:
            return SQLAlchemyInstallationStore.build_bot_entity(self._open(row))
        except SealBroken:
            self._broken(team_id)
            return None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's newest installation (or `user_id`'s), with the newest bot token
        when that installation has none: slack_sdk's rules, on opened tokens."""
        if is_enterprise_install or team_id is None:
            team_id = None
        c = self.installations.c
        conditions = [
            c.client_id == self.client_id,
            c.enterprise_id == enterprise_id,
            c.team_id == team_id,
        ]
        if user_id is not None:
            conditions.append(c.user_id == user_id)
        query = (
            self.installations.select()
            .where(and_(*conditions))
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        try:
            installation = SQLAlchemyInstallationStore.build_installation_entity(self._open(row))
        except SealBroken:
            self._broken(team_id)
            return None
        if user_id is not None or installation.bot_token is None:
            bot = await self.async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
            if bot is not None and bot.bot_token != installation.bot_token:
                installation.bot_id = bot.bot_id
                installation.bot_user_id = bot.bot_user_id
                installation.bot_token = bot.bot_token
                installation.bot_scopes = bot.bot_scopes
                installation.bot_refresh_token = bot.bot_refresh_token
                installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation


class OAuthStates(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store on hearth's table. Each new state first
    clears the ones that expired (installs begun and never finished), so opening the install
    page over and over cannot fill the table."""

    def __init__(self, *, engine: AsyncEngine, expiration_seconds: int) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine, logger=sdk_logger)
        self.metadata = Base.metadata
        self.oauth_states = tables.slack_oauth_states

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        now = normalize_datetime_for_db(datetime.now(UTC))
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(self.oauth_states).where(self.oauth_states.c.expire_at <= now)
            )
        return await super().async_issue(*args, **kwargs)


# -- authorizing, with token rotation ----------------------------------------------------------


class RotatingAuthorize(AsyncInstallationStoreAuthorize):
    """Bolt's installation-store authorize, refreshing a workspace's token one request at a
    time: Slack's refresh token works once, so two requests refreshing together would leave
    one of them with a spent token. The second waits for the first and uses its new token."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._refreshing: dict[tuple[str | None, str | None], asyncio.Lock] = {}

    async def _rotate_and_save_tokens_if_necessary(
        self, installation: Installation | None
    ) -> Installation | None:
        if installation is None or (
            installation.bot_refresh_token is None and installation.user_refresh_token is None
        ):
            return None
        key = (installation.enterprise_id, installation.team_id)
        lock = self._refreshing.setdefault(key, asyncio.Lock())
        async with lock:
            latest = await self.installation_store.async_find_installation(
                enterprise_id=installation.enterprise_id,
                team_id=installation.team_id,
                is_enterprise_install=installation.is_enterprise_install,
            )
            if latest is not None and latest.bot_token != installation.bot_token:
                return latest  # refreshed while this request waited
            return await super()._rotate_and_save_tokens_if_necessary(installation)


# -- the pages people see ----------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto;
       padding: 0 1.25rem; line-height: 1.5; color: #2b2118; }}
h1 {{ color: #8c3b1e; font-size: 1.6rem; }}
a.button {{ display: inline-block; padding: .6rem 1.1rem; border-radius: .4rem;
           background: #8c3b1e; color: #fff; text-decoration: none; }}
</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def install_page(authorize_url: str) -> str:
    link = html.escape(authorize_url, quote=True)
    return _page(
        "Add hearth to your Slack",
        "<p>hearth keeps communities of practice warm: Lean Coffee in any channel, a "
        "facilitation rota, community health checks, time-boxed chat meetups and minutes "
        "that follow up.</p>"
        "<p>Slack will show you what hearth asks for and let you choose the workspace. "
        "Nothing changes until you approve it there.</p>"
        f'<p><a class="button" href="{link}">Add to Slack</a></p>',
    )


def installed_page(installation: Installation) -> str:
    team = html.escape(installation.team_name or "your workspace")
    open_slack = html.escape(
        f"slack://app?team={installation.team_id}&id={installation.app_id}", quote=True
    )
    return _page(
        "hearth is in your Slack",
        f"<p>Thank you: hearth is now part of <strong>{team}</strong>.</p>"
        "<p>To begin, invite it to your community's channel with "
        "<code>/invite @hearth</code>, then try <code>/lean-coffee</code>, "
        "<code>/rota schedule</code> or <code>/health-check</code>.</p>"
        f'<p><a class="button" href="{open_slack}">Open Slack</a></p>',
    )


_WHY_NOT = {
    "access_denied": "You didn't add hearth this time, and nothing has changed in your workspace.",
    "invalid_browser": "This install was started in another browser, or more than ten minutes ago.",
    "invalid_state": "This install was started more than ten minutes ago, or has already "
    "been finished.",
    "missing_code": "Slack didn't confirm the install.",
    "invalid_code": "Slack didn't confirm the install.",
    "storage_error": "hearth couldn't save the install. If it keeps happening, please tell "
    "whoever runs hearth.",
    "unexpected": "Something went wrong on hearth's side. Please try again in a moment; if it "
    "keeps happening, tell whoever runs hearth.",
}


def not_installed_page(reason: str, install_path: str) -> str:
    why = _WHY_NOT.get(reason, "Something went wrong on the way back from Slack.")
    again = html.escape(install_path, quote=True)
    return _page(
        "hearth wasn't added",
        f'<p>{html.escape(why)}</p><p><a class="button" href="{again}">Start again</a></p>',
    )


class HearthOAuthFlow(AsyncOAuthFlow):
    """Bolt's OAuth flow with hearth's own install page."""

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return install_page(url)


# -- putting it together -------------------------------------------------------------------------

Installed = Callable[[Installation], Awaitable[None]]


async def _nothing(_: Installation) -> None:
    return None


@dataclass
class Installations:
    """Everything hearth installed in several workspaces needs, built once per process.

    `on_installed` is called after a workspace (re)installed hearth and its installation is
    stored; `handlers.workspace_data` sets it (a reinstall keeps the workspace's data)."""

    store: SealedInstallationStore
    states: OAuthStates
    authorize: RotatingAuthorize
    oauth_client: AsyncWebClient
    # How long a workspace's data is kept after it removes hearth.
    retention: timedelta
    on_installed: Installed = field(default=_nothing)
    flow: HearthOAuthFlow = field(init=False)
    tokens: RememberedTokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = RememberedTokens(self.token_for)

    def bolt_options(self) -> dict[str, Any]:
        """What `AsyncApp` is given so that Bolt authorizes each request by its team."""
        return {
            "oauth_flow": self.flow,
            "authorize": self.authorize,
            "installation_store": self.store,
            "user_facing_authorize_error_message": NOT_INSTALLED_MESSAGE,
        }

    async def token_for(self, team_id: str) -> str | None:
        """A workspace's bot token for work that is not a request (jobs, the outbox), through
        the same authorize (and so the same refreshing) as requests."""
        result = await self.authorize(
            context=AsyncBoltContext(client=self.oauth_client),
            enterprise_id=None,
            team_id=team_id,
            user_id=None,
        )
        return result.bot_token if result is not None else None

    async def installed(self, team_id: str) -> bool:
        found = await self.store.async_find_installation(enterprise_id=None, team_id=team_id)
        return found is not None


def create_installations(settings: Settings, engine: AsyncEngine, sealer: Sealer) -> Installations:
    """Wire Bolt's OAuth flow to hearth's database. Nothing talks to Slack yet."""
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        raise ValueError("hearth in several workspaces needs SLACK_CLIENT_ID and its secret")
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    # Installing, refreshing and checking tokens: always with an explicit token or the app's
    # own id and secret, never a workspace's token from the context.
    oauth_client = AsyncWebClient(
        base_url=settings.api_base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )
    store = SealedInstallationStore(client_id=client_id, engine=engine, sealer=sealer)
    states = OAuthStates(engine=engine, expiration_seconds=STATE_EXPIRATION_SECONDS)
    authorize = RotatingAuthorize(
        logger=bolt_logger,
        installation_store=store,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
        # One auth.test per token, not per click (a burst of votes is not a burst of calls).
        cache_enabled=True,
        client=oauth_client,
    )
    installations = Installations(
        store=store,
        states=states,
        authorize=authorize,
        oauth_client=oauth_client,
        retention=timedelta(days=settings.hearth_uninstall_retention_days),
    )

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        logger.info(
            "hearth was installed in workspace %s (%s)",
            installation.team_id,
            installation.team_name,
        )
        await installations.on_installed(installation)
        return _html(200, installed_page(installation), args.settings)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        logger.info("An install of hearth did not finish: %s", args.reason)
        return _html(
            args.suggested_status_code,
            not_installed_page(args.reason, args.settings.install_path),
            args.settings,
        )

    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=str(settings.slack_redirect_uri) if settings.slack_redirect_uri else None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=success, failure=failure),
        authorization_url=settings.oauth_authorize_url,
        installation_store=store,
        token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
        state_store=states,
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        logger=bolt_logger,
    )
    installations.flow = HearthOAuthFlow(
        client=oauth_client, logger=logger, settings=oauth_settings
    )
    return installations


def workspace_client(
    installations: Installations, settings: Settings, *, retries: bool
) -> WorkspaceClient:
    """A client speaking for the workspace being acted for (`bot.workspaces`); with
    `retries` as `bot.slack.create_web_client`, without as `create_outbox_client`."""
    return WorkspaceClient(
        installations.tokens,
        base_url=settings.api_base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers() if retries else [],
    )


def _html(status: int, body: str, settings: AsyncOAuthSettings) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=body,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            # The install's state cookie has done its work.
            "Set-Cookie": settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


# -- the two web pages -----------------------------------------------------------------------

OAUTH_FLOW_KEY = web.AppKey("oauth_flow", AsyncOAuthFlow)


def add_oauth_routes(web_app: web.Application, flow: AsyncOAuthFlow) -> None:
    """`GET /slack/install` (the page with "Add to Slack") and `GET /slack/oauth_redirect`
    (where Slack sends the person back). Neither is signed by Slack: a stranger can open
    them, and all they can do is begin or finish installing hearth in their own workspace."""
    web_app[OAUTH_FLOW_KEY] = flow
    web_app.router.add_get(flow.install_path, _install)
    web_app.router.add_get(flow.redirect_uri_path, _oauth_redirect)


async def _install(request: web.Request) -> web.Response:
    flow = request.app[OAUTH_FLOW_KEY]
    try:
        response = await flow.handle_installation(await to_bolt_request(request))
    except Exception:
        return _went_wrong(flow, "The install page")
    return await to_aiohttp_response(response)


async def _oauth_redirect(request: web.Request) -> web.Response:
    flow = request.app[OAUTH_FLOW_KEY]
    try:
        response = await flow.handle_callback(await to_bolt_request(request))
    except Exception:
        return _went_wrong(flow, "Finishing an install")
    return await to_aiohttp_response(response)


def _went_wrong(flow: AsyncOAuthFlow, what: str) -> web.Response:
    """Something hearth did not expect (its database away, say): logged, and a kind page."""
    logger.exception("%s failed", what)
    return web.Response(
        status=500,
        text=not_installed_page("unexpected", flow.install_path),
        content_type="text/html",
    )
