"""Rota meetups held as a chat, against a real database (SQLite and PostgreSQL): the plan's
rules, and starting once, with the right facilitator, or saying why not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.services import community as community_service
from bot.services import meetup as meetup_service
from bot.services import meetup_plan as service
from bot.services import rota
from bot.services.actor import Actor
from bot.services.meetup import StartOptions
from bot.services.meetup_plan import DueStart, PlanInput, StartOutcome
from bot.services.recurrence import Frequency
from models.community import Community
from models.meetup import ChatMeetup
from models.rota import Meetup

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
TEAM, CHANNEL = "T1", "C1"
LEAD = Actor(TEAM, "ULEAD")
UA, UB, OUTSIDER = Actor(TEAM, "UA"), Actor(TEAM, "UB"), Actor(TEAM, "UX")
CHAT_TUESDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    starts_on=date(2026, 11, 23),
    duration_minutes=30,
    format=rota.MeetupFormat.CHAT,
)
FIRST = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

Maker = async_sessionmaker[AsyncSession]


def nobody_away(_user_id: str, _starts_at: datetime) -> bool:
    return False


async def setup(
    maker: Maker, people: tuple[Actor, ...] = (UA, UB), schedule: rota.ScheduleInput = CHAT_TUESDAYS
) -> tuple[int, int]:
    """A chat-format schedule; returns (community id, first meetup id)."""
    async with maker.begin() as s:
        community = await community_service.community_for(s, LEAD, CHANNEL, NOW)
        await rota.set_schedule(s, LEAD, community, schedule, NOW)
        for i, person in enumerate(people):
            await rota.join(s, person, community, NOW + timedelta(seconds=i))
        meetups = await rota.upcoming_meetups(s, community, NOW)
        return community.id, meetups[0].id


async def community_of(s: AsyncSession, community_id: int) -> Community:
    return await community_service.get_community(s, TEAM, community_id)


async def save(
    maker: Maker, actor: Actor, community_id: int, meetup_id: int, form: PlanInput
) -> service.SavedPlan:
    async with maker.begin() as s:
        community = await community_of(s, community_id)
        return await service.save_plan(s, actor, community, meetup_id, form, NOW, nobody_away)


async def due(maker: Maker) -> list[DueStart]:
    async with maker() as s:
        return await service.due_starts(s)


async def start(maker: Maker, job: DueStart, now: datetime) -> service.RotaStart:
    async with maker.begin() as s:
        return await service.start_from_rota(s, job, now, nobody_away)


# --- the plan -------------------------------------------------------------------------------


async def test_the_facilitator_or_a_lead_saves_a_plan_and_can_change_it(
    sessionmaker: Maker,
) -> None:
    community_id, meetup_id = await setup(sessionmaker)
    saved = await save(sessionmaker, UA, community_id, meetup_id, PlanInput((" One ", "", "Two")))
    assert saved.prompts == ("One", "Two") and saved.updated_by_id == "UA"
    changed = await save(
        sessionmaker, LEAD, community_id, meetup_id, PlanInput(("Three",), 0, False, True)
    )
    assert (changed.prompts, changed.nudge_half_time, changed.updated_by_id) == (
        ("Three",),
        False,
        "ULEAD",
    )
    async with sessionmaker.begin() as s:
        target = await service.plan_target(
            s, UA, await community_of(s, community_id), meetup_id, NOW, nobody_away
        )
    assert target.plan == changed and target.length_minutes == 30
    assert target.facilitator_id == "UA"


async def test_others_may_not_plan_and_bad_plans_are_refused(sessionmaker: Maker) -> None:
    community_id, meetup_id = await setup(sessionmaker)
    for someone in (UB, OUTSIDER):  # UB is in the rota, but it isn't their turn
        with pytest.raises(NotAllowed):
            await save(sessionmaker, someone, community_id, meetup_id, PlanInput(("Hi",)))
    with pytest.raises(InvalidInput) as caught:
        await save(sessionmaker, UA, community_id, meetup_id, PlanInput(("A", "B"), 30))
    assert caught.value.field == "pace"
    with pytest.raises(InvalidInput) as caught:
        await save(sessionmaker, UA, community_id, meetup_id, PlanInput(("  ",)))
    assert caught.value.field == "prompts"


async def test_no_plan_for_a_meetup_that_is_not_a_chat_or_has_started(
    sessionmaker: Maker,
) -> None:
    community_id, meetup_id = await setup(
        sessionmaker, schedule=replace(CHAT_TUESDAYS, format=rota.MeetupFormat.LEAN_COFFEE)
    )
    with pytest.raises(Conflict):
        await save(sessionmaker, UA, community_id, meetup_id, PlanInput(("Hi",)))
    async with sessionmaker.begin() as s:
        community = await community_of(s, community_id)
        await rota.set_schedule(s, LEAD, community, CHAT_TUESDAYS, NOW)
        meetup_id = (await rota.upcoming_meetups(s, community, NOW))[0].id
        with pytest.raises(Conflict):
            await service.plan_target(s, UA, community, meetup_id, FIRST, nobody_away)


def test_a_plan_that_no_longer_fits_the_time_left_releases_everything_at_once() -> None:
    plan = service.SavedPlan(("A", "B", "C"), 10, True, False, "UA", NOW)
    assert service.options_from(plan, 30).pace_minutes == 10
    late = service.options_from(plan, 15)
    assert (late.prompts, late.pace_minutes, late.nudge_five_before) == (plan.prompts, 0, False)
    assert service.options_from(None, 30).prompts == service.DEFAULT_PROMPTS


# --- starting ---------------------------------------------------------------------------------


async def test_it_starts_once_with_the_plan_and_the_rotas_facilitator(
    sessionmaker: Maker,
) -> None:
    community_id, meetup_id = await setup(sessionmaker)
    await save(sessionmaker, UA, community_id, meetup_id, PlanInput(("Planned",), 0))
    [job] = [d for d in await due(sessionmaker) if d.meetup_id == meetup_id]
    assert job.starts_at == FIRST and job.team_id == TEAM
    assert (await start(sessionmaker, job, FIRST - timedelta(seconds=1))).outcome == "stale"

    result = await start(sessionmaker, job, FIRST)
    assert (result.outcome, result.facilitator_id) == (StartOutcome.STARTED, "UA")
    assert (await start(sessionmaker, job, FIRST)).outcome == StartOutcome.STALE
    assert meetup_id not in [d.meetup_id for d in await due(sessionmaker)]
    async with sessionmaker() as s:
        chat = await s.scalar(select(ChatMeetup))
        assert chat is not None and chat.rota_meetup_id == meetup_id and not chat.stand_in
        assert (chat.length_minutes, chat.ends_at) == (30, FIRST + timedelta(minutes=30))
        assert [p.text for p in await meetup_service.prompts_of(s, chat.id)] == ["Planned"]
        pinned = await s.get(Meetup, meetup_id)
        assert pinned is not None and pinned.facilitator_id == "UA"


async def test_a_cancelled_or_moved_meetup_does_not_start_from_its_old_firing(
    sessionmaker: Maker,
) -> None:
    community_id, meetup_id = await setup(sessionmaker)
    [job] = [d for d in await due(sessionmaker) if d.meetup_id == meetup_id]
    async with sessionmaker.begin() as s:
        community = await community_of(s, community_id)
        await rota.move_meetup(s, LEAD, community, meetup_id, FIRST + timedelta(hours=2), NOW)
    assert (await start(sessionmaker, job, FIRST)).outcome == StartOutcome.STALE
    [moved] = [d for d in await due(sessionmaker) if d.meetup_id == meetup_id]
    assert moved.starts_at == FIRST + timedelta(hours=2)
    async with sessionmaker.begin() as s:
        community = await community_of(s, community_id)
        await rota.cancel_meetup(s, LEAD, community, meetup_id, NOW)
    assert meetup_id not in [d.meetup_id for d in await due(sessionmaker)]
    assert (await start(sessionmaker, moved, moved.starts_at)).outcome == StartOutcome.STALE


async def test_too_late_busy_and_stand_in(sessionmaker: Maker) -> None:
    _community, meetup_id = await setup(sessionmaker, people=())
    [job] = [d for d in await due(sessionmaker) if d.meetup_id == meetup_id]
    # With 4 minutes left, it is too late: noted once, and no longer due.
    late = await start(sessionmaker, job, FIRST + timedelta(minutes=26))
    assert late.outcome == StartOutcome.LATE
    assert meetup_id not in [d.meetup_id for d in await due(sessionmaker)]

    # Next week: a chat meetup is running in the channel.
    [next_week] = [d for d in await due(sessionmaker) if d.starts_at == FIRST + timedelta(days=7)]
    async with sessionmaker.begin() as s:
        running = await meetup_service.start(
            s, UB, CHANNEL, StartOptions(("Busy",)), next_week.starts_at - timedelta(minutes=1)
        )
        running_id = running.id
    busy = await start(sessionmaker, next_week, next_week.starts_at)
    assert (busy.outcome, busy.facilitator_id) == (StartOutcome.BUSY, "ULEAD")
    assert next_week.meetup_id not in [d.meetup_id for d in await due(sessionmaker)]
    async with sessionmaker.begin() as s:
        await meetup_service.end(s, TEAM, running_id, next_week.starts_at + timedelta(hours=1))

    # The week after: nobody is on the rota, so the lead who set the schedule stands in.
    [third] = [d for d in await due(sessionmaker) if d.starts_at == FIRST + timedelta(days=14)]
    started = await start(sessionmaker, third, third.starts_at)
    assert (started.outcome, started.facilitator_id) == (StartOutcome.STARTED, "ULEAD")
    async with sessionmaker() as s:
        chat = await s.get(ChatMeetup, started.chat_meetup_id)
        assert chat is not None and chat.stand_in
        rota_meetup = await s.get(Meetup, third.meetup_id)
        assert rota_meetup is not None and rota_meetup.facilitator_id is None  # not pinned
