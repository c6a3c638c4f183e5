"""A whole Lean Coffee, driven through Slack the way people would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTakeaway, LeanCoffeeVote
from models.minutes import Minutes
from tests.e2e.conftest import World
from tests.e2e.helpers import (
    CHANNEL,
    board,
    minutes_messages,
    private_notes,
    propose,
    start_session,
)


async def test_a_whole_lean_coffee(world: World) -> None:
    alice, bob, carol = (world.slack.user(u) for u in (Seed.ALICE, Seed.BOB, Seed.CAROL))

    # 1. Start: Alice opens the modal, keeps the defaults, and the board appears.
    await start_session(world)
    assert "Content design CoP" in board(world).all_text
    assert "Propose a topic" in board(world).buttons

    # 2. Propose: by command and through the board's button and modal.
    await propose(world, Seed.BOB, "Plain language in error messages")
    await bob.click(board(world), "Propose a topic")
    assert bob.view is not None
    await bob.submit({"Topic": "Research ops for small teams", "Details": "How?"})
    await propose(world, Seed.CAROL, "<!channel> pairing on content")
    await world.settle()
    seen = board(world)
    for title in ("Plain language in error messages", "Research ops for small teams"):
        assert title in seen.readable_text
    # User text is escaped: it reads as typed and pings nobody.
    assert "<!channel>" not in str(seen.blocks)
    assert "&lt;!channel&gt; pairing on content" in str(seen.blocks)

    # 3. Vote: dots stack, the budget holds, and each voter is told privately.
    for _ in range(2):
        await alice.click(board(world), "Vote", near="Plain language in error messages")
    await alice.click(board(world), "Vote", near="Research ops for small teams")
    await alice.click(board(world), "Vote", near="pairing on content")
    await bob.click(board(world), "Vote", near="Research ops for small teams")
    await carol.click(board(world), "Vote", near="Research ops for small teams")
    await carol.click(board(world), "Remove my vote", near="Research ops for small teams")
    await carol.click(board(world), "Vote", near="Plain language in error messages")
    await world.settle()
    alice_notes = private_notes(world, Seed.ALICE)
    assert any("all 3 dots used" in note for note in alice_notes), alice_notes
    assert any("used all 3" in note for note in alice_notes), alice_notes
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(LeanCoffeeVote)) == 5
    seen = board(world)
    assert "3 votes" in seen.readable_text  # "Plain language": Alice ×2 + Carol

    # Only the facilitator (or an admin) runs the session.
    await bob.click(board(world), "Close voting")
    assert any("Only the facilitator" in n for n in private_notes(world, Seed.BOB))

    # 4. Discuss: closing voting orders the topics; the first one gets a time-box.
    await alice.click(board(world), "Close voting")
    await alice.click(board(world), "Start next topic")
    await world.settle()
    seen = board(world)
    assert "Plain language in error messages" in seen.readable_text
    assert "Move on" in seen.buttons

    # The time-box ends: the bot asks in the board's thread.
    await world.advance(timedelta(minutes=7))
    thread = alice.thread(CHANNEL, board(world).ts)
    polls = [m for m in thread if "Keep going" in " ".join(m.buttons)]
    assert len(polls) == 1
    poll = polls[0]
    await bob.click(poll, "Keep going (+4 min)")
    await carol.click(poll, "Keep going (+4 min)")
    await alice.click(poll, "Either way")
    await bob.click(poll, "Move on")  # Bob changes his mind: one vote each
    await bob.click(poll, "Keep going (+4 min)")
    # A minute later the vote decides itself: 2 keep going, 0 move on → extended by 4.
    await world.advance(timedelta(minutes=1))
    thread = alice.thread(CHANNEL, board(world).ts)
    assert any("4 more min" in m.readable_text for m in thread)

    # 5. Capture: a takeaway and an action with an owner and due date.
    await carol.click(board(world), "Add a takeaway")
    assert carol.view is not None
    await carol.submit({"Takeaway": "Lead with what the person can do next"})
    await bob.click(board(world), "Add a takeaway")
    await bob.submit(
        {
            "Takeaway": "Draft an error message pattern",
            "Who will do it?": Seed.BOB,
            "By when?": "2026-12-04",
        }
    )

    # The extension runs out too; the facilitator moves on by deciding now.
    await world.advance(timedelta(minutes=4))
    thread = alice.thread(CHANNEL, board(world).ts)
    second_poll = [m for m in thread if "Decide now" in m.buttons][-1]
    await bob.click(second_poll, "Move on")
    await alice.click(second_poll, "Decide now")
    await world.settle()
    seen = board(world)
    assert "Start next topic" in seen.buttons

    # 6. End: minutes are posted and stored; the leftover topics are carried over.
    await alice.click(board(world), "End session")
    await world.settle()
    seen = board(world)
    assert seen.buttons == []
    assert "ended" in seen.readable_text
    minutes_msgs = minutes_messages(world)
    assert minutes_msgs, "minutes were not posted in the channel"
    text = minutes_msgs[0].readable_text
    for expected in (
        "Plain language in error messages",
        "Lead with what the person can do next",
        "Draft an error message pattern",
        "Research ops for small teams",  # carried over
    ):
        assert expected in text, expected
    async with world.hearth.deps.sessionmaker() as s:
        stored = (await s.scalars(select(Minutes))).one()
        assert stored.body["discussed"][0]["title"] == "Plain language in error messages"
        assert stored.body["actions"][0]["owner_id"] == Seed.BOB
        assert await s.scalar(select(func.count()).select_from(LeanCoffeeTakeaway)) == 2
        lc = (await s.scalars(select(LeanCoffeeSession))).one()
        assert lc.status == "ended"

    # /lean-coffee minutes and history show them again, privately.
    await bob.run_command("/lean-coffee", "minutes", channel=CHANNEL)
    await bob.run_command("/lean-coffee", "history", channel=CHANNEL)
    notes = private_notes(world, Seed.BOB)
    assert any("Lead with what the person can do next" in n for n in notes)
    assert any("Content design CoP" in n for n in notes)
