"""The anonymity of a closed health check, checked the way someone holding the database files
would attack it: by reading every byte of them (SQLite's database, write-ahead log and shared
memory files; PostgreSQL's table pages through `pageinspect` and its write-ahead log) after
**Close now and show results**, looking for the check's secret, for the keyed hashes that stood
for people, and for anyone's Slack id next to an answer.

Each test first finds what it looks for while the check is open, so a scan that could not see
the bytes would fail rather than pass.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.emulator.seed import Seed
from bot.logging import log_handler
from bot.services import anonymity
from models.health_check import HealthCheckSecret
from tests.e2e.conftest import World
from tests.e2e.health_check_steps import answer, health_check, latest_check, poll, results_posts

PEOPLE = (Seed.ALICE, Seed.BOB, Seed.CAROL)


async def open_check_and_answer(world: World) -> tuple[int, bytes, bytes, list[str]]:
    """Alice opens an anonymous check; everyone answers, Bob changes his mind. Returns the
    check id, its secret, its sealed secret and the hashes that stand for the three people."""
    await health_check(world, Seed.ALICE, "now")
    check = await latest_check(world)
    assert check.anonymous
    await answer(world, Seed.BOB, "value", "green")
    await answer(world, Seed.BOB, "value", "red")  # the earlier answer must not survive either
    await answer(world, Seed.CAROL, "value", "amber")
    await answer(world, Seed.ALICE, "learning", "green")
    async with world.hearth.deps.sessionmaker() as session:
        secret = await anonymity.check_secret(session, check.id)
        sealed = await session.get(HealthCheckSecret, check.id)
    assert secret is not None and sealed is not None
    team = world.slack.state.team.id
    hashes = [anonymity.voter_key(secret, team, person) for person in PEOPLE]
    return check.id, secret, bytes(sealed.sealed), hashes


async def close_and_forget(world: World) -> None:
    await world.slack.user(Seed.ALICE).click(poll(world), "Close now and show results")
    assert results_posts(world), "the results were posted"
    # The job that makes the database forget; it tries again (backing off) while a
    # transaction older than the close is still open somewhere.
    for _ in range(6):
        await world.advance(timedelta(minutes=2))
        async with world.hearth.deps.sessionmaker() as session:
            if await anonymity.forget_due(session) is None:
                return
    raise AssertionError("the database never got to forget the closed check")


def sqlite_files(database_url: str) -> list[Path]:
    database = Path(str(make_url(database_url).database))
    return [
        path
        for path in (database.with_name(database.name + s) for s in ("", "-wal", "-shm"))
        if path.exists()
    ]


def sqlite_bytes(database_url: str) -> bytes:
    return b"".join(path.read_bytes() for path in sqlite_files(database_url))


async def test_the_database_holds_no_usable_secret_after_close(world: World) -> None:
    """On each dialect, through the real app: open, answer, close, then read the files."""
    if world.database_url.startswith("sqlite"):
        await sqlite_files_hold_no_secret_and_no_hash_after_close(world)
    else:
        await postgresql_pages_and_log_hold_no_usable_secret_after_close(world)


async def sqlite_files_hold_no_secret_and_no_hash_after_close(world: World) -> None:
    _check_id, secret, sealed, hashes = await open_check_and_answer(world)
    before = sqlite_bytes(world.database_url)
    assert sealed in before, "the scan must see the sealed secret while the check is open"
    assert all(h.encode() in before for h in hashes), "and the hashes standing for people"
    assert secret not in before, "the secret is only ever stored sealed"

    await close_and_forget(world)

    after = sqlite_bytes(world.database_url)
    assert secret not in after
    assert sealed not in after, "the sealed secret must be gone from the database and its log"
    for person, hashed in zip(PEOPLE, hashes, strict=True):
        assert hashed.encode() not in after, f"{person}'s hash survives the close"
    # Only the owner may read the files (they hold everything people said).
    for path in sqlite_files(world.database_url):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path.name} is readable by others"


async def raw_pages(connection: AsyncConnection) -> dict[str, bytes]:
    """Every page of every table, index and TOAST table in the test's schema, as stored, by
    relation."""
    relations = await connection.execute(
        text(
            "SELECT c.oid::regclass::text, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 't', 'm') "
            "UNION ALL SELECT t.oid::regclass::text, pg_relation_size(t.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t "
            "ON t.oid = c.reltoastrelid WHERE n.nspname = current_schema()"
        )
    )
    pages: dict[str, bytes] = {}
    for relation, size in relations.all():
        for block in range(size // 8192):
            page = await connection.scalar(
                text("SELECT public.get_raw_page(:relation, :block)"),
                {"relation": relation, "block": block},
            )
            pages[relation] = pages.get(relation, b"") + bytes(page)
    return pages


async def wal_since(connection: AsyncConnection, start: datetime) -> bytes:
    """The write-ahead log segments PostgreSQL wrote to since `start`."""
    names = await connection.scalars(
        text("SELECT name FROM pg_ls_waldir() WHERE modification >= :start ORDER BY name"),
        {"start": start - timedelta(seconds=5)},
    )
    return b"".join(
        [
            bytes(await connection.scalar(text(f"SELECT pg_read_binary_file('pg_wal/{name}')")))
            for name in names
        ]
    )


async def postgresql_pages_and_log_hold_no_usable_secret_after_close(world: World) -> None:
    start = datetime.now(UTC)
    engine = world.hearth.deps.engine
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public"))
    _check_id, secret, sealed, hashes = await open_check_and_answer(world)
    async with engine.connect() as connection:
        pages = await raw_pages(connection)
        log = await wal_since(connection, start)
    before = b"".join(pages.values())
    assert hashes[0].encode() in pages["health_check_answer"], "the answers' pages are read"
    assert sealed in before, "the scan must see the sealed secret while the check is open"
    assert hashes[1].encode() in before, "and the hashes standing for people"
    assert sealed in log, "the log holds what was written (sealed)"
    assert secret not in before and secret not in log, "the secret is only ever stored sealed"

    await close_and_forget(world)

    async with engine.connect() as connection:
        pages = await raw_pages(connection)
        log = await wal_since(connection, start)
    after = b"".join(pages.values())
    answers = pages.get("health_check_answer", b"")  # nothing at all once vacuumed away
    assert sealed not in after, "the sealed secret must be gone from every page, dead rows too"
    assert secret not in after and secret not in log
    # The answer table is vacuumed too; were a hash to linger, with the secret gone nothing
    # could recompute it: it names nobody. No answer row, live or dead, ever held a Slack id.
    for person in PEOPLE:
        assert person.encode() not in answers


def test_the_database_file_is_created_owner_only(tmp_path: Path) -> None:
    from bot.db import create_engine

    database = tmp_path / "fresh.db"
    old = os.umask(0o022)
    try:
        create_engine(f"sqlite+aiosqlite:///{database}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    loose = tmp_path / "loose.db"
    loose.write_bytes(b"")
    loose.chmod(0o644)
    create_engine(f"sqlite+aiosqlite:///{loose}")
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


async def test_the_log_never_ties_an_answer_to_a_person(world: World) -> None:
    """At DEBUG, through hearth's own log handler: what people answered, and the receipts
    that tell them, never reach the log next to who they are (slack_sdk logs every request
    body at DEBUG, each receipt with the user's id)."""
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        await open_check_and_answer(world)
        await close_and_forget(world)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    # The emulator stands in for Slack's own servers, whose logs are Slack's, not hearth's.
    lines = [line for line in stream.getvalue().splitlines() if " bot.emulator" not in line]
    assert any("slack_sdk" in line or "slack_bolt" in line for line in lines) or lines
    for line in lines:
        assert "You answered" not in line and "Changed your answer" not in line, line
        if "health_check.answer" in line:
            assert not any(person in line for person in PEOPLE), line
