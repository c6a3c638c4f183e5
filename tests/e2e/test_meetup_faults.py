"""A chat meetup (and an action's reminder) while Slack has a bad day: every message hearth owes
(a prompt, a nudge, the closing notes, the minutes, a due-date DM) is posted exactly once,
late rather than lost and never twice, whether Slack answers 500 several times running, 429
with `Retry-After`, or 504 after it actually posted; a DM Slack can never deliver is given
up, visibly, without holding anything else up; and hearth restarting mid-meetup posts
nothing twice. A prompt's replies are heard in its thread once Slack has taken it; replies
posted while hearth did not yet know where it landed are read back at the close. On SQLite
and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.services import outbox
from models.actions import ActionReminder
from models.meetup import ChatMeetupTakeaway
from models.outbox import OutboxMessage
from tests.e2e.conftest import START, World, running_hearth
from tests.e2e.test_actions import (
    DUE,
    REMIND,
    lean_coffee_with_an_action,
    meetup_with_an_action,
    reminders,
)
from tests.e2e.test_meetup import (
    CHANNEL,
    PROMPTS,
    minutes_message,
    opening,
    start_meetup,
)

PACED = {"Length in minutes": "30", "Minutes between prompts": "10"}
MAYBE_MISSING = "A few replies may be missing"


def posts(slack: SlackEmulator, containing: str) -> list[str]:
    """The ts of every message hearth posted in the channel or its threads containing it."""
    return [
        m.ts
        for m in slack.state.messages_in(CHANNEL, include_replies=True)
        if m.bot_id and containing in m.text
    ]


def prompt_ts(slack: SlackEmulator, number: int) -> str:
    [ts] = posts(slack, f"Prompt {number} of 3")
    return ts


def in_thread(slack: SlackEmulator, ts: str, containing: str) -> int:
    return sum(1 for m in slack.state.thread(CHANNEL, ts) if m.bot_id and containing in m.text)


async def retry(world: World, attempts: int = 1) -> None:
    """Let the outbox's back-off pass `attempts` times."""
    for attempt in range(1, attempts + 1):
        await world.advance(outbox.retry_delay(attempt))


async def owed(world: World, key: str) -> OutboxMessage:
    async with world.hearth.deps.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        assert row is not None, key
        return row


# --- a run of 500s ------------------------------------------------------------------------------


async def test_a_prompt_slack_fails_to_take_three_times_comes_out_once_late(
    world: World,
) -> None:
    await start_meetup(world, **PACED)
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.advance(timedelta(minutes=10))
    assert posts(world.slack, "Prompt 2 of 3") == []

    await retry(world, 2)
    assert posts(world.slack, "Prompt 2 of 3") == [], "still backing off"
    await world.advance(outbox.retry_delay(3))  # the third retry: Slack takes it
    second = prompt_ts(world.slack, 2)
    row = await owed(world, "meetup.prompt:2")
    assert (row.state, row.attempts, row.sent_ts) == ("sent", 4, second)

    # Its thread is where replies are heard, from now on.
    await world.slack.user(Seed.BOB).say(CHANNEL, "Heard in the late prompt", thread_ts=second)
    await world.advance(timedelta(minutes=20))
    assert len(posts(world.slack, "Prompt 2 of 3")) == 1
    assert "Heard in the late prompt" in minutes_message(world).readable_text


async def test_a_nudge_slack_fails_to_take_is_posted_once_in_each_thread(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "30"})
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.advance(timedelta(minutes=15))
    assert posts(world.slack, "Halfway") == []
    await retry(world, 3)
    for number in (1, 2, 3):
        assert in_thread(world.slack, prompt_ts(world.slack, number), "Halfway") == 1
    await world.advance(timedelta(minutes=15))
    assert len(posts(world.slack, "Halfway")) == 3


async def test_the_minutes_and_closing_notes_survive_a_run_of_500s(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "30"})
    first = prompt_ts(world.slack, 1)
    await world.slack.user(Seed.BOB).say(CHANNEL, "Short surveys work", thread_ts=first)
    world.clock.advance(timedelta(minutes=3))

    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.slack.user(Seed.ALICE).click(opening(world), "End now")
    assert posts(world.slack, "Minutes:") == []
    assert "ended" in opening(world).readable_text  # redrawn at once (an update, not owed)
    await retry(world, 3)

    assert "Short surveys work" in minutes_message(world).readable_text
    for number in (1, 2, 3):
        assert in_thread(world.slack, prompt_ts(world.slack, number), "Time's up") == 1
    await world.advance(timedelta(hours=1))
    assert len(posts(world.slack, "Minutes:")) == 1


