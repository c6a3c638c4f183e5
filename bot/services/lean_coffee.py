"""The rules of a Lean Coffee: who may do what, dot budgets, the order of topics, time-boxes.

Every function takes an open `AsyncSession` (the caller owns the transaction) and plain
values, returns plain values or rows, and raises a `DomainError` for anything a person did
that the rules do not allow. Nothing here talks to Slack. Every query is scoped by team id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.actor import Actor
from bot.services.lean_coffee_types import (
    KEEP_GOING_POLL_SECONDS,
    BoardView,
    HistoryEntry,
    KeepGoingChoice,
    KeepGoingView,
    LeanCoffeeMinutes,
    MinutesAction,
    MinutesTakeaway,
    MinutesTopic,
    PollOutcome,
    SessionStatus,
    TakeawayView,
    TopicState,
    TopicView,
    VoteReceipt,
)
from bot.services.personal_data_types import FORGOTTEN_ID
from models.lean_coffee import (
    LeanCoffeePoll,
    LeanCoffeePollVote,
    LeanCoffeeSession,
    LeanCoffeeTakeaway,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.minutes import Minutes

MAX_TOPICS_PER_SESSION = 200
MINUTES_SOURCE = "lean_coffee"


@dataclass(frozen=True)
class StartOptions:
    title: str
    votes_per_person: int
    timebox_minutes: int
    extension_minutes: tuple[int, ...]
    anonymous_topics: bool
    facilitator_id: str | None = None  # None: whoever starts it


@dataclass(frozen=True)
class PollDecision:
    outcome: PollOutcome
    extension_minutes: int | None  # set when extended


# --- loading, always scoped by team -------------------------------------------------------


async def get_session(session: AsyncSession, team_id: str, session_id: int) -> LeanCoffeeSession:
    lc = await session.scalar(
        select(LeanCoffeeSession).where(
            LeanCoffeeSession.id == session_id, LeanCoffeeSession.team_id == team_id
        )
    )
    if lc is None:
        raise NotFound("I can't find that Lean Coffee any more. Start a new one with /lean-coffee.")
    return lc


async def running_session(
    session: AsyncSession, team_id: str, channel_id: str
) -> LeanCoffeeSession | None:
    return await session.scalar(
        select(LeanCoffeeSession).where(
            LeanCoffeeSession.team_id == team_id,
            LeanCoffeeSession.channel_id == channel_id,
            LeanCoffeeSession.status != SessionStatus.ENDED,
        )
    )


async def _get_topic(
    session: AsyncSession, lc: LeanCoffeeSession, topic_id: int
) -> LeanCoffeeTopic:
    topic = await session.scalar(
        select(LeanCoffeeTopic).where(
            LeanCoffeeTopic.id == topic_id,
            LeanCoffeeTopic.session_id == lc.id,
            LeanCoffeeTopic.team_id == lc.team_id,
        )
    )
    if topic is None:
        raise NotFound("That topic is no longer on the board.")
    return topic


def _require_not_ended(lc: LeanCoffeeSession) -> None:
    if lc.status == SessionStatus.ENDED:
        raise Conflict(
            "This Lean Coffee has ended, so that button no longer works. "
            "Start a new one with /lean-coffee."
        )


async def _require_facilitator(lc: LeanCoffeeSession, actor: Actor, doing: str) -> None:
    if actor.user_id == lc.facilitator_id or await actor.is_admin():
        return
    raise NotAllowed(
        f"Only the facilitator, <@{lc.facilitator_id}>, can {doing}. "
        "If they'd like you to take over, they can hand over facilitation from the board."
    )


# --- start --------------------------------------------------------------------------------


async def start_session(
    session: AsyncSession,
    actor: Actor,
    channel_id: str,
    options: StartOptions,
    now: datetime,
) -> LeanCoffeeSession:
    """Open a session; topics left undiscussed last time in this channel are carried over."""
    if await running_session(session, actor.team_id, channel_id) is not None:
        raise Conflict(
            "A Lean Coffee is already running in this channel. Add a topic with "
            "`/lean-coffee` followed by your topic, or ask the facilitator to end it first."
        )
    lc = LeanCoffeeSession(
        team_id=actor.team_id,
        channel_id=channel_id,
        title=options.title,
        facilitator_id=options.facilitator_id or actor.user_id,
        started_by_id=actor.user_id,
        votes_per_person=options.votes_per_person,
        timebox_minutes=options.timebox_minutes,
        extension_minutes=list(options.extension_minutes),
        anonymous_topics=options.anonymous_topics,
        status=SessionStatus.COLLECTING,
        started_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(lc)
            await session.flush()
    except IntegrityError:
        # Someone else started one in the same instant; the unique index decided.
        raise Conflict("A Lean Coffee was just started in this channel by someone else.") from None

    previous = await session.scalar(
        select(LeanCoffeeSession)
        .where(
            LeanCoffeeSession.team_id == actor.team_id,
            LeanCoffeeSession.channel_id == channel_id,
            LeanCoffeeSession.status == SessionStatus.ENDED,
        )
        .order_by(LeanCoffeeSession.ended_at.desc(), LeanCoffeeSession.id.desc())
        .limit(1)
    )
    if previous is not None:
        leftovers = await session.scalars(
            select(LeanCoffeeTopic)
            .where(
                LeanCoffeeTopic.session_id == previous.id,
                LeanCoffeeTopic.state == TopicState.OPEN,
            )
            .order_by(LeanCoffeeTopic.proposed_at, LeanCoffeeTopic.id)
        )
        for old in leftovers:
            session.add(
                LeanCoffeeTopic(
                    session_id=lc.id,
                    team_id=lc.team_id,
                    proposer_id=old.proposer_id,
                    title=old.title,
                    detail=old.detail,
                    state=TopicState.OPEN,
                    proposed_at=old.proposed_at,
                    carried_from_id=old.id,
                )
            )
        await session.flush()
    return lc


# --- topics -------------------------------------------------------------------------------


async def propose_topic(
    session: AsyncSession,
    actor: Actor,
    lc: LeanCoffeeSession,
    title: str,
    detail: str | None,
    now: datetime,
) -> LeanCoffeeTopic:
    _require_not_ended(lc)
    count = await session.scalar(
        select(func.count()).select_from(LeanCoffeeTopic).where(LeanCoffeeTopic.session_id == lc.id)
    )
    if (count or 0) >= MAX_TOPICS_PER_SESSION:
        raise Conflict(
            f"This Lean Coffee already has {MAX_TOPICS_PER_SESSION} topics, which is plenty "
            "for one session. Add yours next time!"
        )
    topic = LeanCoffeeTopic(
        session_id=lc.id,
        team_id=lc.team_id,
        proposer_id=actor.user_id,
        title=title,
        detail=detail,
        state=TopicState.OPEN,
        proposed_at=now,
    )
    session.add(topic)
    await session.flush()
    return topic


async def _own_waiting_topic(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, topic_id: int, doing: str
) -> LeanCoffeeTopic:
    _require_not_ended(lc)
    topic = await _get_topic(session, lc, topic_id)
    if topic.state != TopicState.OPEN:
        raise Conflict(f"You can only {doing} a topic while it is waiting to be discussed.")
    is_mine = topic.proposer_id == actor.user_id or actor.user_id == lc.facilitator_id
    if not is_mine and not await actor.is_admin():
        raise NotAllowed(f"Only the person who proposed a topic can {doing} it.")
    return topic


async def edit_topic(
    session: AsyncSession,
    actor: Actor,
    lc: LeanCoffeeSession,
    topic_id: int,
    title: str,
    detail: str | None,
) -> LeanCoffeeTopic:
    topic = await _own_waiting_topic(session, actor, lc, topic_id, "edit")
    topic.title = title
    topic.detail = detail
    await session.flush()
    return topic


async def withdraw_topic(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, topic_id: int
) -> LeanCoffeeTopic:
    """Take a topic off the board; its dots go back to the people who placed them."""
    topic = await _own_waiting_topic(session, actor, lc, topic_id, "withdraw")
    topic.state = TopicState.WITHDRAWN
    await session.execute(delete(LeanCoffeeVote).where(LeanCoffeeVote.topic_id == topic.id))
    await session.flush()
    return topic


async def merge_topics(
    session: AsyncSession,
    actor: Actor,
    lc: LeanCoffeeSession,
    duplicate_id: int,
    keep_id: int,
) -> LeanCoffeeTopic:
    """Fold a duplicate into the topic kept; its dots move with it.

    A dot keeps its slot number, so nobody can end up over their budget.
    """
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "merge topics")
    if duplicate_id == keep_id:
        raise InvalidInput("Pick a different topic to merge into.", field="merge_into")
    duplicate = await _get_topic(session, lc, duplicate_id)
    keep = await _get_topic(session, lc, keep_id)
    if duplicate.state != TopicState.OPEN or keep.state != TopicState.OPEN:
        raise Conflict("Only topics still waiting to be discussed can be merged.")
    await session.execute(
        update(LeanCoffeeVote)
        .where(LeanCoffeeVote.topic_id == duplicate.id)
        .values(topic_id=keep.id)
    )
    duplicate.state = TopicState.MERGED
    duplicate.merged_into_id = keep.id
    # The kept topic takes the earlier proposal time, so merging never costs it its place.
    keep.proposed_at = min(keep.proposed_at, duplicate.proposed_at)
    await session.flush()
    return keep


# --- dot voting ---------------------------------------------------------------------------


async def _my_dots(
    session: AsyncSession, lc: LeanCoffeeSession, user_id: str
) -> list[LeanCoffeeVote]:
    result = await session.scalars(
        select(LeanCoffeeVote)
        .where(LeanCoffeeVote.session_id == lc.id, LeanCoffeeVote.user_id == user_id)
        .order_by(LeanCoffeeVote.slot)
    )
    return list(result)


async def _receipt(
    session: AsyncSession, lc: LeanCoffeeSession, topic: LeanCoffeeTopic, user_id: str
) -> VoteReceipt:
    mine = await _my_dots(session, lc, user_id)
    topic_votes = await session.scalar(
        select(func.count()).select_from(LeanCoffeeVote).where(LeanCoffeeVote.topic_id == topic.id)
    )
    return VoteReceipt(
        topic_title=topic.title,
        topic_votes=topic_votes or 0,
        my_votes_on_topic=sum(1 for dot in mine if dot.topic_id == topic.id),
        dots_left=lc.votes_per_person - len(mine),
        votes_per_person=lc.votes_per_person,
    )


def _require_voting_open(lc: LeanCoffeeSession, topic: LeanCoffeeTopic) -> None:
    _require_not_ended(lc)
    if lc.status != SessionStatus.COLLECTING:
        raise Conflict("Voting has closed for this Lean Coffee, so dots can't move any more.")
    if topic.state != TopicState.OPEN:
        raise Conflict("That topic is no longer open for votes.")


async def vote(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, topic_id: int, now: datetime
) -> VoteReceipt:
    """Put one of the actor's dots on a topic (dots may be stacked)."""
    topic = await _get_topic(session, lc, topic_id)
    _require_voting_open(lc, topic)
    # Each dot takes the lowest free slot; the unique (session, user, slot) constraint makes
    # a racing click of the same person fail, and we look again for the next free slot.
    for _attempt in range(lc.votes_per_person + 1):
        used = {dot.slot for dot in await _my_dots(session, lc, actor.user_id)}
        free = [slot for slot in range(1, lc.votes_per_person + 1) if slot not in used]
        if not free:
            raise Conflict(
                f"You've used all {lc.votes_per_person} of your dots. To move one, press "
                "*Remove my vote* on a topic first."
            )
        try:
            async with session.begin_nested():
                session.add(
                    LeanCoffeeVote(
                        session_id=lc.id,
                        topic_id=topic.id,
                        user_id=actor.user_id,
                        slot=free[0],
                        voted_at=now,
                    )
                )
                await session.flush()
            break
        except IntegrityError:
            continue
    return await _receipt(session, lc, topic, actor.user_id)


