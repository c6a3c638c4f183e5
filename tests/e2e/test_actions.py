"""Actions end to end: an action with a due date from a Lean Coffee or a chat meetup, the
owner's reminder on the day, "Mark as done", and what no longer shows once it is done; who
may mark it done; the reminder sent once across two runs and a restart; the facilitator's
hand-over pack; buttons posted before actions had several sources; other workspaces' actions
out of reach. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from bot.ids import ActionsAction
from bot.services import community as community_service
from bot.services import rota, rota_reminders
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from bot.state import ActionRef
from models.actions import ActionReminder
from models.community import Community
from models.health_check import HealthCheck
from models.health_check_actions import HealthCheckAction
from models.lean_coffee import LeanCoffeeTakeaway
from models.meetup import ChatMeetup, ChatMeetupPrompt, ChatMeetupTakeaway
from models.outbox import OutboxMessage
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
            assert row is not None and (row.outcome, row.sent_to) == ("sent", Seed.ALICE)
            owed = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.key.startswith("actions.reminder:"))
            )
            assert owed is not None and (owed.state, owed.attempts) == ("sent", 2)
            assert row.message_ts == owed.sent_ts
    assert len(reminders(slack, Seed.ALICE)) == 1


# --- chat meetups ---------------------------------------------------------------------------

PROMPT = "What surprised you this month?"
MEETUP_TITLE = f"Chat meetup: {PROMPT}"
MEETUP_ACTION = "Share the <survey> & template"
MEETUP_ACTION_SENT = "Share the &lt;survey&gt; &amp; template"


def bot_posts(world: World) -> list[SeenMessage]:
    return [
        m for m in world.slack.user(Seed.ALICE).messages(CHANNEL) if m.from_bot and not m.ephemeral
    ]


async def meetup_with_an_action(
    world: World, owner: str = Seed.ALICE, author: str = Seed.BOB
) -> None:
    """Alice runs a chat meetup and ends it; `author` adds an action for `owner`."""
    alice = world.slack.user(Seed.ALICE)
    result = await alice.run_command("/meetup", channel=CHANNEL)
    assert result.ok and alice.view is not None, result
    await alice.submit({"Prompts": PROMPT})
    assert alice.view is None, alice.view and alice.view.errors
    [opening] = [m for m in bot_posts(world) if "End now" in m.buttons]
    assert (await alice.click(opening, "End now")).ok
    [minutes] = [m for m in bot_posts(world) if "Add takeaways and actions" in m.buttons]
    person = world.slack.user(author)
    assert (await person.click(minutes, "Add takeaways and actions")).ok
    result = await person.submit(
        {
            "Takeaway or action": MEETUP_ACTION,
            "Who will do it?": owner,
            "Due date": DUE.isoformat(),
        }
    )
    assert result.outcome == "close", person.view and person.view.errors
    await world.settle()


def mark_done_refs(message: SeenMessage) -> list[ActionRef]:
    return [
        ActionRef.decode(block["accessory"]["value"])
        for block in message.blocks
        if (block.get("accessory") or {}).get("action_id") == ActionsAction.MARK_DONE
    ]


async def meetup_takeaway(world: World) -> ChatMeetupTakeaway:
    async with world.hearth.deps.sessionmaker() as session:
        row = await session.scalar(select(ChatMeetupTakeaway))
        assert row is not None
        return row


def add_dave_to_the_channel(world: World) -> None:
    """Dave: in the channel, but neither owner, author, facilitator nor lead."""
    world.slack.state.channels[CHANNEL].members.add(Seed.DAVE)


async def test_a_meetup_action_is_on_the_home_reminded_and_done_from_the_dm(world: World) -> None:
    alice, dave = world.slack.user(Seed.ALICE), world.slack.user(Seed.DAVE)
    add_dave_to_the_channel(world)
    await meetup_with_an_action(world)
    row = await meetup_takeaway(world)

    # It is on Alice's Home, named by the meetup, with a button that names its source.
    result = await alice.open_home()
    assert result.ok and alice.home is not None
    assert MEETUP_ACTION_SENT in str(alice.home.blocks) and MEETUP_TITLE in alice.home.readable_text
    assert mark_done_refs(alice.home) == [ActionRef(a=row.id, s="meetup")]

    # Reminded on the due date at 09:00, once.
    await world.advance(REMIND - START - timedelta(minutes=1))
    assert reminders(world.slack, Seed.ALICE) == []
    await world.advance(timedelta(minutes=1))
    [dm] = reminders(world.slack, Seed.ALICE)
    assert MEETUP_TITLE in dm.readable_text and MEETUP_ACTION_SENT in str(dm.blocks)
    assert mark_done_refs(dm) == [ActionRef(a=row.id, s="meetup")]
    await world.advance(timedelta(hours=1))
    assert len(reminders(world.slack, Seed.ALICE)) == 1

    # The next Lean Coffee starts with it; Dave may not mark it done.
    await start_session(world, **{"Name": "Next Lean Coffee"})
    await world.settle()
    note = open_actions_note(world)
    assert note is not None and MEETUP_ACTION_SENT in str(note.blocks)
    assert (await dave.click(note, "Mark as done")).ok
    notes = [m.readable_text for m in dave.thread(CHANNEL, board(world).ts) if m.ephemeral]
    notes += private_notes(world, Seed.DAVE)
    assert any("Only @alice" in n for n in notes), notes
    assert (await meetup_takeaway(world)).done_at is None

    # Alice marks it done from her reminder.
    assert (await alice.click(dm, "Mark as done")).ok
    [dm_now] = reminders(world.slack, Seed.ALICE)
    assert "Mark as done" not in dm_now.buttons and "Done ✓" in dm_now.readable_text
    done = await meetup_takeaway(world)
    assert done.done_at == world.clock.now() and done.done_by_id == Seed.ALICE
    await alice.open_home()
    assert alice.home is not None and MEETUP_ACTION_SENT not in str(alice.home.blocks)
    assert not world.slack.violations, world.slack.violations


async def test_a_button_posted_before_actions_had_sources_still_works(world: World) -> None:
    """Buttons already in Slack carry `{"a": id}` only: those were Lean Coffee actions."""
    alice = world.slack.user(Seed.ALICE)
    await lean_coffee_with_an_action(world)
    await meetup_with_an_action(world)  # a meetup action too, with the same id
    row = await takeaway(world)
    assert (await meetup_takeaway(world)).id == row.id
    old_value = f'{{"a":{row.id}}}'
    await world.hearth.deps.client.chat_postMessage(
        channel=Seed.ALICE,
        text="An action you took on is due today",
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "• Write up the guide"},
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Mark as done"},
                    "action_id": ActionsAction.MARK_DONE,
                    "value": old_value,
                },
            }
        ],
    )
    [old] = [m for m in alice.dm() if "Write up the guide" in m.readable_text]
    assert (await alice.click(old, "Mark as done")).ok
    assert (await takeaway(world)).done_by_id == Seed.ALICE
    assert (await meetup_takeaway(world)).done_at is None  # the Lean Coffee one, not this
    [redrawn] = [m for m in alice.dm() if "Write up the guide" in m.readable_text]
    assert "Done ✓" in redrawn.readable_text and "Mark as done" not in redrawn.buttons


# --- other workspaces -----------------------------------------------------------------------

OTHER_TEAM = "T0ELSEWHERE"


async def another_workspaces_actions(world: World) -> tuple[int, int]:
    """A meetup action and a health-check action in another workspace, in a channel with the
    same id as ours and owned by a person with Alice's id."""
    async with world.hearth.deps.sessionmaker.begin() as session:
        community = Community(
            team_id=OTHER_TEAM, channel_id=CHANNEL, created_by_id="U9", created_at=START
        )
        meetup = ChatMeetup(
            team_id=OTHER_TEAM,
            channel_id=CHANNEL,
            facilitator_id="U9",
            started_by_id="U9",
            status="ended",
            length_minutes=30,
            started_at=START,
            ends_at=START,
            ended_at=START,
        )
        session.add_all([community, meetup])
        await session.flush()
        session.add(
            ChatMeetupPrompt(meetup_id=meetup.id, position=0, text="Elsewhere", release_at=START)
        )
        takeaway = ChatMeetupTakeaway(
            meetup_id=meetup.id,
            author_id="U9",
            text="Elsewhere meetup action",
            owner_id=Seed.ALICE,
            due_date=DUE,
            created_at=START,
        )
        check = HealthCheck(
            team_id=OTHER_TEAM,
            community_id=community.id,
            setup_revision=1,
            questions=[],
            scale=[],
            anonymous=False,
            min_answers=3,
            reminders=0,
            started_by_id="U9",
            opened_at=START,
            closes_at=START,
            closed_at=START,
        )
        session.add_all([takeaway, check])
        await session.flush()
        action = HealthCheckAction(
            team_id=OTHER_TEAM,
            check_id=check.id,
            author_id="U9",
            text="Elsewhere check action",
            owner_id=Seed.ALICE,
            due_date=DUE,
            created_at=START,
        )
        session.add(action)
        await session.flush()
        return takeaway.id, action.id


