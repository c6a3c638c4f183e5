"""Slack → app delivery over HTTP: sign, POST to the Request URL, read the acknowledgement."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from bot.emulator.requests import SignedRequestBuilder

Kind = Literal["slash_commands", "interactive", "events_api"]


@dataclass
class DeliveryResult:
    """How the app answered one request from Slack.

    `status` is the HTTP status (200 for a Socket Mode ack, 0 when nothing came back);
    `body` the response body (a Socket Mode ack's `payload` as JSON text). `outcome` says what
    Slack then did with a view submission ("errors", "update", "push", "clear", "close").
    """

    kind: Kind
    payload: dict[str, Any]
    status: int
    body: str = ""
    elapsed: float = 0.0
    error: str | None = None
    outcome: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except json.JSONDecodeError:
            return None

    @property
    def response(self) -> Any:
        """What Slack reads from the ack: JSON when it is JSON, else the text (or None)."""
        parsed = self.json
        if parsed is not None:
            return parsed
        return self.body or None


class HttpDelivery:
    """POSTs signed requests to the app's Request URL, as Slack does."""

    def __init__(self, url: str, builder: SignedRequestBuilder, *, timeout: float) -> None:
        self.url = url
        self.builder = builder
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def deliver(self, kind: Kind, payload: dict[str, Any]) -> DeliveryResult:
        if kind == "slash_commands":
            body, headers = self.builder.slash_command(payload)
        elif kind == "interactive":
            body, headers = self.builder.interactive(payload)
        else:
            body, headers = self.builder.event_callback(payload)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        started = time.monotonic()
        try:
            async with self._session.post(
                self.url,
                data=body.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                text = await response.text()
                return DeliveryResult(
                    kind=kind,
                    payload=payload,
                    status=response.status,
                    body=text,
                    elapsed=time.monotonic() - started,
                    headers=dict(response.headers),
                )
        except TimeoutError:
            return DeliveryResult(kind, payload, 0, elapsed=self.timeout, error="timeout")
        except aiohttp.ClientError as exc:
            return DeliveryResult(
                kind, payload, 0, elapsed=time.monotonic() - started, error=f"connection: {exc}"
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)