# --- a 504 after Slack posted -------------------------------------------------------------------


async def test_a_prompt_slack_posts_but_answers_504_for_is_posted_once_and_heard(
    world: World,
) -> None:
    slack = world.slack
    await start_meetup(world, **PACED)
    slack.fail_next("chat.postMessage", status=504, after_success=True)
    await world.advance(timedelta(minutes=10))
    # In the channel, but hearth does not know where yet: a reply there is not heard live…
    second = prompt_ts(slack, 2)
    assert (await owed(world, "meetup.prompt:2")).state == "pending"
    await slack.user(Seed.BOB).say(CHANNEL, "Said before hearth knew", thread_ts=second)

    await retry(world)  # looked for before being sent again: found
    row = await owed(world, "meetup.prompt:2")
    assert (row.state, row.sent_ts) == ("sent", second)
    assert slack.calls_to("conversations.history"), "it was looked for"
    await slack.user(Seed.CAROL).say(CHANNEL, "Said once hearth knew", thread_ts=second)

    # …and is read back at the close, with the one heard live, each once.
    await world.advance(timedelta(minutes=20))
    assert len(posts(slack, "Prompt 2 of 3")) == 1
    text = minutes_message(world).readable_text
    assert "Said before hearth knew" in text and "Said once hearth knew" in text
    assert MAYBE_MISSING not in text
    assert in_thread(slack, second, "Time's up") == 1


async def test_a_nudge_slack_posts_but_answers_504_for_is_posted_once(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "30"})
    world.slack.fail_next("chat.postMessage", status=504, after_success=True)
    await world.advance(timedelta(minutes=15))
    await retry(world)
    for number in (1, 2, 3):
        assert in_thread(world.slack, prompt_ts(world.slack, number), "Halfway") == 1
    assert world.slack.calls_to("conversations.replies"), "looked for in its thread"


async def test_the_minutes_slack_posts_but_answers_504_for_are_posted_once(
    world: World,
) -> None:
    await start_meetup(world, **{"Prompts": "Only one prompt", "Length in minutes": "30"})
    [prompt] = posts(world.slack, "Only one prompt")
    # The closing note, then the minutes: Slack posts each and answers 504.
    world.slack.fail_next("chat.postMessage", status=504, after_success=True, times=2)
    await world.advance(timedelta(minutes=30))
    await retry(world, 3)
    assert in_thread(world.slack, prompt, "Time's up") == 1
    minutes_message(world)  # exactly one
    row = await owed(world, "meetup.minutes:1:0")
    assert row.state == "sent" and row.sent_ts == posts(world.slack, "Minutes:")[0]


# --- a 429 with Retry-After ---------------------------------------------------------------------


async def test_a_prompt_slack_rate_limits_waits_as_long_as_slack_asks(world: World) -> None:
    await start_meetup(world, **PACED)
    world.slack.fail_next("chat.postMessage", status=429, retry_after=30)
    await world.advance(timedelta(minutes=10))
    await world.advance(timedelta(seconds=29))
    assert posts(world.slack, "Prompt 2 of 3") == []
    await world.advance(timedelta(seconds=1))
    assert len(posts(world.slack, "Prompt 2 of 3")) == 1
    assert not world.slack.calls_to("conversations.history"), "a 429 means Slack did not post"


# --- patience: nothing after the end -------------------------------------------------------------


async def test_a_prompt_slack_will_not_take_before_the_end_is_given_up_not_posted_late(
    world: World,
) -> None:
    await start_meetup(world, **{"Length in minutes": "30", "Minutes between prompts": "14"})
    await world.advance(timedelta(minutes=27))
    world.slack.fail_next("chat.postMessage", status=500, times=1000)
    await world.advance(timedelta(minutes=1))  # prompt 3 is owed; Slack is down
    await world.advance(timedelta(minutes=2))  # the end
    world.slack.clear_failures()
    await world.advance(timedelta(minutes=15))

    assert posts(world.slack, "Prompt 3 of 3") == []
    row = await owed(world, "meetup.prompt:3")
    assert row.state == "failed" and row.last_error == "Slack answered HTTP 500"
    # Closing notes in the threads of the two prompts that came out; none under the third.
    assert len(posts(world.slack, "Time's up")) == 2
    text = minutes_message(world).readable_text
    assert PROMPTS[0] in text and PROMPTS[2] not in text


