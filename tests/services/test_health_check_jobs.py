"""What the health-check scheduler plans, against a real database (SQLite and PostgreSQL):
which occurrence opens when, what is still to be sent, back-off, and who was reminded."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import health_check_jobs as jobs
from bot.services.actor import Actor
from bot.services.health_check_jobs import Kind, Outcome
from bot.services.health_check_types import DEFAULT_SCALE, SettingsInput
from bot.services.recurrence import Cadence, Frequency
from models.health_check_jobs import HealthCheckReminded

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TEAM, CHANNEL = "T1", "C1"
LEAD = Actor(TEAM, "ULEAD")
TUESDAYS = Cadence(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    anchor=date(2026, 11, 23),
)
OPENS = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

Maker = async_sessionmaker[AsyncSession]


async def scheduled(maker: Maker, at: datetime = NOW, *, anonymous: bool = True) -> int:
    async with maker.begin() as s:
        community = await community_service.community_for(s, LEAD, CHANNEL, at)
        settings = SettingsInput(
            scale=DEFAULT_SCALE, anonymous=anonymous, min_answers=3 if anonymous else 1
        )
        await hc.update_settings(s, LEAD, community, settings, at)
        await hc.set_cadence(s, LEAD, community, TUESDAYS, at)
        return community.id


async def opens(maker: Maker, now: datetime) -> list[jobs.DueOpen]:
    async with maker() as s:
        return await jobs.due_opens(s, now)


async def open_scheduled(maker: Maker, cid: int, occurrence: datetime, now: datetime) -> int:
    async with maker.begin() as s:
        check = await hc.open_scheduled_check(s, TEAM, cid, occurrence, now)
        assert check is not None
        return check.id


async def work(maker: Maker) -> tuple[list[jobs.DueClose], list[jobs.DueDelivery]]:
    async with maker() as s:
        return await jobs.due_work(s)


def test_retries_back_off_up_to_ten_minutes() -> None:
    delays = [jobs.retry_delay(n).total_seconds() for n in range(8)]
    assert delays == [0, 15, 30, 60, 120, 240, 480, 600]


async def test_the_next_occurrence_is_planned_at_its_time(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    [due] = await opens(sessionmaker, NOW)
    assert (due.community_id, due.occurrence, due.due_at) == (cid, OPENS, OPENS)
    assert due.key == f"health_check.open:{cid}:{due.revision}:{int(OPENS.timestamp())}"


async def test_a_missed_occurrence_is_planned_while_its_window_lasts(sessionmaker: Maker) -> None:
    await scheduled(sessionmaker)
    [due] = await opens(sessionmaker, OPENS + timedelta(hours=47, minutes=59))
    assert due.occurrence == OPENS and due.due_at == OPENS
    # Once the window has passed, the next week's is planned instead.
    [due] = await opens(sessionmaker, OPENS + timedelta(hours=48))
    assert due.occurrence == OPENS + timedelta(days=7)


async def test_an_occurrence_before_the_set_up_was_saved_never_opens(sessionmaker: Maker) -> None:
    await scheduled(sessionmaker, at=OPENS + timedelta(minutes=30))
    [due] = await opens(sessionmaker, OPENS + timedelta(minutes=30))
    assert due.occurrence == OPENS + timedelta(days=7)


async def test_an_opened_occurrence_is_not_planned_again(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    # The next one waits for this check to close (two days later, before it).
    [due] = await opens(sessionmaker, OPENS + timedelta(minutes=1))
    assert due.occurrence == OPENS + timedelta(days=7)


async def test_a_check_run_by_hand_delays_the_scheduled_one_within_its_window(
    sessionmaker: Maker,
) -> None:
    cid = await scheduled(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, cid)
        await hc.run_now(s, LEAD, community, OPENS - timedelta(hours=1))  # closes +47 h
    [due] = await opens(sessionmaker, OPENS)
    assert due.occurrence == OPENS and due.due_at == OPENS + timedelta(hours=47)


async def test_a_check_run_by_hand_that_outlasts_the_window_skips_the_occurrence(
    sessionmaker: Maker,
) -> None:
    cid = await scheduled(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, cid)
        await hc.run_now(s, LEAD, community, OPENS)  # closes exactly when the window does
    [due] = await opens(sessionmaker, OPENS)
    assert due.occurrence == OPENS + timedelta(days=7)


async def test_nothing_is_planned_without_a_schedule(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, cid)
        await hc.delete_cadence(s, LEAD, community, NOW)
    assert await opens(sessionmaker, OPENS) == []


async def test_an_open_check_plans_its_poll_reminder_and_close(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    closes, deliveries = await work(sessionmaker)
    assert [(c.check_id, c.due_at) for c in closes] == [(check_id, OPENS + timedelta(days=2))]
    assert sorted((d.kind, d.round, d.due_at, d.attempt) for d in deliveries) == [
        (Kind.POST, 0, OPENS, 0),
        (Kind.REMIND, 1, OPENS + timedelta(days=1), 0),
    ]


async def test_a_check_run_by_hand_is_posted_by_whoever_ran_it(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, cid)
        await hc.run_now(s, LEAD, community, NOW)
    _, deliveries = await work(sessionmaker)
    assert [d.kind for d in deliveries] == [Kind.REMIND]


async def test_a_failed_attempt_is_retried_after_a_back_off_and_a_done_one_never(
    sessionmaker: Maker,
) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    failed_at = OPENS + timedelta(seconds=3)
    async with sessionmaker.begin() as s:
        row = await jobs.open_delivery(s, check_id, Kind.POST, 0, OPENS)
        again = await jobs.open_delivery(s, check_id, Kind.POST, 0, OPENS)
        assert again.id == row.id
        assert await jobs.delivery_failed(s, row.id, failed_at) == 1
        assert await jobs.delivery_failed(s, row.id, failed_at) == 2
        post_id = row.id
    _, deliveries = await work(sessionmaker)
    [post] = [d for d in deliveries if d.kind == Kind.POST]
    assert (post.attempt, post.due_at) == (2, failed_at + timedelta(seconds=30))
    assert post.key == f"health_check.post:{check_id}:0:2"
    async with sessionmaker.begin() as s:
        await jobs.finish_delivery(s, post_id, failed_at, Outcome.SENT)
        assert await jobs.delivery_failed(s, post_id, failed_at) == 0  # done is done
    _, deliveries = await work(sessionmaker)
    assert [d.kind for d in deliveries] == [Kind.REMIND]


async def test_reminder_deadlines(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    async with sessionmaker() as s:
        check = await hc.get_check(s, TEAM, check_id)
    assert jobs.reminder_deadline(check, 1) == check.closes_at


async def test_who_was_reminded_is_kept_as_a_hash_and_forgotten_when_the_round_ends(
    sessionmaker: Maker,
) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    async with sessionmaker.begin() as s:
        row = await jobs.open_delivery(s, check_id, Kind.REMIND, 1, OPENS)
        await jobs.record_reminded(s, row.id, TEAM, check_id, "UA")
        await jobs.record_reminded(s, row.id, TEAM, check_id, "UA")  # a second time is fine
        left = await jobs.not_yet_reminded(s, row.id, TEAM, check_id, ["UA", "UB"])
        assert left == ["UB"]
        stored = list(await s.scalars(select(HealthCheckReminded.person)))
        assert len(stored) == 1 and "UA" not in stored[0] and len(stored[0]) == 64
        await jobs.finish_delivery(s, row.id, OPENS, Outcome.SENT)
        assert list(await s.scalars(select(HealthCheckReminded))) == []


async def test_a_named_check_keeps_who_was_reminded_by_id(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker, anonymous=False)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    async with sessionmaker.begin() as s:
        row = await jobs.open_delivery(s, check_id, Kind.REMIND, 1, OPENS)
        await jobs.record_reminded(s, row.id, TEAM, check_id, "UA")
        assert list(await s.scalars(select(HealthCheckReminded.person))) == ["UA"]
