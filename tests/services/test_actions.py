"""The actions service on a real database: what is open, who may mark an action done, and
when its owner is reminded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotAllowed, NotFound
from bot.services import actions
from bot.services.actor import Actor
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTakeaway, LeanCoffeeTopic

TEAM = "T1"
CHANNEL = "C1"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DUE = date(2026, 11, 25)

Maker = async_sessionmaker[AsyncSession]


async def record(maker: Maker, *, owner: str = "UOWNER", due: date | None = DUE) -> int:
    """A Lean Coffee facilitated by UFAC with one action, recorded by UAUTHOR."""
    async with maker.begin() as session:
        lc = LeanCoffeeSession(
            team_id=TEAM,
            channel_id=CHANNEL,
            title="LC",
            facilitator_id="UFAC",
            started_by_id="UFAC",
            votes_per_person=3,
            timebox_minutes=7,
            extension_minutes=[],
            status="ended",
            started_at=NOW,
        )
        session.add(lc)
        await session.flush()
        topic = LeanCoffeeTopic(
            session_id=lc.id, team_id=TEAM, proposer_id="UFAC", title="T", proposed_at=NOW
        )
        session.add(topic)
        await session.flush()
        row = LeanCoffeeTakeaway(
            session_id=lc.id,
            topic_id=topic.id,
            team_id=TEAM,
            author_id="UAUTHOR",
            text="Do it",
            is_action=True,
            owner_id=owner,
            due_date=due,
            created_at=NOW,
        )
        session.add(row)
        await session.flush()
        return row.id


def person(user_id: str, *, admin: bool = False) -> Actor:
    async def is_admin() -> bool:
        return admin

    return Actor(team_id=TEAM, user_id=user_id, is_admin=is_admin)


@pytest.mark.parametrize("who", ["UOWNER", "UAUTHOR", "UFAC", "UADMIN"])
async def test_the_right_people_mark_done(sessionmaker: Maker, who: str) -> None:
    action_id = await record(sessionmaker)
    async with sessionmaker.begin() as session:
        done = await actions.mark_done(session, person(who, admin=who == "UADMIN"), action_id, NOW)
    assert not done.already and done.action.done_by_id == who
    async with sessionmaker() as session:
        assert await actions.open_actions(session, TEAM, CHANNEL) == []


async def test_others_may_not_and_twice_is_harmless(sessionmaker: Maker) -> None:
    action_id = await record(sessionmaker)
    async with sessionmaker.begin() as session:
        with pytest.raises(NotAllowed, match="Only <@UOWNER>"):
            await actions.mark_done(session, person("USTRANGER"), action_id, NOW)
        await actions.mark_done(session, person("UOWNER"), action_id, NOW)
        again = await actions.mark_done(session, person("USTRANGER"), action_id, NOW)
    assert again.already and again.action.done_by_id == "UOWNER"
    async with sessionmaker.begin() as session:
        with pytest.raises(NotFound):
            await actions.mark_done(session, Actor(team_id="T2", user_id="UOWNER"), action_id, NOW)


async def test_open_actions_filter_by_channel_and_owner(sessionmaker: Maker) -> None:
    mine = await record(sessionmaker)
    await record(sessionmaker, owner="UOTHER", due=None)
    async with sessionmaker() as session:
        assert [a.id for a in await actions.open_actions(session, TEAM, owner_id="UOWNER")] == [
            mine
        ]
        assert len(await actions.open_actions(session, TEAM, CHANNEL)) == 2
        assert await actions.open_actions(session, TEAM, "C2") == []
        assert await actions.open_actions(session, "T2") == []


async def test_reminder_is_due_at_nine_utc_on_the_due_date(sessionmaker: Maker) -> None:
    action_id = await record(sessionmaker)
    nine = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    async with sessionmaker.begin() as session:
        [due] = await actions.due_reminders(session, NOW)
        assert due.action_id == action_id and due.due_at == nine
        assert await actions.due_today(session, nine - timedelta(seconds=1)) == []
        assert await actions.due_today(session, nine) == [due]
        # Once sent, it is no longer due; a failure is retried after a back-off.
        to_send = await actions.start_reminder(session, due, nine)
        assert to_send is not None and to_send.owner_id == "UOWNER"
        await actions.reminder_failed(session, to_send.reminder_id, nine)
        [retry] = await actions.due_reminders(session, nine)
        assert retry.attempt == 1 and retry.due_at == nine + timedelta(seconds=15)
        await actions.close_reminder(session, to_send.reminder_id, nine, actions.Outcome.SENT)
        assert await actions.due_reminders(session, nine) == []


async def test_too_late_or_done_is_not_sent(sessionmaker: Maker) -> None:
    await record(sessionmaker)
    async with sessionmaker.begin() as session:
        [due] = await actions.due_reminders(session, NOW)
        late = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        assert await actions.start_reminder(session, due, late) is None
        assert await actions.due_reminders(session, late) == []
