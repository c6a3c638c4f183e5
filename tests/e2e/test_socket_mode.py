"""The same app over Socket Mode: commands, modals and buttons arrive over the WebSocket."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from models.lean_coffee import LeanCoffeeTopic, LeanCoffeeVote
from tests.e2e.conftest import World, running_hearth
from tests.e2e.helpers import board, last_note, propose, start_session


async def test_lean_coffee_over_socket_mode(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock, socket_mode=True) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await start_session(world)
        await propose(world, Seed.BOB, "Plain language")
        bob = slack.user(Seed.BOB)
        await bob.click(board(world), "Vote", near="Plain language")
        assert "2 of 3 dots left" in last_note(world, Seed.BOB)
        assert "1 vote" in board(world).readable_text
        # A modal field error travels back over the socket too.
        await bob.click(board(world), "Propose a topic")
        await bob.submit({"Topic": "  "})
        assert bob.view is not None and bob.view.errors
        async with hearth.deps.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(LeanCoffeeTopic)) == 1
            assert await s.scalar(select(func.count()).select_from(LeanCoffeeVote)) == 1
    assert all(d.kind and d.error is None for d in slack.deliveries)
