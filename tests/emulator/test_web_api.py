"""The Web API answers as Slack does, checked with the real slack_sdk client."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import web_client

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}
MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Hello"},
    "blocks": [SECTION],
}


@pytest.fixture
def client(emulator: SlackEmulator) -> AsyncWebClient:
    return web_client(emulator)


async def error_of(call: Awaitable[object]) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["user_id"] == "U0HEARTHBOT"
    assert response["bot_id"] == "B0HEARTH"
    assert response["team_id"] == "T0HEARTH"


async def test_bad_and_missing_tokens(emulator: SlackEmulator) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=emulator.api_url)
    assert await error_of(wrong.auth_test()) == "invalid_auth"
    missing = AsyncWebClient(base_url=emulator.api_url)
    assert await error_of(missing.auth_test()) == "not_authed"
    app_token = AsyncWebClient(token=emulator.app_token, base_url=emulator.api_url)
    assert await error_of(app_token.chat_postMessage(channel=Seed.PRACTICE, text="x")) == (
        "not_allowed_token_type"
    )
    bot = web_client(emulator)
    assert await error_of(bot.apps_connections_open(app_token=emulator.bot_token)) == (
        "not_allowed_token_type"
    )
    opened = await bot.apps_connections_open(app_token=emulator.app_token)
    assert opened["url"].startswith(f"ws://127.0.0.1:{emulator.port}/link/")


async def test_token_in_form_body(emulator: SlackEmulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.api_url}auth.test", data={"token": emulator.bot_token}) as r,
    ):
        assert r.status == 200
        assert (await r.json())["ok"] is True


async def test_post_message_where_the_bot_is_and_is_not(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    response = await client.chat_postMessage(channel=Seed.PRACTICE, text="Hello", blocks=[SECTION])
    assert response["channel"] == Seed.PRACTICE
    assert response["message"]["bot_id"] == "B0HEARTH"
    assert response["message"]["blocks"][0]["block_id"]  # Slack fills in missing ids
    assert await error_of(client.chat_postMessage(channel=Seed.RANDOM, text="x")) == (
        "not_in_channel"
    )
    assert await error_of(client.chat_postMessage(channel="C0NOPE", text="x")) == (
        "channel_not_found"
    )
    with pytest.warns(UserWarning, match="text"):
        assert await error_of(client.chat_postMessage(channel=Seed.PRACTICE)) == "no_text"
    assert [m.text for m in emulator.state.messages_in(Seed.PRACTICE)] == ["Hello"]


async def test_timestamps_increase_even_when_the_clock_stands_still(
    client: AsyncWebClient, clock: ManualClock
) -> None:
    first = await client.chat_postMessage(channel=Seed.PRACTICE, text="one")
    second = await client.chat_postMessage(channel=Seed.PRACTICE, text="two")
    assert float(second["ts"]) > float(first["ts"])
    assert first["ts"].split(".")[0] == str(int(clock.now().timestamp()))
    assert len(first["ts"].split(".")[1]) == 6


async def test_threads_history_and_permalinks(client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=Seed.PRACTICE, text="parent")
    reply = await client.chat_postMessage(
        channel=Seed.PRACTICE, text="reply", thread_ts=parent["ts"]
    )
    history = await client.conversations_history(channel=Seed.PRACTICE)
    assert [m["text"] for m in history["messages"]] == ["parent"]
    assert history["messages"][0]["reply_count"] == 1
    replies = await client.conversations_replies(channel=Seed.PRACTICE, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    link = await client.chat_getPermalink(channel=Seed.PRACTICE, message_ts=reply["ts"])
    assert link["permalink"].endswith(f"?thread_ts={parent['ts']}&cid={Seed.PRACTICE}")
    assert await error_of(client.conversations_history(channel=Seed.RANDOM)) == "not_in_channel"


async def test_history_pages_with_a_cursor(client: AsyncWebClient) -> None:
    for n in range(5):
        await client.chat_postMessage(channel=Seed.PRACTICE, text=str(n))
    first = await client.conversations_history(channel=Seed.PRACTICE, limit=3)
    assert [m["text"] for m in first["messages"]] == ["4", "3", "2"]
    assert first["has_more"]
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel=Seed.PRACTICE, limit=3, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["1", "0"]
    assert rest["response_metadata"]["next_cursor"] == ""


async def test_update_and_delete(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    posted = await client.chat_postMessage(channel=Seed.PRACTICE, text="v1", blocks=[SECTION])
    updated = await client.chat_update(channel=Seed.PRACTICE, ts=posted["ts"], text="v2")
    assert updated["message"]["blocks"][0]["text"]["text"] == "Hello"  # blocks kept
    assert updated["text"] == "v2"
    assert await error_of(client.chat_update(channel=Seed.PRACTICE, ts="1.000001", text="x")) == (
        "message_not_found"
    )
    human = emulator.state.post_message(Seed.PRACTICE, text="mine", user=Seed.ALICE)
    assert await error_of(client.chat_update(channel=Seed.PRACTICE, ts=human.ts, text="x")) == (
        "cant_update_message"
    )
    assert await error_of(client.chat_delete(channel=Seed.PRACTICE, ts=human.ts)) == (
        "cant_delete_message"
    )
    await client.chat_delete(channel=Seed.PRACTICE, ts=posted["ts"])
    assert [m.text for m in emulator.state.messages_in(Seed.PRACTICE)] == ["mine"]


async def test_ephemeral_messages(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    response = await client.chat_postEphemeral(channel=Seed.PRACTICE, user=Seed.ALICE, text="psst")
    assert response["message_ts"]
    assert await error_of(
        client.chat_postEphemeral(channel=Seed.PRACTICE, user=Seed.DAVE, text="x")
    ) == ("user_not_in_channel")
    assert [m.text for m in emulator.user(Seed.ALICE).messages(Seed.PRACTICE)] == ["psst"]
    assert emulator.user(Seed.BOB).messages(Seed.PRACTICE) == []


async def test_direct_messages_by_user_id(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    response = await client.chat_postMessage(channel=Seed.BOB, text="Hi Bob")
    dm = emulator.state.channels[response["channel"]]
    assert dm.is_im and dm.im_user == Seed.BOB
    opened = await client.conversations_open(users=Seed.BOB)
    assert opened["channel"]["id"] == dm.id
    assert [m.text for m in emulator.user(Seed.BOB).dm()] == ["Hi Bob"]


async def test_conversations_and_users(client: AsyncWebClient) -> None:
    practice = await client.conversations_info(channel=Seed.PRACTICE)
    assert practice["channel"]["is_member"] is True
    assert practice["channel"]["is_private"] is False
    random = await client.conversations_info(channel=Seed.RANDOM)
    assert random["channel"]["is_member"] is False
    dm = await client.conversations_info(channel=Seed.ALICE_DM)
    assert dm["channel"]["is_im"] is True
    members = await client.conversations_members(channel=Seed.PRACTICE)
    assert set(members["members"]) == {Seed.ALICE, Seed.BOB, Seed.CAROL, "U0HEARTHBOT"}
    carol = await client.users_info(user=Seed.CAROL)
    assert carol["user"]["is_admin"] is True
    assert carol["user"]["tz"] == "Asia/Singapore"
    assert carol["user"]["tz_offset"] == 8 * 3600
    assert await error_of(client.users_info(user="U0NOBODY")) == "user_not_found"


async def test_private_channel_the_bot_is_not_in_is_invisible(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.state.add_channel("C0SECRET", "secret", members={Seed.ALICE}, is_private=True)
    assert await error_of(client.conversations_info(channel="C0SECRET")) == "channel_not_found"


async def test_trigger_ids_expire_and_are_single_use(
    client: AsyncWebClient, emulator: SlackEmulator, clock: ManualClock
) -> None:
    trigger = emulator.state.issue_trigger(Seed.ALICE)
    clock.advance(timedelta(seconds=3.5))
    assert await error_of(client.views_open(trigger_id=trigger.id, view=MODAL)) == (
        "expired_trigger_id"
    )
    fresh = emulator.state.issue_trigger(Seed.ALICE)
    opened = await client.views_open(trigger_id=fresh.id, view=MODAL)
    assert opened["view"]["id"].startswith("V")
    assert await error_of(client.views_open(trigger_id=fresh.id, view=MODAL)) == (
        "invalid_trigger_id"
    )
    assert await error_of(client.views_open(trigger_id="1.2.nonsense", view=MODAL)) == (
        "invalid_trigger_id"
    )


async def test_views_push_update_and_hash(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    opened = await client.views_open(
        trigger_id=emulator.state.issue_trigger(Seed.ALICE).id,
        view={**MODAL, "external_id": "ext-1"},
    )
    view = opened["view"]
    pushed = await client.views_push(
        trigger_id=emulator.state.issue_trigger(Seed.ALICE).id, view=MODAL
    )
    assert pushed["view"]["previous_view_id"] == view["id"]
    assert pushed["view"]["root_view_id"] == view["id"]
    assert [v.id for v in emulator.user(Seed.ALICE).views] == [view["id"], pushed["view"]["id"]]

    changed = {**MODAL, "title": {"type": "plain_text", "text": "Changed"}}
    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=changed)
    assert updated["view"]["hash"] != view["hash"]
    assert await error_of(
        client.views_update(view_id=view["id"], hash=view["hash"], view=changed)
    ) == ("hash_conflict")
    by_external = await client.views_update(external_id="ext-1", view=changed)
    assert by_external["view"]["id"] == view["id"]
    assert await error_of(client.views_update(view_id="V0NOPE", view=changed)) == "not_found"


async def test_views_push_limit(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    def trigger() -> str:
        return emulator.state.issue_trigger(Seed.ALICE).id

    await client.views_open(trigger_id=trigger(), view=MODAL)
    await client.views_push(trigger_id=trigger(), view=MODAL)
    await client.views_push(trigger_id=trigger(), view=MODAL)
    assert await error_of(client.views_push(trigger_id=trigger(), view=MODAL)) == (
        "push_limit_reached"
    )


async def test_views_publish_home(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    home = {"type": "home", "blocks": [SECTION]}
    first = await client.views_publish(user_id=Seed.ALICE, view=home)
    again = await client.views_publish(user_id=Seed.ALICE, view=home)
    assert first["view"]["id"] == again["view"]["id"]
    seen = emulator.user(Seed.ALICE).home
    assert seen is not None and seen.all_text == "Hello"
    assert await error_of(client.views_publish(user_id=Seed.ALICE, view=MODAL)) == (
        "invalid_arguments"
    )


async def test_every_call_is_recorded(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    await client.chat_postMessage(channel=Seed.PRACTICE, text="hi", blocks=[SECTION])
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=Seed.RANDOM, text="hi")
    calls = emulator.calls_to("chat.postMessage")
    assert [c.ok for c in calls] == [True, False]
    assert calls[0].params["blocks"][0]["text"]["text"] == "Hello"
    assert calls[1].response["error"] == "not_in_channel"


async def test_unknown_methods_are_violations(emulator: SlackEmulator) -> None:
    client = web_client(emulator)
    assert await error_of(client.api_call("reactions.add")) == "unknown_method"
    assert [str(v) for v in emulator.violations] == ["reactions.add: this method is not emulated"]
    emulator.violations.clear()
