"""Health checks while Slack has a bad day: the poll, the results and the reminder DMs are
owed through the outbox, so each is posted exactly once, late rather than lost, whether Slack
answers 500 several times running, answers 504 after it actually posted, rate-limits with
`Retry-After`, can never reach some people, or hearth restarts in the middle of a round; and
whom a round reminded is not kept once the check has closed. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.server import Call, SlackEmulator
from bot.jobs.outbox import metadata_for
from bot.services import health_check_messages as messages
from bot.services import outbox
from models.base import Base
from models.health_check import HealthCheck
from models.minutes import Minutes
from models.outbox import OutboxMessage
from tests.e2e.conftest import World, running_hearth
from tests.e2e.health_check_steps import answer, health_check, poll, polls, results_posts
from tests.e2e.helpers import CHANNEL
from tests.e2e.test_health_check_forensics import sqlite_bytes
from tests.e2e.test_health_check_schedule import (
    CLOSES,
    HALFWAY,
    OPENS,
    advance_to,
    answer_in_channel,
    reminders,
    schedule_checks,
)

ALICE = Seed.ALICE
CROWD = "C0CROWD01"
PEOPLE = [f"U0PERSON{i:02}" for i in range(1, 21)]


async def retry(world: World, attempts: int = 1) -> None:
    """Let the outbox's back-off pass `attempts` times."""
    for attempt in range(1, attempts + 1):
        await world.advance(outbox.retry_delay(attempt))


async def the_check(world: World) -> HealthCheck:
    async with world.hearth.deps.sessionmaker() as session:
        check = await session.scalar(select(HealthCheck).order_by(HealthCheck.id.desc()))
        assert check is not None
        return check


def a_crowd(slack: SlackEmulator) -> None:
    """A channel of Alice (its lead) and twenty people who never did anything in hearth."""
    for i, person in enumerate(PEOPLE, start=1):
        slack.state.add_user(person, f"person{i}")
    slack.state.add_channel(CROWD, "crowd", members={ALICE, *PEOPLE}, with_bot=True)


def dm_posts(slack: SlackEmulator, person: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == person]


# --- the poll -------------------------------------------------------------------------------


async def test_a_scheduled_poll_survives_a_run_of_500s_and_is_posted_once(world: World) -> None:
    await schedule_checks(world)
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await advance_to(world, OPENS)
    assert polls(world) == []
    await retry(world, 2)  # the second and third tries fail too
    assert polls(world) == []
    await world.advance(outbox.retry_delay(3))  # the fourth goes through
    [posted] = polls(world)
    assert (await the_check(world)).message_ts == posted.ts
    await world.advance(timedelta(hours=1))
    assert len(polls(world)) == 1


async def test_a_poll_slack_answers_504_after_posting_is_posted_once_and_works(
    world: World,
) -> None:
    world.slack.fail_next("chat.postMessage", status=504, after_success=True)
    await health_check(world, ALICE, "now")
    assert len(polls(world)) == 1  # Slack posted; hearth heard a 504
    assert (await the_check(world)).message_ts is None
    await retry(world)
    [posted] = polls(world)  # found in the channel, not posted again
    assert (await the_check(world)).message_ts == posted.ts
    assert len([c for c in world.slack.calls_to("chat.postMessage") if c.ok]) == 0
    # It is the check's poll now: answers count on it.
    await answer(world, Seed.BOB, "value", "green")
    assert "1 person has answered" in poll(world).readable_text


async def test_a_poll_rate_limited_waits_for_retry_after(world: World) -> None:
    await schedule_checks(world)
    world.slack.fail_next("chat.postMessage", status=429, retry_after=30)
    await advance_to(world, OPENS)
    await world.advance(timedelta(seconds=29))  # past the back-off, not past Retry-After
    assert polls(world) == []
    await world.advance(timedelta(seconds=1))
    assert len(polls(world)) == 1
    assert len(world.slack.calls_to("chat.postMessage")) == 2


