"""The sandbox API: what each person sees, and what they do going through Slack's rules."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bot.emulator.seed import Seed
from bot.ids import LeanCoffeeAction, LeanCoffeeBlock
from bot.sandbox import run_sandbox
from tests.sandbox.conftest import JSON, PageClient, input_state, texts, top_modal

PRACTICE = Seed.PRACTICE


def action(message: JSON, action_id: str, *, near: str | None = None) -> JSON:
    """The element a person would click, as the page reports it (block_id, action_id, …)."""
    blocks = message["blocks"]
    for index, block in enumerate(blocks):
        for element in block.get("elements") or []:
            if element.get("action_id") != action_id:
                continue
            if near is not None and near not in str(blocks[max(0, index - 1)]):
                continue
            found = {"block_id": block["block_id"], "action_id": action_id}
            return {**found, "type": element["type"], "value": element.get("value")}
    raise AssertionError(f"no {action_id} in {blocks}")


def board(state: JSON) -> JSON:
    boards = [
        m
        for m in state["conversations"][PRACTICE]
        if m["bot"] and not m["ephemeral"] and "Facilitated by" in str(m["blocks"])
    ]
    assert boards, "no board"
    return boards[-1]


async def start_session(client: PageClient, title: str = "Design CoP") -> JSON:
    await client.post("/api/command", user=Seed.ALICE, channel=PRACTICE, text="/lean-coffee")
    state = await client.wait_for(Seed.ALICE, top_modal)
    modal = top_modal(state)
    assert modal is not None
    values = input_state(modal, {LeanCoffeeBlock.TITLE: {"value": title}})
    result = await client.post("/api/submit", user=Seed.ALICE, view_id=modal["id"], state=values)
    assert result == {"ok": True, "outcome": "close"}
    return await client.wait_for(Seed.ALICE, lambda s: title in str(s["conversations"][PRACTICE]))


async def test_each_person_sees_their_own_workspace(client: PageClient) -> None:
    alice = await client.state(Seed.ALICE)
    assert [c["name"] for c in alice["channels"]] == ["leads", "practice", "random"]
    leads = alice["channels"][0]
    assert leads["is_private"] and leads["is_member"] and leads["bot_is_member"]
    assert [p["real_name"] for p in alice["people"]] == [
        "Alice Appleby",
        "Bob Baker",
        "Carol Chen",
        "Dave Diaz",
    ]
    assert alice["app"]["dm"] == Seed.ALICE_DM
    assert abs(alice["clock"]["now"] - time.time()) < 5
    assert alice["clock"]["moved_seconds"] == 0
    assert alice["modals"] == [] and alice["home"] is None

    dave = await client.state(Seed.DAVE)
    # Dave is not in the private #leads, and only passing by #practice.
    assert [(c["name"], c["is_member"]) for c in dave["channels"]] == [
        ("random", True),
        ("practice", False),
    ]
    assert "C0LEADS" not in dave["conversations"]

    async with client.session.get(
        f"{client.sandbox.url}/api/state", params={"user": "U0NOBODY"}
    ) as response:
        assert response.status == 404


async def test_a_command_opens_a_modal_whose_errors_keep_what_was_typed(
    client: PageClient,
) -> None:
    await client.post("/api/command", user=Seed.ALICE, channel=PRACTICE, text="/lean-coffee")
    state = await client.wait_for(Seed.ALICE, top_modal)
    modal = top_modal(state)
    assert modal is not None and modal["title"]["text"] == "Start a Lean Coffee"

    values = input_state(
        modal,
        {
            LeanCoffeeBlock.TITLE: {"value": "Design CoP"},
            LeanCoffeeBlock.EXTENSIONS: {"value": "lots"},
        },
    )
    result = await client.post("/api/submit", user=Seed.ALICE, view_id=modal["id"], state=values)
    assert result == {"ok": True, "outcome": "errors"}
    modal = top_modal(await client.state(Seed.ALICE))
    assert modal is not None
    assert "whole minutes" in modal["errors"][LeanCoffeeBlock.EXTENSIONS]
    shown = {b["block_id"]: b.get("element", {}) for b in modal["blocks"]}
    assert shown[LeanCoffeeBlock.TITLE]["initial_value"] == "Design CoP"
    assert shown[LeanCoffeeBlock.EXTENSIONS]["initial_value"] == "lots"

    values = input_state(modal, {LeanCoffeeBlock.EXTENSIONS: {"value": "4, 2"}})
    result = await client.post("/api/submit", user=Seed.ALICE, view_id=modal["id"], state=values)
    assert result == {"ok": True, "outcome": "close"}
    state = await client.wait_for(
        Seed.BOB, lambda s: "Design CoP" in str(s["conversations"][PRACTICE])
    )
    assert top_modal(await client.state(Seed.ALICE)) is None
    # Bob sees the board, and the command Alice typed was not shown to anyone.
    assert board(state)["user"] == client.sandbox.emulator.state.bot_user_id


async def test_slacks_own_checks_stop_an_incomplete_form(client: PageClient) -> None:
    await start_session(client)
    state = await client.state(Seed.BOB)
    propose = action(board(state), LeanCoffeeAction.PROPOSE)
    await client.post(
        "/api/action", user=Seed.BOB, channel=PRACTICE, ts=board(state)["ts"], action=propose
    )
    modal = top_modal(await client.wait_for(Seed.BOB, top_modal))
    assert modal is not None
    delivered = len(client.sandbox.emulator.deliveries)
    result = await client.post(
        "/api/submit",
        user=Seed.BOB,
        view_id=modal["id"],
        state=input_state(modal, {LeanCoffeeBlock.TOPIC_TITLE: {"value": None}}),
    )
    assert result["outcome"] == "blocked"
    assert result["errors"] == {LeanCoffeeBlock.TOPIC_TITLE: "Please complete this required field."}
    assert len(client.sandbox.emulator.deliveries) == delivered  # nothing reached hearth
    modal = top_modal(await client.state(Seed.BOB))
    assert modal is not None and LeanCoffeeBlock.TOPIC_TITLE in modal["errors"]

    await client.post("/api/close_view", user=Seed.BOB, view_id=modal["id"])
    assert top_modal(await client.state(Seed.BOB)) is None
    await client.post("/api/close_view", expect=400, user=Seed.BOB, view_id=modal["id"])


async def test_clicks_update_the_board_and_private_notes_stay_private(client: PageClient) -> None:
    await start_session(client)
    await client.post(
        "/api/command", user=Seed.CAROL, channel=PRACTICE, text="/lean-coffee Pairing & <b>"
    )
    state = await client.wait_for(Seed.BOB, lambda s: "Pairing" in str(board(s)["blocks"]))
    vote = action(board(state), LeanCoffeeAction.VOTE, near="Pairing")
    result = await client.post(
        "/api/action", user=Seed.BOB, channel=PRACTICE, ts=board(state)["ts"], action=vote
    )
    assert result["ok"]
    state = await client.wait_for(Seed.BOB, lambda s: "1 vote" in str(board(s)["blocks"]))
    assert board(state)["edited"]
    bob_notes = [m["text"] for m in state["conversations"][PRACTICE] if m["ephemeral"]]
    assert any("dot" in note for note in bob_notes), bob_notes
    carol = await client.state(Seed.CAROL)
    assert not any("dot" in m["text"] for m in carol["conversations"][PRACTICE] if m["ephemeral"])
    # What Carol typed is shown as typed, never as markup.
    assert "Pairing &amp; &lt;b&gt;" in str(board(carol)["blocks"])

    bogus = {**vote, "action_id": "not.on.screen"}
    await client.post(
        "/api/action",
        expect=400,
        user=Seed.BOB,
        channel=PRACTICE,
        ts=board(state)["ts"],
        action=bogus,
    )
    await client.post(
        "/api/action", expect=400, user=Seed.BOB, channel=PRACTICE, ts="1.000001", action=vote
    )


async def test_commands_messages_and_threads(client: PageClient) -> None:
    refused = await client.post(
        "/api/command", expect=400, user=Seed.ALICE, channel=PRACTICE, text="/nope now"
    )
    assert "/nope is not a valid command" in refused["error"]
    refused = await client.post(
        "/api/command",
        expect=400,
        user=Seed.ALICE,
        channel=PRACTICE,
        text="/lean-coffee",
        thread_ts="1.000001",
    )
    assert "threads" in refused["error"]

    await client.post("/api/message", user=Seed.ALICE, channel=PRACTICE, text="Morning all")
    state = await client.state(Seed.BOB)
    said = state["conversations"][PRACTICE][-1]
    assert said["text"] == "Morning all" and said["user"] == Seed.ALICE and said["in_channel"]
    await client.post(
        "/api/message", user=Seed.BOB, channel=PRACTICE, text="Hello!", thread_ts=said["ts"]
    )
    state = await client.state(Seed.ALICE)
    parent, reply = state["conversations"][PRACTICE][-2:]
    assert parent["reply_count"] == 1 and parent["reply_users"] == [Seed.BOB]
    assert reply["is_reply"] and not reply["in_channel"] and reply["thread_ts"] == said["ts"]

    # Dave is not in #practice: he must join before he can talk there.
    await client.post("/api/message", expect=400, user=Seed.DAVE, channel=PRACTICE, text="hi")
    await client.post("/api/join", user=Seed.DAVE, channel=PRACTICE)
    await client.post("/api/message", user=Seed.DAVE, channel=PRACTICE, text="hi")
    assert texts(await client.state(Seed.ALICE), PRACTICE)[-1] == "hi"

    # /invite is Slack's own command: it adds hearth to a channel.
    await client.post("/api/command", user=Seed.ALICE, channel=Seed.RANDOM, text="/invite @hearth")
    random = next(c for c in (await client.state(Seed.ALICE))["channels"] if c["name"] == "random")
    assert random["bot_is_member"]


async def test_the_clock_moves_forward_and_what_is_due_happens(client: PageClient) -> None:
    await start_session(client)
    await client.post("/api/command", user=Seed.BOB, channel=PRACTICE, text="/lean-coffee Pairing")
    state = await client.wait_for(Seed.ALICE, lambda s: "Pairing" in str(board(s)["blocks"]))
    for action_id in (LeanCoffeeAction.CLOSE_VOTING, LeanCoffeeAction.START_NEXT):
        state = await client.wait_for(
            Seed.ALICE, lambda s, a=action_id: a in str(board(s)["blocks"])
        )
        clicked = action(board(state), action_id)
        await client.post(
            "/api/action", user=Seed.ALICE, channel=PRACTICE, ts=board(state)["ts"], action=clicked
        )
    # The topic's time-box has started once its "Move on" button is on the board.
    await client.wait_for(Seed.ALICE, lambda s: LeanCoffeeAction.MOVE_ON in str(board(s)["blocks"]))

    result = await client.post("/api/clock", seconds=7 * 60)
    assert result["ok"] and result["ran"] >= 1
    state = await client.wait_for(
        Seed.ALICE,
        lambda s: any("Keep going?" in m["text"] for m in s["conversations"][PRACTICE]),
    )
    assert state["clock"]["moved_seconds"] == 7 * 60
    assert state["clock"]["now"] - time.time() >= 7 * 60 - 5
    poll = next(m for m in state["conversations"][PRACTICE] if "Keep going?" in m["text"])
    assert poll["thread_ts"] == board(state)["ts"]

    for bad in (-60, 0, True, "60", 40 * 24 * 3600):
        await client.post("/api/clock", expect=400, seconds=bad)


async def test_modal_values_are_checked_against_the_modal(client: PageClient) -> None:
    await client.post("/api/command", user=Seed.ALICE, channel=PRACTICE, text="/lean-coffee")
    modal = top_modal(await client.wait_for(Seed.ALICE, top_modal))
    assert modal is not None
    forged: dict[str, Any] = input_state(
        modal, {LeanCoffeeBlock.ANONYMOUS: {"selected_options": [{"value": "everything"}]}}
    )
    refused = await client.post(
        "/api/submit", expect=400, user=Seed.ALICE, view_id=modal["id"], state=forged
    )
    assert "no option 'everything'" in refused["error"]
    unknown = {"nowhere": {"x": {"type": "plain_text_input", "value": "hi"}}}
    await client.post(
        "/api/submit", expect=400, user=Seed.ALICE, view_id=modal["id"], state=unknown
    )
    # Only the person whose modal it is can type into it.
    await client.post("/api/submit", expect=400, user=Seed.BOB, view_id=modal["id"], state={})


async def test_opening_the_home_tab_tells_hearth(client: PageClient) -> None:
    await client.post("/api/home", user=Seed.CAROL)
    sent = client.sandbox.emulator.deliveries[-1]
    assert sent.kind == "events_api"
    assert sent.payload["event"]["type"] == "app_home_opened"
    assert sent.payload["event"]["user"] == Seed.CAROL


async def test_the_event_stream_says_when_to_look_again(client: PageClient) -> None:
    url = f"{client.sandbox.url}/api/events"
    async with client.session.get(url) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        first = await asyncio.wait_for(stream.content.readline(), 5)
        assert first.startswith(b"data: ")
        await stream.content.readline()  # the blank line ending the event
        await client.post("/api/message", user=Seed.ALICE, channel=PRACTICE, text="ping")
        second = await asyncio.wait_for(stream.content.readline(), 5)
        assert int(second.split()[1]) > int(first.split()[1])


async def test_only_the_page_itself_can_act(client: PageClient) -> None:
    url = client.sandbox.url
    async with client.session.post(
        f"{url}/api/message", data="user=U0ALICE", headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415
    async with client.session.post(
        f"{url}/api/message",
        json={"user": Seed.ALICE, "channel": PRACTICE, "text": "hi"},
        headers={"Origin": "http://elsewhere.example"},
    ) as response:
        assert response.status == 403
    async with client.session.get(f"{url}/") as response:
        assert response.status == 200
        page = await response.text()
        assert "/static/sandbox.js" in page and "/static/blockkit.js" in page
    for name in ("sandbox.js", "sandbox.css", "blockkit.js", "blockkit.css"):
        async with client.session.get(f"{url}/static/{name}") as response:
            assert response.status == 200, name
    async with client.session.get(f"{url}/static/%2e%2e/server.py") as response:
        assert response.status in (403, 404)
    assert url.startswith("http://127.0.0.1:")


async def test_run_sandbox_says_where_to_look_and_stops_when_told() -> None:
    said: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(run_sandbox(port=0, open_message=said.append, stop=stop))
    try:
        deadline = time.monotonic() + 20
        while not said:
            assert time.monotonic() < deadline, "the sandbox did not start"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.05)
        message = said[0]
        assert "sandbox" in message.splitlines()[0]
        url = next(word for word in message.split() if word.startswith("http://127.0.0.1:"))
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
