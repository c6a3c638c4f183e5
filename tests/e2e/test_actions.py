"""Actions end to end: an action with a due date from a Lean Coffee, the owner's reminder on
the day, "Mark as done", and what no longer shows once it is done; who may mark it done;
the reminder sent once across two runs and a restart. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from bot.services import community as community_service
from bot.services import rota_reminders
from bot.services.actor import Actor
from models.actions import ActionReminder
from models.lean_coffee import LeanCoffeeTakeaway
from tests.e2e.conftest import START, World, running_hearth
from tests.e2e.helpers import CHANNEL, board, private_notes, propose, start_session

ACTION = "Write up the <style> & tone guide"
DUE = date(2026, 11, 25)  # Wednesday; START is Monday 10:00 UTC
REMIND = datetime.combine(DUE, datetime.min.time(), tzinfo=START.tzinfo) + timedelta(hours=9)


async def lean_coffee_with_an_action(world: World, owner: str = Seed.ALICE) -> None:
    """Alice facilitates; she records an action for `owner`, due on `DUE`, and ends."""
    alice = world.slack.user(Seed.ALICE)
    await start_session(world, **{"Name": "Style Lean Coffee"})
    await propose(world, Seed.BOB, "Our tone of voice")
    await world.settle()
    await alice.click(board(world), "Close voting")
    await alice.click(board(world), "Start next topic")
    await alice.click(board(world), "Add a takeaway")
    result = await alice.submit(
        {"Takeaway": ACTION, "Who will do it?": owner, "By when?": DUE.isoformat()}
    )
    assert result.outcome == "close", alice.view and alice.view.errors
    await alice.click(board(world), "End session")
    await world.settle()


def reminders(slack: SlackEmulator, user_id: str) -> list[SeenMessage]:
    return [m for m in slack.user(user_id).dm() if "is due today" in m.readable_text]


def open_actions_note(world: World) -> SeenMessage | None:
    thread = world.slack.user(Seed.ALICE).thread(CHANNEL, board(world).ts)
    found = [m for m in thread if "Open actions from earlier sessions" in m.readable_text]
    return found[-1] if found else None


async def takeaway(world: World) -> LeanCoffeeTakeaway:
    async with world.hearth.deps.sessionmaker() as session:
        row = await session.scalar(select(LeanCoffeeTakeaway))
        assert row is not None
        return row


async def test_an_action_is_reminded_on_its_due_date_and_done_from_the_dm(world: World) -> None:
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    await lean_coffee_with_an_action(world)

    # Not before the due date; on it, at 09:00 (no rota schedule here, so UTC), once.
    await world.advance(REMIND - START - timedelta(minutes=1))
    assert reminders(world.slack, Seed.ALICE) == []
    await world.advance(timedelta(minutes=1))
    [dm] = reminders(world.slack, Seed.ALICE)
    assert "Style Lean Coffee" in dm.readable_text and "Mark as done" in dm.buttons
    assert "Write up the &lt;style&gt; &amp; tone guide" in str(dm.blocks)
    assert await world.hearth.scheduler.run_due() == 0
    await world.advance(timedelta(hours=2))
    assert len(reminders(world.slack, Seed.ALICE)) == 1
    assert reminders(world.slack, Seed.BOB) == []

    # The next Lean Coffee starts with the open action in its thread; Bob (neither owner,
    # author, facilitator nor lead) may not mark it done.
    await start_session(world, **{"Name": "Next Lean Coffee"})
    await world.settle()
    note = open_actions_note(world)
    assert note is not None and "Mark as done" in note.buttons
    assert "@alice" in note.readable_text
    result = await bob.click(note, "Mark as done")
    assert result.ok, result
    notes = [m.readable_text for m in bob.thread(CHANNEL, board(world).ts) if m.ephemeral]
    notes += private_notes(world, Seed.BOB)
    assert any("Only @alice" in n for n in notes), notes
    assert (await takeaway(world)).done_at is None

    # Alice marks it done from her reminder: the button becomes "Done ✓".
    result = await alice.click(dm, "Mark as done")
    assert result.ok, result
    [dm_now] = reminders(world.slack, Seed.ALICE)
    assert "Mark as done" not in dm_now.buttons and "Done ✓" in dm_now.readable_text
    row = await takeaway(world)
    assert row.done_at == world.clock.now() and row.done_by_id == Seed.ALICE
    # A second click (a client that had not caught up) changes nothing and says so.
    result = await alice.click(dm, "Mark as done", as_seen=True)
    assert result.ok, result
    assert (await takeaway(world)).done_at == row.done_at

    # It no longer shows: not at the start of the next Lean Coffee…
    await alice.click(board(world), "End session")
    await start_session(world, **{"Name": "Third Lean Coffee"})
    await world.settle()
    assert open_actions_note(world) is None
    # …nor on Alice's Home…
    result = await alice.open_home()
    assert result.ok and alice.home is not None
    assert ACTION not in alice.home.readable_text and "No actions for you" in str(alice.home.blocks)
    # …nor in the facilitator's hand-over pack.
    async with world.hearth.deps.sessionmaker.begin() as session:
        community = await community_service.community_for(
            session,
            Actor(team_id=world.slack.state.team.id, user_id=Seed.ALICE),
            CHANNEL,
            world.clock.now(),
        )
        pack = await rota_reminders.handover_pack(session, community)
    assert pack.actions == ()
    assert not world.slack.violations, world.slack.violations


async def test_the_facilitator_marks_done_from_the_next_lean_coffee(world: World) -> None:
    await lean_coffee_with_an_action(world, owner=Seed.BOB)
    await start_session(world, **{"Name": "Next Lean Coffee"})
    await world.settle()
    note = open_actions_note(world)
    assert note is not None and "@bob" in note.readable_text
    # Alice facilitated the Lean Coffee it came from (and recorded it): she may.
    result = await world.slack.user(Seed.ALICE).click(note, "Mark as done")
    assert result.ok, result
    redrawn = open_actions_note(world)
    assert redrawn is not None and "Mark as done" not in redrawn.buttons
    assert "Done ✓ marked done by @alice" in redrawn.readable_text
    # Done before its due date: no reminder goes out.
    await world.advance(REMIND - START + timedelta(hours=1))
    assert reminders(world.slack, Seed.BOB) == []


async def test_done_from_the_home_tab(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await lean_coffee_with_an_action(world)
    await alice.open_home()
    assert alice.home is not None and "Mark as done" in alice.home.buttons
    result = await alice.click(alice.home, "Mark as done")
    assert result.ok, result
    assert alice.home is not None
    assert "is marked as done" in alice.home.readable_text
    assert "Mark as done" not in alice.home.buttons
    assert (await takeaway(world)).done_by_id == Seed.ALICE


async def test_the_reminder_is_sent_once_across_a_restart(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        await lean_coffee_with_an_action(World(slack, first, clock, empty_database))
    clock.set(REMIND + timedelta(hours=1))  # hearth was down at 09:00
    # A failed first attempt is retried after a back-off.
    slack.fail_next("chat.postMessage", error="fatal_error")
    async with running_hearth(slack, empty_database, clock) as second:
        await second.scheduler.run_due()
        assert reminders(slack, Seed.ALICE) == []
        clock.advance(timedelta(seconds=20))
        await second.scheduler.run_due()
        assert len(reminders(slack, Seed.ALICE)) == 1
    async with running_hearth(slack, empty_database, clock) as third:
        await third.scheduler.run_due()
        clock.advance(timedelta(hours=1))
        await third.scheduler.run_due()
        async with third.deps.sessionmaker() as session:
            row = await session.scalar(select(ActionReminder))
            assert row is not None and row.outcome == "sent" and row.attempts == 1
    assert len(reminders(slack, Seed.ALICE)) == 1
