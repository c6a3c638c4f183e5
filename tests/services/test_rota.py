"""The rota's rules against a real database: schedule, fair turns, skip, swap, away, stats."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import community as community_service
from bot.services import rota
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from models.community import Community
from models.rota import Meetup

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
TEAM, CHANNEL = "T1", "C1"
LEAD = Actor(TEAM, "ULEAD")
A, B, C = (Actor(TEAM, u) for u in ("UA", "UB", "UC"))
TUESDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    starts_on=date(2026, 11, 23),
)

Maker = async_sessionmaker[AsyncSession]


async def setup(maker: Maker, people: tuple[Actor, ...] = (A, B, C)) -> int:
    async with maker.begin() as s:
        community = await community_service.community_for(s, LEAD, CHANNEL, NOW)
        await rota.set_schedule(s, LEAD, community, TUESDAYS, NOW)
        for i, person in enumerate(people):
            await rota.join(s, person, community, NOW + timedelta(seconds=i))
        return community.id


async def load(s: AsyncSession, community_id: int) -> Community:
    return await community_service.get_community(s, TEAM, community_id)


async def facilitators(maker: Maker, cid: int, now: datetime = NOW) -> list[str | None]:
    async with maker.begin() as s:
        return [t.facilitator_id for t in await rota.plan(s, await load(s, cid), now)]


async def test_turns_go_round_in_joining_order_and_meetups_are_tuesdays(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), NOW)
    assert [t.starts_at.date() for t in turns] == [
        date(2026, 11, 24),
        date(2026, 12, 1),
        date(2026, 12, 8),
        date(2026, 12, 15),
        date(2026, 12, 22),
    ]
    assert [t.facilitator_id for t in turns] == ["UA", "UB", "UC", "UA", "UB"]


async def test_holding_a_meetup_moves_the_turn_on_to_whoever_waited_longest(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        first = (await rota.plan(s, community, NOW))[0]
        held = await rota.mark_held(
            s, community, first.meetup_id, first.starts_at + timedelta(hours=1)
        )
        assert held is not None and held.facilitator_id == "UA"
        # Marking it again does nothing.
        assert await rota.mark_held(s, community, first.meetup_id, first.starts_at) is None
    after = first.starts_at + timedelta(hours=2)
    assert (await facilitators(maker, cid, after))[:3] == ["UB", "UC", "UA"]
    async with maker.begin() as s:
        stats = await rota.stats(s, await load(s, cid))
    assert [(r.user_id, r.times) for r in stats] == [("UA", 1), ("UB", 0), ("UC", 0)]


async def test_skip_passes_the_turn_and_the_skipper_keeps_their_place(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        with pytest.raises(NotAllowed):
            await rota.skip(s, B, await load(s, cid), NOW)
        taken = await rota.skip(s, A, await load(s, cid), NOW)
    assert taken.facilitator_id == "UB"
    assert (await facilitators(maker, cid))[:3] == ["UB", "UA", "UC"]


async def test_away_people_are_passed_over_for_those_dates(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        await rota.set_away(s, A, community, "UA", date(2026, 11, 20), date(2026, 12, 2), NOW)
        with pytest.raises(NotAllowed):
            await rota.set_away(s, B, community, "UC", date(2026, 12, 1), date(2026, 12, 2), NOW)
        with pytest.raises(InvalidInput, match="before the start"):
            await rota.set_away(s, A, community, "UA", date(2026, 12, 9), date(2026, 12, 2), NOW)
        with pytest.raises(InvalidInput, match="past"):
            await rota.set_away(s, A, community, "UA", date(2026, 1, 1), date(2026, 1, 2), NOW)
    assert (await facilitators(maker, cid))[:3] == ["UB", "UC", "UA"]


async def test_a_slack_status_can_make_someone_unavailable(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), NOW, unavailable=lambda u, _at: u == "UA")
    assert [t.facilitator_id for t in turns][:2] == ["UB", "UC"]


async def test_a_swap_happens_only_when_accepted(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        with pytest.raises(NotAllowed):
            await rota.request_swap(s, B, community, "UC", NOW)
        declined = await rota.request_swap(s, A, community, "UC", NOW)
        swap_id = declined.id
    assert (await facilitators(maker, cid))[0] == "UA"
    async with maker.begin() as s:
        with pytest.raises(NotAllowed):
            await rota.answer_swap(s, B, swap_id, True, NOW)
        await rota.answer_swap(s, C, swap_id, False, NOW)
        with pytest.raises(Conflict, match="already declined"):
            await rota.answer_swap(s, C, swap_id, True, NOW)
        accepted = await rota.request_swap(s, A, await load(s, cid), "UC", NOW)
        await rota.answer_swap(s, C, accepted.id, True, NOW)
    assert (await facilitators(maker, cid))[:3] == ["UC", "UA", "UB"]


async def test_only_leads_change_the_schedule_and_bad_input_changes_nothing(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        with pytest.raises(NotAllowed, match="leads"):
            await rota.set_schedule(s, A, community, TUESDAYS, NOW)
        for bad in (
            {"time_zone": "Nowhere/Special"},
            {"every_weeks": 0},
            {"duration_minutes": 1},
        ):
            fields = {**TUESDAYS.__dict__, **bad}
            with pytest.raises(InvalidInput):
                await rota.set_schedule(s, LEAD, community, rota.ScheduleInput(**fields), NOW)
        schedule = await rota.get_schedule(s, community)
        assert (
            schedule is not None
            and schedule.revision == 1
            and schedule.time_zone == "Europe/London"
        )


async def test_changing_or_deleting_the_schedule_drops_planned_meetups_at_once(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    await facilitators(maker, cid)  # materialises the next meetups
    monthly = rota.ScheduleInput(**{**TUESDAYS.__dict__, "frequency": Frequency.MONTHLY})
    async with maker.begin() as s:
        community = await load(s, cid)
        schedule = await rota.set_schedule(s, LEAD, community, monthly, NOW)
        assert schedule.revision == 2
        turns = await rota.plan(s, community, NOW)
    assert [t.starts_at.date() for t in turns][:2] == [date(2026, 12, 1), date(2027, 1, 5)]
    async with maker.begin() as s:
        await rota.delete_schedule(s, LEAD, await load(s, cid), NOW)
        assert await rota.plan(s, await load(s, cid), NOW) == []
        assert await s.scalar(select(func.count()).select_from(Meetup)) == 0
        with pytest.raises(Conflict, match="no meetup schedule"):
            await rota.next_turn(s, await load(s, cid), NOW)


async def test_one_meetup_can_be_cancelled_or_moved(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        turns = await rota.plan(s, community, NOW)
        await rota.cancel_meetup(s, LEAD, community, turns[0].meetup_id, NOW)
        moved_to = turns[1].starts_at + timedelta(days=1)
        await rota.move_meetup(s, LEAD, community, turns[1].meetup_id, moved_to, NOW)
        with pytest.raises(InvalidInput):
            await rota.move_meetup(s, LEAD, community, turns[2].meetup_id, NOW, NOW)
        after = await rota.plan(s, community, NOW)
    assert after[0].starts_at == moved_to and after[0].moved
    assert after[0].facilitator_id == "UA"  # the cancelled meetup took nobody's turn
    assert turns[0].meetup_id not in [t.meetup_id for t in after]


async def test_membership(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker, people=(A,))
    async with maker.begin() as s:
        community = await load(s, cid)
        with pytest.raises(Conflict, match="already in the rota"):
            await rota.join(s, A, community, NOW)
        with pytest.raises(NotAllowed):
            await rota.add_members(s, A, community, ["UB"], NOW)
        assert await rota.add_members(s, LEAD, community, ["UB", "UA", "UC"], NOW) == ["UB", "UC"]
        await rota.remove_member(s, LEAD, community, "UC")
        with pytest.raises(NotFound):
            await rota.remove_member(s, LEAD, community, "UC")
        await rota.leave(s, B, community)
        assert [m.user_id for m in await rota.members(s, community)] == ["UA"]


async def test_overload_is_noticed() -> None:
    rows = [
        rota.FacilitationStat("UA", 6, None),
        rota.FacilitationStat("UB", 1, None),
        rota.FacilitationStat("UC", 0, None),
        rota.FacilitationStat("UD", 1, None),
    ]
    assert rota.overloaded(rows) == ["UA"]
    assert rota.overloaded(rows[1:]) == []


async def test_another_workspace_cannot_reach_the_community(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        with pytest.raises(NotFound):
            await community_service.get_community(s, "T_OTHER", cid)
        assert await community_service.find_community(s, "T_OTHER", CHANNEL) is None
