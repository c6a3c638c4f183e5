"""Harness for hearth installed in several workspaces: the app built as in production from
SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (no bot token), served over HTTP with its install
pages, and the emulator holding a second workspace. Installing goes the way a browser goes:
hearth's install page, Slack's approval page, back to hearth's redirect."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from sqlalchemy import text

from bot import migrate
from bot.app import Hearth, create_hearth
from bot.clock import ManualClock
from bot.config import load_settings
from bot.emulator.server import SlackEmulator
from bot.server import create_web_app
from bot.services.workspace_data import count_team_rows
from tests.e2e.conftest import SECRET_KEY


@dataclass
class Served:
    hearth: Hearth
    base_url: str


@asynccontextmanager
async def running_hearth_in_several(
    slack: SlackEmulator,
    database_url: str,
    clock: ManualClock,
    *,
    retention_days: int = 30,
) -> AsyncIterator[Served]:
    settings = load_settings(
        _env_file=None,
        slack_client_id=slack.oauth.client_id,
        slack_client_secret=slack.oauth.client_secret,
        slack_signing_secret=slack.signing_secret,
        slack_api_url=slack.api_url,
        database_url=database_url,
        hearth_secret_key=SECRET_KEY,
        hearth_uninstall_retention_days=retention_days,
    )
    assert settings.several_workspaces
    await migrate.upgrade(database_url)
    hearth = create_hearth(
        settings, clock=clock, process_before_response=True, board_refresh_interval=0.05
    )
    await hearth.start(run_scheduler=False)
    slack.after_delivery.append(hearth.settle)
    runner = web.AppRunner(create_web_app(hearth.app, engine=hearth.engine))
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        slack.set_request_url(f"{base_url}/slack/events")
        # The app's Redirect URL, as set under OAuth & Permissions.
        slack.oauth.redirect_urls = [f"{base_url}/slack/oauth_redirect"]
        yield Served(hearth, base_url)
    finally:
        await runner.cleanup()
        if hearth.settle in slack.after_delivery:
            slack.after_delivery.remove(hearth.settle)
        await hearth.close()


@dataclass
class Visit:
    """Where the person landed: the status and the page (its HTML entities read)."""

    status: int
    page: str


async def install(base_url: str, team_id: str | None = None, *, same_browser: bool = True) -> Visit:
    """Someone opens hearth's install page, clicks "Add to Slack", approves in Slack (for
    `team_id`, as Slack's `team` parameter picks it) and lands back on hearth's page.
    `same_browser=False` comes back without the cookie the install page set."""
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base_url])
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        query = f"?team={team_id}" if team_id else ""
        async with browser.get(f"{base_url}/slack/install{query}") as page:
            assert page.status == 200, await page.text()
            found = re.search(r'href="([^"]*/oauth/v2/authorize[^"]*)"', await page.text())
        assert found, "no Add to Slack link on the install page"
        if not same_browser:
            jar.clear()
        async with browser.get(html.unescape(found.group(1))) as back:
            return Visit(back.status, html.unescape(await back.text()))


async def rows_of(hearth: Hearth, team_id: str) -> dict[str, int]:
    """How many rows of `team_id`'s each table holds (only tables holding some)."""
    async with hearth.deps.sessionmaker() as session:
        return await count_team_rows(session, team_id)


async def raw_rows(hearth: Hearth, table: str) -> list[dict[str, object]]:
    async with hearth.engine.connect() as connection:
        result = await connection.execute(text(f"SELECT * FROM {table}"))
        return [dict(row) for row in result.mappings()]