async def test_another_workspaces_actions_are_out_of_reach(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    meetup_id, check_id = await another_workspaces_actions(world)

    await alice.open_home()
    assert alice.home is not None
    assert "Elsewhere" not in alice.home.readable_text
    assert "Mark as done" not in alice.home.buttons  # the empty Home: nothing of hers here

    # A button naming them (as if forged) finds nothing in this workspace.
    for ref in (ActionRef(a=meetup_id, s="meetup"), ActionRef(a=check_id, s="health_check")):
        await world.hearth.deps.client.chat_postMessage(
            channel=Seed.ALICE,
            text="Elsewhere",
            blocks=[
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"• Elsewhere {ref.s}"},
                    "accessory": {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Mark as done"},
                        "action_id": ActionsAction.MARK_DONE,
                        "value": ref.encode(),
                    },
                }
            ],
        )
        [forged] = [m for m in alice.dm() if f"Elsewhere {ref.s}" in m.readable_text]
        assert (await alice.click(forged, "Mark as done")).ok
    async with world.hearth.deps.sessionmaker() as session:
        meetup_row = await session.get(ChatMeetupTakeaway, meetup_id)
        check_row = await session.get(HealthCheckAction, check_id)
        assert meetup_row is not None and meetup_row.done_at is None
        assert check_row is not None and check_row.done_at is None
    said = " ".join(m.readable_text for m in alice.dm())
    assert said.count("That action no longer exists") == 2, said


