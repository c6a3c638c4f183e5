"""Acting as a person: what they see, what they click, what the app receives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.emulator.actor import InputError, NotOnScreen, SubmitBlocked
from bot.emulator.payloads import escape_command_text
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import serve_http, web_client

JSON = dict[str, Any]
Reply = Callable[[JSON, AsyncWebClient], Awaitable[JSON | None]]


class Recorder:
    """A Bolt app that records every request and answers as a test tells it to."""

    def __init__(self, emulator: SlackEmulator) -> None:
        self.bodies: list[JSON] = []
        self.on_view: Reply | None = None
        self.on_action: Reply | None = None
        self.app = AsyncApp(
            client=web_client(emulator),
            signing_secret=emulator.signing_secret,
            process_before_response=True,
        )

        @self.app.action(re.compile(".*"))
        async def action(ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
            self.bodies.append(body)
            await ack()
            if self.on_action:
                await self.on_action(body, client)

        @self.app.view(re.compile(".*"))
        async def view(ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
            self.bodies.append(body)
            answer = await self.on_view(body, client) if self.on_view else None
            await ack(**(answer or {}))

        @self.app.event(re.compile(".*"))
        async def event(body: JSON) -> None:
            self.bodies.append(body)

    @property
    def last(self) -> JSON:
        return self.bodies[-1]


@pytest.fixture
async def app(emulator: SlackEmulator) -> AsyncIterator[Recorder]:
    recorder = Recorder(emulator)
    async with serve_http(recorder.app, emulator):
        yield recorder


def section(text: str, block_id: str | None = None, **extra: Any) -> JSON:
    block: JSON = {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}
    if block_id:
        block["block_id"] = block_id
    return block


def button(label: str, action_id: str, value: str = "") -> JSON:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }


def options(*labels: str) -> list[JSON]:
    return [
        {"text": {"type": "plain_text", "text": label}, "value": label.lower()} for label in labels
    ]


BOARD = [
    {"type": "header", "text": {"type": "plain_text", "text": "Lean Coffee"}},
    section("*First topic*", "topic-1", accessory=button("Vote", "vote", "1")),
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "2 votes"}]},
    section("*Second topic*", "topic-2"),
    {
        "type": "actions",
        "block_id": "topic-2-actions",
        "elements": [
            button("Vote", "vote", "2"),
            {
                "type": "overflow",
                "action_id": "menu",
                "options": options("Edit", "Withdraw"),
            },
        ],
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "static_select",
                "action_id": "sort",
                "placeholder": {"type": "plain_text", "text": "Sort by"},
                "options": options("Votes", "Newest"),
            },
            {
                "type": "users_select",
                "action_id": "facilitator",
                "placeholder": {"type": "plain_text", "text": "Pick a facilitator"},
            },
        ],
    },
]


async def post_board(emulator: SlackEmulator) -> str:
    response = await web_client(emulator).chat_postMessage(
        channel=Seed.PRACTICE, text="Lean Coffee", blocks=BOARD
    )
    return str(response["ts"])


# -- reading ---------------------------------------------------------------------------------


async def test_people_see_channel_messages_and_only_their_own_ephemerals(
    emulator: SlackEmulator,
) -> None:
    client = web_client(emulator)
    parent = await client.chat_postMessage(channel=Seed.PRACTICE, text="parent")
    await client.chat_postEphemeral(channel=Seed.PRACTICE, user=Seed.ALICE, text="for alice")
    await client.chat_postMessage(channel=Seed.PRACTICE, text="reply", thread_ts=parent["ts"])
    await client.chat_postEphemeral(
        channel=Seed.PRACTICE, user=Seed.ALICE, text="in thread", thread_ts=parent["ts"]
    )
    alice, bob = emulator.user(Seed.ALICE), emulator.user(Seed.BOB)
    assert [m.text for m in alice.messages(Seed.PRACTICE)] == ["parent", "for alice"]
    assert [m.text for m in bob.messages(Seed.PRACTICE)] == ["parent"]
    assert [m.text for m in alice.thread(Seed.PRACTICE, parent["ts"])] == [
        "parent",
        "reply",
        "in thread",
    ]
    assert bob.messages(Seed.PRACTICE)[0].reply_count == 1
    with pytest.raises(NotOnScreen, match="private"):
        emulator.user(Seed.BOB).messages(Seed.LEADS)


async def test_message_reading_helpers(emulator: SlackEmulator) -> None:
    await post_board(emulator)
    board = emulator.user(Seed.BOB).last_message(Seed.PRACTICE)
    assert board.buttons == ["Vote", "Vote"]
    assert board.menus == ["menu", "Sort by", "Pick a facilitator"]
    assert board.all_text.splitlines() == [
        "Lean Coffee",
        "*First topic*",
        "2 votes",
        "*Second topic*",
    ]
    assert board.has_text("Second topic")


def test_command_text_is_escaped_like_slack(emulator: SlackEmulator) -> None:
    text = escape_command_text(emulator.state, "@bob & @nobody <#random> see https://x.org/a?b=1")
    assert text == (
        f"<@{Seed.BOB}|bob> &amp; @nobody &lt;<#{Seed.RANDOM}|random>&gt; see <https://x.org/a?b=1>"
    )


async def test_command_fields(app: Recorder, emulator: SlackEmulator) -> None:
    alice = emulator.user(Seed.ALICE)
    await alice.run_command("/lean-coffee", "start", channel=Seed.ALICE_DM)
    await alice.run_command("/lean-coffee", "start", channel=Seed.LEADS)
    await alice.run_command("/lean-coffee", "start", channel=Seed.PRACTICE)
    dm, private, public = (d.payload for d in emulator.deliveries)
    assert dm["channel_name"] == "directmessage"
    assert private["channel_name"] == "privategroup"
    assert public["channel_name"] == "practice"
    assert public["user_name"] == "alice"
    assert public["team_domain"] == "hearth-community"
    assert public["api_app_id"] == "A0HEARTH"
    assert public["response_url"].startswith(emulator.base_url + "/response/")
    assert public["is_enterprise_install"] == "false"


# -- clicking --------------------------------------------------------------------------------


async def test_click_by_label_near_text(app: Recorder, emulator: SlackEmulator) -> None:
    ts = await post_board(emulator)
    bob = emulator.user(Seed.BOB)
    board = bob.last_message(Seed.PRACTICE)

    with pytest.raises(NotOnScreen, match="2 buttons match 'Vote'"):
        await bob.click(board, "Vote")
    with pytest.raises(NotOnScreen, match="available: 'Vote', 'Vote'"):
        await bob.click(board, "Like")

    await bob.click(board, "Vote", near="Second topic")
    body = app.last
    assert body["actions"][0]["value"] == "2"
    assert body["actions"][0]["block_id"] == "topic-2-actions"
    assert body["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": Seed.PRACTICE,
        "is_ephemeral": False,
    }
    assert body["message"]["ts"] == ts
    assert body["message"]["blocks"][1]["block_id"] == "topic-1"
    assert body["user"]["id"] == Seed.BOB
    assert body["channel"] == {"id": Seed.PRACTICE, "name": "practice"}
    assert body["trigger_id"] and body["response_url"]

    await bob.click(board, "Vote", near="First topic")
    assert app.last["actions"][0]["value"] == "1"


async def test_choose_from_menus(app: Recorder, emulator: SlackEmulator) -> None:
    await post_board(emulator)
    carol = emulator.user(Seed.CAROL)
    board = carol.last_message(Seed.PRACTICE)

    await carol.choose(board, "Withdraw", near="Second topic")
    action = app.last["actions"][0]
    assert action["type"] == "overflow"
    assert action["selected_option"]["value"] == "withdraw"

    await carol.choose(board, "Newest", menu="Sort by")
    action = app.last["actions"][0]
    assert action["type"] == "static_select"
    assert action["selected_option"]["text"]["text"] == "Newest"

    await carol.choose(board, "alice", menu="Pick a facilitator")
    assert app.last["actions"][0]["selected_user"] == Seed.ALICE

    with pytest.raises(InputError, match="Edit, Withdraw"):
        await carol.choose(board, "Delete", menu="menu")


async def test_clicks_on_ephemeral_messages_and_response_urls(
    app: Recorder, emulator: SlackEmulator
) -> None:
    await web_client(emulator).chat_postEphemeral(
        channel=Seed.PRACTICE,
        user=Seed.ALICE,
        text="Ready?",
        blocks=[section("Ready?", accessory=button("Start", "start"))],
    )

    async def replace(body: JSON, client: AsyncWebClient) -> None:
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        await AsyncWebhookClient(body["response_url"]).send(text="Started", replace_original=True)

    app.on_action = replace
    alice = emulator.user(Seed.ALICE)
    await alice.click(alice.last_message(Seed.PRACTICE), "Start")
    body = app.bodies[-1]
    assert body["container"]["is_ephemeral"] is True
    assert "message" not in body  # Slack leaves ephemeral messages out of the payload
    assert [m.text for m in alice.messages(Seed.PRACTICE)] == ["Started"]
    assert emulator.calls_to("response_url")[0].params["replace_original"] is True


async def test_response_url_replies(emulator: SlackEmulator, clock: ManualClock) -> None:
    ts = await post_board(emulator)
    state = emulator.state
    url = state.issue_response_url(Seed.PRACTICE, Seed.BOB, message_ts=ts)
    status, _ = emulator.api.respond(url.id, {"text": "only you", "thread_ts": ts})
    assert status == 200
    assert [e.text for e in state.ephemerals_for(Seed.BOB)] == ["only you"]
    assert state.ephemerals[0].thread_ts == ts
    emulator.api.respond(url.id, {"text": "everyone", "response_type": "in_channel"})
    assert state.messages_in(Seed.PRACTICE)[-1].text == "everyone"
    emulator.api.respond(url.id, {"text": "replaced", "replace_original": True})
    replaced = state.find_message(Seed.PRACTICE, ts)
    assert replaced is not None and replaced.text == "replaced"
    emulator.api.respond(url.id, {"delete_original": True})
    assert state.find_message(Seed.PRACTICE, ts) is None
    assert emulator.api.respond(url.id, {"text": "fifth"})[0] == 200
    assert emulator.api.respond(url.id, {"text": "sixth"}) == (
        404,
        {"ok": False, "error": "used_url"},
    )
    late = state.issue_response_url(Seed.PRACTICE, Seed.BOB)
    clock.advance(timedelta(minutes=31))
    assert emulator.api.respond(late.id, {"text": "late"})[1]["error"] == "expired_url"


async def test_clicking_a_deleted_message_fails(app: Recorder, emulator: SlackEmulator) -> None:
    ts = await post_board(emulator)
    board = emulator.user(Seed.BOB).last_message(Seed.PRACTICE)
    await web_client(emulator).chat_delete(channel=Seed.PRACTICE, ts=ts)
    with pytest.raises(NotOnScreen, match="deleted"):
        await emulator.user(Seed.BOB).click(board, "Vote", near="First")


# -- modals ----------------------------------------------------------------------------------


def every_input_modal() -> JSON:
    def field(block_id: str, label: str, element: JSON, optional: bool = True) -> JSON:
        return {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "element": {"action_id": "value", **element},
        }

    return {
        "type": "modal",
        "callback_id": "everything",
        "title": {"type": "plain_text", "text": "Everything"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            field("title", "Title", {"type": "plain_text_input", "min_length": 3}, False),
            field(
                "votes",
                "Votes",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "max_value": "9",
                    "initial_value": "3",
                },
            ),
            field("kind", "Kind", {"type": "static_select", "options": options("Talk", "Demo")}),
            field("owner", "Owner", {"type": "users_select"}),
            field("people", "People", {"type": "multi_users_select"}),
            field("where", "Where", {"type": "conversations_select"}),
            field("day", "Day", {"type": "datepicker"}),
            field("at", "At", {"type": "timepicker"}),
            field(
                "flags", "Flags", {"type": "checkboxes", "options": options("Anonymous", "Public")}
            ),
            field("size", "Size", {"type": "radio_buttons", "options": options("Small", "Large")}),
        ],
    }


async def open_modal(emulator: SlackEmulator, user: str, view: JSON) -> str:
    trigger = emulator.state.issue_trigger(user).id
    response = await web_client(emulator).views_open(trigger_id=trigger, view=view)
    return str(response["view"]["id"])


async def test_every_input_type_reaches_the_app(app: Recorder, emulator: SlackEmulator) -> None:
    await open_modal(emulator, Seed.ALICE, every_input_modal())
    alice = emulator.user(Seed.ALICE)
    result = await alice.submit(
        {
            "Title": "Retro",
            "Votes": 5,
            "Kind": "Demo",
            "Owner": "bob",
            "People": [Seed.BOB, "carol"],
            "Where": Seed.PRACTICE,
            "Day": date(2025, 12, 1),
            "At": time(9, 30),
            "Flags": ["Anonymous", "public"],
            "size": "Large",
        }
    )
    assert result.outcome == "close"
    values = {k: v["value"] for k, v in app.last["view"]["state"]["values"].items()}
    assert values["title"] == {"type": "plain_text_input", "value": "Retro"}
    assert values["votes"] == {"type": "number_input", "value": "5"}
    assert values["kind"]["selected_option"]["value"] == "demo"
    assert values["owner"]["selected_user"] == Seed.BOB
    assert values["people"]["selected_users"] == [Seed.BOB, Seed.CAROL]
    assert values["where"]["selected_conversation"] == Seed.PRACTICE
    assert values["day"]["selected_date"] == "2025-12-01"
    assert values["at"]["selected_time"] == "09:30"
    assert [o["value"] for o in values["flags"]["selected_options"]] == ["anonymous", "public"]
    assert values["size"]["selected_option"]["value"] == "large"


async def test_untouched_inputs_send_initial_or_empty_values(
    app: Recorder, emulator: SlackEmulator
) -> None:
    await open_modal(emulator, Seed.ALICE, every_input_modal())
    await emulator.user(Seed.ALICE).submit({"Title": "Retro"})
    values = {k: v["value"] for k, v in app.last["view"]["state"]["values"].items()}
    assert values["votes"]["value"] == "3"
    assert values["kind"]["selected_option"] is None
    assert values["people"]["selected_users"] == []
    assert values["day"]["selected_date"] is None


async def test_slack_refuses_incomplete_modals(app: Recorder, emulator: SlackEmulator) -> None:
    await open_modal(emulator, Seed.ALICE, every_input_modal())
    alice = emulator.user(Seed.ALICE)
    with pytest.raises(SubmitBlocked) as blocked:
        await alice.submit()
    assert blocked.value.problems == {"title": "Please complete this required field."}
    with pytest.raises(SubmitBlocked, match="at least 3"):
        await alice.submit({"Title": "ab"})
    with pytest.raises(SubmitBlocked, match="at most 9"):
        await alice.submit({"Title": "abc", "Votes": 12})
    with pytest.raises(InputError, match="no input 'Colour'"):
        await alice.submit({"Colour": "red"})
    assert app.bodies == []


async def test_response_actions_update_push_and_clear(
    app: Recorder, emulator: SlackEmulator
) -> None:
    second = {
        "type": "modal",
        "callback_id": "second",
        "title": {"type": "plain_text", "text": "Second"},
        "submit": {"type": "plain_text", "text": "Done"},
        "blocks": [section("Step two")],
    }
    answers: list[JSON] = [
        {
            "response_action": "update",
            "view": {**second, "title": {"type": "plain_text", "text": "Updated"}},
        },
        {"response_action": "push", "view": second},
        {"response_action": "clear"},
    ]

    async def answer(body: JSON, client: AsyncWebClient) -> JSON:
        return answers.pop(0)

    app.on_view = answer
    view_id = await open_modal(emulator, Seed.ALICE, {**second, "callback_id": "first"})
    alice = emulator.user(Seed.ALICE)

    assert (await alice.submit()).outcome == "update"
    assert alice.view is not None and alice.view.id == view_id and alice.view.title == "Updated"
    assert (await alice.submit()).outcome == "push"
    assert [v.title for v in alice.views] == ["Updated", "Second"]
    assert alice.view.id != view_id
    assert (await alice.submit()).outcome == "clear"
    assert alice.views == []


async def test_errors_for_unknown_blocks_are_violations(
    app: Recorder, emulator: SlackEmulator
) -> None:
    async def answer(body: JSON, client: AsyncWebClient) -> JSON:
        return {"response_action": "errors", "errors": {"nope": "wrong"}}

    app.on_view = answer
    await open_modal(emulator, Seed.ALICE, every_input_modal())
    result = await emulator.user(Seed.ALICE).submit({"Title": "Retro"})
    assert result.outcome == "errors"
    assert [v.message for v in emulator.violations] == [
        "error for 'nope', which is not an input block"
    ]
    emulator.violations.clear()


async def test_clicks_inside_a_modal_carry_its_state(
    app: Recorder, emulator: SlackEmulator
) -> None:
    view = every_input_modal()
    view["blocks"].append({"type": "actions", "elements": [button("Add a topic", "add")]})
    view_id = await open_modal(emulator, Seed.ALICE, view)
    alice = emulator.user(Seed.ALICE)
    alice.fill({"Title": "Half typed"})
    await alice.click(None, "Add a topic")
    body = app.last
    assert body["container"] == {"type": "view", "view_id": view_id}
    assert body["view"]["state"]["values"]["title"]["value"]["value"] == "Half typed"
    assert "response_url" not in body


# -- events ----------------------------------------------------------------------------------


async def test_home_tab(app: Recorder, emulator: SlackEmulator) -> None:
    alice = emulator.user(Seed.ALICE)
    await alice.open_home()
    event = app.last["event"]
    assert event["type"] == "app_home_opened"
    assert event["user"] == Seed.ALICE and event["tab"] == "home"
    assert "view" not in event
    await web_client(emulator).views_publish(
        user_id=Seed.ALICE,
        view={"type": "home", "blocks": [section("Hi", accessory=button("Open", "open"))]},
    )
    home = alice.home
    assert home is not None
    await alice.click(home, "Open")
    assert app.last["container"] == {"type": "view", "view_id": home.id}
    await alice.open_home()
    assert app.last["event"]["view"]["id"] == home.id


async def test_people_talking_and_joining(app: Recorder, emulator: SlackEmulator) -> None:
    alice, dave = emulator.user(Seed.ALICE), emulator.user(Seed.DAVE)
    message, delivered = await alice.say(Seed.PRACTICE, "morning all")
    assert delivered is not None and delivered.ok
    assert app.last["event"]["text"] == "morning all"
    assert app.last["event"]["channel_type"] == "channel"
    _, unheard = await alice.say(Seed.RANDOM, "the bot is not here")
    assert unheard is None
    await dave.join(Seed.PRACTICE)
    assert app.last["event"] == {
        **app.last["event"],
        "type": "member_joined_channel",
        "user": Seed.DAVE,
        "channel": Seed.PRACTICE,
    }
    await alice.invite_bot(Seed.RANDOM)
    assert app.last["event"]["user"] == "U0HEARTHBOT"
    assert emulator.state.bot_is_member(emulator.state.channels[Seed.RANDOM])
    assert message.user == Seed.ALICE
