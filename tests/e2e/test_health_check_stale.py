"""/health-check end to end: the schedule, help, places hearth can't work, and stale clicks,
each explained privately and changing nothing."""

from __future__ import annotations

from bot.emulator.seed import Seed
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from bot.state import AnswerRef
from tests.e2e.conftest import World
from tests.e2e.health_check_steps import (
    TITLES,
    answer,
    health_check,
    last_note,
    latest_check,
    poll,
    polls,
    results_posts,
)
from tests.e2e.helpers import CHANNEL
from tests.e2e.test_health_check import stored_setup


async def respondents(world: World, check_id: int) -> int:
    async with world.hearth.deps.sessionmaker() as session:
        return await hc.respondent_count(session, world.slack.state.team.id, check_id)


async def save_default_set_up(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.ALICE)
    result = await alice.submit()
    assert result.outcome == "close", alice.view and alice.view.errors


async def test_schedule_show_edit_and_delete(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.BOB, "schedule")
    assert "no health checks in this channel yet" in last_note(world, Seed.BOB).readable_text

    await save_default_set_up(world)  # a new set-up suggests the 1st Monday of each month
    await health_check(world, Seed.ALICE, "schedule")
    shown = last_note(world, Seed.ALICE)
    assert "The 1st Monday of each month at 10:00 (Europe/London)" in shown.readable_text
    assert "2 days" in shown.readable_text and "anonymous" in shown.readable_text
    assert {"Edit schedule", "Delete schedule", "Run a check now"} <= set(shown.buttons)

    await health_check(world, Seed.BOB, "schedule")
    assert not last_note(world, Seed.BOB).buttons
    assert "Only the community's leads (@alice)" in last_note(world, Seed.BOB).readable_text

    await alice.click(shown, "Edit schedule")
    assert alice.view is not None and alice.view.title == "Health check schedule"
    result = await alice.submit(
        {
            "How often": "Every week, or every few weeks",
            "Every how many weeks": "2",
            "Day of the week": "Tuesday",
            "Time zone": "america/new york",
        }
    )
    assert result.outcome == "close", alice.view and alice.view.errors
    cadence = (await stored_setup(world)).cadence
    assert cadence is not None and cadence.frequency == Frequency.WEEKLY
    assert (cadence.every_weeks, cadence.weekday, cadence.time_zone) == (2, 1, "America/New_York")
    assert "every 2 weeks on Tuesday" in last_note(world, Seed.ALICE).readable_text

    await health_check(world, Seed.ALICE, "schedule")
    shown = last_note(world, Seed.ALICE)
    await alice.click(shown, "Delete schedule")
    assert "schedule is deleted" in last_note(world, Seed.ALICE).readable_text
    assert (await stored_setup(world)).cadence is None
    # The same button again, from the message as it was: nothing left to delete.
    await alice.click(shown, "Delete schedule", as_seen=True)
    assert "aren't on a schedule" in last_note(world, Seed.ALICE).readable_text

    # With no schedule, the set-up now suggests running checks by hand.
    await health_check(world, Seed.ALICE)
    assert alice.view is not None
    chosen = alice.view.values["health_check.frequency"]["health_check.frequency.input"]
    assert chosen["selected_option"]["value"] == "manual"
    await alice.close_view()


