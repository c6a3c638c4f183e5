"""Two hearth processes on one PostgreSQL database: the one that planned a timer (it served the
click that started a time-box) is killed with SIGKILL before the timer is due. The other one,
which never saw that click, fires it by itself (it re-reads what is due every few seconds),
once, within seconds of it coming due."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bot.emulator.seed import Seed
from tests.faults.harness import Cluster, eventually
from tests.faults.steps import (
    SURVIVOR_WITHIN,
    board,
    boards,
    in_discussion,
    propose,
    replies,
    start_session,
)


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
async def test_the_survivor_fires_a_timer_the_killed_process_planned(cluster: Cluster) -> None:
    slack = cluster.slack
    planner = await cluster.spawn()
    other = await cluster.spawn()
    cluster.pin(planner)  # every click goes to the planner; the other hears nothing
    await start_session(cluster)
    await eventually(lambda: boards(slack), what="the board")
    await propose(cluster, Seed.BOB, "Plain language")
    await propose(cluster, Seed.CAROL, "Research ops")
    alice = slack.user(Seed.ALICE)
    assert (await alice.click(board(slack), "Close voting")).ok
    await eventually(lambda: "Start next topic" in board(slack).buttons, what="voting closed")
    assert (await alice.click(board(slack), "Start next topic")).ok
    await eventually(lambda: in_discussion(cluster), what="the time-box started")
    await eventually(lambda: replies(slack, "Now discussing"), what="the note")
    assert set(cluster.router.served_by) == {planner.name}

    await cluster.kill(planner)
    # The 7-minute time-box runs out. Nobody tells the survivor to look.
    started = time.monotonic()
    await cluster.advance(timedelta(minutes=7, seconds=1), resync=False)
    await eventually(
        lambda: replies(slack, "Keep going"), within=SURVIVOR_WITHIN + 5, what="'Keep going?'"
    )
    took = time.monotonic() - started
    print(f"the survivor fired the timer {took:.1f}s after it came due")  # shown with -s
    assert took < SURVIVOR_WITHIN, f"the survivor took {took:.1f}s"
    assert other.alive and cluster.live == [other]

    # Once, however long the survivor goes on.
    await cluster.outbox_drained()
    await cluster.advance(timedelta(seconds=30))
    assert len(replies(slack, "Keep going")) == 1
