"""A person's data on a real database (SQLite and PostgreSQL): what hearth holds about them,
and forgetting them, over every kind of data, set up through the services people use.

Forgetting deletes what was only theirs, keeps what others rely on without their name, stops
at a community that would be left without a lead, and touches nobody else and no other
workspace."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import actions, rota
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import lean_coffee as lc_service
from bot.services import meetup as meetup_service
from bot.services import personal_data as service
from bot.services.actor import Actor
from bot.services.health_check_types import DEFAULT_SCALE, SettingsInput
from bot.services.lean_coffee import StartOptions as LeanCoffeeOptions
from bot.services.lean_coffee_types import KeepGoingChoice
from bot.services.meetup import StartOptions as MeetupOptions
from bot.services.personal_data_types import FORGOTTEN_ID, BlockerKind, Fate, Kind
from bot.services.recurrence import Frequency
from models.community import Community
from models.health_check import HealthCheckAnswer
from models.health_check_actions import HealthCheckAction
from models.lean_coffee import (
    LeanCoffeeSession,
    LeanCoffeeTakeaway,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.meetup import ChatMeetupReply
from models.minutes import Minutes
from models.rota import RotaMember, SwapRequest

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TEAM, OTHER_TEAM = "T1", "T2"
PRACTICE, LEADS = "C1", "C2"
ALICE, BOB, CAROL = (Actor(TEAM, u) for u in ("UALICE", "UBOB", "UCAROL"))
BOB_ELSEWHERE = Actor(OTHER_TEAM, "UBOB")
DUE = date(2026, 11, 25)
TUESDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    starts_on=date(2026, 11, 23),
)
NAMED = SettingsInput(scale=DEFAULT_SCALE, anonymous=False, min_answers=1)
ANONYMOUS = SettingsInput(scale=DEFAULT_SCALE, anonymous=True, min_answers=3)
BOBS_TOPIC = "How do we welcome newcomers?"

Maker = async_sessionmaker[AsyncSession]


async def community(s: AsyncSession, channel: str = PRACTICE, team: str = TEAM) -> Community:
    found = await community_service.find_community(s, team, channel)
    assert found is not None
    return found


async def rota_and_leads(maker: Maker) -> None:
    """#practice: Alice set it up and made Bob a lead; Bob made Carol one. Bob is in the
    rota (first, so his turns come first), away for a week, facilitated a meetup that was
    held, confirmed a coming turn, declined Alice's swap, asked Carol for one, skipped a turn,
    and marked Carol away."""
    async with maker.begin() as s:
        practice = await community_service.community_for(s, ALICE, PRACTICE, NOW)
        await community_service.add_leads(s, ALICE, practice, [BOB.user_id], NOW)
        await community_service.add_leads(s, BOB, practice, [CAROL.user_id], NOW)
        await rota.set_schedule(s, ALICE, practice, TUESDAYS, NOW)
        await rota.join(s, BOB, practice, NOW)
        await rota.join(s, ALICE, practice, NOW + timedelta(seconds=1))
        await rota.set_away(s, BOB, practice, BOB.user_id, date(2027, 1, 4), date(2027, 1, 10), NOW)
        await rota.set_away(
            s, BOB, practice, CAROL.user_id, date(2027, 2, 1), date(2027, 2, 2), NOW
        )
    async with maker.begin() as s:
        practice = await community(s)
        first = (await rota.plan(s, practice, NOW))[0]
        assert first.facilitator_id == BOB.user_id
        held = await rota.mark_held(
            s, practice, first.meetup_id, first.starts_at + timedelta(minutes=30)
        )
        assert held is not None and held.facilitator_id == BOB.user_id
    after_first = first.starts_at + timedelta(hours=2)
    async with maker.begin() as s:
        practice = await community(s)
        turns = await rota.plan(s, practice, after_first)
        assert [t.facilitator_id for t in turns[:3]] == [ALICE.user_id, BOB.user_id, ALICE.user_id]
        await rota.confirm(s, BOB, practice, turns[1].meetup_id, after_first)
    async with maker.begin() as s:
        practice = await community(s)
        # Bob declines Alice's swap; she skips her turn, which passes to Bob, who asks Carol
        # to swap, then skips it too.
        asked = await rota.request_swap(s, ALICE, practice, BOB.user_id, after_first)
        await rota.answer_swap(s, BOB, asked.id, False, after_first)
        await rota.skip(s, ALICE, practice, after_first)
        await rota.request_swap(s, BOB, practice, CAROL.user_id, after_first)
        await rota.skip(s, BOB, practice, after_first)


async def lean_coffee(maker: Maker, team: str = TEAM, channel: str = PRACTICE) -> int:
    """Alice facilitates; Bob proposes a topic, votes twice, wants to keep going, writes a
    takeaway and is given an action; Alice's topic and takeaway name Bob. Returns its id."""
    alice, bob = Actor(team, ALICE.user_id), Actor(team, BOB.user_id)
    async with maker.begin() as s:
        lc = await lc_service.start_session(
            s, alice, channel, LeanCoffeeOptions("Practice LC", 3, 7, (4,), False), NOW
        )
        mine = await lc_service.propose_topic(s, bob, lc, BOBS_TOPIC, "Details <@UBOB>", NOW)
        theirs = await lc_service.propose_topic(s, alice, lc, "Ask <@UBOB> about it", None, NOW)
        await lc_service.vote(s, bob, lc, mine.id, NOW)
        await lc_service.vote(s, bob, lc, mine.id, NOW)
        await lc_service.vote(s, alice, lc, theirs.id, NOW)
        await lc_service.close_voting(s, alice, lc, NOW)
        started = await lc_service.start_next_topic(s, alice, lc, NOW)
        assert started.id == mine.id
        assert started.discussion_ends_at is not None
        up = await lc_service.time_up(s, team, started.id, 0, started.discussion_ends_at)
        assert up is not None and up.poll_id is not None
        await lc_service.vote_on_poll(s, bob, up.poll_id, KeepGoingChoice.KEEP_GOING, NOW)
        await lc_service.add_takeaway(s, bob, lc, mine.id, "Buddy up newcomers", now=NOW)
        await lc_service.add_takeaway(
            s,
            alice,
            lc,
            mine.id,
            "Bob writes the guide",
            owner_id=BOB.user_id,
            due_date=DUE,
            now=NOW,
        )
        await lc_service.add_takeaway(
            s, alice, lc, mine.id, "Thanks to <@UBOB|bob> for this", now=NOW
        )
        await lc_service.add_takeaway(
            s, alice, lc, mine.id, "Alice tidies the wiki", owner_id=ALICE.user_id, now=NOW
        )
        await lc_service.end_session(s, alice, lc, NOW)
        return lc.id


