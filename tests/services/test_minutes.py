"""The minutes archive, against a real database (SQLite and PostgreSQL): listing, reading,
search (words, ranking, team scope, privacy through `can_see`) and proposers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import NotFound
from bot.services import lean_coffee as lc_service
from bot.services import meetup as meetup_service
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
        found = await service.search(s, TEAM, service.search_words(query), can_see=everyone)
    assert not found.more
    names = {v: k for k, v in archive.items()}
    assert [names[h.entry.id] for h in found.hits] == expected


async def test_search_ranks_by_matches_then_recency(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    async with sessionmaker() as s:
        # "plain" appears twice in the content minutes, once in research's.
        hits = (await service.search(s, TEAM, ["plain"], can_see=everyone)).hits
    assert [h.entry.channel_id for h in hits] == ["CCONTENT", "CRESEARCH"]
    assert hits[0].score > hits[1].score


async def test_search_says_who_proposed_and_who_wrote(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    async with sessionmaker() as s:
        hits = (await service.search(s, TEAM, ["plain"], can_see=everyone)).hits
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
        hits = (await service.search(s, TEAM, ["burnout"], can_see=everyone)).hits
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
        hits = (await service.search(s, TEAM, ["onboarding"], can_see=not_research)).hits
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
        hits = (await service.search(s, TEAM, ["pairing"], can_see=everyone)).hits
        assert await service.search(s, TEAM, [], can_see=everyone) == service.SearchResult(())
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
        hits = (await service.search(s, TEAM, ["pairing"], can_see=everyone)).hits
    assert entries[0].label == "Retro"
    assert entries[0].topic_count == 0
    assert [h.entry.title for h in hits] == ["Chat about pairing"]


# --- the search text and the filter in the database --------------------------------------


def plain_minutes(
    number: int,
    title: str,
    *,
    team: str = TEAM,
    channel: str = "CBULK",
    topics: Sequence[str] = (),
    held_on: date | None = None,
) -> Minutes:
    """A Meetup's minutes stored straight into the archive (many at once, as if over years)."""
    day = held_on or (T0 - timedelta(days=number)).date()
    body = {
        "meetup_id": number,
        "channel_id": channel,
        "title": title,
        "held_on": day.isoformat(),
        "started_at": T0.isoformat(),
        "ended_at": T0.isoformat(),
        "facilitator_id": "UALICE",
        "participant_ids": ["UALICE"],
        "airtime": [],
        "anonymous_replies": 0,
        "prompts": [{"text": topic, "replies": [], "off_record": 0} for topic in topics],
    }
    return Minutes(
        team_id=team,
        channel_id=channel,
        source="meetup",
        source_id=number,
        title=title,
        held_on=day,
        facilitator_id="UALICE",
        body=body,
        created_at=T0,
    )


async def store(maker: Maker, rows: Sequence[Minutes]) -> None:
    async with maker.begin() as s:
        s.add_all(rows)


async def titles(
    maker: Maker, words: Sequence[str], *, team: str = TEAM, rank_limit: int = 500
) -> tuple[list[str], bool]:
    async with maker() as s:
        found = await service.search(s, team, words, can_see=everyone, rank_limit=rank_limit)
    return [hit.entry.title for hit in found.hits], found.more


async def test_search_text_is_kept_when_lean_coffee_minutes_are_stored(
    sessionmaker: Maker, archive: dict[str, int]
) -> None:
    async with sessionmaker() as s:
        row = await s.get(Minutes, archive["content"])
    assert row is not None and row.search_text is not None
    assert row.search_text.split("\n") == [
        "content design cop",
        "plain language in error messages",
        "say it in plain words",
        "onboarding new writers",
        "write a welcome pack",
        "accessibility audits",
    ]
    assert row.search_text == service.search_text_of(row.source, row.body, row.title)


