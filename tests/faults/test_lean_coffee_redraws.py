"""A board redraw that dies with its process is still made.

A vote is stored, then acknowledged; the board is redrawn afterwards by the process that took
it, from memory (`bot.coalesce.Coalescer`: at most one `chat.update` a second per board). When
that process is killed within the second after a vote, that redraw dies with it; what puts
the board right is the sweep every process runs (`bot.jobs.lean_coffee.redraw_stale_boards`,
every `BOARD_SWEEP`): the survivor on PostgreSQL, the restarted process on SQLite, compares
what Slack was last shown (`lean_coffee_session.board_drawn`) with the database and redraws.
"""

from __future__ import annotations

from bot.emulator.seed import Seed
from bot.jobs.lean_coffee import BOARD_SWEEP
from tests.faults.harness import Cluster, eventually
from tests.faults.steps import (
    begin,
    board,
    board_becomes_true,
    boards,
    kill_and_carry_on,
    propose,
    start_session,
    stored_votes,
)


async def test_a_redraw_that_dies_with_its_process_is_still_made(cluster: Cluster) -> None:
    slack = cluster.slack
    victim = await begin(cluster)
    cluster.pin(victim)
    await start_session(cluster)
    await eventually(lambda: boards(slack), what="the board")
    await propose(cluster, Seed.BOB, "Plain language")
    await board_becomes_true(cluster)

    # Bob's vote is redrawn at once; Carol's, a moment later, waits its turn (a second after
    # the last redraw), and her process dies meanwhile.
    assert (await slack.user(Seed.BOB).click(board(slack), "Vote")).ok
    await eventually(lambda: "1 vote" in board(slack).readable_text, what="Bob's vote shown")
    assert (await slack.user(Seed.CAROL).click(board(slack), "Vote")).ok
    await kill_and_carry_on(cluster, victim)
    cluster.pin(None)
    assert sum((await stored_votes(cluster)).values()) == 2  # stored and acknowledged

    await cluster.advance(BOARD_SWEEP)  # the survivor's (or restarted process's) next sweep
    await board_becomes_true(cluster, within=15)
