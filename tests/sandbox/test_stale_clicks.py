"""A click on a message that was redrawn a moment before (someone else voted) still counts,
as it does in Slack, even though the redrawn blocks got new ids."""

from __future__ import annotations

from bot.emulator.seed import Seed
from bot.ids import LeanCoffeeAction
from tests.sandbox.conftest import PageClient
from tests.sandbox.test_api import PRACTICE, action, board, start_session


async def test_a_click_on_a_just_redrawn_board_counts(client: PageClient) -> None:
    await start_session(client)
    for who, topic in ((Seed.BOB, "Pairing"), (Seed.CAROL, "Research ops")):
        await client.post("/api/command", user=who, channel=PRACTICE, text=f"/lean-coffee {topic}")
    state = await client.wait_for(Seed.ALICE, lambda s: "Research ops" in str(board(s)["blocks"]))
    ts = board(state)["ts"]
    # What Alice's page shows: the vote button beside "Pairing", in a block with a given id.
    seen = action(board(state), LeanCoffeeAction.VOTE, near="Pairing")

    # Bob votes first; the board is redrawn and its blocks get new ids.
    bobs = action(board(state), LeanCoffeeAction.VOTE, near="Research ops")
    await client.post("/api/action", user=Seed.BOB, channel=PRACTICE, ts=ts, action=bobs)
    state = await client.wait_for(Seed.ALICE, lambda s: "1 vote" in str(board(s)["blocks"]))
    assert action(board(state), LeanCoffeeAction.VOTE, near="Pairing") != seen

    # Alice's click, sent from what she saw, still puts her dot on "Pairing".
    result = await client.post("/api/action", user=Seed.ALICE, channel=PRACTICE, ts=ts, action=seen)
    assert result["ok"], result
    state = await client.wait_for(
        Seed.ALICE, lambda s: "You put a dot on *Pairing*" in str(s["conversations"][PRACTICE])
    )

    # A click on something the message no longer has at all is still refused.
    gone = {**seen, "value": '{"s":1,"t":999}'}
    refused = await client.post(
        "/api/action", expect=400, user=Seed.ALICE, channel=PRACTICE, ts=ts, action=gone
    )
    assert "nothing with block_id" in refused["error"]