async def unvote(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, topic_id: int
) -> VoteReceipt:
    topic = await _get_topic(session, lc, topic_id)
    _require_voting_open(lc, topic)
    mine = [dot for dot in await _my_dots(session, lc, actor.user_id) if dot.topic_id == topic.id]
    if not mine:
        raise Conflict("You haven't put a dot on that topic, so there is nothing to remove.")
    await session.delete(mine[-1])
    await session.flush()
    return await _receipt(session, lc, topic, actor.user_id)


# --- discussion ---------------------------------------------------------------------------


async def _vote_counts(session: AsyncSession, lc: LeanCoffeeSession) -> dict[int, int]:
    rows = await session.execute(
        select(LeanCoffeeVote.topic_id, func.count())
        .where(LeanCoffeeVote.session_id == lc.id)
        .group_by(LeanCoffeeVote.topic_id)
    )
    return {topic_id: count for topic_id, count in rows}


async def close_voting(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, now: datetime
) -> None:
    """Fix the order of discussion: most dots first, ties to whoever proposed first."""
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "close voting")
    if lc.status != SessionStatus.COLLECTING:
        raise Conflict("Voting is already closed.")
    topics = list(
        await session.scalars(
            select(LeanCoffeeTopic).where(
                LeanCoffeeTopic.session_id == lc.id, LeanCoffeeTopic.state == TopicState.OPEN
            )
        )
    )
    if not topics:
        raise Conflict("There are no topics yet. Propose a few first, then close voting.")
    counts = await _vote_counts(session, lc)
    topics.sort(key=lambda t: (-counts.get(t.id, 0), t.proposed_at, t.id))
    for position, topic in enumerate(topics):
        topic.queue_position = position
        topic.votes_at_close = counts.get(topic.id, 0)
    lc.status = SessionStatus.DISCUSSING
    lc.voting_closed_at = now
    await session.flush()


