"""The actions service on a real database: what is open (from Lean Coffee, meetups and health
checks alike), who may mark an action done, and when its owner is reminded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import actions
from bot.services import community as community_service
from bot.services.actor import Actor
from models.actions import ActionReminder
from models.health_check import HealthCheck
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTakeaway, LeanCoffeeTopic
from models.meetup import ChatMeetup, ChatMeetupPrompt, ChatMeetupTakeaway

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
        # Once owed (the outbox sends it, while the day lasts), it is no longer due.
        to_send = await actions.start_reminder(session, due, nine)
        assert to_send is not None and to_send.owner_id == "UOWNER"
        assert to_send.key == due.claim_key == f"actions.reminder:lean_coffee:{action_id}:{DUE}"
        assert to_send.until == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        assert [d.action_id for d in await actions.due_reminders(session, nine)] == [action_id]
        await actions.close_reminder(
            session, to_send.reminder_id, nine, actions.Outcome.OWED, sent_to="UOWNER"
        )
        assert await actions.due_reminders(session, nine) == []
        assert await actions.start_reminder(session, due, nine) is None  # owed once


async def test_too_late_or_done_is_not_sent(sessionmaker: Maker) -> None:
    await record(sessionmaker)
    async with sessionmaker.begin() as session:
        [due] = await actions.due_reminders(session, NOW)
        late = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        assert await actions.start_reminder(session, due, late) is None
        assert await actions.due_reminders(session, late) == []


# --- meetups and health checks --------------------------------------------------------------


async def record_in_meetup(
    maker: Maker,
    *,
    owner: str | None = "UOWNER",
    due: date | None = DUE,
    team: str = TEAM,
    at: datetime = NOW,
) -> int:
    """A chat meetup facilitated by UMEETFAC with one takeaway, recorded by UAUTHOR."""
    async with maker.begin() as session:
        meetup = ChatMeetup(
            team_id=team,
            channel_id=CHANNEL,
            facilitator_id="UMEETFAC",
            started_by_id="UMEETFAC",
            status="ended",
            length_minutes=30,
            started_at=at - timedelta(hours=1),
            ends_at=at,
            ended_at=at,
        )
        session.add(meetup)
        await session.flush()
        for position, text in enumerate(["What   went well?", "What next?"]):
            session.add(
                ChatMeetupPrompt(meetup_id=meetup.id, position=position, text=text, release_at=at)
            )
        row = ChatMeetupTakeaway(
            meetup_id=meetup.id,
            author_id="UAUTHOR",
            text="Share the slides",
            owner_id=owner,
            due_date=due,
            created_at=at,
        )
        session.add(row)
        await session.flush()
        return row.id


async def closed_check(maker: Maker, *, started_by: str | None = "URUNNER") -> int:
    """A closed health check in CHANNEL's community (led by ULEAD)."""
    async with maker.begin() as session:
        community = await community_service.community_for(
            session, Actor(TEAM, "ULEAD"), CHANNEL, NOW
        )
        check = HealthCheck(
            team_id=TEAM,
            community_id=community.id,
            setup_revision=1,
            questions=[],
            scale=[],
            anonymous=False,
            min_answers=3,
            reminders=0,
            started_by_id=started_by,
            opened_at=NOW - timedelta(days=2),
            closes_at=NOW,
            closed_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        )
        session.add(check)
        await session.flush()
        return check.id


async def record_after_check(
    maker: Maker, check_id: int, *, due: date | None = DUE, at: datetime = NOW
) -> actions.Action:
    async with maker.begin() as session:
        return await actions.record_after_check(
            session, person("UAUTHOR"), check_id, " Run a pairing day ", "UOWNER", due, at
        )


async def test_every_source_is_listed_newest_first_and_kept_to_its_workspace(
    sessionmaker: Maker,
) -> None:
    lean = await record(sessionmaker)
    meetup = await record_in_meetup(sessionmaker, at=NOW + timedelta(minutes=1))
    await record_in_meetup(sessionmaker, owner=None, at=NOW + timedelta(minutes=2))  # takeaway
    check = await record_after_check(
        sessionmaker, await closed_check(sessionmaker), at=NOW + timedelta(minutes=3)
    )
    await record_in_meetup(sessionmaker, team="T2", at=NOW + timedelta(minutes=4))
    async with sessionmaker() as session:
        found = await actions.open_actions(session, TEAM, CHANNEL)
        assert [(a.source, a.id) for a in found] == [
            ("health_check", check.id),
            ("meetup", meetup),
            ("lean_coffee", lean),
        ]
        assert await actions.count_open(session, TEAM, CHANNEL) == 3
        assert [a.source for a in await actions.open_actions(session, TEAM, limit=2)] == [
            "health_check",
            "meetup",
        ]
        assert [a.source for a in await actions.open_actions(session, "T2")] == ["meetup"]
        assert await actions.open_actions(session, TEAM, "C2") == []
        assert len(await actions.open_actions(session, TEAM, owner_id="UOWNER")) == 3
        assert await actions.open_actions(session, TEAM, owner_id="UOTHER") == []
        # Titles people recognise: the meetup's first prompt, the check's day.
        [checked, met, _] = found
        assert met.meeting_title == "Chat meetup: What went well?" == met.topic_title
        assert (met.facilitator_id, met.text, met.due_date) == ("UMEETFAC", "Share the slides", DUE)
        assert checked.meeting_title == "Health check, 23 Nov 2026"
        assert (checked.text, checked.facilitator_id) == ("Run a pairing day", "URUNNER")
        # Ids are per source: the meetup's action is not the Lean Coffee's of the same id.
        with pytest.raises(NotFound):
            await actions.get_action(session, "T2", meetup, "lean_coffee")
        with pytest.raises(NotFound):
            await actions.get_action(session, TEAM, meetup, "no_such_source")


