"""What the fault tests do and check, through the emulator and the database.

Everything a person does goes through the emulator to a real hearth process (`Cluster`);
what the tests check afterwards is read from the emulator (what people see) and from the
database (what hearth stored), never from a process's memory.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.blocks import lean_coffee as lc_blocks
from bot.emulator.delivery import DeliveryResult
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import Call, SlackEmulator
from bot.services import lean_coffee as lc_service
from bot.services import outbox
from models.lean_coffee import LeanCoffeePoll, LeanCoffeeSession, LeanCoffeeTopic, LeanCoffeeVote
from models.outbox import OutboxMessage
from tests.faults.harness import Cluster, HearthProcess, eventually

CHANNEL = Seed.PRACTICE
# How long a process that died mid-send keeps its message (then another may look and resend).
PAST_THE_LEASE = outbox.LEASE + timedelta(seconds=5)
# A survivor learns of work another process planned within one resync (5 s); allow for load.
SURVIVOR_WITHIN = 15.0


# --- what people see ------------------------------------------------------------------------


def bot_posts(slack: SlackEmulator, containing: str, channel: str = CHANNEL) -> list[str]:
    """The ts of every message hearth posted in `channel` or its threads that says it."""
    return [
        m.ts
        for m in slack.state.messages_in(channel, include_replies=True)
        if m.bot_id and containing in (m.text + str(m.blocks))
    ]


def replies(slack: SlackEmulator, containing: str, channel: str = CHANNEL) -> list[str]:
    """The ts of every reply hearth posted in a thread of `channel` that says it."""
    return [
        m.ts
        for m in slack.state.messages_in(channel, include_replies=True)
        if m.bot_id
        and m.thread_ts
        and m.ts != m.thread_ts
        and containing in (m.text + str(m.blocks))
    ]


def dm_posts(slack: SlackEmulator, user: str, containing: str) -> list[str]:
    return bot_posts(slack, containing, slack.state.im_with(user).id)


def is_board(message: SeenMessage) -> bool:
    text = message.readable_text
    return (
        message.from_bot
        and not message.ephemeral
        and "Facilitated by" in text
        and "Minutes:" not in text
    )


def boards(slack: SlackEmulator, channel: str = CHANNEL) -> list[SeenMessage]:
    return [m for m in slack.user(Seed.ALICE).messages(channel) if is_board(m)]


def board(slack: SlackEmulator, channel: str = CHANNEL) -> SeenMessage:
    found = boards(slack, channel)
    assert found, "no board in the channel"
    return found[-1]


def notes_for(slack: SlackEmulator, user: str, channel: str = CHANNEL) -> list[str]:
    return [m.readable_text for m in slack.user(user).messages(channel) if m.ephemeral]


def held_calls(slack: SlackEmulator, method: str = "chat.postMessage") -> list[Call]:
    """Calls the emulator is holding (or held) unanswered: `fail_next(..., timeout=True)`."""
    return [c for c in slack.calls_to(method) if c.injected == "timeout"]


async def kill_once_held(
    cluster: Cluster, victim: HearthProcess, before: int, method: str = "chat.postMessage"
) -> None:
    """Wait until Slack holds one more call of `method` than `before` (set up with
    `fail_next(..., timeout=True)`), then SIGKILL `victim` while it waits for the answer."""
    await eventually(
        lambda: len(held_calls(cluster.slack, method)) > before,
        within=10,
        what=f"a {method} held by Slack",
    )
    await cluster.kill(victim)


# --- a Lean Coffee ------------------------------------------------------------------------------


async def start_session(cluster: Cluster, channel: str = CHANNEL) -> None:
    """Alice runs /lean-coffee and submits its modal (acknowledged once stored)."""
    alice = cluster.slack.user(Seed.ALICE)
    result = await alice.run_command("/lean-coffee", channel=channel)
    assert result.ok, result
    await eventually(lambda: alice.view is not None, what="the start modal")
    submitted = await alice.submit({"Name": "Content design CoP"})
    assert submitted.ok and submitted.outcome == "close", submitted


async def propose(cluster: Cluster, user: str, title: str, channel: str = CHANNEL) -> None:
    """Propose a topic and wait for hearth's thanks (sent once the topic is stored)."""
    result = await cluster.slack.user(user).run_command("/lean-coffee", title, channel=channel)
    assert result.ok, result
    await eventually(
        lambda: any(
            "Your topic is on the board" in note and title in note
            for note in notes_for(cluster.slack, user, channel)
        ),
        what=f"thanks for {title!r}",
    )


async def in_discussion(cluster: Cluster) -> bool:
    async with cluster.sessionmaker() as session:
        return bool(
            await session.scalar(
                select(func.count())
                .select_from(LeanCoffeeTopic)
                .where(LeanCoffeeTopic.state == "discussing")
            )
        )


# --- what hearth stored ------------------------------------------------------------------------


@dataclass
class Acknowledged:
    """Clicks Slack saw acknowledged (HTTP 200 within its 3 s): each must be stored."""

    votes: Counter[str] = field(default_factory=Counter)  # topic title -> dots placed

    def vote(self, result: DeliveryResult, title: str) -> None:
        if result.ok:
            self.votes[title] += 1