async def chat_meetup(maker: Maker) -> None:
    """Bob facilitates and ends a chat meetup in #practice; he replies, once off the record;
    Alice thanks him in a reply; Bob owns an action from it."""
    async with maker.begin() as s:
        meetup = await meetup_service.start(
            s, ALICE, PRACTICE, MeetupOptions(prompts=("What worked?",), facilitator_id="UBOB"), NOW
        )
        [prompt] = await meetup_service.prompts_of(s, meetup.id)
        await meetup_service.set_prompt_ts(s, prompt.id, "100.1")
        for ts, who, text in (
            ("100.2", BOB.user_id, "Pairing on drafts worked"),
            ("100.3", BOB.user_id, "(off the record) the old boss"),
            ("100.4", ALICE.user_id, "Agree with <@UBOB>"),
        ):
            assert await meetup_service.record_reply(s, TEAM, PRACTICE, "100.1", ts, who, text, NOW)
        await meetup_service.add_takeaway(
            s, CAROL, meetup.id, "Bob shares the template", NOW, owner_id=BOB.user_id
        )
        await meetup_service.end(s, TEAM, meetup.id, NOW + timedelta(minutes=5), actor=BOB)


async def health_checks(maker: Maker) -> tuple[int, int]:
    """A named check Bob ran and answered (closed, with an action for Bob and one he marked
    done), and an open anonymous check he answered. Bob asked not to be reminded."""
    async with maker.begin() as s:
        practice = await community(s)
        await hc.update_settings(s, ALICE, practice, NAMED, NOW)
        named = await hc.run_now(s, BOB, practice, NOW)
        await hc.answer(s, BOB, named.id, "value", "green", NOW)
        await hc.answer(s, ALICE, named.id, "value", "amber", NOW)
        await hc.close_early(s, ALICE, named.id, NOW)
        await actions.record_after_check(
            s, CAROL, named.id, "Bob sorts the rota", BOB.user_id, DUE, NOW
        )
        alices = await actions.record_after_check(
            s, CAROL, named.id, "Alice books a room", ALICE.user_id, None, NOW
        )
        await actions.mark_done(s, BOB, alices.id, NOW, actions.HEALTH_CHECK)
        await hc.set_reminders_wanted(s, BOB, practice, False, NOW)
        await hc.update_settings(s, ALICE, practice, ANONYMOUS, NOW)
        anonymous = await hc.run_now(s, ALICE, practice, NOW)
        await hc.answer(s, BOB, anonymous.id, "value", "red", NOW)
        await hc.answer(s, ALICE, anonymous.id, "value", "green", NOW)
    return named.id, anonymous.id


