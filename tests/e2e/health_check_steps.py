"""Small steps shared by the /health-check end-to-end tests."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.services import health_check as hc
from bot.services.health_check_types import CheckView
from models.health_check import HealthCheck
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL

POLL_TITLE = "Community health check"
RESULTS_TITLE = "Community health check: results"


async def health_check(world: World, user_id: str, text: str = "", channel: str = CHANNEL) -> None:
    result = await world.slack.user(user_id).run_command("/health-check", text, channel=channel)
    assert result.ok, result


def notes(world: World, user_id: str, channel: str = CHANNEL) -> list[str]:
    """What only `user_id` sees in the channel, oldest first."""
    return [m.readable_text for m in world.slack.user(user_id).messages(channel) if m.ephemeral]


def last_note(world: World, user_id: str, channel: str = CHANNEL) -> SeenMessage:
    seen = [m for m in world.slack.user(user_id).messages(channel) if m.ephemeral]
    assert seen, f"{user_id} has no private notes"
    return seen[-1]


def shared(world: World, user_id: str = Seed.ALICE, channel: str = CHANNEL) -> list[SeenMessage]:
    """What hearth posted for everyone in the channel."""
    return [
        m for m in world.slack.user(user_id).messages(channel) if m.from_bot and not m.ephemeral
    ]


def polls(world: World, channel: str = CHANNEL) -> list[SeenMessage]:
    return [
        m
        for m in shared(world, channel=channel)
        if m.has_text(POLL_TITLE) and not m.has_text(RESULTS_TITLE)
    ]


def poll(world: World, channel: str = CHANNEL) -> SeenMessage:
    found = polls(world, channel)
    assert found, "no health check poll in the channel"
    return found[-1]


def results_posts(world: World, channel: str = CHANNEL) -> list[SeenMessage]:
    return [m for m in shared(world, channel=channel) if m.has_text(RESULTS_TITLE)]


async def answer(world: World, user_id: str, question_key: str, option: str) -> None:
    """Click `option` (green, amber, red) on a question of the newest poll."""
    result = await world.slack.user(user_id).click(
        poll(world), f"health_check.answer.{option}", near=TITLES[question_key]
    )
    assert result.ok, result


TITLES = {
    "value": "1. Value to members",
    "learning": "2. Learning",
    "sharing": "3. Sharing",
    "support": "4. Support and safety",
    "participation": "5. Participation",
    "fun": "6. Fun",
    "leadership": "7. Leadership load",
    "purpose": "8. Purpose",
}


async def latest_check(world: World) -> CheckView:
    async with world.hearth.deps.sessionmaker() as session:
        check_id = await session.scalar(select(HealthCheck.id).order_by(HealthCheck.id.desc()))
        assert check_id is not None
        return await hc.get_check(session, world.slack.state.team.id, check_id)
