"""Small steps shared by the Lean Coffee end-to-end tests."""

from __future__ import annotations

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from tests.e2e.conftest import World

CHANNEL = Seed.PRACTICE


def is_board(message: SeenMessage) -> bool:
    text = message.readable_text
    return (
        message.from_bot
        and not message.ephemeral
        and "Facilitated by" in text
        and "Minutes:" not in text
    )


def board(world: World, user: str = Seed.ALICE, channel: str = CHANNEL) -> SeenMessage:
    """The newest Lean Coffee board `user` sees in the channel."""
    boards = [m for m in world.slack.user(user).messages(channel) if is_board(m)]
    assert boards, "no board in the channel"
    return boards[-1]


def minutes_messages(
    world: World, user: str = Seed.ALICE, channel: str = CHANNEL
) -> list[SeenMessage]:
    return [
        m
        for m in world.slack.user(user).messages(channel)
        if m.from_bot and not m.ephemeral and "Minutes:" in m.readable_text
    ]


def private_notes(world: World, user: str, channel: str = CHANNEL) -> list[str]:
    """The "Only visible to you" messages `user` has received in the channel."""
    return [m.readable_text for m in world.slack.user(user).messages(channel) if m.ephemeral]


def last_note(world: World, user: str, channel: str = CHANNEL) -> str:
    notes = private_notes(world, user, channel)
    assert notes, f"{user} has no private notes"
    return notes[-1]


async def start_session(
    world: World, user: str = Seed.ALICE, channel: str = CHANNEL, **fields: object
) -> None:
    person = world.slack.user(user)
    result = await person.run_command("/lean-coffee", channel=channel)
    assert result.ok
    assert person.view is not None and person.view.title == "Start a Lean Coffee"
    await person.submit({"Name": "Content design CoP", **fields})
    assert person.view is None, person.view and person.view.errors


async def propose(world: World, user: str, title: str, channel: str = CHANNEL) -> None:
    result = await world.slack.user(user).run_command("/lean-coffee", title, channel=channel)
    assert result.ok


async def start_discussing(world: World, facilitator: str = Seed.ALICE) -> None:
    person = world.slack.user(facilitator)
    await person.click(board(world), "Close voting")
    await person.click(board(world), "Start next topic")