async def stored_votes(cluster: Cluster) -> Counter[str]:
    async with cluster.sessionmaker() as session:
        rows = await session.execute(
            select(LeanCoffeeTopic.title, func.count(LeanCoffeeVote.id))
            .join(LeanCoffeeVote, LeanCoffeeVote.topic_id == LeanCoffeeTopic.id)
            .group_by(LeanCoffeeTopic.title)
        )
        return Counter({title: count for title, count in rows})


async def stored_topics(cluster: Cluster) -> list[str]:
    async with cluster.sessionmaker() as session:
        return sorted((await session.scalars(select(LeanCoffeeTopic.title))).all())


async def polls_stored(cluster: Cluster) -> int:
    async with cluster.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(LeanCoffeePoll)) or 0)


async def owed(cluster: Cluster, key: str) -> OutboxMessage | None:
    async with cluster.sessionmaker() as session:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


async def expected_board(cluster: Cluster, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """The board of the channel's newest Lean Coffee as hearth would draw it now, from the
    database."""
    async with cluster.sessionmaker() as session:
        lc = await session.scalar(
            select(LeanCoffeeSession)
            .where(LeanCoffeeSession.channel_id == channel)
            .order_by(LeanCoffeeSession.id.desc())
        )
        assert lc is not None
        view = await lc_service.board_view(session, lc)
    return [block.to_dict() for block in lc_blocks.board_blocks(view)]


def _as_drawn(blocks: list[dict[str, Any]], like: list[dict[str, Any]]) -> list[Any]:
    """`blocks` as JSON, without the block_ids Slack adds where hearth gave none."""
    plain = json.loads(json.dumps(blocks, sort_keys=True))
    for block, model in zip(plain, like, strict=False):
        if "block_id" not in model:
            block.pop("block_id", None)
    return list(plain)


async def board_is_true(cluster: Cluster, channel: str = CHANNEL) -> bool:
    """The board in the channel is the one the database says (topics, votes, stage)."""
    shown = boards(cluster.slack, channel)
    if len(shown) != 1:
        return False
    expected = json.loads(json.dumps(await expected_board(cluster, channel), sort_keys=True))
    return _as_drawn(shown[0].blocks, expected) == expected


class BoardNotTrue(AssertionError):
    """The board in the channel does not show what the database holds."""


async def board_becomes_true(
    cluster: Cluster, within: float = 10.0, channel: str = CHANNEL
) -> None:
    try:
        await eventually(lambda: board_is_true(cluster, channel), within=within, what="board true")
    except AssertionError:
        shown = boards(cluster.slack, channel)
        raise BoardNotTrue(
            f"the board does not match the database after {within}s:\n"
            f"shown: {shown[-1].readable_text if shown else None}\n"
            f"from the database: {len(await expected_board(cluster, channel))} blocks"
        ) from None


# --- processes dying and the others carrying on -------------------------------------------------


def shared(cluster: Cluster) -> bool:
    """PostgreSQL: several processes at once. SQLite: one at a time."""
    return cluster.dialect == "postgresql"


async def begin(cluster: Cluster) -> HearthProcess:
    """One process on SQLite, two on PostgreSQL; returns the first."""
    first = await cluster.spawn()
    if shared(cluster):
        await cluster.spawn()
    return first


async def recover(
    cluster: Cluster,
    effect: Callable[[], Any],
    what: str,
    *,
    wait: timedelta = PAST_THE_LEASE,
    replace: bool = True,
) -> float:
    """After a kill, `wait` passes (long enough for the dead process's lease on a message it
    was sending to run out) and nobody tells anyone to look:

    - SQLite: time passes while hearth is down; a new process starts on the same file and
      catches up by itself;
    - PostgreSQL: the survivor, still running, finds out by itself (its resync).

    Waits for `effect`, then for the outbox to drain; on PostgreSQL starts a replacement so
    two run again (unless not `replace`). Returns how long `effect` took in real time (it
    must be short).
    """
    if shared(cluster):
        assert len(cluster.live) == 1, "the survivor runs on, nobody restarts it"
        started = time.monotonic()
        await cluster.advance(wait, resync=False)
    else:
        assert not cluster.live
        await cluster.advance(wait)  # the emulator's clock only: no process is running
        await cluster.spawn()
        started = time.monotonic()
    await eventually(effect, within=SURVIVOR_WITHIN + 5, what=what)
    took = time.monotonic() - started
    print(f"{cluster.dialect}: {what}: {took:.1f}s")  # shown with -s
    assert took < SURVIVOR_WITHIN, f"{what} took {took:.1f}s"
    await cluster.outbox_drained()
    if shared(cluster) and replace:
        await cluster.spawn()
    return took


async def kill_and_carry_on(cluster: Cluster, victim: HearthProcess) -> None:
    """SIGKILL `victim`; SQLite: start a new process on the file at once (no time passes)."""
    await cluster.kill(victim)
    if not shared(cluster):
        await cluster.spawn()
