"""Scheduled health checks end to end, under a clock the test controls: a check opens at its
local time (across a clock change), people who have not answered are reminded halfway (and
can answer from the reminder, or ask not to be reminded), and it closes on time with results;
across restarts, two processes, many communities at once, Slack failing, and schedules being
deleted or changed."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from bot.jobs import outbox as outbox_jobs
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import health_check_messages as messages
from bot.services import outbox
from bot.services.actor import Actor
from bot.services.health_check_types import DEFAULT_QUESTIONS, DEFAULT_SCALE, SettingsInput
from bot.services.recurrence import Cadence, Frequency
from models.health_check import HealthCheck
from models.outbox import OutboxMessage
from tests.e2e.conftest import World, running_hearth

TEAM = "T0HEARTH"
CHANNEL = Seed.PRACTICE
ALICE, BOB, CAROL = Seed.ALICE, Seed.BOB, Seed.CAROL

# Tuesdays at 10:00 London time; START is Monday 23 November 2026, 10:00 UTC (= London).
TUESDAYS = Cadence(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    anchor=date(2026, 11, 23),
)
OPENS = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
HALFWAY = OPENS + timedelta(days=1)  # open for the default two days
CLOSES = OPENS + timedelta(days=2)
FIRST_QUESTION = DEFAULT_QUESTIONS[0].title


async def schedule_checks(
    world: World,
    channel: str = CHANNEL,
    cadence: Cadence = TUESDAYS,
    settings: SettingsInput | None = None,
    *,
    lead: str = ALICE,
) -> int:
    """A community in `channel` running checks on `cadence`, set up through the services as
    the /health-check modal would."""
    now = world.clock.now()
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.community_for(s, Actor(TEAM, lead), channel, now)
        if settings is not None:
            await hc.update_settings(s, Actor(TEAM, lead), community, settings, now)
        await hc.set_cadence(s, Actor(TEAM, lead), community, cadence, now)
        community_id = community.id
    await world.hearth.scheduler.changed()
    return community_id


async def advance_to(world: World, moment: datetime) -> None:
    await world.advance(moment - world.clock.now())


def polls(slack: SlackEmulator, channel: str = CHANNEL) -> list[SeenMessage]:
    return [
        m
        for m in slack.user(ALICE).messages(channel)
        if m.from_bot
        and not m.ephemeral
        and m.has_text("Community health check")
        and not m.has_text("Community health check: results")
    ]


def results(slack: SlackEmulator, channel: str = CHANNEL) -> list[SeenMessage]:
    return [
        m
        for m in slack.user(ALICE).messages(channel)
        if m.from_bot and m.has_text("Community health check: results")
    ]


def reminders(slack: SlackEmulator, user: str) -> list[SeenMessage]:
    return [m for m in slack.user(user).dm() if m.from_bot and m.has_text("Don't remind me")]


async def answer_in_channel(world: World, user: str, question: str = FIRST_QUESTION) -> None:
    """Answer through the services, as the poll's button would (the poll's listener is
    tested with the poll)."""
    async with world.hearth.deps.sessionmaker.begin() as s:
        check = await s.scalar(select(HealthCheck).where(HealthCheck.closed_at.is_(None)))
        assert check is not None
        key = next(q.key for q in DEFAULT_QUESTIONS if q.title == question)
        await hc.answer(s, Actor(TEAM, user), check.id, key, "green", world.clock.now())


async def checks(world: World) -> list[HealthCheck]:
    async with world.hearth.deps.sessionmaker() as s:
        return list(await s.scalars(select(HealthCheck).order_by(HealthCheck.id)))


# --- a check's life -----------------------------------------------------------------------


async def test_a_scheduled_check_opens_reminds_halfway_and_closes_with_results(
    world: World,
) -> None:
    await schedule_checks(world)
    await advance_to(world, OPENS - timedelta(minutes=1))
    assert polls(world.slack) == []
    await advance_to(world, OPENS)
    [poll] = polls(world.slack)
    assert poll.has_text("How is our community doing?")
    [check] = await checks(world)
    assert (check.occurrence, check.opened_at, check.closes_at) == (OPENS, OPENS, CLOSES)
    assert check.message_ts == poll.ts

    await answer_in_channel(world, ALICE)
    await advance_to(world, HALFWAY - timedelta(minutes=1))
    assert reminders(world.slack, BOB) == []
    await advance_to(world, HALFWAY)
    # Bob and Carol have not answered; Alice has, and Dave is not in the channel.
    assert len(reminders(world.slack, BOB)) == 1
    assert len(reminders(world.slack, CAROL)) == 1
    assert reminders(world.slack, ALICE) == []
    [dm] = reminders(world.slack, BOB)
    assert FIRST_QUESTION in dm.readable_text
    assert f"<#{CHANNEL}>" in dm.all_text or "#practice" in dm.readable_text

    await advance_to(world, CLOSES - timedelta(minutes=1))
    assert results(world.slack) == []
    await advance_to(world, CLOSES)
    [posted] = results(world.slack)
    assert "1 of 3" in posted.readable_text or "1 person" in posted.readable_text
    [check] = await checks(world)
    assert check.closed_at == CLOSES and check.closed_by_id is None
    assert (check.member_count, check.respondent_count) == (3, 1)
    [poll] = polls(world.slack)
    assert poll.has_text("(closed)")
    # Nothing more happens, and nothing is left to do about this check.
    await world.advance(timedelta(hours=12))
    assert len(results(world.slack)) == 1 and len(reminders(world.slack, BOB)) == 1
    async with world.hearth.deps.sessionmaker() as s:
        owed = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        # The poll and the results went out; the reminders were forgotten at the close.
        assert [(m.purpose, m.state) for m in owed] == [
            (messages.POLL, "sent"),
            (messages.RESULTS, "sent"),
        ]
        assert (check.message_ts, check.results_ts) == (poll.ts, posted.ts)


async def run_now(world: World, community_id: int, lead: str = ALICE) -> int:
    """A lead runs a check by hand (the Slack layer posts it)."""
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        check = await hc.run_now(s, Actor(TEAM, lead), community, world.clock.now())
    await world.hearth.scheduler.changed()
    return check.id


async def test_a_check_run_by_hand_is_closed_before_the_scheduled_one_opens(
    world: World,
) -> None:
    day = SettingsInput(scale=DEFAULT_SCALE, open_hours=24)
    community_id = await schedule_checks(world, settings=day)
    await run_now(world, community_id)  # Monday 10:00, so it closes as the next one opens
    await advance_to(world, OPENS)
    by_hand, scheduled = await checks(world)
    assert by_hand.closed_at == OPENS and by_hand.occurrence is None
    assert scheduled.opened_at == OPENS and scheduled.closed_at is None
    assert len(results(world.slack)) == 1  # the check run by hand closed on time
    assert len(polls(world.slack)) == 1  # the scheduled poll (the other was never posted)

    # Next week a lead runs one an hour early: the scheduled one waits for it to close.
    await advance_to(world, OPENS + timedelta(days=7, hours=-1))
    await run_now(world, community_id)
    await advance_to(world, OPENS + timedelta(days=7, hours=23) - timedelta(minutes=1))
    assert [c.closed_at is None for c in await checks(world)] == [False, False, True]
    await advance_to(world, OPENS + timedelta(days=7, hours=23))
    *_, late = await checks(world)
    assert (late.occurrence, late.opened_at) == (
        OPENS + timedelta(days=7),
        OPENS + timedelta(days=7, hours=23),
    )
    assert late.closes_at == OPENS + timedelta(days=8)


async def test_checks_open_at_local_time_across_the_march_clock_change(
    slack: SlackEmulator, empty_database: str
) -> None:
    # Mondays at 10:00 London. Clocks go forward at 01:00 UTC on Sunday 28 March 2027.
    clock = ManualClock(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    mondays = Cadence(
        frequency=Frequency.WEEKLY,
        weekday=0,
        at=time(10, 0),
        time_zone="Europe/London",
        anchor=date(2027, 3, 1),
    )
    async with running_hearth(slack, empty_database, clock) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await schedule_checks(world, cadence=mondays)
        for moment in (
            datetime(2027, 3, 22, 10, 0, tzinfo=UTC),  # 10:00 GMT
            datetime(2027, 3, 29, 9, 0, tzinfo=UTC),  # 10:00 BST
        ):
            seen = len(polls(slack))
            await advance_to(world, moment - timedelta(minutes=1))
            assert len(polls(slack)) == seen, ("early", moment)
            await advance_to(world, moment)
            assert len(polls(slack)) == seen + 1, ("missing", moment)
        opened = [c.opened_at for c in await checks(world)]
        assert opened == [
            datetime(2027, 3, 22, 10, 0, tzinfo=UTC),
            datetime(2027, 3, 29, 9, 0, tzinfo=UTC),
        ]


# --- restarts and processes -----------------------------------------------------------------


async def test_a_check_missed_while_down_is_posted_on_return_within_its_window(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as hearth:
        await schedule_checks(World(slack, hearth, clock, empty_database))
    clock.set(OPENS + timedelta(hours=5))  # hearth was down when the check came due
    async with running_hearth(slack, empty_database, clock) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await world.advance(timedelta(0))
        assert len(polls(slack)) == 1
        [check] = await checks(world)
        # Opened late, it keeps the schedule's rhythm: it closes two days after its slot.
        assert (check.occurrence, check.opened_at) == (OPENS, OPENS + timedelta(hours=5))
        assert check.closes_at == CLOSES
    async with running_hearth(slack, empty_database, clock) as hearth:  # another restart
        await hearth.scheduler.run_due()
    assert len(polls(slack)) == 1


async def test_a_check_missed_for_its_whole_window_is_not_posted(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as hearth:
        await schedule_checks(World(slack, hearth, clock, empty_database))
    clock.set(CLOSES + timedelta(minutes=1))
    async with running_hearth(slack, empty_database, clock) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await world.advance(timedelta(0))
        assert polls(slack) == [] and await checks(world) == []
        # The next week's check still comes, on time.
        await advance_to(world, OPENS + timedelta(days=7))
        assert len(polls(slack)) == 1


async def test_two_processes_open_post_remind_and_close_a_check_once(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        await schedule_checks(World(slack, one, clock, empty_database))
        for moment in (OPENS, HALFWAY, CLOSES):
            clock.set(moment)
            await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
    assert len(polls(slack)) == 1
    assert len(results(slack)) == 1
    assert len(reminders(slack, BOB)) == 1 and len(reminders(slack, CAROL)) == 1
    assert len(reminders(slack, ALICE)) == 1


# --- many communities, Slack failing --------------------------------------------------------


async def test_thirty_communities_due_at_once_are_each_posted_once_despite_failures(
    world: World,
) -> None:
    channels = [f"C0CP{i:02}" for i in range(30)]
    for i, channel in enumerate(channels):
        world.slack.state.add_channel(
            channel, f"practice-{i}", members={ALICE, BOB, CAROL}, with_bot=True
        )
        await schedule_checks(world, channel)
    world.slack.limit_rate("chat.postMessage", 1, 1, per_channel=True)
    # Rate-limited answers, then server errors: the outbox tries those posts again after its
    # back-off (looking first for the ones Slack may have taken).
    world.slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    world.slack.fail_next("chat.postMessage", status=503, times=3)
    world.slack.fail_next("chat.postMessage", status=502, times=1)
    await advance_to(world, OPENS)
    posted = {c for c in channels if polls(world.slack, c)}
    assert len(channels) - len(posted) == 6
    await world.advance(timedelta(seconds=1))  # `Retry-After`: the rate-limited come back
    posted = {c for c in channels if polls(world.slack, c)}
    assert len(channels) - len(posted) == 4
    await world.advance(outbox.retry_delay(1) - timedelta(seconds=2))  # not before the back-off
    assert {c for c in channels if polls(world.slack, c)} == posted
    await world.advance(timedelta(minutes=1))
    for channel in channels:
        assert len(polls(world.slack, channel)) == 1, channel
    made = await checks(world)
    assert len(made) == 30 and all(c.message_ts for c in made)
    ok = [c for c in world.slack.calls_to("chat.postMessage") if c.ok]
    assert len(ok) == 30
    assert not [
        c
        for c in world.slack.calls_to("chat.postMessage")
        if c.status == 429 and c.injected is None
    ]  # the per-channel limit was never hit


async def test_a_reminder_round_that_partly_fails_reaches_nobody_twice(world: World) -> None:
    await schedule_checks(world)
    await advance_to(world, OPENS)
    # Slack fails one of the DMs with an error it may not make next time; the others go out.
    world.slack.fail_next("chat.postMessage", error="fatal_error")
    await advance_to(world, HALFWAY)
    reached = [u for u in (ALICE, BOB, CAROL) if reminders(world.slack, u)]
    assert len(reached) == 2
    async with world.hearth.deps.sessionmaker() as s:
        waiting = await s.scalar(
            select(OutboxMessage).where(
                OutboxMessage.purpose == messages.REMINDER, OutboxMessage.state == "pending"
            )
        )
        assert waiting is not None and waiting.attempts == 1
    await world.advance(timedelta(minutes=1))
    for user in (ALICE, BOB, CAROL):
        assert len(reminders(world.slack, user)) == 1, user
    await world.advance(timedelta(hours=1))
    assert sum(len(reminders(world.slack, u)) for u in (ALICE, BOB, CAROL)) == 3


# --- schedules deleted or changed -------------------------------------------------------------


async def test_nothing_fires_from_a_deleted_schedule(world: World) -> None:
    community_id = await schedule_checks(world)
    await world.advance(timedelta(minutes=1))
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await hc.delete_cadence(s, Actor(TEAM, ALICE), community, world.clock.now())
    await world.hearth.scheduler.changed()
    await advance_to(world, OPENS + timedelta(days=30))
    assert polls(world.slack) == [] and await checks(world) == []
    assert [c for c in world.slack.calls_to("chat.postMessage") if c.ok] == []


async def test_a_changed_set_up_drops_what_was_planned_for_the_old_one(world: World) -> None:
    community_id = await schedule_checks(world)
    stale = [
        j for j in await world.hearth.scheduler.planned() if j.key.startswith("health_check.open")
    ]
    assert len(stale) == 1
    later = Cadence(
        frequency=Frequency.WEEKLY,
        weekday=1,
        at=time(15, 0),
        time_zone="Europe/London",
        anchor=date(2026, 11, 23),
    )
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await hc.set_cadence(s, Actor(TEAM, ALICE), community, later, world.clock.now())
    await world.hearth.scheduler.changed()
    world.clock.set(OPENS)
    for job in stale:  # a timer planned for the old set-up goes off anyway
        await job.func(*job.args)
    await world.advance(timedelta(0))
    assert polls(world.slack) == []
    await advance_to(world, OPENS + timedelta(hours=5))
    assert len(polls(world.slack)) == 1
    [check] = await checks(world)
    assert check.occurrence == OPENS + timedelta(hours=5)


# --- the reminder's buttons -------------------------------------------------------------------


async def test_dont_remind_me_is_respected_at_the_next_check(world: World) -> None:
    await schedule_checks(world)
    await advance_to(world, OPENS)
    await advance_to(world, HALFWAY)
    [dm] = reminders(world.slack, BOB)
    result = await world.slack.user(BOB).click(dm, "Don't remind me")
    assert result.ok
    notes = [
        m.readable_text for m in world.slack.user(BOB).dm() if "won't remind you" in m.readable_text
    ]
    assert len(notes) == 1
    await advance_to(world, OPENS + timedelta(days=7))
    await advance_to(world, HALFWAY + timedelta(days=7))
    assert len(reminders(world.slack, BOB)) == 1  # still only last week's
    assert len(reminders(world.slack, CAROL)) == 2


async def test_answering_from_the_reminder_counts_like_the_poll(world: World) -> None:
    await schedule_checks(world)
    await advance_to(world, OPENS)
    await advance_to(world, HALFWAY)
    [dm] = reminders(world.slack, CAROL)
    result = await world.slack.user(CAROL).click(
        dm, ":large_green_circle: Going well", near=FIRST_QUESTION
    )
    assert result.ok
    [check] = await checks(world)
    async with world.hearth.deps.sessionmaker() as s:
        assert await hc.respondent_count(s, TEAM, check.id) == 1
        assert await hc.non_answerers(s, TEAM, check.id, [ALICE, BOB, CAROL]) == [ALICE, BOB]
    await advance_to(world, CLOSES)
    [check] = await checks(world)
    assert check.respondent_count == 1


async def test_communities_due_together_are_posted_a_few_at_a_time(world: World) -> None:
    """Fired all at once, as the live scheduler does, the posts are bounded in flight."""
    channels = [f"C0CQ{i:02}" for i in range(12)]
    for i, channel in enumerate(channels):
        world.slack.state.add_channel(channel, f"cop-{i}", members={ALICE, BOB}, with_bot=True)
        await schedule_checks(world, channel)
    client = world.hearth.deps.outbox._client  # what the outbox posts with
    post = client.chat_postMessage
    in_flight, most = 0, 0

    async def counting(**kwargs: object) -> object:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.01)
            return await post(**kwargs)
        finally:
            in_flight -= 1

    client.chat_postMessage = counting  # type: ignore[method-assign]
    world.clock.set(OPENS)
    due = [j for j in await world.hearth.scheduler.planned() if j.due_at <= OPENS]
    assert len(due) == len(channels)
    await asyncio.gather(*(j.func(*j.args) for j in due), *(j.func(*j.args) for j in due))
    await world.settle()
    assert 1 < most <= outbox_jobs.MAX_CONCURRENT_CHANNELS
    for channel in channels:
        assert len(polls(world.slack, channel)) == 1, channel
