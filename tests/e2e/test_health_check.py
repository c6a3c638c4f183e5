"""Community health checks end to end, driven through Slack (the emulator) as people would:
set-up, a check, answers, closing early and results."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.emulator.actor import SlackUser
from bot.emulator.seed import Seed
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services.health_check_types import SetupView
from bot.services.recurrence import Frequency
from models.health_check import HealthCheckAnswer, HealthCheckSecret
from tests.e2e.conftest import World
from tests.e2e.health_check_steps import (
    TITLES,
    answer,
    health_check,
    last_note,
    latest_check,
    notes,
    poll,
    polls,
    results_posts,
    shared,
)
from tests.e2e.helpers import CHANNEL


def error_for(person: SlackUser, field: str) -> str:
    assert person.view is not None, "the modal closed"
    return person.view.error_for(field) or ""


async def stored_setup(world: World) -> SetupView:
    async with world.hearth.deps.sessionmaker() as session:
        community = await community_service.find_community(
            session, world.slack.state.team.id, CHANNEL
        )
        assert community is not None
        return await hc.setup_view(session, community)


async def test_set_up_questions_scale_and_schedule_in_the_modal(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.ALICE)
    assert alice.view is not None and alice.view.title == "Health check set-up"
    # The default questions, and Alice's own time zone from Slack.
    for title in TITLES.values():
        assert alice.view.has_text(title)
    assert alice.view.values["health_check.time_zone"]["health_check.time_zone.input"]["value"] == (
        "Europe/London"
    )

    # Edit a question: its overflow pushes a question form; saving redraws the list.
    await alice.choose(None, "Edit", near=TITLES["value"])
    assert alice.view is not None and alice.view.title == "Edit question"
    assert alice.view.values["health_check.title"]["health_check.title.input"]["value"] == (
        "Value to members"
    )
    result = await alice.submit({"Question": "Value to us"})
    assert result.outcome == "close"
    assert alice.view is not None and alice.view.title == "Health check set-up"
    assert alice.view.has_text("1. Value to us")

    # Add one, remove one, move one.
    await alice.click(None, "Add a question")
    assert alice.view is not None and alice.view.title == "Add a question"
    await alice.submit(
        {
            "Question": "Tools & <practices>",
            "What it looks like at its best": "We share tools that work.",
        }
    )
    assert alice.view is not None and alice.view.has_text("9. Tools & <practices>")
    await alice.choose(None, "Remove", near=TITLES["fun"])
    assert alice.view is not None and not alice.view.has_text("Fun")
    await alice.choose(None, "Move up", near="8. Tools")
    assert alice.view is not None and alice.view.has_text("7. Tools")

    # The rest is saved with the modal: labels, a monthly schedule, settings.
    result = await alice.submit(
        {
            "health_check.scale.1": "So-so",
            "How often": "Once a month, on a set weekday",
            "Which week of the month": "The 1st week",
            "Day of the week": "Monday",
            "Starts at": "09:30",
            "Each check stays open for": "3 days",
            "Answers are": "Named: answers are kept with people's names",
            "Remind people who haven't answered": "Twice",
            "Show results once at least this many answered": "4",
        }
    )
    assert result.outcome == "close", alice.view and alice.view.errors
    saved = await stored_setup(world)
    assert [q.title for q in saved.questions] == [
        "Value to us",
        "Learning",
        "Sharing",
        "Support and safety",
        "Participation",
        "Leadership load",
        "Tools & <practices>",
        "Purpose",
    ]
    assert [o.label for o in saved.scale] == ["Going well", "So-so", "Needs attention"]
    assert saved.cadence is not None and saved.cadence.frequency == Frequency.MONTHLY
    assert saved.cadence.time_zone == "Europe/London" and saved.cadence.week_of_month == 1
    assert (saved.open_hours, saved.anonymous, saved.reminders, saved.min_answers) == (
        72,
        False,
        2,
        4,
    )
    assert "Saved the health check set-up" in last_note(world, Seed.ALICE).readable_text

    # The next check asks exactly that, and says names are kept.
    await health_check(world, Seed.ALICE, "now")
    seen = poll(world)
    assert "Value to us" in seen.readable_text and "Fun" not in seen.readable_text
    assert "Tools &amp; &lt;practices&gt;" in seen.all_text  # escaped
    assert "So-so" in " ".join(seen.buttons)
    assert "not anonymous" in seen.readable_text


async def test_bad_input_gets_field_errors_and_changes_nothing(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.ALICE)
    before = await stored_setup(world)

    result = await alice.submit({"Show results once at least this many answered": "2"})
    assert result.outcome == "errors"
    assert "at least 3 answers" in error_for(alice, "health_check.min_answers")

    result = await alice.submit(
        {"Show results once at least this many answered": "3", "Time zone": "Mars/Olympus"}
    )
    assert result.outcome == "errors"
    assert "Mars/Olympus" in error_for(alice, "Time zone")

    result = await alice.submit(
        {
            "Time zone": "europe/paris",
            "health_check.scale.1": "Going well",
        }
    )
    assert result.outcome == "errors"
    assert "both called" in error_for(alice, "health_check.scale.0")

    result = await alice.submit(
        {
            "health_check.scale.1": "Mixed",
            "How often": "Every week, or every few weeks",
            "Every how many weeks": "1",
            "Each check stays open for": "14 days",
        }
    )
    assert result.outcome == "errors"
    assert "at most 6 days" in error_for(alice, "health_check.open_hours")

    # A question with a title already taken.
    await alice.click(None, "Add a question")
    result = await alice.submit({"Question": "learning"})
    assert result.outcome == "errors"
    assert "already a question" in error_for(alice, "Question")
    await alice.close_view(all_views=True)

    after = await stored_setup(world)
    assert after == before  # nothing saved


async def test_only_leads_set_up_run_and_close(world: World) -> None:
    bob = world.slack.user(Seed.BOB)
    await health_check(world, Seed.ALICE, "now")  # Alice becomes the lead
    await health_check(world, Seed.BOB)
    assert bob.view is None
    assert "Only the community's leads (@alice)" in last_note(world, Seed.BOB).readable_text
    await health_check(world, Seed.BOB, "now")
    assert "Only the community's leads" in last_note(world, Seed.BOB).readable_text
    await bob.click(poll(world), "Close now and show results")
    assert "can close a health check early" in last_note(world, Seed.BOB).readable_text
    assert (await latest_check(world)).is_open
    assert not results_posts(world)
    assert len(polls(world)) == 1

    # Carol is a workspace admin, so she may act as a lead.
    await world.slack.user(Seed.CAROL).click(poll(world), "Close now and show results")
    assert not (await latest_check(world)).is_open
    assert results_posts(world)


async def test_answers_are_private_changeable_and_only_counted(world: World) -> None:
    await health_check(world, Seed.ALICE, "now")
    seen = poll(world)
    assert "Answers are anonymous: hearth stores them under a code made for this check" in (
        seen.readable_text.replace("*", "")
    )
    assert "not even database admins" in seen.readable_text
    assert "at least 3 people have answered" in seen.readable_text
    assert "Nobody has answered yet" in seen.readable_text

    await answer(world, Seed.BOB, "value", "green")
    note = last_note(world, Seed.BOB).readable_text
    assert "You answered :large_green_circle: Going well to *Value to members*" in note
    assert "7 questions to go" in note
    assert "1 person has answered" in poll(world).readable_text

    await answer(world, Seed.BOB, "value", "red")
    note = last_note(world, Seed.BOB).readable_text
    assert "Changed your answer to *Value to members* from" in note
    assert "1 person has answered" in poll(world).readable_text  # still one person

    await answer(world, Seed.CAROL, "learning", "amber")
    await answer(world, Seed.ALICE, "value", "green")
    assert "3 people have answered" in poll(world).readable_text
    assert poll(world).edited

    # Receipts are only for the person who answered; nothing shared tells who chose what.
    assert not any("Going well to" in n or "Changed your" in n for n in notes(world, Seed.CAROL))
    assert not any("Mixed to" in n for n in notes(world, Seed.BOB))
    for message in shared(world):
        assert "@bob" not in message.readable_text and "@carol" not in message.readable_text
        assert "answered :" not in message.readable_text
    assert len(polls(world)) == 1  # updated in place, never reposted


async def test_results_distribution_score_order_and_response_rate(world: World) -> None:
    world.slack.state.channels[CHANNEL].members.add(Seed.DAVE)  # in the channel, doesn't answer
    await health_check(world, Seed.ALICE, "now")
    answers = {
        Seed.ALICE: {"value": "green", "learning": "green", "sharing": "green"},
        Seed.BOB: {"value": "green", "learning": "red", "sharing": "amber"},
        Seed.CAROL: {"value": "green", "learning": "amber", "sharing": "amber"},
    }
    for user, mine in answers.items():
        for key, option in mine.items():
            await answer(world, user, key, option)
    await world.slack.user(Seed.ALICE).click(poll(world), "Close now and show results")

    text = results_posts(world)[-1].readable_text
    assert "3 people answered, 75% of the channel's 4 members" in text
    assert "closed early by @alice" in text
    lines = text.splitlines()
    learning = next(i for i, line in enumerate(lines) if line.startswith("*Learning*"))
    sharing = next(i for i, line in enumerate(lines) if line.startswith("*Sharing*"))
    value = next(i for i, line in enumerate(lines) if line.startswith("*Value to members*"))
    assert learning < sharing < value  # most disagreement first
    assert "score *50*/100" in lines[learning] and "views are split" in lines[learning]
    assert (
        "Going well *1* · :large_yellow_circle: Mixed *1* · :red_circle: Needs attention *1*"
        in (lines[learning + 1])
    )
    assert "score *67*/100" in lines[sharing]
    assert "score *100*/100" in lines[value] and "broad agreement" in lines[value]
    assert "Going well *3*" in lines[value + 1]

    # Closing destroyed the check's key and the individual answers: only totals remain.
    async with world.hearth.deps.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(HealthCheckAnswer)) == 0
        assert await session.scalar(select(func.count()).select_from(HealthCheckSecret)) == 0

    # The poll is redrawn as closed, without buttons.
    closed = poll(world)
    assert "closed early by @alice" in closed.readable_text
    assert not closed.buttons


async def test_below_the_minimum_only_the_count_is_shown(world: World) -> None:
    await health_check(world, Seed.ALICE, "now")
    await answer(world, Seed.BOB, "value", "red")
    await answer(world, Seed.CAROL, "value", "green")
    await world.slack.user(Seed.ALICE).click(poll(world), "Close now and show results")
    text = results_posts(world)[-1].readable_text
    assert "2 people answered" in text
    assert "fewer than the 3 answers needed" in text
    assert "score" not in text and "Going well" not in text


async def test_results_and_trend_over_three_checks(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.ALICE, "results")
    assert "No health check has closed" in last_note(world, Seed.ALICE).readable_text
    rounds = [
        {"value": ["amber", "amber", "amber"], "fun": ["green", "green", "green"]},
        {"value": ["green", "amber", "amber"], "fun": ["green", "green", "green"]},
        {"value": ["green", "green", "green"], "fun": ["red", "red", "amber"]},
    ]
    for round_ in rounds:
        await health_check(world, Seed.ALICE, "now")
        for key, options in round_.items():
            for user, option in zip((Seed.ALICE, Seed.BOB, Seed.CAROL), options, strict=True):
                await answer(world, user, key, option)
        await alice.click(poll(world), "Close now and show results")

    latest = results_posts(world)[-1].readable_text
    assert "↑ up from 67" in latest  # value: 50 → 67 → 100
    assert "↓ down from 100" in latest  # fun: 100 → 100 → 17
    second = results_posts(world)[-2].readable_text
    assert "→ level (100 last time)" in second  # fun stayed at 100
    assert "↑ up from 50" in second

    await health_check(world, Seed.BOB, "results")
    text = last_note(world, Seed.BOB).readable_text
    assert "Community health check: results" in text  # the latest results first
    assert "Trend over the last 3 checks" in text
    assert "`▅▆█` *Value to members*: 50 → 67 → 100" in text
    assert "`██▂` *Fun*: 100 → 100 → 17" in text
    assert "`···` *Learning*: – → – → –" in text  # never enough answers: no score
