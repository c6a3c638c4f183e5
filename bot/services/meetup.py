"""The rules of time-boxed chat meetups: starting, the timed steps, replies, ending, minutes.

A meetup is a protocol, not just a thread: prompts come out on a pace, nudges keep it moving,
and at the end the replies heard while it ran become minutes (who spoke how often, what was
said except what was marked off the record). Replies are heard as they are posted (Slack's
`message` events in the prompts' threads); just before the close, the threads are read back
once so that replies whose events never arrived (hearth was restarting, a delivery failed)
are recorded too, by the same rules. A reply posted after the close is not recorded.

What a meetup says in Slack is owed through the outbox in the transaction of the step that
causes it (`bot.presenters.meetup`); a prompt's thread is known once Slack has taken it
(`bot.services.meetup_messages` records its ts), and replies are matched to prompts by that
ts. A reply posted in the moment between Slack taking a prompt and hearth recording where
it landed is not matched live; the read-back at the close records it.

Nothing here talks to Slack; times come from the caller's clock.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import community as community_service
from bot.services.actor import Actor
from bot.services.scheduling import claim
from models.meetup import (
    ChatMeetup,
    ChatMeetupPrompt,
    ChatMeetupReply,
    ChatMeetupTakeaway,
    ChatMeetupTimer,
)
from models.minutes import Minutes

MINUTES_SOURCE = "meetup"
DEFAULT_LENGTH_MINUTES = 30
MIN_LENGTH_MINUTES = 5
MAX_LENGTH_MINUTES = 480
MAX_PROMPTS = 10
PROMPT_MAX = 1000
REPLY_MAX = 4000
TAKEAWAY_MAX = 1000
DEFAULT_EXTEND_MINUTES = 10
FINAL_NUDGE_MINUTES = 5
# An anonymous post's `message_ts` until Slack has taken it (then it is the post's ts).
OWED_TS_PREFIX = "owed:"
# A reply starting with one of these stays out of the minutes (it still counts as airtime).
OFF_RECORD_MARKERS = ("(off the record)", "(otr)")

RUNNING = "running"
ENDED = "ended"


class TimerKind:
    RELEASE = "release"
    NUDGE = "nudge"
    CLOSE = "close"


@dataclass(frozen=True)
class StartOptions:
    prompts: tuple[str, ...]
    length_minutes: int = DEFAULT_LENGTH_MINUTES
    pace_minutes: int = 0  # 0: every prompt at the start
    nudge_half_time: bool = True
    nudge_five_before: bool = True
    facilitator_id: str | None = None


@dataclass(frozen=True)
class PromptView:
    id: int
    position: int
    text: str
    release_at: datetime
    message_ts: str | None


@dataclass(frozen=True)
class MeetupState:
    """A snapshot of a meetup for the block builders."""

    id: int
    channel_id: str
    facilitator_id: str
    status: str
    length_minutes: int
    pace_minutes: int
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    opening_ts: str | None
    prompts: tuple[PromptView, ...]
    from_rota: bool = False  # the community's scheduled meetup, started by itself
    stand_in: bool = False  # a lead facilitates: nobody on the rota was free

    @property
    def released(self) -> tuple[PromptView, ...]:
        return tuple(p for p in self.prompts if p.message_ts is not None)


@dataclass(frozen=True)
class DueTimer:
    timer_id: int
    team_id: str
    meetup_id: int
    due_at: datetime


@dataclass(frozen=True)
class ClaimedTimer:
    timer_id: int
    kind: str
    meetup_id: int
    prompt_id: int | None
    minutes_before_end: int | None


@dataclass(frozen=True)
class HeardReply:
    """A person's reply in a prompt's thread, as read from Slack."""

    message_ts: str
    author_id: str
    text: str


class MinutesReply(BaseModel):
    model_config = ConfigDict(frozen=True)

    author_id: str | None  # None: posted anonymously
    text: str


class MinutesPrompt(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    replies: tuple[MinutesReply, ...]
    off_record: int  # replies left out because they were marked off the record


class Airtime(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    replies: int


class MinutesTakeaway(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    author_id: str
    owner_id: str | None = None
    due_date: date | None = None


class MeetupMinutes(BaseModel):
    """The minutes of one chat meetup: stored as JSON, drawn by the block builder."""

    model_config = ConfigDict(frozen=True)

    meetup_id: int
    channel_id: str
    title: str
    held_on: date
    started_at: datetime
    ended_at: datetime
    facilitator_id: str
    participant_ids: tuple[str, ...]
    airtime: tuple[Airtime, ...]  # most replies first
    anonymous_replies: int
    prompts: tuple[MinutesPrompt, ...]
    takeaways: tuple[MinutesTakeaway, ...] = ()
    # The threads could not be read back at the close: replies whose events never arrived
    # may be missing.
    replies_may_be_missing: bool = False


# --- reading ---------------------------------------------------------------------------------


def is_off_record(text: str) -> bool:
    return text.strip().casefold().startswith(OFF_RECORD_MARKERS)


async def running_meetup(session: AsyncSession, team_id: str, channel_id: str) -> ChatMeetup | None:
    return await session.scalar(
        select(ChatMeetup).where(
            ChatMeetup.team_id == team_id,
            ChatMeetup.channel_id == channel_id,
            ChatMeetup.status == RUNNING,
        )
    )


async def get_meetup(session: AsyncSession, team_id: str, meetup_id: int) -> ChatMeetup:
    meetup = await session.scalar(
        select(ChatMeetup).where(ChatMeetup.id == meetup_id, ChatMeetup.team_id == team_id)
    )
    if meetup is None:
        raise NotFound("I can't find that meetup any more.")
    return meetup


async def prompts_of(session: AsyncSession, meetup_id: int) -> list[ChatMeetupPrompt]:
    rows = await session.scalars(
        select(ChatMeetupPrompt)
        .where(ChatMeetupPrompt.meetup_id == meetup_id)
        .order_by(ChatMeetupPrompt.position)
    )
    return list(rows)


async def state_of(session: AsyncSession, meetup: ChatMeetup) -> MeetupState:
    prompts = await prompts_of(session, meetup.id)
    return MeetupState(
        id=meetup.id,
        channel_id=meetup.channel_id,
        facilitator_id=meetup.facilitator_id,
        status=meetup.status,
        length_minutes=meetup.length_minutes,
        pace_minutes=meetup.pace_minutes,
        started_at=meetup.started_at,
        ends_at=meetup.ends_at,
        ended_at=meetup.ended_at,
        opening_ts=meetup.opening_ts,
        prompts=tuple(
            PromptView(p.id, p.position, p.text, p.release_at, p.message_ts) for p in prompts
        ),
        from_rota=meetup.rota_meetup_id is not None,
        stand_in=meetup.stand_in,
    )


# --- starting --------------------------------------------------------------------------------


def check_options(options: StartOptions) -> None:
    """Refuse what cannot run; `field` names the modal input to show the message under."""
    prompts = [p.strip() for p in options.prompts if p.strip()]
    if not prompts:
        raise InvalidInput("Add at least one prompt: one per line.", field="prompts")
    if len(prompts) > MAX_PROMPTS:
        raise InvalidInput(f"Up to {MAX_PROMPTS} prompts, please: one per line.", field="prompts")
    if any(len(p) > PROMPT_MAX for p in prompts):
        raise InvalidInput(
            f"Each prompt can be up to {PROMPT_MAX} characters. Shorten the long one.",
            field="prompts",
        )
    if not MIN_LENGTH_MINUTES <= options.length_minutes <= MAX_LENGTH_MINUTES:
        raise InvalidInput(
            f"A meetup lasts between {MIN_LENGTH_MINUTES} and {MAX_LENGTH_MINUTES} minutes.",
            field="length",
        )
    if options.pace_minutes < 0:
        raise InvalidInput("The pace can't be negative.", field="pace")
    if options.pace_minutes * (len(prompts) - 1) >= options.length_minutes:
        raise InvalidInput(
            f"At one prompt every {options.pace_minutes} min, the last one would come out "
            "after the meetup ends. Release them faster, or make the meetup longer.",
            field="pace",
        )


def nudge_offsets(options: StartOptions) -> list[int]:
    """Minutes before the end at which to nudge, latest nudge last."""
    offsets: set[int] = set()
    if options.nudge_half_time and options.length_minutes >= 2:
        offsets.add(options.length_minutes // 2)
    if options.nudge_five_before and options.length_minutes > FINAL_NUDGE_MINUTES:
        offsets.add(FINAL_NUDGE_MINUTES)
    return sorted(offsets, reverse=True)


async def start(
    session: AsyncSession,
    actor: Actor,
    channel_id: str,
    options: StartOptions,
    now: datetime,
    *,
    rota_meetup_id: int | None = None,
    stand_in: bool = False,
) -> ChatMeetup:
    """Open a meetup and plan its timed steps (releases, nudges, the close).

    `rota_meetup_id` marks the rota's scheduled meetup this is (started by itself at its
    time); `stand_in` that a lead facilitates because nobody on the rota was free."""
    check_options(options)
    if await running_meetup(session, actor.team_id, channel_id) is not None:
        raise Conflict(
            "A chat meetup is already running in this channel. "
            "Join in its threads, or wait until it ends to start another."
        )
    ends_at = now + timedelta(minutes=options.length_minutes)
    meetup = ChatMeetup(
        team_id=actor.team_id,
        channel_id=channel_id,
        facilitator_id=options.facilitator_id or actor.user_id,
        started_by_id=actor.user_id,
        status=RUNNING,
        length_minutes=options.length_minutes,
        pace_minutes=options.pace_minutes,
        started_at=now,
        ends_at=ends_at,
        rota_meetup_id=rota_meetup_id,
        stand_in=stand_in,
    )
    try:
        async with session.begin_nested():
            session.add(meetup)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "A chat meetup was just started in this channel by someone else. Join in there!"
        ) from None
    texts = [p.strip() for p in options.prompts if p.strip()]
    for position, text in enumerate(texts, start=1):
        release_at = now + timedelta(minutes=options.pace_minutes * (position - 1))
        prompt = ChatMeetupPrompt(
            meetup_id=meetup.id, position=position, text=text, release_at=release_at
        )
        session.add(prompt)
        await session.flush()
        session.add(
            ChatMeetupTimer(
                meetup_id=meetup.id,
                kind=TimerKind.RELEASE,
                prompt_id=prompt.id,
                due_at=release_at,
            )
        )
    for before in nudge_offsets(options):
        session.add(
            ChatMeetupTimer(
                meetup_id=meetup.id,
                kind=TimerKind.NUDGE,
                minutes_before_end=before,
                due_at=ends_at - timedelta(minutes=before),
            )
        )
    session.add(ChatMeetupTimer(meetup_id=meetup.id, kind=TimerKind.CLOSE, due_at=ends_at))
    await session.flush()
    return meetup


async def set_opening_ts(session: AsyncSession, team_id: str, meetup_id: int, ts: str) -> None:
    await session.execute(
        update(ChatMeetup)
        .where(ChatMeetup.id == meetup_id, ChatMeetup.team_id == team_id)
        .values(opening_ts=ts)
    )


async def set_minutes_ts(session: AsyncSession, team_id: str, meetup_id: int, ts: str) -> None:
    await session.execute(
        update(ChatMeetup)
        .where(ChatMeetup.id == meetup_id, ChatMeetup.team_id == team_id)
        .values(minutes_ts=ts)
    )
    await session.execute(
        update(Minutes)
        .where(
            Minutes.team_id == team_id,
            Minutes.source == MINUTES_SOURCE,
            Minutes.source_id == meetup_id,
        )
        .values(posted_ts=ts)
    )


async def set_prompt_ts(session: AsyncSession, prompt_id: int, ts: str) -> None:
    """The prompt is in Slack at `ts`: its thread is where its replies are heard from now."""
    await session.execute(
        update(ChatMeetupPrompt).where(ChatMeetupPrompt.id == prompt_id).values(message_ts=ts)
    )


async def thread_prompts(session: AsyncSession, meetup_id: int) -> list[ChatMeetupPrompt]:
    """The prompts that are out or on their way: in Slack (their ts is known), or released
    and still owed. Notes for every thread (nudges, the closing note) go under these."""
    released = select(ChatMeetupTimer.prompt_id).where(
        ChatMeetupTimer.meetup_id == meetup_id,
        ChatMeetupTimer.kind == TimerKind.RELEASE,
        ChatMeetupTimer.done_at.is_not(None),
    )
    rows = await session.scalars(
        select(ChatMeetupPrompt)
        .where(
            ChatMeetupPrompt.meetup_id == meetup_id,
            or_(ChatMeetupPrompt.message_ts.is_not(None), ChatMeetupPrompt.id.in_(released)),
        )
        .order_by(ChatMeetupPrompt.position)
    )
    return list(rows)


# --- timed steps -----------------------------------------------------------------------------


async def due_timers(session: AsyncSession) -> list[DueTimer]:
    """Every timed step not yet done, of meetups still running."""
    rows = await session.execute(
        select(ChatMeetupTimer.id, ChatMeetup.team_id, ChatMeetup.id, ChatMeetupTimer.due_at)
        .join(ChatMeetup, ChatMeetup.id == ChatMeetupTimer.meetup_id)
        .where(ChatMeetupTimer.done_at.is_(None), ChatMeetup.status == RUNNING)
        .order_by(ChatMeetupTimer.due_at, ChatMeetupTimer.id)
    )
    return [DueTimer(*row) for row in rows.all()]


async def claim_timer(
    session: AsyncSession, team_id: str, timer_id: int, now: datetime
) -> ClaimedTimer | None:
    """Claim a step that is due; None when it is not due, already done, or the meetup ended.
    A prompt or nudge that comes due only once the time is up (hearth was down) is dropped:
    the close is due too.

    The claim is keyed by the step and its due time (an extension moves a step still to
    come: a new occurrence), so the same firing seen by two processes acts once. Claim it in
    the transaction that owes what the step says."""
    row = (
        await session.execute(
            select(ChatMeetupTimer, ChatMeetup)
            .join(ChatMeetup, ChatMeetup.id == ChatMeetupTimer.meetup_id)
            .where(ChatMeetupTimer.id == timer_id, ChatMeetup.team_id == team_id)
        )
    ).first()
    if row is None:
        return None
    timer, meetup = row
    if timer.done_at is not None or meetup.status != RUNNING or timer.due_at > now:
        return None
    if timer.kind != TimerKind.CLOSE and now >= meetup.ends_at:
        # A step that never came; another process may be deleting it too (a bulk delete
        # tolerates that, where the ORM's would warn of a row gone missing).
        await session.execute(
            delete(ChatMeetupTimer)
            .where(ChatMeetupTimer.id == timer.id)
            .execution_options(synchronize_session=False)
        )
        session.expunge(timer)
        return None
    if not await claim(session, f"meetup.timer:{timer.id}", timer.due_at.isoformat(), now):
        return None
    timer.done_at = now
    await session.flush()
    return ClaimedTimer(timer.id, timer.kind, meetup.id, timer.prompt_id, timer.minutes_before_end)


# --- replies ---------------------------------------------------------------------------------


async def _prompt_in_thread(
    session: AsyncSession, team_id: str, channel_id: str, thread_ts: str
) -> ChatMeetupPrompt | None:
    return await session.scalar(
        select(ChatMeetupPrompt)
        .join(ChatMeetup, ChatMeetup.id == ChatMeetupPrompt.meetup_id)
        .where(
            ChatMeetup.team_id == team_id,
            ChatMeetup.channel_id == channel_id,
            ChatMeetup.status == RUNNING,
            ChatMeetupPrompt.message_ts == thread_ts,
        )
    )


def _reply(
    prompt: ChatMeetupPrompt, message_ts: str, author_id: str | None, text: str, now: datetime
) -> ChatMeetupReply:
    """A reply as kept: one marked off the record keeps no text."""
    off_record = is_off_record(text)
    return ChatMeetupReply(
        meetup_id=prompt.meetup_id,
        prompt_id=prompt.id,
        message_ts=message_ts,
        author_id=author_id,
        text="" if off_record else text[:REPLY_MAX],
        off_record=off_record,
        created_at=now,
    )


async def _store_reply(
    session: AsyncSession,
    prompt: ChatMeetupPrompt,
    message_ts: str,
    author_id: str | None,
    text: str,
    now: datetime,
) -> bool:
    try:
        async with session.begin_nested():
            session.add(_reply(prompt, message_ts, author_id, text, now))
            await session.flush()
    except IntegrityError:
        return False  # Slack delivered the same message twice
    return True


async def record_reply(
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    thread_ts: str,
    message_ts: str,
    user_id: str,
    text: str,
    now: datetime,
) -> bool:
    """Note a reply in a running meetup's prompt thread; False when it is not one (another
    thread, a meetup that has ended, a repeat delivery)."""
    prompt = await _prompt_in_thread(session, team_id, channel_id, thread_ts)
    if prompt is None:
        return False
    return await _store_reply(session, prompt, message_ts, user_id, text, now)


@dataclass(frozen=True)
class AnonymousPost:
    """A post hearth owes a prompt's thread for someone (who is never stored)."""

    reply_id: int
    channel_id: str
    thread_ts: str
    ends_at: datetime


