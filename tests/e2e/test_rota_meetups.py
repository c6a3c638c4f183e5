"""The meetup schedule and single meetups, end to end: showing, editing and deleting the
schedule (an edit keeps the coming meetups that still fit it, with what people planned),
field errors, cancelling and moving one meetup, and who may do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.ids import RotaAction
from bot.services import community as community_service
from bot.services import rota as rota_service
from bot.state import CommunityRef, MeetupRef
from models.meetup import ChatMeetup
from models.rota import Meetup, MeetupSchedule
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL
from tests.e2e.rota_steps import (
    channel_posts,
    dms,
    last_note,
    overview,
    rota,
    set_schedule,
    set_up,
)


async def schedules(world: World) -> int:
    async with world.hearth.deps.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(MeetupSchedule)) or 0


async def refs(world: World) -> tuple[str, str]:
    """A CommunityRef and the next meetup's MeetupRef, as buttons carry them."""
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.find_community(s, world.slack.state.team.id, CHANNEL)
        assert community is not None
        turn = (await rota_service.plan(s, community, world.clock.now()))[0]
        return (
            CommunityRef(c=community.id).encode(),
            MeetupRef(c=community.id, m=turn.meetup_id).encode(),
        )


async def test_schedule_is_shown_edited_and_deleted(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice = world.slack.user(Seed.ALICE)
    await rota(world, Seed.ALICE, "schedule")
    shown = last_note(world, Seed.ALICE)
    assert "*When:* Every Tuesday at 10:00 (Europe/London)" in shown.readable_text
    assert "*Reminder to the facilitator:* 2 days before" in shown.readable_text
    assert "*Announcement in the channel:* 1 hour before" in shown.readable_text
    assert shown.buttons == ["Edit schedule", "Delete schedule"]

    await alice.click(shown, "Edit schedule")
    assert alice.view is not None and alice.view.title == "Meetup schedule"
    assert alice.view.values["rota.weekday"]["rota.weekday.input"]["selected_option"]["value"] == (
        "1"
    )
    await alice.submit(
        {
            "How often": "Once a month, on a set weekday",
            "Which week of the month": "The 2nd week",
            "Day of the week": "Thursday",
            "Starts at": "18:30",
            "Time zone": "america/new york",
            "Length in minutes": "90",
            "Format": "Time-boxed chat in Slack",
            "Remind the facilitator": "1 day before",
        }
    )
    assert alice.view is None
    announced = channel_posts(world)[-1]
    assert "changed the meetup schedule" in announced
    assert "the 2nd Thursday of each month at 18:30 (America/New_York)" in announced
    assert "The 5 coming meetups no longer fit the new schedule and were removed." in announced
    # 18:30 in New York on Thursday 10 Dec 2026 is 23:30 UTC.
    seen = await overview(world, Seed.ALICE)
    assert "Thu 10 Dec 2026 23:30 UTC" in seen.readable_text
    assert "Thu 14 Jan 2027 23:30 UTC" in seen.readable_text
    assert "1 hour 30 min" not in seen.readable_text and "Time-boxed chat" in seen.readable_text

    await rota(world, Seed.ALICE, "schedule")
    await alice.click(last_note(world, Seed.ALICE), "Delete schedule")
    assert await schedules(world) == 0
    assert "deleted the meetup schedule" in channel_posts(world)[-1]
    seen = await overview(world, Seed.BOB)
    assert "There's no meetup schedule yet" in seen.readable_text
    assert "In the rota (2)" in seen.readable_text  # the rota itself is kept


async def test_schedule_form_field_errors_change_nothing(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await rota(world, Seed.ALICE, "schedule")
    await alice.submit({"Time zone": "Mars/Olympus_Mons"})
    assert alice.view is not None
    assert "I don't know the time zone “Mars/Olympus_Mons”" in (
        alice.view.error_for("Time zone") or ""
    )
    assert await schedules(world) == 0
    await alice.submit({"Time zone": "europe/paris"})
    assert alice.view is None
    async with world.hearth.deps.sessionmaker() as s:
        saved = await s.scalar(select(MeetupSchedule))
        assert saved is not None and saved.time_zone == "Europe/Paris"


async def test_only_leads_set_the_schedule(world: World) -> None:
    await rota(world, Seed.ALICE, "join")  # Alice sets the rota up, so she leads it
    bob = world.slack.user(Seed.BOB)
    await rota(world, Seed.BOB, "schedule")
    assert bob.view is None
    assert "Only the community's leads (@alice) can set the meetup schedule" in (
        last_note(world, Seed.BOB).readable_text
    )
    await set_schedule(world, Seed.ALICE)
    await rota(world, Seed.BOB, "schedule")
    shown = last_note(world, Seed.BOB)
    assert "Every Tuesday" in shown.readable_text and shown.buttons == []
    assert "Only the community's leads (@alice) can change the schedule" in shown.readable_text


async def test_cancel_and_move_one_meetup(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice = world.slack.user(Seed.ALICE)
    seen = await overview(world, Seed.ALICE)
    await alice.click(seen, "Cancel this meetup", near="Tue 1 Dec 2026")
    assert "cancelled the meetup on Tue 1 Dec 2026" in channel_posts(world)[-1]
    seen = last_note(world, Seed.ALICE)
    assert seen.readable_text.count("Tue 1 Dec 2026") == 1  # only in the note on top
    assert "Cancelled the meetup on Tue 1 Dec 2026" in seen.readable_text
    assert "Tue 29 Dec 2026" in seen.readable_text  # still five to come

    await alice.click(seen, "Move…", near="Tue 8 Dec 2026")
    assert alice.view is not None and alice.view.title == "Move a meetup"
    assert "New time (Europe/London)" in alice.view.inputs
    await alice.submit({"New day": "2026-11-20", "New time (Europe/London)": "18:00"})
    assert alice.view is not None
    assert "Pick a time in the future" in (alice.view.error_for("New day") or "")
    await alice.submit({"New day": "2026-12-09", "New time (Europe/London)": "18:00"})
    assert alice.view is None
    assert (
        "moved the meetup on Tue 8 Dec 2026 10:00 UTC to *Wed 9 Dec 2026 18:00 UTC*"
        in (channel_posts(world)[-1])
    )
    seen = await overview(world, Seed.BOB)
    assert "Wed 9 Dec 2026 18:00 UTC _(moved from its usual time)_" in seen.readable_text
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(MeetupSchedule)) == 1
        statuses = set(await s.scalars(select(Meetup.status)))
        assert statuses == {"planned", "cancelled"}


async def test_buttons_check_who_is_clicking(world: World) -> None:
    """A lead's buttons can end up in front of anyone (a forwarded or channel message): the
    click itself is checked."""
    await set_up(world, Seed.ALICE, Seed.BOB)
    community_ref, meetup_ref = await refs(world)
    await world.hearth.deps.client.chat_postMessage(
        channel=CHANNEL,
        text="Lead tools",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "action_id": action,
                        "value": value,
                    }
                    for label, action, value in (
                        ("Cancel", RotaAction.CANCEL_MEETUP, meetup_ref),
                        ("Move", RotaAction.MOVE_MEETUP, meetup_ref),
                        ("Delete", RotaAction.DELETE_SCHEDULE, community_ref),
                        ("Edit", RotaAction.EDIT_SCHEDULE, community_ref),
                    )
                ],
            }
        ],
    )
    bob = world.slack.user(Seed.BOB)
    tools = next(m for m in bob.messages(CHANNEL) if m.text == "Lead tools")
    for label in ("Cancel", "Move", "Delete", "Edit"):
        await bob.click(tools, label)
        assert "Only the community's leads (@alice)" in last_note(world, Seed.BOB).readable_text
        assert bob.view is None
    assert await schedules(world) == 1
    async with world.hearth.deps.sessionmaker() as s:
        assert set(await s.scalars(select(Meetup.status))) == {"planned"}
    # A stale or forged value is explained, not crashed on.
    await world.hearth.deps.client.chat_postMessage(
        channel=CHANNEL,
        text="Old button",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Join"},
                        "action_id": RotaAction.JOIN,
                        "value": "not json",
                    }
                ],
            }
        ],
    )
    old = next(m for m in bob.messages(CHANNEL) if m.text == "Old button")
    await bob.click(old, "Join")
    assert "older version of hearth" in last_note(world, Seed.BOB).readable_text


