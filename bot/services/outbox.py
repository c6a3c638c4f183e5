"""The outbox's rules: record a message owed, find what is due, claim an attempt to send it,
and record how the attempt went. The sending itself (Slack) is `bot.jobs.outbox`.

A domain records what it owes in the same transaction as the change that causes it
(`record`), keyed by what the message is ("lean_coffee.poll:17"), so a change that commits
owes its message and a change rolled back owes nothing; recording the same key twice is a
no-op. An attempt is claimed with a lease (`claim_due`), so two processes never send the same
message at once and a process that dies mid-send leaves the message to another after the
lease. A message whose last attempt may have reached Slack (`maybe_sent`) is looked for before
it is sent again. Failures back off, honouring Slack's `Retry-After`; a message that still
cannot be sent when its patience runs out, or that Slack can never deliver, is given up with
its reason kept (`failed`), logged, and counted on `/healthz`.

Messages to one channel go in the order they were recorded (the parts of the minutes, a
note after the poll it follows), and a reply waits for the message it replies under.

Domains learn where their message landed (a board's ts, a poll's ts) through a handler
registered for the message's `purpose` (`on_delivered`), run in the transaction that records
the delivery; `on_given_up` is told when a message is given up.

How a domain uses it (Lean Coffee is the worked example: `bot.presenters.lean_coffee`'s
`owe_*`, `bot.services.lean_coffee_messages`, `bot.jobs.lean_coffee`, `handlers.lean_coffee`;
tests in `tests/e2e/test_outbox.py` and `tests/e2e/test_lean_coffee_faults.py`):

1. Inside the transaction of the change, `await record(session, team_id, Owed(key=...,
   channel=..., text=..., blocks=[...], thread_key=... or thread_ts=..., purpose=...,
   subject_id=..., patience=...), now)`. The key is unique per workspace and says what the
   message is, deterministically where it can ("rota.reminder:<meetup>:<start>"), so recording
   it again is a no-op. `channel` is a channel id, or a user id for a direct message.
2. After the commit, `deps.outbox.kick()`. The sender does the rest: posts, retries with
   back-off honouring `Retry-After`, looks before resending after an unknown outcome, gives
   up after `patience` (or at once when Slack says it never can deliver) and logs it.
3. Only if the domain must know where it landed: a purpose handler (`on_delivered`), and for
   Slack-side follow-ups (a redraw) `OutboxSender.after_delivered`.

Updates of an existing message (`chat.update`) and private replies to the person who clicked
are not owed: they are safe to repeat, or belong to that click.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox import OutboxMessage

PENDING, SENT, FAILED, WITHDRAWN = "pending", "sent", "failed", "withdrawn"
# How long a finished message's row is kept: long enough that recording the same key again
# (a late retry of the change that owed it) stays a no-op; then it goes, with whom it was for.
KEEP_FINISHED = timedelta(days=30)
DEFAULT_PATIENCE = timedelta(hours=24)
# How long an attempt may take before another process may assume it died.
LEASE = timedelta(minutes=2)
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=10)
CLAIM_BATCH = 50


@dataclass(frozen=True)
class Landed:
    """Where a message of some purpose landed in Slack, for its purpose's handler."""

    team_id: str
    subject_id: int
    channel: str
    ts: str
    at: datetime


Delivered = Callable[[AsyncSession, Landed], Awaitable[None]]
GivenUp = Callable[[AsyncSession, str, int, str], Awaitable[None]]
_on_delivered: dict[str, Delivered] = {}
_on_given_up: dict[str, GivenUp] = {}


def on_delivered(purpose: str) -> Callable[[Delivered], Delivered]:
    """Register what to record when a message of `purpose` is posted:
    `handler(session, landed)`, in the delivery's transaction."""

    def register(handler: Delivered) -> Delivered:
        _on_delivered[purpose] = handler
        return handler

    return register


def on_given_up(purpose: str) -> Callable[[GivenUp], GivenUp]:
    """Register what to do when a message of `purpose` is given up:
    `handler(session, team_id, subject_id, reason)`."""

    def register(handler: GivenUp) -> GivenUp:
        _on_given_up[purpose] = handler
        return handler

    return register


@dataclass(frozen=True)
class Owed:
    """A message to send. `channel` is a channel id, or a user id for a direct message."""

    key: str
    channel: str
    text: str
    blocks: Sequence[dict[str, Any]] | None = None
    thread_key: str | None = None
    thread_ts: str | None = None
    broadcast: bool = False
    purpose: str | None = None
    subject_id: int | None = None
    patience: timedelta = DEFAULT_PATIENCE