@pytest.mark.parametrize("who", ["UOWNER", "UAUTHOR", "UMEETFAC", "UADMIN"])
async def test_the_right_people_mark_a_meetup_action_done(sessionmaker: Maker, who: str) -> None:
    lean = await record(sessionmaker)
    meetup = await record_in_meetup(sessionmaker)
    assert lean == meetup  # the same id in two tables
    async with sessionmaker.begin() as session:
        actor = person(who, admin=who == "UADMIN")
        done = await actions.mark_done(session, actor, meetup, NOW, "meetup")
    assert not done.already and done.action.source == "meetup"
    async with sessionmaker() as session:
        [still_open] = await actions.open_actions(session, TEAM, CHANNEL)
        assert (still_open.source, still_open.id) == ("lean_coffee", lean)
        row = await session.get(ChatMeetupTakeaway, meetup)
        assert row is not None and (row.done_at, row.done_by_id) == (NOW, who)


async def test_others_may_not_mark_a_meetup_action_done(sessionmaker: Maker) -> None:
    meetup = await record_in_meetup(sessionmaker)
    async with sessionmaker.begin() as session:
        with pytest.raises(NotAllowed, match="Only <@UOWNER>"):
            await actions.mark_done(session, person("UFAC"), meetup, NOW, "meetup")
        with pytest.raises(NotFound):
            await actions.mark_done(
                session, Actor(team_id="T2", user_id="UOWNER"), meetup, NOW, "meetup"
            )


@pytest.mark.parametrize("who", ["UOWNER", "UAUTHOR", "URUNNER", "ULEAD"])
async def test_the_right_people_mark_a_health_check_action_done(
    sessionmaker: Maker, who: str
) -> None:
    check = await record_after_check(sessionmaker, await closed_check(sessionmaker))
    async with sessionmaker.begin() as session:
        with pytest.raises(NotAllowed):
            await actions.mark_done(session, person("USTRANGER"), check.id, NOW, "health_check")
        done = await actions.mark_done(session, person(who), check.id, NOW, "health_check")
    assert done.action.done_by_id == who
    async with sessionmaker() as session:
        assert await actions.open_actions(session, TEAM) == []


async def test_recording_after_a_check_is_checked(sessionmaker: Maker) -> None:
    check_id = await closed_check(sessionmaker)
    async with sessionmaker.begin() as session:
        actor = person("UAUTHOR")
        with pytest.raises(InvalidInput) as empty:
            await actions.record_after_check(session, actor, check_id, "  ", "UOWNER", None, NOW)
        assert empty.value.field == actions.TEXT_FIELD
        with pytest.raises(InvalidInput) as nobody:
            await actions.record_after_check(session, actor, check_id, "x", None, None, NOW)
        assert nobody.value.field == actions.OWNER_FIELD
        past = NOW.date() - timedelta(days=1)
        with pytest.raises(InvalidInput) as late:
            await actions.record_after_check(session, actor, check_id, "x", "UOWNER", past, NOW)
        assert late.value.field == actions.DUE_FIELD
        with pytest.raises(NotFound):
            await actions.record_after_check(
                session, Actor("T2", "UAUTHOR"), check_id, "x", "UOWNER", None, NOW
            )
        check = await session.get(HealthCheck, check_id)
        assert check is not None
        check.closed_at = None
        with pytest.raises(Conflict):
            await actions.record_after_check(session, actor, check_id, "x", "UOWNER", None, NOW)


async def test_every_source_is_reminded_under_its_own_key(sessionmaker: Maker) -> None:
    lean = await record(sessionmaker)
    meetup = await record_in_meetup(sessionmaker)
    check = await record_after_check(sessionmaker, await closed_check(sessionmaker))
    nine = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    async with sessionmaker.begin() as session:
        due = await actions.due_today(session, nine)
        assert {(d.source, d.action_id) for d in due} == {
            ("lean_coffee", lean),
            ("meetup", meetup),
            ("health_check", check.id),
        }
        assert len({d.claim_key for d in due}) == 3
        assert f"actions.reminder:lean_coffee:{lean}:2026-11-25" in {d.claim_key for d in due}
        for reminder in due:
            to_send = await actions.start_reminder(session, reminder, nine)
            assert to_send is not None and to_send.action.source == reminder.source
            assert to_send.owner_id == "UOWNER"
            await actions.close_reminder(session, to_send.reminder_id, nine, actions.Outcome.SENT)
        assert await actions.due_reminders(session, nine) == []
    async with sessionmaker() as session:
        rows = (await session.scalars(select(ActionReminder))).all()
        assert sorted(r.source for r in rows) == ["health_check", "lean_coffee", "meetup"]


async def test_a_meetup_action_done_before_its_reminder_is_not_sent(sessionmaker: Maker) -> None:
    meetup = await record_in_meetup(sessionmaker)
    nine = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    async with sessionmaker.begin() as session:
        [due] = await actions.due_today(session, nine)
        await actions.mark_done(session, person("UOWNER"), meetup, NOW, "meetup")
        assert await actions.start_reminder(session, due, nine) is None
        assert await actions.due_reminders(session, nine) == []
