"""What the rota's timed side finds due, against a real database: due times across
daylight-saving changes, current rows only, notices done once owed, the hand-over pack and
overloads."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import community as community_service
from bot.services import rota
from bot.services import rota_reminders as reminders
from bot.services.actor import Actor
from bot.services.recurrence import Frequency
from bot.services.rota_reminders import DueJob, JobKind, Outcome
from models.community import Community
from models.lean_coffee import (
    LeanCoffeeSession,
    LeanCoffeeTakeaway,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.minutes import Minutes
from models.rota import Meetup
from models.rota_reminders import RotaNotice, RotaOverload

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday
TEAM, CHANNEL = "T1", "C1"
LEAD = Actor(TEAM, "ULEAD")
PEOPLE = ("UA", "UB", "UC")
TUESDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    starts_on=date(2026, 11, 23),
)
FIRST = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

Maker = async_sessionmaker[AsyncSession]


async def setup(maker: Maker, people: tuple[str, ...] = PEOPLE) -> int:
    async with maker.begin() as s:
        community = await community_service.community_for(s, LEAD, CHANNEL, NOW)
        await rota.set_schedule(s, LEAD, community, TUESDAYS, NOW)
        for i, person in enumerate(people):
            await rota.join(s, Actor(TEAM, person), community, NOW + timedelta(seconds=i))
        return community.id


async def prepare(maker: Maker, now: datetime = NOW) -> None:
    async with maker.begin() as s:
        for prep in await reminders.meetups_to_prepare(s, now):
            community = await s.get(Community, prep.community_id)
            assert community is not None
            await rota.upcoming_meetups(s, community, min(now, prep.due_at))


async def jobs_for(maker: Maker, meetup_starts: datetime) -> dict[JobKind, DueJob]:
    async with maker() as s:
        return {j.kind: j for j in await reminders.due_jobs(s) if j.starts_at == meetup_starts}


# --- when -------------------------------------------------------------------------------


def test_whole_days_before_keep_the_local_time_across_the_october_change() -> None:
    # Monday 26 October 2026, 10:00 GMT; the clocks went back early on Sunday 25th.
    meetup = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    two_days = reminders.before(meetup, 2 * 24 * 60, "Europe/London")
    assert two_days == datetime(2026, 10, 24, 9, 0, tzinfo=UTC)  # Saturday 10:00 BST
    # An hour before is an hour of real time.
    assert reminders.before(meetup, 60, "Europe/London") == meetup - timedelta(hours=1)


def test_whole_days_before_keep_the_local_time_across_the_march_change() -> None:
    # Monday 15 March 2027, 10:00 EDT (14:00 UTC); clocks went forward on Sunday 14th.
    meetup = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
    assert reminders.before(meetup, 2 * 24 * 60, "America/New_York") == datetime(
        2027, 3, 13, 15, 0, tzinfo=UTC
    )  # Saturday 10:00 EST
    # A day and a half: Sunday 10:00 EDT, less twelve hours of real time.
    assert reminders.before(meetup, 36 * 60, "America/New_York") == datetime(
        2027, 3, 14, 2, 0, tzinfo=UTC
    )


def test_late_messages_have_a_grace_window_that_suits_them() -> None:
    start = FIRST
    assert reminders.deadline(JobKind.REMINDER, start, 60) == start
    assert reminders.deadline(JobKind.STEP_IN, start, 60) == start
    assert reminders.deadline(JobKind.ANNOUNCEMENT, start, 90) == start + timedelta(minutes=90)
    assert reminders.deadline(JobKind.HELD, start, 60) is None


# --- what is due -------------------------------------------------------------------------


async def test_a_new_schedule_is_prepared_at_once_and_then_plans_every_message(
    sessionmaker: Maker,
) -> None:
    await setup(sessionmaker)
    async with sessionmaker() as s:
        [prep] = await reminders.meetups_to_prepare(s, NOW)
        assert prep.due_at == NOW
        assert await reminders.due_jobs(s) == []
    await prepare(sessionmaker)
    async with sessionmaker() as s:
        assert await reminders.meetups_to_prepare(s, NOW) == []
    jobs = await jobs_for(sessionmaker, FIRST)
    assert {k: j.due_at for k, j in jobs.items()} == {
        # The reminder came due on Sunday: still worth sending, so it is due (overdue).
        JobKind.REMINDER: FIRST - timedelta(days=2),
        JobKind.ANNOUNCEMENT: FIRST - timedelta(hours=1),
        JobKind.STEP_IN: FIRST - timedelta(hours=1),
        JobKind.HELD: FIRST + timedelta(hours=1),
    }
    assert {j.revision for j in jobs.values()} == {1}
    reminder = jobs[JobKind.REMINDER]
    async with sessionmaker() as s:
        meetup = await s.get(Meetup, reminder.meetup_id)
        assert meetup is not None and reminder.meetup_created_at == meetup.created_at
    made = int(NOW.timestamp()) * 1_000_000  # the meetup's row was made at NOW
    stamp = int(FIRST.timestamp())
    assert reminder.claim_key == f"rota.reminder:{reminder.meetup_id}:{made}:{stamp}"
    assert reminder.key == reminder.claim_key + ":r1"


async def test_meetups_missed_while_down_are_prepared_as_of_when_they_were_due(
    sessionmaker: Maker,
) -> None:
    await setup(sessionmaker)
    later = FIRST + timedelta(days=2)  # hearth comes back two days after the first meetup
    async with sessionmaker() as s:
        [prep] = await reminders.meetups_to_prepare(s, later)
        assert prep.due_at == NOW  # when the schedule was set (the reminder was due before)
    await prepare(sessionmaker, later)
    jobs = await jobs_for(sessionmaker, FIRST)
    assert JobKind.HELD in jobs  # so its turn still moves on


async def test_owed_notices_are_done_and_open_ones_stay_due(sessionmaker: Maker) -> None:
    """A notice is done once its message is owed (the outbox sends and retries it); one
    opened but not owed (a process died mid-way) is still due, at its own time."""
    await setup(sessionmaker)
    await prepare(sessionmaker)
    jobs = await jobs_for(sessionmaker, FIRST)
    async with sessionmaker.begin() as s:
        reminder = await reminders.open_notice(s, jobs[JobKind.REMINDER], NOW)
        again = await reminders.open_notice(s, jobs[JobKind.REMINDER], NOW)
        assert again.id == reminder.id
        announcement = await reminders.open_notice(s, jobs[JobKind.ANNOUNCEMENT], NOW)
        await reminders.close_notice(s, announcement.id, NOW, Outcome.OWED, sent_to=CHANNEL)
    later = await jobs_for(sessionmaker, FIRST)
    assert JobKind.ANNOUNCEMENT not in later
    assert later[JobKind.REMINDER] == jobs[JobKind.REMINDER]


def test_each_message_about_a_meetup_has_its_own_key() -> None:
    made = datetime(2026, 11, 23, 9, 0, 0, 250, tzinfo=UTC)
    stamp = int(FIRST.timestamp())
    micros = int(NOW.timestamp()) * 1_000_000 + 250
    assert reminders.message_key("reminder", 7, made, FIRST) == (
        f"rota.reminder:7:{micros}:{stamp}"
    )
    assert reminders.message_key("overload", 7, made, FIRST, "UA", "ULEAD") == (
        f"rota.overload:7:{micros}:{stamp}:UA:ULEAD"
    )
    # A meetup moved, or a new meetup given a dropped one's id, is another message.
    assert reminders.message_key("reminder", 7, made, FIRST + timedelta(days=1)) != (
        reminders.message_key("reminder", 7, made, FIRST)
    )
    assert reminders.message_key("reminder", 7, NOW, FIRST) != (
        reminders.message_key("reminder", 7, made, FIRST)
    )


async def test_only_current_rows_plan_anything(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    await prepare(sessionmaker)
    old = await jobs_for(sessionmaker, FIRST)

    # A cancelled meetup has nothing due.
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await rota.cancel_meetup(s, LEAD, community, old[JobKind.REMINDER].meetup_id, NOW)
    assert await jobs_for(sessionmaker, FIRST) == {}

    # A changed schedule (the reminder a day ahead): the old jobs are no longer current; the
    # new revision's are, for the same meetup and message. The cancellation is kept.
    second = FIRST + timedelta(days=7)
    old = await jobs_for(sessionmaker, second)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        day_ahead = rota.ScheduleInput(**{**TUESDAYS.__dict__, "reminder_minutes_before": 1440})
        await rota.set_schedule(s, LEAD, community, day_ahead, NOW)
    await prepare(sessionmaker)
    assert await jobs_for(sessionmaker, FIRST) == {}
    new = await jobs_for(sessionmaker, second)
    assert {j.revision for j in new.values()} == {2}
    assert new[JobKind.REMINDER].due_at == second - timedelta(days=1)
    assert new[JobKind.REMINDER].meetup_id == old[JobKind.REMINDER].meetup_id
    # One message, whichever revision planned it: both can't claim it.
    assert new[JobKind.REMINDER].claim_key == old[JobKind.REMINDER].claim_key
    assert new[JobKind.REMINDER].key != old[JobKind.REMINDER].key
    async with sessionmaker() as s:
        assert await reminders.current(s, old[JobKind.REMINDER]) is None
        assert await reminders.current(s, new[JobKind.REMINDER]) is not None

    # A deleted schedule: nothing at all.
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await rota.delete_schedule(s, LEAD, community, NOW)
    async with sessionmaker() as s:
        assert await reminders.due_jobs(s) == []
        assert await reminders.meetups_to_prepare(s, NOW) == []
        assert await reminders.current(s, new[JobKind.REMINDER]) is None


async def test_a_moved_meetup_is_reminded_about_at_its_new_time(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    await prepare(sessionmaker)
    old = (await jobs_for(sessionmaker, FIRST))[JobKind.REMINDER]
    async with sessionmaker.begin() as s:
        done = await reminders.open_notice(s, old, NOW)
        await reminders.close_notice(s, done.id, NOW, Outcome.SENT)
        community = await community_service.get_community(s, TEAM, community_id)
        moved = FIRST + timedelta(days=1)
        await rota.move_meetup(s, LEAD, community, old.meetup_id, moved, NOW)
    new = (await jobs_for(sessionmaker, moved))[JobKind.REMINDER]
    assert new.meetup_id == old.meetup_id and new.claim_key != old.claim_key
    async with sessionmaker() as s:
        assert await reminders.current(s, old) is None


# --- whose turn -----------------------------------------------------------------------------


async def test_the_step_in_candidate_is_the_next_available_person(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    await prepare(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        meetup_id = (await rota.plan(s, community, NOW))[0].meetup_id

        def nobody(_u: str, _t: datetime) -> bool:
            return False

        def ub_away(user_id: str, _t: datetime) -> bool:
            return user_id == "UB"

        turn = await reminders.turn_for(s, community, meetup_id, NOW, nobody)
        assert turn is not None and turn.facilitator_id == "UA"
        assert await reminders.step_in_candidate(s, community, turn, NOW, nobody) == "UB"
        assert await reminders.step_in_candidate(s, community, turn, NOW, ub_away) == "UC"


async def test_leads_hear_of_an_overload_once_per_crossing(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    await prepare(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        await community_service.add_leads(s, LEAD, community, ["ULEAD2"], NOW)
        meetups = list(await s.scalars(select(Meetup).order_by(Meetup.starts_at).limit(5)))

    async def hold(meetup: Meetup, facilitator: str) -> list[int]:
        async with sessionmaker.begin() as s:
            community = await community_service.get_community(s, TEAM, community_id)
            row = await s.get(Meetup, meetup.id)
            assert row is not None
            row.facilitator_id = facilitator
            row.status = "held"
            await s.flush()
            return [n.id for n in await reminders.record_overloads(s, community, row, 1, NOW)]

    assert await hold(meetups[0], "UA") == []
    assert await hold(meetups[1], "UA") == []
    created = await hold(meetups[2], "UA")  # 3 times, average 1
    assert len(created) == 2  # one per lead
    async with sessionmaker() as s:
        notices = list(await s.scalars(select(RotaNotice).where(RotaNotice.id.in_(created))))
        assert {(n.kind, n.about_id, n.to_id) for n in notices} == {
            ("overload", "UA", "ULEAD"),
            ("overload", "UA", "ULEAD2"),
        }
        # Owed by the job that held the meetup, in the same transaction: never a job of its own.
        assert not [j for j in await reminders.due_jobs(s) if j.kind == JobKind.OVERLOAD]
    assert await hold(meetups[3], "UA") == []  # still overloaded: no second notice
    # Others catch up (4, 3, 3: no longer far more), then UA runs away with it again.
    async with sessionmaker.begin() as s:
        for i, person in enumerate(["UB", "UB", "UB", "UC", "UC", "UC"]):
            s.add(
                Meetup(
                    community_id=community_id,
                    occurrence=NOW - timedelta(days=100 + i),
                    starts_at=NOW - timedelta(days=100 + i),
                    duration_minutes=60,
                    status="held",
                    facilitator_id=person,
                    created_at=NOW,
                )
            )
    assert await hold(meetups[4], "UB") == []
    async with sessionmaker() as s:
        assert list(await s.scalars(select(RotaOverload))) == []


# --- the hand-over pack -----------------------------------------------------------------------


async def _lean_coffee(
    s: AsyncSession, *, channel: str = CHANNEL, status: str = "ended", at: datetime = NOW
) -> LeanCoffeeSession:
    lc = LeanCoffeeSession(
        team_id=TEAM,
        channel_id=channel,
        title=f"Lean Coffee {status}",
        facilitator_id="UA",
        started_by_id="UA",
        votes_per_person=3,
        timebox_minutes=7,
        extension_minutes=[],
        status=status,
        started_at=at,
        ended_at=at + timedelta(hours=1) if status == "ended" else None,
    )
    s.add(lc)
    await s.flush()
    return lc


async def _topic(s: AsyncSession, lc: LeanCoffeeSession, title: str, state: str = "open") -> int:
    topic = LeanCoffeeTopic(
        session_id=lc.id, team_id=TEAM, proposer_id="UB", title=title, state=state, proposed_at=NOW
    )
    s.add(topic)
    await s.flush()
    return topic.id


async def test_an_empty_hand_over_pack(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    async with sessionmaker() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        pack = await reminders.handover_pack(s, community)
    assert pack == reminders.HandoverPack(None, (), (), 0)


async def test_the_hand_over_pack_summarises_the_channel(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    async with sessionmaker.begin() as s:
        old = await _lean_coffee(s, at=NOW - timedelta(days=14))
        discussed = await _topic(s, old, "Plain language", "discussed")
        await _topic(s, old, "Left over from last time")
        for i, owner in enumerate(["UB", "UC"]):
            s.add(
                LeanCoffeeTakeaway(
                    session_id=old.id,
                    topic_id=discussed,
                    team_id=TEAM,
                    author_id="UA",
                    text=f"Action {i}",
                    is_action=True,
                    owner_id=owner,
                    due_date=date(2026, 12, 1 + i),
                    created_at=NOW - timedelta(days=14, minutes=-i),
                )
            )
        s.add(
            LeanCoffeeTakeaway(
                session_id=old.id,
                topic_id=discussed,
                team_id=TEAM,
                author_id="UA",
                text="Just a thought",
                created_at=NOW,
            )
        )
        # Another channel's actions and minutes stay out of it.
        elsewhere = await _lean_coffee(s, channel="C2")
        other = await _topic(s, elsewhere, "Elsewhere", "discussed")
        s.add(
            LeanCoffeeTakeaway(
                session_id=elsewhere.id,
                topic_id=other,
                team_id=TEAM,
                author_id="UA",
                text="Not ours",
                is_action=True,
                created_at=NOW,
            )
        )
        for channel, held_on, title in [
            (CHANNEL, date(2026, 11, 9), "Older"),
            (CHANNEL, date(2026, 11, 16), "Newest here"),
            ("C2", date(2026, 11, 20), "Other channel"),
        ]:
            s.add(
                Minutes(
                    team_id=TEAM,
                    channel_id=channel,
                    source="meetup",
                    source_id=held_on.day,
                    title=title,
                    held_on=held_on,
                    facilitator_id="UC",
                    body={"not": "lean coffee"},
                    created_at=NOW,
                )
            )
        # A running session's board is what is waiting now, most votes first.
        running = await _lean_coffee(s, status="collecting")
        quiet = await _topic(s, running, "Quiet one")
        popular = await _topic(s, running, "Popular one")
        await _topic(s, running, "Being discussed", "discussing")
        s.add_all(
            LeanCoffeeVote(session_id=running.id, topic_id=popular, user_id=u, slot=1, voted_at=NOW)
            for u in ("UA", "UB")
        )
        s.add(
            LeanCoffeeVote(
                session_id=running.id, topic_id=quiet, user_id="UC", slot=1, voted_at=NOW
            )
        )

    async with sessionmaker() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        pack = await reminders.handover_pack(s, community)
    assert pack.last == reminders.LastMinutes("Newest here", date(2026, 11, 16), "UC", (), 0, 0, 0)
    assert [(a.text, a.owner_id, a.due_date, a.topic_title) for a in pack.actions] == [
        ("Action 1", "UC", date(2026, 12, 2), "Plain language"),
        ("Action 0", "UB", date(2026, 12, 1), "Plain language"),
    ]
    assert [(t.title, t.votes) for t in pack.waiting] == [("Popular one", 2), ("Quiet one", 1)]
    assert pack.waiting_total == 2

    # Once that session ends, what it left open is what waits.
    async with sessionmaker.begin() as s:
        row = await s.get(LeanCoffeeSession, running.id)
        assert row is not None
        row.status, row.ended_at = "ended", NOW + timedelta(hours=1)
    async with sessionmaker() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        pack = await reminders.handover_pack(s, community)
    assert [t.title for t in pack.waiting] == ["Popular one", "Quiet one"]


async def test_lean_coffee_minutes_are_summarised(sessionmaker: Maker) -> None:
    community_id = await setup(sessionmaker)
    async with sessionmaker.begin() as s:
        s.add(
            Minutes(
                team_id=TEAM,
                channel_id=CHANNEL,
                source="lean_coffee",
                source_id=1,
                title="November",
                held_on=date(2026, 11, 16),
                facilitator_id="UB",
                body={
                    "session_id": 1,
                    "channel_id": CHANNEL,
                    "title": "November",
                    "held_on": "2026-11-16",
                    "started_at": "2026-11-16T10:00:00+00:00",
                    "ended_at": "2026-11-16T11:00:00+00:00",
                    "facilitator_id": "UB",
                    "participant_ids": ["UA", "UB"],
                    "discussed": [
                        {
                            "title": f"Topic {i}",
                            "votes": 1,
                            "seconds_spent": 60,
                            "takeaways": [{"text": "t", "author_id": "UA"}] * i,
                        }
                        for i in range(7)
                    ],
                    "actions": [{"text": "a", "topic_title": "Topic 1"}],
                    "carried_over": [],
                },
                created_at=NOW,
            )
        )
    async with sessionmaker() as s:
        community = await community_service.get_community(s, TEAM, community_id)
        last = (await reminders.handover_pack(s, community)).last
    assert last is not None
    assert last.topics == tuple(f"Topic {i}" for i in range(5))
    assert (last.topics_discussed, last.takeaways, last.actions) == (7, 21, 1)
