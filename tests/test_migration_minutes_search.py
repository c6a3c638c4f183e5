"""The migration adding `minutes.search_text` fills it for minutes stored before it, the same
way the archive fills it for new ones, and takes the column away again (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from bot.db import create_engine
from bot.migrate import downgrade, upgrade
from bot.services import minutes as archive

BEFORE, REVISION = "d4e2b3c5f6a7", "e5f3c4d6a7b8"
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)

# The minutes table as it was before the revision.
minutes = sa.table(
    "minutes",
    sa.column("id", sa.Integer()),
    sa.column("team_id", sa.String()),
    sa.column("channel_id", sa.String()),
    sa.column("source", sa.String()),
    sa.column("source_id", sa.Integer()),
    sa.column("title", sa.String()),
    sa.column("held_on", sa.Date()),
    sa.column("facilitator_id", sa.String()),
    sa.column("body", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)

LEAN_COFFEE_BODY = {
    "session_id": 1,
    "channel_id": "C1",
    "title": "Content  Design CoP",
    "held_on": "2026-11-02",
    "started_at": "2026-11-02T10:00:00Z",
    "ended_at": "2026-11-02T11:00:00Z",
    "facilitator_id": "UALICE",
    "participant_ids": ["UALICE", "UBOB"],
    "discussed": [
        {
            "title": "Plain Language",
            "votes": 3,
            "seconds_spent": 420,
            "takeaways": [{"text": "Say it\nPLAINLY", "author_id": "UBOB", "is_action": False}],
        },
        {"title": "Straße names", "votes": 1, "seconds_spent": 60},
    ],
    "actions": [],
    "carried_over": ["Accessibility audits"],
}
MEETUP_BODY = {
    "meetup_id": 2,
    "channel_id": "C2",
    "title": "Chat meetup: How do you pair?",
    "held_on": "2026-11-03",
    "started_at": "2026-11-03T10:00:00Z",
    "ended_at": "2026-11-03T10:30:00Z",
    "facilitator_id": "UALICE",
    "participant_ids": ["UALICE"],
    "airtime": [],
    "anonymous_replies": 0,
    "prompts": [
        {
            "text": "How do you pair?",
            "replies": [{"author_id": "UBOB", "text": "Replies stay out"}],
            "off_record": 0,
        }
    ],
    "takeaways": [{"text": "Try a MOB session", "author_id": "UBOB", "owner_id": "UBOB"}],
}
ROWS: list[tuple[str, str, dict[str, Any]]] = [
    ("lean_coffee", "Content Design CoP", LEAN_COFFEE_BODY),
    ("meetup", "Chat meetup: How do you pair?", MEETUP_BODY),
    ("retro", "A Retro of a kind not known yet", {"shape": "unknown"}),
    ("lean_coffee", "Broken Coffee", {"title": "missing everything else"}),
]
EXPECTED = [
    "content design cop\nplain language\nsay it plainly\nstrasse names\naccessibility audits",
    "chat meetup: how do you pair?\nhow do you pair?\ntry a mob session",
    "a retro of a kind not known yet",
    "broken coffee",
]


def _insert(connection: Connection) -> None:
    connection.execute(
        sa.insert(minutes),
        [
            {
                "team_id": "T1",
                "channel_id": f"C{number}",
                "source": source,
                "source_id": number,
                "title": title,
                "held_on": date(2026, 11, 2),
                "facilitator_id": "UALICE",
                "body": body,
                "created_at": AT,
            }
            for number, (source, title, body) in enumerate(ROWS, start=1)
        ],
    )


def _search_texts(connection: Connection) -> list[str | None]:
    return list(connection.scalars(sa.text("SELECT search_text FROM minutes ORDER BY id")))


def _columns(connection: Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns("minutes")}


async def _run(database_url: str, fn: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


async def test_the_backfill_indexes_minutes_stored_before_it(empty_database: str) -> None:
    await upgrade(empty_database, BEFORE)
    await _run(empty_database, _insert)

    await upgrade(empty_database, REVISION)

    texts = await _run(empty_database, _search_texts)
    assert texts == EXPECTED
    # The same text the archive writes for minutes stored from now on.
    assert texts == [archive.search_text_of(s, b, t) for s, t, b in ROWS]

    await downgrade(empty_database, BEFORE)

    assert "search_text" not in await _run(empty_database, _columns)
    count = await _run(empty_database, lambda c: c.scalar(sa.text("SELECT count(*) FROM minutes")))
    assert count == len(ROWS)
