"""The rota's rules against a real database: schedule, fair turns, skip, swap (withdrawn or
called off too), away, stats, leads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import community as community_service
from bot.services import meetup_plan, rota
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from models.community import Community
from models.rota import Meetup, SwapRequest

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
        with pytest.raises(InvalidInput, match="ends before it starts"):
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
        change = await rota.set_schedule(s, LEAD, community, monthly, NOW)
        assert change.schedule.revision == 2
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


# --- leads ------------------------------------------------------------------------------------


async def _admin() -> bool:
    return True


ADMIN = Actor(TEAM, "UADMIN", is_admin=_admin)


async def test_leads_are_removed_and_step_down_but_the_last_one_stays(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        assert await community_service.add_leads(s, LEAD, community, ["UA", "UB"], NOW) == [
            "UA",
            "UB",
        ]
        with pytest.raises(NotAllowed, match="Only the community's leads"):
            await community_service.remove_leads(s, C, community, ["UA"])
        with pytest.raises(NotFound, match="<@UC> isn't a lead"):
            await community_service.remove_leads(s, LEAD, community, ["UA", "UC"])
        # A lead removes another; a lead steps down.
        assert await community_service.remove_leads(s, LEAD, community, ["UB"]) == ["UB"]
        assert await community_service.remove_leads(s, A, community, ["UA"]) == ["UA"]
        assert await community_service.leads(s, community) == ["ULEAD"]
        # Nobody, not even an admin, can leave the community without a lead of its own.
        with pytest.raises(Conflict, match="You're this community's only lead"):
            await community_service.remove_leads(s, LEAD, community, ["ULEAD"])
        with pytest.raises(Conflict, match="<@ULEAD> is this community's only lead"):
            await community_service.remove_leads(s, ADMIN, community, ["ULEAD"])
        await community_service.add_leads(s, LEAD, community, ["UA"], NOW)
        with pytest.raises(Conflict, match="no leads"):
            await community_service.remove_leads(s, ADMIN, community, ["UA", "ULEAD"])
        assert await community_service.leads(s, community) == ["ULEAD", "UA"]
        # An admin (not a lead) may remove a lead while another remains.
        assert await community_service.remove_leads(s, ADMIN, community, ["ULEAD"]) == ["ULEAD"]
        assert await community_service.leads(s, community) == ["UA"]
        assert not await community_service.is_lead(s, community, LEAD)


# --- withdrawing and calling off swaps ------------------------------------------------------


async def swap_status(maker: Maker, swap_id: int) -> str:
    async with maker() as s:
        swap = await s.get(SwapRequest, swap_id)
        assert swap is not None
        return swap.status


async def test_a_swap_is_withdrawn_by_the_requester_or_a_lead_only(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        first = (await rota.request_swap(s, A, await load(s, cid), "UC", NOW)).id
        with pytest.raises(Conflict, match="already asked <@UC>"):
            await rota.request_swap(s, A, await load(s, cid), "UC", NOW)
        second = (await rota.request_swap(s, A, await load(s, cid), "UB", NOW)).id
    async with maker.begin() as s:
        with pytest.raises(NotAllowed, match="Only <@UA>, who asked for this swap"):
            await rota.withdraw_swap(s, C, first, NOW)
        with pytest.raises(NotFound):
            await rota.withdraw_swap(s, Actor("T_OTHER", "UA"), first, NOW)
    assert await swap_status(maker, first) == "pending"
    async with maker.begin() as s:
        swap, _ = await rota.withdraw_swap(s, A, first, NOW)
        assert (swap.status, swap.decided_at, swap.to_user_id) == ("cancelled", NOW, "UC")
        await rota.withdraw_swap(s, LEAD, second, NOW)
    assert await swap_status(maker, second) == "cancelled"
    async with maker.begin() as s:
        # Answering a withdrawn request changes nothing and says why.
        with pytest.raises(Conflict, match="withdrawn, so there's nothing to answer"):
            await rota.answer_swap(s, C, first, True, NOW)
        with pytest.raises(Conflict, match="already withdrawn or called off"):
            await rota.withdraw_swap(s, A, first, NOW)
    assert await swap_status(maker, first) == "cancelled"
    assert (await facilitators(maker, cid))[0] == "UA"
    # Once answered there is nothing to withdraw; asking the same person again is fine.
    async with maker.begin() as s:
        again = (await rota.request_swap(s, A, await load(s, cid), "UC", NOW)).id
        await rota.answer_swap(s, C, again, False, NOW)
        with pytest.raises(Conflict, match="already declined"):
            await rota.withdraw_swap(s, A, again, NOW)
        taken = (await rota.request_swap(s, A, await load(s, cid), "UB", NOW)).id
        await rota.answer_swap(s, B, taken, True, NOW)
        with pytest.raises(Conflict, match="already accepted"):
            await rota.withdraw_swap(s, A, taken, NOW)
    assert (await facilitators(maker, cid))[0] == "UB"


async def ask(maker: Maker, cid: int, asker: Actor, *others: str) -> list[int]:
    async with maker.begin() as s:
        return [(await rota.request_swap(s, asker, await load(s, cid), o, NOW)).id for o in others]


async def call_off(
    maker: Maker, cid: int, moved_meetup_id: int | None = None
) -> list[tuple[str, str, str | None]]:
    """Call off what no longer stands: (who was asked, why, who has the meetup now)."""
    async with maker.begin() as s:
        called = await rota.call_off_swaps(
            s, await load(s, cid), NOW, moved_meetup_id=moved_meetup_id
        )
    return [(c.swap.to_user_id, c.reason, c.facilitator_id) for c in called]


async def test_nothing_is_called_off_while_a_swap_still_makes_sense(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    (swap_id,) = await ask(maker, cid, A, "UC")
    async with maker.begin() as s:
        community = await load(s, cid)
        # Confirming, or being away (when a swap helps most), keeps the request standing.
        turn = (await rota.plan(s, community, NOW))[0]
        await rota.confirm(s, A, community, turn.meetup_id, NOW)
        await rota.set_away(s, A, community, "UA", date(2026, 11, 24), date(2026, 11, 24), NOW)
    assert await call_off(maker, cid) == []
    assert await swap_status(maker, swap_id) == "pending"


async def test_cancelling_or_moving_the_meetup_calls_its_swaps_off(sessionmaker: Maker) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    first_swap, _ = await ask(maker, cid, A, "UC", "UB")
    async with maker.begin() as s:
        community = await load(s, cid)
        turns = await rota.plan(s, community, NOW)
        await rota.cancel_meetup(s, LEAD, community, turns[0].meetup_id, NOW)
    assert await call_off(maker, cid) == [
        ("UC", rota.SwapEnd.MEETUP_CANCELLED, None),
        ("UB", rota.SwapEnd.MEETUP_CANCELLED, None),
    ]
    assert await call_off(maker, cid) == []  # called off once only
    async with maker.begin() as s:
        with pytest.raises(Conflict, match="called off: that meetup was cancelled"):
            await rota.answer_swap(s, C, first_swap, True, NOW)

    # The cancelled meetup took nobody's turn: A has the next one, and asks again.
    (moved_swap,) = await ask(maker, cid, A, "UC")
    async with maker.begin() as s:
        community = await load(s, cid)
        turn = (await rota.plan(s, community, NOW))[0]
        await rota.move_meetup(
            s, LEAD, community, turn.meetup_id, turn.starts_at + timedelta(days=1), NOW
        )
    assert await call_off(maker, cid) == []  # a move is only known to the one who made it
    assert await call_off(maker, cid, moved_meetup_id=turn.meetup_id) == [
        ("UC", rota.SwapEnd.MEETUP_MOVED, None)
    ]
    async with maker.begin() as s:
        with pytest.raises(Conflict, match="called off when the meetup moved"):
            await rota.answer_swap(s, C, moved_swap, True, NOW)
    assert (await facilitators(maker, cid))[0] == "UA"


async def test_a_swap_is_called_off_when_someone_else_takes_the_meetup(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    to_c, to_b = await ask(maker, cid, A, "UC", "UB")
    async with maker.begin() as s:
        await rota.answer_swap(s, C, to_c, True, NOW)
    assert await call_off(maker, cid) == [("UB", rota.SwapEnd.TAKEN, "UC")]
    async with maker.begin() as s:
        with pytest.raises(Conflict, match="<@UC> is facilitating it now"):
            await rota.answer_swap(s, B, to_b, True, NOW)
    assert (await facilitators(maker, cid))[0] == "UC"


async def test_a_swap_is_called_off_when_it_is_not_the_requesters_turn_any_more(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    (skipped,) = await ask(maker, cid, A, "UC")
    async with maker.begin() as s:
        await rota.skip(s, A, await load(s, cid), NOW)
    assert await call_off(maker, cid) == [("UC", rota.SwapEnd.NOT_THEIR_TURN, None)]
    # Even before the call-off runs, accepting is refused once the turn has moved on.
    (left,) = await ask(maker, cid, B, "UC")
    async with maker.begin() as s:
        await rota.leave(s, B, await load(s, cid))
        with pytest.raises(Conflict, match="it isn't <@UB>'s turn any more"):
            await rota.answer_swap(s, C, left, True, NOW)
    assert await call_off(maker, cid) == [("UC", rota.SwapEnd.NOT_THEIR_TURN, None)]
    assert await swap_status(maker, skipped) == "cancelled"


async def test_a_schedule_change_calls_off_the_swaps_of_the_meetups_it_drops(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    (swap_id,) = await ask(maker, cid, A, "UC")
    monthly = rota.ScheduleInput(**{**TUESDAYS.__dict__, "frequency": Frequency.MONTHLY})
    async with maker.begin() as s:
        community = await load(s, cid)
        before = await rota.pending_swaps(s, community)
        assert [(p.swap_id, p.from_user_id, p.to_user_id) for p in before] == [
            (swap_id, "UA", "UC")
        ]
        await rota.set_schedule(s, LEAD, community, monthly, NOW)
        called = await rota.call_off_swaps(s, community, NOW, pending_before=before)
    assert [(c.swap.swap_id, c.reason) for c in called] == [
        (swap_id, rota.SwapEnd.SCHEDULE_CHANGED)
    ]


# --- changing the schedule keeps what people planned ----------------------------------------


def changed(**fields: Any) -> rota.ScheduleInput:
    return rota.ScheduleInput(**{**TUESDAYS.__dict__, **fields})


async def change_schedule(
    maker: Maker, cid: int, schedule: rota.ScheduleInput, now: datetime = NOW
) -> tuple[rota.ScheduleChange, list[rota.CalledOff]]:
    """As the schedule form does: change it, then call off the swaps that went with it."""
    async with maker.begin() as s:
        community = await load(s, cid)
        pending = await rota.pending_swaps(s, community)
        change = await rota.set_schedule(s, LEAD, community, schedule, now)
        called = await rota.call_off_swaps(s, community, now, pending_before=pending)
        return change, called


async def coming(maker: Maker, cid: int) -> dict[int, tuple[object, ...]]:
    """Every meetup still to come, by id: slot, start, length, status, facilitator, confirmed."""
    async with maker() as s:
        rows = await s.scalars(
            select(Meetup)
            .where(Meetup.community_id == cid, Meetup.starts_at > NOW)
            .order_by(Meetup.starts_at)
        )
        return {
            m.id: (
                m.occurrence,
                m.starts_at,
                m.duration_minutes,
                m.status,
                m.facilitator_id,
                m.confirmed_at,
            )
            for m in rows
        }


async def test_changing_only_the_reminder_time_keeps_every_meetup_as_people_left_it(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        turns = await rota.plan(s, community, NOW)
        # UA swaps the first meetup with UC, who then asks UB (still pending); UA, next,
        # confirms the second; a lead moves the third by a day and cancels the fourth.
        swap = await rota.request_swap(s, A, community, "UC", NOW)
        await rota.answer_swap(s, C, swap.id, True, NOW)
        pending = (await rota.request_swap(s, C, community, "UB", NOW)).id
        await rota.confirm(s, A, community, turns[1].meetup_id, NOW)
        moved_to = turns[2].starts_at + timedelta(days=1)
        await rota.move_meetup(s, LEAD, community, turns[2].meetup_id, moved_to, NOW)
        await rota.cancel_meetup(s, LEAD, community, turns[3].meetup_id, NOW)
    before = await coming(maker, cid)
    planned_before = await facilitators(maker, cid)

    change, called = await change_schedule(
        maker, cid, changed(reminder_minutes_before=24 * 60, announce_minutes_before=30)
    )

    assert (change.schedule.revision, change.dropped, change.kept) == (2, 0, 5)
    assert called == []
    assert await coming(maker, cid) == before  # same rows: pins, confirmations, move, cancel
    assert await swap_status(maker, pending) == "pending"
    assert await facilitators(maker, cid) == planned_before
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), NOW)
    assert [(t.facilitator_id, t.confirmed, t.moved) for t in turns[:3]] == [
        ("UC", True, False),
        ("UA", True, False),
        ("UB", False, True),
    ]
    assert turns[2].starts_at == moved_to
    # The pending swap still works.
    async with maker.begin() as s:
        await rota.answer_swap(s, B, pending, True, NOW)
    assert (await facilitators(maker, cid))[:3] == ["UB", "UA", "UC"]


async def test_changing_the_weekday_drops_the_old_meetups_and_makes_new_ones(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        turns = await rota.plan(s, community, NOW)
        await rota.confirm(s, A, community, turns[0].meetup_id, NOW)
        swap_id = (await rota.request_swap(s, A, community, "UB", NOW)).id
        await rota.move_meetup(
            s, LEAD, community, turns[1].meetup_id, turns[1].starts_at + timedelta(days=1), NOW
        )
    old = await coming(maker, cid)

    change, called = await change_schedule(maker, cid, changed(weekday=3))  # Thursdays

    assert (change.dropped, change.kept) == (5, 0)
    assert [(c.swap.swap_id, c.reason) for c in called] == [
        (swap_id, rota.SwapEnd.SCHEDULE_CHANGED)
    ]
    assert set(await coming(maker, cid)).isdisjoint(old)  # the one moved to Wednesday too
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), NOW)
    assert [t.starts_at.date() for t in turns] == [
        date(2026, 11, 26),
        date(2026, 12, 3),
        date(2026, 12, 10),
        date(2026, 12, 17),
        date(2026, 12, 24),
    ]
    assert not any(t.confirmed or t.moved for t in turns)
    assert [t.facilitator_id for t in turns][:3] == ["UA", "UB", "UC"]


async def test_a_meetup_moved_to_what_is_now_a_slot_becomes_that_slots_meetup(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    thursday = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    async with maker.begin() as s:
        community = await load(s, cid)
        turns = await rota.plan(s, community, NOW)
        await rota.move_meetup(s, LEAD, community, turns[1].meetup_id, thursday, NOW)
        turns = await rota.plan(s, community, NOW)
        await rota.confirm(s, B, community, turns[1].meetup_id, NOW)

    change, _ = await change_schedule(maker, cid, changed(weekday=3))

    assert (change.dropped, change.kept) == (4, 1)
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), NOW)
        kept = await s.get(Meetup, turns[1].meetup_id)
    assert [t.starts_at.date() for t in turns][:3] == [
        date(2026, 11, 26),
        date(2026, 12, 3),
        date(2026, 12, 10),
    ]
    assert kept is not None and kept.occurrence == kept.starts_at == thursday
    assert (turns[1].facilitator_id, turns[1].confirmed, turns[1].moved) == ("UB", True, False)


async def test_every_other_week_keeps_its_weeks_meetups_with_the_new_length(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    async with maker.begin() as s:
        community = await load(s, cid)
        turns = await rota.plan(s, community, NOW)
        await rota.confirm(s, A, community, turns[0].meetup_id, NOW)
        # The third meetup (8 Dec) moves to the Wednesday; the fifth (22 Dec) has a length
        # of its own.
        moved_to = turns[2].starts_at + timedelta(days=1, hours=2)
        await rota.move_meetup(s, LEAD, community, turns[2].meetup_id, moved_to, NOW)
        own = await s.get(Meetup, turns[4].meetup_id)
        assert own is not None
        own.duration_minutes = 45
    kept_ids = [turns[0].meetup_id, turns[2].meetup_id, turns[4].meetup_id]

    change, _ = await change_schedule(maker, cid, changed(every_weeks=2, duration_minutes=90))

    assert (change.dropped, change.kept) == (2, 3)  # 1 and 15 December
    after = await coming(maker, cid)
    assert turns[1].meetup_id not in after and turns[3].meetup_id not in after
    first, moved, with_own = (after[i] for i in kept_ids)
    assert first[2:5] == (90, "planned", "UA") and first[5] is not None  # still confirmed
    assert moved[1] == moved_to and moved[2] == 90  # keeps the time it was moved to
    assert with_own[2] == 45
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), NOW)
    assert [t.meetup_id for t in turns[:3]] == kept_ids
    assert [t.starts_at.date() for t in turns] == [
        date(2026, 11, 24),
        date(2026, 12, 9),  # moved
        date(2026, 12, 22),
        date(2027, 1, 5),
        date(2027, 1, 19),
    ]


async def test_a_meetup_under_way_is_left_alone_by_a_schedule_change(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    cid = await setup(maker)
    await facilitators(maker, cid)
    under_way = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    change, _ = await change_schedule(maker, cid, changed(weekday=3), under_way)
    assert change.dropped == 5  # the next five Tuesdays after it
    async with maker.begin() as s:
        turns = await rota.plan(s, await load(s, cid), under_way)
    assert turns[0].starts_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert turns[1].starts_at.date() == date(2026, 11, 26)


async def test_a_chat_plan_survives_and_the_chat_start_follows_the_format(
    sessionmaker: Maker,
) -> None:
    maker = sessionmaker
    chat = changed(format=rota.MeetupFormat.CHAT, duration_minutes=30)
    cid = await setup(maker)
    await change_schedule(maker, cid, chat)
    async with maker.begin() as s:
        community = await load(s, cid)
        meetup_id = (await rota.plan(s, community, NOW))[0].meetup_id
        await meetup_plan.save_plan(
            s,
            A,
            community,
            meetup_id,
            meetup_plan.PlanInput(("What shipped?", "What's stuck?"), pace_minutes=10),
            NOW,
            lambda _u, _t: False,
        )

    async def starts() -> list[tuple[int, datetime]]:
        async with maker() as s:
            return [(d.meetup_id, d.starts_at) for d in await meetup_plan.due_starts(s)]

    first_start = (meetup_id, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert first_start in await starts()

    # Longer, and reminded a day ahead: the same meetup, with its plan, starts as a chat.
    change, _ = await change_schedule(
        maker, cid, changed(format=rota.MeetupFormat.CHAT, duration_minutes=45)
    )
    assert change.dropped == 0
    assert first_start in await starts()
    async with maker() as s:
        plan = await meetup_plan.saved_plan(s, meetup_id)
        meetup = await s.get(Meetup, meetup_id)
    assert plan is not None and plan.prompts == ("What shipped?", "What's stuck?")
    assert meetup is not None and meetup.duration_minutes == 45

    # Not a chat any more: nothing starts by itself, and the plan waits in case it is again.
    await change_schedule(maker, cid, changed(duration_minutes=45))
    assert await starts() == []
    await change_schedule(maker, cid, changed(format=rota.MeetupFormat.CHAT, duration_minutes=45))
    assert first_start in await starts()
    async with maker() as s:
        assert await meetup_plan.saved_plan(s, meetup_id) == plan
