"""The Lean Coffee rules, against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import lean_coffee as lc_service
from bot.services.lean_coffee import Actor, StartOptions
from bot.services.lean_coffee_types import KeepGoingChoice, PollOutcome, SessionStatus
from models.lean_coffee import LeanCoffeePoll, LeanCoffeeSession, LeanCoffeeVote
from models.minutes import Minutes

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TEAM = "T1"
CHANNEL = "C1"
FACILITATOR = Actor(TEAM, "UFAC")
ALICE = Actor(TEAM, "UALICE")
BOB = Actor(TEAM, "UBOB")


async def _yes() -> bool:
    return True


ADMIN = Actor(TEAM, "UADMIN", is_admin=_yes)
OPTIONS = StartOptions(
    title="Content design CoP",
    votes_per_person=3,
    timebox_minutes=7,
    extension_minutes=(4, 2),
    anonymous_topics=False,
)

Maker = async_sessionmaker[AsyncSession]


async def start(maker: Maker, options: StartOptions = OPTIONS, channel: str = CHANNEL) -> int:
    async with maker.begin() as s:
        lc = await lc_service.start_session(s, FACILITATOR, channel, options, T0)
        return lc.id


async def load(s: AsyncSession, session_id: int, team: str = TEAM) -> LeanCoffeeSession:
    return await lc_service.get_session(s, team, session_id)


async def propose(maker: Maker, sid: int, actor: Actor, title: str, at: datetime = T0) -> int:
    async with maker.begin() as s:
        topic = await lc_service.propose_topic(s, actor, await load(s, sid), title, None, at)
        return topic.id


async def vote(maker: Maker, sid: int, actor: Actor, topic_id: int):
    async with maker.begin() as s:
        return await lc_service.vote(s, actor, await load(s, sid), topic_id, T0)


async def opened_poll(s: AsyncSession, topic_id: int, round_: int, now: datetime) -> LeanCoffeePoll:
    """Run out a time-box that has an extension left: a "Keep going?" poll opens."""
    outcome = await lc_service.time_up(s, TEAM, topic_id, round_, now)
    assert outcome is not None and outcome.poll_id is not None
    poll = await s.get(LeanCoffeePoll, outcome.poll_id)
    assert poll is not None
    return poll


async def test_one_running_session_per_channel(sessionmaker: Maker) -> None:
    await start(sessionmaker)
    with pytest.raises(Conflict):
        await start(sessionmaker)
    # Another channel is fine.
    await start(sessionmaker, channel="C2")


async def test_running_session_unique_index_holds_without_the_python_check(
    sessionmaker: Maker,
) -> None:
    await start(sessionmaker)
    async with sessionmaker() as s:
        s.add(
            LeanCoffeeSession(
                team_id=TEAM,
                channel_id=CHANNEL,
                title="x",
                facilitator_id="U",
                started_by_id="U",
                votes_per_person=3,
                timebox_minutes=7,
                extension_minutes=[],
                anonymous_topics=False,
                status="collecting",
                started_at=T0,
            )
        )
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            await s.commit()


async def test_dots_stack_and_respect_the_budget(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    b = await propose(sessionmaker, sid, BOB, "Research ops")
    first = await vote(sessionmaker, sid, ALICE, a)
    assert (first.dots_left, first.topic_votes, first.my_votes_on_topic) == (2, 1, 1)
    await vote(sessionmaker, sid, ALICE, a)
    third = await vote(sessionmaker, sid, ALICE, b)
    assert third.dots_left == 0
    with pytest.raises(Conflict, match="used all 3"):
        await vote(sessionmaker, sid, ALICE, b)
    async with sessionmaker() as s:
        board = await lc_service.board_view(s, await load(s, sid))
    assert [t.votes for t in board.to_discuss] == [2, 1]


async def test_unvote_returns_a_dot(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    with pytest.raises(Conflict, match="haven't put a dot"):
        async with sessionmaker.begin() as s:
            await lc_service.unvote(s, BOB, await load(s, sid), a)
    await vote(sessionmaker, sid, BOB, a)
    async with sessionmaker.begin() as s:
        receipt = await lc_service.unvote(s, BOB, await load(s, sid), a)
    assert (receipt.dots_left, receipt.topic_votes) == (3, 0)


async def test_concurrent_clicks_never_exceed_the_budget(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    topics = [await propose(sessionmaker, sid, ALICE, f"Topic {i}") for i in range(4)]

    async def click(topic_id: int) -> bool:
        try:
            await vote(sessionmaker, sid, BOB, topic_id)
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(click(t) for t in topics * 3))
    async with sessionmaker() as s:
        stored = await s.scalar(
            select(func.count()).select_from(LeanCoffeeVote).where(LeanCoffeeVote.user_id == "UBOB")
        )
    assert stored == 3
    assert sum(results) == 3


async def test_voting_on_a_closed_or_withdrawn_topic_changes_nothing(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    b = await propose(sessionmaker, sid, ALICE, "Tone of voice")
    await vote(sessionmaker, sid, BOB, b)
    async with sessionmaker.begin() as s:
        await lc_service.withdraw_topic(s, ALICE, await load(s, sid), b)
    with pytest.raises(Conflict, match="no longer open"):
        await vote(sessionmaker, sid, BOB, b)
    # Withdrawing gave Bob his dot back.
    assert (await vote(sessionmaker, sid, BOB, a)).dots_left == 2
    async with sessionmaker.begin() as s:
        await lc_service.close_voting(s, FACILITATOR, await load(s, sid), T0)
    with pytest.raises(Conflict, match="Voting has closed"):
        await vote(sessionmaker, sid, BOB, a)


async def test_only_the_proposer_edits_or_withdraws(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    with pytest.raises(NotAllowed):
        async with sessionmaker.begin() as s:
            await lc_service.edit_topic(s, BOB, await load(s, sid), a, "Hijacked", None)
    async with sessionmaker.begin() as s:
        topic = await lc_service.edit_topic(s, ALICE, await load(s, sid), a, "Plainer", "why")
    assert (topic.title, topic.detail) == ("Plainer", "why")


async def test_merge_moves_dots_and_nobody_goes_over_budget(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Accessibility", T0)
    b = await propose(sessionmaker, sid, BOB, "A11y", T0 - timedelta(minutes=1))
    for topic in (a, a, b):
        await vote(sessionmaker, sid, ALICE, topic)
    with pytest.raises(NotAllowed, match="Only the facilitator"):
        async with sessionmaker.begin() as s:
            await lc_service.merge_topics(s, ALICE, await load(s, sid), b, a)
    async with sessionmaker.begin() as s:
        kept = await lc_service.merge_topics(s, FACILITATOR, await load(s, sid), b, a)
        assert kept.proposed_at == T0 - timedelta(minutes=1)
    async with sessionmaker() as s:
        board = await lc_service.board_view(s, await load(s, sid))
    assert [(t.title, t.votes) for t in board.to_discuss] == [("Accessibility", 3)]
    with pytest.raises(Conflict, match="used all 3"):
        await vote(sessionmaker, sid, ALICE, a)


async def test_close_voting_orders_by_votes_then_who_proposed_first(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    late = await propose(sessionmaker, sid, ALICE, "Late", T0 + timedelta(minutes=2))
    early = await propose(sessionmaker, sid, BOB, "Early", T0 + timedelta(minutes=1))
    top = await propose(sessionmaker, sid, BOB, "Top", T0 + timedelta(minutes=3))
    none = await propose(sessionmaker, sid, BOB, "None", T0)
    for actor, topic in ((ALICE, top), (BOB, top), (ALICE, late), (BOB, early)):
        await vote(sessionmaker, sid, actor, topic)
    with pytest.raises(NotAllowed):
        async with sessionmaker.begin() as s:
            await lc_service.close_voting(s, ALICE, await load(s, sid), T0)
    async with sessionmaker.begin() as s:
        await lc_service.close_voting(s, ADMIN, await load(s, sid), T0)
    async with sessionmaker() as s:
        board = await lc_service.board_view(s, await load(s, sid))
    assert board.status == SessionStatus.DISCUSSING
    assert [t.id for t in board.to_discuss] == [top, early, late, none]


async def test_timebox_poll_extends_then_moves_on_when_the_pattern_is_spent(
    sessionmaker: Maker,
) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    await propose(sessionmaker, sid, BOB, "Research ops")
    async with sessionmaker.begin() as s:
        lc = await load(s, sid)
        await lc_service.close_voting(s, FACILITATOR, lc, T0)
        topic = await lc_service.start_next_topic(s, FACILITATOR, lc, T0)
        assert topic.id == a
        assert topic.discussion_ends_at == T0 + timedelta(minutes=7)

    now = T0 + timedelta(minutes=7)
    for round_, extension in enumerate((4, 2)):
        async with sessionmaker.begin() as s:
            # Not yet due: nothing opens.
            assert await lc_service.time_up(s, TEAM, a, round_, now - timedelta(seconds=1)) is None
            poll = await opened_poll(s, a, round_, now)
            # The same firing a second time (restart, other process) opens nothing.
            assert await lc_service.time_up(s, TEAM, a, round_, now) is None
            await lc_service.vote_on_poll(s, ALICE, poll.id, KeepGoingChoice.MOVE_ON, now)
            await lc_service.vote_on_poll(s, ALICE, poll.id, KeepGoingChoice.KEEP_GOING, now)
            await lc_service.vote_on_poll(s, BOB, poll.id, KeepGoingChoice.EITHER_WAY, now)
            view = await lc_service.poll_view(s, TEAM, poll.id)
            assert (view.keep_going, view.either_way, view.move_on) == (1, 1, 0)
            assert view.extension_minutes == extension
            # Before its minute is up it does not decide by itself.
            assert await lc_service.decide_poll(s, TEAM, poll.id, now) is None
            decided_at = now + timedelta(seconds=60)
            decision = await lc_service.decide_poll(s, TEAM, poll.id, decided_at)
            assert decision == lc_service.PollDecision(PollOutcome.EXTENDED, extension)
            assert await lc_service.decide_poll(s, TEAM, poll.id, decided_at) is None
        now = decided_at + timedelta(minutes=extension)

    # The extensions are used up: when this box runs out the topic moves on, no poll.
    async with sessionmaker.begin() as s:
        outcome = await lc_service.time_up(s, TEAM, a, 2, now)
        assert outcome == lc_service.TimeUp(session_id=sid, poll_id=None)
        assert await lc_service.time_up(s, TEAM, a, 2, now) is None
    async with sessionmaker() as s:
        board = await lc_service.board_view(s, await load(s, sid))
    assert board.discussing is None
    assert [t.id for t in board.discussed] == [a]
    assert board.discussed[0].seconds_spent == (now - T0).total_seconds()


async def test_only_the_facilitator_decides_a_poll_early(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    await propose(sessionmaker, sid, ALICE, "Plain language")
    async with sessionmaker.begin() as s:
        lc = await load(s, sid)
        await lc_service.close_voting(s, FACILITATOR, lc, T0)
        topic = await lc_service.start_next_topic(s, FACILITATOR, lc, T0)
        poll = await opened_poll(s, topic.id, 0, T0 + timedelta(minutes=7))
        with pytest.raises(NotAllowed):
            await lc_service.decide_poll(s, TEAM, poll.id, T0, actor=ALICE)


async def test_a_majority_to_move_on_finishes_the_topic(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    async with sessionmaker.begin() as s:
        lc = await load(s, sid)
        await lc_service.close_voting(s, FACILITATOR, lc, T0)
        await lc_service.start_next_topic(s, FACILITATOR, lc, T0)
        now = T0 + timedelta(minutes=7)
        poll = await opened_poll(s, a, 0, now)
        for actor, choice in ((ALICE, "keep_going"), (BOB, "move_on"), (ADMIN, "move_on")):
            await lc_service.vote_on_poll(s, actor, poll.id, KeepGoingChoice(choice), now)
        decision = await lc_service.decide_poll(s, TEAM, poll.id, now + timedelta(minutes=1))
    assert decision is not None and decision.outcome == PollOutcome.MOVED_ON


async def test_end_session_stores_minutes_and_carries_topics_over(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    b = await propose(sessionmaker, sid, BOB, "Research ops")
    await vote(sessionmaker, sid, ALICE, a)
    async with sessionmaker.begin() as s:
        lc = await load(s, sid)
        await lc_service.close_voting(s, FACILITATOR, lc, T0)
        await lc_service.start_next_topic(s, FACILITATOR, lc, T0)
        await lc_service.add_takeaway(s, BOB, lc, a, "Use shorter sentences", now=T0)
        await lc_service.add_takeaway(
            s,
            ALICE,
            lc,
            a,
            "Write the style guide page",
            owner_id="UBOB",
            due_date=date(2026, 12, 1),
            now=T0,
        )
        with pytest.raises(NotAllowed):
            await lc_service.end_session(s, BOB, lc, T0 + timedelta(minutes=5))
        minutes = await lc_service.end_session(s, FACILITATOR, lc, T0 + timedelta(minutes=5))

    assert minutes.facilitator_id == "UFAC"
    assert set(minutes.participant_ids) == {"UFAC", "UALICE", "UBOB"}
    assert [(t.title, t.votes, t.seconds_spent) for t in minutes.discussed] == [
        ("Plain language", 1, 300)
    ]
    assert [t.text for t in minutes.discussed[0].takeaways] == [
        "Use shorter sentences",
        "Write the style guide page",
    ]
    assert [(x.text, x.owner_id, x.due_date) for x in minutes.actions] == [
        ("Write the style guide page", "UBOB", date(2026, 12, 1))
    ]
    assert minutes.carried_over == ("Research ops",)

    async with sessionmaker() as s:
        stored = await lc_service.last_minutes(s, TEAM, CHANNEL)
        assert stored == minutes
        assert (await lc_service.history(s, TEAM, CHANNEL))[0].topics_discussed == 1
        # Another workspace sees nothing of it.
        assert await lc_service.last_minutes(s, "T2", CHANNEL) is None
        assert await s.scalar(select(func.count()).select_from(Minutes)) == 1

    # The next session in the channel starts with the leftover topic, keeping its proposer.
    new_sid = await start(sessionmaker)
    async with sessionmaker() as s:
        board = await lc_service.board_view(s, await load(s, new_sid))
    assert [(t.title, t.proposer_id, t.carried_over, t.votes) for t in board.to_discuss] == [
        ("Research ops", "UBOB", True, 0)
    ]
    assert b not in [t.id for t in board.to_discuss]


async def test_ended_session_refuses_everything(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    a = await propose(sessionmaker, sid, ALICE, "Plain language")
    async with sessionmaker.begin() as s:
        await lc_service.end_session(s, FACILITATOR, await load(s, sid), T0)
    with pytest.raises(Conflict, match="has ended"):
        await vote(sessionmaker, sid, ALICE, a)
    with pytest.raises(Conflict, match="has ended"):
        await propose(sessionmaker, sid, ALICE, "More")
    with pytest.raises(Conflict, match="has ended"):
        async with sessionmaker.begin() as s:
            await lc_service.end_session(s, FACILITATOR, await load(s, sid), T0)


async def test_other_workspaces_cannot_reach_a_session(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    async with sessionmaker() as s:
        with pytest.raises(NotFound):
            await load(s, sid, team="T_OTHER")
        assert await lc_service.running_session(s, "T_OTHER", CHANNEL) is None


async def test_hand_over_and_extend(sessionmaker: Maker) -> None:
    sid = await start(sessionmaker)
    await propose(sessionmaker, sid, ALICE, "Plain language")
    async with sessionmaker.begin() as s:
        lc = await load(s, sid)
        with pytest.raises(InvalidInput):
            await lc_service.hand_over(s, FACILITATOR, lc, "UFAC")
        await lc_service.hand_over(s, FACILITATOR, lc, "UALICE")
        with pytest.raises(NotAllowed):
            await lc_service.close_voting(s, FACILITATOR, lc, T0)
        await lc_service.close_voting(s, ALICE, lc, T0)
        await lc_service.start_next_topic(s, ALICE, lc, T0)
        topic, minutes = await lc_service.extend_topic(s, ALICE, lc, T0 + timedelta(minutes=1))
        assert minutes == 4
        assert topic.discussion_ends_at == T0 + timedelta(minutes=11)
        await lc_service.extend_topic(s, ALICE, lc, T0 + timedelta(minutes=1))
        # Once the pattern is spent the facilitator can still extend by its last box.
        topic, minutes = await lc_service.extend_topic(s, ALICE, lc, T0 + timedelta(minutes=1))
        assert minutes == 2
        assert topic.discussion_ends_at == T0 + timedelta(minutes=15)
