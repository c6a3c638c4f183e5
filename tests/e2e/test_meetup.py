"""/meetup end to end: a time-boxed chat meetup run through the emulator, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from models.meetup import ChatMeetup, ChatMeetupReply
from models.minutes import Minutes
from tests.e2e.conftest import World, running_hearth

CHANNEL = Seed.PRACTICE
PROMPTS = ["What surprised you this month?", "What are you stuck on?", "What will you try next?"]


async def start_meetup(world: World, user: str = Seed.ALICE, **fields: object) -> None:
    person = world.slack.user(user)
    result = await person.run_command("/meetup", channel=CHANNEL)
    assert result.ok
    assert person.view is not None and person.view.title == "Start a chat meetup"
    await person.submit({"Prompts": "\n".join(PROMPTS), **fields})
    assert person.view is None, person.view and person.view.errors


def bot_messages(world: World) -> list[SeenMessage]:
    return [
        m for m in world.slack.user(Seed.ALICE).messages(CHANNEL) if m.from_bot and not m.ephemeral
    ]


def opening(world: World) -> SeenMessage:
    found = [m for m in bot_messages(world) if m.readable_text.startswith("Chat meetup\n")]
    assert found, "no opening message"
    return found[0]


def prompt_messages(world: World) -> list[SeenMessage]:
    return [m for m in bot_messages(world) if "Reply in this thread" in m.readable_text]


def minutes_message(world: World) -> SeenMessage:
    found = [m for m in bot_messages(world) if "Minutes:" in m.readable_text]
    assert len(found) == 1
    return found[0]


def thread_texts(world: World, prompt: SeenMessage) -> list[str]:
    return [m.readable_text for m in world.slack.user(Seed.ALICE).thread(CHANNEL, prompt.ts)]


def notes_for(world: World, user: str, channel: str = CHANNEL) -> list[str]:
    return [m.readable_text for m in world.slack.user(user).messages(channel) if m.ephemeral]


async def extend(world: World, user: str, by: str) -> None:
    """`user` extends the running meetup by `by` ("15 minutes") through "Extend…"."""
    person = world.slack.user(user)
    await person.click(opening(world), "Extend…")
    assert person.view is not None and person.view.title == "Extend the meetup"
    await person.submit({"How much longer?": by})
    assert person.view is None, person.view and person.view.errors


async def test_a_meetup_of_three_prompts_runs_from_start_to_minutes(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "30", "Minutes between prompts": "10"})

    opening_text = opening(world).readable_text
    assert "until" in opening_text and "(off the record)" in opening_text
    assert opening(world).buttons == [
        "Post anonymously",
        "Add a takeaway or action",
        "Extend…",
        "End now",
    ]
    assert [m.readable_text for m in prompt_messages(world)] == [
        f"*Prompt 1 of 3:* {PROMPTS[0]}\nReply in this thread."
    ]

    alice, bob, carol = (world.slack.user(u) for u in (Seed.ALICE, Seed.BOB, Seed.CAROL))
    first = prompt_messages(world)[0]
    await bob.say(CHANNEL, "A short survey told us more than the long one", thread_ts=first.ts)
    await carol.say(CHANNEL, "(off the record) our budget got cut", thread_ts=first.ts)
    await bob.say(CHANNEL, "Also: people read the summaries", thread_ts=first.ts)
    await alice.say(CHANNEL, "Not in a thread, not counted")

    await world.advance(timedelta(minutes=10))
    assert len(prompt_messages(world)) == 2
    await world.advance(timedelta(minutes=5))  # half-time
    for prompt in prompt_messages(world):
        assert any("Halfway there" in t for t in thread_texts(world, prompt))
    await world.advance(timedelta(minutes=5))
    released = prompt_messages(world)
    assert [m.readable_text.split("\n")[0] for m in released] == [
        f"*Prompt {n} of 3:* {text}" for n, text in enumerate(PROMPTS, start=1)
    ]
    await alice.say(CHANNEL, "Pairing on research plans", thread_ts=released[2].ts)
    await world.advance(timedelta(minutes=5))  # five minutes before the end
    assert all(any("5 minutes left" in t for t in thread_texts(world, p)) for p in released)
    assert not bot_messages(world)[-1].readable_text.startswith("Minutes")

    await world.advance(timedelta(minutes=5))  # time's up
    for prompt in released:
        assert "Time's up on this thread" in thread_texts(world, prompt)[-1]
    await bob.say(CHANNEL, "Posted after the close", thread_ts=released[1].ts)

    minutes = minutes_message(world)
    text = minutes.readable_text
    assert "Participants" in text
    assert "Bob Baker: 2 replies" in text or "@bob: 2 replies" in text
    assert "1 reply" in text  # Carol's off-the-record reply still counts as airtime
    assert "A short survey told us more than the long one" in text
    assert "Pairing on research plans" in text
    assert "our budget got cut" not in text
    assert "1 reply off the record" in text
    assert "Posted after the close" not in text
    assert "Not in a thread" not in text
    assert minutes.buttons == ["Add takeaways and actions"]
    assert "ended" in opening(world).readable_text and not opening(world).buttons

    async with world.hearth.deps.sessionmaker() as session:
        stored = await session.scalar(select(Minutes).where(Minutes.source == "meetup"))
        assert stored is not None and stored.channel_id == CHANNEL
        airtime = {a["user_id"]: a["replies"] for a in stored.body["airtime"]}
        assert airtime == {Seed.BOB: 2, Seed.CAROL: 1, Seed.ALICE: 1}
        all_text = str(stored.body)
        assert "our budget got cut" not in all_text
        assert "Posted after the close" not in all_text

    # Takeaways and actions go into the stored minutes and the message.
    await carol.click(minutes_message(world), "Add takeaways and actions")
    await carol.submit({"Takeaway or action": "Share the short survey template"})
    assert carol.view is None
    assert "Share the short survey template" in minutes_message(world).readable_text

    # The archive lists it.
    await alice.run_command("/minutes", channel=CHANNEL)
    assert "Chat meetup" in notes_for(world, Seed.ALICE)[-1]


async def test_only_the_facilitator_or_a_lead_extends_or_ends(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "20"})
    bob, carol = (world.slack.user(u) for u in (Seed.BOB, Seed.CAROL))

    await bob.click(opening(world), "Extend…")
    assert bob.view is None  # refused before being asked how much longer
    await bob.click(opening(world), "End now")
    assert any("Only the facilitator" in n for n in notes_for(world, Seed.BOB))
    assert "Minutes:" not in " ".join(m.readable_text for m in bot_messages(world))

    await extend(world, Seed.ALICE, "10 minutes")
    # The close moved with the extension: nothing closes at the old end.
    await world.advance(timedelta(minutes=20))
    assert not [m for m in bot_messages(world) if "Minutes:" in m.readable_text]
    assert any("now runs until" in t for t in thread_texts(world, opening(world)))

    # A workspace admin may end it early.
    await carol.click(opening(world), "End now")
    minutes_message(world)
    await world.advance(timedelta(minutes=30))
    assert len([m for m in bot_messages(world) if "Minutes:" in m.readable_text]) == 1


async def test_an_anonymous_post_stores_no_author(world: World) -> None:
    await start_meetup(world)
    bob = world.slack.user(Seed.BOB)
    await bob.click(opening(world), "Post anonymously")
    assert bob.view is not None and bob.view.title == "Post anonymously"
    await bob.submit(
        {"Which prompt?": f"1. {PROMPTS[0]}", "Your reply": "I don't feel heard in planning"}
    )
    assert bob.view is None
    first = prompt_messages(world)[0]
    assert any("I don't feel heard in planning" in t for t in thread_texts(world, first))
    # The post is the bot's, and nothing stored names Bob.
    post = [m for m in world.slack.user(Seed.ALICE).thread(CHANNEL, first.ts) if m.from_bot][-1]
    assert post.user != Seed.BOB
    async with world.hearth.deps.sessionmaker() as session:
        reply = await session.scalar(select(ChatMeetupReply))
        assert reply is not None and reply.author_id is None
    await world.slack.user(Seed.ALICE).click(opening(world), "End now")
    text = minutes_message(world).readable_text
    assert "Anonymous" in text and "I don't feel heard in planning" in text
    async with world.hearth.deps.sessionmaker() as session:
        stored = await session.scalar(select(Minutes).where(Minutes.source == "meetup"))
        assert stored is not None and Seed.BOB not in str(stored.body)


async def test_bad_input_gets_clear_answers(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/meetup", channel=CHANNEL)
    await alice.submit({"Prompts": "   \n  ", "Length in minutes": "2"})
    assert alice.view is not None
    assert "at least one prompt" in (alice.view.error_for("Prompts") or "")
    assert "between 5 and 480" in (alice.view.error_for("Length in minutes") or "")
    await alice.submit(
        {"Prompts": "One\nTwo\nThree", "Length in minutes": "10", "Minutes between prompts": "5"}
    )
    assert "after the meetup ends" in (alice.view.error_for("Minutes between prompts") or "")
    await alice.close_view()

    await start_meetup(world)
    result = await alice.run_command("/meetup", channel=CHANNEL)
    assert result.ok and alice.view is None
    assert "already running" in notes_for(world, Seed.ALICE)[-1]

    await alice.run_command("/meetup", channel=Seed.RANDOM)
    assert "/invite @hearth" in notes_for(world, Seed.ALICE, Seed.RANDOM)[-1]
    await alice.run_command("/meetup", channel=Seed.ALICE_DM)
    assert "in a channel" in notes_for(world, Seed.ALICE, Seed.ALICE_DM)[-1]


async def test_a_nudge_happens_once_across_two_processes_and_a_restart(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    def nudges() -> int:
        return sum(
            1 for c in slack.calls_to("chat.postMessage") if "Halfway" in str(c.params.get("text"))
        )

    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        world = World(slack, one, clock, empty_database)
        await start_meetup(world, **{"Prompts": "Only one prompt", "Length in minutes": "30"})
        clock.advance(timedelta(minutes=15))
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
        assert nudges() == 1
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as three:
        await asyncio.sleep(0.3)
        await three.settle()
        async with three.deps.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Minutes)) == 0
    assert nudges() == 1


# --- the facilitator is a person ------------------------------------------------------------


async def test_a_bot_cannot_be_picked_to_facilitate(world: World) -> None:
    world.slack.state.add_user("U0ROBOT", "robot", is_bot=True, bot_id="B0ROBOT")
    world.slack.state.add_user("U0GONE", "gone", deleted=True)
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/meetup", channel=CHANNEL)
    for chosen in (world.slack.state.bot_user_id, "U0ROBOT", "U0GONE"):
        result = await alice.submit({"Prompts": "\n".join(PROMPTS), "Facilitator": chosen})
        assert result.outcome == "errors"
        assert alice.view is not None
        assert "bots and deactivated accounts" in (alice.view.error_for("Facilitator") or "")
        assert not bot_messages(world)  # nothing started
    await alice.submit({"Prompts": "\n".join(PROMPTS), "Facilitator": Seed.BOB})
    assert alice.view is None
    assert "Facilitated by" in opening(world).readable_text
    async with world.hearth.deps.sessionmaker() as session:
        meetup = await session.scalar(select(ChatMeetup))
        assert meetup is not None and meetup.facilitator_id == Seed.BOB


# --- extending by a chosen time ---------------------------------------------------------------


def thread_notes(world: World, fragment: str) -> int:
    """How many of the meetup's thread notes contain `fragment` (one prompt's thread)."""
    first = prompt_messages(world)[0]
    return sum(fragment in t for t in thread_texts(world, first))


async def test_the_facilitator_chooses_how_much_longer_and_the_timers_follow(
    world: World,
) -> None:
    await start_meetup(world, **{"Length in minutes": "30"})
    assert thread_notes(world, "Halfway") == 0

    await extend(world, Seed.ALICE, "30 minutes")
    assert any("30 more minutes" in t for t in thread_texts(world, opening(world)))
    assert "for 1 h" in opening(world).readable_text  # the opening message is redrawn
    # Half-time moved from 15 to 30 minutes in; the final nudge to 55; the close to 60.
    await world.advance(timedelta(minutes=16))
    assert thread_notes(world, "Halfway") == 0
    await world.advance(timedelta(minutes=14))
    assert thread_notes(world, "Halfway") == 1
    await world.advance(timedelta(minutes=25))
    assert thread_notes(world, "5 minutes left") == 1

    # A minute later, five more: the final nudge comes again before the new end.
    await world.advance(timedelta(minutes=1))
    await extend(world, Seed.ALICE, "5 minutes")
    await world.advance(timedelta(minutes=3))  # 59 min in: still on
    assert not [m for m in bot_messages(world) if "Minutes:" in m.readable_text]
    assert thread_notes(world, "5 minutes left") == 1
    await world.advance(timedelta(minutes=1))  # 60: five minutes before the new end
    assert thread_notes(world, "5 minutes left") == 2
    await world.advance(timedelta(minutes=5))
    minutes_message(world)
    assert thread_notes(world, "Halfway") == 1


async def test_extending_past_eight_hours_is_refused_clearly(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "470"})
    alice = world.slack.user(Seed.ALICE)
    await alice.click(opening(world), "Extend…")
    result = await alice.submit({"How much longer?": "15 minutes"})
    assert result.outcome == "errors" and alice.view is not None
    error = alice.view.error_for("How much longer?") or ""
    assert "480 minutes" in error and "10 more minutes at most" in error
    await alice.submit({"How much longer?": "10 minutes"})
    assert alice.view is None
    async with world.hearth.deps.sessionmaker() as session:
        meetup = await session.scalar(select(ChatMeetup))
        assert meetup is not None and meetup.length_minutes == 480

    # At the limit, "Extend…" says so instead of asking.
    await alice.click(opening(world), "Extend…")
    assert alice.view is None
    assert "can't be extended" in notes_for(world, Seed.ALICE)[-1]
    await world.advance(timedelta(minutes=479))
    assert not [m for m in bot_messages(world) if "Minutes:" in m.readable_text]
    await world.advance(timedelta(minutes=1))
    minutes_message(world)


# --- takeaways while the meetup runs ---------------------------------------------------------


async def test_takeaways_and_actions_added_during_the_meetup_are_in_its_minutes(
    world: World,
) -> None:
    await start_meetup(world, **{"Length in minutes": "30"})
    bob, carol = world.slack.user(Seed.BOB), world.slack.user(Seed.CAROL)

    await bob.click(opening(world), "Add a takeaway or action")
    assert bob.view is not None and bob.view.title == "Takeaway or action"
    await bob.submit({"Takeaway or action": "Short surveys get <!channel> more answers"})
    assert bob.view is None
    assert "in the minutes when the meetup ends" in notes_for(world, Seed.BOB)[-1]

    await carol.click(opening(world), "Add a takeaway or action")
    await carol.submit(
        {
            "Takeaway or action": "Share the survey template",
            "Who will do it?": Seed.BOB,
            "Due date": "2026-12-01",
        }
    )
    assert carol.view is None
    # Nothing is posted in the channel for it until the close.
    assert not [m for m in bot_messages(world) if "Minutes:" in m.readable_text]

    await world.advance(timedelta(minutes=30))
    text = minutes_message(world).readable_text
    assert "Takeaways and actions" in text
    assert "Short surveys get <!channel> more answers" in text
    assert "Share the survey template (action for" in text and "01 Dec 2026" in text
    assert "<!channel>" not in minutes_message(world).all_text  # escaped, pings nobody

    # After the close, more go in through the minutes' own button, after the first ones.
    await bob.click(minutes_message(world), "Add takeaways and actions")
    await bob.submit({"Takeaway or action": "Try it next month"})
    text = minutes_message(world).readable_text
    assert text.index("Short surveys") < text.index("Share the survey") < text.index("Try it")
    async with world.hearth.deps.sessionmaker() as session:
        stored = await session.scalar(select(Minutes).where(Minutes.source == "meetup"))
        assert stored is not None
        assert [t["text"] for t in stored.body["takeaways"]] == [
            "Short surveys get <!channel> more answers",
            "Share the survey template",
            "Try it next month",
        ]
        assert stored.body["takeaways"][1]["owner_id"] == Seed.BOB


async def test_the_half_time_nudge_says_halfway_even_five_minutes_before_the_end(
    world: World,
) -> None:
    """In a ten-minute meetup the midpoint is also five minutes before the end: with only the
    half-time nudge ticked, it still reads as the half-time nudge."""
    await start_meetup(
        world,
        **{
            "Prompts": "Only one prompt",
            "Length in minutes": "10",
            "Nudges in the threads": ["At half-time"],
        },
    )
    await world.advance(timedelta(minutes=5))

    assert thread_notes(world, "Halfway there: about 5 min left") == 1
    assert thread_notes(world, "Anything you still want to add?") == 0