async def _current_topic(session: AsyncSession, lc: LeanCoffeeSession) -> LeanCoffeeTopic | None:
    return await session.scalar(
        select(LeanCoffeeTopic).where(
            LeanCoffeeTopic.session_id == lc.id, LeanCoffeeTopic.state == TopicState.DISCUSSING
        )
    )


async def _current_topic_as_shown(
    session: AsyncSession, lc: LeanCoffeeSession, topic_id: int | None
) -> LeanCoffeeTopic:
    """The topic under discussion, checked against the one the clicked button showed."""
    topic = await _current_topic(session, lc)
    if topic is None or (topic_id is not None and topic.id != topic_id):
        raise Conflict(
            "That topic isn't being discussed any more; the board shows where things are now."
        )
    return topic


async def _queue(session: AsyncSession, lc: LeanCoffeeSession) -> list[LeanCoffeeTopic]:
    """Topics waiting, in the order they will be discussed.

    Topics proposed after voting closed have no place yet and follow, first come first.
    """
    topics = list(
        await session.scalars(
            select(LeanCoffeeTopic).where(
                LeanCoffeeTopic.session_id == lc.id, LeanCoffeeTopic.state == TopicState.OPEN
            )
        )
    )
    late = 1 << 30
    topics.sort(
        key=lambda t: (
            t.queue_position if t.queue_position is not None else late,
            t.proposed_at,
            t.id,
        )
    )
    return topics


