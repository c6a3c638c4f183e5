"""hearth's Home tab end to end: what a person sees when they open it, acting from it, the
empty state, channel privacy and workspace separation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenView
from bot.emulator.testing import web_client
from models.community import Community
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTakeaway, LeanCoffeeTopic
from models.minutes import Minutes
from models.rota import Meetup
from tests.e2e.conftest import START, World
from tests.e2e.health_check_steps import answer, health_check
from tests.e2e.helpers import board, propose, start_session
from tests.e2e.rota_steps import rota, set_schedule

PRACTICE = Seed.PRACTICE  # public: a rota (Alice facilitates next) and an open health check
LEADS = Seed.LEADS  # private, Alice and Carol only: a Lean Coffee with Alice's action
ACTION = "Write up the <onboarding> & buddy guide"
OTHER_TEAM = "T0ELSEWHERE"


async def open_home(world: World, user_id: str) -> SeenView:
    person = world.slack.user(user_id)
    result = await person.open_home()
    assert result.ok, result
    assert person.home is not None, "hearth did not publish a Home tab"
    return person.home


async def lean_coffee_with_an_action(world: World) -> None:
    """Alice runs a Lean Coffee in #leads; Carol gives Alice an action; the minutes are kept."""
    alice, carol = world.slack.user(Seed.ALICE), world.slack.user(Seed.CAROL)
    await start_session(world, channel=LEADS, **{"Name": "Leads Lean Coffee"})
    await propose(world, Seed.CAROL, "Onboarding new members", channel=LEADS)
    await world.settle()
    await alice.click(board(world, channel=LEADS), "Close voting")
    await alice.click(board(world, channel=LEADS), "Start next topic")
    await carol.click(board(world, channel=LEADS), "Add a takeaway")
    result = await carol.submit(
        {"Takeaway": ACTION, "Who will do it?": Seed.ALICE, "By when?": "2026-12-04"}
    )
    assert result.outcome == "close", carol.view and carol.view.errors
    await alice.click(board(world, channel=LEADS), "End session")
    await world.settle()


async def test_home_shows_communities_turns_checks_actions_and_minutes(world: World) -> None:
    # #practice: Alice sets the rota up and is first to facilitate; Bob joins after her.
    await set_schedule(world)
    await rota(world, Seed.ALICE, "join")
    await rota(world, Seed.BOB, "join")
    # An open health check there, which Alice has only started answering.
    await health_check(world, Seed.ALICE, "now")
    await answer(world, Seed.ALICE, "value", "green")
    # #leads: a Lean Coffee with an action for Alice, and its minutes.
    await lean_coffee_with_an_action(world)

    home = await open_home(world, Seed.ALICE)
    text = home.readable_text
    assert "Your communities" in text
    assert "#practice" in text and "#leads" in text
    assert "Next meetup" in text and "facilitated by @alice" in text
    # Her coming turn, with buttons to act on it.
    assert "Your coming turns" in text
    assert "You facilitate in #practice" in text
    assert "I'll be there" in home.buttons and "Skip my turn" in home.buttons
    # The health check waits for 7 more answers, with a link to the poll.
    assert "Health check in #practice" in text
    assert "answered 1 of 8 questions" in text
    answer_now = [
        e
        for b in home.blocks
        if (e := b.get("accessory")) and e.get("text", {}).get("text") == "Answer now"
    ]
    assert answer_now and answer_now[0]["url"].startswith("https://")
    assert f"/archives/{PRACTICE}/" in answer_now[0]["url"]
    # Her action, escaped, with its due date; and the minutes, linked.
    assert "Your actions" in text
    assert "Write up the &lt;onboarding&gt; &amp; buddy guide" in str(home.blocks)
    assert "Due Fri 4 Dec 2026" in text
    assert "Recent minutes" in text and "Leads Lean Coffee" in text
    assert "Open in channel" in home.buttons
    assert len(home.blocks) <= 100
    assert not world.slack.violations, world.slack.violations

    # "I'll be there" from the Home confirms the turn, and the Home is redrawn with a thank-you.
    # Two people take turns: Alice facilitates the 1st, 3rd and 5th meetups.
    assert text.count("You facilitate in #practice") == 3
    result = await world.slack.user(Seed.ALICE).click(home, "I'll be there", near="24 Nov 2026")
    assert result.ok, result
    async with world.hearth.deps.sessionmaker() as session:
        meetup = await session.scalar(select(Meetup).order_by(Meetup.starts_at).limit(1))
        assert meetup is not None
        assert meetup.facilitator_id == Seed.ALICE and meetup.confirmed_at == START
    refreshed = world.slack.user(Seed.ALICE).home
    assert refreshed is not None
    assert "Thank you! You're confirmed" in refreshed.readable_text
    assert "✓ confirmed" in refreshed.readable_text
    assert refreshed.buttons.count("I'll be there") == 2  # the later turns are still open
    # Nothing went wrong along the way (no error note by direct message).
    assert not [m for m in world.slack.user(Seed.ALICE).dm() if "went wrong" in m.readable_text]


