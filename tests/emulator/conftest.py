"""A tiny Bolt app (not hearth's) driven through the emulator over HTTP and Socket Mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import connect_socket_mode, running_emulator, serve_http

IDEA_VIEW = "idea"
JSON = dict[str, Any]


def idea_modal(channel_id: str) -> JSON:
    return {
        "type": "modal",
        "callback_id": IDEA_VIEW,
        "private_metadata": channel_id,
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": "Share an idea"},
        "submit": {"type": "plain_text", "text": "Share"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Your idea"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "owner",
                "optional": True,
                "label": {"type": "plain_text", "text": "Who will lead it?"},
                "element": {"type": "users_select", "action_id": "value"},
            },
        ],
    }


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def idea_blocks(title: str, votes: int) -> list[JSON]:
    return [
        {
            "type": "section",
            "block_id": "idea",
            "text": {"type": "mrkdwn", "text": f"*{escape(title)}*"},
            "accessory": {
                "type": "button",
                "action_id": "vote",
                "text": {"type": "plain_text", "text": "Vote"},
                "value": title,
            },
        },
        {
            "type": "context",
            "block_id": "votes",
            "elements": [{"type": "mrkdwn", "text": f"{votes} vote(s)"}],
        },
    ]


def build_app(emulator: SlackEmulator, closed_views: list[str] | None = None) -> AsyncApp:
    """Command → modal → (field error | message with a Vote button) → click → chat.update."""
    client = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
    app = AsyncApp(
        client=client, signing_secret=emulator.signing_secret, process_before_response=True
    )

    @app.command("/idea")
    async def open_idea(ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=idea_modal(body["channel_id"]))

    @app.command("/hello")
    async def hello(ack: AsyncAck, body: JSON) -> None:
        if body["text"] == "everyone":
            await ack(response_type="in_channel", text=f"Hello everyone, from <@{body['user_id']}>")
        else:
            await ack(f"Hello <@{body['user_id']}>, you said: {body['text']}")

    @app.view(IDEA_VIEW)
    async def shared(ack: AsyncAck, view: JSON, client: AsyncWebClient) -> None:
        title = view["state"]["values"]["title"]["value"]["value"]
        if len(title) < 5:
            await ack(response_action="errors", errors={"title": "A little longer, please."})
            return
        await ack()
        await client.chat_postMessage(
            channel=view["private_metadata"],
            text=f"New idea: {escape(title)}",
            blocks=idea_blocks(title, 0),
        )

    @app.view_closed(IDEA_VIEW)
    async def closed(ack: AsyncAck, view: JSON) -> None:
        await ack()
        if closed_views is not None:
            closed_views.append(view["id"])

    @app.action("vote")
    async def vote(ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
        await ack()
        title = body["actions"][0]["value"]
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"New idea: {escape(title)}",
            blocks=idea_blocks(title, 1),
        )

    return app


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[SlackEmulator]:
    async with running_emulator(clock=clock, delivery_timeout=5.0) as emulator:
        yield emulator


@pytest.fixture
def closed_views() -> list[str]:
    """Ids of the views the tiny app heard closing (`view_closed`)."""
    return []


@pytest.fixture(params=["http", "socket_mode"])
async def connected(
    request: pytest.FixtureRequest, emulator: SlackEmulator, closed_views: list[str]
) -> AsyncIterator[tuple[SlackEmulator, AsyncApp]]:
    """The tiny app connected to the emulator, once over HTTP and once over Socket Mode."""
    app = build_app(emulator, closed_views)
    if request.param == "http":
        async with serve_http(app, emulator):
            yield emulator, app
    else:
        async with connect_socket_mode(app, emulator):
            yield emulator, app