async def reminded(maker: Maker) -> None:
    """Bob's Lean Coffee action came due and hearth reminded him."""
    nine = datetime.combine(DUE, time(9, 0), tzinfo=UTC)
    async with maker.begin() as s:
        due = [d for d in await actions.due_today(s, nine) if d.source == actions.LEAN_COFFEE]
        [to_send] = [r for d in due if (r := await actions.start_reminder(s, d, nine)) is not None]
        assert to_send.owner_id == BOB.user_id
        await actions.close_reminder(
            s, to_send.reminder_id, nine, actions.Outcome.SENT, sent_to=BOB.user_id
        )


async def everything(maker: Maker) -> None:
    await rota_and_leads(maker)
    await lean_coffee(maker)
    await chat_meetup(maker)
    await health_checks(maker)
    await reminded(maker)
    # The same Slack id in another workspace: his own community there, a Lean Coffee too.
    async with maker.begin() as s:
        elsewhere = await community_service.community_for(s, BOB_ELSEWHERE, PRACTICE, NOW)
        await rota.set_schedule(s, BOB_ELSEWHERE, elsewhere, TUESDAYS, NOW)
        await rota.join(s, BOB_ELSEWHERE, elsewhere, NOW)
    await lean_coffee(maker, team=OTHER_TEAM)


async def hold(maker: Maker, actor: Actor) -> Any:
    async with maker() as s:
        return await service.what_we_hold(s, actor.team_id, actor.user_id)


def counts(held: Any) -> dict[Kind, int]:
    return {h.kind: h.count for h in held.held}


async def forget(maker: Maker, actor: Actor) -> Any:
    async with maker.begin() as s:
        return await service.forget_person(s, actor.team_id, actor.user_id, NOW)


# --- what hearth holds ------------------------------------------------------------------------