async def post_anonymously(
    session: AsyncSession, team_id: str, meetup_id: int, prompt_id: int, text: str, now: datetime
) -> AnonymousPost:
    """Keep a post made through hearth for someone, with no author at all, to be posted in
    the prompt's thread; refused once the meetup has ended or before the prompt is out. Its
    `message_ts` is a placeholder until Slack has taken it (`anonymous_posted`)."""
    meetup = await get_meetup(session, team_id, meetup_id)
    if meetup.status != RUNNING:
        raise Conflict("This meetup has ended, so its threads are closed to new posts.")
    prompt = await session.scalar(
        select(ChatMeetupPrompt).where(
            ChatMeetupPrompt.id == prompt_id, ChatMeetupPrompt.meetup_id == meetup.id
        )
    )
    if prompt is None or prompt.message_ts is None:
        raise InvalidInput("That prompt isn't out yet. Pick one that is.", field="anon_prompt")
    reply = _reply(prompt, f"{OWED_TS_PREFIX}{uuid.uuid4().hex[:24]}", None, text, now)
    session.add(reply)
    await session.flush()
    return AnonymousPost(reply.id, meetup.channel_id, prompt.message_ts, meetup.ends_at)


async def anonymous_posted(session: AsyncSession, reply_id: int, ts: str) -> None:
    """The anonymous post is in its thread at `ts`."""
    await session.execute(
        update(ChatMeetupReply).where(ChatMeetupReply.id == reply_id).values(message_ts=ts)
    )