# --- editing the schedule keeps what people planned -------------------------------------------


async def edit_schedule(world: World, **fields: str) -> str:
    """Alice edits the schedule from `/rota schedule`; returns what the channel is told."""
    alice = world.slack.user(Seed.ALICE)
    await rota(world, Seed.ALICE, "schedule")
    await alice.click(last_note(world, Seed.ALICE), "Edit schedule")
    result = await alice.submit(fields)
    assert result.outcome == "close", alice.view and alice.view.errors
    await world.advance(timedelta(0))
    return channel_posts(world)[-1]


def reminders_for(world: World, user_id: str, day: str) -> list[SeenMessage]:
    return [
        m
        for m in dms(world, user_id)
        if "Your turn to facilitate" in m.all_text and day in m.readable_text
    ]


async def test_a_new_reminder_time_keeps_the_confirmation_and_reminds_once(
    world: World,
) -> None:
    await set_up(world, Seed.BOB, Seed.CAROL)  # Alice leads; Bob's turn comes first
    await world.advance(timedelta(0))  # Tuesday's reminder was due on Sunday: sent now
    [reminder] = reminders_for(world, Seed.BOB, "Tue 24 Nov 2026")
    await world.slack.user(Seed.BOB).click(reminder, "I'll facilitate")

    told = await edit_schedule(world, **{"Remind the facilitator": "1 day before"})
    assert "changed the meetup schedule" in told and "no longer fit" not in told
    seen = await overview(world, Seed.BOB)
    assert "@bob ✓ confirmed" in seen.readable_text

    # Bob was reminded already: not again, though the new reminder time has passed too.
    await world.advance(timedelta(hours=23))  # Tuesday 09:00, the announcement
    assert len(reminders_for(world, Seed.BOB, "Tue 24 Nov 2026")) == 1
    announced = channel_posts(world)[-1]
    assert "Meetup today at" in announced and "@bob is facilitating" in announced
    assert not [m for m in dms(world, Seed.CAROL) if "step in" in m.all_text]

    # Next week's reminder (Carol's) follows the new time: a day ahead, not two.
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    await world.advance(monday - timedelta(minutes=1) - world.clock.now())
    assert reminders_for(world, Seed.CAROL, "Tue 1 Dec 2026") == []
    await world.advance(timedelta(minutes=1))
    assert len(reminders_for(world, Seed.CAROL, "Tue 1 Dec 2026")) == 1
    assert len(reminders_for(world, Seed.BOB, "Tue 24 Nov 2026")) == 1
    assert not world.slack.violations