async def start_next_topic(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, now: datetime
) -> LeanCoffeeTopic:
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "start the next topic")
    if lc.status == SessionStatus.COLLECTING:
        raise Conflict("Close voting first, so everyone knows the order of topics.")
    if await _current_topic(session, lc) is not None:
        raise Conflict("A topic is already being discussed. Move on from it first.")
    queue = await _queue(session, lc)
    if not queue:
        raise Conflict("Every topic has been discussed. End the session when you're ready.")
    topic = queue[0]
    topic.state = TopicState.DISCUSSING
    topic.discussion_started_at = now
    topic.discussion_ends_at = now + timedelta(minutes=lc.timebox_minutes)
    topic.round = 0
    await session.flush()
    return topic


def next_extension(lc: LeanCoffeeSession, topic: LeanCoffeeTopic) -> int | None:
    """Minutes the next "Keep going" would add, or None when the pattern is spent."""
    pattern = list(lc.extension_minutes)
    return pattern[topic.round] if topic.round < len(pattern) else None


async def _close_open_polls(
    session: AsyncSession, topic: LeanCoffeeTopic, outcome: PollOutcome, now: datetime
) -> None:
    await session.execute(
        update(LeanCoffeePoll)
        .where(LeanCoffeePoll.topic_id == topic.id, LeanCoffeePoll.decided_at.is_(None))
        .values(decided_at=now, outcome=outcome)
    )


def _extend(lc: LeanCoffeeSession, topic: LeanCoffeeTopic, minutes: int, now: datetime) -> None:
    base = max(topic.discussion_ends_at or now, now)
    topic.discussion_ends_at = base + timedelta(minutes=minutes)
    topic.round += 1


async def extend_topic(
    session: AsyncSession,
    actor: Actor,
    lc: LeanCoffeeSession,
    now: datetime,
    topic_id: int | None = None,
) -> tuple[LeanCoffeeTopic, int]:
    """The facilitator adds the next box of the pattern (or the last box again once spent)."""
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "extend a topic")
    topic = await _current_topic_as_shown(session, lc, topic_id)
    pattern = list(lc.extension_minutes) or [lc.timebox_minutes]
    minutes = next_extension(lc, topic) or pattern[-1]
    _extend(lc, topic, minutes, now)
    await _close_open_polls(session, topic, PollOutcome.EXTENDED, now)
    await session.flush()
    return topic, minutes


def _finish(topic: LeanCoffeeTopic, now: datetime) -> None:
    topic.state = TopicState.DISCUSSED
    topic.discussion_finished_at = now
    topic.discussion_ends_at = None


async def move_on(
    session: AsyncSession,
    actor: Actor,
    lc: LeanCoffeeSession,
    now: datetime,
    topic_id: int | None = None,
) -> LeanCoffeeTopic:
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "move on")
    topic = await _current_topic_as_shown(session, lc, topic_id)
    _finish(topic, now)
    await _close_open_polls(session, topic, PollOutcome.MOVED_ON, now)
    await session.flush()
    return topic


async def hand_over(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, new_facilitator_id: str
) -> None:
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "hand over facilitation")
    if new_facilitator_id == lc.facilitator_id:
        raise InvalidInput("They're already facilitating. Pick someone else.", field="facilitator")
    lc.facilitator_id = new_facilitator_id
    await session.flush()


# --- "Keep going?" polls ------------------------------------------------------------------


@dataclass(frozen=True)
class TimeUp:
    """What happened when a time-box ran out."""

    session_id: int
    poll_id: int | None  # a "Keep going?" poll was opened
    # poll_id None: the extensions were used up, so the topic moved to Discussed


