"""The sandbox's small parts: its clock, its change feed, and command parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.emulator.server import SlackEmulator
from bot.emulator.testing import web_client
from bot.sandbox.acting import PageError, parse_command
from bot.sandbox.clock import OffsetClock
from bot.sandbox.feed import CLOSED, ChangeFeed


def test_a_clock_started_elsewhere_counts_only_its_moves() -> None:
    clock = OffsetClock(timedelta(days=3))
    clock.advance(timedelta(hours=1))
    assert clock.offset == timedelta(days=3, hours=1)
    assert clock.moved == timedelta(hours=1)


def test_the_clock_is_real_time_moved_forward() -> None:
    clock = OffsetClock()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    clock.advance(timedelta(minutes=7))
    assert clock.offset == clock.moved == timedelta(minutes=7)
    assert clock.now() - datetime.now(UTC) > timedelta(minutes=6, seconds=59)
    for wrong in (timedelta(0), timedelta(minutes=-1), timedelta(days=32)):
        with pytest.raises(ValueError):
            clock.advance(wrong)
    assert clock.offset == timedelta(minutes=7)


async def test_a_burst_of_changes_wakes_each_page_once() -> None:
    feed = ChangeFeed()
    first, second = feed.subscribe(), feed.subscribe()
    for _ in range(5):
        feed.notify()
    assert first.qsize() == 1 and await first.get() == 1
    assert second.qsize() == 1
    feed.unsubscribe(second)
    feed.notify()
    assert await first.get() == 6 and feed.subscribers == 1
    feed.notify()
    feed.close()
    assert await first.get() == CLOSED


async def test_the_emulator_says_when_anything_changed() -> None:
    emulator = SlackEmulator()
    seen: list[int] = []
    emulator.on_change.append(lambda: seen.append(1))
    async with emulator:
        await web_client(emulator).chat_postMessage(channel="C0PRACTICE", text="hello")
        assert seen
        before = len(seen)
        emulator.set_request_url(f"{emulator.base_url}/nothing-here")
        await emulator.user("U0ALICE").run_command("/anything", channel="C0PRACTICE")
        assert len(seen) > before  # a delivery counts too, even one the app did not take


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("/lean-coffee", ("/lean-coffee", "")),
        ("  /lean-coffee   Pairing on  content ", ("/lean-coffee", "Pairing on  content")),
        ("/Lean-Coffee history", ("/lean-coffee", "history")),
    ],
)
def test_commands_split_as_slack_splits_them(line: str, parsed: tuple[str, str]) -> None:
    assert parse_command(line) == parsed


@pytest.mark.parametrize("line", ["lean-coffee", "/", " / x"])
def test_what_is_not_a_command(line: str) -> None:
    with pytest.raises(PageError):
        parse_command(line)
