"""A health check's results kept in the minutes archive, on SQLite and PostgreSQL: stored once
when it closes (early, on time, twice, in two sessions at once), what they hold, that they
never say who answered, the actions recorded after it, search, the back-fill of checks that
closed before, and the rota's hand-over pack passing over them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict
from bot.services import actions, anonymity
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import minutes as archive
from bot.services import rota_reminders as reminders
from bot.services.actor import Actor
from bot.services.anonymity import voter_key
from bot.services.health_check_types import (
    DEFAULT_SCALE,
    HealthCheckMinutes,
    QuestionInput,
    SettingsInput,
    Trend,
)
from bot.services.recurrence import Cadence, Frequency
from models.community import Community
from models.minutes import Minutes

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TEAM, CHANNEL = "T1", "C1"
LEAD = Actor(TEAM, "U0LEADLEAD")
# Distinctive ids, so finding one in stored text cannot be a coincidence.
PEOPLE = [Actor(TEAM, f"U0RESPONDENT{i}") for i in range(4)]
NAMED = SettingsInput(scale=DEFAULT_SCALE, anonymous=False, min_answers=1)


async def community_id(maker: Maker, channel: str = CHANNEL) -> int:
    async with maker.begin() as s:
        return (await community_service.community_for(s, LEAD, channel, NOW)).id


async def load(s: AsyncSession, cid: int) -> Community:
    return await community_service.get_community(s, TEAM, cid)


async def run_check(
    maker: Maker,
    cid: int,
    answers: dict[str, list[str]],
    *,
    at: datetime = NOW,
    members: int | None = 8,
) -> int:
    """A check run by the lead, answered (question key -> one choice per person) and closed
    early an hour later; returns its id."""
    async with maker.begin() as s:
        check = await hc.run_now(s, LEAD, await load(s, cid), at)
    for key, choices in answers.items():
        for person, choice in zip(PEOPLE, choices, strict=False):
            async with maker.begin() as s:
                await hc.answer(s, person, check.id, key, choice, at)
    async with maker.begin() as s:
        await hc.close_early(s, LEAD, check.id, at + timedelta(hours=1), member_count=members)
    return check.id


async def minutes_rows(maker: Maker) -> list[Minutes]:
    async with maker() as s:
        return list(await s.scalars(select(Minutes).order_by(Minutes.id)))


async def only_minutes(maker: Maker) -> tuple[Minutes, HealthCheckMinutes]:
    [row] = await minutes_rows(maker)
    return row, HealthCheckMinutes.model_validate(row.body)


# --- stored once, when it closes ------------------------------------------------------------


async def test_results_are_kept_as_minutes_when_a_check_closes_early(sessionmaker: Maker) -> None:
    cid = await community_id(sessionmaker)
    check_id = await run_check(
        sessionmaker,
        cid,
        {"value": ["green", "amber", "red"], "learning": ["green", "green", "green"]},
    )

    row, minutes = await only_minutes(sessionmaker)
    assert (row.team_id, row.channel_id, row.source, row.source_id) == (
        TEAM,
        CHANNEL,
        "health_check",
        check_id,
    )
    assert row.title == minutes.title == "Community health check"
    assert row.held_on == minutes.held_on == date(2026, 11, 23)
    assert row.facilitator_id == LEAD.user_id  # who ran it
    assert row.created_at == NOW + timedelta(hours=1)
    assert (minutes.respondents, minutes.members, minutes.min_answers) == (3, 8, 3)
    assert minutes.anonymous and minutes.closed_early and not minutes.below_minimum
    assert [o.label for o in minutes.scale] == ["Going well", "Mixed", "Needs attention"]
    # As the results message: most disagreement first, questions without results last.
    first, second, *rest = minutes.questions
    assert (first.key, first.title, first.score, first.disagreement) == (
        "value",
        "Value to members",
        50.0,
        40.8,
    )
    assert [(c.label, c.count) for c in first.distribution] == [
        ("Going well", 1),
        ("Mixed", 1),
        ("Needs attention", 1),
    ]
    assert (second.key, second.score, second.disagreement) == ("learning", 100.0, 0.0)
    assert first.previous_score is None and first.change is None and first.trend is None
    assert [q.key for q in rest] == [
        "sharing",
        "support",
        "participation",
        "fun",
        "leadership",
        "purpose",
    ]
    assert all(not q.shown and q.answers == 0 and q.score is None for q in rest)
    assert minutes.actions == ()


async def test_the_change_since_the_last_check_is_kept(sessionmaker: Maker) -> None:
    cid = await community_id(sessionmaker)
    await run_check(sessionmaker, cid, {"value": ["green", "amber", "red"]})
    await run_check(
        sessionmaker, cid, {"value": ["green", "green", "green"]}, at=NOW + timedelta(days=7)
    )

    latest = HealthCheckMinutes.model_validate((await minutes_rows(sessionmaker))[-1].body)
    value = next(q for q in latest.questions if q.key == "value")
    assert (value.score, value.previous_score, value.change, value.trend) == (
        100.0,
        50.0,
        50.0,
        Trend.UP,
    )
    assert archive.score_note(value) == "score 100/100, up from 50"


async def test_a_check_with_too_few_answers_keeps_only_the_count(sessionmaker: Maker) -> None:
    cid = await community_id(sessionmaker)
    await run_check(sessionmaker, cid, {"value": ["green", "red"]}, members=None)

    _, minutes = await only_minutes(sessionmaker)
    assert minutes.below_minimum and minutes.respondents == 2 and minutes.members is None
    assert all(not q.shown and q.distribution == () for q in minutes.questions)
    value = next(q for q in minutes.questions if q.key == "value")
    assert value.answers == 2 and archive.score_note(value) == "too few answers to show"


async def test_a_check_closed_on_time_is_kept_once_and_credits_whoever_set_it_up(
    sessionmaker: Maker,
) -> None:
    """Scheduled: nobody started it, so whoever set up the community's checks ran it. The
    day is the close's in the schedule's time zone (Singapore is already on Wednesday)."""
    cid = await community_id(sessionmaker)
    late_evening = Cadence(
        frequency=Frequency.WEEKLY,
        weekday=0,
        at=time(7, 30),  # Monday 07:30 Singapore = Sunday 23:30 UTC
        time_zone="Asia/Singapore",
        anchor=date(2026, 11, 23),
    )
    async with sessionmaker.begin() as s:
        await hc.set_cadence(s, LEAD, await load(s, cid), late_evening, NOW)
    occurrence = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    async with sessionmaker.begin() as s:
        check = await hc.open_scheduled_check(s, TEAM, cid, occurrence, occurrence)
        assert check is not None and check.started_by_id is None
    closes = check.closes_at  # Tuesday 23:30 UTC, Wednesday morning in Singapore
    for _ in range(2):  # the close job firing twice
        async with sessionmaker.begin() as s:
            await hc.close_due(s, TEAM, check.id, closes, member_count=3)

    row, minutes = await only_minutes(sessionmaker)
    assert row.facilitator_id == LEAD.user_id
    assert row.held_on == minutes.held_on == date(2026, 12, 2)
    assert not minutes.closed_early and minutes.respondents == 0


async def test_closing_again_or_archiving_again_stores_nothing_more(sessionmaker: Maker) -> None:
    cid = await community_id(sessionmaker)
    check_id = await run_check(sessionmaker, cid, {"value": ["green", "green", "amber"]})
    before = (await minutes_rows(sessionmaker))[0].body

    async with sessionmaker.begin() as s:
        with pytest.raises(Conflict):
            await hc.close_early(s, LEAD, check_id, NOW + timedelta(hours=2))
        assert await hc.close_due(s, TEAM, check_id, NOW + timedelta(days=3)) is None

    async def archive_once() -> None:
        async with sessionmaker.begin() as s:
            await hc.keep_minutes(s, TEAM, check_id, NOW + timedelta(days=3))

    await asyncio.gather(archive_once(), archive_once())
    [row] = await minutes_rows(sessionmaker)
    assert row.body == before and row.created_at == NOW + timedelta(hours=1)


async def test_an_open_check_has_no_minutes_yet(sessionmaker: Maker) -> None:
    cid = await community_id(sessionmaker)
    async with sessionmaker.begin() as s:
        check = await hc.run_now(s, LEAD, await load(s, cid), NOW)
    async with sessionmaker.begin() as s:
        assert await hc.keep_minutes(s, TEAM, check.id, NOW) is None
        assert await hc.unarchived_checks(s) == []
    assert await minutes_rows(sessionmaker) == []


# --- anonymity ------------------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [True, False])
async def test_the_minutes_never_say_who_answered(sessionmaker: Maker, anonymous: bool) -> None:
    """Neither the body, nor the search text, nor the archive's digest holds anyone who
    answered (or their keyed hash), in an anonymous check or a named one; nor, before any
    action is recorded, any user id at all."""
    cid = await community_id(sessionmaker)
    if not anonymous:
        async with sessionmaker.begin() as s:
            await hc.update_settings(s, LEAD, await load(s, cid), NAMED, NOW)
    async with sessionmaker.begin() as s:
        check = await hc.run_now(s, LEAD, await load(s, cid), NOW)
        secret = await anonymity.check_secret(s, check.id)
        assert (secret is not None) is anonymous
    for person, choice in zip(PEOPLE, ["green", "amber", "red", "green"], strict=True):
        async with sessionmaker.begin() as s:
            await hc.answer(s, person, check.id, "value", choice, NOW)
    async with sessionmaker.begin() as s:
        await hc.close_early(s, LEAD, check.id, NOW + timedelta(hours=1), member_count=6)

    [row] = await minutes_rows(sessionmaker)
    raw = json.dumps(row.body) + "\n" + (row.search_text or "")
    assert row.search_text, "the hooks index health-check minutes too"
    for person in PEOPLE:
        assert person.user_id not in raw
        if secret is not None:
            assert voter_key(secret, TEAM, person.user_id) not in raw
    assert LEAD.user_id not in raw  # who ran it is on the row, not in the body
    assert "U0" not in raw  # no Slack user id of any kind
    minutes = HealthCheckMinutes.model_validate(row.body)
    assert minutes.anonymous is anonymous and minutes.respondents == 4
    async with sessionmaker() as s:
        [entry] = await archive.recent(s, TEAM, CHANNEL)
    assert entry.participant_ids == () and entry.answered == 4
    assert entry.facilitator_id == LEAD.user_id and entry.led_by == "run by"


# --- actions recorded after it ----------------------------------------------------------------


async def test_actions_recorded_after_a_check_join_its_minutes(sessionmaker: Maker) -> None:
    cid = await community_id(sessionmaker)
    check_id = await run_check(sessionmaker, cid, {"value": ["green", "amber", "red"]})
    later = NOW + timedelta(days=1)

    async def record(text: str, owner: str, due: date | None) -> None:
        async with sessionmaker.begin() as s:
            await actions.record_after_check(s, PEOPLE[0], check_id, text, owner, due, later)

    await record("Pair newcomers with mentors", "U0OWNERONE", date(2026, 12, 4))
    # Two recorded at once: the second waits for the first to commit (it would otherwise
    # write minutes that lack the first), and both end up in the minutes.
    async with sessionmaker.begin() as s:
        await actions.record_after_check(
            s, PEOPLE[1], check_id, "Run a show-and-tell", "U0OWNERTWO", None, later
        )
        meanwhile = asyncio.create_task(record("Ask why value is split", "U0OWNERONE", None))
        await asyncio.sleep(0.3)
    await meanwhile

    row, minutes = await only_minutes(sessionmaker)
    first = minutes.actions[0]
    assert (first.text, first.owner_id, first.due_date) == (
        "Pair newcomers with mentors",
        "U0OWNERONE",
        date(2026, 12, 4),
    )
    assert sorted(a.text for a in minutes.actions[1:]) == [
        "Ask why value is split",
        "Run a show-and-tell",
    ]
    assert "run a show-and-tell" in (row.search_text or "")
    # Whoever recorded it is not kept, only who will do it; still nobody who answered.
    assert PEOPLE[0].user_id not in json.dumps(row.body)
    async with sessionmaker() as s:
        found = await archive.search(s, TEAM, ["mentors"], can_see=everywhere)
    [hit] = found.hits
    assert [(p.kind, p.text, p.people) for p in hit.matches] == [
        (archive.PieceKind.ACTION, "Pair newcomers with mentors", ("U0OWNERONE",))
    ]


# --- search -----------------------------------------------------------------------------------


async def everywhere(_channel_id: str) -> bool:
    return True


async def test_search_finds_a_check_by_its_questions_with_their_scores(
    sessionmaker: Maker,
) -> None:
    cid = await community_id(sessionmaker)
    async with sessionmaker.begin() as s:
        question = await hc.add_question(
            s, LEAD, await load(s, cid), QuestionInput(title="Wellbeing"), NOW
        )
    await run_check(sessionmaker, cid, {question.key: ["green", "green", "amber"]})
    await community_id(sessionmaker, "C2")

    async with sessionmaker() as s:
        found = await archive.search(s, TEAM, ["WELLBEING"], can_see=everywhere)
        nothing = await archive.search(s, "T2", ["wellbeing"], can_see=everywhere)
        by_title = await archive.search(s, TEAM, ["health", "check"], can_see=everywhere)
    [hit] = found.hits
    assert hit.entry.label == "Health check" and hit.entry.channel_id == CHANNEL
    assert hit.entry.topic_count == 9 and hit.entry.topic_word == "question"
    [match] = hit.matches
    assert (match.kind, match.text, match.note, match.people) == (
        archive.PieceKind.QUESTION,
        "Wellbeing",
        "score 83/100",
        (),
    )
    assert nothing.hits == ()  # never another workspace's
    assert len(by_title.hits) == 1


# --- back-fill --------------------------------------------------------------------------------


async def test_checks_closed_before_minutes_were_kept_are_archived_once(
    sessionmaker: Maker,
) -> None:
    """A check closed by an older hearth has results but no minutes: the scheduler finds it
    and keeping its minutes stores what closing would have, once."""
    cid = await community_id(sessionmaker)
    first = await run_check(sessionmaker, cid, {"value": ["green", "amber", "red"]})
    second = await run_check(
        sessionmaker, cid, {"value": ["green", "green", "red"]}, at=NOW + timedelta(days=7)
    )
    async with sessionmaker.begin() as s:
        await actions.record_after_check(
            s, PEOPLE[1], first, "Talk it over", "U0OWNERONE", None, NOW + timedelta(days=8)
        )
    kept = {row.source_id: row.body for row in await minutes_rows(sessionmaker)}
    async with sessionmaker.begin() as s:
        await s.execute(delete(Minutes))
        missing = await hc.unarchived_checks(s)
    assert [(m.team_id, m.check_id) for m in missing] == [(TEAM, first), (TEAM, second)]
    assert missing[0].closed_at == NOW + timedelta(hours=1)

    later = NOW + timedelta(days=30)

    async def archive_check(check_id: int) -> None:
        async with sessionmaker.begin() as s:
            await hc.keep_minutes(s, TEAM, check_id, later)

    await asyncio.gather(*(archive_check(m.check_id) for m in missing for _ in range(2)))

    rows = await minutes_rows(sessionmaker)
    assert sorted(row.source_id for row in rows) == [first, second]
    assert {row.source_id: row.body for row in rows} == kept  # previous scores, action and all
    assert all(row.search_text and row.created_at == later for row in rows)
    async with sessionmaker() as s:
        assert await hc.unarchived_checks(s) == []
        assert await s.scalar(select(func.count()).select_from(Minutes)) == 2


# --- the rota's hand-over pack --------------------------------------------------------------


async def test_the_hand_over_pack_shows_the_last_meeting_not_a_health_check(
    sessionmaker: Maker,
) -> None:
    cid = await community_id(sessionmaker)
    async with sessionmaker.begin() as s:
        s.add(
            Minutes(
                team_id=TEAM,
                channel_id=CHANNEL,
                source="meetup",
                source_id=1,
                title="Last week's meetup",
                held_on=date(2026, 11, 16),
                facilitator_id="U0FACILITATOR",
                body={"not": "read here"},
                created_at=NOW,
            )
        )
    check_id = await run_check(sessionmaker, cid, {"value": ["green", "amber", "red"]})
    async with sessionmaker.begin() as s:
        await actions.record_after_check(
            s, PEOPLE[0], check_id, "Ask why value is split", "U0OWNERONE", None, NOW
        )

    async with sessionmaker() as s:
        pack = await reminders.handover_pack(s, await load(s, cid))
    assert pack.last is not None
    assert (pack.last.title, pack.last.held_on) == ("Last week's meetup", date(2026, 11, 16))
    # The check's action is among the open ones all the same.
    assert [(a.text, a.source) for a in pack.actions] == [
        ("Ask why value is split", "health_check")
    ]

    # With only a health check in the channel, there is no last meeting to show.
    async with sessionmaker.begin() as s:
        await s.execute(delete(Minutes).where(Minutes.source == "meetup"))
    async with sessionmaker() as s:
        assert (await reminders.handover_pack(s, await load(s, cid))).last is None
