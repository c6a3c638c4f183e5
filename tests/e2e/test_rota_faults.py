"""The rota's messages while Slack, or hearth, has a bad day: the facilitator's reminder DM
(with its hand-over pack) and the day's announcement in the channel are owed through the
outbox, so each is posted exactly once, late rather than lost, and never twice: through a
run of 500s, a 504 after Slack had posted, a 429 with `Retry-After`, and hearth stopping
halfway and starting again. A DM Slack can never deliver is given up where it can be seen,
and the rest of the meetup's messages still go out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.blocks.rota import when as blocks_when
from bot.clock import ManualClock
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from bot.jobs.outbox import metadata_for
from bot.services import community as community_service
from bot.services import outbox, rota
from bot.services.actor import Actor
from models.outbox import OutboxMessage
from models.rota import Meetup
from models.rota_reminders import RotaNotice
from tests.e2e.conftest import World, running_hearth
from tests.e2e.rota_steps import dms, last_note, set_up
from tests.e2e.rota_steps import rota as rota_command
from tests.e2e.test_rota_reminders import (
    ALICE,
    ANNOUNCEMENT,
    BOB,
    CAROL,
    CHANNEL,
    ENDS,
    FIRST,
    REMINDER,
    TEAM,
    advance_to,
    announcements,
    reminders,
    set_up_rota,
    step_in_asks,
)


@dataclass(frozen=True)
class Scheduled:
    """One of the rota's scheduled messages: when it is due, where it goes, how to see it."""

    kind: str
    due: datetime
    channel: str
    seen: Callable[[SlackEmulator], list[SeenMessage]]


REMINDER_DM = Scheduled("reminder", REMINDER, ALICE, lambda slack: reminders(slack, ALICE))
ANNOUNCEMENT_POST = Scheduled("announcement", ANNOUNCEMENT, CHANNEL, announcements)
BOTH = pytest.mark.parametrize(
    "message", [REMINDER_DM, ANNOUNCEMENT_POST], ids=["reminder", "announcement"]
)


async def ready_for(world: World, message: Scheduled) -> None:
    """The rota set up, and everything before `message` done. For the announcement, Alice
    has confirmed, so it is the only message on the day (nobody is asked to step in)."""
    community_id = await set_up_rota(world)
    await advance_to(world, message.due - timedelta(minutes=1))
    if message is ANNOUNCEMENT_POST:
        async with world.hearth.deps.sessionmaker.begin() as s:
            community = await community_service.get_community(s, TEAM, community_id)
            meetup = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
            assert meetup is not None
            await rota.confirm(s, Actor(TEAM, ALICE), community, meetup.id, world.clock.now())
    await advance_to(world, message.due - timedelta(seconds=1))


def posts_to(world: World, channel: str) -> list[int]:
    """The HTTP status of each `chat.postMessage` hearth made to `channel`."""
    return [
        c.status
        for c in world.slack.calls_to("chat.postMessage")
        if c.params.get("channel") == channel
    ]


async def row_of(world: World, kind: str) -> tuple[RotaNotice, OutboxMessage]:
    """The notice of `kind` about the first meetup, and its message in the outbox."""
    async with world.hearth.deps.sessionmaker() as s:
        notice = await s.scalar(
            select(RotaNotice).where(RotaNotice.kind == kind, RotaNotice.starts_at == FIRST)
        )
        assert notice is not None
        owed = await s.scalar(
            select(OutboxMessage).where(
                OutboxMessage.purpose == "rota.notice", OutboxMessage.subject_id == notice.id
            )
        )
        assert owed is not None
        return notice, owed


def swap_requests(world: World, user_id: str, *, asking: bool = True) -> list[SeenMessage]:
    """The swap requests in `user_id`'s DMs (`asking`: still asking, or withdrawn since)."""
    words = "asks if you could facilitate" if asking else "withdrew this request"
    return [m for m in dms(world, user_id) if words in m.all_text]


async def retry(world: World, attempts: int = 1) -> None:
    """Let the outbox's back-off pass `attempts` times."""
    for attempt in range(1, attempts + 1):
        await world.advance(outbox.retry_delay(attempt))


# --- Slack failing ------------------------------------------------------------------------


