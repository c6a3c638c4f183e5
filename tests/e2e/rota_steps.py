"""Small steps shared by the /rota end-to-end tests."""

from __future__ import annotations

from typing import Any

from bot.emulator.actor import SlackUser
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL

# START is Monday 23 Nov 2026; a weekly Tuesday 10:00 London meetup is 10:00 UTC in winter.
TUESDAYS = ["24 Nov 2026", "1 Dec 2026", "8 Dec 2026", "15 Dec 2026", "22 Dec 2026"]


def add_person(world: World, user_id: str, name: str, *, in_channel: bool = True) -> SlackUser:
    """Someone who is neither a lead nor a workspace admin."""
    world.slack.state.add_user(user_id, name, tz="Europe/Dublin")
    if in_channel:
        world.slack.state.channels[CHANNEL].members.add(user_id)
    return world.slack.user(user_id)


async def rota(world: World, user_id: str, text: str = "", channel: str = CHANNEL) -> None:
    result = await world.slack.user(user_id).run_command("/rota", text, channel=channel)
    assert result.ok, result


def notes(world: World, user_id: str, channel: str = CHANNEL) -> list[SeenMessage]:
    """What only `user_id` sees in the channel, oldest first."""
    return [m for m in world.slack.user(user_id).messages(channel) if m.ephemeral]


def last_note(world: World, user_id: str, channel: str = CHANNEL) -> SeenMessage:
    seen = notes(world, user_id, channel)
    assert seen, f"{user_id} has no private notes"
    return seen[-1]


def channel_posts(world: World, channel: str = CHANNEL) -> list[str]:
    """What hearth posted for everyone in the channel."""
    return [
        m.readable_text
        for m in world.slack.user(Seed.ALICE).messages(channel)
        if m.from_bot and not m.ephemeral
    ]


def dms(world: World, user_id: str) -> list[SeenMessage]:
    return [m for m in world.slack.user(user_id).dm() if m.from_bot]


async def overview(world: World, user_id: str = Seed.ALICE) -> SeenMessage:
    """Run `/rota` and return the reply."""
    await rota(world, user_id)
    seen = last_note(world, user_id)
    assert "Facilitation rota" in seen.readable_text, seen.readable_text
    return seen


async def set_schedule(world: World, user_id: str = Seed.ALICE, **fields: Any) -> None:
    """Open the schedule form with `/rota schedule`, keep the defaults unless told, save."""
    lead = world.slack.user(user_id)
    await rota(world, user_id, "schedule")
    assert lead.view is not None and lead.view.title == "Meetup schedule"
    result = await lead.submit(fields or None)
    assert result.outcome == "close", lead.view and lead.view.errors


async def dm_with_button(
    world: World, user_id: str, label: str, action_id: str, value: str
) -> SeenMessage:
    """A direct message from hearth with one button, as the meetup reminders send them."""
    await world.hearth.deps.client.chat_postMessage(
        channel=user_id,
        text=label,
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "action_id": action_id,
                        "value": value,
                    }
                ],
            }
        ],
    )
    return dms(world, user_id)[-1]


async def set_up(world: World, *people: str) -> None:
    """Alice sets a weekly Tuesday 10:00 schedule and the people join in order."""
    await set_schedule(world)
    for user_id in people:
        await rota(world, user_id, "join")