async def test_meetup_takeaways_added_after_the_close_are_searchable(
    sessionmaker: Maker,
) -> None:
    chair = Actor(TEAM, "UALICE")
    async with sessionmaker.begin() as s:
        meetup = await meetup_service.start(
            s, chair, "CMEET", meetup_service.StartOptions(prompts=("How do you Pair?",)), T0
        )
        (prompt,) = await meetup_service.prompts_of(s, meetup.id)
        await meetup_service.set_prompt_ts(s, prompt.id, "100.1")
    async with sessionmaker.begin() as s:
        await meetup_service.end(s, TEAM, meetup.id, T0 + timedelta(minutes=30), actor=chair)
    assert await titles(sessionmaker, ["pair"]) == (["Chat meetup: How do you Pair?"], False)
    assert await titles(sessionmaker, ["mob"]) == ([], False)

    async with sessionmaker.begin() as s:
        await meetup_service.add_takeaway(
            s, chair, meetup.id, "Try a MOB session", T0 + timedelta(hours=1)
        )

    assert await titles(sessionmaker, ["mob", "pair"]) == (["Chat meetup: How do you Pair?"], False)
    async with sessionmaker() as s:
        row = await s.scalar(select(Minutes).where(Minutes.source == "meetup"))
    assert row is not None and row.search_text is not None
    assert row.search_text.endswith("\ntry a mob session")


async def test_minutes_older_than_the_newest_five_thousand_are_found(sessionmaker: Maker) -> None:
    """The old search read only the newest 5,000 minutes of a workspace."""
    rows = [plain_minutes(n, f"Weekly meetup {n}", topics=["Status updates"]) for n in range(5100)]
    rows.append(plain_minutes(6000, "The oldest of all", topics=["Kintsugi for legacy code"]))
    await store(sessionmaker, rows)

    assert await titles(sessionmaker, ["kintsugi"]) == (["The oldest of all"], False)
    assert await titles(sessionmaker, ["legacy", "status"]) == ([], False)


async def test_like_wildcards_in_the_words_are_taken_literally(sessionmaker: Maker) -> None:
    await store(
        sessionmaker,
        [
            plain_minutes(1, "Coverage", topics=["Reaching 100% coverage"]),
            plain_minutes(2, "Coverage again", topics=["Reaching 1000 tests coverage"]),
            plain_minutes(3, "Names", topics=["snake_case or camelCase"]),
            plain_minutes(4, "Names again", topics=["snakeXcase is not a thing"]),
            plain_minutes(5, "Paths", topics=["Docs live in a/b now"]),
            plain_minutes(6, "Paths again", topics=["Docs live in ab now"]),
        ],
    )

    # Ranking one at a time: a wildcard matching a second row would show as "more".
    for words, title in [
        (["100%"], "Coverage"),
        (["%"], "Coverage"),
        (["snake_case"], "Names"),
        (["_"], "Names"),
        (["a/b"], "Paths"),
        (["/"], "Paths"),
    ]:
        assert await titles(sessionmaker, words, rank_limit=1) == ([title], False), words
    assert service.like_pattern("a/b_c%") == "%a//b/_c/%%"


async def test_every_word_must_match_in_the_database(sessionmaker: Maker) -> None:
    """Rows mentioning only some words never reach the ranking (so never count as more)."""
    await store(
        sessionmaker,
        [plain_minutes(n, f"Retro {n}", topics=["Alpha release"]) for n in range(1, 6)]
        + [plain_minutes(9, "Both", topics=["Alpha and beta release"])],
    )

    assert await titles(sessionmaker, ["alpha", "beta"], rank_limit=1) == (["Both"], False)
    assert await titles(sessionmaker, ["BETA", "Release"], rank_limit=1) == (["Both"], False)
    assert await titles(sessionmaker, ["alpha", "gamma"], rank_limit=1) == ([], False)


