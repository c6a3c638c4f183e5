"""A topic proposed with `/lean-coffee <topic>` is acknowledged only once it is stored, so a
process killed in between loses nothing Slack showed as done.

The kill comes while Slack is slow to answer `conversations.info` (the channel check before
the topic is stored), during a deploy say. Either Slack got no acknowledgement (the person
sees the command fail and types it again; nothing was kept), or it did, and the topic is
stored. A vote is the same (`test_lean_coffee_kill.py`). The facilitator's buttons
(`handlers.listeners.on_button`) acknowledge first, by design: a click lost that way is seen
on the board (nothing changed) and can be made again.
"""

from __future__ import annotations

from bot.emulator.seed import Seed
from tests.faults.harness import Cluster, eventually
from tests.faults.steps import (
    CHANNEL,
    begin,
    boards,
    held_calls,
    kill_and_carry_on,
    kill_once_held,
    start_session,
    stored_topics,
)


class Lost(AssertionError):
    """Something Slack saw acknowledged was not stored."""


async def test_a_proposal_acknowledged_is_stored_whatever_happens_next(cluster: Cluster) -> None:
    slack = cluster.slack
    victim = await begin(cluster)
    cluster.pin(victim)
    await start_session(cluster)
    await eventually(lambda: boards(slack), what="the board")

    before = len(held_calls(slack, "conversations.info"))
    slack.fail_next("conversations.info", timeout=True, hold_seconds=30)
    result = await slack.user(Seed.BOB).run_command(
        "/lean-coffee", "Plain language", channel=CHANNEL
    )
    await kill_once_held(cluster, victim, before, method="conversations.info")
    cluster.pin(None)
    await kill_and_carry_on(cluster, victim)

    stored = await stored_topics(cluster)
    if result.ok and stored != ["Plain language"]:
        raise Lost("Bob's topic was acknowledged and is not stored")
    if not result.ok:
        assert stored == [], "not acknowledged, so nothing half-kept"