async def anonymous_never_posted(session: AsyncSession, reply_id: int) -> None:
    """Slack never took the anonymous post: nobody saw it, so it is not a reply."""
    await session.execute(
        delete(ChatMeetupReply).where(
            ChatMeetupReply.id == reply_id,
            ChatMeetupReply.message_ts.startswith(OWED_TS_PREFIX),
        )
    )


async def edit_reply(
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    thread_ts: str,
    reply: HeardReply,
    now: datetime,
) -> bool:
    """A reply was edited while the meetup runs: keep its new text (and whether it is now off
    the record). A reply not heard before is recorded as it now reads. False when it is not
    a reply in a running meetup's prompt thread."""
    prompt = await _prompt_in_thread(session, team_id, channel_id, thread_ts)
    if prompt is None:
        return False
    stored = await session.scalar(
        select(ChatMeetupReply).where(
            ChatMeetupReply.prompt_id == prompt.id,
            ChatMeetupReply.message_ts == reply.message_ts,
        )
    )
    if stored is None:
        return await _store_reply(
            session, prompt, reply.message_ts, reply.author_id, reply.text, now
        )
    if stored.author_id != reply.author_id:
        return False  # only its author edits a reply (anonymous posts are hearth's own)
    stored.off_record = is_off_record(reply.text)
    stored.text = "" if stored.off_record else reply.text[:REPLY_MAX]
    await session.flush()
    return True


