"""`hearth export`, run in-process as people type it, on a database set up through the services
(SQLite and PostgreSQL): one community's data as stable, UTF-8 JSON, never an anonymous answer
or anything said off the record; clear refusals for an unknown channel or an unclear workspace."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.services import actions, rota
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services import lean_coffee as lc_service
from bot.services import meetup as meetup_service
from bot.services.actor import Actor
from bot.services.health_check_types import DEFAULT_SCALE, SettingsInput
from bot.services.lean_coffee import StartOptions as LeanCoffeeOptions
from bot.services.meetup import StartOptions as MeetupOptions
from bot.services.recurrence import Frequency
from models.health_check import HealthCheckAnswer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEAM, OTHER_TEAM, CHANNEL = "T1", "T2", "C1"
ALICE, BOB, CAROL, DAVE = (Actor(TEAM, u) for u in ("UALICE", "UBOB", "UCAROL", "UDAVE"))
TUESDAYS = rota.ScheduleInput(
    frequency=Frequency.WEEKLY,
    weekday=1,
    at=time(10, 0),
    time_zone="Europe/London",
    starts_on=date(2026, 11, 23),
)
OFF_RECORD = "(off the record) the budget is gone"
TOPIC = "Café ☕ and onboarding"
SECRET_TOPIC = "Who keeps missing meetups"

Maker = async_sessionmaker[AsyncSession]


async def a_community(maker: Maker) -> None:
    """#C1 in T1, with some of everything; and a #C1 in another workspace too."""
    async with maker.begin() as s:
        community = await community_service.community_for(s, ALICE, CHANNEL, NOW)
        await rota.set_schedule(s, ALICE, community, TUESDAYS, NOW)
        await rota.join(s, ALICE, community, NOW)
        await rota.join(s, BOB, community, NOW + timedelta(seconds=1))
        await rota.set_away(s, BOB, community, "UBOB", date(2026, 12, 7), date(2026, 12, 9), NOW)
        await rota.plan(s, community, NOW)  # the next meetups, as `/rota` shows them
        # A Lean Coffee with a topic Bob proposed, three dots and an action for Bob.
        lc = await lc_service.start_session(
            s, ALICE, CHANNEL, LeanCoffeeOptions("Practice", 3, 7, (4,), False), NOW
        )
        topic = await lc_service.propose_topic(s, BOB, lc, TOPIC, None, NOW)
        for voter in (ALICE, BOB, BOB):
            await lc_service.vote(s, voter, lc, topic.id, NOW)
        await lc_service.close_voting(s, ALICE, lc, NOW)
        await lc_service.start_next_topic(s, ALICE, lc, NOW)
        await lc_service.add_takeaway(
            s,
            ALICE,
            lc,
            topic.id,
            "Write the guide",
            owner_id="UBOB",
            due_date=date(2026, 12, 4),
            now=NOW,
        )
        await lc_service.end_session(s, ALICE, lc, NOW + timedelta(minutes=30))
        # A Lean Coffee with anonymous topics: Carol's stays unattributed.
        hidden = await lc_service.start_session(
            s, ALICE, CHANNEL, LeanCoffeeOptions("Anonymous", 3, 7, (4,), True), NOW
        )
        await lc_service.propose_topic(s, CAROL, hidden, SECRET_TOPIC, None, NOW)
        await lc_service.end_session(s, ALICE, hidden, NOW + timedelta(hours=1))
        # A chat meetup: one reply on the record, one off it.
        meetup = await meetup_service.start(
            s, ALICE, CHANNEL, MeetupOptions(prompts=("What worked?",)), NOW
        )
        [prompt] = await meetup_service.prompts_of(s, meetup.id)
        await meetup_service.set_prompt_ts(s, prompt.id, "100.1")
        await meetup_service.record_reply(
            s, TEAM, CHANNEL, "100.1", "100.2", "UBOB", "Pairing worked", NOW
        )
        await meetup_service.record_reply(
            s, TEAM, CHANNEL, "100.1", "100.3", "UCAROL", OFF_RECORD, NOW
        )
        await meetup_service.end(s, TEAM, meetup.id, NOW + timedelta(minutes=10), actor=ALICE)
        # A named health check, closed; then an anonymous one, open, with answers.
        named = SettingsInput(scale=DEFAULT_SCALE, anonymous=False, min_answers=1)
        await hc.update_settings(s, ALICE, community, named, NOW)
        check = await hc.run_now(s, ALICE, community, NOW)
        await hc.answer(s, BOB, check.id, "value", "green", NOW)
        await hc.close_early(s, ALICE, check.id, NOW)
        await actions.record_after_check(
            s, CAROL, check.id, "Ask the newcomers", "UCAROL", None, NOW
        )
        anonymous = SettingsInput(scale=DEFAULT_SCALE, anonymous=True, min_answers=3)
        await hc.update_settings(s, ALICE, community, anonymous, NOW)
        open_check = await hc.run_now(s, ALICE, community, NOW + timedelta(hours=2))
        for person in (ALICE, BOB, DAVE):
            await hc.answer(s, person, open_check.id, "value", "red", NOW + timedelta(hours=2))
    async with maker.begin() as s:
        elsewhere = Actor(OTHER_TEAM, "UELSE")
        await community_service.community_for(s, elsewhere, CHANNEL, NOW)
        await lc_service.start_session(
            s, elsewhere, CHANNEL, LeanCoffeeOptions("Elsewhere LC", 3, 7, (4,), False), NOW
        )