# --- a due-date DM that can never be delivered ---------------------------------------------------


async def test_a_reminder_to_a_deactivated_person_is_given_up_visibly_and_others_go_out(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.jobs.outbox")
    await lean_coffee_with_an_action(world, owner=Seed.CAROL)
    await meetup_with_an_action(world, owner=Seed.ALICE)
    async with world.hearth.deps.sessionmaker.begin() as session:  # Alice's is due a day later
        await session.execute(update(ChatMeetupTakeaway).values(due_date=DUE + timedelta(days=1)))
    await world.hearth.scheduler.changed()

    # Carol's account was deactivated: Slack says so, and hearth does not try again.
    world.slack.fail_next("chat.postMessage", error="user_disabled")
    await world.advance(REMIND - START)
    await world.advance(timedelta(hours=3))
    to_carol = [
        c for c in world.slack.calls_to("chat.postMessage") if c.params["channel"] == Seed.CAROL
    ]
    assert len(to_carol) == 1 and reminders(world.slack, Seed.CAROL) == []
    async with world.hearth.deps.sessionmaker() as session:
        [row] = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.key.startswith("actions.reminder:"))
        )
        assert (row.channel, row.state, row.last_error) == (Seed.CAROL, "failed", "user_disabled")
        carols = await session.scalar(select(ActionReminder))
        assert carols is not None and (carols.outcome, carols.sent_to) == ("failed", Seed.CAROL)
        assert (await outbox.health(session, world.clock.now())).given_up == 1
    assert any("Gave up sending actions.reminder" in r.getMessage() for r in caplog.records)

    # Everything else still goes out: Alice's reminder on its day, once.
    await world.advance(timedelta(days=1))
    assert len(reminders(world.slack, Seed.ALICE)) == 1
    await world.advance(timedelta(hours=2))
    assert len(reminders(world.slack, Seed.ALICE)) == 1
    assert reminders(world.slack, Seed.CAROL) == []


# --- hearth restarting mid-meetup --------------------------------------------------------------


async def test_hearth_restarting_mid_meetup_posts_nothing_twice(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as one:
        world = World(slack, one, clock, empty_database)
        await start_meetup(world, **PACED)
        first = prompt_ts(slack, 1)
        await slack.user(Seed.BOB).say(CHANNEL, "Heard before the restart", thread_ts=first)
        # Prompt 2: Slack posts it and answers 504; hearth stops before it looks again.
        slack.fail_next("chat.postMessage", status=504, after_success=True)
        await world.advance(timedelta(minutes=10))
        assert (await owed(world, "meetup.prompt:2")).state == "pending"

    second = prompt_ts(slack, 2)
    _, lost = await slack.user(Seed.CAROL).say(
        CHANNEL, "Said while hearth was down", thread_ts=second
    )
    assert lost is not None and not lost.ok

    async with running_hearth(slack, empty_database, clock) as two:
        world = World(slack, two, clock, empty_database)
        await retry(world)  # the new process finds prompt 2 in the channel: not posted again
        assert (await owed(world, "meetup.prompt:2")).sent_ts == second
        await world.advance(START + timedelta(minutes=15) - clock.now())  # half-time
        # Prompt 3 is owed while Slack is down; hearth stops before Slack has taken it.
        slack.fail_next("chat.postMessage", status=500, times=1000)
        await world.advance(timedelta(minutes=5))
        assert (await owed(world, "meetup.prompt:3")).state == "pending"
    slack.clear_failures()

    async with running_hearth(slack, empty_database, clock) as three:
        world = World(slack, three, clock, empty_database)
        await retry(world, 5)
        await world.advance(START + timedelta(minutes=25) - clock.now())
        await world.advance(timedelta(minutes=5))  # the end
        text = minutes_message(world).readable_text  # exactly one
        assert "Heard before the restart" in text and "Said while hearth was down" in text

    for number, halfway in ((1, 1), (2, 1), (3, 0)):
        ts = prompt_ts(slack, number)
        assert in_thread(slack, ts, "Halfway") == halfway
        assert in_thread(slack, ts, "5 minutes left") == 1
        assert in_thread(slack, ts, "Time's up") == 1
    sent = [str(c.params.get("text")) for c in slack.calls_to("chat.postMessage") if c.ok]
    assert sum(t.startswith("A chat meetup is on until") for t in sent) == 1
    assert sum(t.startswith("Minutes:") for t in sent) == 1