# --- the results ----------------------------------------------------------------------------


async def test_results_closed_early_survive_a_run_of_500s_and_are_posted_once(
    world: World,
) -> None:
    await health_check(world, ALICE, "now")
    for person in (ALICE, Seed.BOB, Seed.CAROL):
        await answer(world, person, "value", "green")
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    await world.slack.user(ALICE).click(poll(world), "Close now and show results")
    assert results_posts(world) == []
    assert poll(world).has_text("(closed)")  # the poll is redrawn at once all the same
    await retry(world, 3)
    [posted] = results_posts(world)
    assert (await the_check(world)).results_ts == posted.ts
    async with world.hearth.deps.sessionmaker() as session:
        minutes = await session.scalar(select(Minutes))
    assert minutes is not None and minutes.posted_ts == posted.ts
    await world.advance(timedelta(hours=1))
    assert len(results_posts(world)) == 1


async def test_results_slack_answers_504_after_posting_are_posted_once(world: World) -> None:
    await schedule_checks(world)
    await advance_to(world, OPENS)
    await answer_in_channel(world, ALICE)
    await advance_to(world, CLOSES - timedelta(minutes=1))
    world.slack.fail_next("chat.postMessage", status=504, after_success=True)
    await advance_to(world, CLOSES)
    assert len(results_posts(world)) == 1  # Slack posted; hearth heard a 504
    await retry(world)
    [posted] = results_posts(world)
    assert (await the_check(world)).results_ts == posted.ts
    posts = world.slack.calls_to("chat.postMessage")
    in_channel = [c for c in posts if c.params.get("channel") == CHANNEL]
    assert len(in_channel) == 2  # the poll, the results answered 504; nothing more
    assert len(world.slack.calls_to("conversations.history")) >= 1  # looked before resending


# --- reminder DMs ---------------------------------------------------------------------------


async def test_twenty_reminders_with_some_undeliverable_and_a_429_reach_each_person_once(
    world: World,
) -> None:
    a_crowd(world.slack)
    await schedule_checks(world, CROWD)
    await advance_to(world, OPENS)
    await answer_in_channel(world, ALICE)
    # The first DMs: two people Slack can never reach, one rate limit, one more unreachable.
    world.slack.fail_next("chat.postMessage", error="user_disabled", times=2)
    world.slack.fail_next("chat.postMessage", status=429, retry_after=30)
    world.slack.fail_next("chat.postMessage", error="user_disabled")
    await advance_to(world, HALFWAY)

    refused = [
        c.params["channel"]
        for c in world.slack.calls_to("chat.postMessage")
        if c.response.get("error") == "user_disabled"
    ]
    [limited] = [
        c.params["channel"] for c in world.slack.calls_to("chat.postMessage") if c.status == 429
    ]
    assert len(refused) == 3 and limited not in refused
    reachable = [p for p in PEOPLE if p not in refused]
    assert len(reachable) == 17
    for person in reachable:
        assert len(reminders(world.slack, person)) == (0 if person == limited else 1), person
    await world.advance(timedelta(seconds=29))
    assert reminders(world.slack, limited) == []  # Retry-After is honoured
    await world.advance(timedelta(seconds=1))
    assert len(reminders(world.slack, limited)) == 1

    await world.advance(timedelta(hours=2))
    for person in reachable:
        assert len(reminders(world.slack, person)) == 1, person
    for person in refused:
        assert reminders(world.slack, person) == [], person
        assert len(dm_posts(world.slack, person)) == 1, "never tried again"
    assert reminders(world.slack, ALICE) == []  # she had answered
    async with world.hearth.deps.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == messages.REMINDER)
            )
        )
    assert sorted(r.state for r in rows) == ["failed"] * 3 + ["sent"] * 17
    assert {r.channel for r in rows} == {messages.NOBODY}, "a sent row names nobody"


