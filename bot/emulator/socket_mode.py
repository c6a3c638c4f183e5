"""Slack's side of Socket Mode: the WebSocket an app opens after `apps.connections.open`.

Slack greets with `hello`, sends envelopes (`slash_commands`, `interactive`, `events_api`)
and waits for an ack `{"envelope_id", "payload"?}`; the ack's payload plays the part of an
HTTP response body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from bot.emulator.delivery import DeliveryResult, Kind


class SocketModeHub:
    def __init__(self, app_id: str, *, timeout: float) -> None:
        self.app_id = app_id
        self.timeout = timeout
        self.connections: list[web.WebSocketResponse] = []
        self._tickets: set[str] = set()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def new_ticket(self) -> str:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        return ticket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket endpoint; `ticket` comes from the URL `apps.connections.open` gave."""
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self.connections),
                    "debug_info": {
                        "host": "applink-emulator",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._receive(message.data)
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
        return ws

    def _receive(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except json.JSONDecodeError:
            return
        future = self._pending.get(str(ack.get("envelope_id")))
        if future is not None and not future.done():
            future.set_result(ack)

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self.connections)

    async def wait_connected(self, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while not self.connected:
            if time.monotonic() > deadline:
                raise TimeoutError("no Socket Mode connection was opened")
            await asyncio.sleep(0.01)

    async def deliver(self, kind: Kind, payload: dict[str, Any]) -> DeliveryResult:
        live = [ws for ws in self.connections if not ws.closed]
        if not live:
            return DeliveryResult(kind, payload, 0, error="no Socket Mode connection")
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        started = time.monotonic()
        try:
            await live[-1].send_json(
                {
                    "envelope_id": envelope_id,
                    "payload": payload,
                    "type": kind,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
            ack = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            return DeliveryResult(kind, payload, 0, elapsed=self.timeout, error="timeout")
        finally:
            self._pending.pop(envelope_id, None)
        body = json.dumps(ack["payload"]) if ack.get("payload") else ""
        return DeliveryResult(kind, payload, 200, body=body, elapsed=time.monotonic() - started)

    async def disconnect_all(self, reason: str = "refresh_requested") -> None:
        """Ask every app connection to reconnect, as Slack does every few hours."""
        for ws in list(self.connections):
            with contextlib.suppress(ConnectionError):
                await ws.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}}
                )

    async def close(self) -> None:
        for ws in list(self.connections):
            await ws.close()
        self.connections.clear()
