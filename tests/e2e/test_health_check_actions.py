"""Actions after a health check, end to end: recorded from the results message by anyone in
the channel, confirmed in its thread, shown on the owner's Home, reminded on the due date and
marked done; bad answers get field errors; only the right people mark it done. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.ids import ActionsAction
from bot.state import ActionRef
from models.health_check_actions import HealthCheckAction
from tests.e2e.conftest import START, World
from tests.e2e.health_check_steps import answer, health_check, poll, results_posts
from tests.e2e.helpers import CHANNEL

ACTION = "Pair <newcomers> & mentors"
ACTION_SENT = "Pair &lt;newcomers&gt; &amp; mentors"
TITLE = "Health check, 23 Nov 2026"
DUE = date(2026, 11, 25)
REMIND = datetime(2026, 11, 25, 9, 0, tzinfo=START.tzinfo)


async def results_of_a_check(world: World) -> SeenMessage:
    """Alice runs a check, three people answer, and she closes it: the results message."""
    await health_check(world, Seed.ALICE, "now")
    for user in (Seed.ALICE, Seed.BOB, Seed.CAROL):
        await answer(world, user, "value", "green")
    await world.slack.user(Seed.ALICE).click(poll(world), "Close now and show results")
    [results] = results_posts(world)
    return results


def thread_posts(world: World, results: SeenMessage) -> list[SeenMessage]:
    return [
        m
        for m in world.slack.user(Seed.ALICE).thread(CHANNEL, results.ts)
        if m.from_bot and not m.ephemeral and m.ts != results.ts
    ]


def reminders(world: World, user_id: str) -> list[SeenMessage]:
    return [m for m in world.slack.user(user_id).dm() if "is due today" in m.readable_text]


def mark_done_refs(message: SeenMessage) -> list[ActionRef]:
    return [
        ActionRef.decode(block["accessory"]["value"])
        for block in message.blocks
        if (block.get("accessory") or {}).get("action_id") == ActionsAction.MARK_DONE
    ]


async def stored(world: World) -> list[HealthCheckAction]:
    async with world.hearth.deps.sessionmaker() as session:
        return list(await session.scalars(select(HealthCheckAction)))


async def test_an_action_recorded_from_the_results_is_followed_up(world: World) -> None:
    alice, bob, dave = (world.slack.user(u) for u in (Seed.ALICE, Seed.BOB, Seed.DAVE))
    world.slack.state.channels[CHANNEL].members.add(Seed.DAVE)
    results = await results_of_a_check(world)
    assert "Record an action" in results.buttons

    # Bob (a member, not a lead) records one; the form checks what it's given.
    assert (await bob.click(results, "Record an action")).ok
    assert bob.view is not None and bob.view.title == "Record an action"
    answer_ = await bob.submit({"What will we do?": "   ", "Who will do it?": Seed.ALICE})
    assert answer_.outcome == "errors"
    assert "Write what will be done" in (bob.view.error_for("What will we do?") or "")
    bot = world.slack.state.bot_user_id
    answer_ = await bob.submit({"What will we do?": ACTION, "Who will do it?": bot})
    assert answer_.outcome == "errors"
    assert "bots" in (bob.view.error_for("Who will do it?") or "")
    assert await stored(world) == []
    answer_ = await bob.submit(
        {"What will we do?": ACTION, "Who will do it?": Seed.ALICE, "By when?": DUE.isoformat()}
    )
    assert answer_.outcome == "close", bob.view and bob.view.errors
    [row] = await stored(world)
    assert (row.text, row.owner_id, row.author_id, row.due_date) == (
        ACTION,
        Seed.ALICE,
        Seed.BOB,
        DUE,
    )

    # Confirmed in the results' thread: escaped, the owner mentioned, with its own button.
    [confirmation] = thread_posts(world, results)
    assert "@bob recorded an action" in confirmation.readable_text
    assert ACTION_SENT in confirmation.all_text and "<!channel>" not in confirmation.all_text
    assert "<@U0ALICE>" in confirmation.all_text
    assert mark_done_refs(confirmation) == [ActionRef(a=row.id, s="health_check")]

    # On Alice's Home, named by the check's day.
    assert (await alice.open_home()).ok and alice.home is not None
    assert ACTION_SENT in str(alice.home.blocks) and TITLE in alice.home.readable_text
    assert mark_done_refs(alice.home) == [ActionRef(a=row.id, s="health_check")]

    # Dave may not mark it done.
    assert (await dave.click(confirmation, "Mark as done")).ok
    said = [m.readable_text for m in dave.messages(CHANNEL) if m.ephemeral]
    said += [m.readable_text for m in dave.thread(CHANNEL, results.ts) if m.ephemeral]
    assert any("Only @alice" in n for n in said), said
    assert (await stored(world))[0].done_at is None

    # Reminded on the due date at 09:00, once; done from the reminder.
    await world.advance(REMIND - START - timedelta(minutes=1))
    assert reminders(world, Seed.ALICE) == []
    await world.advance(timedelta(minutes=1))
    [dm] = reminders(world, Seed.ALICE)
    assert TITLE in dm.readable_text and ACTION_SENT in dm.all_text
    await world.advance(timedelta(hours=1))
    assert len(reminders(world, Seed.ALICE)) == 1
    assert (await alice.click(dm, "Mark as done")).ok
    [dm_now] = reminders(world, Seed.ALICE)
    assert "Done ✓" in dm_now.readable_text and "Mark as done" not in dm_now.buttons
    [done] = await stored(world)
    assert done.done_by_id == Seed.ALICE and done.done_at == world.clock.now()

    # The confirmation still has its button; a late click says so and redraws it.
    assert (await bob.click(confirmation, "Mark as done")).ok
    [redrawn] = thread_posts(world, results)
    assert "Done ✓ marked done by @alice" in redrawn.readable_text
    assert "Mark as done" not in redrawn.buttons
    await alice.open_home()
    assert alice.home is not None and ACTION_SENT not in str(alice.home.blocks)
    assert not world.slack.violations, world.slack.violations


async def test_whoever_ran_the_check_may_mark_done_and_no_date_means_no_reminder(
    world: World,
) -> None:
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    results = await results_of_a_check(world)
    await bob.click(results, "Record an action")
    answer_ = await bob.submit({"What will we do?": "Ask for help", "Who will do it?": Seed.CAROL})
    assert answer_.outcome == "close", bob.view and bob.view.errors
    [confirmation] = thread_posts(world, results)
    assert "Home tab" in confirmation.readable_text and "reminder" not in confirmation.readable_text
    await world.advance(timedelta(days=10))
    assert reminders(world, Seed.CAROL) == []
    # Alice ran the check (and leads the community): she may mark Carol's action done.
    assert (await alice.click(confirmation, "Mark as done")).ok
    [done] = await stored(world)
    assert done.done_by_id == Seed.ALICE
    async with world.hearth.deps.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(HealthCheckAction))
    assert total == 1