@dataclass(frozen=True)
class Attempt:
    """One claimed attempt to send a message, with its thread resolved to a ts."""

    id: int
    team_id: str
    key: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    broadcast: bool
    purpose: str | None
    look_first: bool  # an earlier attempt may have reached Slack: look for it before sending
    created_at: datetime


async def record(session: AsyncSession, team_id: str, owed: Owed, now: datetime) -> bool:
    """Record a message owed; False (changing nothing) if `owed.key` is already recorded."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .values(
            team_id=team_id,
            key=owed.key,
            channel=owed.channel,
            thread_key=owed.thread_key,
            thread_ts=owed.thread_ts,
            broadcast=owed.broadcast,
            text=owed.text,
            blocks=list(owed.blocks) if owed.blocks is not None else None,
            purpose=owed.purpose,
            subject_id=owed.subject_id,
            state=PENDING,
            attempts=0,
            maybe_sent=False,
            next_attempt_at=now,
            give_up_at=now + owed.patience,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.team_id, OutboxMessage.key])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th failed attempt: 5 s, 10 s, 20 s, … up to 10 min."""
    if attempts <= 0:
        return timedelta(0)
    return min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)


def _claimable(now: datetime) -> Any:
    return and_(
        OutboxMessage.state == PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next pending message is due (or its lease runs out), for the scheduler."""
    due = await session.scalar(
        select(
            func.min(func.coalesce(OutboxMessage.claimed_until, OutboxMessage.next_attempt_at))
        ).where(OutboxMessage.state == PENDING)
    )
    return due


async def claim_due(
    session: AsyncSession, now: datetime, limit: int = CLAIM_BATCH
) -> list[Attempt]:
    """Claim the messages that can be attempted now: the first pending one of each channel
    (so a channel's messages go in order), whose thread, if any, is already in Slack."""
    pending = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == PENDING)
            .order_by(OutboxMessage.id)
            .limit(limit * 4)
        )
    ).all()
    seen_channels: set[tuple[str, str]] = set()
    attempts: list[Attempt] = []
    for row in pending:
        channel = (row.team_id, row.channel)
        if channel in seen_channels:
            continue  # an earlier message to this channel goes first
        seen_channels.add(channel)
        if row.next_attempt_at > now or (row.claimed_until and row.claimed_until >= now):
            continue
        thread_ts = row.thread_ts
        if row.thread_key is not None:
            parent = await session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.team_id == row.team_id, OutboxMessage.key == row.thread_key
                )
            )
            if parent is None or parent.state == FAILED:
                await _give_up(session, row, now, "its thread was never posted")
                continue
            if parent.state != SENT:
                continue
            thread_ts = parent.sent_ts
        if now >= row.give_up_at:
            await _give_up(session, row, now, row.last_error or "ran out of time")
            continue
        claimed = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, _claimable(now))
            .values(
                claimed_until=now + LEASE,
                attempts=OutboxMessage.attempts + 1,
                maybe_sent=True,
            )
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:
            continue  # another process claimed it first
        attempts.append(
            Attempt(
                id=row.id,
                team_id=row.team_id,
                key=row.key,
                channel=row.channel,
                text=row.text,
                blocks=row.blocks,
                thread_ts=thread_ts,
                broadcast=row.broadcast,
                purpose=row.purpose,
                look_first=row.maybe_sent,
                created_at=row.created_at,
            )
        )
        if len(attempts) >= limit:
            break
    return attempts


async def _row(session: AsyncSession, attempt_id: int) -> OutboxMessage | None:
    return await session.get(OutboxMessage, attempt_id, with_for_update=True)


async def delivered(
    session: AsyncSession, attempt_id: int, channel: str, ts: str, now: datetime
) -> Landed | None:
    """The message is in Slack at (channel, ts): done, and its purpose learns where.
    Returns where it landed when it has a purpose (None if it was already recorded)."""
    row = await _row(session, attempt_id)
    if row is None or row.state != PENDING:
        return None
    row.state = SENT
    row.sent_channel = channel
    row.sent_ts = ts
    _forget_content(row)
    row.claimed_until = None
    row.maybe_sent = False
    row.finished_at = now
    await session.flush()
    if row.subject_id is None:
        return None
    landed = Landed(row.team_id, row.subject_id, channel, ts, now)
    handler = _on_delivered.get(row.purpose or "")
    if handler is not None:
        await handler(session, landed)
    return landed


