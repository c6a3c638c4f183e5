"""The rota's timed side end to end: reminders with a hand-over pack, the announcement on the
day, asking someone to step in, the turn moving on, overload notices; across restarts, two
processes, daylight-saving changes, schedule changes and Slack having a bad day."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.server import SlackEmulator
from bot.ids import RotaAction
from bot.services import community as community_service
from bot.services import outbox, rota
from bot.services import rota_reminders as reminder_service
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from bot.services.scheduling import claim
from bot.state import MeetupRef
from models.lean_coffee import (
    LeanCoffeeSession,
    LeanCoffeeTakeaway,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.minutes import Minutes
from models.outbox import OutboxMessage
from models.rota import Meetup
from models.rota_reminders import RotaNotice
from tests.e2e.conftest import START, World, running_hearth

TEAM = "T0HEARTH"
CHANNEL = Seed.PRACTICE
ALICE, BOB, CAROL, DAVE = Seed.ALICE, Seed.BOB, Seed.CAROL, Seed.DAVE

# Thursdays at 18:00 London time; START is Monday 23 November 2026, 10:00 UTC (= London).
THURSDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=3,
    at=time(18, 0),
    time_zone="Europe/London",
    starts_on=date(2026, 11, 23),
)
FIRST = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
REMINDER = FIRST - timedelta(days=2)  # Tuesday 18:00
ANNOUNCEMENT = FIRST - timedelta(hours=1)
ENDS = FIRST + timedelta(hours=1)


async def set_up_rota(
    world: World,
    *,
    lead: str = ALICE,
    people: tuple[str, ...] = (ALICE, BOB, CAROL),
    schedule: rota.ScheduleInput = THURSDAYS,
) -> int:
    """A community in #practice with a meetup schedule and people in the rota, set up through
    the services as the /rota modal would."""
    now = world.clock.now()
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.community_for(s, Actor(TEAM, lead), CHANNEL, now)
        await rota.set_schedule(s, Actor(TEAM, lead), community, schedule, now)
        for i, person in enumerate(people):
            await rota.join(s, Actor(TEAM, person), community, now + timedelta(seconds=i))
        community_id = community.id
    await world.hearth.scheduler.changed()
    return community_id


async def advance_to(world: World, moment: datetime) -> None:
    await world.advance(moment - world.clock.now())


def reminders(slack: SlackEmulator, user: str) -> list[SeenMessage]:
    return [
        m for m in slack.user(user).dm() if m.from_bot and "Your turn to facilitate" in m.all_text
    ]


def step_in_asks(slack: SlackEmulator, user: str) -> list[SeenMessage]:
    return [m for m in slack.user(user).dm() if m.from_bot and "could you step in" in m.all_text]


def announcements(slack: SlackEmulator) -> list[SeenMessage]:
    return [
        m
        for m in slack.user(ALICE).messages(CHANNEL)
        if m.from_bot and "Meetup today at" in m.all_text
    ]


def overload_notes(slack: SlackEmulator, user: str) -> list[SeenMessage]:
    return [m for m in slack.user(user).dm() if m.from_bot and "far more" in m.text]


def button_value(message: SeenMessage, action_id: str) -> str:
    for block in message.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


def slack_posts(slack: SlackEmulator) -> list[str]:
    return [str(c.params.get("channel")) for c in slack.calls_to("chat.postMessage") if c.ok]


async def add_lean_coffee_history(world: World) -> None:
    """A past Lean Coffee in the channel: minutes, two actions and topics left over."""
    day = START - timedelta(days=7)
    async with world.hearth.deps.sessionmaker.begin() as s:
        lc = LeanCoffeeSession(
            team_id=TEAM,
            channel_id=CHANNEL,
            title="November <CoP> & friends",
            facilitator_id=CAROL,
            started_by_id=CAROL,
            votes_per_person=3,
            timebox_minutes=7,
            extension_minutes=[],
            status="ended",
            started_at=day,
            ended_at=day + timedelta(hours=1),
        )
        s.add(lc)
        await s.flush()
        discussed = LeanCoffeeTopic(
            session_id=lc.id,
            team_id=TEAM,
            proposer_id=BOB,
            title="Plain language",
            state="discussed",
            proposed_at=day,
        )
        waiting = [
            LeanCoffeeTopic(
                session_id=lc.id, team_id=TEAM, proposer_id=BOB, title=title, proposed_at=day
            )
            for title in ("Research ops", "Naming things")
        ]
        s.add_all([discussed, *waiting])
        await s.flush()
        s.add_all(
            LeanCoffeeVote(
                session_id=lc.id, topic_id=waiting[1].id, user_id=u, slot=1, voted_at=day
            )
            for u in (ALICE, BOB)
        )
        s.add(
            LeanCoffeeTakeaway(
                session_id=lc.id,
                topic_id=discussed.id,
                team_id=TEAM,
                author_id=CAROL,
                text="Draft the style guide",
                is_action=True,
                owner_id=BOB,
                due_date=date(2026, 12, 4),
                created_at=day,
            )
        )
        s.add(
            Minutes(
                team_id=TEAM,
                channel_id=CHANNEL,
                source="lean_coffee",
                source_id=lc.id,
                title=lc.title,
                held_on=day.date(),
                facilitator_id=CAROL,
                body={
                    "session_id": lc.id,
                    "channel_id": CHANNEL,
                    "title": lc.title,
                    "held_on": day.date().isoformat(),
                    "started_at": day.isoformat(),
                    "ended_at": (day + timedelta(hours=1)).isoformat(),
                    "facilitator_id": CAROL,
                    "participant_ids": [ALICE, BOB, CAROL],
                    "discussed": [
                        {
                            "title": "Plain language",
                            "votes": 3,
                            "seconds_spent": 420,
                            "takeaways": [
                                {"text": "Use short words", "author_id": CAROL},
                                {
                                    "text": "Draft the style guide",
                                    "author_id": CAROL,
                                    "is_action": True,
                                    "owner_id": BOB,
                                    "due_date": "2026-12-04",
                                },
                            ],
                        }
                    ],
                    "actions": [
                        {
                            "text": "Draft the style guide",
                            "topic_title": "Plain language",
                            "owner_id": BOB,
                            "due_date": "2026-12-04",
                        }
                    ],
                    "carried_over": ["Research ops", "Naming things"],
                },
                created_at=day,
            )
        )


# --- the whole week -----------------------------------------------------------------------


async def test_the_facilitator_is_reminded_the_channel_told_and_the_turn_moves_on(
    world: World,
) -> None:
    await add_lean_coffee_history(world)
    community_id = await set_up_rota(world)
    slack = world.slack

    await advance_to(world, REMINDER - timedelta(minutes=1))
    assert reminders(slack, ALICE) == []

    await advance_to(world, REMINDER)
    [reminder] = reminders(slack, ALICE)
    text = reminder.readable_text
    assert f"<!date^{int(FIRST.timestamp())}^" in reminder.all_text
    assert "Lean Coffee" in text and "#practice" in text
    assert reminder.buttons == [
        "I'll facilitate",
        "I can't make it",
        "Swap with someone",
        "Mark as done",  # the open action in the hand-over pack
    ]
    async with world.hearth.deps.sessionmaker() as s:
        first = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
        assert first is not None
    ref = MeetupRef(c=community_id, m=first.id).encode()
    for action in (RotaAction.CONFIRM, RotaAction.SKIP, RotaAction.SWAP):
        assert button_value(reminder, action) == ref
    # The hand-over pack: last minutes in short, open actions with owners, waiting topics.
    assert "November <CoP> & friends" in text
    assert "&lt;CoP&gt; &amp; friends" in reminder.all_text  # escaped as sent
    assert "1 topic discussed: “Plain language”" in text
    assert "2 takeaways, of which 1 action" in text
    assert "Draft the style guide (@bob, due Fri 4 Dec 2026" in text
    assert text.index("Naming things (2 votes)") < text.index("Research ops (0 votes)")
    assert reminders(slack, BOB) == [] and reminders(slack, CAROL) == []

    # On the day, an hour before: the channel hears who is facilitating; as Alice has not
    # confirmed, Bob (next in the rota) is asked to step in.
    await advance_to(world, ANNOUNCEMENT - timedelta(minutes=1))
    assert announcements(slack) == []
    await advance_to(world, ANNOUNCEMENT)
    [note] = announcements(slack)
    assert "@alice is down to facilitate but hasn't confirmed yet" in note.readable_text
    assert "asked @bob" in note.readable_text
    [ask] = step_in_asks(slack, BOB)
    assert ask.buttons == ["I'll step in"]
    assert button_value(ask, RotaAction.STEP_IN) == ref
    assert step_in_asks(slack, CAROL) == []

    # Afterwards the turn moves on: Alice facilitated, and next week's reminder goes to Bob.
    await advance_to(world, ENDS)
    async with world.hearth.deps.sessionmaker() as s:
        held = await s.get(Meetup, first.id)
        assert held is not None and (held.status, held.facilitator_id) == ("held", ALICE)
    await advance_to(world, REMINDER + timedelta(days=7))
    assert len(reminders(slack, BOB)) == 1
    assert len(reminders(slack, ALICE)) == 1
    assert not slack.violations


async def test_a_confirmed_facilitator_is_announced_and_nobody_is_asked_to_step_in(
    world: World,
) -> None:
    community_id = await set_up_rota(world)
    await advance_to(world, REMINDER)
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        meetup = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
        assert meetup is not None
        await rota.confirm(s, Actor(TEAM, ALICE), community, meetup.id, world.clock.now())
    await advance_to(world, ANNOUNCEMENT)
    [note] = announcements(world.slack)
    assert "@alice is facilitating" in note.readable_text
    assert "time-boxed" not in note.readable_text and "Lean Coffee" in note.readable_text
    assert step_in_asks(world.slack, BOB) == []


async def test_slack_statuses_pass_people_over_and_leads_hear_of_overload_once(
    world: World,
) -> None:
    # Carol leads; Bob and Dave are on holiday for the foreseeable future, so Alice facilitates
    # every week, far more than her share.
    world.slack.state.users[BOB].status_emoji = ":palm_tree:"
    world.slack.state.users[BOB].status_text = "Vacationing"
    world.slack.state.users[DAVE].status_text = "Out sick"
    world.slack.state.users[DAVE].status_emoji = ":face_with_thermometer:"
    await set_up_rota(world, lead=CAROL, people=(ALICE, BOB, DAVE))

    async def week(number: int) -> None:
        await advance_to(world, REMINDER + timedelta(days=7 * number))
        await advance_to(world, ENDS + timedelta(days=7 * number))

    for number in range(3):
        await week(number)
    assert len(reminders(world.slack, ALICE)) == 3
    assert reminders(world.slack, BOB) == reminders(world.slack, DAVE) == []
    [note] = overload_notes(world.slack, CAROL)
    assert "@alice has now facilitated 3 meetups in #practice" in note.readable_text
    assert overload_notes(world.slack, ALICE) == []

    # Still overloaded after a fourth week: the leads are not told again.
    await week(3)
    assert len(reminders(world.slack, ALICE)) == 4
    assert len(overload_notes(world.slack, CAROL)) == 1

    # A status that ends before the meetup does not count: Bob is back by then.
    world.slack.state.users[BOB].status_expiration = int((FIRST + timedelta(days=27)).timestamp())
    await advance_to(world, REMINDER + timedelta(days=28))
    assert len(reminders(world.slack, BOB)) == 1


# --- restarts and processes ---------------------------------------------------------------


async def test_a_reminder_that_came_due_while_hearth_was_down_is_sent_once_on_return(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        await set_up_rota(World(slack, first, clock, empty_database))
        await first.scheduler.run_due()
    assert reminders(slack, ALICE) == []

    clock.set(REMINDER + timedelta(hours=5))  # hearth is down when the reminder comes due

    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as second:
        await slack.wait_until(lambda: len(reminders(slack, ALICE)) == 1, within=10)
        await second.settle()
    async with running_hearth(slack, empty_database, clock, run_scheduler=True) as third:
        await asyncio.sleep(0.5)
        await third.settle()
    assert len(reminders(slack, ALICE)) == 1


async def test_what_is_too_late_on_return_is_skipped_and_logged(
    slack: SlackEmulator,
    empty_database: str,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_hearth(slack, empty_database, clock) as first:
        await set_up_rota(World(slack, first, clock, empty_database))
        await first.scheduler.run_due()

    # Down from before the reminder until the meetup is under way: the reminder and the
    # step-in ask are no use any more; the announcement still is, until the meetup ends.
    clock.set(FIRST + timedelta(minutes=20))
    caplog.set_level(logging.WARNING, logger="bot.jobs.rota")
    async with running_hearth(slack, empty_database, clock) as second:
        world = World(slack, second, clock, empty_database)
        await world.advance(timedelta(0))
        assert reminders(slack, ALICE) == [] and step_in_asks(slack, BOB) == []
        assert len(announcements(slack)) == 1
        assert sum("too late" in r.getMessage() for r in caplog.records) == 2
        async with second.deps.sessionmaker() as s:
            outcomes = dict((await s.execute(select(RotaNotice.kind, RotaNotice.outcome))).all())
        assert outcomes == {"reminder": "late", "step_in": "late", "announcement": "sent"}
        # After the meetup, the turn still moves on.
        await world.advance(timedelta(hours=1))
        async with second.deps.sessionmaker() as s:
            held = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
            assert held is not None and held.status == "held"


async def test_two_processes_sharing_the_database_remind_and_announce_once(
    slack: SlackEmulator, empty_database: str, clock: ManualClock
) -> None:
    async with (
        running_hearth(slack, empty_database, clock) as one,
        running_hearth(slack, empty_database, clock, serve=False) as two,
    ):
        await set_up_rota(World(slack, one, clock, empty_database))
        await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        for moment in (REMINDER, ANNOUNCEMENT, ENDS):
            clock.set(moment)
            await asyncio.gather(one.scheduler.run_due(), two.scheduler.run_due())
        await one.settle()
        await two.settle()
        async with one.deps.sessionmaker() as s:
            held = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
            assert held is not None and held.status == "held"
    assert len(reminders(slack, ALICE)) == 1
    assert len(announcements(slack)) == 1
    assert len(step_in_asks(slack, BOB)) == 1
    assert sorted(slack_posts(slack)) == sorted([ALICE, CHANNEL, BOB])


# --- daylight saving ------------------------------------------------------------------------


async def test_reminders_keep_local_time_across_the_october_clock_change(
    slack: SlackEmulator, empty_database: str
) -> None:
    # Mondays at 10:00 London. Clocks go back at 01:00 UTC on Sunday 25 October 2026.
    clock = ManualClock(datetime(2026, 10, 16, 12, 0, tzinfo=UTC))
    mondays = rota.ScheduleInput(
        frequency=Frequency.WEEKLY,
        weekday=0,
        at=time(10, 0),
        time_zone="Europe/London",
        starts_on=date(2026, 10, 1),
    )
    async with running_hearth(slack, empty_database, clock) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await set_up_rota(world, people=(ALICE, BOB), schedule=mondays)

        # Monday 19 October, 10:00 BST = 09:00 UTC: reminded Saturday 10:00 BST (09:00 UTC),
        # announced 09:00 BST (08:00 UTC).
        # Monday 26 October, 10:00 GMT = 10:00 UTC: reminded Saturday 24th at 10:00 BST
        # (09:00 UTC, before the change), announced 09:00 GMT (09:00 UTC).
        expected = [
            (datetime(2026, 10, 17, 9, 0, tzinfo=UTC), ALICE, "reminder"),
            (datetime(2026, 10, 19, 8, 0, tzinfo=UTC), CHANNEL, "announcement"),
            (datetime(2026, 10, 24, 9, 0, tzinfo=UTC), BOB, "reminder"),
            (datetime(2026, 10, 26, 9, 0, tzinfo=UTC), CHANNEL, "announcement"),
        ]
        for moment, where, kind in expected:
            sent = slack_posts(slack).count(where)
            await advance_to(world, moment - timedelta(minutes=1))
            assert slack_posts(slack).count(where) == sent, (kind, "early", moment)
            await advance_to(world, moment)
            assert slack_posts(slack).count(where) == sent + 1, (kind, "missing", moment)
        [bob_reminder] = reminders(slack, BOB)
        second = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
        assert f"<!date^{int(second.timestamp())}^" in bob_reminder.all_text


# --- schedule changes -----------------------------------------------------------------------


async def test_nothing_fires_from_a_deleted_schedule(world: World) -> None:
    community_id = await set_up_rota(world)
    await world.advance(timedelta(minutes=1))
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await rota.delete_schedule(s, Actor(TEAM, ALICE), community, world.clock.now())
    await world.hearth.scheduler.changed()
    await advance_to(world, ENDS + timedelta(days=30))
    assert slack_posts(world.slack) == []


async def test_a_changed_schedule_drops_what_was_planned_for_the_old_one(world: World) -> None:
    community_id = await set_up_rota(world)
    await world.advance(timedelta(minutes=1))
    stale = [j for j in await world.hearth.scheduler.planned() if j.key.startswith("rota.")]
    assert any(j.key.startswith("rota.reminder:") for j in stale)

    # Same day and time, but a time-boxed chat, with the reminder a day ahead instead of two.
    # (The meetups keep their rows, so only the schedule's revision tells the old timers from
    # the new.)
    changed = replace(THURSDAYS, format=rota.MeetupFormat.CHAT, reminder_minutes_before=24 * 60)
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await rota.set_schedule(s, Actor(TEAM, ALICE), community, changed, world.clock.now())
    await world.hearth.scheduler.changed()

    # Timers planned from the old revision that still go off do nothing…
    await advance_to(world, REMINDER)
    assert slack_posts(world.slack) == []
    for job in stale:
        await job.func(*job.args)
    assert slack_posts(world.slack) == []
    # …and the new revision's reminder goes out at its own time, once.
    await advance_to(world, FIRST - timedelta(days=1, minutes=1))
    assert reminders(world.slack, ALICE) == []
    await advance_to(world, FIRST - timedelta(days=1))
    [reminder] = reminders(world.slack, ALICE)
    assert "time-boxed chat" in reminder.readable_text
    await advance_to(world, ANNOUNCEMENT)
    assert len(reminders(world.slack, ALICE)) == 1


async def test_nothing_fires_for_meetups_a_changed_schedule_dropped(world: World) -> None:
    community_id = await set_up_rota(world)
    await world.advance(timedelta(minutes=1))
    stale = [j for j in await world.hearth.scheduler.planned() if j.key.startswith("rota.")]
    async with world.hearth.deps.sessionmaker() as s:
        dropped = set(await s.scalars(select(Meetup.id)))

    # Fridays instead: every Thursday meetup goes (on SQLite the new ones may even get their
    # ids), and what was planned for them does nothing, even if its timer still goes off.
    fridays = replace(THURSDAYS, weekday=4)
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        change = await rota.set_schedule(
            s, Actor(TEAM, ALICE), community, fridays, world.clock.now()
        )
        assert change.dropped == 5
    await world.hearth.scheduler.changed()
    async with world.hearth.deps.sessionmaker() as s:
        occurrences = set(await s.scalars(select(Meetup.occurrence)))
        assert await s.scalar(select(func.count()).select_from(RotaNotice)) == 0
    assert all(moment.weekday() == 4 for moment in occurrences)
    for job in stale:
        await job.func(*job.args)
    assert slack_posts(world.slack) == []
    await advance_to(world, ENDS)  # past the Thursday's reminder, announcement and end
    assert slack_posts(world.slack) == [ALICE]  # only Friday's reminder, two days ahead
    [reminder] = reminders(world.slack, ALICE)
    assert f"<!date^{int((FIRST + timedelta(days=1)).timestamp())}^" in reminder.all_text
    async with world.hearth.deps.sessionmaker() as s:
        assert dropped.isdisjoint(await s.scalars(select(Meetup.id).where(Meetup.status == "held")))


async def test_a_meetup_moved_to_the_new_schedules_time_is_not_reminded_again(
    world: World,
) -> None:
    community_id = await set_up_rota(world)
    friday = FIRST + timedelta(days=1)
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        first = (await rota.plan(s, community, world.clock.now()))[0]
        await rota.move_meetup(
            s, Actor(TEAM, ALICE), community, first.meetup_id, friday, world.clock.now()
        )
    await world.hearth.scheduler.changed()
    await advance_to(world, friday - timedelta(days=2))
    [reminder] = reminders(world.slack, ALICE)
    await world.slack.user(ALICE).click(reminder, "I'll facilitate")

    # Fridays from now on: the moved meetup is this week's Friday meetup, still confirmed,
    # and Alice, reminded already, is not reminded again.
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        fridays = replace(THURSDAYS, weekday=4)
        change = await rota.set_schedule(
            s, Actor(TEAM, ALICE), community, fridays, world.clock.now()
        )
        assert (change.dropped, change.kept) == (4, 1)
        turn = (await rota.plan(s, community, world.clock.now()))[0]
        assert (turn.meetup_id, turn.starts_at, turn.confirmed) == (first.meetup_id, friday, True)
    await world.hearth.scheduler.changed()
    await advance_to(world, friday - timedelta(hours=1))
    [note] = announcements(world.slack)
    assert "@alice is facilitating" in note.readable_text
    await advance_to(world, friday + timedelta(hours=1))
    assert len(reminders(world.slack, ALICE)) == 1


async def test_a_reminder_being_sent_as_the_schedule_changes_is_not_sent_again(
    world: World,
) -> None:
    community_id = await set_up_rota(world)
    await advance_to(world, REMINDER - timedelta(minutes=1))
    [job] = [
        j.args[1]
        for j in await world.hearth.scheduler.planned()
        if j.key.startswith("rota.reminder:") and j.args[1].starts_at == FIRST
    ]
    # Another process took it a moment ago (and is still owing it).
    async with world.hearth.deps.sessionmaker.begin() as s:
        assert await claim(s, job.claim_key, reminder_service.OWED_OCCURRENCE, world.clock.now())
        await reminder_service.open_notice(s, job, world.clock.now())

    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        later = replace(THURSDAYS, announce_minutes_before=30)
        await rota.set_schedule(s, Actor(TEAM, ALICE), community, later, world.clock.now())
    await world.hearth.scheduler.changed()
    await advance_to(world, REMINDER)
    assert reminders(world.slack, ALICE) == []


async def test_a_schedule_deleted_and_set_again_reminds_afresh(world: World) -> None:
    """The new meetups may get the old ones' ids (SQLite reuses them), at the same times and
    under the same revision: they are new meetups all the same, and reminded about."""
    community_id = await set_up_rota(world)
    await advance_to(world, REMINDER)
    assert len(reminders(world.slack, ALICE)) == 1
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await rota.delete_schedule(s, Actor(TEAM, ALICE), community, world.clock.now())
    await world.advance(timedelta(minutes=1))
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        change = await rota.set_schedule(
            s, Actor(TEAM, ALICE), community, THURSDAYS, world.clock.now()
        )
        assert change.schedule.revision == 1
    await world.hearth.scheduler.changed()
    await world.advance(timedelta(0))
    assert len(reminders(world.slack, ALICE)) == 2


# --- Slack failures -----------------------------------------------------------------------


async def test_a_rate_limit_delays_a_reminder_but_it_is_sent_once(world: World) -> None:
    await set_up_rota(world)
    world.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await advance_to(world, REMINDER)
    assert reminders(world.slack, ALICE) == []  # waiting, at least as long as Slack asked
    await world.advance(outbox.retry_delay(1))
    assert len(reminders(world.slack, ALICE)) == 1
    assert [c.status for c in world.slack.calls_to("chat.postMessage")] == [429, 200]


async def test_server_errors_delay_a_reminder_which_is_retried_and_sent_once(
    world: World,
) -> None:
    await set_up_rota(world)
    world.slack.fail_next("chat.postMessage", status=503)
    await advance_to(world, REMINDER)
    assert reminders(world.slack, ALICE) == []
    async with world.hearth.deps.sessionmaker() as s:
        notice = (await s.scalars(select(RotaNotice))).one()
        owed = (await s.scalars(select(OutboxMessage))).one()
        assert (notice.outcome, notice.sent_to) == ("owed", ALICE)
        assert (owed.channel, owed.state, owed.attempts) == (ALICE, "pending", 1)
    # Not again before the back-off…
    await world.advance(outbox.retry_delay(1) - timedelta(seconds=1))
    assert reminders(world.slack, ALICE) == []
    # …then once; Slack fails again (a 502 from a proxy), and the next try gets through.
    world.slack.fail_next("chat.postMessage", status=502)
    await world.advance(timedelta(seconds=1))
    assert reminders(world.slack, ALICE) == []
    await world.advance(outbox.retry_delay(2))
    assert len(reminders(world.slack, ALICE)) == 1
    await world.advance(timedelta(hours=1))
    assert len(reminders(world.slack, ALICE)) == 1
    [reminder] = reminders(world.slack, ALICE)
    async with world.hearth.deps.sessionmaker() as s:
        notice = (await s.scalars(select(RotaNotice))).one()
        assert (notice.outcome, notice.sent_to, notice.message_ts) == ("sent", ALICE, reminder.ts)
        owed = (await s.scalars(select(OutboxMessage))).one()
        assert (owed.state, owed.attempts) == ("sent", 3)
        count = await s.scalar(select(func.count()).select_from(RotaNotice))
        assert count == 1


# --- the buttons, with the /rota listeners ----------------------------------------------------


async def test_whoever_steps_in_from_the_dm_is_recorded_as_facilitator(world: World) -> None:
    await set_up_rota(world)
    await advance_to(world, ANNOUNCEMENT)
    [ask] = step_in_asks(world.slack, BOB)
    result = await world.slack.user(BOB).click(ask, "I'll step in")
    assert result.ok
    await advance_to(world, ENDS)
    async with world.hearth.deps.sessionmaker() as s:
        held = await s.scalar(select(Meetup).where(Meetup.starts_at == FIRST))
        assert held is not None and (held.status, held.facilitator_id) == ("held", BOB)
    # Bob facilitated, so Alice (who did not) is still first in line next week.
    await advance_to(world, REMINDER + timedelta(days=7))
    assert len(reminders(world.slack, ALICE)) == 2
    assert reminders(world.slack, BOB) == []