async def remove_reply(
    session: AsyncSession, team_id: str, channel_id: str, message_ts: str
) -> bool:
    """A reply was deleted while the meetup runs: it is no longer in its minutes or airtime."""
    running = (
        select(ChatMeetup.id)
        .where(
            ChatMeetup.team_id == team_id,
            ChatMeetup.channel_id == channel_id,
            ChatMeetup.status == RUNNING,
        )
        .scalar_subquery()
    )
    removed = await session.execute(
        delete(ChatMeetupReply)
        .where(ChatMeetupReply.meetup_id == running, ChatMeetupReply.message_ts == message_ts)
        .execution_options(synchronize_session=False)
    )
    return bool(removed.rowcount)  # type: ignore[attr-defined]


# --- reading the threads back at the close ---------------------------------------------------


def _micros(ts: str) -> int:
    """A Slack timestamp ("1763892000.000100") in whole microseconds, exactly."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def posted_by(message_ts: str, moment: datetime) -> bool:
    """Whether a message with this Slack timestamp was posted at or before `moment`."""
    since_epoch = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return _micros(message_ts) <= since_epoch // timedelta(microseconds=1)


async def closing_meetup(
    session: AsyncSession, team_id: str, timer_id: int, now: datetime
) -> int | None:
    """The meetup this step would close, when it is a close that is due and not yet done, of
    a meetup still running; else None. Read without claiming, so the threads can be read
    back before the close (outside any transaction)."""
    row = (
        await session.execute(
            select(
                ChatMeetupTimer.kind, ChatMeetupTimer.due_at, ChatMeetupTimer.done_at, ChatMeetup
            )
            .join(ChatMeetup, ChatMeetup.id == ChatMeetupTimer.meetup_id)
            .where(ChatMeetupTimer.id == timer_id, ChatMeetup.team_id == team_id)
        )
    ).first()
    if row is None:
        return None
    kind, due_at, done_at, meetup = row
    if kind != TimerKind.CLOSE or done_at is not None or due_at > now:
        return None
    return meetup.id if meetup.status == RUNNING else None


async def record_missed_replies(
    session: AsyncSession,
    team_id: str,
    meetup_id: int,
    prompt_id: int,
    replies: Sequence[HeardReply],
    closes_at: datetime,
    now: datetime,
) -> int | None:
    """Record the replies read back from a prompt's thread that were not heard as they were
    posted, by the live rules (off the record keeps no text); replies posted after
    `closes_at` stay out. Returns how many were added, or None when the meetup is no longer
    running (someone else closed it meanwhile: nothing is added to closed minutes).

    The meetup's row is locked first (as `end` locks it), so a close running at the same time
    in another process sees these replies or finds nothing to add; the unique (prompt,
    message) pair keeps a reply from being stored twice."""
    meetup = await session.scalar(
        select(ChatMeetup)
        .where(ChatMeetup.id == meetup_id, ChatMeetup.team_id == team_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: live replies still go in
    )
    if meetup is None or meetup.status != RUNNING:
        return None
    prompt = await session.get(ChatMeetupPrompt, prompt_id)
    if prompt is None or prompt.meetup_id != meetup.id:
        return 0
    heard = set(
        await session.scalars(
            select(ChatMeetupReply.message_ts).where(ChatMeetupReply.prompt_id == prompt.id)
        )
    )
    added = 0
    for reply in replies:
        if reply.message_ts in heard or not posted_by(reply.message_ts, closes_at):
            continue
        heard.add(reply.message_ts)
        if await _store_reply(session, prompt, reply.message_ts, reply.author_id, reply.text, now):
            added += 1
    return added


# --- steering --------------------------------------------------------------------------------


async def _require_steer(
    session: AsyncSession, actor: Actor, meetup: ChatMeetup, doing: str
) -> None:
    """The facilitator, a lead of the channel's community, or a workspace admin."""
    if actor.user_id == meetup.facilitator_id:
        return
    community = await community_service.find_community(session, meetup.team_id, meetup.channel_id)
    if community is not None and actor.user_id in await community_service.leads(session, community):
        return
    if await actor.is_admin():
        return
    raise NotAllowed(
        f"Only the facilitator, <@{meetup.facilitator_id}>, or one of the community's leads "
        f"can {doing}."
    )


