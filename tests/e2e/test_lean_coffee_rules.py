"""Who may do what, bad input and stale clicks: each gets a clear private answer and changes
nothing. Driven through Slack (the emulator) like the rest of the end-to-end tests."""

from __future__ import annotations

from datetime import time

from sqlalchemy import func, select

from bot.emulator.actor import SlackUser
from bot.emulator.seed import Seed
from bot.services import community as community_service
from bot.services import rota as rota_service
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTopic, LeanCoffeeVote
from tests.e2e.conftest import World
from tests.e2e.helpers import (
    CHANNEL,
    board,
    last_note,
    minutes_messages,
    private_notes,
    propose,
    start_discussing,
    start_session,
)


async def count(world: World, model: type) -> int:
    async with world.hearth.deps.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


def add_member(world: World, user_id: str, name: str) -> SlackUser:
    """Someone in the channel who is neither facilitator nor workspace admin."""
    world.slack.state.add_user(user_id, name, tz="Europe/Dublin")
    world.slack.state.channels[CHANNEL].members.add(user_id)
    return world.slack.user(user_id)


async def test_help_explains_every_command(world: World) -> None:
    bob = world.slack.user(Seed.BOB)
    await bob.run_command("/lean-coffee", "help", channel=CHANNEL)
    text = last_note(world, Seed.BOB)
    for words in ("/lean-coffee minutes", "/lean-coffee history", "/lean-coffee help"):
        assert words in text
    # Help works in a DM with hearth too.
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/lean-coffee", "help", channel=Seed.ALICE_DM)
    assert any("/lean-coffee history" in m.readable_text for m in alice.messages(Seed.ALICE_DM))


