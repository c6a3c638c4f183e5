"""Time-boxes across restarts and processes, bursts of votes, and Slack having a bad day."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.services import outbox
from models.lean_coffee import LeanCoffeePoll, LeanCoffeeVote
from tests.e2e.conftest import World, running_hearth
from tests.e2e.helpers import CHANNEL, board, propose, start_discussing, start_session


def keep_going_polls(slack: SlackEmulator) -> list[str]:
    """Every "Keep going?" message the bot posted (by ts)."""
    return [
        call.response["ts"]
        for call in slack.calls_to("chat.postMessage")
        if call.ok and "Keep going" in str(call.params.get("blocks"))
    ]


async def _session_in_discussion(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    await propose(world, Seed.CAROL, "Research ops")
    await start_discussing(world)


async def test_a_timebox_that_ends_while_hearth_is_down_is_handled_once_when_it_returns(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        world = World(slack, first, clock, empty_database)
        await _session_in_discussion(world)
    assert keep_going_polls(slack) == []

    # hearth is down while the 7-minute box runs out.
    clock.advance(timedelta(minutes=9))

    # It comes back with its real scheduler running: the overdue box is handled at once.
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as second:
        await slack.wait_until(lambda: len(keep_going_polls(slack)) == 1, within=10)
        await second.settle()
    # And a further restart does not ask again.
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as third:
        await asyncio.sleep(0.5)
        await third.settle()
    assert len(keep_going_polls(slack)) == 1
    async with second.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(LeanCoffeePoll)) == 1


async def test_two_processes_sharing_the_database_ask_once(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        world = World(slack, one, clock, empty_database)
        await _session_in_discussion(world)
        clock.advance(timedelta(minutes=7))
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
        assert len(keep_going_polls(slack)) == 1
        # The poll decides itself once, too: one "keeping going"/"moving on" note.
        clock.advance(timedelta(minutes=1))
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
    notes = [
        c
        for c in slack.calls_to("chat.postMessage")
        if "Moving on from" in str(c.params.get("text"))
    ]
    assert len(notes) == 1


async def test_a_burst_of_votes_is_stored_and_coalesced_into_few_board_updates(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    people = [f"U0P{i:02d}" for i in range(20)]
    for person in people:
        slack.state.add_user(person, person.lower(), tz="Europe/London")
        slack.state.channels[CHANNEL].members.add(person)
    async with running_hearth(
        slack,
        empty_database,
        clock,
        board_refresh_interval=1.0,  # the production setting
        settle_after_each_request=False,
    ) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await start_session(world)
        await propose(world, Seed.BOB, "Plain language")
        await hearth.settle()
        seen = board(world)
        updates_before = len(slack.calls_to("chat.update"))

        results = await asyncio.gather(
            *(slack.user(p).click(seen, "Vote", near="Plain language") for p in people)
        )
        assert all(r.ok for r in results)
        # Every acknowledged click is already stored, before any redraw.
        async with hearth.deps.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(LeanCoffeeVote)) == 20
        await hearth.settle()
        updates = len(slack.calls_to("chat.update")) - updates_before
        assert 1 <= updates <= 3, updates
        assert "20 votes" in board(world).readable_text


async def test_slack_rate_limits_and_errors_delay_but_never_lose_or_repeat(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    world.slack.fail_next("chat.update", status=429, retry_after=1)
    await world.slack.user(Seed.BOB).click(board(world), "Vote", near="Plain language")
    assert "1 vote" in board(world).readable_text

    await start_discussing(world)
    world.slack.fail_next("chat.postMessage", status=503)
    await world.advance(timedelta(minutes=7))
    assert keep_going_polls(world.slack) == []  # owed, and tried again after a back-off
    await world.advance(outbox.retry_delay(1))
    assert len(keep_going_polls(world.slack)) == 1
    thread = world.slack.user(Seed.ALICE).thread(CHANNEL, board(world).ts)
    assert sum("Keep going" in " ".join(m.buttons) for m in thread) == 1


async def test_the_board_stays_readable_with_many_topics(world: World) -> None:
    await start_session(world)
    for i in range(1, 46):
        await propose(world, Seed.BOB if i % 2 else Seed.CAROL, f"Topic number {i:02d}")
    seen = board(world)
    assert len(seen.blocks) <= 50
    label = next(b for b in seen.buttons if b.startswith("See all"))
    assert label == "See all 45 topics"

    carol = world.slack.user(Seed.CAROL)
    await carol.click(seen, label)
    assert carol.view is not None
    assert "Topic number 01" in carol.view.readable_text
    # Vote on one that is not on the board itself, from the modal.
    assert "Topic number 44" not in seen.readable_text
    if "Topic number 44" not in carol.view.readable_text:
        await carol.click(None, "Next page")
    await carol.click(None, "Vote", near="Topic number 44")
    assert carol.view is not None
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(LeanCoffeeVote)) == 1


async def test_a_poll_that_cannot_be_posted_is_retried_later_and_posted_once(world: World) -> None:
    await _session_in_discussion(world)
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.advance(timedelta(minutes=7))
    assert keep_going_polls(world.slack) == []
    async with world.hearth.deps.sessionmaker() as s:
        assert (await s.scalars(select(LeanCoffeePoll))).one().message_ts is None

    # Each retry comes after its back-off, not before, and looks for the poll first: a 500
    # may come after Slack posted.
    def attempts() -> int:
        calls = world.slack.calls_to("chat.postMessage")
        return sum("Keep going" in str(c.params.get("blocks")) for c in calls)

    assert attempts() == 1
    for attempt in (1, 2, 3):
        await world.advance(outbox.retry_delay(attempt) - timedelta(seconds=1))
        assert attempts() == attempt
        await world.advance(timedelta(seconds=1))
        assert attempts() == attempt + 1
    assert len(keep_going_polls(world.slack)) == 1
    assert world.slack.calls_to("conversations.replies"), "looked for it before posting again"
    # It still gets its full minute from when people could first see it.
    await world.advance(timedelta(seconds=50))
    async with world.hearth.deps.sessionmaker() as s:
        assert (await s.scalars(select(LeanCoffeePoll))).one().decided_at is None
    await world.advance(timedelta(seconds=15))
    async with world.hearth.deps.sessionmaker() as s:
        assert (await s.scalars(select(LeanCoffeePoll))).one().decided_at is not None
    assert len(keep_going_polls(world.slack)) == 1


async def test_when_the_extensions_are_used_up_the_topic_moves_on_by_itself(world: World) -> None:
    await start_session(world, **{"Extra time if the group wants to keep going": "3"})
    await propose(world, Seed.BOB, "Plain language")
    await propose(world, Seed.CAROL, "Research ops")
    await start_discussing(world)
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)

    await world.advance(timedelta(minutes=7))
    poll = next(m for m in alice.thread(CHANNEL, board(world).ts) if "Decide now" in m.buttons)
    await bob.click(poll, "Keep going (+3 min)")
    await world.advance(timedelta(minutes=1))
    assert "Plain language" in board(world).readable_text

    # The one extension runs out: no second poll, the topic moves on, and the facilitator
    # is offered the next one in the thread.
    await world.advance(timedelta(minutes=3))
    assert len(keep_going_polls(world.slack)) == 1
    thread = alice.thread(CHANNEL, board(world).ts)
    note = next(m for m in thread if "extra time is used up" in m.readable_text)
    assert "Start next topic" in note.buttons
    await alice.click(note, "Start next topic")
    assert "Now discussing" in alice.thread(CHANNEL, board(world).ts)[-1].readable_text
    assert "Research ops" in board(world).readable_text