async def test_search_is_scoped_by_team_in_the_database(sessionmaker: Maker) -> None:
    await store(
        sessionmaker,
        [plain_minutes(1, "Ours", topics=["Zine making"])]
        + [plain_minutes(n, f"Theirs {n}", team="T2", topics=["Zine fair"]) for n in range(2, 6)],
    )

    assert await titles(sessionmaker, ["zine"], rank_limit=1) == (["Ours"], False)
    assert await titles(sessionmaker, ["zine"], team="T2", rank_limit=9) == (
        ["Theirs 2", "Theirs 3", "Theirs 4", "Theirs 5"],
        False,
    )


async def test_more_matches_than_ranked_are_said_not_dropped(sessionmaker: Maker) -> None:
    """Only the newest are ranked: an older, better match is not among them, and the answer
    says there are more so the person adds words."""
    await store(
        sessionmaker,
        [plain_minutes(n, f"Standup {n}", topics=["Quick standup"]) for n in range(1, 4)]
        + [plain_minutes(10, "Standup deep dive", topics=["Standup times", "Async standup"])],
    )

    assert await titles(sessionmaker, ["standup"], rank_limit=3) == (
        ["Standup 1", "Standup 2", "Standup 3"],
        True,
    )
    async with sessionmaker() as s:
        found = await service.search(s, TEAM, ["standup"], can_see=everyone, rank_limit=3)
    assert found.ranked == 3
    # With room to rank them all, the better match comes first and nothing is left over.
    assert await titles(sessionmaker, ["standup"], rank_limit=4) == (
        ["Standup deep dive", "Standup 1", "Standup 2", "Standup 3"],
        False,
    )
    assert await titles(sessionmaker, ["standup", "deep"], rank_limit=3) == (
        ["Standup deep dive"],
        False,
    )


async def test_more_counts_minutes_held_the_same_day_in_order(sessionmaker: Maker) -> None:
    """Ties on the day and the time are broken by id, for ranking and for what is left over."""
    day = T0.date()
    await store(
        sessionmaker,
        [
            plain_minutes(n, f"Sketching {n}", topics=["Sketchnotes"], held_on=day)
            for n in (1, 2, 3)
        ],
    )

    assert await titles(sessionmaker, ["sketchnotes"], rank_limit=2) == (
        ["Sketching 3", "Sketching 2"],
        True,
    )
    assert await titles(sessionmaker, ["sketchnotes"], rank_limit=3) == (
        ["Sketching 3", "Sketching 2", "Sketching 1"],
        False,
    )


async def test_more_is_only_said_of_minutes_the_person_can_see(sessionmaker: Maker) -> None:
    await store(
        sessionmaker,
        [plain_minutes(n, f"Open {n}", channel="COPEN", topics=["Hiring"]) for n in range(1, 3)]
        + [plain_minutes(9, "Secret", channel="CPRIVATE", topics=["Hiring freeze"])],
    )
    asked: list[str] = []

    async def not_private(channel: str) -> bool:
        asked.append(channel)
        return channel != "CPRIVATE"

    async with sessionmaker() as s:
        found = await service.search(s, TEAM, ["hiring"], can_see=not_private, rank_limit=2)
        assert [h.entry.title for h in found.hits] == ["Open 1", "Open 2"]
        assert not found.more  # the only one left over is in a channel they are not in
        assert asked == ["COPEN", "CPRIVATE"]
        found = await service.search(s, TEAM, ["hiring"], can_see=everyone, rank_limit=2)
        assert found.more


async def test_minutes_written_without_their_search_text_are_still_found(
    sessionmaker: Maker,
) -> None:
    """A row written around the ORM (so never indexed) is judged from its body."""
    row = plain_minutes(1, "Written elsewhere", topics=["Quilting bees"])
    values = {c.key: getattr(row, c.key) for c in Minutes.__table__.columns if c.key != "id"}
    async with sessionmaker.begin() as s:
        await s.execute(insert(Minutes).values(values))
        assert await s.scalar(select(Minutes.search_text)) is None

    assert await titles(sessionmaker, ["quilting"]) == (["Written elsewhere"], False)
    assert await titles(sessionmaker, ["knitting"]) == ([], False)
