"""Odd input at the edges, end to end on both databases: control characters in what people
type (PostgreSQL refuses a NUL in text), `/rota away` ranges that end before they start, and
time zones that are not places (`localtime`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from models.lean_coffee import LeanCoffeeTopic
from models.meetup import ChatMeetupReply
from models.rota import MeetupSchedule, RotaAway
from tests.e2e.conftest import World, running_hearth
from tests.e2e.health_check_steps import health_check
from tests.e2e.health_check_steps import last_note as hc_last_note
from tests.e2e.helpers import CHANNEL, board, propose, start_session
from tests.e2e.rota_steps import last_note, overview, rota, set_up
from tests.e2e.test_health_check import stored_setup
from tests.e2e.test_meetup import minutes_message, prompt_messages, start_meetup
from tests.e2e.test_meetup_history import post_unheard

# --- control characters -----------------------------------------------------------------------


async def topics(world: World) -> list[tuple[str, str | None]]:
    async with world.hearth.deps.sessionmaker() as s:
        rows = await s.execute(
            select(LeanCoffeeTopic.title, LeanCoffeeTopic.detail).order_by(LeanCoffeeTopic.id)
        )
        return [(title, detail) for title, detail in rows]


async def test_control_characters_are_stripped_from_a_topic_typed_after_the_command(
    world: World,
) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain\x00 language\x07 in \x1berrors\x7f\x85")
    await world.settle()
    assert await topics(world) == [("Plain language in errors", None)]
    seen = board(world)
    assert "Plain language in errors" in seen.readable_text
    assert not any(c in str(seen.blocks) for c in "\x00\x07\x1b\x7f\x85")


async def test_control_characters_are_stripped_from_the_propose_a_topic_modal(
    world: World,
) -> None:
    await start_session(world)
    bob = world.slack.user(Seed.BOB)
    await bob.click(board(world), "Propose a topic")
    assert bob.view is not None
    await bob.submit(
        {"Topic": "Research\x00 ops\x08 for small teams", "Details": "How\x00?\r\nStep\tone\x0c"}
    )
    assert bob.view is None, bob.view and bob.view.errors
    await world.settle()
    # Line breaks and tabs are what people meant to type; the rest goes.
    assert await topics(world) == [("Research ops for small teams", "How?\nStep\tone")]
    assert "Research ops for small teams" in board(world).readable_text


async def test_control_characters_are_stripped_over_socket_mode_too(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock, socket_mode=True) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await start_session(world)
        await propose(world, Seed.BOB, "Plain\x00 language")
        assert await topics(world) == [("Plain language", None)]


async def test_a_meetup_reply_with_a_nul_is_recorded_cleanly(world: World) -> None:
    await start_meetup(world)
    bob = world.slack.user(Seed.BOB)
    first = prompt_messages(world)[0]
    await bob.say(CHANNEL, "A short\x00 survey\x00 told us more", thread_ts=first.ts)
    async with world.hearth.deps.sessionmaker() as s:
        replies = list(await s.scalars(select(ChatMeetupReply.text)))
    assert replies == ["A short survey told us more"]


async def test_a_reply_read_back_from_slack_at_the_close_is_recorded_cleanly(
    world: World,
) -> None:
    # Its `message` event never reached hearth, so it never passed the request middleware.
    await start_meetup(world, **{"Length in minutes": "30"})
    first = prompt_messages(world)[0]
    post_unheard(world.slack, Seed.BOB, "Lost\x00 in\x1b delivery", first.ts)
    await world.advance(timedelta(minutes=30))  # time's up: the threads are read back
    async with world.hearth.deps.sessionmaker() as s:
        replies = list(await s.scalars(select(ChatMeetupReply.text)))
    assert replies == ["Lost in delivery"]
    assert "Lost in delivery" in minutes_message(world).readable_text


# --- /rota away ranges ----------------------------------------------------------------------


async def aways(world: World) -> list[tuple[str, str]]:
    async with world.hearth.deps.sessionmaker() as s:
        rows = await s.execute(select(RotaAway.starts_on, RotaAway.ends_on).order_by(RotaAway.id))
        return [(str(first), str(last)) for first, last in rows]


async def test_away_by_command_refuses_a_range_that_ends_before_it_starts(world: World) -> None:
    # Today is Mon 23 Nov 2026. "14 Dec to 1 Dec" once became 14 Dec 2026 to 1 Dec 2027.
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.BOB, "away 14 Dec to 1 Dec")
    note = last_note(world, Seed.BOB).readable_text
    assert "That ends before it starts. Try `/rota away 1 Dec to 14 Dec`." in note
    assert "1 Dec 2027" in note  # how to say "into next year", if that was meant
    assert await aways(world) == []

    # Other odd ranges: a single day, one running over New Year, one given with years.
    await rota(world, Seed.BOB, "away 1 Dec to 1 Dec")
    assert "You're away Tue 1 Dec 2026," in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.BOB, "away 28 Dec to 3 Jan")
    assert "Mon 28 Dec 2026 to Sun 3 Jan 2027" in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.BOB, "away 1 Feb 2027 to 1 Mar 2028")
    assert "more than a year" in last_note(world, Seed.BOB).readable_text
    assert await aways(world) == [
        ("2026-12-01", "2026-12-01"),
        ("2026-12-28", "2027-01-03"),
    ]


async def test_away_for_someone_else_by_command_says_the_days_the_other_way_round(
    world: World,
) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "away @bob 9 Dec to 2 Dec")
    note = last_note(world, Seed.ALICE).readable_text
    assert "That ends before it starts. Try the days the other way round: 2 Dec to 9 Dec" in note
    assert await aways(world) == []


async def test_away_form_and_command_agree_on_the_same_range(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    bob = world.slack.user(Seed.BOB)
    await bob.click(await overview(world, Seed.BOB), "I'm away…")
    assert bob.view is not None
    await bob.submit({"First day away": "2026-12-14", "Last day away": "2026-12-01"})
    assert bob.view is not None
    assert "That ends before it starts" in (bob.view.error_for("Last day away") or "")
    # More than a year is refused by the form, as by the command.
    await bob.submit({"First day away": "2027-02-01", "Last day away": "2028-03-01"})
    assert bob.view is not None
    assert "more than a year" in (bob.view.error_for("Last day away") or "")
    assert await aways(world) == []
    await bob.submit({"First day away": "2026-12-01", "Last day away": "2026-12-14"})
    assert bob.view is None
    assert await aways(world) == [("2026-12-01", "2026-12-14")]


# --- time zones -------------------------------------------------------------------------------

NOT_PLACES = ["localtime", "Factory", "posixrules", "../etc/localtime", "/etc/localtime"]


async def test_the_rota_schedule_form_refuses_zones_that_are_not_places(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await rota(world, Seed.ALICE, "schedule")
    for typed in NOT_PLACES:
        result = await alice.submit({"Time zone": typed})
        assert result.outcome == "errors", typed
        assert alice.view is not None
        assert "Use a name like Europe/London" in (alice.view.error_for("Time zone") or ""), typed
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(MeetupSchedule)) == 0
    await alice.submit({"Time zone": "America/New_York"})
    assert alice.view is None
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(MeetupSchedule.time_zone)) == "America/New_York"


async def test_health_check_set_up_and_schedule_refuse_zones_that_are_not_places(
    world: World,
) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.ALICE)
    assert alice.view is not None and alice.view.title == "Health check set-up"
    for typed in NOT_PLACES:
        result = await alice.submit({"Time zone": typed})
        assert result.outcome == "errors", typed
        assert "Use a name like Europe/London" in (alice.view.error_for("Time zone") or ""), typed
    result = await alice.submit({"Time zone": "UTC"})
    assert result.outcome == "close", alice.view and alice.view.errors
    cadence = (await stored_setup(world)).cadence
    assert cadence is not None and cadence.time_zone == "UTC"

    # The schedule on its own ("Edit schedule") reads the zone the same way.
    await health_check(world, Seed.ALICE, "schedule")
    await alice.click(hc_last_note(world, Seed.ALICE), "Edit schedule")
    assert alice.view is not None and alice.view.title == "Health check schedule"
    for typed in NOT_PLACES:
        result = await alice.submit({"Time zone": typed})
        assert result.outcome == "errors", typed
        assert "Use a name like Europe/London" in (alice.view.error_for("Time zone") or ""), typed
    result = await alice.submit({"Time zone": "america/new york"})
    assert result.outcome == "close", alice.view and alice.view.errors
    cadence = (await stored_setup(world)).cadence
    assert cadence is not None and cadence.time_zone == "America/New_York"