# --- the facilitator's hand-over pack -------------------------------------------------------

FIRST = datetime(2026, 11, 26, 18, 0, tzinfo=START.tzinfo)  # Thursday 18:00 London
PACK_REMINDER = FIRST - timedelta(days=2)


async def set_up_rota(world: World) -> None:
    """#practice meets on Thursdays at 18:00 London time; Alice (its lead) is first to
    facilitate, then Bob."""
    team = world.slack.state.team.id
    now = world.clock.now()
    schedule = rota.ScheduleInput(
        frequency=Frequency.WEEKLY,
        weekday=3,
        at=time(18, 0),
        time_zone="Europe/London",
        starts_on=date(2026, 11, 23),
    )
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.community_for(s, Actor(team, Seed.ALICE), CHANNEL, now)
        await rota.set_schedule(s, Actor(team, Seed.ALICE), community, schedule, now)
        for i, person in enumerate((Seed.ALICE, Seed.BOB)):
            await rota.join(s, Actor(team, person), community, now + timedelta(seconds=i))
    await world.hearth.scheduler.changed()


def pack_reminders(world: World, user_id: str) -> list[SeenMessage]:
    return [m for m in world.slack.user(user_id).dm() if "Your hand-over pack" in m.all_text]


async def test_the_hand_over_pack_lists_open_actions_to_mark_done(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await set_up_rota(world)
    await lean_coffee_with_an_action(world, owner=Seed.BOB)
    await meetup_with_an_action(world, owner=Seed.CAROL)
    lean, meetup = await takeaway(world), await meetup_takeaway(world)

    await world.advance(PACK_REMINDER - START)
    [pack] = pack_reminders(world, Seed.ALICE)
    text = pack.readable_text
    # Last time was the chat meetup: its prompt, takeaways and actions.
    assert MEETUP_TITLE in text and "1 prompt discussed: “What surprised you this month?”" in text
    assert "1 takeaway, of which 1 action" in text
    # Both open actions, newest first, each with its own button.
    assert mark_done_refs(pack) == [
        ActionRef(a=meetup.id, s="meetup"),
        ActionRef(a=lean.id, s="lean_coffee"),
    ]
    assert "Write up the &lt;style&gt; &amp; tone guide (<@U0BOB>, due Wed 25 Nov 2026" in (
        pack.all_text
    )
    assert f"{MEETUP_ACTION_SENT} (<@U0CAROL>" in pack.all_text

    # Alice leads the community, so she may mark Carol's action done; the DM is redrawn.
    assert (await alice.click(pack, "Mark as done", near="survey")).ok
    [redrawn] = pack_reminders(world, Seed.ALICE)
    assert mark_done_refs(redrawn) == [ActionRef(a=lean.id, s="lean_coffee")]
    assert "Done ✓" in redrawn.readable_text
    assert (await meetup_takeaway(world)).done_by_id == Seed.ALICE
    assert (await takeaway(world)).done_at is None
    assert not world.slack.violations, world.slack.violations
