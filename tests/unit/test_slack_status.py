"""Which Slack statuses mean someone is away for a meetup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import running_emulator, web_client
from bot.slack_status import (
    SlackStatus,
    away_at,
    fetch_statuses,
    says_away,
    status_from_profile,
    unavailable_from,
)

MEETUP = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("emoji", "text"),
    [
        ("palm_tree", ""),
        ("face_with_thermometer", ""),
        ("sick", ""),
        ("", "On holiday until Monday"),
        ("", "Out sick"),
        ("", "OOO"),
        ("", "Annual leave"),
        ("", "vacation 🌞"),
        ("", "Vacationing"),
        ("speech_balloon", "out of the office"),
        ("palm_tree::skin-tone-3", ""),
    ],
)
def test_holiday_and_sickness_statuses_say_away(emoji: str, text: str) -> None:
    assert says_away(SlackStatus(text=text, emoji=emoji))


@pytest.mark.parametrize(
    ("emoji", "text"),
    [
        ("", ""),
        ("spiral_calendar_pad", "In a meeting"),
        ("house_with_garden", "Working remotely"),
        ("bus", "Commuting"),
        ("", "Shipping the OOOps fix"),  # whole words only
        ("", "Sicko mode"),
    ],
)
def test_other_statuses_do_not(emoji: str, text: str) -> None:
    assert not says_away(SlackStatus(text=text, emoji=emoji))


def test_a_status_counts_only_if_it_lasts_until_the_meetup() -> None:
    forever = SlackStatus(text="OOO", expiration=0)
    until_after = SlackStatus(text="OOO", expiration=int((MEETUP + timedelta(days=1)).timestamp()))
    until_before = SlackStatus(
        text="OOO", expiration=int((MEETUP - timedelta(hours=1)).timestamp())
    )
    assert away_at(forever, MEETUP)
    assert away_at(until_after, MEETUP)
    assert not away_at(until_before, MEETUP)
    assert not away_at(None, MEETUP)
    assert not away_at(SlackStatus(text="In a meeting"), MEETUP)


def test_statuses_are_read_from_users_info_profiles() -> None:
    profile = {"status_text": "Vacationing", "status_emoji": ":palm_tree:", "status_expiration": 7}
    assert status_from_profile(profile) == SlackStatus("Vacationing", "palm_tree", 7)
    assert status_from_profile({}) == SlackStatus()
    assert status_from_profile({"status_expiration": "soon"}).expiration == 0


@pytest.fixture
async def emulator() -> AsyncIterator[SlackEmulator]:
    async with running_emulator() as slack:
        yield slack


async def test_statuses_are_fetched_once_each_and_failures_count_as_available(
    emulator: SlackEmulator,
) -> None:
    emulator.state.users[Seed.BOB].status_emoji = ":palm_tree:"
    emulator.state.users[Seed.CAROL].status_text = "Out sick"
    emulator.state.users[Seed.CAROL].status_expiration = int(
        (MEETUP - timedelta(days=1)).timestamp()
    )
    client = web_client(emulator)
    statuses = await fetch_statuses(
        client, [Seed.ALICE, Seed.BOB, Seed.BOB, Seed.CAROL, "U0NOBODY"]
    )
    assert len(emulator.calls_to("users.info")) == 4  # Bob once; the unknown id fails
    assert set(statuses) == {Seed.ALICE, Seed.BOB, Seed.CAROL}
    unavailable = unavailable_from(statuses)
    assert unavailable(Seed.BOB, MEETUP)
    assert not unavailable(Seed.CAROL, MEETUP)  # back by then
    assert not unavailable(Seed.ALICE, MEETUP)
    assert not unavailable("U0NOBODY", MEETUP)


async def test_a_big_rota_is_looked_up_only_up_to_a_limit(emulator: SlackEmulator) -> None:
    client = web_client(emulator)
    await fetch_statuses(client, [Seed.ALICE, Seed.BOB, Seed.CAROL], limit=2)
    assert len(emulator.calls_to("users.info")) == 2