async def test_what_we_hold_finds_every_kind_of_data(sessionmaker: Maker) -> None:
    await everything(sessionmaker)
    bob = await hold(sessionmaker, BOB)
    assert counts(bob) == {
        Kind.LEAD: 1,
        Kind.ROTA: 1,
        Kind.AWAY: 1,
        Kind.TURNS: 1,  # the turn he confirmed
        Kind.SKIPS: 1,
        Kind.SWAPS: 2,  # Alice's he declined, his own to Carol
        Kind.PAST_MEETUPS: 1,
        Kind.TOPICS: 1,
        Kind.DOTS: 2,
        Kind.KEEP_GOING: 1,
        Kind.REPLIES: 2,  # one off the record: counted, its (empty) text never shown
        Kind.TAKEAWAYS: 1,
        Kind.ACTIONS: 3,  # Lean Coffee, chat meetup, health check
        Kind.MARKED_DONE: 1,
        Kind.ANSWERS: 1,  # the named check's; the anonymous one holds no id
        Kind.OPT_OUTS: 1,
        Kind.MEETINGS_RUN: 2,  # the chat meetup he facilitated, the check he ran
        Kind.MINUTES: 3,  # the Lean Coffee's, the meetup's, the health check's
        Kind.MENTIONS: 4,  # his topic's detail, Alice's topic, takeaway and reply
        Kind.SET_UP: 2,  # Carol made a lead, Carol's away dates
        Kind.NOTES: 1,  # the reminder sent to him
    }
    assert {h.kind for h in bob.held} == set(Kind), "a kind of data the test does not cover"
    assert bob.blockers == ()
    topics = bob.of(Kind.TOPICS)
    assert topics is not None and topics.examples[0].text == BOBS_TOPIC
    assert topics.fate == Fate.UNNAMED
    dots = bob.of(Kind.DOTS)
    assert dots is not None and dots.fate == Fate.DELETED
    replies = bob.of(Kind.REPLIES)
    assert replies is not None and [e.text for e in replies.examples] == [
        "Pairing on drafts worked"
    ]
    away = bob.of(Kind.AWAY)
    assert away is not None and (away.examples[0].on, away.examples[0].until) == (
        date(2027, 1, 4),
        date(2027, 1, 10),
    )
    # Another workspace's data under the same id is not this workspace's.
    elsewhere = await hold(sessionmaker, BOB_ELSEWHERE)
    assert counts(elsewhere)[Kind.TOPICS] == 1 and counts(elsewhere)[Kind.ROTA] == 1
    assert Kind.ANSWERS not in counts(elsewhere)


async def test_someone_hearth_knows_nothing_about(sessionmaker: Maker) -> None:
    await lean_coffee(sessionmaker)
    nobody = await hold(sessionmaker, Actor(TEAM, "UNOBODY"))
    assert nobody.is_empty and nobody.blockers == ()
    assert await forget(sessionmaker, Actor(TEAM, "UNOBODY")) == nobody


def test_unname_takes_the_id_out_of_any_body() -> None:
    body = {
        "facilitator_id": "UBOB",
        "participant_ids": ["UALICE", "UBOB", "UBOBBY"],
        "airtime": [{"user_id": "UBOB", "replies": 2}],
        "topics": [{"title": "Ask <@UBOB> and <@UBOB|bob>, not <@UBOBBY>", "votes": 2}],
        "held_on": "2026-11-23",
    }
    unnamed, changed = service.unname(body, "UBOB")
    assert changed
    assert unnamed == {
        "facilitator_id": FORGOTTEN_ID,
        "participant_ids": ["UALICE", "UBOBBY"],
        "airtime": [{"user_id": FORGOTTEN_ID, "replies": 2}],
        "topics": [{"title": "Ask someone and someone, not <@UBOBBY>", "votes": 2}],
        "held_on": "2026-11-23",
    }
    assert body["participant_ids"] == ["UALICE", "UBOB", "UBOBBY"]  # the original is kept
    assert service.unname(unnamed, "UBOB") == (unnamed, False)


# --- forgetting -------------------------------------------------------------------------------