async def check_can_extend(session: AsyncSession, actor: Actor, meetup: ChatMeetup) -> None:
    """Refuse before asking how much longer, when the answer could not be used."""
    if meetup.status != RUNNING:
        raise Conflict("This meetup has already ended.")
    await _require_steer(session, actor, meetup, "extend the meetup")
    if meetup.length_minutes >= MAX_LENGTH_MINUTES:
        raise Conflict(
            f"This meetup already lasts {MAX_LENGTH_MINUTES} minutes, the longest a meetup "
            "can run, so it can't be extended. End it when you're ready."
        )


async def extend(
    session: AsyncSession,
    actor: Actor,
    meetup: ChatMeetup,
    now: datetime,
    minutes: int = DEFAULT_EXTEND_MINUTES,
) -> ChatMeetup:
    """Give the meetup `minutes` more, up to `MAX_LENGTH_MINUTES` in all. The close and the
    nudges still to come move with the end: the final nudge stays five minutes before it, the
    half-time nudge moves to the new half-time, and a final nudge already sent comes again
    when the new end leaves room for it."""
    await check_can_extend(session, actor, meetup)
    if minutes < 1:
        raise InvalidInput("Pick how much longer the meetup should run.", field="extend_by")
    room = MAX_LENGTH_MINUTES - meetup.length_minutes
    if minutes > room:
        raise InvalidInput(
            f"A meetup can last up to {MAX_LENGTH_MINUTES} minutes in all, and this one "
            f"already lasts {meetup.length_minutes}: pick {room} more minutes at most.",
            field="extend_by",
        )
    meetup.ends_at = meetup.ends_at + timedelta(minutes=minutes)
    meetup.length_minutes = meetup.length_minutes + minutes
    timers = list(
        await session.scalars(
            select(ChatMeetupTimer).where(
                ChatMeetupTimer.meetup_id == meetup.id,
                ChatMeetupTimer.kind.in_((TimerKind.NUDGE, TimerKind.CLOSE)),
            )
        )
    )
    finals = [
        t
        for t in timers
        if t.kind == TimerKind.NUDGE and t.minutes_before_end == FINAL_NUDGE_MINUTES
    ]
    half = meetup.length_minutes // 2
    for timer in timers:
        if timer.done_at is not None:
            continue
        if timer.kind == TimerKind.CLOSE:
            timer.due_at = meetup.ends_at
        elif timer in finals:
            timer.due_at = meetup.ends_at - timedelta(minutes=FINAL_NUDGE_MINUTES)
        elif half <= FINAL_NUDGE_MINUTES and finals:
            await session.delete(timer)  # half-time is now the final nudge's moment
        else:
            timer.minutes_before_end = half
            timer.due_at = meetup.ends_at - timedelta(minutes=half)
    final_at = meetup.ends_at - timedelta(minutes=FINAL_NUDGE_MINUTES)
    if finals and all(t.done_at is not None for t in finals) and final_at > now:
        session.add(
            ChatMeetupTimer(
                meetup_id=meetup.id,
                kind=TimerKind.NUDGE,
                minutes_before_end=FINAL_NUDGE_MINUTES,
                due_at=final_at,
            )
        )
    await session.flush()
    return meetup


