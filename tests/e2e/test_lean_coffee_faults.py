"""A Lean Coffee while Slack has a bad day: everything hearth owes the channel (the board,
"Keep going?", the notes, the minutes) is posted exactly once, late rather than lost, and never
twice, whether Slack answers 500 three times running, times out, or answers 504 after it
actually posted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.emulator.seed import Seed
from bot.jobs.lean_coffee import BOARD_SWEEP
from bot.services import lean_coffee, outbox
from bot.services.actor import Actor
from models.lean_coffee import LeanCoffeeSession
from models.outbox import OutboxMessage
from tests.e2e.conftest import World
from tests.e2e.helpers import (
    CHANNEL,
    board,
    is_board,
    minutes_messages,
    propose,
    start_discussing,
    start_session,
)


def bot_posts(world: World, containing: str) -> list[str]:
    """The ts of every message hearth posted (channel and threads) whose text has it."""
    return [
        m.ts
        for m in world.slack.state.messages_in(CHANNEL, include_replies=True)
        if m.bot_id and containing in (m.text + str(m.blocks))
    ]


async def retry(world: World, attempts: int = 1) -> None:
    """Let the outbox's back-off pass `attempts` times."""
    for attempt in range(1, attempts + 1):
        await world.advance(outbox.retry_delay(attempt))


async def test_a_board_slack_fails_to_take_three_times_appears_once_and_works(
    world: World,
) -> None:
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await start_session(world)
    assert not [m for m in world.slack.user(Seed.ALICE).messages(CHANNEL) if is_board(m)]

    # Meanwhile the channel is told the truth, and topics can be added.
    bob = world.slack.user(Seed.BOB)
    await bob.run_command("/lean-coffee", channel=CHANNEL)
    note = bob.messages(CHANNEL)[-1].readable_text
    assert "its board will appear as soon as Slack takes it" in note
    await propose(world, Seed.BOB, "Plain language")

    await retry(world, 3)

    assert len(bot_posts(world, "Facilitated by")) == 1
    assert "Plain language" in board(world).readable_text, "redrawn once it was posted"
    await world.slack.user(Seed.ALICE).click(board(world), "End session")
    assert len(minutes_messages(world)) >= 1


async def test_a_board_slack_never_takes_frees_the_channel(world: World) -> None:
    world.slack.fail_next("chat.postMessage", status=500, times=1000)
    await start_session(world)
    await world.advance(timedelta(minutes=16))  # past the board's patience
    async with world.hearth.deps.sessionmaker() as session:
        lc = (await session.scalars(select(LeanCoffeeSession))).one()
        given_up = (await session.scalars(select(OutboxMessage))).one()
    assert lc.status == "ended" and given_up.state == "failed"

    world.slack.clear_failures()
    await start_session(world)  # the channel can start again
    assert len(bot_posts(world, "Facilitated by")) == 1


async def test_posts_slack_answers_504_after_taking_are_posted_once(world: World) -> None:
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    await propose(world, Seed.CAROL, "Research ops")
    await start_discussing(world)

    # "Keep going?": Slack posts it, then answers 504.
    world.slack.fail_next("chat.postMessage", status=504, after_success=True)
    await world.advance(timedelta(minutes=7))
    await retry(world)
    assert len(bot_posts(world, "Keep going")) == 1

    # The minutes (two ends of the same trouble: a timeout after posting).
    world.slack.fail_next("chat.postMessage", status=504, after_success=True)
    await world.slack.user(Seed.ALICE).click(board(world), "End session")
    await retry(world, 2)
    assert len(minutes_messages(world)) == 1
    assert all(c.status != 200 or c.ok for c in world.slack.calls_to("chat.postMessage"))


async def test_the_out_of_time_note_and_the_minutes_survive_a_run_of_500s(world: World) -> None:
    await start_session(world, **{"Extra time if the group wants to keep going": ""})
    await propose(world, Seed.BOB, "Plain language")
    await propose(world, Seed.CAROL, "Research ops")
    await start_discussing(world)

    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.advance(timedelta(minutes=7))
    assert bot_posts(world, "Time's up") == []
    await retry(world, 3)
    assert len(bot_posts(world, "Time's up")) == 1

    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.slack.user(Seed.ALICE).click(board(world), "End session")
    assert minutes_messages(world) == []
    await retry(world, 3)
    assert len(minutes_messages(world)) == 1


async def test_a_redraw_that_never_happened_is_made_by_the_next_sweep(world: World) -> None:
    """A vote stored by a process that died before redrawing (here: stored straight through
    the service, as that process did, with no redraw asked for) shows on the board within
    `BOARD_SWEEP`; a board already right costs no `chat.update`."""
    await start_session(world)
    await propose(world, Seed.BOB, "Plain language")
    async with world.hearth.deps.sessionmaker() as session:
        lc = (await session.scalars(select(LeanCoffeeSession))).one()
        topic = (await lean_coffee.session_topics(session, lc))[0]
    await world.advance(BOARD_SWEEP)  # the board is right: nothing to redraw
    updates = len(world.slack.calls_to("chat.update"))
    await world.advance(BOARD_SWEEP)
    assert len(world.slack.calls_to("chat.update")) == updates

    async with world.hearth.deps.sessionmaker.begin() as session:
        lc = await lean_coffee.get_session(session, world.slack.state.team.id, lc.id)
        await lean_coffee.vote(
            session, Actor(lc.team_id, Seed.CAROL), lc, topic.id, world.clock.now()
        )
    assert "1 vote" not in board(world).readable_text

    await world.advance(BOARD_SWEEP)
    assert "1 vote" in board(world).readable_text
    assert len(world.slack.calls_to("chat.update")) == updates + 1