async def test_a_longer_chat_keeps_its_prompts_and_the_swap_asked_for(world: World) -> None:
    await set_schedule(world, **{"Format": "Time-boxed chat in Slack", "Length in minutes": "30"})
    for person in (Seed.BOB, Seed.CAROL):
        await rota(world, person, "join")
    await world.advance(timedelta(0))
    bob = world.slack.user(Seed.BOB)
    [reminder] = reminders_for(world, Seed.BOB, "Tue 24 Nov 2026")
    await bob.click(reminder, "Choose the prompts")
    result = await bob.submit({"Prompts": "What shipped?\nWhat's stuck?"})
    assert result.outcome == "close", bob.view and bob.view.errors
    await rota(world, Seed.BOB, "swap @carol")
    [request] = [m for m in dms(world, Seed.CAROL) if "asks if you could facilitate" in m.all_text]
    dms_before = {user: len(dms(world, user)) for user in (Seed.BOB, Seed.CAROL)}

    told = await edit_schedule(
        world, **{"Length in minutes": "45", "Remind the facilitator": "1 day before"}
    )
    assert "for 45 min" in told and "no longer fit" not in told
    # Nothing was called off, and nobody was reminded again.
    assert {user: len(dms(world, user)) for user in dms_before} == dms_before

    carol = world.slack.user(Seed.CAROL)
    await carol.click(request, "Accept")
    assert "Good news: @carol accepted your swap" in dms(world, Seed.BOB)[-1].readable_text

    # The meetup starts as a chat at its time, with Carol, for 45 minutes, with Bob's prompts.
    await world.advance(datetime(2026, 11, 24, 10, 0, tzinfo=UTC) - world.clock.now())
    [opening] = [p for p in channel_posts(world) if p.startswith("Chat meetup\n")]
    assert "Facilitated by @carol" in opening and "45 min" in opening
    assert any(p.startswith("*Prompt 1 of 2:* What shipped?") for p in channel_posts(world))
    async with world.hearth.deps.sessionmaker() as s:
        chat = await s.scalar(select(ChatMeetup))
        meetup = await s.scalar(select(Meetup).where(Meetup.facilitator_id == Seed.CAROL))
    assert chat is not None and meetup is not None and chat.rota_meetup_id == meetup.id
    assert chat.length_minutes == 45


async def test_meetups_that_no_longer_fit_are_removed_and_the_lead_is_told(
    world: World,
) -> None:
    await set_up(world, Seed.BOB, Seed.CAROL)
    await world.advance(timedelta(0))
    [reminder] = reminders_for(world, Seed.BOB, "Tue 24 Nov 2026")
    await world.slack.user(Seed.BOB).click(reminder, "I'll facilitate")

    # Every other week: 1 and 15 December go; the others stay as they were.
    told = await edit_schedule(world, **{"Every how many weeks": "2"})
    assert (
        "2 coming meetups no longer fit the new schedule and were removed; confirmations for "
        "the others are kept." in told
    )
    seen = await overview(world, Seed.ALICE)
    assert "@bob ✓ confirmed" in seen.readable_text
    assert "Tue 1 Dec 2026" not in seen.readable_text
    assert "Tue 15 Dec 2026" not in seen.readable_text
    assert "Tue 8 Dec 2026" in seen.readable_text and "Tue 5 Jan 2027" in seen.readable_text

    # Thursdays instead: none of the coming meetups fit.
    told = await edit_schedule(world, **{"Day of the week": "Thursday"})
    assert "The 5 coming meetups no longer fit the new schedule and were removed." in told
    assert "confirmations" not in told
    seen = await overview(world, Seed.ALICE)
    assert "Thu 26 Nov 2026" in seen.readable_text and "Tue" not in seen.readable_text
    assert "✓ confirmed" not in seen.readable_text