async def test_forgetting_leaves_nothing_that_names_them(sessionmaker: Maker) -> None:
    maker = sessionmaker
    await everything(maker)
    alice_before = counts(await hold(maker, ALICE))
    elsewhere_before = await hold(maker, BOB_ELSEWHERE)
    async with maker() as s:
        anonymous_answers = await s.scalar(
            select(func.count())
            .select_from(HealthCheckAnswer)
            .where(HealthCheckAnswer.voter.not_in(["UBOB", "UALICE"]))
        )
    assert anonymous_answers == 2

    removed = await forget(maker, BOB)

    assert counts(removed)[Kind.DOTS] == 2  # what was held, now removed or unnamed
    assert (await hold(maker, BOB)).is_empty
    # Nobody else lost anything (but the lead role Alice gave Bob, which was his), and
    # neither did Bob in the other workspace.
    assert counts(await hold(maker, ALICE)) == {
        **alice_before,
        Kind.SET_UP: alice_before[Kind.SET_UP] - 1,
    }
    assert await hold(maker, BOB_ELSEWHERE) == elsewhere_before
    async with maker() as s:
        # His votes and rota place are gone; the anonymous answers were never his to find.
        dots = (
            await s.execute(
                select(LeanCoffeeSession.team_id, func.count())
                .join(LeanCoffeeVote, LeanCoffeeVote.session_id == LeanCoffeeSession.id)
                .where(LeanCoffeeVote.user_id == BOB.user_id)
                .group_by(LeanCoffeeSession.team_id)
            )
        ).all()
        assert dots == [(OTHER_TEAM, 2)]
        assert [m.user_id for m in await s.scalars(select(RotaMember))] == ["UALICE", "UBOB"]
        assert (
            await s.scalar(
                select(func.count())
                .select_from(HealthCheckAnswer)
                .where(HealthCheckAnswer.voter.not_in(["UBOB", "UALICE"]))
            )
            == anonymous_answers
        )
        # His topic is still there, with its words, proposed by "someone".
        topic = await s.scalar(
            select(LeanCoffeeTopic).where(
                LeanCoffeeTopic.team_id == TEAM, LeanCoffeeTopic.title == BOBS_TOPIC
            )
        )
        assert topic is not None and topic.proposer_id == FORGOTTEN_ID
        assert topic.detail == "Details someone"
        # The action he owned is still to do, by "someone", and nobody is reminded of it.
        owned = await s.scalar(
            select(LeanCoffeeTakeaway).where(
                LeanCoffeeTakeaway.team_id == TEAM,
                LeanCoffeeTakeaway.text == "Bob writes the guide",
            )
        )
        assert owned is not None and owned.owner_id == FORGOTTEN_ID and owned.done_at is None
        assert [d for d in await actions.due_reminders(s, NOW) if d.team_id == TEAM] == []
        # His replies stay, as anonymous posts do.
        reply = await s.scalar(
            select(ChatMeetupReply).where(ChatMeetupReply.text == "Pairing on drafts worked")
        )
        assert reply is not None and reply.author_id is None
        # The minutes still hold what he said, without his id anywhere, and search finds it.
        for row in await s.scalars(select(Minutes).where(Minutes.team_id == TEAM)):
            assert "UBOB" not in json.dumps(row.body) + row.facilitator_id + row.title
            assert "ubob" not in (row.search_text or "")
        lc_minutes = await s.scalar(
            select(Minutes).where(Minutes.team_id == TEAM, Minutes.source == "lean_coffee")
        )
        assert lc_minutes is not None
        assert lc_minutes.body["discussed"][0]["title"] == BOBS_TOPIC
        assert lc_minutes.body["participant_ids"] == ["UALICE"]
        assert BOBS_TOPIC.casefold() in (lc_minutes.search_text or "")
        assert "thanks to someone for this" in (lc_minutes.search_text or "")
        # The rota goes on without him; Alice's declined swap stays in her history.
        turns = await rota.plan(s, await community(s), NOW + timedelta(days=8))
        assert BOB.user_id not in {t.facilitator_id for t in turns}
        assert ALICE.user_id in {t.facilitator_id for t in turns}
        swaps = (await s.execute(select(SwapRequest.from_user_id, SwapRequest.to_user_id))).all()
        assert swaps == [(ALICE.user_id, FORGOTTEN_ID)]
        # The other workspace's minutes still name him.
        elsewhere = await s.scalar(select(Minutes).where(Minutes.team_id == OTHER_TEAM))
        assert elsewhere is not None and "UBOB" in elsewhere.body["participant_ids"]

    # Minutes rebuilt later (an action recorded after the health check) stay without him.
    async with maker.begin() as s:
        check_id = await s.scalar(select(HealthCheckAction.check_id).limit(1))
        assert check_id is not None
        await actions.record_after_check(
            s, CAROL, check_id, "Carol follows up", "UCAROL", None, NOW
        )
    async with maker() as s:
        check_minutes = await s.scalar(select(Minutes).where(Minutes.source == "health_check"))
        assert check_minutes is not None
        assert "UBOB" not in json.dumps(check_minutes.body)
        assert FORGOTTEN_ID in json.dumps(check_minutes.body)  # the action he owned
    # Doing it again finds nothing more.
    assert (await forget(maker, BOB)).is_empty


