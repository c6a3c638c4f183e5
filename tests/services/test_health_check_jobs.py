"""What the health-check scheduler plans, against a real database (SQLite and PostgreSQL):
which occurrence opens when, which reminder rounds are still to come, and how reminder DMs are
owed through the outbox without anything stored naming whom they went to once sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.presenters import health_check as present
from bot.services import anonymity, outbox
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import health_check_jobs as jobs
from bot.services import health_check_messages as messages
from bot.services.actor import Actor
from bot.services.health_check_types import DEFAULT_SCALE, SettingsInput
from bot.services.recurrence import Cadence, Frequency
from bot.services.scheduling import claim
from models.base import Base
from models.outbox import OutboxMessage

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


async def work(maker: Maker) -> tuple[list[jobs.DueClose], list[jobs.DueReminders]]:
    async with maker() as s:
        return await jobs.due_work(s)


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


async def test_an_open_check_plans_its_close_and_reminder_round(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    closes, rounds = await work(sessionmaker)
    assert [(c.check_id, c.due_at) for c in closes] == [(check_id, OPENS + timedelta(days=2))]
    assert [(r.check_id, r.round, r.due_at) for r in rounds] == [
        (check_id, 1, OPENS + timedelta(days=1))
    ]
    assert rounds[0].key == f"health_check.remind:{check_id}:1"


async def test_a_claimed_round_is_not_planned_again(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    _, [due] = await work(sessionmaker)
    async with sessionmaker.begin() as s:
        assert await claim(s, due.key, jobs.ROUND_CLAIMED, OPENS)
        assert not await claim(s, due.key, jobs.ROUND_CLAIMED, OPENS)  # once only
    closes, rounds = await work(sessionmaker)
    assert rounds == [] and [c.check_id for c in closes] == [check_id]


async def test_a_round_an_earlier_version_claimed_is_not_planned_again(
    sessionmaker: Maker,
) -> None:
    """Before the outbox each attempt at a round was claimed under its number."""
    cid = await scheduled(sessionmaker)
    await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    _, [due] = await work(sessionmaker)
    async with sessionmaker.begin() as s:
        assert await claim(s, due.key, "2", OPENS)  # its third attempt
    assert (await work(sessionmaker))[1] == []


async def test_a_check_run_by_hand_plans_its_reminders_too(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, cid)
        await hc.run_now(s, LEAD, community, NOW)
    _, rounds = await work(sessionmaker)
    assert [r.round for r in rounds] == [1]


async def test_reminder_deadlines(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    async with sessionmaker() as s:
        check = await hc.get_check(s, TEAM, check_id)
    assert jobs.reminder_deadline(check, 1) == check.closes_at


async def test_only_an_open_check_is_held_open(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    async with sessionmaker.begin() as s:
        assert await jobs.still_open(s, TEAM, check_id)
        assert not await jobs.still_open(s, "T2", check_id)
        await hc.close_due(s, TEAM, check_id, OPENS + timedelta(days=2))
        assert not await jobs.still_open(s, TEAM, check_id)


# --- reminder DMs in the outbox ---------------------------------------------------------------

PEOPLE = ["UPERSONA", "UPERSONB", "UPERSONC", "UPERSOND"]
HALFWAY = OPENS + timedelta(days=1)


async def owe_round(maker: Maker, check_id: int, people: list[str], round_: int = 1) -> int:
    async with maker.begin() as s:
        check = await hc.get_check(s, TEAM, check_id)
        return await present.owe_reminders(s, TEAM, check, round_, people, check.closes_at, HALFWAY)


async def reminder_rows(maker: Maker) -> list[OutboxMessage]:
    async with maker() as s:
        return list(
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == messages.REMINDER)
                .order_by(OutboxMessage.id)
            )
        )


async def dump(maker: Maker) -> list[str]:
    """Every value in every column of every table, as text: what an administrator sees."""
    async with maker() as s:
        values = []
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                values.extend(
                    bytes(v).hex() if isinstance(v, bytes) else str(v) for v in row.values()
                )
        return values


async def test_reminders_are_owed_once_per_person_and_round_under_a_key_naming_nobody(
    sessionmaker: Maker,
) -> None:
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    assert await owe_round(sessionmaker, check_id, PEOPLE[:2]) == 2
    assert await owe_round(sessionmaker, check_id, PEOPLE[:3]) == 1  # only the new one
    rows = await reminder_rows(sessionmaker)
    assert [r.channel for r in rows] == PEOPLE[:3]  # where the DM goes, until it is sent
    assert {r.subject_id for r in rows} == {check_id}
    assert all(r.give_up_at == OPENS + timedelta(days=2) for r in rows)  # no use once closed
    async with sessionmaker() as s:
        secret = await anonymity.check_secret(s, check_id)
    assert secret is not None
    for row, person in zip(rows, PEOPLE, strict=False):
        assert person not in row.key and row.key.startswith(f"health_check.reminder:{check_id}:1:")
        # Not the hash that stands for the person in the answers: the two cannot be joined.
        assert anonymity.voter_key(secret, TEAM, person) not in row.key
    assert await owe_round(sessionmaker, check_id, PEOPLE[:1], round_=2) == 1  # a new round


async def test_a_named_check_keys_its_reminders_by_id(sessionmaker: Maker) -> None:
    cid = await scheduled(sessionmaker, anonymous=False)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    await owe_round(sessionmaker, check_id, ["UA"])
    [row] = await reminder_rows(sessionmaker)
    assert row.key == f"health_check.reminder:{check_id}:1:UA"


async def test_a_reminder_names_nobody_once_sent_or_given_up_and_is_gone_at_close(
    sessionmaker: Maker,
) -> None:
    """Whom a round reminded are those who had not answered: next to the results, that list
    would say who answered. So no stored row names them once their DM is out, and closing
    deletes the round's rows altogether."""
    cid = await scheduled(sessionmaker)
    check_id = await open_scheduled(sessionmaker, cid, OPENS, OPENS)
    sent, refused, waiting, late = PEOPLE
    await answer(sessionmaker, check_id, late)
    await owe_round(sessionmaker, check_id, [sent, refused, waiting])
    async with sessionmaker.begin() as s:
        attempts = {a.channel: a for a in await outbox.claim_due(s, HALFWAY)}
        await outbox.delivered(s, attempts[sent].id, "D0SENT", "1700000000.000100", HALFWAY)
        await outbox.not_delivered(
            s, attempts[refused].id, HALFWAY, "user_disabled", certain=True, never=True
        )
        await outbox.not_delivered(s, attempts[waiting].id, HALFWAY, "HTTP 500", certain=False)
    rows = {r.state: r for r in await reminder_rows(sessionmaker)}
    assert (rows["sent"].channel, rows["sent"].sent_channel) == (messages.NOBODY, messages.NOBODY)
    assert rows["sent"].sent_ts == "1700000000.000100"
    assert rows["failed"].channel == messages.NOBODY
    assert rows["pending"].channel == waiting  # still owed: the outbox must know where to
    async with sessionmaker() as s:
        secret = await anonymity.check_secret(s, check_id)
    assert secret is not None
    values = await dump(sessionmaker)
    assert not any(sent in v or refused in v for v in values)

    async with sessionmaker.begin() as s:
        results = await hc.close_due(s, TEAM, check_id, OPENS + timedelta(days=2))
        assert results is not None
        await present.owe_results(s, TEAM, results, OPENS + timedelta(days=2))
    assert await reminder_rows(sessionmaker) == []
    values = await dump(sessionmaker)
    for person in PEOPLE:
        assert not any(person in v for v in values), f"{person} is still stored"
        assert not any(anonymity.voter_key(secret, TEAM, person) in v for v in values)
    # Nobody is reminded of a closed check.
    assert await owe_round(sessionmaker, check_id, [waiting]) == 0
    assert await reminder_rows(sessionmaker) == []


async def answer(maker: Maker, check_id: int, user_id: str) -> Any:
    async with maker.begin() as s:
        return await hc.answer(s, Actor(TEAM, user_id), check_id, "value", "green", HALFWAY)
