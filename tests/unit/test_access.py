"""`bot.access.ChannelAccess`: who may act in which channel, asked of Slack once in a while.

A fake Slack answers `conversations.info`, `conversations.members` (in pages) and
`conversations.open`, and counts what it was asked, so each test can say how often hearth
goes to Slack as well as what it decides."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import ChannelAccess
from bot.clock import ManualClock
from bot.errors import NotAllowed
from bot.services.actor import Actor

TEAM = "T0HEARTH"
PUBLIC, PRIVATE, GONE = "C0PUBLIC", "C0PRIVATE", "C0GONE"
ALICE_DM = "D0ALICE"


class FakeSlack:
    """Channels as Slack would describe them to hearth's bot token."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()
        self.private_members = [f"U{n:04d}" for n in range(5)] + ["U0ALICE"]
        self.failure: Exception | None = None
        self.hold: asyncio.Event | None = None

    async def _answer(self, method: str) -> None:
        self.asked[method] += 1
        if self.hold is not None:
            await self.hold.wait()
        if self.failure is not None:
            raise self.failure

    async def conversations_info(self, *, channel: str) -> dict[str, Any]:
        await self._answer("conversations.info")
        if channel == GONE:
            raise SlackApiError("not found", {"ok": False, "error": "channel_not_found"})
        private = channel == PRIVATE
        return {"channel": {"id": channel, "name": channel[2:].lower(), "is_private": private}}

    async def conversations_members(
        self, *, channel: str, limit: int, cursor: str | None = None
    ) -> dict[str, Any]:
        await self._answer("conversations.members")
        start = int(cursor or 0)
        page = self.private_members[start : start + 4]  # small pages, to be walked
        more = start + 4 < len(self.private_members)
        return {
            "members": page,
            "response_metadata": {"next_cursor": str(start + 4) if more else ""},
        }

    async def conversations_open(self, *, users: str) -> dict[str, Any]:
        await self._answer("conversations.open")
        return {"channel": {"id": "D" + users[1:]}}


@pytest.fixture
def slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


@pytest.fixture
def access(slack: FakeSlack, clock: ManualClock) -> ChannelAccess:
    return ChannelAccess(cast(AsyncWebClient, slack), clock)


def person(user_id: str) -> Actor:
    return Actor(team_id=TEAM, user_id=user_id)


async def test_anyone_in_the_workspace_may_act_in_a_public_channel(
    access: ChannelAccess, slack: FakeSlack
) -> None:
    await access.require(person("U0DAVE"), PUBLIC, "vote")
    await access.require(person("U0BOB"), PUBLIC, "vote")
    assert slack.asked == {"conversations.info": 1}  # nobody's membership is looked up


async def test_only_members_may_act_in_a_private_channel(
    access: ChannelAccess, slack: FakeSlack
) -> None:
    await access.require(person("U0ALICE"), PRIVATE, "vote")  # on the second page
    with pytest.raises(NotAllowed) as refused:
        await access.require(person("U0DAVE"), PRIVATE, "vote")
    assert refused.value.message == (
        "#private is a private channel you're not in, so you can't vote there. "
        "Ask someone in it to invite you."
    )
    assert slack.asked == {"conversations.info": 1, "conversations.members": 2}


async def test_answers_are_kept_a_minute_then_asked_again(
    access: ChannelAccess, slack: FakeSlack, clock: ManualClock
) -> None:
    assert not await access.may_act(TEAM, "U0NEW", PRIVATE)
    slack.private_members.append("U0NEW")  # invited just now
    clock.advance(timedelta(seconds=59))
    assert not await access.may_act(TEAM, "U0NEW", PRIVATE)
    clock.advance(timedelta(seconds=2))
    assert await access.may_act(TEAM, "U0NEW", PRIVATE)
    assert slack.asked["conversations.info"] == 2


async def test_a_burst_of_clicks_asks_slack_once(access: ChannelAccess, slack: FakeSlack) -> None:
    slack.hold = asyncio.Event()
    clicks = [asyncio.ensure_future(access.may_act(TEAM, f"U{n:04d}", PRIVATE)) for n in range(20)]
    await asyncio.sleep(0)
    slack.hold.set()
    assert sum(await asyncio.gather(*clicks)) == 5  # U0000..U0004 are members
    assert slack.asked == {"conversations.info": 1, "conversations.members": 2}


async def test_only_so_many_channels_are_remembered(slack: FakeSlack, clock: ManualClock) -> None:
    access = ChannelAccess(cast(AsyncWebClient, slack), clock, max_places=2)
    for channel in ("C0ONE", "C0TWO", "C0THREE", "C0THREE", "C0ONE"):
        assert await access.may_act(TEAM, "U0BOB", channel)
    assert slack.asked["conversations.info"] == 4  # C0ONE was forgotten for C0THREE


async def test_a_channel_slack_wont_describe_is_a_kind_no(
    access: ChannelAccess, slack: FakeSlack
) -> None:
    """hearth removed from a private channel (or the channel deleted): Slack says
    channel_not_found. Nobody may act there, and that answer is kept like any other."""
    for _ in range(2):
        with pytest.raises(NotAllowed) as refused:
            await access.require(person("U0ALICE"), GONE, "end this Lean Coffee")
    assert refused.value.message.startswith(
        "I can't reach that channel any more (hearth may have been removed from it"
    )
    assert "so you can't end this Lean Coffee there" in refused.value.message
    assert slack.asked == {"conversations.info": 1}


@pytest.mark.parametrize(
    "failure",
    [
        SlackApiError("rate limited", {"ok": False, "error": "ratelimited"}),
        aiohttp.ClientConnectionError("connection reset"),
        TimeoutError(),
    ],
)
async def test_when_slack_cannot_answer_nothing_is_allowed_and_nothing_kept(
    access: ChannelAccess, slack: FakeSlack, failure: Exception
) -> None:
    slack.failure = failure
    with pytest.raises(NotAllowed) as refused:
        await access.require(person("U0ALICE"), PUBLIC, "vote")
    assert refused.value.message == (
        "I couldn't check with Slack just now whether you can vote there, so nothing has "
        "changed. Please try again in a moment."
    )
    assert not await access.may_act(TEAM, "U0ALICE", PUBLIC)
    slack.failure = None
    assert await access.may_act(TEAM, "U0ALICE", PUBLIC)  # asked again, not remembered
    assert slack.asked["conversations.info"] == 3


async def test_a_direct_message_is_only_its_persons(
    access: ChannelAccess, slack: FakeSlack
) -> None:
    await access.require(person("U0ALICE"), ALICE_DM, "mark it done")
    with pytest.raises(NotAllowed) as refused:
        await access.require(person("U0DAVE"), ALICE_DM, "mark it done")
    assert refused.value.message.startswith("That belongs to someone else's messages with me")
    assert slack.asked == {"conversations.open": 2}  # never conversations.info (no im:read)
