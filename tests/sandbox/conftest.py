"""The sandbox's HTTP API, driven without a browser: what the page sends, what it reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.sandbox import Sandbox, running_sandbox

JSON = dict[str, Any]


class PageClient:
    """Talks to the sandbox as its page does (JSON, same origin)."""

    def __init__(self, sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
        self.sandbox = sandbox
        self.session = session

    async def state(self, user: str) -> JSON:
        async with self.session.get(f"{self.sandbox.url}/api/state", params={"user": user}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def post(self, path: str, *, expect: int = 200, **body: Any) -> JSON:
        async with self.session.post(f"{self.sandbox.url}{path}", json=body) as response:
            data = await response.json()
            assert response.status == expect, data
            return data

    async def wait_for(
        self, user: str, predicate: Callable[[JSON], Any], *, within: float = 5.0
    ) -> JSON:
        """hearth answers Slack first and works on after (as in production): wait for it."""
        deadline = time.monotonic() + within
        while True:
            state = await self.state(user)
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen within {within}s; last state: {state}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with running_sandbox(port=0) as running:
        yield running
    assert not running.emulator.violations, running.emulator.violations


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[PageClient]:
    async with aiohttp.ClientSession() as session:
        yield PageClient(sandbox, session)


def texts(state: JSON, channel: str) -> list[str]:
    """Every message's text in a channel (as the app sent it), oldest first."""
    return [m["text"] for m in state["conversations"][channel]]


def top_modal(state: JSON) -> JSON | None:
    return state["modals"][-1] if state["modals"] else None


def input_state(modal: JSON, entries: dict[str, JSON]) -> JSON:
    """`state.values` for a modal, as the page's collectState sends it (by block_id)."""
    values: JSON = {}
    for block in modal["blocks"]:
        if block.get("type") == "input" and block["block_id"] in entries:
            element = block["element"]
            values[block["block_id"]] = {
                element["action_id"]: {"type": element["type"], **entries[block["block_id"]]}
            }
    return values
