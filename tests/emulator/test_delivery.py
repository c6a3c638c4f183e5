"""Delivery when the app is slow, missing or not connected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.testing import connect_socket_mode, running_emulator, serve_http, web_client


def slow_app(emulator_signing_secret: str, client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=emulator_signing_secret,
        process_before_response=True,
    )

    @app.command("/slow")
    async def slow(ack: AsyncAck) -> None:
        await asyncio.sleep(1.0)
        await ack()

    return app


async def test_a_slow_http_app_times_out() -> None:
    async with running_emulator(delivery_timeout=0.3) as slack:
        app = slow_app(slack.signing_secret, web_client(slack))
        async with serve_http(app, slack):
            result = await slack.user(Seed.ALICE).run_command("/slow", channel=Seed.PRACTICE)
    assert not result.ok
    assert result.error == "timeout"


async def test_a_slow_socket_mode_app_times_out() -> None:
    async with running_emulator(delivery_timeout=0.3) as slack:
        app = slow_app(slack.signing_secret, web_client(slack))
        async with connect_socket_mode(app, slack):
            result = await slack.user(Seed.ALICE).run_command("/slow", channel=Seed.PRACTICE)
    assert result.error == "timeout"


async def test_nobody_listening() -> None:
    async with running_emulator() as slack:
        slack.use_socket_mode()
        result = await slack.user(Seed.ALICE).run_command("/x", channel=Seed.PRACTICE)
        assert result.error == "no Socket Mode connection"
        slack.set_request_url("http://127.0.0.1:9/slack/events")
        result = await slack.user(Seed.ALICE).run_command("/x", channel=Seed.PRACTICE)
        assert result.status == 0 and result.error and result.error.startswith("connection")


async def test_bad_signature_is_refused_by_bolt() -> None:
    async with running_emulator() as slack:
        app = AsyncApp(client=web_client(slack), signing_secret="not-the-secret")

        @app.command("/x")
        async def handler(ack: AsyncAck) -> None:
            await ack()

        async with serve_http(app, slack):
            result = await slack.user(Seed.ALICE).run_command("/x", channel=Seed.PRACTICE)
    assert result.status == 401


async def test_any_workspace_date_works_over_http() -> None:
    """The workspace clock may be set anywhere; signatures still use the real time."""
    moment = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    async with running_emulator(clock=ManualClock(moment)) as slack:
        app = AsyncApp(client=web_client(slack), signing_secret=slack.signing_secret)

        @app.command("/x")
        async def handler(ack: AsyncAck) -> None:
            await ack("ok")

        async with serve_http(app, slack):
            result = await slack.user(Seed.ALICE).run_command("/x", channel=Seed.PRACTICE)
        assert result.ok
        assert slack.state.ephemerals[0].ts.startswith(str(int(moment.timestamp())))
