"""Chat meetup rules on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.services import meetup as service
from bot.services import minutes as archive
from bot.services.actor import Actor
from bot.services.meetup import StartOptions, TimerKind
from models.meetup import ChatMeetupTimer

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TEAM, CHANNEL = "T1", "C1"
ALICE = Actor(team_id=TEAM, user_id="UALICE")
BOB = Actor(team_id=TEAM, user_id="UBOB")


async def _start(session: AsyncSession, **options: object) -> int:
    values: dict[str, object] = {"prompts": ("One", "Two", "Three"), **options}
    meetup = await service.start(session, ALICE, CHANNEL, StartOptions(**values), NOW)  # type: ignore[arg-type]
    return meetup.id


async def _timers(session: AsyncSession, meetup_id: int) -> list[tuple[str, datetime]]:
    rows = await session.scalars(
        select(ChatMeetupTimer)
        .where(ChatMeetupTimer.meetup_id == meetup_id)
        .order_by(ChatMeetupTimer.due_at, ChatMeetupTimer.id)
    )
    return [(t.kind, t.due_at) for t in rows]


async def test_start_plans_releases_nudges_and_the_close(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30, pace_minutes=10)
        timers = await _timers(session, meetup_id)
    minutes = timedelta(minutes=1)
    assert timers == [
        (TimerKind.RELEASE, NOW),
        (TimerKind.RELEASE, NOW + 10 * minutes),
        (TimerKind.NUDGE, NOW + 15 * minutes),
        (TimerKind.RELEASE, NOW + 20 * minutes),
        (TimerKind.NUDGE, NOW + 25 * minutes),
        (TimerKind.CLOSE, NOW + 30 * minutes),
    ]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"prompts": ("  ",)}, "prompts"),
        ({"length_minutes": 4}, "length"),
        ({"length_minutes": 481}, "length"),
        ({"length_minutes": 10, "pace_minutes": 5}, "pace"),
    ],
)
async def test_bad_options_are_refused(
    sessionmaker: async_sessionmaker[AsyncSession], options: dict[str, object], field: str
) -> None:
    async with sessionmaker.begin() as session:
        with pytest.raises(InvalidInput) as caught:
            await _start(session, **options)
    assert caught.value.field == field


async def test_one_running_meetup_per_channel(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await _start(session)
    async with sessionmaker.begin() as session:
        with pytest.raises(Conflict):
            await _start(session)


async def test_a_timer_is_claimed_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session)
        due = [d for d in await service.due_timers(session) if d.meetup_id == meetup_id]
    first = due[0]
    async with sessionmaker.begin() as session:
        assert await service.claim_timer(session, TEAM, first.timer_id, NOW) is not None
    async with sessionmaker.begin() as session:
        assert await service.claim_timer(session, TEAM, first.timer_id, NOW) is None
        released = await service.thread_prompts(session, meetup_id)
    assert [p.position for p in released] == [1]  # released, owed, not yet in Slack


async def test_a_step_that_comes_due_only_after_the_end_is_dropped(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """hearth was down: back after the time is up, it neither releases nor nudges (the close
    is due), and the prompts never released get no notes in their threads."""
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30, pace_minutes=10)
        due = [d for d in await service.due_timers(session) if d.meetup_id == meetup_id]
    first, *later = due
    end = NOW + timedelta(minutes=30)
    async with sessionmaker.begin() as session:
        assert await service.claim_timer(session, TEAM, first.timer_id, NOW) is not None
        for step in later[:-1]:
            assert await service.claim_timer(session, TEAM, step.timer_id, end) is None
        assert await service.claim_timer(session, TEAM, later[-1].timer_id, end) is not None
        minutes = await service.end(session, TEAM, meetup_id, end)
        assert [p.position for p in await service.thread_prompts(session, meetup_id)] == [1]
        assert await _timers(session, meetup_id) == [
            (TimerKind.RELEASE, NOW),
            (TimerKind.CLOSE, end),
        ]
    assert minutes.prompts == ()  # the one released never reached Slack


async def test_replies_airtime_and_off_the_record(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, prompts=("Only",))
        prompt = (await service.prompts_of(session, meetup_id))[0]
        await service.set_prompt_ts(session, prompt.id, "100.1")
    async with sessionmaker.begin() as session:
        assert await service.record_reply(
            session, TEAM, CHANNEL, "100.1", "101.1", "UBOB", "Hi", NOW
        )
        # Slack repeating a delivery is not a second reply.
        assert not await service.record_reply(
            session, TEAM, CHANNEL, "100.1", "101.1", "UBOB", "Hi", NOW
        )
        assert await service.record_reply(
            session, TEAM, CHANNEL, "100.1", "102.1", "UBOB", "(Off the record) secret", NOW
        )
        assert not await service.record_reply(
            session, TEAM, CHANNEL, "999.9", "103.1", "UBOB", "another thread", NOW
        )
    async with sessionmaker.begin() as session:
        with pytest.raises(NotAllowed):
            await service.end(session, TEAM, meetup_id, NOW, actor=BOB)
    async with sessionmaker.begin() as session:
        minutes = await service.end(session, TEAM, meetup_id, NOW, actor=ALICE)
    assert [(a.user_id, a.replies) for a in minutes.airtime] == [("UBOB", 2)]
    assert [r.text for r in minutes.prompts[0].replies] == ["Hi"]
    assert minutes.prompts[0].off_record == 1
    async with sessionmaker.begin() as session:
        # After the close nothing more is heard, and it cannot end twice.
        assert not await service.record_reply(
            session, TEAM, CHANNEL, "100.1", "104.1", "UBOB", "late", NOW
        )
        with pytest.raises(Conflict):
            await service.end(session, TEAM, meetup_id, NOW)
        hits = (await archive.search(session, TEAM, ["only"], can_see=_anyone)).hits
    assert [hit.entry.label for hit in hits] == ["Chat meetup"]


async def _anyone(_channel: str) -> bool:
    return True


async def test_extending_moves_the_close_and_pending_nudges(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30)
        meetup = await service.get_meetup(session, TEAM, meetup_id)
        with pytest.raises(NotAllowed):
            await service.extend(session, BOB, meetup, NOW)
        await service.extend(session, ALICE, meetup, NOW)
        timers = await _timers(session, meetup_id)
    assert (TimerKind.CLOSE, NOW + timedelta(minutes=40)) in timers
    assert (TimerKind.NUDGE, NOW + timedelta(minutes=35)) in timers


async def test_extending_by_a_chosen_time_moves_half_time_and_the_final_nudge(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    minute = timedelta(minutes=1)
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30)
        meetup = await service.get_meetup(session, TEAM, meetup_id)
        await service.extend(session, ALICE, meetup, NOW, 30)
        nudges = [t for t in await _timers(session, meetup_id) if t[0] != TimerKind.RELEASE]
    assert (meetup.length_minutes, meetup.ends_at) == (60, NOW + 60 * minute)
    assert nudges == [
        (TimerKind.NUDGE, NOW + 30 * minute),  # the new half-time
        (TimerKind.NUDGE, NOW + 55 * minute),
        (TimerKind.CLOSE, NOW + 60 * minute),
    ]


async def test_a_final_nudge_already_sent_comes_again_after_an_extension(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    minute = timedelta(minutes=1)
    later = NOW + 27 * minute
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30)
        for due in await service.due_timers(session):
            if due.due_at <= later:
                assert await service.claim_timer(session, TEAM, due.timer_id, later) is not None
        meetup = await service.get_meetup(session, TEAM, meetup_id)
        await service.extend(session, ALICE, meetup, later, 10)
        pending = [
            (t.kind, t.due_at, t.minutes_before_end)
            for t in await session.scalars(
                select(ChatMeetupTimer)
                .where(ChatMeetupTimer.meetup_id == meetup_id, ChatMeetupTimer.done_at.is_(None))
                .order_by(ChatMeetupTimer.due_at)
            )
        ]
    assert pending == [
        (TimerKind.NUDGE, NOW + 35 * minute, 5),
        (TimerKind.CLOSE, NOW + 40 * minute, None),
    ]


async def test_a_meetup_is_never_extended_past_eight_hours(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=470)
        meetup = await service.get_meetup(session, TEAM, meetup_id)
        with pytest.raises(InvalidInput) as caught:
            await service.extend(session, ALICE, meetup, NOW, 15)
        assert caught.value.field == "extend_by" and "10 more minutes" in caught.value.message
        with pytest.raises(InvalidInput):
            await service.extend(session, ALICE, meetup, NOW, 0)
        assert meetup.length_minutes == 470
        await service.extend(session, ALICE, meetup, NOW, 10)
        with pytest.raises(Conflict, match="can't be extended"):
            await service.check_can_extend(session, ALICE, meetup)
        timers = await _timers(session, meetup_id)
    assert (TimerKind.CLOSE, NOW + timedelta(minutes=480)) in timers


async def test_takeaways_added_while_running_are_in_the_minutes_at_the_close(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30)
        during = await service.add_takeaway(session, BOB, meetup_id, " Keep it short ", NOW)
        assert during is None  # no minutes yet
        await service.add_takeaway(
            session,
            ALICE,
            meetup_id,
            "Write the template",
            NOW + timedelta(minutes=1),
            owner_id=BOB.user_id,
            due_date=NOW.date() + timedelta(days=7),
        )
        minutes = await service.end(session, TEAM, meetup_id, NOW + timedelta(minutes=30))
        assert [(t.text, t.author_id, t.owner_id) for t in minutes.takeaways] == [
            ("Keep it short", BOB.user_id, None),
            ("Write the template", ALICE.user_id, BOB.user_id),
        ]
        after = await service.add_takeaway(
            session, ALICE, meetup_id, "One more", NOW + timedelta(minutes=31)
        )
        assert after is not None and [t.text for t in after.takeaways][-1] == "One more"
        stored = await service.stored_minutes(session, TEAM, meetup_id)
    assert [t.text for t in stored.takeaways] == ["Keep it short", "Write the template", "One more"]


# --- reading the threads back at the close ---------------------------------------------------


def _reply(ts: str, author: str, text: str) -> service.HeardReply:
    return service.HeardReply(message_ts=ts, author_id=author, text=text)


def test_a_slack_timestamp_is_compared_to_the_close_exactly() -> None:
    moment = datetime(2026, 11, 23, 10, 0, 0, 500, tzinfo=UTC)
    at = f"{int(moment.timestamp())}.000500"
    assert service.posted_by(at, moment)
    assert service.posted_by(f"{int(moment.timestamp())}.0004", moment)
    assert not service.posted_by(f"{int(moment.timestamp())}.000501", moment)
    assert not service.posted_by(f"{int(moment.timestamp()) + 1}", moment)


async def test_missed_replies_are_recorded_once_by_the_live_rules(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    closes_at = NOW + timedelta(minutes=30)
    before, after = closes_at.timestamp() - 60, closes_at.timestamp() + 1
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, prompts=("Only",))
        prompt = (await service.prompts_of(session, meetup_id))[0]
        await service.set_prompt_ts(session, prompt.id, f"{NOW.timestamp():.6f}")
        assert await service.record_reply(
            session, TEAM, CHANNEL, prompt.message_ts or "", f"{before:.6f}", "UBOB", "Heard", NOW
        )
    read_back = [
        _reply(f"{before:.6f}", "UBOB", "Heard"),  # heard live already
        _reply(f"{before + 1:.6f}", "UCAROL", "Missed"),
        _reply(f"{before + 2:.6f}", "UCAROL", "(OTR) missed and private"),
        _reply(f"{after:.6f}", "UBOB", "After the close"),
    ]
    async with sessionmaker.begin() as session:
        added = await service.record_missed_replies(
            session, TEAM, meetup_id, prompt.id, read_back, closes_at, closes_at
        )
    assert added == 2
    async with sessionmaker.begin() as session:  # a second pass (another process) adds nothing
        assert (
            await service.record_missed_replies(
                session, TEAM, meetup_id, prompt.id, read_back, closes_at, closes_at
            )
            == 0
        )
    async with sessionmaker.begin() as session:
        minutes = await service.end(session, TEAM, meetup_id, closes_at)
    assert [(a.user_id, a.replies) for a in minutes.airtime] == [("UCAROL", 2), ("UBOB", 1)]
    assert [r.text for r in minutes.prompts[0].replies] == ["Heard", "Missed"]
    assert minutes.prompts[0].off_record == 1
    assert not minutes.replies_may_be_missing
    async with sessionmaker.begin() as session:  # once closed, nothing more goes in
        late = [_reply(f"{before + 3:.6f}", "UBOB", "Too late")]
        assert (
            await service.record_missed_replies(
                session, TEAM, meetup_id, prompt.id, late, closes_at, closes_at
            )
            is None
        )


async def test_only_a_due_close_of_a_running_meetup_is_read_back_for(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, length_minutes=30)
        due = {d.timer_id: d for d in await service.due_timers(session)}
        kinds = {t.id: t.kind for t in await session.scalars(select(ChatMeetupTimer))}
    close = next(i for i, kind in kinds.items() if kind == TimerKind.CLOSE)
    release = next(i for i, kind in kinds.items() if kind == TimerKind.RELEASE)
    at_end = due[close].due_at
    async with sessionmaker() as session:
        assert await service.closing_meetup(session, TEAM, close, at_end) == meetup_id
        assert await service.closing_meetup(session, TEAM, close, NOW) is None  # not yet
        assert await service.closing_meetup(session, TEAM, release, at_end) is None
        assert await service.closing_meetup(session, "T2", close, at_end) is None
    async with sessionmaker.begin() as session:
        await service.end(session, TEAM, meetup_id, NOW, replies_may_be_missing=True)
        assert (await service.stored_minutes(session, TEAM, meetup_id)).replies_may_be_missing
    async with sessionmaker() as session:
        assert await service.closing_meetup(session, TEAM, close, at_end) is None


async def test_an_edited_or_deleted_reply_is_followed_while_the_meetup_runs(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        meetup_id = await _start(session, prompts=("Only",))
        prompt = (await service.prompts_of(session, meetup_id))[0]
        await service.set_prompt_ts(session, prompt.id, "100.1")
        await service.record_reply(session, TEAM, CHANNEL, "100.1", "101.1", "UBOB", "Tpyo", NOW)
        await service.record_reply(session, TEAM, CHANNEL, "100.1", "102.1", "UBOB", "Oops", NOW)
        post = await service.post_anonymously(session, TEAM, meetup_id, prompt.id, "Anon", NOW)
        assert (post.channel_id, post.thread_ts) == (CHANNEL, "100.1")
        await service.anonymous_posted(session, post.reply_id, "103.1")  # Slack took it
    async with sessionmaker.begin() as session:
        assert await service.edit_reply(
            session, TEAM, CHANNEL, "100.1", _reply("101.1", "UBOB", "Typo fixed"), NOW
        )
        # Someone else can't take over a reply, nor an anonymous post.
        assert not await service.edit_reply(
            session, TEAM, CHANNEL, "100.1", _reply("103.1", "UCAROL", "Mine now"), NOW
        )
        # An edit of a reply never heard records it as it now reads.
        assert await service.edit_reply(
            session, TEAM, CHANNEL, "100.1", _reply("104.1", "UCAROL", "(off the record) x"), NOW
        )
        assert await service.remove_reply(session, TEAM, CHANNEL, "102.1")
        assert not await service.remove_reply(session, TEAM, "C2", "101.1")
    async with sessionmaker.begin() as session:
        minutes = await service.end(session, TEAM, meetup_id, NOW)
    assert [(r.author_id, r.text) for r in minutes.prompts[0].replies] == [
        ("UBOB", "Typo fixed"),
        (None, "Anon"),
    ]
    assert minutes.prompts[0].off_record == 1
    async with sessionmaker.begin() as session:  # after the close, the minutes stay as written
        assert not await service.remove_reply(session, TEAM, CHANNEL, "101.1")
        assert not await service.edit_reply(
            session, TEAM, CHANNEL, "100.1", _reply("101.1", "UBOB", "Rewritten"), NOW
        )