async def check_can_end(session: AsyncSession, actor: Actor, meetup: ChatMeetup) -> None:
    """Refuse an early end before anything is read back from Slack for it."""
    if meetup.status != RUNNING:
        raise Conflict("This meetup has already ended: its minutes are in the channel.")
    await _require_steer(session, actor, meetup, "end the meetup early")


async def end(
    session: AsyncSession,
    team_id: str,
    meetup_id: int,
    now: datetime,
    *,
    actor: Actor | None = None,
    replies_may_be_missing: bool = False,
) -> MeetupMinutes:
    """End the meetup (early for a facilitator or lead, or by itself when time is up) and keep
    its minutes. Exactly one caller ends it; others are told it has ended already.

    `replies_may_be_missing`: the threads could not be read back just before, so the minutes
    say that replies whose events never arrived may be missing."""
    meetup = await get_meetup(session, team_id, meetup_id)
    if actor is not None:
        await check_can_end(session, actor, meetup)
    elif meetup.status != RUNNING:
        raise Conflict("This meetup has already ended: its minutes are in the channel.")
    changed = await session.execute(
        update(ChatMeetup)
        .where(ChatMeetup.id == meetup.id, ChatMeetup.status == RUNNING)
        .values(status=ENDED, ended_at=now, ended_by_id=actor.user_id if actor else None)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This meetup has already ended: its minutes are in the channel.")
    # The steps still to come never will: a prompt whose release has no `done_at` was never
    # released (`thread_prompts`).
    await session.execute(
        delete(ChatMeetupTimer)
        .where(ChatMeetupTimer.meetup_id == meetup.id, ChatMeetupTimer.done_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    await session.refresh(meetup)
    minutes = await _minutes(session, meetup, now)
    if replies_may_be_missing:
        minutes = minutes.model_copy(update={"replies_may_be_missing": True})
    session.add(
        Minutes(
            team_id=meetup.team_id,
            channel_id=meetup.channel_id,
            source=MINUTES_SOURCE,
            source_id=meetup.id,
            title=minutes.title,
            held_on=minutes.held_on,
            facilitator_id=meetup.facilitator_id,
            body=minutes.model_dump(mode="json"),
            created_at=now,
        )
    )
    await session.flush()
    return minutes


def title_of(prompts: list[ChatMeetupPrompt]) -> str:
    first = " ".join(prompts[0].text.split()) if prompts else ""
    title = f"Chat meetup: {first}" if first else "Chat meetup"
    return title if len(title) <= 200 else title[:199] + "…"


async def _minutes(session: AsyncSession, meetup: ChatMeetup, now: datetime) -> MeetupMinutes:
    prompts = await prompts_of(session, meetup.id)
    replies = list(
        await session.scalars(
            select(ChatMeetupReply)
            .where(ChatMeetupReply.meetup_id == meetup.id)
            .order_by(ChatMeetupReply.message_ts, ChatMeetupReply.id)
        )
    )
    counts = Counter(r.author_id for r in replies if r.author_id is not None)
    first_seen = {}
    for reply in replies:
        if reply.author_id is not None:
            first_seen.setdefault(reply.author_id, len(first_seen))
    participants = [meetup.facilitator_id] + [u for u in first_seen if u != meetup.facilitator_id]
    airtime = sorted(counts.items(), key=lambda item: (-item[1], first_seen[item[0]]))
    takeaways = await session.scalars(
        select(ChatMeetupTakeaway)
        .where(ChatMeetupTakeaway.meetup_id == meetup.id)
        .order_by(ChatMeetupTakeaway.created_at, ChatMeetupTakeaway.id)
    )
    return MeetupMinutes(
        meetup_id=meetup.id,
        channel_id=meetup.channel_id,
        title=title_of(prompts),
        held_on=meetup.started_at.date(),
        started_at=meetup.started_at,
        ended_at=meetup.ended_at or now,
        facilitator_id=meetup.facilitator_id,
        participant_ids=tuple(participants),
        airtime=tuple(Airtime(user_id=u, replies=n) for u, n in airtime),
        anonymous_replies=sum(1 for r in replies if r.author_id is None),
        prompts=tuple(
            MinutesPrompt(
                text=p.text,
                replies=tuple(
                    MinutesReply(author_id=r.author_id, text=r.text)
                    for r in replies
                    if r.prompt_id == p.id and not r.off_record
                ),
                off_record=sum(1 for r in replies if r.prompt_id == p.id and r.off_record),
            )
            for p in prompts
            if p.message_ts is not None
        ),
        takeaways=tuple(
            MinutesTakeaway(
                text=t.text, author_id=t.author_id, owner_id=t.owner_id, due_date=t.due_date
            )
            for t in takeaways
        ),
    )


async def stored_minutes(session: AsyncSession, team_id: str, meetup_id: int) -> MeetupMinutes:
    row = await session.scalar(
        select(Minutes).where(
            Minutes.team_id == team_id,
            Minutes.source == MINUTES_SOURCE,
            Minutes.source_id == meetup_id,
        )
    )
    if row is None:
        raise NotFound("I can't find the minutes of that meetup.")
    return MeetupMinutes.model_validate(row.body)


async def add_takeaway(
    session: AsyncSession,
    actor: Actor,
    meetup_id: int,
    text: str,
    now: datetime,
    *,
    owner_id: str | None = None,
    due_date: date | None = None,
) -> MeetupMinutes | None:
    """Add a takeaway (an action when it has an owner). While the meetup runs it is kept for
    the minutes written at the close (None is returned); once it has ended, it is added to
    those minutes, which are returned."""
    text = text.strip()
    if not text:
        raise InvalidInput("Write the takeaway or action first.", field="takeaway_text")
    if len(text) > TAKEAWAY_MAX:
        raise InvalidInput(f"Keep it under {TAKEAWAY_MAX} characters.", field="takeaway_text")
    if due_date is not None and owner_id is None:
        raise InvalidInput("Pick who will do it, or leave the date empty.", field="action_owner")
    if due_date is not None and due_date < now.date():
        raise InvalidInput("Pick a due date from today on.", field="action_due")
    meetup = await get_meetup(session, actor.team_id, meetup_id)
    session.add(
        ChatMeetupTakeaway(
            meetup_id=meetup.id,
            author_id=actor.user_id,
            text=text,
            owner_id=owner_id,
            due_date=due_date,
            created_at=now,
        )
    )
    if meetup.status == RUNNING:
        await session.flush()
        return None
    row = await session.scalar(
        select(Minutes).where(Minutes.source == MINUTES_SOURCE, Minutes.source_id == meetup.id)
    )
    if row is None:
        raise NotFound("I can't find the minutes of that meetup.")
    minutes = MeetupMinutes.model_validate(row.body)
    takeaway = MinutesTakeaway(
        text=text, author_id=actor.user_id, owner_id=owner_id, due_date=due_date
    )
    minutes = minutes.model_copy(update={"takeaways": (*minutes.takeaways, takeaway)})
    row.body = minutes.model_dump(mode="json")
    await session.flush()
    return minutes