async def time_up(
    session: AsyncSession, team_id: str, topic_id: int, round_: int, now: datetime
) -> TimeUp | None:
    """A time-box has run out: ask "Keep going?" if an extension is left, else move on.

    Returns None when that box is not (or no longer) the one running: the topic moved on,
    was extended, or this firing already happened (the poll's unique (topic, round) holds).
    """
    topic = await session.scalar(
        select(LeanCoffeeTopic).where(
            LeanCoffeeTopic.id == topic_id, LeanCoffeeTopic.team_id == team_id
        )
    )
    if (
        topic is None
        or topic.state != TopicState.DISCUSSING
        or topic.round != round_
        or topic.discussion_ends_at is None
        or topic.discussion_ends_at > now
    ):
        return None
    lc = await get_session(session, team_id, topic.session_id)
    if next_extension(lc, topic) is None:
        _finish(topic, now)
        await session.flush()
        return TimeUp(session_id=lc.id, poll_id=None)
    poll = LeanCoffeePoll(
        session_id=topic.session_id,
        topic_id=topic.id,
        round=round_,
        opened_at=now,
        decides_at=now + timedelta(seconds=KEEP_GOING_POLL_SECONDS),
    )
    try:
        async with session.begin_nested():
            session.add(poll)
            await session.flush()
    except IntegrityError:
        return None
    return TimeUp(session_id=lc.id, poll_id=poll.id)


async def get_poll(session: AsyncSession, team_id: str, poll_id: int) -> LeanCoffeePoll:
    poll = await session.scalar(
        select(LeanCoffeePoll)
        .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeePoll.session_id)
        .where(LeanCoffeePoll.id == poll_id, LeanCoffeeSession.team_id == team_id)
    )
    if poll is None:
        raise NotFound("That vote is no longer around.")
    return poll


async def vote_on_poll(
    session: AsyncSession, actor: Actor, poll_id: int, choice: KeepGoingChoice, now: datetime
) -> LeanCoffeePoll:
    """One changeable vote per person while the poll is open."""
    poll = await get_poll(session, actor.team_id, poll_id)
    if poll.decided_at is not None:
        raise Conflict("That vote has already been decided.")
    existing = await session.scalar(
        select(LeanCoffeePollVote).where(
            LeanCoffeePollVote.poll_id == poll.id, LeanCoffeePollVote.user_id == actor.user_id
        )
    )
    if existing is not None:
        existing.choice = choice
        existing.voted_at = now
    else:
        try:
            async with session.begin_nested():
                session.add(
                    LeanCoffeePollVote(
                        poll_id=poll.id, user_id=actor.user_id, choice=choice, voted_at=now
                    )
                )
                await session.flush()
        except IntegrityError:
            await session.execute(
                update(LeanCoffeePollVote)
                .where(
                    LeanCoffeePollVote.poll_id == poll.id,
                    LeanCoffeePollVote.user_id == actor.user_id,
                )
                .values(choice=choice, voted_at=now)
            )
    await session.flush()
    return poll


async def _poll_tally(session: AsyncSession, poll_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(LeanCoffeePollVote.choice, func.count())
        .where(LeanCoffeePollVote.poll_id == poll_id)
        .group_by(LeanCoffeePollVote.choice)
    )
    return {choice: count for choice, count in rows}


