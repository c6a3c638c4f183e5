"""Injected failures look like Slack's, and slack_sdk's retry handlers get past them."""

from __future__ import annotations

import time
from datetime import timedelta

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import web_client


def retrying_client(emulator: SlackEmulator, *, timeout: int = 30) -> AsyncWebClient:
    return web_client(
        emulator,
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(
                error_types=[aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, TimeoutError]
            ),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


async def test_rate_limit_answer_is_slacks(emulator: SlackEmulator) -> None:
    emulator.fail_next("chat.postMessage", status=429, retry_after=7)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emulator.api_url}chat.postMessage",
            json={"channel": Seed.PRACTICE, "text": "hi"},
            headers={"Authorization": f"Bearer {emulator.bot_token}"},
        ) as response,
    ):
        assert response.status == 429
        assert response.headers["Retry-After"] == "7"
        assert await response.json() == {"ok": False, "error": "ratelimited"}
    assert emulator.state.messages_in(Seed.PRACTICE) == []  # an injected call does nothing


async def test_client_without_retries_sees_the_rate_limit(emulator: SlackEmulator) -> None:
    emulator.fail_next("chat.postMessage", retry_after=0)
    with pytest.raises(SlackApiError) as caught:
        await web_client(emulator).chat_postMessage(channel=Seed.PRACTICE, text="hi")
    assert caught.value.response.status_code == 429


async def test_retries_after_rate_limits(emulator: SlackEmulator) -> None:
    failure = emulator.fail_next("chat.postMessage", retry_after=0, times=2)
    response = await retrying_client(emulator).chat_postMessage(channel=Seed.PRACTICE, text="hi")
    assert response["ok"]
    assert failure.used == 2
    assert [c.status for c in emulator.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m.text for m in emulator.state.messages_in(Seed.PRACTICE)] == ["hi"]


@pytest.mark.parametrize("status", [500, 503])
async def test_retries_after_server_errors(emulator: SlackEmulator, status: int) -> None:
    emulator.fail_next("chat.update", status=status)
    posted = await web_client(emulator).chat_postMessage(channel=Seed.PRACTICE, text="v1")
    response = await retrying_client(emulator).chat_update(
        channel=Seed.PRACTICE, ts=posted["ts"], text="v2"
    )
    assert response["ok"]
    assert [c.status for c in emulator.calls_to("chat.update")] == [status, 200]


async def test_retries_after_a_timeout(emulator: SlackEmulator) -> None:
    emulator.fail_next("chat.postMessage", timeout=True, hold_seconds=10)
    started = time.monotonic()
    response = await retrying_client(emulator, timeout=1).chat_postMessage(
        channel=Seed.PRACTICE, text="hi"
    )
    assert response["ok"]
    assert 1 <= time.monotonic() - started < 5
    assert [c.injected for c in emulator.calls_to("chat.postMessage")] == ["timeout", None]
    assert [m.text for m in emulator.state.messages_in(Seed.PRACTICE)] == ["hi"]


async def test_injected_api_error(emulator: SlackEmulator) -> None:
    emulator.fail_next("views.open", error="internal_error")
    with pytest.raises(SlackApiError) as caught:
        await web_client(emulator).views_open(trigger_id="x", view={})
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "internal_error"


async def test_failures_only_hit_the_named_method(emulator: SlackEmulator) -> None:
    emulator.fail_next("chat.update", status=500)
    client = web_client(emulator)
    assert (await client.chat_postMessage(channel=Seed.PRACTICE, text="hi"))["ok"]
    assert (await client.auth_test())["ok"]


async def test_opt_in_rate_limits(emulator: SlackEmulator, clock: ManualClock) -> None:
    emulator.limit_rate("chat.postMessage", 1, 1.0, per_channel=True)
    client = web_client(emulator)
    await client.chat_postMessage(channel=Seed.PRACTICE, text="one")
    await client.chat_postMessage(channel=Seed.LEADS, text="other channel")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=Seed.PRACTICE, text="two")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    clock.advance(timedelta(seconds=1))
    assert (await client.chat_postMessage(channel=Seed.PRACTICE, text="two"))["ok"]
