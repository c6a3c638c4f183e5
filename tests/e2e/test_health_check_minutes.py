"""A health check's results in the minutes archive, end to end through Slack (the emulator),
on SQLite and PostgreSQL: closed early, listed by `/minutes`, shown in full with their
scores, found from another channel by a question's words, exported, with the actions
recorded after it; closed on time by two processes at once, kept once; and archived by the
scheduler when a check closed before hearth kept its minutes. Nobody's answers are named."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from models.minutes import Minutes
from tests.e2e.conftest import World, running_hearth
from tests.e2e.health_check_steps import answer, health_check, poll, results_posts
from tests.e2e.helpers import CHANNEL

ALICE, BOB, CAROL = Seed.ALICE, Seed.BOB, Seed.CAROL


def last_note(world: World, user: str, channel: str = CHANNEL) -> SeenMessage:
    seen = [m for m in world.slack.user(user).messages(channel) if m.ephemeral]
    assert seen, f"{user} has no private notes in {channel}"
    return seen[-1]


async def answer_a_check(world: World) -> None:
    """Alice runs a check; three people answer Value split three ways and Learning alike."""
    await health_check(world, ALICE, "now")
    for user, choice in ((ALICE, "green"), (BOB, "amber"), (CAROL, "red")):
        await answer(world, user, "value", choice)
        await answer(world, user, "learning", "green")


async def stored(world: World) -> list[Minutes]:
    async with world.hearth.deps.sessionmaker() as session:
        return list(await session.scalars(select(Minutes).order_by(Minutes.id)))


async def test_a_closed_check_is_listed_shown_found_and_exported(world: World) -> None:
    alice, bob = world.slack.user(ALICE), world.slack.user(BOB)
    await answer_a_check(world)
    await alice.click(poll(world), "Close now and show results")
    [results] = results_posts(world)

    # Listed in its channel, run by Alice, with how many answered (not who).
    await bob.run_command("/minutes", channel=CHANNEL)
    listing = last_note(world, BOB)
    text = listing.readable_text
    assert "Community health check* · Health check · Mon 23 Nov 2026" in text
    assert "run by @alice · 8 questions · 3 people answered" in text
    assert "facilitated by" not in text
    assert listing.buttons == ["Show minutes"]

    # Shown in full: the scores, most disagreement first, as the results message had them.
    await bob.click(listing, "Show minutes", near="Community health check")
    full = last_note(world, BOB).readable_text
    assert "Minutes: Community health check" in full
    assert "run by @alice" in full and "3 people answered" in full
    assert "Answers were anonymous; only the totals are kept." in full
    assert "Value to members*: score *50*/100, views are split" in full
    assert "Learning*: score *100*/100, broad agreement" in full
    assert full.index("Value to members") < full.index("Learning")
    assert "Sharing*: 0 answers, too few to show" in full
    assert "@bob" not in full and "@carol" not in full

    # An action recorded from the results joins the minutes.
    await bob.click(results, "Record an action")
    outcome = await bob.submit(
        {"What will we do?": "Ask why <value> is split", "Who will do it?": ALICE}
    )
    assert outcome.outcome == "close", bob.view and bob.view.errors
    await bob.run_command("/minutes", channel=CHANNEL)
    await bob.click(last_note(world, BOB), "Show minutes", near="Community health check")
    shown = last_note(world, BOB)
    assert "Actions recorded after it:" in shown.readable_text
    assert "Ask why &lt;value&gt; is split" in shown.all_text and "<value>" not in shown.all_text
    assert "@alice" in shown.readable_text and "@bob" not in shown.readable_text

    # Found from another channel by a question's words, with its score.
    await alice.run_command("/minutes", "learning", channel=Seed.LEADS)
    found = last_note(world, ALICE, Seed.LEADS).readable_text
    assert "Community health check* · Health check in #practice · Mon 23 Nov 2026" in found
    assert "Run by @alice · 3 people answered" in found
    assert "Question: *Learning* · score 100/100" in found
    await alice.run_command("/minutes", "split value", channel=Seed.LEADS)
    found = last_note(world, ALICE, Seed.LEADS).readable_text
    assert "Action: Ask why <value> is split · @alice" in found

    # Exported with the channel's other minutes.
    await alice.run_command("/minutes", "export", channel=CHANNEL)
    (file,) = world.slack.state.files.values()
    content = file.text
    assert "## Community health check · Health check · Mon 23 Nov 2026" in content
    assert "- Run by @alice" in content
    assert "- Answers: 3 people answered" in content
    assert "- **Value to members**: score 50/100, spread 41/50 · Going well 1, Mixed 1" in content
    assert "- **Learning**: score 100/100, spread 0/50" in content
    assert "### Actions" in content and "Ask why \\<value\\> is split — @alice" in content
    assert "@bob" not in content and "@carol" not in content
    [row] = await stored(world)
    assert row.posted_ts == results.ts  # the Home links to the results message
    assert not world.slack.violations, world.slack.violations


async def test_closed_on_time_by_two_processes_kept_once_and_back_filled(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        world = World(slack, one, clock, empty_database)
        await answer_a_check(world)
        clock.advance(timedelta(days=2))  # the default two days: it closes on time
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
        assert len(results_posts(world)) == 1
        [row] = await stored(world)
        assert (row.source, row.facilitator_id) == ("health_check", ALICE)
        body = row.body

        # As if it had closed before hearth kept minutes: the scheduler archives it, once.
        async with one.deps.sessionmaker.begin() as session:
            await session.execute(delete(Minutes))
        planned = [j.key for j in await two.scheduler.planned()]
        assert [k for k in planned if k.startswith("health_check.archive:")] == [
            f"health_check.archive:{row.source_id}"
        ]
        clock.advance(timedelta(minutes=1))
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        [again] = await stored(world)
        assert again.source_id == row.source_id and again.body == body
        assert not [j for j in await one.scheduler.planned() if "archive" in j.key]

        await world.slack.user(BOB).run_command("/minutes", channel=CHANNEL)
        listing = last_note(world, BOB)
        assert listing.buttons == ["Show minutes"]
        assert "run by @alice" in listing.readable_text
        await world.slack.user(BOB).click(listing, "Show minutes")
        assert "Learning*: score *100*/100" in last_note(world, BOB).readable_text