async def test_skip_my_turn_from_home_passes_it_on(world: World) -> None:
    await set_schedule(world)
    await rota(world, Seed.ALICE, "join")
    await rota(world, Seed.BOB, "join")
    home = await open_home(world, Seed.ALICE)
    assert "You facilitate in #practice" in home.readable_text

    result = await world.slack.user(Seed.ALICE).click(home, "Skip my turn")
    assert result.ok, result
    refreshed = world.slack.user(Seed.ALICE).home
    assert refreshed is not None
    assert "turn is passed on" in refreshed.readable_text
    assert "facilitated by @bob" in refreshed.readable_text


async def test_someone_in_no_community_sees_how_to_start(world: World) -> None:
    await set_schedule(world)  # #practice uses hearth, but Dave is not in it
    home = await open_home(world, Seed.DAVE)
    assert "hearth isn't in any of your channels yet" in home.readable_text
    assert "/invite @hearth" in home.readable_text
    assert "#practice" not in home.readable_text
    assert home.buttons == ["See what hearth holds about you"]


async def test_a_private_channel_shows_only_to_its_members(world: World) -> None:
    await set_schedule(world)
    await lean_coffee_with_an_action(world)

    bob = await open_home(world, Seed.BOB)  # in #practice, not in #leads
    assert "#practice" in bob.readable_text
    assert "#leads" not in bob.readable_text
    assert "Leads Lean Coffee" not in bob.readable_text
    carol = await open_home(world, Seed.CAROL)  # in both
    assert "#leads" in carol.readable_text and "Leads Lean Coffee" in carol.readable_text


async def test_another_workspaces_data_never_shows(world: World) -> None:
    await set_schedule(world)
    async with world.hearth.deps.sessionmaker.begin() as session:
        # Another workspace uses a channel with the same id, and Alice's id owns an action.
        session.add(
            Community(team_id=OTHER_TEAM, channel_id=LEADS, created_by_id="U9", created_at=START)
        )
        lc = LeanCoffeeSession(
            team_id=OTHER_TEAM,
            channel_id=PRACTICE,
            title="Elsewhere Lean Coffee",
            facilitator_id=Seed.ALICE,
            started_by_id=Seed.ALICE,
            votes_per_person=3,
            timebox_minutes=7,
            extension_minutes=[4],
            status="ended",
            started_at=START,
            ended_at=START,
        )
        session.add(lc)
        await session.flush()
        topic = LeanCoffeeTopic(
            session_id=lc.id,
            team_id=OTHER_TEAM,
            proposer_id=Seed.ALICE,
            title="x",
            proposed_at=START,
        )
        session.add(topic)
        await session.flush()
        session.add(
            LeanCoffeeTakeaway(
                session_id=lc.id,
                topic_id=topic.id,
                team_id=OTHER_TEAM,
                author_id=Seed.ALICE,
                text="Elsewhere action",
                is_action=True,
                owner_id=Seed.ALICE,
                created_at=START,
            )
        )
        session.add(
            Minutes(
                team_id=OTHER_TEAM,
                channel_id=PRACTICE,
                source="lean_coffee",
                source_id=lc.id,
                title="Elsewhere minutes",
                held_on=date(2026, 11, 20),
                facilitator_id=Seed.ALICE,
                body={},
                created_at=START,
            )
        )

    home = await open_home(world, Seed.ALICE)
    assert "#practice" in home.readable_text
    assert "#leads" not in home.readable_text  # a community only in the other workspace
    assert "Elsewhere action" not in home.readable_text
    assert "Elsewhere minutes" not in home.readable_text
    assert "No actions for you" in home.readable_text
    assert "No minutes yet" in home.readable_text


async def test_the_emulator_lists_a_persons_channels_as_a_bot_sees_them(world: World) -> None:
    client: AsyncWebClient = web_client(world.slack)
    response = await client.users_conversations(
        user=Seed.DAVE, types="public_channel,private_channel"
    )
    assert [c["id"] for c in response["channels"]] == [Seed.RANDOM]
    response = await client.users_conversations(
        user=Seed.ALICE, types="public_channel,private_channel", limit=1
    )
    first = [c["id"] for c in response["channels"]]
    cursor = response["response_metadata"]["next_cursor"]
    assert cursor
    rest = await client.users_conversations(
        user=Seed.ALICE, types="public_channel,private_channel", cursor=cursor
    )
    seen = first + [c["id"] for c in rest["channels"]]
    assert sorted(seen) == sorted([Seed.PRACTICE, Seed.RANDOM, Seed.LEADS])
    # A private channel the bot is not in stays hidden even from its members.
    world.slack.state.add_channel("C0SECRET", "secret", members={Seed.ALICE}, is_private=True)
    response = await client.users_conversations(user=Seed.ALICE, types="private_channel")
    assert [c["id"] for c in response["channels"]] == [Seed.LEADS]