async def test_hearth_restarting_mid_round_reminds_nobody_twice(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    a_crowd(slack)
    async with running_hearth(slack, empty_database, clock) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await schedule_checks(world, CROWD)
        await advance_to(world, OPENS)
        await answer_in_channel(world, ALICE)
        # Slack takes two DMs but the answers are lost; three more fail outright.
        slack.fail_next("chat.postMessage", status=504, after_success=True, times=2)
        slack.fail_next("chat.postMessage", status=500, times=3)
        await advance_to(world, HALFWAY)
        assert sum(1 for p in PEOPLE if reminders(slack, p)) == 17
        # Then the process dies half-way through its next try: it had claimed one of those
        # DMs, looked for it, found nothing, and Slack posted it, but it never recorded that.
        clock.advance(outbox.retry_delay(1))
        async with hearth.deps.sessionmaker.begin() as session:
            attempts = await outbox.claim_due(session, clock.now())
        [dying, *_] = [a for a in attempts if not reminders(slack, a.channel)]
        web = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        await web.chat_postMessage(
            channel=dying.channel,
            text=dying.text,
            blocks=dying.blocks,
            metadata=metadata_for(dying.key),
        )
    assert sum(1 for p in PEOPLE if reminders(slack, p)) == 18

    async with running_hearth(slack, empty_database, clock) as hearth:  # hearth is back
        world = World(slack, hearth, clock, empty_database)
        await world.advance(timedelta(0))
        await world.advance(outbox.LEASE + timedelta(seconds=1))  # the dead claim runs out
        await world.advance(timedelta(minutes=10))
    for person in PEOPLE:
        assert len(reminders(slack, person)) == 1, person
    assert reminders(slack, ALICE) == []


# --- anonymity ------------------------------------------------------------------------------


async def test_whom_a_round_reminded_is_not_kept_once_the_check_closes(world: World) -> None:
    """Reminders go to people who had not answered; once the check closes, no stored row
    (and, on SQLite, no byte of the database files) says whom they went to."""
    a_crowd(world.slack)
    await schedule_checks(world, CROWD)
    await advance_to(world, OPENS)
    assert (await the_check(world)).anonymous
    quiet = PEOPLE[:2]
    for person in [ALICE, *PEOPLE[2:]]:
        await answer_in_channel(world, person)
    world.slack.fail_next("chat.postMessage", status=500)  # one of them waits
    await advance_to(world, HALFWAY)
    async with world.hearth.deps.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == messages.REMINDER)
            )
        )
    by_state = {r.state: r for r in rows}
    assert sorted(by_state) == ["pending", "sent"]
    assert by_state["sent"].channel == messages.NOBODY, "a sent reminder names nobody"
    waiting = by_state["pending"].channel  # the outbox needs it until Slack takes the DM
    assert waiting in quiet
    assert not any(p in r.key for r in rows for p in quiet)
    if world.database_url.startswith("sqlite"):
        # The scan below must be able to see an id, or its passing would prove nothing.
        assert waiting.encode() in sqlite_bytes(world.database_url)
    await retry(world)
    assert all(len(reminders(world.slack, p)) == 1 for p in quiet)

    await advance_to(world, CLOSES)
    assert len(results_posts(world, CROWD)) == 1
    await world.advance(timedelta(minutes=2))  # the job that makes the database forget
    assert (await the_check(world)).forgotten_at is not None
    async with world.hearth.deps.sessionmaker() as session:
        stored = [
            str(value)
            for table in Base.metadata.sorted_tables
            for row in (await session.execute(select(table))).all()
            for value in row
        ]
    for person in quiet:
        assert not any(person in value for value in stored), f"{person} is still stored"
    # SQLite overwrites what was deleted or changed (`secure_delete`) and the forgetting job
    # empties its write-ahead log. PostgreSQL keeps the old versions of the outbox's rows in
    # its pages until the space is reused, so there only the stored rows are checked.
    if world.database_url.startswith("sqlite"):
        files = sqlite_bytes(world.database_url)
        for person in quiet:
            assert person.encode() not in files, f"{person} is still in the database files"