async def decide_poll(
    session: AsyncSession,
    team_id: str,
    poll_id: int,
    now: datetime,
    actor: Actor | None = None,
) -> PollDecision | None:
    """Decide a poll: by the facilitator (`actor`), or by itself once its minute is up.

    Returns None when it was already decided (a double click, a second process, a restart):
    the conditional update below lets exactly one caller win.
    """
    poll = await get_poll(session, team_id, poll_id)
    lc = await get_session(session, team_id, poll.session_id)
    if actor is not None:
        await _require_facilitator(lc, actor, "decide the vote")
    elif poll.decides_at > now:
        return None
    won = await session.execute(
        update(LeanCoffeePoll)
        .where(LeanCoffeePoll.id == poll.id, LeanCoffeePoll.decided_at.is_(None))
        .values(decided_at=now)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await session.refresh(poll)
    topic = await _get_topic(session, lc, poll.topic_id)
    if topic.state != TopicState.DISCUSSING or topic.round != poll.round:
        poll.outcome = PollOutcome.MOVED_ON
        await session.flush()
        return PollDecision(PollOutcome.MOVED_ON, None)
    tally = await _poll_tally(session, poll.id)
    extension = next_extension(lc, topic)
    keep, leave = tally.get(KeepGoingChoice.KEEP_GOING, 0), tally.get(KeepGoingChoice.MOVE_ON, 0)
    if extension is not None and keep > leave:
        _extend(lc, topic, extension, now)
        poll.outcome = PollOutcome.EXTENDED
        decision = PollDecision(PollOutcome.EXTENDED, extension)
    else:
        _finish(topic, now)
        poll.outcome = PollOutcome.MOVED_ON
        decision = PollDecision(PollOutcome.MOVED_ON, None)
    await session.flush()
    return decision


# --- takeaways ----------------------------------------------------------------------------


async def add_takeaway(
    session: AsyncSession,
    actor: Actor,
    lc: LeanCoffeeSession,
    topic_id: int,
    text: str,
    *,
    is_action: bool = False,
    owner_id: str | None = None,
    due_date: date | None = None,
    now: datetime,
) -> LeanCoffeeTakeaway:
    _require_not_ended(lc)
    topic = await _get_topic(session, lc, topic_id)
    if topic.state in (TopicState.WITHDRAWN, TopicState.MERGED):
        raise Conflict("That topic was withdrawn or merged; add the takeaway to another topic.")
    takeaway = LeanCoffeeTakeaway(
        session_id=lc.id,
        topic_id=topic.id,
        team_id=lc.team_id,
        author_id=actor.user_id,
        text=text,
        is_action=is_action or owner_id is not None,
        owner_id=owner_id,
        due_date=due_date,
        created_at=now,
    )
    session.add(takeaway)
    await session.flush()
    return takeaway


# --- end and minutes ----------------------------------------------------------------------


async def end_session(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, now: datetime
) -> LeanCoffeeMinutes:
    """End the session and store its minutes."""
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, "end the session")
    current = await _current_topic(session, lc)
    if current is not None:
        _finish(current, now)
        await _close_open_polls(session, current, PollOutcome.MOVED_ON, now)
    await session.execute(
        update(LeanCoffeePoll)
        .where(LeanCoffeePoll.session_id == lc.id, LeanCoffeePoll.decided_at.is_(None))
        .values(decided_at=now, outcome=PollOutcome.MOVED_ON)
    )
    lc.status = SessionStatus.ENDED
    lc.ended_at = now
    await session.flush()
    minutes = await build_minutes(session, lc)
    session.add(
        Minutes(
            team_id=lc.team_id,
            channel_id=lc.channel_id,
            source=MINUTES_SOURCE,
            source_id=lc.id,
            title=lc.title,
            held_on=minutes.held_on,
            facilitator_id=minutes.facilitator_id,
            body=minutes.model_dump(mode="json"),
            created_at=now,
        )
    )
    await session.flush()
    return minutes


async def _participants(session: AsyncSession, lc: LeanCoffeeSession) -> list[str]:
    """Everyone who took part: facilitated, proposed (this time), voted or captured a takeaway.

    Proposers of carried-over topics proposed them in an earlier session, so they count only
    if they did something in this one.
    """
    people: set[str] = {lc.facilitator_id, lc.started_by_id}
    queries = (
        select(LeanCoffeeTopic.proposer_id).where(
            LeanCoffeeTopic.session_id == lc.id, LeanCoffeeTopic.carried_from_id.is_(None)
        ),
        select(LeanCoffeeVote.user_id).where(LeanCoffeeVote.session_id == lc.id),
        select(LeanCoffeeTakeaway.author_id).where(LeanCoffeeTakeaway.session_id == lc.id),
        select(LeanCoffeePollVote.user_id)
        .join(LeanCoffeePoll, LeanCoffeePoll.id == LeanCoffeePollVote.poll_id)
        .where(LeanCoffeePoll.session_id == lc.id),
    )
    for query in queries:
        people.update(await session.scalars(query.distinct()))
    people.discard(FORGOTTEN_ID)  # someone who asked hearth to forget them
    return sorted(people)


def _seconds_spent(topic: LeanCoffeeTopic) -> int:
    if topic.discussion_started_at is None:
        return 0
    end = topic.discussion_finished_at or topic.discussion_started_at
    return max(0, int((end - topic.discussion_started_at).total_seconds()))


async def _takeaways(
    session: AsyncSession, lc: LeanCoffeeSession
) -> dict[int, list[LeanCoffeeTakeaway]]:
    result: dict[int, list[LeanCoffeeTakeaway]] = {}
    for takeaway in await session.scalars(
        select(LeanCoffeeTakeaway)
        .where(LeanCoffeeTakeaway.session_id == lc.id)
        .order_by(LeanCoffeeTakeaway.created_at, LeanCoffeeTakeaway.id)
    ):
        result.setdefault(takeaway.topic_id, []).append(takeaway)
    return result


