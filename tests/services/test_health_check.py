"""The health-check rules against a real database (SQLite and PostgreSQL): set-up, checks,
answers, anonymity, results, trends, history and reminders."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services import anonymity
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services.actor import Actor
from bot.services.anonymity import voter_key
from bot.services.health_check_types import (
    DEFAULT_QUESTIONS,
    DEFAULT_SCALE,
    CheckResults,
    CheckView,
    QuestionInput,
    ScaleOption,
    SettingsInput,
    Trend,
)
from bot.services.recurrence import Cadence, Frequency
from models.base import Base
from models.community import Community
from models.health_check import HealthCheckAnswer, HealthCheckResult

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TEAM, CHANNEL = "T1", "C1"
LEAD = Actor(TEAM, "ULEAD")
A, B, C, D, E = (Actor(TEAM, u) for u in ("UA", "UB", "UC", "UD", "UE"))
KEYS = [q.key for q in DEFAULT_QUESTIONS]
TUESDAYS = Cadence(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    anchor=date(2026, 11, 23),
)
NAMED = SettingsInput(scale=DEFAULT_SCALE, anonymous=False, min_answers=1)

Maker = async_sessionmaker[AsyncSession]


async def setup(maker: Maker, channel: str = CHANNEL, lead: Actor = LEAD) -> int:
    async with maker.begin() as s:
        return (await community_service.community_for(s, lead, channel, NOW)).id


async def load(s: AsyncSession, cid: int, team: str = TEAM) -> Community:
    return await community_service.get_community(s, team, cid)


async def run(maker: Maker, cid: int, at: datetime = NOW, lead: Actor = LEAD) -> CheckView:
    async with maker.begin() as s:
        return await hc.run_now(s, lead, await load(s, cid, lead.team_id), at)


async def answer(
    maker: Maker, check_id: int, actor: Actor, key: str, choice: str, at: datetime = NOW
) -> Any:
    async with maker.begin() as s:
        return await hc.answer(s, actor, check_id, key, choice, at)


async def close(
    maker: Maker, check_id: int, at: datetime = NOW, members: int | None = None
) -> CheckResults:
    async with maker.begin() as s:
        return await hc.close_early(s, LEAD, check_id, at, member_count=members)


async def settings(maker: Maker, cid: int, new: SettingsInput) -> None:
    async with maker.begin() as s:
        await hc.update_settings(s, LEAD, await load(s, cid), new, NOW)


async def stored_answers(maker: Maker) -> list[tuple[Any, ...]]:
    async with maker() as s:
        rows = await s.execute(
            select(
                HealthCheckAnswer.check_id,
                HealthCheckAnswer.voter,
                HealthCheckAnswer.question_key,
                HealthCheckAnswer.choice,
            ).order_by(HealthCheckAnswer.check_id, HealthCheckAnswer.voter)
        )
        return [tuple(r) for r in rows]


async def dump(maker: Maker) -> list[tuple[str, str, Any]]:
    """Every value in every column of every table: what a database administrator can see."""
    async with maker() as s:
        values = []
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                values.extend((table.name, column, value) for column, value in row.items())
        return values


# --- set-up ---------------------------------------------------------------------------------


async def test_defaults_before_anything_is_saved(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    async with sessionmaker.begin() as s:
        view = await hc.setup_view(s, await load(s, cid))
    assert not view.saved and view.revision == 0
    assert [q.key for q in view.questions] == [
        "value",
        "learning",
        "sharing",
        "support",
        "participation",
        "fun",
        "leadership",
        "purpose",
    ]
    assert all(q.title and q.best and q.worst for q in view.questions)
    assert [(o.label, o.score) for o in view.scale] == [
        ("Going well", 100),
        ("Mixed", 50),
        ("Needs attention", 0),
    ]
    assert (view.open_hours, view.anonymous, view.reminders, view.min_answers) == (48, True, 1, 3)
    assert view.cadence is None


async def test_every_edit_changes_the_revision_and_keys_survive(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    revisions = []
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        revisions.append((await hc.setup_view(s, community)).revision)
        edited = await hc.edit_question(
            s, LEAD, community, "learning", QuestionInput("Learning together", "We grow."), NOW
        )
        revisions.append((await hc.setup_view(s, community)).revision)
        added = await hc.add_question(
            s, LEAD, community, QuestionInput("  Outreach  "), NOW, position=0
        )
        revisions.append((await hc.setup_view(s, community)).revision)
        order = await hc.move_question(s, LEAD, community, "purpose", 1, NOW)
        revisions.append((await hc.setup_view(s, community)).revision)
        await hc.remove_question(s, LEAD, community, "fun", NOW)
        revisions.append((await hc.setup_view(s, community)).revision)
        await hc.set_cadence(s, LEAD, community, TUESDAYS, NOW)
        revisions.append((await hc.setup_view(s, community)).revision)
        view = await hc.setup_view(s, community)
    assert revisions == sorted(set(revisions)) and len(revisions) == 6
    assert edited.key == "learning" and edited.title == "Learning together"
    assert added.title == "Outreach" and added.key.startswith("q_")
    assert added.key not in KEYS
    assert [q.key for q in order][:3] == [added.key, "purpose", "value"]
    assert [q.key for q in view.questions] == [
        added.key,
        "purpose",
        "value",
        "learning",
        "sharing",
        "support",
        "participation",
        "leadership",
    ]
    assert view.cadence == TUESDAYS
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        restored = await hc.restore_default_questions(s, LEAD, community, NOW)
        again = await hc.setup_view(s, community)
    assert [q.key for q in again.questions] == KEYS == [q.key for q in restored]
    assert again.revision > revisions[-1]


async def test_only_leads_change_the_set_up_or_run_checks(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        with pytest.raises(NotAllowed, match="leads"):
            await hc.update_settings(s, A, community, NAMED, NOW)
        with pytest.raises(NotAllowed):
            await hc.add_question(s, A, community, QuestionInput("Snacks"), NOW)
        with pytest.raises(NotAllowed):
            await hc.set_cadence(s, A, community, TUESDAYS, NOW)
        with pytest.raises(NotAllowed):
            await hc.run_now(s, A, community, NOW)
        with pytest.raises(NotAllowed):
            await hc.close_early(s, A, check.id, NOW)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        (QuestionInput("   "), "Give the question a title"),
        (QuestionInput("x" * 151), "Keep the title to 150"),
        (QuestionInput("Snacks", best="y" * 301), "at its best"),
        (QuestionInput("Snacks", worst="y" * 301), "at its worst"),
        (QuestionInput("learning"), "already a question called"),
    ],
)
async def test_bad_questions_are_refused(
    sessionmaker: Maker, question: QuestionInput, message: str
) -> None:
    cid = await setup(sessionmaker)
    with pytest.raises(InvalidInput, match=message):
        async with sessionmaker.begin() as s:
            await hc.add_question(s, LEAD, await load(s, cid), question, NOW)
    async with sessionmaker.begin() as s:
        assert not (await hc.setup_view(s, await load(s, cid))).saved


async def test_question_count_is_limited_both_ways(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        for i in range(12):
            await hc.add_question(s, LEAD, community, QuestionInput(f"Extra {i}"), NOW)
        with pytest.raises(InvalidInput, match="at most 20 questions"):
            await hc.add_question(s, LEAD, community, QuestionInput("One too many"), NOW)
        for key in KEYS:
            await hc.remove_question(s, LEAD, community, key, NOW)
        keys = [q.key for q in (await hc.setup_view(s, community)).questions]
        for key in keys[:-1]:
            await hc.remove_question(s, LEAD, community, key, NOW)
        with pytest.raises(InvalidInput, match="at least one question"):
            await hc.remove_question(s, LEAD, community, keys[-1], NOW)
        with pytest.raises(NotFound, match="isn't in the set"):
            await hc.edit_question(s, LEAD, community, "value", QuestionInput("Value"), NOW)


def _scale(*options: tuple[str, str, int]) -> tuple[ScaleOption, ...]:
    return tuple(ScaleOption(key=k, label=label, emoji="", score=n) for k, label, n in options)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (SettingsInput(scale=_scale(("good", "Good", 100))), "needs 2 to 5"),
        (SettingsInput(scale=_scale(("a", " ", 100), ("b", "Bad", 0))), "label"),
        (SettingsInput(scale=_scale(("a", "x" * 31, 100), ("b", "Bad", 0))), "fits on a button"),
        (SettingsInput(scale=_scale(("a", "Good", 100), ("b", "good", 0))), "both called"),
        (SettingsInput(scale=_scale(("a", "Good", 50), ("b", "Bad", 50))), "all score the same"),
        (SettingsInput(scale=_scale(("a", "Good", 120), ("b", "Bad", 0))), "from 0"),
        (SettingsInput(scale=_scale(("A!", "Good", 100), ("b", "Bad", 0))), "short key"),
        (SettingsInput(scale=DEFAULT_SCALE, open_hours=0), "stay open from 1 hour to 14 days"),
        (SettingsInput(scale=DEFAULT_SCALE, open_hours=15 * 24), "stay open from"),
        (SettingsInput(scale=DEFAULT_SCALE, reminders=4), "between 0 and 3 reminders"),
        (SettingsInput(scale=DEFAULT_SCALE, min_answers=0), "between 1 and 50"),
        (SettingsInput(scale=DEFAULT_SCALE, min_answers=51), "between 1 and 50"),
        (SettingsInput(scale=DEFAULT_SCALE, min_answers=2), "anonymous check needs at least 3"),
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    sessionmaker: Maker, new: SettingsInput, message: str
) -> None:
    cid = await setup(sessionmaker)
    await settings(sessionmaker, cid, SettingsInput(scale=DEFAULT_SCALE, open_hours=24))
    with pytest.raises(InvalidInput, match=message):
        await settings(sessionmaker, cid, new)
    async with sessionmaker.begin() as s:
        view = await hc.setup_view(s, await load(s, cid))
    assert view.open_hours == 24 and view.scale == DEFAULT_SCALE and view.revision == 2


async def test_a_check_must_close_before_the_next_one_starts(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    await settings(sessionmaker, cid, SettingsInput(scale=DEFAULT_SCALE, open_hours=10 * 24))
    with pytest.raises(InvalidInput, match="at most 6 days and 22 hours"):
        async with sessionmaker.begin() as s:
            await hc.set_cadence(s, LEAD, await load(s, cid), TUESDAYS, NOW)
    await settings(sessionmaker, cid, SettingsInput(scale=DEFAULT_SCALE, open_hours=48))
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        await hc.set_cadence(s, LEAD, community, TUESDAYS, NOW)
        # …and a longer window is refused while the schedule stands.
        with pytest.raises(InvalidInput, match="space them further apart"):
            await hc.update_settings(
                s, LEAD, community, SettingsInput(scale=DEFAULT_SCALE, open_hours=7 * 24), NOW
            )
        view = await hc.delete_cadence(s, LEAD, community, NOW)
        assert view.cadence is None
        with pytest.raises(NotFound, match="aren't on a schedule"):
            await hc.delete_cadence(s, LEAD, community, NOW)
    monthly = Cadence(
        frequency=Frequency.MONTHLY,
        weekday=1,
        at=time(10, 0),
        time_zone="Europe/London",
        anchor=date(2026, 11, 23),
        week_of_month=-1,
    )
    await settings(sessionmaker, cid, SettingsInput(scale=DEFAULT_SCALE, open_hours=14 * 24))
    async with sessionmaker.begin() as s:
        assert (await hc.set_cadence(s, LEAD, await load(s, cid), monthly, NOW)).cadence


# --- running a check ------------------------------------------------------------------------


async def test_a_running_check_keeps_the_questions_and_scale_it_opened_with(
    sessionmaker: Maker,
) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    assert check.is_open and check.anonymous and check.started_by_id == "ULEAD"
    assert check.closes_at == NOW + timedelta(hours=48)
    assert [q.key for q in check.questions] == KEYS and check.scale == DEFAULT_SCALE
    two_step = _scale(("yes", "Yes", 100), ("no", "No", 0))
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        await hc.edit_question(s, LEAD, community, "value", QuestionInput("Worth it?"), NOW)
        await hc.remove_question(s, LEAD, community, "fun", NOW)
        added = await hc.add_question(s, LEAD, community, QuestionInput("Snacks"), NOW)
        await hc.update_settings(s, LEAD, community, SettingsInput(scale=two_step), NOW)
        again = await hc.get_check(s, TEAM, check.id)
    assert again.questions == check.questions and again.scale == DEFAULT_SCALE
    # Answers follow the check's own snapshot, not the set-up.
    assert (await answer(sessionmaker, check.id, A, "fun", "amber")).choice.label == "Mixed"
    with pytest.raises(NotFound, match="isn't part of this health check"):
        await answer(sessionmaker, check.id, A, added.key, "amber")
    with pytest.raises(InvalidInput, match="isn't one of this check's choices"):
        await answer(sessionmaker, check.id, A, "value", "yes")
    await close(sessionmaker, check.id)
    following = await run(sessionmaker, cid, NOW + timedelta(days=1))
    assert "fun" not in [q.key for q in following.questions]
    assert following.questions[0].title == "Worth it?" and following.scale == two_step


async def test_one_open_check_per_community(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    first = await run(sessionmaker, cid)
    with pytest.raises(Conflict, match="already open"):
        await run(sessionmaker, cid)
    async with sessionmaker.begin() as s:
        current = await hc.current_check(s, await load(s, cid))
    assert current is not None and current.id == first.id
    await close(sessionmaker, first.id)
    assert (await run(sessionmaker, cid)).id != first.id


async def test_answers_change_until_the_check_closes(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    first = await answer(sessionmaker, check.id, A, "value", "green")
    assert first.previous is None and (first.answered, first.questions) == (1, 8)
    changed = await answer(sessionmaker, check.id, A, "value", "red")
    assert changed.previous is not None and changed.previous.key == "green"
    assert changed.choice.key == "red" and changed.answered == 1
    same = await answer(sessionmaker, check.id, A, "value", "red")
    assert same.previous is None
    await answer(sessionmaker, check.id, A, "learning", "amber")
    async with sessionmaker.begin() as s:
        assert await hc.my_answers(s, A, check.id) == {"value": "red", "learning": "amber"}
        assert await hc.my_answers(s, B, check.id) == {}
        assert await hc.respondent_count(s, TEAM, check.id) == 1
    assert len(await stored_answers(sessionmaker)) == 2


async def test_refused_answers_change_nothing(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    await answer(sessionmaker, check.id, A, "value", "green")
    before = await stored_answers(sessionmaker)
    with pytest.raises(NotFound):
        await answer(sessionmaker, check.id, A, "no-such-question", "red")
    with pytest.raises(InvalidInput):
        await answer(sessionmaker, check.id, A, "value", "purple")
    with pytest.raises(Conflict, match="closed"):  # past its closing time, not yet closed
        await answer(sessionmaker, check.id, A, "value", "red", check.closes_at)
    with pytest.raises(NotFound, match="can't find that health check"):
        await answer(sessionmaker, check.id + 100, A, "value", "red")
    assert await stored_answers(sessionmaker) == before
    await close(sessionmaker, check.id, NOW + timedelta(hours=1))
    with pytest.raises(Conflict, match="closed"):
        await answer(sessionmaker, check.id, A, "value", "red", NOW + timedelta(hours=2))
    with pytest.raises(Conflict, match="already closed"):
        await close(sessionmaker, check.id)
    async with sessionmaker.begin() as s:
        stored = await hc.results(s, TEAM, check.id)
    assert stored.respondents == 1


async def test_a_burst_of_answers_loses_none(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    people = [Actor(TEAM, f"U{i:02d}") for i in range(20)]
    # Twenty people answer at once, and one more person clicks every button at once.
    clicks = [answer(sessionmaker, check.id, p, "value", "green") for p in people]
    clicks += [answer(sessionmaker, check.id, A, k, c.key) for k in KEYS for c in DEFAULT_SCALE]
    await asyncio.gather(*clicks)
    rows = await stored_answers(sessionmaker)
    assert len(rows) == 20 + len(KEYS)
    async with sessionmaker.begin() as s:
        assert await hc.respondent_count(s, TEAM, check.id) == 21
        assert set(await hc.my_answers(s, A, check.id)) == set(KEYS)
    result = await close(sessionmaker, check.id, members=25)
    value = next(q for q in result.questions if q.key == "value")
    assert value.answers == 21 and result.respondents == 21


async def test_answers_racing_the_close_are_either_counted_or_refused(
    sessionmaker: Maker,
) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    people = [Actor(TEAM, f"U{i:02d}") for i in range(12)]

    async def click(person: Actor) -> bool:
        try:
            await answer(sessionmaker, check.id, person, "value", "green")
        except Conflict:
            return False
        return True

    outcomes = await asyncio.gather(
        *(click(p) for p in people[:6]),
        close(sessionmaker, check.id),
        *(click(p) for p in people[6:]),
    )
    closed = next(o for o in outcomes if isinstance(o, CheckResults))
    accepted = sum(1 for o in outcomes if o is True)
    assert closed.respondents == accepted  # every acknowledged answer is in the results
    assert await stored_answers(sessionmaker) == []  # and none slipped in after the close


# --- anonymity ------------------------------------------------------------------------------


async def test_after_close_nothing_stored_links_an_answer_to_a_person(
    sessionmaker: Maker,
) -> None:
    """The guarantee the poll states: once closed, nobody can tie an answer to a person."""
    answerers = (A, B, C)
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    # Another community's check stays open throughout, so a live secret exists.
    other_lead = Actor(TEAM, "UOTHERLEAD")
    other = await run(sessionmaker, await setup(sessionmaker, "C2", other_lead), lead=other_lead)
    await answer(sessionmaker, other.id, Actor(TEAM, "UX"), "value", "green")
    for person, choice in zip(answerers, ("green", "amber", "red"), strict=True):
        for key in KEYS:
            await answer(sessionmaker, check.id, person, key, choice)

    # While open: no user id is stored with the answers; only the secret links them.
    async with sessionmaker() as s:
        secret = await anonymity.check_secret(s, check.id)
        other_secret = await anonymity.check_secret(s, other.id)
    assert secret is not None and len(secret) == 32 and other_secret is not None
    values = await dump(sessionmaker)
    stored = [v for t, c, v in values if t == "health_check_secret" and c == "sealed"]
    assert len(stored) == 2 and not any(secret in bytes(v) for v in stored), "kept sealed only"
    answer_values = [str(v) for t, _, v in values if t == "health_check_answer"]
    for person in answerers:
        assert not any(person.user_id in v for v in answer_values)
        assert voter_key(secret, TEAM, person.user_id) in answer_values
        assert voter_key(b"\0" * 32, TEAM, person.user_id) not in answer_values
    assert {c["name"] for c in inspect_columns(HealthCheckAnswer)} == {
        "check_id",
        "voter",
        "question_key",
        "choice",
    }, "an answer row must not carry a time, an id or anything else that could order it"

    result = await close(sessionmaker, check.id, NOW + timedelta(hours=1), members=5)
    assert result.respondents == 3 and not result.below_minimum

    values = await dump(sessionmaker)
    async with sessionmaker() as s:
        assert await anonymity.check_secret(s, check.id) is None, "the secret must be destroyed"
        assert await anonymity.check_secret(s, other.id) == other_secret
    assert len([v for t, _, v in values if t == "health_check_secret"]) == 2  # the other's
    # Every key that still exists anywhere (the other check's secret), and the closed check's
    # secret as someone may have copied it while it was open.
    keys = [other_secret, secret]
    # Binary values (a live secret) are compared as hex: random bytes printed with str() can
    # spell two letters of a user id by chance.
    text = [bytes(v).hex() if isinstance(v, bytes) else str(v) for _, _, v in values]
    for person in answerers:
        assert not any(person.user_id in v for v in text), f"{person.user_id} is stored"
        for key in keys:
            hashed = voter_key(key, TEAM, person.user_id)
            assert not any(hashed in v for v in text), "an answer can still be linked"
    # The results are all still there.
    value = next(q for q in result.questions if q.key == "value")
    assert [c.count for c in value.distribution] == [1, 1, 1]


def inspect_columns(model: type[Base]) -> list[dict[str, Any]]:
    return [{"name": c.name} for c in inspect(model).columns]


async def test_a_closed_anonymous_check_is_queued_until_the_database_forgets_it(
    sessionmaker: Maker,
) -> None:
    """Closing queues the check for `bot.db.forget_deleted`; a busy database is tried again
    later, backing off; once done, nothing is left to forget. Named checks have no secret."""
    anonymous = await run(sessionmaker, await setup(sessionmaker))
    named_cid = await setup(sessionmaker, "C2")
    await settings(sessionmaker, named_cid, NAMED)
    named = await run(sessionmaker, named_cid)
    async with sessionmaker() as s:
        assert await anonymity.forget_due(s) is None  # open checks keep their secret
    closed_at = NOW + timedelta(hours=1)
    await close(sessionmaker, anonymous.id, closed_at)
    await close(sessionmaker, named.id, closed_at)

    waits = []
    for _ in range(3):
        async with sessionmaker.begin() as s:
            due = await anonymity.forget_due(s)
            assert due is not None and due.check_ids == (anonymous.id,)
            waits.append(due.due_at - closed_at)
            await anonymity.record_forgotten(s, due.check_ids, closed_at, done=False)
    assert waits == [timedelta(0), timedelta(minutes=1), timedelta(minutes=2)]

    async with sessionmaker.begin() as s:
        await anonymity.record_forgotten(s, (anonymous.id,), closed_at, done=True)
    async with sessionmaker() as s:
        assert await anonymity.forget_due(s) is None


async def test_named_checks_store_who_answered(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    await settings(sessionmaker, cid, NAMED)
    check = await run(sessionmaker, cid)
    assert not check.anonymous and check.min_answers == 1
    async with sessionmaker() as s:
        assert await anonymity.check_secret(s, check.id) is None
    receipt = await answer(sessionmaker, check.id, A, "value", "green")
    assert not receipt.anonymous
    assert await stored_answers(sessionmaker) == [(check.id, "UA", "value", "green")]
    async with sessionmaker.begin() as s:
        assert await hc.non_answerers(s, TEAM, check.id, ["UA", "UB"]) == ["UB"]
    result = await close(sessionmaker, check.id)
    assert result.respondents == 1 and not result.below_minimum
    assert await stored_answers(sessionmaker) == [(check.id, "UA", "value", "green")]


# --- results --------------------------------------------------------------------------------


async def test_results_maths_and_disagreement_order(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    plan = {
        "value": ["green", "green", "green", "red", "red"],  # 60, split: most disagreement
        "learning": ["amber"] * 5,  # 50, everyone agrees
        "sharing": ["green", "green", "green", "green", "amber"],  # 90, a little
        "support": ["green", "red"],  # too few answers to this question
    }
    for key, choices in plan.items():
        for person, choice in zip((A, B, C, D, E), choices, strict=False):
            await answer(sessionmaker, check.id, person, key, choice)
    result = await close(sessionmaker, check.id, members=10)
    assert result.respondents == 5 and result.response_rate == 0.5
    assert result.closed_by_id == "ULEAD"
    by_key = {q.key: q for q in result.questions}
    value = by_key["value"]
    assert [(c.option.key, c.count) for c in value.distribution] == [
        ("green", 3),
        ("amber", 0),
        ("red", 2),
    ]
    assert (value.score, value.disagreement) == (60.0, 49.0)
    assert (by_key["learning"].score, by_key["learning"].disagreement) == (50.0, 0.0)
    assert (by_key["sharing"].score, by_key["sharing"].disagreement) == (90.0, 20.0)
    support = by_key["support"]
    assert support.answers == 2 and not support.shown and support.score is None
    assert support.distribution == ()
    assert all(q.trend is None for q in result.questions)  # nothing earlier to compare with
    assert [q.key for q in result.questions] == [
        "value",
        "sharing",
        "learning",
        "support",
        "participation",
        "fun",
        "leadership",
        "purpose",
    ]
    # What is read back later is what was worked out at close.
    async with sessionmaker.begin() as s:
        assert await hc.results(s, TEAM, check.id) == result
        assert await hc.latest_results(s, await load(s, cid)) == result


async def test_below_the_minimum_only_the_count_is_kept(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    async with sessionmaker.begin() as s:
        with pytest.raises(Conflict, match="still open"):
            await hc.results(s, TEAM, check.id)
    for person in (A, B):
        for key in KEYS:
            await answer(sessionmaker, check.id, person, key, "red")
    result = await close(sessionmaker, check.id)
    assert result.below_minimum and result.respondents == 2 and result.response_rate is None
    assert all(not q.shown and q.answers == 2 and q.score is None for q in result.questions)
    assert [q.key for q in result.questions] == KEYS
    async with sessionmaker() as s:
        stored = (await s.execute(select(HealthCheckResult.counts, HealthCheckResult.score))).all()
    assert stored and all(tuple(row) == (None, None) for row in stored)


async def _check_with(
    maker: Maker, cid: int, at: datetime, answers: dict[str, list[str]]
) -> CheckResults:
    check = await run(maker, cid, at)
    for key, choices in answers.items():
        for person, choice in zip((A, B, C, D, E), choices, strict=False):
            await answer(maker, check.id, person, key, choice, at)
    return await close(maker, check.id, at + timedelta(hours=1))


async def test_trends_over_three_checks_and_history(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    week = timedelta(days=7)
    first = await _check_with(
        sessionmaker, cid, NOW, {"value": ["amber"] * 3, "learning": ["amber"] * 3}
    )
    second = await _check_with(
        sessionmaker, cid, NOW + week, {"value": ["green"] * 3, "learning": ["amber"] * 3}
    )
    # Too few answers: no scores, and passed over when the next check looks back.
    quiet = await _check_with(sessionmaker, cid, NOW + 2 * week, {"value": ["red"]})
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        await hc.edit_question(s, LEAD, community, "value", QuestionInput("Worth our time"), NOW)
    third = await _check_with(
        sessionmaker,
        cid,
        NOW + 3 * week,
        {"value": ["green", "green", "amber"], "learning": ["amber", "amber", "green"]},
    )

    def trend_of(result: CheckResults, key: str) -> tuple[float | None, Trend | None]:
        q = next(q for q in result.questions if q.key == key)
        return q.score, q.trend

    assert trend_of(first, "value") == (50.0, None)
    assert trend_of(second, "value") == (100.0, Trend.UP)
    assert trend_of(second, "learning") == (50.0, Trend.LEVEL)
    assert quiet.below_minimum and trend_of(quiet, "value") == (None, None)
    assert trend_of(third, "value") == (83.3, Trend.DOWN)  # against 100, not the quiet check
    assert trend_of(third, "learning") == (66.7, Trend.UP)
    assert next(q for q in third.questions if q.key == "value").previous_score == 100.0

    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        full = await hc.history(s, community)
        await hc.remove_question(s, LEAD, community, "learning", NOW)
        recent = await hc.history(s, community, count=2)
    assert [p.check_id for p in full.checks] == [
        first.check_id,
        second.check_id,
        quiet.check_id,
        third.check_id,
    ]
    assert [p.respondents for p in full.checks] == [3, 3, 1, 3]
    rows = {q.key: q for q in full.questions}
    assert [q.key for q in full.questions] == ["value", "learning", *KEYS[2:]]
    assert rows["value"].title == "Worth our time"
    assert rows["value"].scores == (50.0, 100.0, None, 83.3)
    assert rows["learning"].scores == (50.0, 50.0, None, 66.7)
    assert rows["fun"].scores == (None, None, None, None)
    # A question no longer asked comes after the current ones.
    assert [p.check_id for p in recent.checks] == [quiet.check_id, third.check_id]
    assert [q.key for q in recent.questions][-1] == "learning"
    assert next(q for q in recent.questions if q.key == "value").scores == (None, 83.3)


async def test_history_is_empty_before_any_check_closes(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    await run(sessionmaker, cid)
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        assert (await hc.history(s, community)).checks == ()
        assert await hc.latest_results(s, community) is None


# --- reminders ------------------------------------------------------------------------------


async def test_non_answerers_are_found_without_storing_who_answered(
    sessionmaker: Maker,
) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    members = ["UA", "UB", "UC", "UD", "UB"]
    await answer(sessionmaker, check.id, A, "value", "green")
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        assert await hc.non_answerers(s, TEAM, check.id, members) == ["UB", "UC", "UD"]
        await hc.set_reminders_wanted(s, C, community, False, NOW)
        await hc.set_reminders_wanted(s, C, community, False, NOW)  # twice is fine
        assert not await hc.wants_reminders(s, community, "UC")
        assert await hc.wants_reminders(s, community, "UB")
        assert await hc.to_remind(s, TEAM, check.id, members) == ["UB", "UD"]
    # Answering in a DM counts the same: it is the same person's hash.
    await answer(sessionmaker, check.id, B, "fun", "red")
    async with sessionmaker.begin() as s:
        community = await load(s, cid)
        assert await hc.to_remind(s, TEAM, check.id, members) == ["UD"]
        await hc.set_reminders_wanted(s, C, community, True, NOW)
        assert await hc.to_remind(s, TEAM, check.id, members) == ["UC", "UD"]
    await close(sessionmaker, check.id)
    async with sessionmaker.begin() as s:
        with pytest.raises(Conflict, match="nobody left to remind"):
            await hc.non_answerers(s, TEAM, check.id, members)
        # An opt-out is about the person and their community, never about a check.
        assert await hc.wants_reminders(s, await load(s, cid), "UC")


async def test_dont_remind_me_is_per_community(sessionmaker: Maker) -> None:
    first = await setup(sessionmaker)
    second = await setup(sessionmaker, "C2")
    async with sessionmaker.begin() as s:
        await hc.set_reminders_wanted(s, A, await load(s, first), False, NOW)
        assert not await hc.wants_reminders(s, await load(s, first), "UA")
        assert await hc.wants_reminders(s, await load(s, second), "UA")
        with pytest.raises(NotFound):
            await hc.set_reminders_wanted(s, Actor("T2", "UA"), await load(s, first), False, NOW)


def test_reminders_come_evenly_through_the_open_window() -> None:
    check = CheckView(
        id=1,
        team_id=TEAM,
        community_id=1,
        channel_id=CHANNEL,
        occurrence=None,
        setup_revision=1,
        questions=DEFAULT_QUESTIONS,
        scale=DEFAULT_SCALE,
        anonymous=True,
        min_answers=3,
        reminders=1,
        started_by_id=None,
        opened_at=NOW,
        closes_at=NOW + timedelta(hours=48),
        closed_at=None,
        closed_by_id=None,
        message_ts=None,
        results_ts=None,
    )
    assert hc.reminder_times(check) == (NOW + timedelta(hours=24),)
    assert hc.reminder_times(replace(check, reminders=0)) == ()
    assert hc.reminder_times(replace(check, reminders=3)) == tuple(
        NOW + timedelta(hours=h) for h in (12, 24, 36)
    )


# --- the schedule ---------------------------------------------------------------------------


async def test_a_scheduled_occurrence_opens_once_and_closes_on_time(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    async with sessionmaker.begin() as s:
        view = await hc.set_cadence(s, LEAD, await load(s, cid), TUESDAYS, NOW)
        planned = await hc.scheduled_setups(s)
    assert [(p.community_id, p.revision, p.cadence) for p in planned] == [
        (cid, view.revision, TUESDAYS)
    ]
    slot = TUESDAYS.next_after(NOW)
    assert slot == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    async def open_at(at: datetime, occurrence: datetime = slot, **kw: Any) -> CheckView | None:
        async with sessionmaker.begin() as s:
            return await hc.open_scheduled_check(s, TEAM, cid, occurrence, at, **kw)

    assert await open_at(slot - timedelta(minutes=1)) is None  # not due yet
    assert await open_at(slot, revision=view.revision - 1) is None  # planned for an old set-up
    async with sessionmaker.begin() as s:  # another workspace cannot open it
        assert await hc.open_scheduled_check(s, "T2", cid, slot, slot) is None
    # Came due while hearth was down: opened late, closes on the schedule's time.
    opened = await open_at(slot + timedelta(hours=5), revision=view.revision)
    assert opened is not None and opened.occurrence == slot and opened.started_by_id is None
    assert opened.closes_at == slot + timedelta(hours=48)
    assert await open_at(slot + timedelta(hours=6)) is None  # once only
    async with sessionmaker.begin() as s:
        assert [c.id for c in await hc.open_checks(s)] == [opened.id]
        await hc.record_message(s, TEAM, opened.id, "1700000000.000100")
        assert (await hc.get_check(s, TEAM, opened.id)).message_ts == "1700000000.000100"

    async def close_at(at: datetime, team: str = TEAM) -> CheckResults | None:
        async with sessionmaker.begin() as s:
            return await hc.close_due(s, team, opened.id, at, member_count=4)

    assert await close_at(opened.closes_at - timedelta(seconds=1)) is None
    assert await close_at(opened.closes_at, team="T2") is None
    closed = await close_at(opened.closes_at)
    assert closed is not None and closed.closed_by_id is None and closed.members == 4
    assert await close_at(opened.closes_at + timedelta(minutes=1)) is None  # once only
    async with sessionmaker.begin() as s:
        await hc.record_results_message(s, TEAM, opened.id, "1700000000.000200")
        assert await hc.open_checks(s) == []
    # The next occurrence, a week later; one missed entirely is never opened.
    next_slot = TUESDAYS.next_after(slot)
    assert await open_at(next_slot + timedelta(hours=48), next_slot) is None
    assert await open_at(next_slot, next_slot) is not None


async def test_a_schedule_firing_while_a_check_is_open_waits(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    async with sessionmaker.begin() as s:
        await hc.set_cadence(s, LEAD, await load(s, cid), TUESDAYS, NOW)
    await run(sessionmaker, cid)
    slot = TUESDAYS.next_after(NOW)
    async with sessionmaker.begin() as s:
        assert await hc.open_scheduled_check(s, TEAM, cid, slot, slot) is None
        assert len(await hc.open_checks(s)) == 1


# --- scoping --------------------------------------------------------------------------------


async def test_another_workspace_cannot_see_or_touch_a_check(sessionmaker: Maker) -> None:
    cid = await setup(sessionmaker)
    check = await run(sessionmaker, cid)
    await answer(sessionmaker, check.id, A, "value", "green")
    stranger = Actor("T2", "UA")  # even with the same user id
    with pytest.raises(NotFound):
        await answer(sessionmaker, check.id, stranger, "value", "red")
    async with sessionmaker.begin() as s:
        with pytest.raises(NotFound):
            await hc.get_check(s, "T2", check.id)
        with pytest.raises(NotFound):
            await hc.my_answers(s, stranger, check.id)
        with pytest.raises(NotFound):
            await hc.respondent_count(s, "T2", check.id)
        with pytest.raises(NotFound):
            await hc.non_answerers(s, "T2", check.id, ["UA"])
        await hc.record_message(s, "T2", check.id, "1.2")  # changes nothing
        assert (await hc.get_check(s, TEAM, check.id)).message_ts is None
        with pytest.raises(NotFound):
            await hc.close_early(s, Actor("T2", "ULEAD"), check.id, NOW)
        assert await hc.close_due(s, "T2", check.id, check.closes_at) is None
    await close(sessionmaker, check.id)
    async with sessionmaker.begin() as s:
        with pytest.raises(NotFound):
            await hc.results(s, "T2", check.id)
        assert await s.scalar(select(func.count()).select_from(HealthCheckResult)) == len(KEYS)
