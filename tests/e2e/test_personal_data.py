"""A person's data end to end: Bob opens his Home, sees what hearth holds about him, deletes
it, and is told what was done; his votes and rota place are gone, the minutes keep his topic
without his name, and Alice's data is untouched. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.emulator.seed import Seed
from models.lean_coffee import LeanCoffeeTopic, LeanCoffeeVote
from models.minutes import Minutes
from models.rota import RotaMember
from tests.e2e.conftest import World
from tests.e2e.helpers import board, propose, start_session
from tests.e2e.rota_steps import rota, set_schedule

BOBS_TOPIC = "Pairing on <tricky> drafts & reviews"
ALICES_TOPIC = "Plain language in error messages"


async def a_lean_coffee_and_a_rota(world: World) -> None:
    """Alice leads #practice; she and Bob take turns. In a Lean Coffee Bob proposes a topic
    and votes for it, Alice proposes and votes for hers; Bob's is discussed."""
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    await set_schedule(world)
    await rota(world, Seed.ALICE, "join")
    await rota(world, Seed.BOB, "join")
    await start_session(world)
    await propose(world, Seed.BOB, BOBS_TOPIC)
    await propose(world, Seed.ALICE, ALICES_TOPIC)
    await world.settle()
    await bob.click(board(world), "Vote", near="Pairing on")
    await bob.click(board(world), "Vote", near="Pairing on")
    await alice.click(board(world), "Vote", near=ALICES_TOPIC)
    await alice.click(board(world), "Close voting")
    await alice.click(board(world), "Start next topic")
    await alice.click(board(world), "End session")
    await world.settle()


async def counts(world: World) -> dict[str, int]:
    async with world.hearth.deps.sessionmaker() as session:
        votes = list(await session.scalars(select(LeanCoffeeVote.user_id)))
        members = list(await session.scalars(select(RotaMember.user_id)))
    return {
        "bob votes": votes.count(Seed.BOB),
        "alice votes": votes.count(Seed.ALICE),
        "bob in rota": members.count(Seed.BOB),
        "alice in rota": members.count(Seed.ALICE),
    }


async def test_bob_sees_his_data_and_deletes_it(world: World) -> None:
    await a_lean_coffee_and_a_rota(world)
    assert await counts(world) == {
        "bob votes": 2,
        "alice votes": 1,
        "bob in rota": 1,
        "alice in rota": 1,
    }
    bob = world.slack.user(Seed.BOB)
    result = await bob.open_home()
    assert result.ok, result
    assert bob.home is not None and "Your data" in bob.home.readable_text

    await bob.click(bob.home, "See what hearth holds about you")
    listed = bob.view
    assert listed is not None and listed.title == "Your data"
    text = listed.readable_text
    assert "1 rota you're in (or were)" in text
    assert "2 dots you put on Lean Coffee topics" in text
    assert "1 Lean Coffee topic you proposed" in text
    assert "Pairing on &lt;tricky&gt; drafts &amp; reviews" in str(listed.blocks)  # escaped
    assert "1 set of minutes that names you" in text
    assert "anonymous health checks" in text

    await bob.click(listed, "Delete my data")
    confirm = bob.view
    assert confirm is not None and confirm.title == "Delete your data?"
    assert "This removes" in confirm.readable_text
    assert "takes your name off" in confirm.readable_text
    assert "Others' minutes keep what you said, without your name." in confirm.readable_text
    assert "This can't be undone." in confirm.readable_text

    submitted = await bob.submit()
    assert submitted.ok and submitted.outcome == "close", submitted
    # The list underneath now says what was done, and so does his Home.
    done = bob.view
    assert done is not None and "Your data is deleted." in done.readable_text
    assert "Removed: " in done.readable_text and "2 dots" in done.readable_text
    assert bob.home is not None and "Your data is deleted." in bob.home.readable_text
    assert not world.slack.violations, world.slack.violations

    assert await counts(world) == {
        "bob votes": 0,
        "alice votes": 1,
        "bob in rota": 0,
        "alice in rota": 1,
    }
    async with world.hearth.deps.sessionmaker() as session:
        topics = {t.title: t.proposer_id for t in await session.scalars(select(LeanCoffeeTopic))}
        [minutes] = list(await session.scalars(select(Minutes)))
    assert topics == {BOBS_TOPIC: "forgotten", ALICES_TOPIC: Seed.ALICE}
    stored = json.dumps(minutes.body, ensure_ascii=False)
    assert BOBS_TOPIC in stored and Seed.BOB not in stored
    assert minutes.body["participant_ids"] == [Seed.ALICE]
    assert Seed.BOB.casefold() not in (minutes.search_text or "")

    # Looking again finds nothing, and Alice still sees everything of hers.
    await bob.close_view(all_views=True)
    await bob.click(bob.home, "See what hearth holds about you")
    assert bob.view is not None and "hearth holds nothing about you" in bob.view.readable_text
    alice = world.slack.user(Seed.ALICE)
    await alice.open_home()
    assert alice.home is not None
    await alice.click(alice.home, "See what hearth holds about you")
    assert alice.view is not None
    assert "1 dot you put on a Lean Coffee topic" in alice.view.readable_text
    assert "1 community you lead" in alice.view.readable_text


async def test_the_only_lead_is_asked_to_hand_on_first(world: World) -> None:
    await set_schedule(world)  # Alice is the community's only lead
    alice = world.slack.user(Seed.ALICE)
    await alice.open_home()
    assert alice.home is not None
    await alice.click(alice.home, "See what hearth holds about you")
    listed = alice.view
    assert listed is not None
    assert "only lead of the community in #practice" in listed.readable_text
    assert "Delete my data" not in listed.buttons