async def build_minutes(session: AsyncSession, lc: LeanCoffeeSession) -> LeanCoffeeMinutes:
    counts = await _vote_counts(session, lc)
    takeaways = await _takeaways(session, lc)
    discussed = list(
        await session.scalars(
            select(LeanCoffeeTopic)
            .where(
                LeanCoffeeTopic.session_id == lc.id,
                LeanCoffeeTopic.state == TopicState.DISCUSSED,
            )
            .order_by(LeanCoffeeTopic.discussion_started_at, LeanCoffeeTopic.id)
        )
    )
    queue = await _queue(session, lc)
    titles = dict(
        (
            await session.execute(
                select(LeanCoffeeTopic.id, LeanCoffeeTopic.title).where(
                    LeanCoffeeTopic.session_id == lc.id
                )
            )
        ).all()
    )
    minutes_topics = []
    actions = []
    for topic in discussed:
        items = takeaways.get(topic.id, [])
        minutes_topics.append(
            MinutesTopic(
                title=topic.title,
                votes=counts.get(topic.id, 0),
                seconds_spent=_seconds_spent(topic),
                takeaways=tuple(
                    MinutesTakeaway(
                        text=t.text,
                        author_id=t.author_id,
                        is_action=t.is_action,
                        owner_id=t.owner_id,
                        due_date=t.due_date,
                    )
                    for t in items
                ),
            )
        )
    for topic_id, items in takeaways.items():
        topic_title = titles.get(topic_id, "")
        actions.extend(
            MinutesAction(
                text=t.text, topic_title=topic_title, owner_id=t.owner_id, due_date=t.due_date
            )
            for t in items
            if t.is_action
        )
    ended = lc.ended_at or lc.started_at
    return LeanCoffeeMinutes(
        session_id=lc.id,
        channel_id=lc.channel_id,
        title=lc.title,
        held_on=lc.started_at.date(),
        started_at=lc.started_at,
        ended_at=ended,
        facilitator_id=lc.facilitator_id,
        participant_ids=tuple(await _participants(session, lc)),
        discussed=tuple(minutes_topics),
        actions=tuple(actions),
        carried_over=tuple(t.title for t in queue),
    )


async def last_minutes(
    session: AsyncSession, team_id: str, channel_id: str
) -> LeanCoffeeMinutes | None:
    row = await session.scalar(
        select(Minutes)
        .where(
            Minutes.team_id == team_id,
            Minutes.channel_id == channel_id,
            Minutes.source == MINUTES_SOURCE,
        )
        .order_by(Minutes.created_at.desc(), Minutes.id.desc())
        .limit(1)
    )
    return None if row is None else LeanCoffeeMinutes.model_validate(row.body)


async def history(
    session: AsyncSession, team_id: str, channel_id: str, limit: int = 15
) -> list[HistoryEntry]:
    rows = await session.scalars(
        select(Minutes)
        .where(
            Minutes.team_id == team_id,
            Minutes.channel_id == channel_id,
            Minutes.source == MINUTES_SOURCE,
        )
        .order_by(Minutes.created_at.desc(), Minutes.id.desc())
        .limit(limit)
    )
    entries = []
    for row in rows:
        minutes = LeanCoffeeMinutes.model_validate(row.body)
        entries.append(
            HistoryEntry(
                session_id=minutes.session_id,
                title=minutes.title,
                held_on=minutes.held_on,
                facilitator_id=minutes.facilitator_id,
                topics_discussed=len(minutes.discussed),
                participant_count=len(minutes.participant_ids),
            )
        )
    return entries


# --- views for the block builders ---------------------------------------------------------


def _topic_view(
    lc: LeanCoffeeSession,
    topic: LeanCoffeeTopic,
    votes: int,
    takeaways: Sequence[LeanCoffeeTakeaway],
) -> TopicView:
    return TopicView(
        id=topic.id,
        title=topic.title,
        detail=topic.detail,
        proposer_id=None if lc.anonymous_topics else topic.proposer_id,
        votes=votes,
        state=TopicState(topic.state),
        carried_over=topic.carried_from_id is not None,
        discussion_started_at=topic.discussion_started_at,
        discussion_ends_at=topic.discussion_ends_at,
        seconds_spent=_seconds_spent(topic),
        extensions_used=topic.round,
        takeaways=tuple(
            TakeawayView(
                id=t.id,
                text=t.text,
                author_id=t.author_id,
                is_action=t.is_action,
                owner_id=t.owner_id,
                due_date=t.due_date,
            )
            for t in takeaways
        ),
    )


async def board_view(session: AsyncSession, lc: LeanCoffeeSession) -> BoardView:
    """A consistent snapshot of the board, read in one transaction."""
    topics = list(
        await session.scalars(
            select(LeanCoffeeTopic)
            .where(LeanCoffeeTopic.session_id == lc.id)
            .execution_options(populate_existing=True)
        )
    )
    counts = await _vote_counts(session, lc)
    takeaways = await _takeaways(session, lc)

    def view(topic: LeanCoffeeTopic) -> TopicView:
        return _topic_view(lc, topic, counts.get(topic.id, 0), takeaways.get(topic.id, []))

    if lc.status == SessionStatus.COLLECTING:
        waiting = sorted(
            (t for t in topics if t.state == TopicState.OPEN), key=lambda t: (t.proposed_at, t.id)
        )
    else:
        waiting = await _queue(session, lc)
    current = next((t for t in topics if t.state == TopicState.DISCUSSING), None)
    discussed = sorted(
        (t for t in topics if t.state == TopicState.DISCUSSED),
        key=lambda t: (t.discussion_started_at or t.proposed_at, t.id),
    )
    participants = await _participants(session, lc)
    return BoardView(
        session_id=lc.id,
        channel_id=lc.channel_id,
        title=lc.title,
        facilitator_id=lc.facilitator_id,
        status=SessionStatus(lc.status),
        votes_per_person=lc.votes_per_person,
        timebox_minutes=lc.timebox_minutes,
        extension_minutes=tuple(lc.extension_minutes),
        anonymous_topics=lc.anonymous_topics,
        started_at=lc.started_at,
        ended_at=lc.ended_at,
        to_discuss=tuple(view(t) for t in waiting),
        discussing=view(current) if current else None,
        discussed=tuple(view(t) for t in discussed),
        participant_count=len(participants),
        next_extension_minutes=next_extension(lc, current) if current else None,
    )


