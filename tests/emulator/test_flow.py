"""End to end through a real Bolt app: command → modal → errors → message → click → update."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator


async def test_command_modal_message_click(connected: tuple[SlackEmulator, AsyncApp]) -> None:
    slack, _app = connected
    alice = slack.user(Seed.ALICE)

    result = await alice.run_command("/idea", channel=Seed.PRACTICE)
    assert result.ok
    assert alice.view is not None
    assert alice.view.title == "Share an idea"
    assert alice.view.inputs == ["Your idea", "Who will lead it?"]

    result = await alice.submit({"Your idea": "Tea"})
    assert result.outcome == "errors"
    assert alice.view is not None
    assert alice.view.error_for("Your idea") == "A little longer, please."
    assert slack.state.bot_messages(Seed.PRACTICE) == []

    result = await alice.submit({"Your idea": "Tea & biscuits", "Who will lead it?": "bob"})
    assert result.outcome == "close"
    assert alice.view is None
    posted = slack.calls_to("chat.postMessage")
    assert len(posted) == 1
    assert posted[0].params["text"] == "New idea: Tea &amp; biscuits"

    bob = slack.user(Seed.BOB)
    message = bob.last_message(Seed.PRACTICE)
    assert message.from_bot
    assert message.buttons == ["Vote"]
    assert "0 vote(s)" in message.all_text
    assert message.readable_text == "*Tea & biscuits*\n0 vote(s)"

    result = await bob.click(message, "Vote", near="Tea")
    assert result.ok
    updated = bob.last_message(Seed.PRACTICE)
    assert updated.ts == message.ts
    assert updated.edited
    assert "1 vote(s)" in updated.all_text
    assert slack.calls_to("chat.update")[0].params["ts"] == message.ts


async def test_submission_values_reach_the_app(connected: tuple[SlackEmulator, AsyncApp]) -> None:
    slack, _app = connected
    alice = slack.user(Seed.ALICE)
    await alice.run_command("/idea", channel=Seed.PRACTICE)
    await alice.submit({"Your idea": "Walking meetings", "Who will lead it?": "carol"})
    payload = slack.deliveries[-1].payload
    values = payload["view"]["state"]["values"]
    assert values["title"]["value"] == {"type": "plain_text_input", "value": "Walking meetings"}
    assert values["owner"]["value"] == {"type": "users_select", "selected_user": Seed.CAROL}
    assert payload["user"]["id"] == Seed.ALICE


async def test_close_notifies_the_app(
    connected: tuple[SlackEmulator, AsyncApp], closed_views: list[str]
) -> None:
    slack, _app = connected
    alice = slack.user(Seed.ALICE)
    await alice.run_command("/idea", channel=Seed.PRACTICE)
    view_id = alice.view.id if alice.view else None
    result = await alice.close_view()
    assert result is not None and result.ok
    assert alice.view is None
    assert closed_views == [view_id]


async def test_command_response_is_private_or_shared(
    connected: tuple[SlackEmulator, AsyncApp],
) -> None:
    slack, _app = connected
    alice, bob = slack.user(Seed.ALICE), slack.user(Seed.BOB)

    await alice.run_command("/hello", "hi @bob in #random", channel=Seed.PRACTICE)
    mine = alice.last_message(Seed.PRACTICE)
    assert mine.ephemeral
    assert mine.text == (
        f"Hello <@{Seed.ALICE}>, you said: hi <@{Seed.BOB}|bob> in <#{Seed.RANDOM}|random>"
    )
    assert mine.readable_text == "Hello @alice, you said: hi @bob in #random"
    assert bob.messages(Seed.PRACTICE) == []

    await alice.run_command("/hello", "everyone", channel=Seed.PRACTICE)
    shared = bob.messages(Seed.PRACTICE)
    assert [m.text for m in shared] == ["/hello everyone", f"Hello everyone, from <@{Seed.ALICE}>"]
    assert shared[-1].from_bot and not shared[-1].ephemeral


async def test_events_reach_the_app(connected: tuple[SlackEmulator, AsyncApp]) -> None:
    slack, app = connected
    heard: list[dict[str, Any]] = []

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        heard.append(event)

    result = await slack.user(Seed.ALICE).open_home()
    assert result.ok
    assert [e["user"] for e in heard] == [Seed.ALICE]
    assert heard[0]["channel"] == Seed.ALICE_DM


async def test_every_delivery_is_recorded(connected: tuple[SlackEmulator, AsyncApp]) -> None:
    slack, _app = connected
    await slack.user(Seed.ALICE).run_command("/hello", "hi", channel=Seed.PRACTICE)
    [delivery] = slack.deliveries
    assert delivery.kind == "slash_commands"
    assert delivery.payload["command"] == "/hello"
    # Bolt answers text-only acks as text/plain over HTTP and as {"text": …} over Socket Mode
    assert delivery.response in (
        f"Hello <@{Seed.ALICE}>, you said: hi",
        {"text": f"Hello <@{Seed.ALICE}>, you said: hi"},
    )