async def not_delivered(
    session: AsyncSession,
    attempt_id: int,
    now: datetime,
    error: str,
    *,
    certain: bool,
    retry_after: timedelta | None = None,
    never: bool = False,
) -> bool:
    """An attempt failed. `certain`: Slack said it did not post (a 429, an error answer), so
    the next attempt need not look for it first. `never`: it never can be delivered (the
    channel is gone, hearth was removed): give up now. Returns whether it was given up."""
    row = await _row(session, attempt_id)
    if row is None or row.state != PENDING:
        return False
    row.last_error = error[:200]
    row.claimed_until = None
    if certain:
        row.maybe_sent = False
    # Slack's `Retry-After` says exactly when to come back; otherwise back off.
    wait = retry_after if retry_after is not None else retry_delay(row.attempts)
    if never or now + wait >= row.give_up_at:
        await _give_up(session, row, now, error)
        return True
    row.next_attempt_at = now + wait
    await session.flush()
    return False


def _forget_content(row: OutboxMessage) -> None:
    """What a finished message said is Slack's to keep now (or no one's): not stored twice."""
    row.text = ""
    row.blocks = None


async def _give_up(session: AsyncSession, row: OutboxMessage, now: datetime, reason: str) -> None:
    _forget_content(row)
    row.state = FAILED
    row.last_error = reason[:200]
    row.claimed_until = None
    row.finished_at = now
    await session.flush()
    handler = _on_given_up.get(row.purpose or "")
    if handler is not None and row.subject_id is not None:
        await handler(session, row.team_id, row.subject_id, reason)


async def withdraw(session: AsyncSession, team_id: str, keys: Sequence[str], now: datetime) -> int:
    """Take back messages no longer wanted (the meetup was cancelled, the swap withdrawn)
    that have not been sent yet; returns how many. One already on its way may still land."""
    if not keys:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.key.in_(keys),
            OutboxMessage.state == PENDING,
        )
        .values(state=WITHDRAWN, text="", blocks=None, claimed_until=None, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def prune(session: AsyncSession, now: datetime) -> int:
    """Delete finished messages older than `KEEP_FINISHED`; returns how many went."""
    result = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state != PENDING,
            OutboxMessage.finished_at < now - KEEP_FINISHED,
        )
    )
    return int(result.rowcount or 0)


async def oldest_finished(session: AsyncSession) -> datetime | None:
    """When the oldest finished message finished (for planning the next prune)."""
    return await session.scalar(
        select(func.min(OutboxMessage.finished_at)).where(OutboxMessage.state != PENDING)
    )


@dataclass(frozen=True)
class OutboxHealth:
    """For `/healthz`: messages waiting longer than they should, and given up lately."""

    overdue: int
    given_up: int


async def health(session: AsyncSession, now: datetime) -> OutboxHealth:
    overdue = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.state == PENDING,
            OutboxMessage.created_at < now - timedelta(minutes=5),
        )
    )
    given_up = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.state == FAILED,
            OutboxMessage.finished_at >= now - timedelta(days=1),
        )
    )
    return OutboxHealth(overdue=overdue or 0, given_up=given_up or 0)


async def landed(session: AsyncSession, team_id: str, key: str) -> tuple[str, str] | None:
    """Where the message `key` was posted (channel, ts), once it is in Slack; for a domain
    that changes a message later without keeping its ts itself."""
    row = (
        await session.execute(
            select(OutboxMessage.sent_channel, OutboxMessage.sent_ts).where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.key == key,
                OutboxMessage.state == SENT,
            )
        )
    ).first()
    if row is None or row.sent_channel is None or row.sent_ts is None:
        return None
    return row.sent_channel, row.sent_ts


async def given_up_reasons(
    session: AsyncSession, team_id: str, keys: Sequence[str]
) -> dict[str, str]:
    """Which of `keys` were given up, and why."""
    rows = await session.execute(
        select(OutboxMessage.key, OutboxMessage.last_error).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.key.in_(keys),
            OutboxMessage.state == FAILED,
        )
    )
    return {key: error or "" for key, error in rows}


async def give_up_team(session: AsyncSession, team_id: str, reason: str, now: datetime) -> int:
    """Give up every message still owed to `team_id` (hearth was removed from that
    workspace: none of them can be sent), telling each purpose as for any message given up.
    Returns how many."""
    rows = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.team_id == team_id, OutboxMessage.state == PENDING)
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    ).all()
    for row in rows:
        await _give_up(session, row, now, reason)
    return len(rows)
