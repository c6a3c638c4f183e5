"""The outbox against a flaky Slack (the emulator failing on purpose): every message owed is
posted exactly once, whatever Slack answers: a 504 after it actually posted, a timeout, a 429
with `Retry-After`, 5xx runs, a channel gone for good, a process that died mid-send, and two
processes sending at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.jobs.outbox import OutboxSender
from bot.services import outbox
from bot.services.outbox import Owed
from models.outbox import OutboxMessage

Maker = async_sessionmaker[AsyncSession]
CHANNEL = Seed.PRACTICE
delivered: list[tuple[str, int, str, str]] = []
given_up: list[tuple[int, str]] = []


@outbox.on_delivered("test.outbox")
async def _record_delivery(_session: AsyncSession, landed: outbox.Landed) -> None:
    delivered.append((landed.team_id, landed.subject_id, landed.channel, landed.ts))


@outbox.on_given_up("test.outbox")
async def _record_given_up(
    _session: AsyncSession, _team_id: str, subject_id: int, reason: str
) -> None:
    given_up.append((subject_id, reason))


def sender_for(
    slack: SlackEmulator, maker: Maker, clock: ManualClock, **client: Any
) -> OutboxSender:
    web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[], **client)
    return OutboxSender(maker, web, clock)


async def owe(maker: Maker, clock: ManualClock, slack: SlackEmulator, *messages: Owed) -> None:
    async with maker.begin() as session:
        for message in messages:
            await outbox.record(session, slack.state.team.id, message, clock.now())


def posted(slack: SlackEmulator, text: str, channel: str = CHANNEL) -> list[Any]:
    return [m for m in slack.state.messages_in(channel, include_replies=True) if m.text == text]


async def state_of(maker: Maker, key: str) -> OutboxMessage:
    async with maker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        assert row is not None
        return row


async def test_a_message_is_posted_once_and_its_purpose_learns_where(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    delivered.clear()
    sender = sender_for(slack, sessionmaker, clock)
    message = Owed("test:1", CHANNEL, "Hello, community", purpose="test.outbox", subject_id=7)
    await owe(sessionmaker, clock, slack, message)
    await owe(sessionmaker, clock, slack, message)  # recorded twice: still owed once

    assert await sender.run_once() == 1
    assert await sender.run_once() == 0

    [seen] = posted(slack, "Hello, community")
    assert delivered == [(slack.state.team.id, 7, CHANNEL, seen.ts)]
    assert seen.metadata == {"event_type": "hearth_outbox", "event_payload": {"key": "test:1"}}
    row = await state_of(sessionmaker, "test:1")
    assert (row.state, row.sent_ts, row.attempts) == ("sent", seen.ts, 1)


async def test_a_504_after_slack_posted_is_not_posted_again(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    sender = sender_for(slack, sessionmaker, clock)
    slack.fail_next("chat.postMessage", status=504, after_success=True)
    await owe(sessionmaker, clock, slack, Owed("test:504", CHANNEL, "Time is up"))

    await sender.run_once()
    assert len(posted(slack, "Time is up")) == 1  # Slack posted; hearth heard a 504
    row = await state_of(sessionmaker, "test:504")
    assert row.state == "pending" and row.maybe_sent

    clock.advance(outbox.retry_delay(1))
    await sender.run_once()

    assert len(posted(slack, "Time is up")) == 1, "found in the channel, not posted again"
    row = await state_of(sessionmaker, "test:504")
    assert row.state == "sent" and row.sent_ts == posted(slack, "Time is up")[0].ts
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_timeout_after_slack_posted_is_not_posted_again(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    sender = sender_for(slack, sessionmaker, clock, timeout=0.3)
    slack.fail_next("chat.postMessage", timeout=True, hold_seconds=1, after_success=True)
    await owe(sessionmaker, clock, slack, Owed("test:slow", C := CHANNEL, "The minutes"))

    await sender.run_once()
    clock.advance(outbox.retry_delay(1))
    await sender.run_once()

    assert len(posted(slack, "The minutes", C)) == 1
    assert (await state_of(sessionmaker, "test:slow")).state == "sent"


async def test_a_5xx_run_is_retried_with_back_off_and_posted_once(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    sender = sender_for(slack, sessionmaker, clock)
    slack.fail_next("chat.postMessage", status=500, times=3)
    await owe(sessionmaker, clock, slack, Owed("test:500", CHANNEL, "Keep going?"))

    for attempt in range(1, 4):
        await sender.run_once()
        row = await state_of(sessionmaker, "test:500")
        assert row.attempts == attempt and row.state == "pending"
        assert await sender.run_once() == 0, "not again before the back-off"
        clock.advance(outbox.retry_delay(attempt))
    await sender.run_once()

    assert len(posted(slack, "Keep going?")) == 1
    assert (await state_of(sessionmaker, "test:500")).state == "sent"


async def test_a_429_waits_for_retry_after(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    sender = sender_for(slack, sessionmaker, clock)
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    await owe(sessionmaker, clock, slack, Owed("test:429", CHANNEL, "Reminder"))

    await sender.run_once()
    row = await state_of(sessionmaker, "test:429")
    assert not row.maybe_sent, "a 429 means Slack did not post"
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await sender.run_once() == 0
    clock.advance(timedelta(seconds=1))
    await sender.run_once()
    assert len(posted(slack, "Reminder")) == 1
    assert not slack.calls_to("conversations.history"), "nothing to look for after a 429"


async def test_a_message_that_can_never_be_delivered_is_given_up_visibly(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    given_up.clear()
    sender = sender_for(slack, sessionmaker, clock)
    slack.fail_next("chat.postMessage", error="channel_not_found")
    await owe(
        sessionmaker,
        clock,
        slack,
        Owed("test:gone", CHANNEL, "Hello?", purpose="test.outbox", subject_id=3),
        Owed("test:gone-reply", CHANNEL, "In the thread", thread_key="test:gone"),
    )

    await sender.run_once()
    await sender.run_once()

    assert (await state_of(sessionmaker, "test:gone")).state == "failed"
    reply = await state_of(sessionmaker, "test:gone-reply")
    assert reply.state == "failed" and reply.last_error == "its thread was never posted"
    assert given_up == [(3, "channel_not_found")]
    async with sessionmaker() as session:
        health = await outbox.health(session, clock.now())
    assert health.given_up == 2


async def test_replies_wait_for_their_thread_and_a_channel_keeps_its_order(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    sender = sender_for(slack, sessionmaker, clock)
    slack.fail_next("chat.postMessage", status=503)
    await owe(
        sessionmaker,
        clock,
        slack,
        Owed("test:board", CHANNEL, "The board"),
        Owed("test:note", CHANNEL, "A note in its thread", thread_key="test:board"),
        Owed("test:second", CHANNEL, "Posted after the board"),
    )

    await sender.run_once()
    assert not posted(slack, "A note in its thread") and not posted(slack, "Posted after the board")
    clock.advance(outbox.retry_delay(1))
    while await sender.run_once():
        pass

    [board] = posted(slack, "The board")
    [note] = posted(slack, "A note in its thread")
    [second] = posted(slack, "Posted after the board")
    assert note.thread_ts == board.ts
    assert float(board.ts) < float(note.ts) < float(second.ts)


async def test_a_send_left_half_done_by_a_dead_process_is_finished_once(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    await owe(sessionmaker, clock, slack, Owed("test:dead", CHANNEL, "Owed by the dead"))
    # The dead process claimed it and posted, then was killed before recording it.
    async with sessionmaker.begin() as session:
        [attempt] = await outbox.claim_due(session, clock.now())
    dead = sender_for(slack, sessionmaker, clock)
    await dead._client.chat_postMessage(
        channel=CHANNEL,
        text="Owed by the dead",
        metadata={"event_type": "hearth_outbox", "event_payload": {"key": attempt.key}},
    )

    survivor = sender_for(slack, sessionmaker, clock)
    assert await survivor.run_once() == 0, "the lease holds it for a while"
    clock.advance(outbox.LEASE + timedelta(seconds=1))
    await survivor.run_once()

    assert len(posted(slack, "Owed by the dead")) == 1
    assert (await state_of(sessionmaker, "test:dead")).state == "sent"


async def test_two_processes_draining_together_post_each_message_once(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    channels = [CHANNEL, Seed.LEADS, Seed.ALICE, Seed.BOB]
    await owe(
        sessionmaker,
        clock,
        slack,
        *(Owed(f"test:many:{n}", channels[n % 4], f"Message {n}") for n in range(40)),
    )
    first = sender_for(slack, sessionmaker, clock)
    second = sender_for(slack, sessionmaker, clock)

    async def drain(sender: OutboxSender) -> None:
        while await sender.run_once():
            pass

    await asyncio.gather(drain(first), drain(second))

    texts = [c.params.get("text") for c in slack.calls_to("chat.postMessage")]
    assert sorted(texts, key=lambda t: int(str(t).split()[-1])) == [
        f"Message {n}" for n in range(40)
    ]
    async with sessionmaker() as session:
        states = set(await session.scalars(select(OutboxMessage.state)))
    assert states == {"sent"}


async def test_a_withdrawn_message_is_never_sent_and_old_rows_are_pruned(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    sender = sender_for(slack, sessionmaker, clock)
    await owe(
        sessionmaker,
        clock,
        slack,
        Owed("test:cancelled", CHANNEL, "Reminder for a cancelled meetup"),
        Owed("test:kept", Seed.BOB, "A direct message to Bob"),
    )
    async with sessionmaker.begin() as session:
        taken = await outbox.withdraw(
            session, slack.state.team.id, ["test:cancelled", "test:nope"], clock.now()
        )
    assert taken == 1
    while await sender.run_once():
        pass

    assert posted(slack, "Reminder for a cancelled meetup") == []
    withdrawn = await state_of(sessionmaker, "test:cancelled")
    assert withdrawn.state == "withdrawn"
    sent = await state_of(sessionmaker, "test:kept")
    assert sent.state == "sent"
    assert (sent.text, sent.blocks) == ("", None), "what it said is Slack's to keep now"
    async with sessionmaker.begin() as session:
        assert await outbox.withdraw(session, slack.state.team.id, ["test:kept"], clock.now()) == 0

    clock.advance(outbox.KEEP_FINISHED - timedelta(minutes=1))
    async with sessionmaker.begin() as session:
        assert await outbox.prune(session, clock.now()) == 0
    clock.advance(timedelta(minutes=2))
    async with sessionmaker.begin() as session:
        assert await outbox.prune(session, clock.now()) == 2
    async with sessionmaker() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


async def test_a_429_storm_delays_a_burst_but_loses_none_doubles_none_and_keeps_order(
    slack: SlackEmulator, sessionmaker: Maker, clock: ManualClock
) -> None:
    """Thirty messages owed to one channel at once, against Slack's limit of about one post a
    second per channel: each waits as long as `Retry-After` says, none is lost or doubled,
    and the channel reads them in the order they were owed."""
    slack.limit_rate("chat.postMessage", 1, 1, per_channel=True)
    sender = sender_for(slack, sessionmaker, clock)
    await owe(
        sessionmaker,
        clock,
        slack,
        *(Owed(f"test:storm:{n:02d}", CHANNEL, f"Storm message {n:02d}") for n in range(30)),
    )
    started = clock.now()
    for _ in range(200):
        while await sender.run_once():
            pass
        async with sessionmaker() as session:
            if await outbox.next_due(session) is None:
                break
        clock.advance(timedelta(seconds=1))

    texts = [m.text for m in slack.state.messages_in(CHANNEL) if m.text.startswith("Storm")]
    assert texts == [f"Storm message {n:02d}" for n in range(30)]
    refused = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
    assert refused, "the storm did happen"
    assert not slack.calls_to("conversations.history"), "a 429 is a sure no: nothing to look for"
    drained = clock.now() - started
    assert timedelta(seconds=29) <= drained <= timedelta(seconds=60), drained
