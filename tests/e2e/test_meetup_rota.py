"""A rota meetup held as a time-boxed chat, end to end: it starts by itself at its time with
the rota's facilitator, with the prompts chosen ahead (or general ones), and closes with
minutes; once, across two processes and restarts; not when cancelled, moved, too late or
while another chat meetup runs. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Hearth
from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from bot.ids import MeetupPlanAction
from bot.services import outbox
from bot.state import MeetupRef
from models.meetup import ChatMeetup, ChatMeetupPlan
from models.minutes import Minutes
from models.rota import Meetup
from tests.e2e.conftest import World, running_hearth
from tests.e2e.helpers import CHANNEL
from tests.e2e.rota_steps import add_person, dm_with_button, overview, rota, set_schedule
from tests.e2e.test_actions import lean_coffee_with_an_action

ALICE, BOB, CAROL = Seed.ALICE, Seed.BOB, Seed.CAROL
ERIN = "U0ERIN"
# START is Monday 23 Nov 2026, 10:00 UTC; the schedule's first meetup is Tuesday at 10:00
# London time, which is 10:00 UTC in winter.
FIRST = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DEFAULT_PROMPTS = [
    "What have you been working on since we last met?",
    "What's one thing you'd like help with?",
]


async def chat_rota(world: World, *people: str, length: str = "30") -> None:
    """Alice (the lead) sets a weekly Tuesday 10:00 time-boxed chat; people join in order;
    whatever is due now (the first reminder, two days ahead) goes out."""
    await set_schedule(world, **{"Format": "Time-boxed chat in Slack", "Length in minutes": length})
    for user_id in people:
        await rota(world, user_id, "join")
    await world.advance(timedelta(0))


async def advance_to(world: World, moment: datetime) -> None:
    await world.advance(moment - world.clock.now())


def bot_posts(slack: SlackEmulator) -> list[SeenMessage]:
    return [m for m in slack.user(ALICE).messages(CHANNEL) if m.from_bot and not m.ephemeral]


def openings(slack: SlackEmulator) -> list[SeenMessage]:
    return [m for m in bot_posts(slack) if m.readable_text.startswith("Chat meetup\n")]


def prompts(slack: SlackEmulator) -> list[str]:
    return [
        m.readable_text.split("\n")[0]
        for m in bot_posts(slack)
        if "Reply in this thread" in m.readable_text
    ]


def prompt_messages(slack: SlackEmulator) -> list[SeenMessage]:
    return [m for m in bot_posts(slack) if "Reply in this thread" in m.readable_text]


def minutes_posts(slack: SlackEmulator) -> list[SeenMessage]:
    return [m for m in bot_posts(slack) if m.readable_text.startswith("Minutes: Chat meetup")]


def reminder(slack: SlackEmulator, user_id: str) -> SeenMessage:
    found = [m for m in dms_of(slack, user_id) if "Your turn to facilitate" in m.all_text]
    assert found, f"{user_id} has no reminder"
    return found[-1]


def dms_of(slack: SlackEmulator, user_id: str) -> list[SeenMessage]:
    return [m for m in slack.user(user_id).dm() if m.from_bot]


def openings_posted(slack: SlackEmulator) -> int:
    return sum(
        1
        for c in slack.calls_to("chat.postMessage")
        if c.ok and "A chat meetup is on until" in str(c.params.get("text"))
    )


async def rota_meetup(world: World, starts_at: datetime = FIRST) -> Meetup:
    async with world.hearth.deps.sessionmaker() as s:
        found = await s.scalar(select(Meetup).where(Meetup.occurrence == starts_at))
        assert found is not None
        return found


async def chat_meetups(hearth: Hearth) -> list[ChatMeetup]:
    async with hearth.deps.sessionmaker() as s:
        return list(await s.scalars(select(ChatMeetup).order_by(ChatMeetup.id)))


# --- starting by itself -----------------------------------------------------------------------


async def test_a_chat_meetup_starts_by_itself_with_the_rotas_facilitator(world: World) -> None:
    # Bob's turn comes first; Alice leads. An open action from an earlier Lean Coffee.
    await lean_coffee_with_an_action(world, owner=CAROL)
    await chat_rota(world, BOB, ALICE)
    slack = world.slack
    assert "Choose the prompts" in reminder(slack, BOB).buttons
    assert "starts the chat in #practice by itself" in reminder(slack, BOB).readable_text

    await advance_to(world, FIRST - timedelta(minutes=1))
    [announced] = [m for m in bot_posts(slack) if "Meetup today at" in m.readable_text]
    assert "It happens right here, as a time-boxed chat" in announced.readable_text
    assert openings(slack) == []

    await advance_to(world, FIRST)
    [opening] = openings(slack)
    text = opening.readable_text
    assert "The community's scheduled meetup. Facilitated by @bob, whose turn it is" in text
    assert "30 min" in text and "All 2 prompts are below" in text
    assert prompts(slack) == [
        f"*Prompt {n} of 2:* {p}" for n, p in enumerate(DEFAULT_PROMPTS, start=1)
    ]
    # The open actions are in the opening's thread.
    thread = slack.user(ALICE).thread(CHANNEL, opening.ts)
    assert any("Write up the" in m.readable_text for m in thread[1:]), thread

    carol = slack.user(CAROL)
    first = prompt_messages(slack)[0]
    await carol.say(CHANNEL, "Migrating our docs to plain language", thread_ts=first.ts)
    await world.advance(timedelta(minutes=15))
    assert any(
        "Halfway there" in m.readable_text for m in slack.user(ALICE).thread(CHANNEL, first.ts)
    )
    await world.advance(timedelta(minutes=15))
    [minutes] = minutes_posts(slack)
    assert "Migrating our docs to plain language" in minutes.readable_text
    assert "Facilitated by @bob" in minutes.readable_text
    async with world.hearth.deps.sessionmaker() as s:
        stored = await s.scalar(select(Minutes).where(Minutes.source == "meetup"))
        assert stored is not None and stored.facilitator_id == BOB
    held = await rota_meetup(world)
    assert (held.status, held.facilitator_id) == ("held", BOB)
    [chat] = await chat_meetups(world.hearth)
    assert (chat.rota_meetup_id, chat.facilitator_id, chat.status) == (held.id, BOB, "ended")

    # Nothing starts again, and next week's meetup starts at its own time, with Alice.
    await advance_to(world, FIRST + timedelta(days=7) - timedelta(minutes=1))
    assert len(openings(slack)) == 1
    await advance_to(world, FIRST + timedelta(days=7))
    assert len(openings(slack)) == 2
    assert "Facilitated by @alice" in openings(slack)[-1].readable_text
    assert not slack.violations


async def test_the_facilitator_chooses_the_prompts_ahead(world: World) -> None:
    await chat_rota(world, BOB, ALICE)
    bob = world.slack.user(BOB)
    await bob.click(reminder(world.slack, BOB), "Choose the prompts")
    assert bob.view is not None and bob.view.title == "Choose the prompts"
    assert "runs for 30 min" in bob.view.readable_text
    assert "Length in minutes" not in bob.view.inputs
    await bob.submit(
        {
            "Prompts": "Show <one> thing & tell\n\nWhat blocked you?\nWhat's next?",
            "Minutes between prompts": "40",
        }
    )
    assert bob.view is not None
    assert "after the meetup ends" in (bob.view.error_for("Minutes between prompts") or "")
    result = await bob.submit({"Minutes between prompts": "5", "Nudges in the threads": []})
    assert result.outcome == "close", bob.view and bob.view.errors
    assert "will open with 3 prompts (one every 5 min)" in dms_of(world.slack, BOB)[-1].all_text

    # Opening it again shows what was saved.
    await bob.click(reminder(world.slack, BOB), "Choose the prompts")
    assert bob.view is not None
    saved = bob.view.values
    assert saved["meetup.prompts"]["meetup.prompts.input"]["value"] == (
        "Show <one> thing & tell\nWhat blocked you?\nWhat's next?"
    )
    assert saved["meetup.pace"]["meetup.pace.input"]["value"] == "5"
    assert not saved["meetup.nudges"]["meetup.nudges.input"].get("selected_options")
    await bob.close_view()

    await advance_to(world, FIRST)
    assert "3 prompts, a new one every 5 min" in openings(world.slack)[0].readable_text
    assert prompts(world.slack) == ["*Prompt 1 of 3:* Show <one> thing & tell"]
    assert "Show &lt;one&gt; thing &amp; tell" in prompt_messages(world.slack)[0].all_text
    await world.advance(timedelta(minutes=10))
    assert len(prompts(world.slack)) == 3
    await world.advance(timedelta(minutes=10))  # no nudges were chosen
    assert not any(
        "minutes left" in m.readable_text or "Halfway" in m.readable_text
        for p in prompt_messages(world.slack)
        for m in world.slack.user(ALICE).thread(CHANNEL, p.ts)
    )
    await world.advance(timedelta(minutes=10))
    assert len(minutes_posts(world.slack)) == 1


async def test_only_the_facilitator_or_a_lead_chooses_the_prompts(world: World) -> None:
    await chat_rota(world, BOB, ALICE)
    meetup = await rota_meetup(world)
    ref = MeetupRef(c=meetup.community_id, m=meetup.id).encode()
    erin = add_person(world, ERIN, "erin")
    forwarded = await dm_with_button(
        world, ERIN, "Choose the prompts", MeetupPlanAction.CHOOSE_PROMPTS, ref
    )
    await erin.click(forwarded, "Choose the prompts")
    assert erin.view is None
    assert "Only this meetup's facilitator or one of the community's leads" in (
        world.slack.user(ERIN).dm()[-1].readable_text
    )

    # Bob opens the form, but passes his turn on before saving: Alice (a lead) takes it,
    # and may choose; Bob no longer may.
    bob = world.slack.user(BOB)
    await bob.click(reminder(world.slack, BOB), "Choose the prompts")
    assert bob.view is not None
    await rota(world, BOB, "skip")
    await bob.submit({"Prompts": "Too late for me"})
    assert bob.view is not None
    assert "Only this meetup's facilitator or one of the community's leads" in (
        bob.view.error_for("Prompts") or ""
    )
    await bob.close_view()
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ChatMeetupPlan)) == 0

    # A lead may choose them for someone else's meetup.
    alice = world.slack.user(ALICE)
    from_lead = await dm_with_button(
        world, ALICE, "Choose the prompts", MeetupPlanAction.CHOOSE_PROMPTS, ref
    )
    await alice.click(from_lead, "Choose the prompts")
    result = await alice.submit({"Prompts": "What are you proud of?"})
    assert result.outcome == "close", alice.view and alice.view.errors
    await advance_to(world, FIRST)
    assert prompts(world.slack) == ["*Prompt:* What are you proud of?"]
    assert "Facilitated by @alice" in openings(world.slack)[0].readable_text


async def test_a_meetup_started_with_the_command_also_shows_the_open_actions(
    world: World,
) -> None:
    await lean_coffee_with_an_action(world, owner=CAROL)
    alice = world.slack.user(ALICE)
    await alice.run_command("/meetup", channel=CHANNEL)
    result = await alice.submit({"Prompts": "What's new?"})
    assert result.outcome == "close", alice.view and alice.view.errors
    [opening] = openings(world.slack)
    thread = world.slack.user(BOB).thread(CHANNEL, opening.ts)
    assert any("Write up the" in m.readable_text for m in thread[1:]), thread
    [chat] = await chat_meetups(world.hearth)
    assert chat.rota_meetup_id is None and not chat.stand_in


async def test_with_nobody_on_the_rota_a_lead_facilitates(world: World) -> None:
    await chat_rota(world)  # nobody joined the rota
    await advance_to(world, FIRST)
    [opening] = openings(world.slack)
    assert "Nobody on the rota was free to facilitate, so @alice" in opening.readable_text
    [chat] = await chat_meetups(world.hearth)
    assert chat.facilitator_id == ALICE and chat.stand_in


# --- when it does not start -----------------------------------------------------------------


async def test_a_cancelled_meetup_does_not_start_and_a_moved_one_starts_at_its_new_time(
    world: World,
) -> None:
    await chat_rota(world, BOB, ALICE)
    alice = world.slack.user(ALICE)
    seen = await overview(world, ALICE)
    await alice.click(seen, "Cancel this meetup", near="Tue 24 Nov 2026")
    seen = await overview(world, ALICE)
    await alice.click(seen, "Move…", near="Tue 1 Dec 2026")
    await alice.submit({"New day": "2026-12-02", "New time (Europe/London)": "18:00"})
    assert alice.view is None

    await advance_to(world, FIRST + timedelta(days=7, hours=1))
    assert openings(world.slack) == []
    moved = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    await advance_to(world, moved - timedelta(minutes=1))
    assert openings(world.slack) == []
    await advance_to(world, moved)
    assert len(openings(world.slack)) == 1
    [chat] = await chat_meetups(world.hearth)
    assert chat.rota_meetup_id == (await rota_meetup(world, FIRST + timedelta(days=7))).id


async def test_a_running_chat_meetup_is_not_doubled_and_the_facilitator_is_told(
    world: World,
) -> None:
    await chat_rota(world, BOB, ALICE)
    await advance_to(world, FIRST - timedelta(minutes=10))
    carol = world.slack.user(CAROL)
    await carol.run_command("/meetup", channel=CHANNEL)
    result = await carol.submit({"Prompts": "An impromptu question", "Length in minutes": "60"})
    assert result.outcome == "close", carol.view and carol.view.errors

    await advance_to(world, FIRST)
    assert len(openings(world.slack)) == 1
    told = dms_of(world.slack, BOB)[-1].readable_text
    assert "a chat meetup is already running there" in told and "#practice" in told
    [chat] = await chat_meetups(world.hearth)
    assert chat.rota_meetup_id is None
    await advance_to(world, FIRST + timedelta(hours=2))
    assert len(openings(world.slack)) == 1
    assert len([m for m in dms_of(world.slack, BOB) if "already running" in m.readable_text]) == 1


async def test_slack_failing_the_opening_does_not_lose_the_meetup(world: World) -> None:
    await chat_rota(world, BOB, ALICE)
    await advance_to(world, FIRST - timedelta(minutes=1))
    world.slack.fail_next("chat.postMessage", status=503, times=3)
    await advance_to(world, FIRST)
    assert openings(world.slack) == [] and prompts(world.slack) == []
    # The meetup runs all the same: its opening, then its prompts, come out once Slack is
    # back (the channel's messages in order), once each.
    for attempt in range(1, 4):
        await world.advance(outbox.retry_delay(attempt))
    [opening] = openings(world.slack)
    assert len(prompts(world.slack)) == 2
    assert float(opening.ts) < min(float(m.ts) for m in prompt_messages(world.slack))
    await advance_to(world, FIRST + timedelta(minutes=30))
    assert len(minutes_posts(world.slack)) == 1
    assert openings_posted(world.slack) == 1


# --- restarts and processes ---------------------------------------------------------------


async def test_it_starts_once_across_two_processes_and_a_restart(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        await chat_rota(World(slack, one, clock, empty_database), BOB, ALICE)
        clock.set(FIRST)
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
        assert openings_posted(slack) == 1
    clock.set(FIRST + timedelta(minutes=5))
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as three:
        await asyncio.sleep(0.3)
        await three.settle()
        assert len(await chat_meetups(three)) == 1
    assert openings_posted(slack) == 1
    assert len(prompts(slack)) == 2


async def test_back_during_the_meetup_it_starts_for_the_time_left(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        await chat_rota(World(slack, first, clock, empty_database), BOB, ALICE)
    clock.set(FIRST + timedelta(minutes=10))  # hearth was down at the start
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as second:
        await slack.wait_until(lambda: len(openings(slack)) == 1, within=10)
        await second.settle()
        [chat] = await chat_meetups(second)
        assert chat.ends_at == FIRST + timedelta(minutes=30)
        assert chat.length_minutes == 20
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as third:
        await asyncio.sleep(0.3)
        await third.settle()
    assert openings_posted(slack) == 1


async def test_back_after_the_meetup_it_is_not_started_and_that_is_logged(
    slack: SlackEmulator,
    empty_database: str,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        await chat_rota(World(slack, first, clock, empty_database), BOB, ALICE)
    clock.set(FIRST + timedelta(minutes=40))  # down until the time-box was over
    caplog.set_level(logging.WARNING, logger="bot.jobs.meetup_rota")
    async with running_hearth(slack, empty_database, clock) as second:
        world = World(slack, second, clock, empty_database)
        await world.advance(timedelta(0))
        await world.advance(timedelta(minutes=5))
        assert openings(slack) == [] and await chat_meetups(world.hearth) == []
        assert sum("not started" in r.getMessage() for r in caplog.records) == 1
        held = await rota_meetup(world)
        assert held.status == "held"