async def test_the_only_lead_hands_the_role_on_first(sessionmaker: Maker) -> None:
    maker = sessionmaker
    async with maker.begin() as s:
        leads = await community_service.community_for(s, BOB, LEADS, NOW)
        await rota.set_schedule(s, BOB, leads, TUESDAYS, NOW)
        await rota.join(s, BOB, leads, NOW)
    before = await hold(maker, BOB)
    assert [(b.kind, b.channel_id) for b in before.blockers] == [(BlockerKind.ONLY_LEAD, LEADS)]

    with pytest.raises(service.StillNeeded, match=r"only lead of the community in <#C2>"):
        await forget(maker, BOB)
    assert await hold(maker, BOB) == before  # nothing changed

    async with maker.begin() as s:
        leads = await community(s, LEADS)
        await community_service.add_leads(s, BOB, leads, [CAROL.user_id], NOW)
    removed = await forget(maker, BOB)
    assert counts(removed)[Kind.LEAD] == 1
    async with maker() as s:
        leads = await community(s, LEADS)
        assert await community_service.leads(s, leads) == [CAROL.user_id]
        assert leads.created_by_id == FORGOTTEN_ID


async def test_a_running_session_is_handed_over_first(sessionmaker: Maker) -> None:
    maker = sessionmaker
    async with maker.begin() as s:
        lc = await lc_service.start_session(
            s, BOB, PRACTICE, LeanCoffeeOptions("Now", 3, 7, (4,), False), NOW
        )
        topic = await lc_service.propose_topic(s, ALICE, lc, "Alice's topic", None, NOW)
        await lc_service.vote(s, BOB, lc, topic.id, NOW)
    with pytest.raises(service.StillNeeded, match="facilitating the Lean Coffee"):
        await forget(maker, BOB)

    async with maker.begin() as s:
        running = await lc_service.running_session(s, TEAM, PRACTICE)
        assert running is not None
        await lc_service.hand_over(s, BOB, running, ALICE.user_id)
    await forget(maker, BOB)
    async with maker.begin() as s:
        running = await lc_service.running_session(s, TEAM, PRACTICE)
        assert running is not None and running.started_by_id == FORGOTTEN_ID
        board = await lc_service.board_view(s, running)
        assert [t.votes for t in board.to_discuss] == [0]  # his dot is gone
        minutes = await lc_service.end_session(s, ALICE, running, NOW)
    assert minutes.participant_ids == (ALICE.user_id,)  # "someone" is not a participant


async def test_a_running_chat_meetup_they_facilitate_ends_first(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as s:
        await meetup_service.start(s, BOB, PRACTICE, MeetupOptions(prompts=("Hello",)), NOW)
    before = await hold(sessionmaker, BOB)
    assert [b.kind for b in before.blockers] == [BlockerKind.FACILITATING_MEETUP]
    with pytest.raises(service.StillNeeded, match="chat meetup running in <#C1>"):
        await forget(sessionmaker, BOB)
