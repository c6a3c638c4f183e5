"""A Lean Coffee run by real hearth processes, one of which is killed with SIGKILL at each step:
while Slack holds the board's post (it posted; the answer never came), right after votes were
acknowledged, right after the first topic started, while Slack holds "Keep going?" (it never
posted it), right after the poll's votes were acknowledged, and while Slack holds the minutes.

On SQLite one process runs at a time: after each kill a new one starts on the same file. On
PostgreSQL two run at once behind a round-robin switch: the survivor finishes what the dead one
owed by itself, within seconds and without a restart; a replacement is started afterwards.

After each step every acknowledged click is stored and every message owed is in the channel
exactly once. The board matches the database whenever a live process has redrawn it; a redraw
that dies with its process is `test_lean_coffee_redraws.py`'s."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from models.lean_coffee import LeanCoffeePollVote, LeanCoffeeSession
from tests.faults.harness import Cluster, eventually
from tests.faults.steps import (
    CHANNEL,
    SURVIVOR_WITHIN,
    Acknowledged,
    begin,
    board,
    board_becomes_true,
    boards,
    held_calls,
    in_discussion,
    kill_and_carry_on,
    kill_once_held,
    owed,
    polls_stored,
    propose,
    recover,
    replies,
    shared,
    start_session,
    stored_topics,
    stored_votes,
)

ALICE, BOB, CAROL, DAVE = Seed.ALICE, Seed.BOB, Seed.CAROL, Seed.DAVE
TOPICS = {BOB: "Plain language", CAROL: "Research ops", DAVE: "Async rituals"}


async def board_recorded(cluster: Cluster) -> bool:
    async with cluster.sessionmaker() as session:
        lc = await session.scalar(select(LeanCoffeeSession))
        return lc is not None and lc.board_ts is not None


async def minutes_recorded(cluster: Cluster) -> bool:
    first = await owed(cluster, "lean_coffee.minutes:1:0")
    return first is not None and first.state == "sent"


async def test_a_lean_coffee_survives_kill_9_at_each_step(cluster: Cluster) -> None:
    slack = cluster.slack
    slack.state.channels[CHANNEL].members.add(DAVE)
    alice = slack.user(ALICE)
    acknowledged = Acknowledged()
    first = await begin(cluster)

    # 1. The board: Slack posts it, its answer never comes, and the process dies waiting.
    cluster.pin(first)
    slack.fail_next("chat.postMessage", timeout=True, hold_seconds=120, after_success=True)
    await start_session(cluster)
    await kill_once_held(cluster, first, before=0)
    cluster.pin(None)
    row = await owed(cluster, "lean_coffee.board:1")
    assert row is not None and (row.state, row.maybe_sent) == ("pending", True)
    assert len(boards(slack)) == 1  # in the channel; hearth does not know where
    await recover(cluster, lambda: board_recorded(cluster), "the board found and recorded")
    assert len(boards(slack)) == 1, "looked for (and found) before posting again"
    assert slack.calls_to("conversations.history")

    # 2. Topics, then votes; the process that took the last vote dies right after its ack.
    for user, title in TOPICS.items():
        await propose(cluster, user, title)
    assert await stored_topics(cluster) == sorted(TOPICS.values())
    await board_becomes_true(cluster)
    for user, title in [
        (BOB, TOPICS[BOB]),
        (CAROL, TOPICS[BOB]),
        (DAVE, TOPICS[CAROL]),
        (ALICE, TOPICS[BOB]),
        (BOB, TOPICS[CAROL]),
        (CAROL, TOPICS[DAVE]),
    ]:
        acknowledged.vote(await slack.user(user).click(board(slack), "Vote", near=title), title)
    await kill_and_carry_on(cluster, cluster.last_served_by())
    assert sum(acknowledged.votes.values()) == 6
    assert await stored_votes(cluster) == acknowledged.votes, "every acknowledged vote stored"
    if shared(cluster):
        await cluster.spawn()

    # 3. Voting closes, the first topic starts, and that process dies at once.
    assert (await alice.click(board(slack), "Close voting")).ok  # acknowledged, then done
    await eventually(lambda: "Start next topic" in board(slack).buttons, what="voting closed")
    await board_becomes_true(cluster)
    assert (await alice.click(board(slack), "Start next topic")).ok
    await eventually(lambda: in_discussion(cluster), what="a topic under discussion")
    await cluster.kill(cluster.last_served_by())
    await recover(cluster, lambda: replies(slack, "Now discussing"), "the 'Now discussing' note")
    assert len(replies(slack, "Now discussing")) == 1
    assert len(replies(slack, "Voting is closed")) == 1

    # 4. The time-box ends: the process that asks "Keep going?" dies while Slack holds the
    # post (Slack never posts it). Only it knows the new time, so only it acts.
    victim = cluster.live[0]
    before = len(held_calls(slack))
    slack.fail_next("chat.postMessage", timeout=True, hold_seconds=120)
    await cluster.advance(timedelta(minutes=7), only=[victim])
    await board_becomes_true(cluster)  # redrawn (a redraw dying is not this test's)
    await kill_once_held(cluster, victim, before)
    await cluster.tell_clock(resync=False)
    assert replies(slack, "Keep going") == []
    await recover(cluster, lambda: replies(slack, "Keep going"), "'Keep going?' posted")
    assert len(replies(slack, "Keep going")) == 1
    assert await polls_stored(cluster) == 1

    # 5. The group votes on it; the process that took the last vote dies right after its ack.
    poll = next(m for m in alice.thread(CHANNEL, board(slack).ts) if "Decide now" in m.buttons)
    keep_going = next(label for label in poll.buttons if label.startswith("Keep going"))
    acked = 0
    for user, label in [(BOB, keep_going), (CAROL, keep_going), (DAVE, "Move on")]:
        acked += (await slack.user(user).click(poll, label)).ok
    await kill_and_carry_on(cluster, cluster.last_served_by())
    assert acked == 3
    async with cluster.sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(LeanCoffeePollVote))
    assert stored == 3, "every acknowledged poll vote stored"
    # The poll decides itself a minute after it was posted, in a process that never saw
    # the votes come in.
    started = time.monotonic()
    await cluster.advance(timedelta(minutes=1), resync=False)
    await eventually(
        lambda: replies(slack, "Keeping going on"), within=SURVIVOR_WITHIN, what="decided"
    )
    assert time.monotonic() - started < SURVIVOR_WITHIN
    await cluster.outbox_drained()
    assert len(replies(slack, "Keeping going on")) == 1
    assert replies(slack, "Moving on from") == []
    await board_becomes_true(cluster)
    if shared(cluster):
        await cluster.spawn()

    # 6. The session ends; Slack posts the minutes and the answer never comes.
    victim = cluster.live[0]
    cluster.pin(victim)
    before = len(held_calls(slack))
    slack.fail_next("chat.postMessage", timeout=True, hold_seconds=120, after_success=True)
    assert (await alice.click(board(slack), "End session")).ok
    await eventually(lambda: "has ended" in board(slack).text, what="the board says it ended")
    await board_becomes_true(cluster)
    await kill_once_held(cluster, victim, before)
    cluster.pin(None)
    await recover(
        cluster, lambda: minutes_recorded(cluster), "the minutes found and recorded", replace=False
    )

    # Afterwards: each message once, every click stored, the board true.
    assert len(replies(slack, "Minutes:")) == 1
    assert len(boards(slack)) == 1
    assert len(replies(slack, "Keep going")) == 1
    assert len(replies(slack, "Now discussing")) == 1
    assert await stored_votes(cluster) == acknowledged.votes
    await board_becomes_true(cluster)