async def poll_view(session: AsyncSession, team_id: str, poll_id: int) -> KeepGoingView:
    poll = await get_poll(session, team_id, poll_id)
    lc = await get_session(session, team_id, poll.session_id)
    topic = await _get_topic(session, lc, poll.topic_id)
    tally = await _poll_tally(session, poll.id)
    pattern = list(lc.extension_minutes)
    return KeepGoingView(
        poll_id=poll.id,
        session_id=lc.id,
        topic_id=topic.id,
        topic_title=topic.title,
        round=poll.round,
        keep_going=tally.get(KeepGoingChoice.KEEP_GOING, 0),
        either_way=tally.get(KeepGoingChoice.EITHER_WAY, 0),
        move_on=tally.get(KeepGoingChoice.MOVE_ON, 0),
        decides_at=poll.decides_at,
        outcome=PollOutcome(poll.outcome) if poll.outcome else None,
        extension_minutes=pattern[poll.round] if poll.round < len(pattern) else None,
    )


async def session_topics(session: AsyncSession, lc: LeanCoffeeSession) -> list[TopicView]:
    """Every topic a takeaway or merge could be about (not withdrawn or merged away)."""
    board = await board_view(session, lc)
    current = (board.discussing,) if board.discussing else ()
    return [*current, *board.to_discuss, *board.discussed]


# --- for the scheduler --------------------------------------------------------------------


@dataclass(frozen=True)
class DueTimebox:
    team_id: str
    topic_id: int
    round: int
    due_at: datetime


@dataclass(frozen=True)
class DuePoll:
    team_id: str
    poll_id: int
    due_at: datetime  # when it decides itself


async def due_timeboxes(session: AsyncSession) -> list[DueTimebox]:
    """Time-boxes running now (across all workspaces), for the scheduler to watch."""
    rows = await session.execute(
        select(
            LeanCoffeeTopic.team_id,
            LeanCoffeeTopic.id,
            LeanCoffeeTopic.round,
            LeanCoffeeTopic.discussion_ends_at,
        )
        .outerjoin(
            LeanCoffeePoll,
            (LeanCoffeePoll.topic_id == LeanCoffeeTopic.id)
            & (LeanCoffeePoll.round == LeanCoffeeTopic.round),
        )
        .where(
            LeanCoffeeTopic.state == TopicState.DISCUSSING,
            LeanCoffeeTopic.discussion_ends_at.is_not(None),
            LeanCoffeePoll.id.is_(None),
        )
    )
    return [DueTimebox(team, topic, round_, due) for team, topic, round_, due in rows]


async def due_polls(session: AsyncSession) -> list[DuePoll]:
    """Polls people can see and that are not decided yet, each deciding itself at its
    `decides_at`. A poll Slack has not shown yet waits: nobody could have voted on it."""
    rows = await session.execute(
        select(LeanCoffeeSession.team_id, LeanCoffeePoll.id, LeanCoffeePoll.decides_at)
        .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeePoll.session_id)
        .where(LeanCoffeePoll.decided_at.is_(None), LeanCoffeePoll.message_ts.is_not(None))
    )
    return [DuePoll(team, poll, due) for team, poll, due in rows]


async def poll_ids(session: AsyncSession, team_id: str, session_id: int) -> list[int]:
    """Polls of a session whose message may need redrawing after a facilitator's action."""
    result = await session.scalars(
        select(LeanCoffeePoll.id)
        .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeePoll.session_id)
        .where(
            LeanCoffeeSession.team_id == team_id,
            LeanCoffeePoll.session_id == session_id,
            LeanCoffeePoll.message_ts.is_not(None),
        )
    )
    return list(result)


# --- checks a listener makes before opening a modal ---------------------------------------


async def check_facilitator(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, doing: str
) -> None:
    """Refuse early (before a modal opens) when only the facilitator may do this."""
    _require_not_ended(lc)
    await _require_facilitator(lc, actor, doing)


async def check_can_change_topic(
    session: AsyncSession, actor: Actor, lc: LeanCoffeeSession, topic_id: int, doing: str
) -> None:
    await _own_waiting_topic(session, actor, lc, topic_id, doing)
