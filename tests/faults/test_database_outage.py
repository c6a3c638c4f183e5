"""The database goes away for 20 seconds while a Lean Coffee's time-box ends, and comes back.
hearth is not restarted.

PostgreSQL: the process reaches the server through a TCP proxy the test runs; stopping it cuts
every open connection and refuses new ones (the server crashed, failed over, or the network
dropped), starting it lets connections through again.

SQLite has no server to lose; what makes its database unusable for a while in real life is
another program holding its write lock: an admin's `sqlite3` shell left in a transaction, a
backup tool, a `VACUUM`. The test holds `BEGIN EXCLUSIVE` from its own connection. (Taking the
directory's or the file's permissions away does nothing to a running hearth: it keeps the files
it already has open.) Reads go on (WAL); every write waits out the busy timeout and fails.

Either way: `/healthz` answers 503 during the outage and 200 after; a click during it gets a
clear answer, not a 500 and not an acknowledgement of something that was not stored; the
"Keep going?" poll due during the outage is posted once, after it, by the same process; and
the log says what happened once per kind of trouble, with no tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from tests.faults.conftest import CLUSTER
from tests.faults.harness import (
    Cluster,
    TcpProxy,
    eventually,
    hold_sqlite_lock,
    running_cluster,
    through_proxy,
)
from tests.faults.process import MovableClock
from tests.faults.steps import (
    CHANNEL,
    board,
    board_becomes_true,
    boards,
    in_discussion,
    notes_for,
    propose,
    replies,
    start_session,
    stored_votes,
)

OUTAGE_SECONDS = 20.0
SECOND = "C0SECOND"  # another channel, where a Lean Coffee is still collecting votes
ALICE, BOB, CAROL = Seed.ALICE, Seed.BOB, Seed.CAROL


@pytest.fixture
async def outage_cluster(
    request: pytest.FixtureRequest,
    slack: SlackEmulator,
    clock: MovableClock,
    empty_database: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[Cluster, TcpProxy | None]]:
    """A cluster whose processes reach PostgreSQL through a proxy the test can stop."""
    proxy: TcpProxy | None = None
    via = ""
    if empty_database.startswith("postgresql"):
        proxy = TcpProxy("127.0.0.1", 5432)
        await proxy.start()
        via = through_proxy(empty_database, proxy)
    try:
        async with running_cluster(slack, clock, empty_database, tmp_path, via=via) as cluster:
            request.node.stash[CLUSTER] = cluster
            yield cluster, proxy
    finally:
        if proxy is not None:
            await proxy.stop()


@contextlib.asynccontextmanager
async def database_down(cluster: Cluster, proxy: TcpProxy | None) -> AsyncIterator[None]:
    if proxy is not None:
        await proxy.stop()
        try:
            yield
        finally:
            await proxy.start()
        return
    with hold_sqlite_lock(cluster.direct_url):
        yield


def a_second_channel(slack: SlackEmulator) -> None:
    slack.state.add_channel(SECOND, "second", members={ALICE, BOB, CAROL}, with_bot=True)


async def test_a_database_outage_while_a_timebox_ends(
    outage_cluster: tuple[Cluster, TcpProxy | None],
) -> None:
    cluster, proxy = outage_cluster
    slack = cluster.slack
    a_second_channel(slack)
    hearth = await cluster.spawn()

    # A Lean Coffee under discussion in #practice; another collecting votes in #second.
    await start_session(cluster)
    await eventually(lambda: boards(slack), what="the board")
    await propose(cluster, BOB, "Plain language")
    await propose(cluster, CAROL, "Research ops")
    alice = slack.user(ALICE)
    assert (await alice.click(board(slack), "Close voting")).ok
    await eventually(lambda: "Start next topic" in board(slack).buttons, what="voting closed")
    assert (await alice.click(board(slack), "Start next topic")).ok
    await eventually(lambda: in_discussion(cluster), what="discussing")
    await board_becomes_true(cluster)
    await start_session(cluster, channel=SECOND)
    await eventually(lambda: boards(slack, SECOND), what="the second board")
    await propose(cluster, CAROL, "Retro formats", channel=SECOND)
    await board_becomes_true(cluster, channel=SECOND)

    # The time-box ends four seconds into the outage.
    await cluster.advance(timedelta(minutes=7) - timedelta(seconds=4))
    mark = hearth.log_size()
    began = time.monotonic()
    async with database_down(cluster, proxy):
        assert await hearth.healthz() == 503

        # Bob votes in #second; Carol asks to add a takeaway in #practice.
        vote = await slack.user(BOB).click(board(slack, SECOND), "Vote", near="Retro formats")
        takeaway = await slack.user(CAROL).click(board(slack), "Add a takeaway")
        for result, person, channel in ((vote, BOB, SECOND), (takeaway, CAROL, CHANNEL)):
            assert result.status != 500, result
            if proxy is not None:  # refused at once: acknowledged, and told
                assert result.ok, result
            # On SQLite a vote waits out the busy timeout, longer than Slack waits: Slack
            # tells the person it failed, and so does hearth once the wait is over.
            await eventually(
                lambda p=person, c=channel: _told_to_retry(slack, p, c),
                within=15,
                what=f"{person} told that it did not work",
            )
        # A load balancer keeps asking meanwhile.
        while time.monotonic() - began < OUTAGE_SECONDS:
            assert await hearth.healthz() == 503
            await asyncio.sleep(2)
        assert replies(slack, "Keep going") == []

    await eventually(lambda: _healthy(cluster), within=15, what="/healthz 200 again")
    await eventually(lambda: replies(slack, "Keep going"), within=45, what="the poll, after")
    back = time.monotonic() - began - OUTAGE_SECONDS
    await cluster.outbox_drained()
    assert len(replies(slack, "Keep going")) == 1
    assert hearth.alive and cluster.live == [hearth], "no restart"
    # Bob's vote was not stored, as he was told; now it is.
    assert await stored_votes(cluster) == Counter()
    assert (await slack.user(BOB).click(board(slack, SECOND), "Vote", near="Retro formats")).ok
    assert await stored_votes(cluster) == Counter({"Retro formats": 1})
    await board_becomes_true(cluster, channel=SECOND)
    await board_becomes_true(cluster)

    log = hearth.log_since(mark)
    assert "Traceback" not in log, log
    assert not re.search(r"^\S+ \S+ (ERROR|CRITICAL)", log, re.M), log
    kinds = Counter(_kind(line) for line in log.splitlines() if " WARNING " in line)
    assert kinds, "the outage was noticed"
    assert all(count == 1 for count in kinds.values()), kinds
    print(f"the poll came {back:.1f}s after the database was back")


def _told_to_retry(slack: SlackEmulator, person: str, channel: str) -> bool:
    return any(
        "nothing was saved" in note and "try again" in note
        for note in notes_for(slack, person, channel)
    )


async def _healthy(cluster: Cluster) -> bool:
    return await cluster.live[0].healthz() == 200


def _kind(line: str) -> str:
    """A warning's kind: its logger and its words, without numbers and parentheses."""
    _date, _time, _level, logger, message = line.split(maxsplit=4)
    message = re.sub(r"\([^)]*\)", "", message)
    return f"{logger} {re.sub(r'[0-9]+', '#', message)}"
