"""The minutes archive, against a real database (SQLite and PostgreSQL): listing, reading,
search (words, ranking, team scope, privacy through `can_see`) and proposers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotFound
from bot.services import lean_coffee as lc_service
from bot.services import minutes as service
from bot.services.lean_coffee import Actor, StartOptions
from bot.services.minutes import PieceKind
from models.minutes import Minutes

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TEAM = "T1"


@dataclass(frozen=True)
class Topic:
    proposer: str
    title: str
    takeaways: tuple[tuple[str, str], ...] = ()  # (author, text)
    action: tuple[str, str] | None = None  # (owner, text)


async def hold_lean_coffee(
    maker: Maker,
    *,
    team: str,
    channel: str,
    facilitator: str,
    title: str,
    topics: Sequence[Topic],
    at: datetime,
    not_reached: Sequence[Topic] = (),
    anonymous: bool = False,
) -> int:
    """A whole Lean Coffee through the service, ended so its minutes are archived; returns
    the id of its minutes."""
    chair = Actor(team, facilitator)
    options = StartOptions(
        title=title,
        votes_per_person=3,
        timebox_minutes=7,
        extension_minutes=(4,),
        anonymous_topics=anonymous,
    )
    async with maker.begin() as s:
        lc = await lc_service.start_session(s, chair, channel, options, at)
        for topic in [*topics, *not_reached]:
            await lc_service.propose_topic(
                s, Actor(team, topic.proposer), lc, topic.title, None, at
            )
        await lc_service.close_voting(s, chair, lc, at)
        now = at
        waiting = {topic.title: topic for topic in topics}
        while waiting:
            started = await lc_service.start_next_topic(s, chair, lc, now)
            # Topics carried over from the channel's last session may come first.
            topic = waiting.pop(started.title, Topic(started.proposer_id, started.title))
            for author, text in topic.takeaways:
                await lc_service.add_takeaway(s, Actor(team, author), lc, started.id, text, now=now)
            if topic.action is not None:
                owner, text = topic.action
                await lc_service.add_takeaway(
                    s,
                    Actor(team, owner),
                    lc,
                    started.id,
                    text,
                    is_action=True,
                    owner_id=owner,
                    due_date=date(2026, 12, 4),
                    now=now,
                )
            now += timedelta(minutes=5)
            await lc_service.move_on(s, chair, lc, now)
        await lc_service.end_session(s, chair, lc, now)
        minutes_id = await s.scalar(
            select(Minutes.id).where(Minutes.source == "lean_coffee", Minutes.source_id == lc.id)
        )
        assert minutes_id is not None
        return minutes_id


async def everyone(_channel: str) -> bool:
    return True


@pytest.fixture
async def archive(sessionmaker: Maker) -> dict[str, int]:
    """Two communities of T1 and one of another team, on different days."""
    ids = {
        "content": await hold_lean_coffee(
            sessionmaker,
            team=TEAM,
            channel="CCONTENT",
            facilitator="UALICE",
            title="Content design CoP",
            topics=[
                Topic(
                    "UBOB",
                    "Plain language in error messages",
                    (("UCAROL", "Say it in plain words"),),
                ),
                Topic("UALICE", "Onboarding new writers", action=("UBOB", "Write a welcome pack")),
            ],
            not_reached=[Topic("UCAROL", "Accessibility audits")],
            at=T0,
        ),
        "research": await hold_lean_coffee(
            sessionmaker,
            team=TEAM,
            channel="CRESEARCH",
            facilitator="UDAVE",
            title="Research ops",
            topics=[
                Topic("UERIN", "Onboarding participants", (("UDAVE", "Plain language consent"),)),
            ],
            at=T0 + timedelta(days=7),
        ),
        "other team": await hold_lean_coffee(
            sessionmaker,
            team="T2",
            channel="CCONTENT",
            facilitator="UMALLORY",
            title="Onboarding elsewhere",
            topics=[Topic("UMALLORY", "Onboarding in plain language")],
            at=T0 + timedelta(days=14),
        ),
    }
    return ids


async def test_recent_lists_the_channel_newest_first(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    await hold_lean_coffee(
        sessionmaker,
        team=TEAM,
        channel="CCONTENT",
        facilitator="UBOB",
        title="Second content coffee",
        topics=[Topic("UBOB", "Style guides")],
        at=T0 + timedelta(days=3),
    )
    async with sessionmaker() as s:
        entries = await service.recent(s, TEAM, "CCONTENT")
        assert await service.count(s, TEAM, "CCONTENT") == 2
        assert await service.count(s, "T2", "CCONTENT") == 1
    assert [e.title for e in entries] == ["Second content coffee", "Content design CoP"]
    first = entries[1]
    assert first.label == "Lean Coffee"
    assert first.facilitator_id == "UALICE"
    assert first.topic_count == 2
    assert first.held_on == T0.date()
    assert set(first.participant_ids) >= {"UALICE", "UBOB", "UCAROL"}


async def test_get_is_scoped_by_team(sessionmaker: Maker, archive: dict[str, int]) -> None:
    async with sessionmaker() as s:
        stored = await service.get(s, TEAM, archive["content"])
        assert stored.body["title"] == "Content design CoP"
        with pytest.raises(NotFound):
            await service.get(s, TEAM, archive["other team"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("onboarding", ["research", "content"]),  # same score: the newer first
        ("ONBOARDING plain", ["content", "research"]),  # more mentions first
        ("plain language error", ["content"]),
        ("onboarding nothing-like-this", []),
        ("accessibility", ["content"]),  # topics not reached are searched too
        ("welcome pack", ["content"]),
    ],
)
async def test_search_needs_every_word_within_the_team(
    sessionmaker: Maker, archive: dict[str, int], query: str, expected: list[str]
) -> None:
    async with sessionmaker() as s:
        hits = await service.search(s, TEAM, service.search_words(query), can_see=everyone)
    names = {v: k for k, v in archive.items()}
    assert [names[h.entry.id] for h in hits] == expected


async def test_search_ranks_by_matches_then_recency(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    async with sessionmaker() as s:
        # "plain" appears twice in the content minutes, once in research's.
        hits = await service.search(s, TEAM, ["plain"], can_see=everyone)
    assert [h.entry.channel_id for h in hits] == ["CCONTENT", "CRESEARCH"]
    assert hits[0].score > hits[1].score


async def test_search_says_who_proposed_and_who_wrote(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    async with sessionmaker() as s:
        hits = await service.search(s, TEAM, ["plain"], can_see=everyone)
    content = hits[0].matches
    topic = next(p for p in content if p.kind == PieceKind.TOPIC)
    assert topic.text == "Plain language in error messages"
    assert topic.people == ("UBOB",)
    research = hits[1].matches
    takeaway = next(p for p in research if p.kind == PieceKind.TAKEAWAY)
    assert takeaway.people == ("UDAVE",)
    assert takeaway.topic == "Onboarding participants"


async def test_anonymous_proposers_stay_anonymous(sessionmaker: Maker) -> None:
    await hold_lean_coffee(
        sessionmaker,
        team=TEAM,
        channel="CANON",
        facilitator="UALICE",
        title="Anonymous coffee",
        topics=[Topic("UBOB", "Burnout in small teams")],
        at=T0,
        anonymous=True,
    )
    async with sessionmaker() as s:
        hits = await service.search(s, TEAM, ["burnout"], can_see=everyone)
    assert len(hits) == 1
    assert all(piece.people == () for piece in hits[0].matches)


async def test_search_leaves_out_channels_the_person_cannot_see(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    asked: list[str] = []

    async def not_research(channel: str) -> bool:
        asked.append(channel)
        return channel != "CRESEARCH"

    async with sessionmaker() as s:
        hits = await service.search(s, TEAM, ["onboarding"], can_see=not_research)
    assert [h.entry.channel_id for h in hits] == ["CCONTENT"]
    assert sorted(asked) == ["CCONTENT", "CRESEARCH"]  # once per channel


async def test_search_stops_at_the_limit(sessionmaker: Maker) -> None:
    for day in range(12):
        await hold_lean_coffee(
            sessionmaker,
            team=TEAM,
            channel="CMANY",
            facilitator="UALICE",
            title=f"Coffee {day}",
            topics=[Topic("UBOB", f"Pairing round {day}")],
            at=T0 + timedelta(days=day),
        )
    async with sessionmaker() as s:
        hits = await service.search(s, TEAM, ["pairing"], can_see=everyone)
        assert await service.search(s, TEAM, [], can_see=everyone) == []
    assert len(hits) == service.SEARCH_LIMIT
    assert hits[0].entry.title == "Coffee 11"


def test_search_words_are_folded_and_unquoted() -> None:
    assert service.search_words('  "Plain"  plain LANGUAGE, ') == ["plain", "language"]
    assert service.search_words("   ") == []


async def test_unknown_sources_still_list(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as s:
        s.add(
            Minutes(
                team_id=TEAM,
                channel_id="CNEW",
                source="retro",
                source_id=1,
                title="Chat about pairing",
                held_on=T0.date(),
                facilitator_id="UALICE",
                body={"shape": "not known here"},
                created_at=T0,
            )
        )
    async with sessionmaker() as s:
        entries = await service.recent(s, TEAM, "CNEW")
        hits = await service.search(s, TEAM, ["pairing"], can_see=everyone)
    assert entries[0].label == "Retro"
    assert entries[0].topic_count == 0
    assert [h.entry.title for h in hits] == ["Chat about pairing"]