def hearth_export(*args: str) -> int:
    return main(["export", *args])


async def run(*args: str) -> int:
    """`main` runs its own event loop, so it runs in a thread, as from a shell."""
    return await asyncio.to_thread(hearth_export, *args)


async def test_export_writes_one_communitys_data_as_json(
    sessionmaker: Maker, empty_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await a_community(sessionmaker)
    async with sessionmaker() as s:
        voters = set(await s.scalars(select(HealthCheckAnswer.voter)))
    hashes = {v for v in voters if not v.startswith("U")}
    assert len(hashes) == 3  # the open anonymous check's answers, as stored

    out = tmp_path / "export.json"
    url = ["--database-url", empty_database]
    assert await run("--channel", CHANNEL, "--team", TEAM, "--output", str(out), *url) == 0
    raw = out.read_bytes()
    text = raw.decode("utf-8")
    data: dict[str, Any] = json.loads(text)

    assert (data["format"], data["team_id"], data["channel_id"]) == (
        "hearth.community_export",
        TEAM,
        CHANNEL,
    )
    assert data["community"]["created_at"] == "2026-11-23T09:00:00Z"
    assert [lead["user_id"] for lead in data["community"]["leads"]] == ["UALICE"]
    assert data["schedule"]["time_zone"] == "Europe/London"
    assert [m["user_id"] for m in data["rota"]["members"]] == ["UALICE", "UBOB"]
    assert data["rota"]["away"][0]["starts_on"] == "2026-12-07"
    assert data["meetups"] and all(m["starts_at"].endswith("Z") for m in data["meetups"])
    # Lean Coffees: topics with their dot counts, in the order they were held.
    first, hidden = data["lean_coffees"]
    [topic] = first["topics"]
    assert (topic["title"], topic["proposer_id"], topic["dots"]) == (TOPIC, "UBOB", 3)
    assert TOPIC in text  # UTF-8, not \u escapes
    [secret] = hidden["topics"]
    assert secret["title"] == SECRET_TOPIC and secret["proposer_id"] is None
    assert "UCAROL" not in json.dumps(hidden)
    # The chat meetup: its reply on the record, only a count of the one off it.
    [meetup] = data["chat_meetups"]
    [prompt] = meetup["prompts"]
    assert [r["text"] for r in prompt["replies"]] == ["Pairing worked"]
    assert prompt["off_record_replies"] == 1
    assert "the budget is gone" not in text
    # Health checks: results, never an answer, named or anonymous.
    named, still_open = data["health_checks"]["checks"]
    assert named["results"][0]["question_key"] == "value" and named["respondent_count"] == 1
    assert still_open["closed_at"] is None and still_open["results"] == []
    assert '"voter"' not in text and not any(h in text for h in hashes)
    # Actions from every source, minutes of every format.
    assert {(a["source"], a["text"]) for a in data["actions"]} == {
        ("lean_coffee", "Write the guide"),
        ("health_check", "Ask the newcomers"),
    }
    assert sorted(m["source"] for m in data["minutes"]) == [
        "health_check",
        "lean_coffee",
        "lean_coffee",
        "meetup",
    ]
    # Nothing from the other workspace's #C1.
    assert "Elsewhere LC" not in text and "UELSE" not in text

    # To standard output, the same bytes: stable from one export to the next.
    capsys.readouterr()
    assert await run("--channel", CHANNEL, "--team", TEAM, *url) == 0
    assert capsys.readouterr().out == text


async def test_export_refuses_clearly(
    sessionmaker: Maker, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await a_community(sessionmaker)
    url = ["--database-url", empty_database]
    capsys.readouterr()

    assert await run("--channel", CHANNEL, *url) == 2
    assert capsys.readouterr().err.splitlines() == [
        "Channel C1 is in more than one workspace here (T1, T2); say which with --team."
    ]
    assert await run("--channel", "C404", *url) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("hearth has nothing for channel C404.")
    assert await run("--channel", CHANNEL, "--team", "T404", *url) == 1
    assert capsys.readouterr().err.splitlines() == [
        "hearth has nothing for channel C1 in workspace T404."
    ]


def test_export_without_a_database_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing-here.db"
    code = hearth_export("--channel", "C1", "--database-url", f"sqlite+aiosqlite:///{missing}")
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [f"There is no hearth database at {missing}."]
    assert not missing.exists()  # and none was made