async def test_commands_outside_a_usable_channel_say_what_to_do(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/lean-coffee", channel=Seed.RANDOM)
    assert "/invite @hearth" in last_note(world, Seed.ALICE, Seed.RANDOM)
    assert alice.view is None

    await alice.run_command("/lean-coffee", channel=Seed.ALICE_DM)
    dm_text = " ".join(m.readable_text for m in alice.messages(Seed.ALICE_DM))
    assert "in a channel" in dm_text
    assert await count(world, LeanCoffeeSession) == 0


async def test_one_session_per_channel_and_proposing_needs_one(world: World) -> None:
    bob = world.slack.user(Seed.BOB)
    await propose(world, Seed.BOB, "Too early")
    assert "No Lean Coffee is running" in last_note(world, Seed.BOB)
    assert await count(world, LeanCoffeeTopic) == 0

    await start_session(world)
    await bob.run_command("/lean-coffee", channel=CHANNEL)
    assert bob.view is None
    assert "already running" in last_note(world, Seed.BOB)
    assert await count(world, LeanCoffeeSession) == 1


async def test_bad_topics_get_field_errors_and_are_not_stored(world: World) -> None:
    await start_session(world)
    bob = world.slack.user(Seed.BOB)
    await bob.click(board(world), "Propose a topic")
    await bob.submit({"Topic": "   "})
    assert bob.view is not None and bob.view.errors, "blank topic accepted"
    await bob.close_view()

    await propose(world, Seed.BOB, "x" * 400)
    assert "150" in last_note(world, Seed.BOB)
    assert await count(world, LeanCoffeeTopic) == 0


async def test_start_modal_rejects_bad_numbers(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/lean-coffee", channel=CHANNEL)
    await alice.submit({"Name": "CoP", "Extra time if the group wants to keep going": "four"})
    assert alice.view is not None
    assert alice.view.errors
    assert await count(world, LeanCoffeeSession) == 0


async def test_only_the_facilitator_or_an_admin_runs_the_session(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    bob, carol = world.slack.user(Seed.BOB), world.slack.user(Seed.CAROL)
    for label in ("Close voting", "End session"):
        await bob.click(board(world), label)
        assert "Only the facilitator" in last_note(world, Seed.BOB)
    async with world.hearth.deps.sessionmaker() as s:
        assert (await s.scalars(select(LeanCoffeeSession))).one().status == "collecting"
    # Carol is a workspace admin: she may step in.
    await carol.click(board(world), "Close voting")
    async with world.hearth.deps.sessionmaker() as s:
        assert (await s.scalars(select(LeanCoffeeSession))).one().status == "discussing"


async def test_proposers_edit_and_withdraw_their_own_topics(world: World) -> None:
    erin = add_member(world, "U0ERIN", "erin")
    await start_session(world)
    await propose(world, Seed.BOB, "Plain langauge")
    bob, carol = world.slack.user(Seed.BOB), world.slack.user(Seed.CAROL)
    await erin.choose(board(world), "Edit", near="Plain langauge")
    assert erin.view is None
    assert "Only the person who proposed" in last_note(world, "U0ERIN")

    await bob.choose(board(world), "Edit", near="Plain langauge")
    assert bob.view is not None
    await bob.submit({"Topic": "Plain language"})
    assert "Plain language" in board(world).readable_text
    assert "langauge" not in board(world).readable_text

    await carol.click(board(world), "Vote", near="Plain language")
    await bob.choose(board(world), "Withdraw", near="Plain language")
    assert "Plain language" not in board(world).readable_text
    assert await count(world, LeanCoffeeVote) == 0  # Carol got her dot back


async def test_facilitator_merges_duplicates_and_dots_follow(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Accessibility audits")
    await propose(world, Seed.CAROL, "A11y audits")
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    for _ in range(3):
        await bob.click(board(world), "Vote", near="A11y audits")
    await alice.choose(board(world), "Merge into…", near="A11y audits")
    assert alice.view is not None
    await alice.submit({"Topic to keep": "Accessibility audits (0 votes)"})
    seen = board(world)
    assert "A11y audits" not in seen.readable_text
    assert "3 votes" in seen.readable_text
    # Bob is still exactly at his budget: no extra dot appeared.
    await bob.click(board(world), "Vote", near="Accessibility audits")
    assert "used all 3" in last_note(world, Seed.BOB)


async def test_stale_and_double_clicks_change_nothing(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    bob = world.slack.user(Seed.BOB)
    stale_board = board(world)
    await bob.click(stale_board, "Vote", near="Plain language")
    await start_discussing(world)
    # A vote from a board drawn before voting closed.
    await bob.click(stale_board, "Vote", near="Plain language", as_seen=True)
    assert "Voting has closed" in last_note(world, Seed.BOB)
    assert await count(world, LeanCoffeeVote) == 1

    # End the session, then click old buttons.
    alice = world.slack.user(Seed.ALICE)
    discussing_board = board(world)
    await alice.click(board(world), "End session")
    await alice.click(discussing_board, "Move on", as_seen=True)
    assert "has ended" in last_note(world, Seed.ALICE)
    await bob.click(stale_board, "Propose a topic", as_seen=True)
    assert bob.view is None
    assert "has ended" in last_note(world, Seed.BOB)
    assert not any("went wrong" in note for note in private_notes(world, Seed.BOB))


async def test_hand_over_facilitation(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    await alice.click(board(world), "Hand over")
    assert alice.view is not None
    await alice.submit({"New facilitator": Seed.BOB})
    assert alice.view is None
    await alice.click(board(world), "Close voting")
    assert "Only the facilitator" in last_note(world, Seed.ALICE)
    await bob.click(board(world), "Close voting")
    assert "Facilitated by @bob" in board(world).readable_text


async def test_topics_left_over_are_carried_into_the_next_session(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Discussed one")
    await propose(world, Seed.CAROL, "Left for next time")
    alice = world.slack.user(Seed.ALICE)
    await alice.click(board(world), "Vote", near="Discussed one")
    await start_discussing(world)
    await alice.click(board(world), "End session")

    await start_session(world)
    seen = board(world)
    assert "Left for next time" in seen.readable_text
    assert "Discussed one" not in seen.readable_text


async def test_anonymous_topics_hide_who_proposed_them(world: World) -> None:
    await start_session(world, Topics=["Hide who proposed each topic"])
    await propose(world, Seed.BOB, "Something I find hard")
    seen = board(world)
    assert "Something I find hard" in seen.readable_text
    assert "@bob" not in seen.readable_text
    alice = world.slack.user(Seed.ALICE)
    await alice.click(board(world), "Vote", near="Something I find hard")
    await start_discussing(world)
    assert "@bob" not in board(world).readable_text
    await alice.click(board(world), "End session")
    assert "Something I find hard" in minutes_messages(world)[0].readable_text
    assert "from @bob" not in minutes_messages(world)[0].readable_text


async def test_the_starter_can_name_another_facilitator(world: World) -> None:
    await start_session(world, Facilitator=Seed.BOB)
    await propose(world, Seed.CAROL, "Plain language")
    assert "Facilitated by @bob" in board(world).readable_text
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    await alice.click(board(world), "Close voting")
    assert "Only the facilitator" in last_note(world, Seed.ALICE)
    await bob.click(board(world), "Close voting")
    async with world.hearth.deps.sessionmaker() as s:
        assert (await s.scalars(select(LeanCoffeeSession))).one().status == "discussing"


async def test_the_rotas_facilitator_is_the_default_when_a_meetup_is_on(world: World) -> None:
    lead = Actor(world.slack.state.team.id, Seed.ALICE)
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.community_for(s, lead, CHANNEL, world.clock.now())
        await rota_service.set_schedule(
            s,
            lead,
            community,
            rota_service.ScheduleInput(
                frequency=Frequency.WEEKLY,
                weekday=world.clock.now().weekday(),
                at=time(11, 0),  # an hour from now
                time_zone="Europe/London",
                starts_on=world.clock.now().date(),
            ),
            world.clock.now(),
        )
        await rota_service.join(s, Actor(lead.team_id, Seed.CAROL), community, world.clock.now())
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/lean-coffee", channel=CHANNEL)
    assert alice.view is not None
    assert "It's their turn on the rota." in str(alice.view.blocks)
    await alice.submit({"Name": "Monday CoP"})
    assert "Facilitated by @carol" in board(world).readable_text
