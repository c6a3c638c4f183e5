"""How long `/minutes some words` takes over a big archive: common, rare and missing words.

Run on demand (it is not part of the test suite):

    .venv/bin/python -m benchmarks.minutes_search --minutes 20000 --channels 30
    .venv/bin/python -m benchmarks.minutes_search --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

It migrates a fresh database, stores years of Lean Coffee and chat meetup minutes across the
workspace's channels through the ORM (so each is indexed as the app indexes it), then times
the archive's search as the /minutes listener calls it, with everyone allowed to see every
channel: how long the database filter and the ranking of the newest matches take, how many
minutes matched, and whether the answer had to say there were more.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import migrate
from bot.db import create_engine, create_sessionmaker
from bot.keys import Sealer
from bot.services import minutes as archive
from models.minutes import Minutes

TEAM = "T0BENCH"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BATCH = 1000
RARE = "kintsugi"  # in three sets of minutes only, one of them the oldest
COMMON = "onboarding"  # in about a third of them
SOMETIMES = "retro"  # in about one in fourteen
_VOCABULARY = """
pairing review testing deploys incidents hiring mentoring accessibility research
interviews writing docs roadmap planning estimates burnout rituals standups demos
design tokens components content style guide metrics dashboards alerts oncall security
privacy budgets vendors tooling migrations databases caching performance feedback
growth careers ladders reading club conference talks workshop coaching
"""
WORDS = _VOCABULARY.split()
QUERIES: tuple[tuple[str, str], ...] = (
    ("common word", COMMON),
    ("two common words", f"{COMMON} pairing"),
    ("sometimes", SOMETIMES),
    ("rare word", RARE),
    ("rare + common", f"{RARE} {COMMON}"),
    ("no match", "zeppelin"),
    ("wildcards", "100%_done"),
)


def _topic(rng: random.Random, number: int) -> str:
    words = rng.sample(WORDS, rng.randint(2, 5))
    if rng.random() < 0.08:
        words.append(COMMON)
    if rng.random() < 0.015:
        words.append(SOMETIMES)
    return " ".join(words).capitalize() + f" ({number})"


def _body(
    source: str, number: int, channel: str, held_on: date, rng: random.Random, *, rare: bool
) -> Any:
    title = f"Community chat {number}"
    topics = [_topic(rng, number) for _ in range(rng.randint(3, 6))]
    if rare:
        topics.append(f"Kintsugi: onboarding onto legacy code ({number})")
    moment = datetime.combine(held_on, START.timetz())
    people = [f"U{rng.randint(0, 400):04d}" for _ in range(rng.randint(3, 12))]
    takeaways = [
        {"text": f"Takeaway: {_topic(rng, number)}", "author_id": people[0]}
        for _ in range(rng.randint(0, 3))
    ]
    if source == archive.LEAN_COFFEE:
        return {
            "session_id": number,
            "channel_id": channel,
            "title": title,
            "held_on": held_on.isoformat(),
            "started_at": moment.isoformat(),
            "ended_at": (moment + timedelta(hours=1)).isoformat(),
            "facilitator_id": people[0],
            "participant_ids": people,
            "discussed": [
                {"title": t, "votes": 2, "seconds_spent": 420, "takeaways": takeaways[:1]}
                for t in topics[:-1]
            ],
            "actions": [],
            "carried_over": topics[-1:],
        }
    return {
        "meetup_id": number,
        "channel_id": channel,
        "title": title,
        "held_on": held_on.isoformat(),
        "started_at": moment.isoformat(),
        "ended_at": (moment + timedelta(minutes=30)).isoformat(),
        "facilitator_id": people[0],
        "participant_ids": people,
        "airtime": [{"user_id": p, "replies": 2} for p in people],
        "anonymous_replies": 0,
        "prompts": [
            {
                "text": t,
                "replies": [{"author_id": p, "text": f"Reply about {t}"} for p in people[:4]],
                "off_record": 0,
            }
            for t in topics
        ],
        "takeaways": takeaways,
    }


def _minutes(total: int, channels: int, rng: random.Random) -> list[Minutes]:
    """`total` minutes, newest first, about `channels` a day going back in time."""
    rare = {total // 3, 2 * total // 3, total - 1}
    rows = []
    for number in range(total):
        channel = f"C{number % channels:04d}"
        held_on = (START - timedelta(days=number // channels)).date()
        source = archive.MEETUP if number % 10 < 3 else archive.LEAN_COFFEE
        body = _body(source, number, channel, held_on, rng, rare=number in rare)
        rows.append(
            Minutes(
                team_id=TEAM,
                channel_id=channel,
                source=source,
                source_id=number,
                title=body["title"],
                held_on=held_on,
                facilitator_id=body["facilitator_id"],
                body=body,
                created_at=START,
            )
        )
    return rows


async def _fresh_postgres_schema(url: str) -> str:
    schema = f"bench_{int(time.time())}"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


async def _everyone(_channel: str) -> bool:
    return True


@dataclass(frozen=True)
class Timing:
    """One query: the whole search, and the database filter alone (counting its matches)."""

    search: list[float]
    filter: list[float]
    matched: int
    result: archive.SearchResult


async def _time_search(
    maker: async_sessionmaker[AsyncSession], words: Sequence[str], repeat: int, rank_limit: int
) -> Timing:
    every_word = and_(
        *(
            Minutes.search_text.like(archive.like_pattern(w), escape=archive.LIKE_ESCAPE)
            for w in words
        )
    )
    count = select(func.count()).select_from(Minutes).where(Minutes.team_id == TEAM, every_word)
    timing = Timing([], [], 0, archive.SearchResult(()))
    for _ in range(repeat):
        async with maker() as session:
            started = time.perf_counter()
            result = await archive.search(
                session, TEAM, words, can_see=_everyone, rank_limit=rank_limit
            )
            timing.search.append(time.perf_counter() - started)
            started = time.perf_counter()
            matched = int(await session.scalar(count) or 0)
            timing.filter.append(time.perf_counter() - started)
    return replace(timing, matched=matched, result=result)


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:>6.0f} ms"


async def run(
    total: int, channels: int, repeat: int, rank_limit: int, database_url: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            await _fresh_postgres_schema(database_url)
            if database_url
            else f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        )
        await migrate.upgrade(url)
        engine = create_engine(url)
        maker = create_sessionmaker(engine, sealer=Sealer.ephemeral())
        try:
            rows = _minutes(total, channels, random.Random(7))
            started = time.perf_counter()
            for first in range(0, len(rows), BATCH):
                async with maker.begin() as session:
                    session.add_all(rows[first : first + BATCH])
            stored = time.perf_counter() - started
            async with maker() as session:
                size = await session.scalar(select(func.avg(func.length(Minutes.search_text))))

            dialect = "postgresql" if database_url else "sqlite"
            print(f"database            {dialect}")
            print(f"minutes             {total} across {channels} channels")
            print(f"stored and indexed  {stored:.1f} s ({total / stored:.0f} minutes/s)")
            print(f"search text         {float(size or 0):.0f} characters on average")
            print(f"ranked at most      {rank_limit} newest matches per search")
            print()
            print(
                f"{'query':<18} {'words':<20} {'matched':>7} {'hits':>4} {'more':>4} "
                f"{'search (median)':>15} {'max':>9} {'filter alone':>12}"
            )
            for label, query in QUERIES:
                words = archive.search_words(query)
                timing = await _time_search(maker, words, repeat, rank_limit)
                print(
                    f"{label:<18} {query:<20} {timing.matched:>7} {len(timing.result.hits):>4} "
                    f"{'yes' if timing.result.more else 'no':>4} {_ms(timing.search):>15} "
                    f"{max(timing.search) * 1000:>6.0f} ms {_ms(timing.filter):>12}"
                )
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5, help="times each search is run")
    parser.add_argument(
        "--rank-limit",
        type=int,
        default=archive.SEARCH_RANK_LIMIT,
        help="newest matches ranked per search (default: the app's)",
    )
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a temporary SQLite)")
    args = parser.parse_args()
    asyncio.run(run(args.minutes, args.channels, args.repeat, args.rank_limit, args.database_url))


if __name__ == "__main__":
    main()
