"""Scheduled posts whose process is killed with SIGKILL while it sends them: the rota's reminder
DM, a health check's poll, a chat meetup's second prompt. In each, the process that came to the
due time first (only it has been told the new time) claims the firing, owes the message, starts
sending it, and dies while Slack holds the request. The survivor on PostgreSQL, or a process
started afterwards on SQLite, sends it exactly once, by itself, within seconds. Health-check
answers acknowledged before a kill are all counted when the check closes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import rota
from bot.services.actor import Actor
from bot.services.recurrence import Cadence, Frequency
from models.health_check import HealthCheck, HealthCheckAnswer, HealthCheckResult
from models.rota_reminders import RotaNotice
from tests.faults.harness import START, Cluster, HearthProcess, eventually
from tests.faults.steps import (
    CHANNEL,
    begin,
    bot_posts,
    dm_posts,
    held_calls,
    kill_and_carry_on,
    kill_once_held,
    owed,
    recover,
    replies,
)

TEAM = "T0HEARTH"
ALICE, BOB, CAROL = Seed.ALICE, Seed.BOB, Seed.CAROL

# Meetups on Thursdays at 18:00 London time; the facilitator is reminded two days before.
THURSDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=3,
    at=time(18, 0),
    time_zone="Europe/London",
    starts_on=START.date(),
)
FIRST_MEETUP = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
REMINDER = FIRST_MEETUP - timedelta(days=2)
# Health checks on Tuesdays at 10:00 London time, open for two days.
TUESDAYS = Cadence(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    anchor=date(2026, 11, 23),
)
OPENS = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=2)


async def send_held_then_kill(cluster: Cluster, due: datetime, *, posted: bool) -> HearthProcess:
    """Move time to `due` for one process only; Slack holds its post (having `posted` it, or
    not); it is killed waiting. The others then learn the time, without being told to look."""
    victim = cluster.live[0]
    before = len(held_calls(cluster.slack))
    cluster.slack.fail_next(
        "chat.postMessage", timeout=True, hold_seconds=120, after_success=posted
    )
    await cluster.advance_to(due, only=[victim])
    await kill_once_held(cluster, victim, before)
    await cluster.tell_clock(resync=False)
    return victim


# --- the rota's reminder ---------------------------------------------------------------------


def reminders(cluster: Cluster) -> list[str]:
    return dm_posts(cluster.slack, ALICE, "Your turn to facilitate")


async def reminder_notice(cluster: Cluster) -> RotaNotice | None:
    async with cluster.sessionmaker() as session:
        return await session.scalar(
            select(RotaNotice).where(
                RotaNotice.kind == "reminder", RotaNotice.starts_at == FIRST_MEETUP
            )
        )


async def test_a_rota_reminder_whose_sender_is_killed_is_sent_once(cluster: Cluster) -> None:
    await begin(cluster)
    now = cluster.clock.now()
    async with cluster.sessionmaker.begin() as session:  # as the /rota modal would
        community = await community_service.community_for(session, Actor(TEAM, ALICE), CHANNEL, now)
        await rota.set_schedule(session, Actor(TEAM, ALICE), community, THURSDAYS, now)
        for i, person in enumerate((ALICE, BOB, CAROL)):
            await rota.join(session, Actor(TEAM, person), community, now + timedelta(seconds=i))
    await cluster.advance_to(REMINDER - timedelta(minutes=1))
    await cluster.outbox_drained()
    assert reminders(cluster) == []

    # Slack posts the DM; the answer never comes; the sender dies waiting.
    await send_held_then_kill(cluster, REMINDER, posted=True)
    assert len(reminders(cluster)) == 1
    notice = await reminder_notice(cluster)
    assert notice is not None and notice.outcome == "owed"

    async def sent() -> bool:
        found = await reminder_notice(cluster)
        return found is not None and found.outcome == "sent"

    await recover(cluster, sent, "the reminder found in the DM and recorded", replace=False)
    assert len(reminders(cluster)) == 1, "looked for (and found) before sending again"
    assert cluster.slack.calls_to("conversations.history")
    await cluster.advance(timedelta(hours=1))
    await cluster.outbox_drained()
    assert len(reminders(cluster)) == 1
    notice = await reminder_notice(cluster)
    assert notice is not None and notice.message_ts == reminders(cluster)[0]


# --- a health check's poll, and answers acknowledged before a kill -------------------------------


def polls(cluster: Cluster) -> list[str]:
    return [
        ts
        for ts in bot_posts(cluster.slack, "Community health check")
        if ts not in bot_posts(cluster.slack, "Community health check: results")
    ]


async def the_check(cluster: Cluster) -> HealthCheck | None:
    async with cluster.sessionmaker() as session:
        return await session.scalar(select(HealthCheck))


async def test_a_health_check_poll_and_its_answers_survive_kill_9(cluster: Cluster) -> None:
    slack = cluster.slack
    await begin(cluster)
    now = cluster.clock.now()
    async with cluster.sessionmaker.begin() as session:  # as the /health-check modal would
        community = await community_service.community_for(session, Actor(TEAM, ALICE), CHANNEL, now)
        await hc.set_cadence(session, Actor(TEAM, ALICE), community, TUESDAYS, now)
    await cluster.advance_to(OPENS - timedelta(minutes=1))
    assert polls(cluster) == []

    # Slack holds the poll and never posts it; the sender dies waiting.
    await send_held_then_kill(cluster, OPENS, posted=False)
    assert polls(cluster) == []

    async def posted() -> bool:
        check = await the_check(cluster)
        return check is not None and check.message_ts is not None

    await recover(cluster, posted, "the poll posted and recorded")
    [poll_ts] = polls(cluster)
    check = await the_check(cluster)
    assert check is not None and check.message_ts == poll_ts

    # Three people answer the first question; the process that took the last answer dies
    # right after acknowledging it.
    acknowledged = 0
    for person in (ALICE, BOB, CAROL):
        poll = next(m for m in slack.user(person).messages(CHANNEL) if m.ts == poll_ts)
        result = await slack.user(person).click(
            poll, "health_check.answer.green", near="1. Value to members"
        )
        acknowledged += result.ok
    await kill_and_carry_on(cluster, cluster.last_served_by())
    assert acknowledged == 3
    async with cluster.sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(HealthCheckAnswer))
    assert stored == 3, "every acknowledged answer stored"

    # It closes on time, in a process that never saw the answers: all three are counted.
    await cluster.advance_to(CLOSES)

    async def results() -> list[HealthCheckResult]:
        async with cluster.sessionmaker() as session:
            return list(await session.scalars(select(HealthCheckResult)))

    await eventually(results, within=15, what="the check closed with results")
    counted = {r.question_key: r.answers for r in await results()}
    assert counted["value"] == 3
    await eventually(
        lambda: bot_posts(slack, "Community health check: results"), what="results posted"
    )
    await cluster.outbox_drained()
    assert len(bot_posts(slack, "Community health check: results")) == 1
    assert polls(cluster) == [poll_ts]


# --- a chat meetup's prompt ----------------------------------------------------------------------


PROMPTS = ["What surprised you this month?", "What are you stuck on?", "What will you try next?"]


async def test_a_meetup_prompt_whose_sender_is_killed_is_posted_once(cluster: Cluster) -> None:
    slack = cluster.slack
    await begin(cluster)
    alice = slack.user(ALICE)
    assert (await alice.run_command("/meetup", channel=CHANNEL)).ok
    await eventually(lambda: alice.view is not None, what="the meetup modal")
    submitted = await alice.submit(
        {
            "Prompts": "\n".join(PROMPTS),
            "Length in minutes": "30",
            "Minutes between prompts": "10",
        }
    )
    assert submitted.outcome == "close", alice.view and alice.view.errors
    await eventually(lambda: bot_posts(slack, "Prompt 1 of 3"), what="the first prompt")
    first = bot_posts(slack, "Prompt 1 of 3")[0]
    await slack.user(BOB).say(CHANNEL, "Short surveys work", thread_ts=first)

    # Ten minutes on: Slack posts prompt 2, the answer never comes, its sender dies.
    await send_held_then_kill(cluster, cluster.clock.now() + timedelta(minutes=10), posted=True)
    assert len(bot_posts(slack, "Prompt 2 of 3")) == 1

    async def recorded() -> bool:
        row = await owed(cluster, "meetup.prompt:2")
        return row is not None and row.state == "sent"

    await recover(cluster, recorded, "prompt 2 found and recorded")
    [second] = bot_posts(slack, "Prompt 2 of 3")
    row = await owed(cluster, "meetup.prompt:2")
    assert row is not None and row.sent_ts == second

    # To the end: the third prompt, the closing notes and the minutes, each once.
    await cluster.advance(timedelta(minutes=10))
    await eventually(lambda: bot_posts(slack, "Prompt 3 of 3"), what="prompt 3")
    await cluster.advance(timedelta(minutes=10))
    await eventually(lambda: bot_posts(slack, "Minutes:"), within=15, what="the minutes")
    await cluster.outbox_drained()
    for number in (1, 2, 3):
        assert len(bot_posts(slack, f"Prompt {number} of 3")) == 1
    assert len(replies(slack, "Time's up")) == 3
    assert len(bot_posts(slack, "Minutes:")) == 1
    [minutes] = [
        m
        for m in slack.state.messages_in(CHANNEL, include_replies=True)
        if m.bot_id and "Minutes:" in m.text
    ]
    assert "Short surveys work" in minutes.text + str(minutes.blocks)