@BOTH
async def test_a_run_of_500s_delays_the_message_which_is_posted_once(
    world: World, message: Scheduled
) -> None:
    await ready_for(world, message)
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await advance_to(world, message.due)
    assert message.seen(world.slack) == []
    notice, owed = await row_of(world, message.kind)
    assert (notice.outcome, owed.state, owed.attempts) == ("owed", "pending", 1)

    await retry(world, 2)
    assert message.seen(world.slack) == []
    await world.advance(outbox.retry_delay(3) - timedelta(seconds=1))
    assert message.seen(world.slack) == []
    await world.advance(timedelta(seconds=1))
    [posted] = message.seen(world.slack)
    # Late by the back-off: 5 s, 10 s and 20 s after each failure.
    assert float(posted.ts) == (message.due + timedelta(seconds=35)).timestamp()
    await world.advance(timedelta(hours=1))
    assert len(message.seen(world.slack)) == 1
    assert posts_to(world, message.channel) == [500, 500, 500, 200]
    notice, owed = await row_of(world, message.kind)
    assert (notice.outcome, notice.message_ts) == ("sent", posted.ts)
    assert (owed.state, owed.attempts) == ("sent", 4)


@BOTH
async def test_a_504_after_slack_posted_is_not_posted_again(
    world: World, message: Scheduled
) -> None:
    await ready_for(world, message)
    world.slack.fail_next("chat.postMessage", status=504, after_success=True)
    await advance_to(world, message.due)
    [posted] = message.seen(world.slack)  # Slack took it; hearth heard 504
    notice, owed = await row_of(world, message.kind)
    assert (notice.outcome, owed.state, owed.maybe_sent) == ("owed", "pending", True)

    await retry(world)  # looked for (by the key in its metadata) and found: not sent again
    await world.advance(timedelta(hours=1))
    assert message.seen(world.slack) == [posted]
    assert posts_to(world, message.channel) == [504]
    notice, owed = await row_of(world, message.kind)
    assert (notice.outcome, notice.message_ts) == ("sent", posted.ts)
    assert (owed.state, owed.sent_ts) == ("sent", posted.ts)


@BOTH
async def test_a_429_waits_as_long_as_slack_asks(world: World, message: Scheduled) -> None:
    await ready_for(world, message)
    world.slack.fail_next("chat.postMessage", status=429, retry_after=30)
    await advance_to(world, message.due)
    assert message.seen(world.slack) == []
    await world.advance(timedelta(seconds=29))  # longer than the back-off, shorter than asked
    assert message.seen(world.slack) == []
    await world.advance(timedelta(seconds=1))
    [posted] = message.seen(world.slack)
    assert float(posted.ts) >= (message.due + timedelta(seconds=30)).timestamp()
    assert posts_to(world, message.channel) == [429, 200]


async def test_slack_down_until_the_meetup_starts_gives_the_reminder_up(world: World) -> None:
    """A reminder is no use once the meetup has begun: the outbox stops trying then."""
    await ready_for(world, REMINDER_DM)
    world.slack.fail_next("chat.postMessage", status=503, times=10_000)
    await advance_to(world, REMINDER)
    await advance_to(world, FIRST - timedelta(minutes=5))
    notice, owed = await row_of(world, "reminder")
    assert owed.state == "pending"
    world.slack.clear_failures()
    await advance_to(world, FIRST + timedelta(minutes=5))
    assert reminders(world.slack, ALICE) == []
    notice, owed = await row_of(world, "reminder")
    assert (notice.outcome, owed.state) == ("failed", "failed")
    assert owed.give_up_at == FIRST


async def test_a_reminder_still_waiting_for_slack_is_taken_back_when_the_meetup_is_cancelled(
    world: World,
) -> None:
    await ready_for(world, REMINDER_DM)
    world.slack.fail_next("chat.postMessage", status=503, times=10_000)
    await advance_to(world, REMINDER)
    _notice, owed = await row_of(world, "reminder")
    assert owed.state == "pending"

    await rota_command(world, ALICE)
    alice = world.slack.user(ALICE)
    overview = alice.messages(CHANNEL)[-1]
    await alice.click(overview, "Cancel this meetup", near=blocks_when(FIRST))
    world.slack.clear_failures()
    await world.advance(timedelta(minutes=30))

    assert reminders(world.slack, ALICE) == [], "no reminder for a cancelled meetup"
    _notice, owed = await row_of(world, "reminder")
    assert owed.state == "withdrawn"


