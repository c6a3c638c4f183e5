"""Test support: start an emulator, connect a Bolt app to it, fail on Block Kit violations.

Use from a conftest with `pytest_plugins = ["bot.emulator.testing"]` for the `slack` fixture,
or use the async context managers directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.emulator.server import SlackEmulator

EVENTS_PATH = "/slack/events"


class ViolationsFound(AssertionError):
    """The app sent something Slack would refuse, or that hearth promises never to send."""


def assert_no_violations(emulator: SlackEmulator) -> None:
    if emulator.violations:
        lines = "\n".join(f"  - {v}" for v in emulator.violations)
        raise ViolationsFound(f"{len(emulator.violations)} Slack violation(s):\n{lines}")


@asynccontextmanager
async def running_emulator(
    *, check_violations: bool = True, **options: Any
) -> AsyncIterator[SlackEmulator]:
    """A started emulator (options as for `SlackEmulator`); on exit, no violations allowed."""
    emulator = SlackEmulator(**options)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    if check_violations:
        assert_no_violations(emulator)


def web_client(emulator: SlackEmulator, **options: Any) -> AsyncWebClient:
    """An `AsyncWebClient` with the bot token, talking to the emulator."""
    return AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url, **options)


@asynccontextmanager
async def serve_http(
    app: AsyncApp, emulator: SlackEmulator, *, path: str = EVENTS_PATH
) -> AsyncIterator[str]:
    """Serve a Bolt app on 127.0.0.1 (free port) and make it the emulator's Request URL."""

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server = web.Application()
    server.router.add_post(path, handle)
    runner = web.AppRunner(server, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    emulator.set_request_url(url)
    try:
        yield url
    finally:
        await runner.cleanup()


@asynccontextmanager
async def connect_socket_mode(
    app: AsyncApp, emulator: SlackEmulator
) -> AsyncIterator[AsyncSocketModeHandler]:
    """Connect a Bolt app to the emulator over Socket Mode (the app's own client is used)."""
    emulator.use_socket_mode()
    handler = AsyncSocketModeHandler(app, emulator.app_token, web_client=app.client)
    await handler.connect_async()
    try:
        await emulator.socket_mode.wait_connected()
        yield handler
    finally:
        await handler.close_async()


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """A started emulator with the default workspace; the test fails on any violation."""
    async with running_emulator() as emulator:
        yield emulator