async def test_run_now_from_the_schedule_and_only_one_at_a_time(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await save_default_set_up(world)
    await health_check(world, Seed.ALICE, "schedule")
    await alice.click(last_note(world, Seed.ALICE), "Run a check now")
    assert len(polls(world)) == 1
    assert "is open in #practice" in last_note(world, Seed.ALICE).readable_text
    await health_check(world, Seed.ALICE, "now")
    assert "already open in this channel" in last_note(world, Seed.ALICE).readable_text
    assert len(polls(world)) == 1


async def test_help_and_places_hearth_cannot_work(world: World) -> None:
    await health_check(world, Seed.ALICE, "help", channel=Seed.ALICE_DM)
    assert "How health checks work" in last_note(world, Seed.ALICE, Seed.ALICE_DM).readable_text
    await health_check(world, Seed.ALICE, "now", channel=Seed.ALICE_DM)
    note = last_note(world, Seed.ALICE, Seed.ALICE_DM).readable_text
    assert "Run `/health-check` in your community's channel" in note
    await health_check(world, Seed.ALICE, channel=Seed.RANDOM)
    assert "/invite @hearth" in last_note(world, Seed.ALICE, Seed.RANDOM).readable_text
    assert world.slack.user(Seed.ALICE).view is None
    await health_check(world, Seed.ALICE, "sometimes")
    assert "I don't know `/health-check sometimes`" in last_note(world, Seed.ALICE).readable_text


async def test_clicks_on_a_closed_check_change_nothing(world: World) -> None:
    await health_check(world, Seed.ALICE, "now")
    for user in (Seed.ALICE, Seed.BOB, Seed.CAROL):
        await answer(world, user, "value", "green")
    as_posted = poll(world)
    await world.slack.user(Seed.ALICE).click(as_posted, "Close now and show results")
    check = await latest_check(world)
    before = results_posts(world)[-1].readable_text

    bob = world.slack.user(Seed.BOB)
    await bob.click(as_posted, "health_check.answer.red", near=TITLES["value"], as_seen=True)
    assert (
        "has closed, so answers can't be given or changed"
        in last_note(world, Seed.BOB).readable_text
    )
    await world.slack.user(Seed.ALICE).click(as_posted, "Close now and show results", as_seen=True)
    assert "already closed" in last_note(world, Seed.ALICE).readable_text
    assert await respondents(world, check.id) == 3
    assert len(results_posts(world)) == 1 and results_posts(world)[-1].readable_text == before


async def answer_button(world: World, ref: AnswerRef) -> None:
    """A poll button as an older poll drew it (a question since removed, an old option)."""
    await world.hearth.deps.client.chat_postMessage(
        channel=CHANNEL,
        text="An older poll",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "An older poll"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Old answer"},
                        "action_id": "health_check.answer.old",
                        "value": ref.encode(),
                    }
                ],
            },
        ],
    )


async def test_removed_questions_and_unknown_answers_are_refused(world: World) -> None:
    await health_check(world, Seed.ALICE, "now")
    check = await latest_check(world)
    bob = world.slack.user(Seed.BOB)

    await answer_button(world, AnswerRef(k=check.id, q="gone", o="green"))
    await bob.click(world.slack.user(Seed.BOB).last_message(CHANNEL), "Old answer")
    assert "isn't part of this health check" in last_note(world, Seed.BOB).readable_text

    await answer_button(world, AnswerRef(k=check.id, q="value", o="purple"))
    await bob.click(world.slack.user(Seed.BOB).last_message(CHANNEL), "Old answer")
    assert "isn't one of this check's choices" in last_note(world, Seed.BOB).readable_text

    await answer_button(world, AnswerRef(k=check.id + 100, q="value", o="green"))
    await bob.click(world.slack.user(Seed.BOB).last_message(CHANNEL), "Old answer")
    assert "can't find that health check" in last_note(world, Seed.BOB).readable_text
    assert await respondents(world, check.id) == 0
    assert "Nobody has answered yet" in poll(world).readable_text


async def test_a_question_removed_while_the_set_up_is_open(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await health_check(world, Seed.ALICE)
    # Carol (a workspace admin) removes "Fun" from elsewhere in the meantime.
    async with world.hearth.deps.sessionmaker.begin() as session:
        team = world.slack.state.team.id
        community = await community_service.find_community(session, team, CHANNEL)
        assert community is not None

        async def admin() -> bool:
            return True

        carol = Actor(team, Seed.CAROL, is_admin=admin)
        await hc.remove_question(session, carol, community, "fun", world.clock.now())
    await alice.choose(None, "Edit", near=TITLES["fun"])
    assert "isn't in the set any more" in last_note(world, Seed.ALICE).readable_text
    assert alice.view is not None and alice.view.title == "Health check set-up"
    await alice.choose(None, "Remove", near=TITLES["purpose"])  # still works, and redraws
    assert alice.view is not None and "Fun" not in alice.view.readable_text
    assert "Purpose" not in alice.view.readable_text
