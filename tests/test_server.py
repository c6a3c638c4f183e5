"""The HTTP front door: Slack's signed requests reach Bolt, others are turned away, health shows.

A tiny Bolt app defined here stands in for hearth's listeners, so these tests are about the
server alone.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import sqlite3
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import health, migrate
from bot.clock import SystemClock
from bot.config import Settings
from bot.db import create_engine
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.server import (
    EVENTS_PATH,
    HEALTH_PATH,
    create_web_app,
    serve_http,
    serve_socket_mode,
)
from bot.slack import RATE_LIMIT_RETRIES, SERVER_ERROR_RETRIES, create_web_client

SIGNING_SECRET = "d41d8cd98f00b204e9800998ecf8427e"
REPO_ROOT = Path(__file__).resolve().parents[1]


async def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(
        enterprise_id=None,
        team_id="T0TEST",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
        bot_token="xoxb-1",
    )


def tiny_bolt_app() -> AsyncApp:
    app = AsyncApp(signing_secret=SIGNING_SECRET, authorize=_authorize)

    @app.command("/echo")
    async def echo(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(f"You said: {command['text']}")

    return app


def slash_command_fields(text: str) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": "T0TEST",
        "team_domain": "community",
        "channel_id": "C0LEANCOFFEE",
        "channel_name": "lean-coffee",
        "user_id": "U0MEMBER",
        "user_name": "member",
        "command": "/echo",
        "text": text,
        "api_app_id": "A0HEARTH",
        "response_url": "https://hooks.slack.com/commands/T0TEST/1/abc",
        "trigger_id": "1.2.3",
    }


def slash_command_body(text: str) -> str:
    return urlencode(slash_command_fields(text))


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_web_app(tiny_bolt_app()))) as client:
        yield client


async def test_healthz_answers_ok(client: TestClient[Any, Any]) -> None:
    response = await client.get(HEALTH_PATH)

    assert response.status == 200
    assert await response.json() == {"ok": True}


async def test_healthz_checks_the_database(engine: AsyncEngine) -> None:
    web_app = create_web_app(tiny_bolt_app(), engine=engine)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get(HEALTH_PATH)

        assert response.status == 200
        assert await response.json() == {
            "ok": True,
            "database": "ok",
            "outbox": {"overdue": 0, "given_up_today": 0},
        }


async def test_healthz_reports_a_database_that_cannot_be_written(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk lets the database be read but not written: that is not healthy."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _disk_full(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO HEALTH_PROBE"):
            raise sqlite3.OperationalError("database or disk is full")

    web_app = create_web_app(tiny_bolt_app(), engine=engine)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get(HEALTH_PATH)

        assert response.status == 503
        assert await response.json() == {"ok": False, "database": "disk full"}
    assert not [r for r in caplog.records if r.exc_info], "one line, no traceback"


async def test_healthz_reports_a_disk_about_to_fill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    almost_full = shutil._ntuple_diskusage(10 * 2**30, 10 * 2**30 - 2**20, 2**20)  # type: ignore[attr-defined]
    monkeypatch.setattr(health.shutil, "disk_usage", lambda _path: almost_full)
    try:
        async with TestClient(TestServer(create_web_app(tiny_bolt_app(), engine=engine))) as c:
            response = await c.get(HEALTH_PATH)

            assert response.status == 503
            assert await response.json() == {"ok": False, "database": "disk full", "free_mb": 1}
    finally:
        await engine.dispose()


async def test_healthz_reports_an_unreachable_database() -> None:
    unreachable = create_engine("postgresql+asyncpg://hearth@127.0.0.1:1/hearth")
    try:
        web_app = create_web_app(tiny_bolt_app(), engine=unreachable)
        async with TestClient(TestServer(web_app)) as client:
            response = await client.get(HEALTH_PATH)

            assert response.status == 503
            assert await response.json() == {"ok": False, "database": "unreachable"}
    finally:
        await unreachable.dispose()


async def test_signed_slash_command_reaches_the_listener(client: TestClient[Any, Any]) -> None:
    body = slash_command_body("hello hearth")

    response = await client.post(EVENTS_PATH, data=body, headers=signed_headers(body))

    assert response.status == 200
    assert await response.text() == "You said: hello hearth"


async def test_wrong_signature_is_refused(client: TestClient[Any, Any]) -> None:
    body = slash_command_body("let me in")

    response = await client.post(
        EVENTS_PATH, data=body, headers=signed_headers(body, secret="someone-elses-secret")
    )

    assert response.status == 401


async def test_unsigned_request_is_refused(client: TestClient[Any, Any]) -> None:
    body = slash_command_body("let me in")

    response = await client.post(
        EVENTS_PATH, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert response.status == 401


async def test_replayed_old_request_is_refused(client: TestClient[Any, Any]) -> None:
    body = slash_command_body("an old request")

    response = await client.post(EVENTS_PATH, data=body, headers=signed_headers(body, age=600))

    assert response.status == 401


async def test_body_changed_after_signing_is_refused(client: TestClient[Any, Any]) -> None:
    headers = signed_headers(slash_command_body("harmless"))

    response = await client.post(EVENTS_PATH, data=slash_command_body("tampered"), headers=headers)

    assert response.status == 401


async def test_url_verification_challenge_is_answered(client: TestClient[Any, Any]) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    headers = signed_headers(body) | {"Content-Type": "application/json"}

    response = await client.post(EVENTS_PATH, data=body, headers=headers)

    assert response.status == 200
    assert (await response.json())["challenge"] == "c-123"


async def test_only_post_is_served_on_the_events_url(client: TestClient[Any, Any]) -> None:
    response = await client.get(EVENTS_PATH)

    assert response.status == 405


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A stand-in for hearth with the real tiny app, recording that close() ran.
SERVE_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from tests.test_server import tiny_bolt_app
    from bot.clock import SystemClock
    from bot.server import serve_http

    class StandIn:
        app = tiny_bolt_app()
        engine = None
        clock = SystemClock()

        async def close(self):
            print("closed", flush=True)

    asyncio.run(serve_http(StandIn(), "127.0.0.1", int(sys.argv[1]), grace_seconds=1))
    print("returned", flush=True)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serve_http_stops_cleanly_on_signal(signum: signal.Signals) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE_SCRIPT,
        str(port),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await _wait_until_healthy(f"http://127.0.0.1:{port}{HEALTH_PATH}", process)
        process.send_signal(signum)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().split() == ["closed", "returned"]


async def _wait_until_healthy(url: str, process: asyncio.subprocess.Process | None) -> None:
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process is not None and process.returncode is not None:
                pytest.fail(f"the server exited early with {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("the server did not answer /healthz within 20 s")


@dataclass
class _Settings:
    slack_app_token: SecretStr


@dataclass
class _Deps:
    client: AsyncWebClient


@dataclass
class SocketModeStandIn:
    """What serve_socket_mode uses of hearth: the Bolt app, settings, client and close()."""

    app: AsyncApp
    settings: _Settings
    deps: _Deps
    closed: list[bool] = field(default_factory=list)

    async def close(self) -> None:
        self.closed.append(True)


async def test_serve_socket_mode_answers_over_the_websocket_then_closes() -> None:
    async with SlackEmulator() as slack:
        slack.use_socket_mode()
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        hearth = SocketModeStandIn(
            app=tiny_bolt_app(),
            settings=_Settings(slack_app_token=SecretStr(slack.app_token)),
            deps=_Deps(client=client),
        )
        stop = asyncio.Event()
        serving = asyncio.create_task(
            serve_socket_mode(hearth, stop=stop, grace_seconds=0.5)  # type: ignore[arg-type]
        )
        try:
            await slack.socket_mode.wait_connected()
            result = await slack.deliver("slash_commands", slash_command_fields("over a socket"))
        finally:
            stop.set()
            await asyncio.wait_for(serving, timeout=10)

        assert result.ok, result.error
        assert json.loads(result.body) == {"text": "You said: over a socket"}
        assert hearth.closed == [True]
        assert not slack.socket_mode.connected


@dataclass
class HttpStandIn:
    """What serve_http uses of hearth: the Bolt app, the engine and close()."""

    app: AsyncApp
    engine: AsyncEngine | None = None
    clock: SystemClock = field(default_factory=SystemClock)
    events: list[str] = field(default_factory=list)

    async def close(self) -> None:
        self.events.append("closed")


async def test_serve_http_lets_acknowledged_work_finish_before_closing() -> None:
    hearth = HttpStandIn(app=tiny_bolt_app())

    @hearth.app.command("/slow")
    async def slow(ack: AsyncAck) -> None:
        await ack("On it")
        await asyncio.sleep(0.3)  # work after the ack, such as posting the board
        hearth.events.append("work finished")

    port = _free_port()
    stop = asyncio.Event()
    serving = asyncio.create_task(
        serve_http(hearth, "127.0.0.1", port, stop=stop, grace_seconds=5)  # type: ignore[arg-type]
    )
    try:
        await _wait_until_healthy(f"http://127.0.0.1:{port}{HEALTH_PATH}", None)
        body = urlencode(slash_command_fields("") | {"command": "/slow"})
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}{EVENTS_PATH}", data=body, headers=signed_headers(body)
            ) as response,
        ):
            assert await response.text() == "On it"
    finally:
        stop.set()
        await asyncio.wait_for(serving, timeout=10)

    assert hearth.events == ["work finished", "closed"]


# --- the Web API client the listeners answer with ------------------------------------------


def client_for(slack: SlackEmulator) -> AsyncWebClient:
    settings = Settings(
        slack_bot_token=SecretStr(slack.bot_token),
        slack_app_token=SecretStr(slack.app_token),
        slack_api_url=slack.api_url,  # type: ignore[arg-type]
    )
    return create_web_client(settings)


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_web_client_retries_server_errors(status: int) -> None:
    async with SlackEmulator() as slack:
        failure = slack.fail_next("auth.test", status=status, times=SERVER_ERROR_RETRIES)

        response = await client_for(slack).auth_test()

        assert response["ok"]
        assert failure.used == SERVER_ERROR_RETRIES
        assert [call.status for call in slack.calls_to("auth.test")][-1] == 200


async def test_web_client_never_retries_a_post_after_a_server_error() -> None:
    """A 504 may come after Slack posted: a blind retry would post twice."""
    async with SlackEmulator() as slack:
        slack.fail_next("chat.postMessage", status=504, after_success=True)

        with pytest.raises(SlackApiError):
            await client_for(slack).chat_postMessage(channel=Seed.PRACTICE, text="Once only")

        assert len(slack.calls_to("chat.postMessage")) == 1
        assert [m.text for m in slack.state.messages_in(Seed.PRACTICE)].count("Once only") == 1


async def test_web_client_waits_out_rate_limits() -> None:
    async with SlackEmulator() as slack:
        failure = slack.fail_next("auth.test", status=429, retry_after=0, times=RATE_LIMIT_RETRIES)

        response = await client_for(slack).auth_test()

        assert response["ok"]
        assert failure.used == RATE_LIMIT_RETRIES


async def test_web_client_gives_up_eventually() -> None:
    async with SlackEmulator() as slack:
        slack.fail_next("auth.test", status=429, retry_after=0, times=RATE_LIMIT_RETRIES + 1)

        with pytest.raises(SlackApiError) as caught:
            await client_for(slack).auth_test()

        assert caught.value.response.status_code == 429
