"""/meetup minutes never silently miss replies: replies whose `message` events never reached
hearth (it was restarting, a delivery failed) are read back from the threads at the close,
by the rules replies are heard by; long threads are read in pages within Slack's rate
limits; a thread that can't be read still closes, with a note. Edits and deletions while the
meetup runs are followed. Through the emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import Call, SlackEmulator
from bot.services.meetup import MeetupMinutes
from models.meetup import ChatMeetupReply
from models.minutes import Minutes
from tests.e2e.conftest import World, running_hearth
from tests.e2e.test_meetup import (
    CHANNEL,
    PROMPTS,
    minutes_message,
    notes_for,
    opening,
    prompt_messages,
    start_meetup,
)

MAYBE_MISSING = "A few replies may be missing"


def post_unheard(slack: SlackEmulator, user: str, text: str, thread_ts: str) -> str:
    """A reply that is in Slack but whose `message` event never reaches hearth."""
    return slack.state.post_message(CHANNEL, text=text, user=user, thread_ts=thread_ts).ts


async def stored_minutes(world: World) -> MeetupMinutes:
    async with world.hearth.deps.sessionmaker() as session:
        row = await session.scalar(select(Minutes).where(Minutes.source == "meetup"))
        assert row is not None
        return MeetupMinutes.model_validate(row.body)


async def stored_replies(world: World) -> list[ChatMeetupReply]:
    async with world.hearth.deps.sessionmaker() as session:
        return list(await session.scalars(select(ChatMeetupReply)))


def replies_calls(slack: SlackEmulator) -> list[Call]:
    return slack.calls_to("conversations.replies")


# --- (a) replies posted while hearth was not listening ------------------------------------------


async def test_replies_posted_while_hearth_was_down_are_in_the_minutes(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    alice, bob, carol = (slack.user(u) for u in (Seed.ALICE, Seed.BOB, Seed.CAROL))
    async with running_hearth(slack, empty_database, clock) as one:
        world = World(slack, one, clock, empty_database)
        await start_meetup(world, **{"Length in minutes": "30"})
        first, second, third = prompt_messages(world)
        await bob.say(CHANNEL, "Heard before the restart", thread_ts=first.ts)
        await bob.click(opening(world), "Post anonymously")
        await bob.submit({"Which prompt?": f"1. {PROMPTS[0]}", "Your reply": "Posted for me"})
        assert bob.view is None

    # hearth is down: Slack can't deliver these events.
    clock.advance(timedelta(minutes=5))
    _, lost = await bob.say(CHANNEL, "Said while hearth restarted", thread_ts=first.ts)
    assert lost is not None and not lost.ok
    await carol.say(CHANNEL, "(off the record) the reorg is stalled", thread_ts=second.ts)
    await carol.say(CHANNEL, "Pairing helped us & <b>", thread_ts=second.ts)
    # Another bot's message in a thread is not a reply, as when heard live.
    slack.state.post_message(CHANNEL, text="Reminder!", bot_id="B0ROBOT", thread_ts=third.ts)

    async with running_hearth(slack, empty_database, clock) as two:
        world = World(slack, two, clock, empty_database)
        clock.advance(timedelta(minutes=5))
        await alice.say(CHANNEL, "Heard after the restart", thread_ts=third.ts)
        # A lost delivery while hearth is up (a Socket Mode reconnect, a failed request).
        post_unheard(slack, Seed.ALICE, "Lost in delivery", third.ts)

        await world.advance(timedelta(minutes=20))  # time's up

        text = minutes_message(world).readable_text
        for said in (
            "Heard before the restart",
            "Said while hearth restarted",
            "Pairing helped us & <b>",
            "Heard after the restart",
            "Lost in delivery",
            "Posted for me",
        ):
            assert said in text
        assert "the reorg is stalled" not in text
        assert "Reminder!" not in text
        assert MAYBE_MISSING not in text

        minutes = await stored_minutes(world)
        assert {a.user_id: a.replies for a in minutes.airtime} == {
            Seed.BOB: 2,
            Seed.CAROL: 2,
            Seed.ALICE: 2,
        }
        assert minutes.anonymous_replies == 1
        assert [p.off_record for p in minutes.prompts] == [0, 1, 0]
        assert [len(p.replies) for p in minutes.prompts] == [3, 1, 2]
        assert "the reorg is stalled" not in str(minutes.model_dump())

        replies = await stored_replies(world)
        assert len(replies) == 7  # six people's replies and the anonymous post, once each
        assert len({r.message_ts for r in replies}) == 7
        anonymous = [r for r in replies if r.author_id is None]
        assert [r.text for r in anonymous] == ["Posted for me"]
        assert [r.text for r in replies if r.off_record] == [""]
        # Each prompt's thread was read once, in pages of 200.
        calls = replies_calls(slack)
        assert sorted(c.params["ts"] for c in calls) == sorted(p.ts for p in (first, second, third))
        assert all(c.params["limit"] == "200" for c in calls)


async def test_end_now_reads_the_threads_back_too(world: World) -> None:
    await start_meetup(world)
    first = prompt_messages(world)[0]
    post_unheard(world.slack, Seed.BOB, "Missed, then read back", first.ts)
    world.clock.advance(timedelta(minutes=3))

    # Someone who may not end it is refused before anything is read from Slack.
    await world.slack.user(Seed.BOB).click(opening(world), "End now")
    assert any("Only the facilitator" in n for n in notes_for(world, Seed.BOB))
    assert replies_calls(world.slack) == []

    result = await world.slack.user(Seed.ALICE).click(opening(world), "End now")
    assert result.ok
    text = minutes_message(world).readable_text
    assert "Missed, then read back" in text
    assert len(replies_calls(world.slack)) == 3


async def test_a_reply_edited_or_deleted_during_the_meetup_is_followed(world: World) -> None:
    await start_meetup(world)
    first = prompt_messages(world)[0]
    bob = world.slack.user(Seed.BOB)
    kept, _ = await bob.say(CHANNEL, "Fisrt draft", thread_ts=first.ts)
    gone, _ = await bob.say(CHANNEL, "Something I regret", thread_ts=first.ts)
    hidden, _ = await bob.say(CHANNEL, "Names a client", thread_ts=first.ts)

    async def edit(ts: str, text: str) -> None:
        message = world.slack.state.find_message(CHANNEL, ts)
        assert message is not None
        message.text = text
        message.edited = {"user": Seed.BOB, "ts": world.slack.state.next_ts()}
        event: dict[str, Any] = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": CHANNEL,
            "ts": world.slack.state.next_ts(),
            "message": {
                "type": "message",
                "user": Seed.BOB,
                "text": text,
                "ts": ts,
                "thread_ts": first.ts,
                "edited": message.edited,
            },
        }
        await world.slack.send_event(event)

    await edit(kept.ts, "First draft, fixed")
    await edit(hidden.ts, "(off the record) names a client")
    message = world.slack.state.find_message(CHANNEL, gone.ts)
    assert message is not None
    world.slack.state.delete_message(message)
    await world.slack.send_event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": CHANNEL,
            "ts": world.slack.state.next_ts(),
            "deleted_ts": gone.ts,
            "previous_message": {
                "type": "message",
                "user": Seed.BOB,
                "text": "Something I regret",
                "ts": gone.ts,
                "thread_ts": first.ts,
            },
        }
    )
    world.clock.advance(timedelta(minutes=1))
    await world.slack.user(Seed.ALICE).click(opening(world), "End now")

    text = minutes_message(world).readable_text
    assert "First draft, fixed" in text and "Fisrt draft" not in text
    assert "Something I regret" not in text
    assert "names a client" not in text.lower()
    minutes = await stored_minutes(world)
    assert {a.user_id: a.replies for a in minutes.airtime} == {Seed.BOB: 2}
    assert minutes.prompts[0].off_record == 1


# --- (b) several hundred replies, within Slack's rate limits ------------------------------------


async def test_several_hundred_replies_some_missed_are_all_in_the_minutes(
    world: World,
) -> None:
    slack, clock = world.slack, world.clock
    await start_meetup(world, **{"Length in minutes": "30"})
    prompts = prompt_messages(world)
    people = (Seed.ALICE, Seed.BOB, Seed.CAROL)
    per_prompt = (250, 150, 50)
    said: Counter[str] = Counter()
    off_record = [0, 0, 0]
    heard_live = 0
    for index, (prompt, count) in enumerate(zip(prompts, per_prompt, strict=True)):
        for n in range(count):
            author = people[n % 3]
            secret = n % 25 == 7
            text = f"(off the record) p{index} r{n}" if secret else f"Reply p{index} r{n}"
            if n % 10 == 0:
                await slack.user(author).say(CHANNEL, text, thread_ts=prompt.ts)
                heard_live += 1
            else:
                post_unheard(slack, author, text, prompt.ts)
            said[author] += 1
            off_record[index] += secret
    # One reply also sent to the channel: heard live and read back, still one reply.
    broadcast = slack.state.post_message(
        CHANNEL,
        text="Also to the channel",
        user=Seed.BOB,
        thread_ts=prompts[2].ts,
        subtype="thread_broadcast",
    )
    await slack.send_event(
        {
            "type": "message",
            "subtype": "thread_broadcast",
            "channel": CHANNEL,
            "user": Seed.BOB,
            "text": broadcast.text,
            "ts": broadcast.ts,
            "thread_ts": prompts[2].ts,
            "channel_type": "channel",
            "team": slack.state.team.id,
        }
    )
    said[Seed.BOB] += 1
    assert len(await stored_replies(world)) == heard_live + 1

    # Slack lets hearth read two pages a second; workspace time passes while hearth waits.
    slack.limit_rate("conversations.replies", 2, 1)
    seen: list[tuple[float, Call]] = []

    def time_passes_while_hearth_waits() -> None:
        for call in slack.calls[len(seen) :]:
            seen.append((time.monotonic(), call))
            if call.method == "conversations.replies" and call.status == 429:
                clock.advance(timedelta(seconds=1))

    seen.extend((0.0, c) for c in slack.calls)
    slack.on_change.append(time_passes_while_hearth_waits)
    await world.advance(timedelta(minutes=30))
    slack.on_change.remove(time_passes_while_hearth_waits)

    reads = [(at, c) for at, c in seen if c.method == "conversations.replies"]
    statuses = [c.status for _, c in reads]
    assert 429 in statuses, statuses
    limited = statuses.index(429)
    assert statuses[limited + 1] == 200
    assert reads[limited + 1][0] - reads[limited][0] >= 1.0  # Retry-After was waited out
    ok = [c for _, c in reads if c.status == 200]
    assert all(c.params["limit"] == "200" for c in ok)
    assert len(ok) == 4  # 250 replies: two pages; 150 and 50 (and a broadcast): one each
    assert sum(1 for c in ok if c.params.get("cursor")) == 1

    minutes = await stored_minutes(world)
    assert {a.user_id: a.replies for a in minutes.airtime} == dict(said)
    assert [p.off_record for p in minutes.prompts] == off_record
    assert [len(p.replies) + p.off_record for p in minutes.prompts] == [250, 150, 51]
    texts = [r.text for p in minutes.prompts for r in p.replies]
    assert len(texts) == len(set(texts)) == 451 - sum(off_record)
    assert not minutes.replies_may_be_missing
    replies = await stored_replies(world)
    assert len(replies) == len({(r.prompt_id, r.message_ts) for r in replies}) == 451
    assert MAYBE_MISSING not in minutes_message(world).readable_text


async def test_a_close_in_two_processes_at_once_records_each_reply_once(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        world = World(slack, one, clock, empty_database)
        await start_meetup(world, **{"Length in minutes": "30"})
        for prompt in prompt_messages(world):
            for n in range(30):
                post_unheard(slack, (Seed.BOB, Seed.CAROL)[n % 2], f"r{n} {prompt.ts}", prompt.ts)
        clock.advance(timedelta(minutes=30))
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()

        async with one.deps.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Minutes)) == 1
            count = await session.scalar(select(func.count()).select_from(ChatMeetupReply))
        assert count == 90
        minutes = await stored_minutes(world)
        assert {a.user_id: a.replies for a in minutes.airtime} == {Seed.BOB: 45, Seed.CAROL: 45}
        minutes_message(world)  # posted once


# --- (c) replies after the close ---------------------------------------------------------------


async def test_replies_posted_after_the_close_are_not_read_back(world: World) -> None:
    slack, clock = world.slack, world.clock
    await start_meetup(world, **{"Length in minutes": "30"})
    first = prompt_messages(world)[0]
    post_unheard(slack, Seed.BOB, "Just in time", first.ts)
    clock.advance(timedelta(minutes=30))

    # While hearth reads the threads back (Slack first asks it to wait a moment), someone
    # replies: after the close moment, so not in the minutes, heard or not.
    slack.fail_next("conversations.replies", status=429, retry_after=1)
    late: list[str] = []

    def reply_while_reading() -> None:
        last = slack.calls[-1] if slack.calls else None
        if not late and last is not None and last.status == 429:
            clock.advance(timedelta(seconds=30))
            late.append(post_unheard(slack, Seed.CAROL, "A moment too late", first.ts))

    slack.on_change.append(reply_while_reading)
    await world.hearth.scheduler.run_due()
    await world.settle()
    slack.on_change.remove(reply_while_reading)
    assert late  # the late reply was there when the thread was read

    text = minutes_message(world).readable_text
    assert "Just in time" in text
    assert "A moment too late" not in text
    await slack.user(Seed.CAROL).say(CHANNEL, "After the minutes", thread_ts=first.ts)
    assert [r.text for r in await stored_replies(world)] == ["Just in time"]


# --- (d) history unavailable ---------------------------------------------------------------------


async def test_when_the_threads_cant_be_read_the_meetup_closes_with_a_note(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.presenters.meetup")
    await start_meetup(world)
    first = prompt_messages(world)[0]
    await world.slack.user(Seed.BOB).say(CHANNEL, "Heard live", thread_ts=first.ts)
    post_unheard(world.slack, Seed.CAROL, "Never heard", first.ts)
    world.clock.advance(timedelta(minutes=2))
    world.slack.fail_next("conversations.replies", error="not_in_channel")

    await world.slack.user(Seed.ALICE).click(opening(world), "End now")

    text = minutes_message(world).readable_text
    assert MAYBE_MISSING in text
    assert "Heard live" in text and "Never heard" not in text
    assert "ended" in opening(world).readable_text
    minutes = await stored_minutes(world)
    assert minutes.replies_may_be_missing
    assert any(
        "could not read its threads back" in r.getMessage() and "not_in_channel" in r.getMessage()
        for r in caplog.records
    )


async def test_when_slack_keeps_failing_the_close_still_happens_on_time(world: World) -> None:
    await start_meetup(world, **{"Length in minutes": "30"})
    first = prompt_messages(world)[0]
    post_unheard(world.slack, Seed.CAROL, "Never heard", first.ts)
    # A 503, then two more: the client's retries run out.
    world.slack.fail_next("conversations.replies", status=503, times=3)

    await world.advance(timedelta(minutes=30))

    text = minutes_message(world).readable_text
    assert MAYBE_MISSING in text and "Never heard" not in text
    assert len(replies_calls(world.slack)) == 3  # one read, tried three times, then given up