async def test_an_undeliverable_reminder_is_given_up_visibly_and_the_rest_goes_on(
    world: World,
) -> None:
    await ready_for(world, REMINDER_DM)
    # Alice's account was deactivated after she joined the rota.
    world.slack.fail_next("chat.postMessage", error="user_disabled")
    await advance_to(world, REMINDER)
    assert reminders(world.slack, ALICE) == []
    notice, owed = await row_of(world, "reminder")
    assert (owed.state, owed.last_error, owed.attempts) == ("failed", "user_disabled", 1)
    assert notice.outcome == "failed"
    async with world.hearth.deps.sessionmaker() as s:
        assert (await outbox.health(s, world.clock.now())).given_up == 1
    await world.advance(timedelta(hours=1))
    tries = [c for c in world.slack.calls_to("chat.postMessage") if c.params["channel"] == ALICE]
    assert [c.ok for c in tries] == [False]  # one try: Slack will never take it

    # The rest of the meetup's messages still go out, and the turn still moves on.
    await advance_to(world, ANNOUNCEMENT)
    assert len(announcements(world.slack)) == 1
    assert len(step_in_asks(world.slack, BOB)) == 1
    await advance_to(world, ENDS)
    async with world.hearth.deps.sessionmaker() as s:
        held = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
        assert held is not None and held.status == "held"


# --- hearth stopping ----------------------------------------------------------------------


async def test_hearth_stopping_after_owing_a_reminder_sends_it_once_on_restart(
    slack: SlackEmulator, empty_database: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        await set_up_rota(World(slack, first, clock, empty_database))
        await first.scheduler.run_due()
        clock.set(REMINDER)
        [job] = [
            j
            for j in await first.scheduler.planned()
            if j.key.startswith("rota.reminder:") and j.args[1].starts_at == FIRST
        ]
        # The job claims the reminder and owes it; hearth stops before the outbox sends it.
        monkeypatch.setattr(first.deps.outbox, "kick", lambda: None)
        await job.func(*job.args)
    assert reminders(slack, ALICE) == []

    clock.advance(timedelta(minutes=3))
    async with running_hearth(slack, empty_database, clock) as second:
        await World(slack, second, clock, empty_database).advance(timedelta(0))
    async with running_hearth(slack, empty_database, clock) as third:
        await World(slack, third, clock, empty_database).advance(timedelta(minutes=10))
        async with third.deps.sessionmaker() as s:
            count = await s.scalar(select(func.count()).select_from(OutboxMessage))
    assert len(reminders(slack, ALICE)) == 1
    assert count == 1


async def test_hearth_stopping_mid_send_after_slack_posted_does_not_post_again(
    slack: SlackEmulator, empty_database: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        world = World(slack, first, clock, empty_database)
        await set_up_rota(world)
        await first.scheduler.run_due()
        # At the reminder's time, the outbox claims it and Slack posts it, and hearth stops
        # before it hears back (the claim done, the post made, nothing recorded).
        clock.set(REMINDER)
        [job] = [
            j
            for j in await first.scheduler.planned()
            if j.key.startswith("rota.reminder:") and j.args[1].starts_at == FIRST
        ]
        monkeypatch.setattr(first.deps.outbox, "kick", lambda: None)
        await job.func(*job.args)
        async with first.deps.sessionmaker.begin() as s:
            [attempt] = await outbox.claim_due(s, clock.now())
        await first.deps.client.chat_postMessage(
            channel=attempt.channel,
            text=attempt.text,
            blocks=attempt.blocks,
            metadata=metadata_for(attempt.key),
        )
    [posted] = reminders(slack, ALICE)

    async with running_hearth(slack, empty_database, clock) as second:
        world = World(slack, second, clock, empty_database)
        await world.advance(timedelta(seconds=1))  # still held by the dead process's lease
        await world.advance(outbox.LEASE)
        await world.advance(timedelta(hours=1))
        notice, owed = await row_of(world, "reminder")
    assert reminders(slack, ALICE) == [posted]
    assert (owed.state, owed.sent_ts, notice.outcome, notice.message_ts) == (
        "sent",
        posted.ts,
        "sent",
        posted.ts,
    )


# --- messages a click owes ----------------------------------------------------------------


async def test_a_swap_request_slack_fails_to_take_is_posted_once_and_can_be_withdrawn(
    world: World,
) -> None:
    await set_up(world, ALICE, BOB)
    world.slack.fail_next("chat.postMessage", status=500, times=2)
    await rota_command(world, ALICE, "swap @carol")
    note = last_note(world, ALICE)
    assert "I've asked @carol" in note.readable_text  # the swap is saved; the DM is owed
    assert swap_requests(world, CAROL) == []

    await retry(world, 2)
    [request] = swap_requests(world, CAROL)
    assert request.buttons == ["Accept", "Decline"]
    await world.advance(timedelta(hours=1))
    assert len(swap_requests(world, CAROL)) == 1

    # Withdrawing redraws the request where it landed, as the outbox recorded it.
    await world.slack.user(ALICE).click(note, "Withdraw the request")
    [redrawn] = swap_requests(world, CAROL, asking=False)
    assert redrawn.ts == request.ts and redrawn.buttons == []
    assert "@alice withdrew this request" in redrawn.readable_text
