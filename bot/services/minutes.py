"""The minutes archive: every format's minutes in one place, per channel and across the
workspace, so someone stuck on a problem can find who has talked it through before.

Each format stores its minutes in the `minutes` table under its own `source`, with a JSON
body only that format understands. `SOURCES` says, per source, what to call it and how to
read its body into plain pieces (topics, takeaways, actions, and who they came from); the
archive itself never looks inside a body any other way. Every query is scoped by team id.
Nothing here talks to Slack: whether a person may see a channel is asked through `can_see`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.meetup import MeetupMinutes
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTopic
from models.minutes import Minutes

RECENT_LIMIT = 20  # entries in a channel's list (a button each, within one message)
SEARCH_LIMIT = 10  # results of a search
SEARCH_SCAN_LIMIT = 5000  # newest minutes of the workspace a search reads
MAX_SEARCH_WORDS = 10
MATCHES_SHOWN = 5  # matching topics/takeaways shown per result

Body = dict[str, Any]


class PieceKind(StrEnum):
    TITLE = "title"
    TOPIC = "topic"
    TAKEAWAY = "takeaway"
    ACTION = "action"
    NOT_REACHED = "not reached"


@dataclass(frozen=True)
class Piece:
    """One searchable line of minutes and the people behind it (proposer, author, owner)."""

    kind: PieceKind
    text: str
    people: tuple[str, ...] = ()
    topic: str | None = None  # the topic a takeaway or action belongs to


@dataclass(frozen=True)
class Digest:
    """What the archive needs to know about one set of minutes, whatever the format."""

    topic_count: int
    participant_ids: tuple[str, ...]
    pieces: tuple[Piece, ...]


ProposerLookup = Callable[[AsyncSession, int], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class MinutesSource:
    """How the archive titles and reads the minutes of one format."""

    label: str  # shown next to each entry: "Lean Coffee"
    digest: Callable[[Body], Digest]
    # Who proposed each topic (title → Slack id), read from the format's own tables when its
    # minutes do not carry it; absent where proposals are anonymous.
    proposers: ProposerLookup | None = None


@dataclass(frozen=True)
class MinutesEntry:
    """One line of the archive."""

    id: int
    source: str
    label: str
    channel_id: str
    title: str
    held_on: date
    facilitator_id: str
    topic_count: int
    participant_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoredMinutes:
    """An entry with the body its format stored, for showing or exporting in full."""

    entry: MinutesEntry
    body: Body


@dataclass(frozen=True)
class SearchHit:
    entry: MinutesEntry
    matches: tuple[Piece, ...]  # the pieces that mention the words, best first
    score: int


# --- sources -----------------------------------------------------------------------------


def _lean_coffee_digest(body: Body) -> Digest:
    minutes = LeanCoffeeMinutes.model_validate(body)
    pieces: list[Piece] = [Piece(PieceKind.TITLE, minutes.title)]
    for topic in minutes.discussed:
        pieces.append(Piece(PieceKind.TOPIC, topic.title))
        for takeaway in topic.takeaways:
            people = [takeaway.author_id]
            if takeaway.owner_id and takeaway.owner_id not in people:
                people.append(takeaway.owner_id)
            kind = PieceKind.ACTION if takeaway.is_action else PieceKind.TAKEAWAY
            pieces.append(Piece(kind, takeaway.text, tuple(people), topic=topic.title))
    pieces.extend(Piece(PieceKind.NOT_REACHED, title) for title in minutes.carried_over)
    return Digest(
        topic_count=len(minutes.discussed),
        participant_ids=tuple(minutes.participant_ids),
        pieces=tuple(pieces),
    )


async def _lean_coffee_proposers(session: AsyncSession, session_id: int) -> dict[str, str]:
    anonymous = await session.scalar(
        select(LeanCoffeeSession.anonymous_topics).where(LeanCoffeeSession.id == session_id)
    )
    if anonymous is None or anonymous:
        return {}
    rows = await session.execute(
        select(LeanCoffeeTopic.title, LeanCoffeeTopic.proposer_id)
        .where(LeanCoffeeTopic.session_id == session_id)
        .order_by(LeanCoffeeTopic.id)
    )
    return {title: proposer for title, proposer in rows.all()}


def _meetup_digest(body: Body) -> Digest:
    """A chat meetup's prompts are its topics; replies stay in the minutes, not the index."""
    minutes = MeetupMinutes.model_validate(body)
    pieces: list[Piece] = [Piece(PieceKind.TITLE, minutes.title)]
    pieces.extend(Piece(PieceKind.TOPIC, prompt.text) for prompt in minutes.prompts)
    for takeaway in minutes.takeaways:
        people = tuple(dict.fromkeys(p for p in (takeaway.author_id, takeaway.owner_id) if p))
        kind = PieceKind.ACTION if takeaway.owner_id else PieceKind.TAKEAWAY
        pieces.append(Piece(kind, takeaway.text, people))
    return Digest(
        topic_count=len(minutes.prompts),
        participant_ids=tuple(minutes.participant_ids),
        pieces=tuple(pieces),
    )


LEAN_COFFEE = "lean_coffee"
MEETUP = "meetup"
SOURCES: dict[str, MinutesSource] = {
    LEAN_COFFEE: MinutesSource("Lean Coffee", _lean_coffee_digest, _lean_coffee_proposers),
    MEETUP: MinutesSource("Chat meetup", _meetup_digest),
}


def source_of(name: str) -> MinutesSource:
    """The source's reader, or a plain one for formats this version does not know yet."""
    known = SOURCES.get(name)
    if known is not None:
        return known
    return MinutesSource(name.replace("_", " ").capitalize(), lambda _body: Digest(0, (), ()), None)


def _digest(row: Minutes) -> Digest:
    try:
        digest = source_of(row.source).digest(row.body)
    except (ValidationError, KeyError, TypeError, ValueError):
        # Minutes of a shape this version cannot read still list by their row's own fields.
        digest = Digest(0, (), ())
    if not any(piece.kind == PieceKind.TITLE for piece in digest.pieces):
        digest = replace(digest, pieces=(Piece(PieceKind.TITLE, row.title), *digest.pieces))
    return digest


def _entry(row: Minutes, digest: Digest) -> MinutesEntry:
    return MinutesEntry(
        id=row.id,
        source=row.source,
        label=source_of(row.source).label,
        channel_id=row.channel_id,
        title=row.title,
        held_on=row.held_on,
        facilitator_id=row.facilitator_id,
        topic_count=digest.topic_count,
        participant_ids=digest.participant_ids,
    )


def _newest_first(team_id: str) -> Any:
    return (
        select(Minutes)
        .where(Minutes.team_id == team_id)
        .order_by(Minutes.held_on.desc(), Minutes.created_at.desc(), Minutes.id.desc())
    )


# --- listing and reading -----------------------------------------------------------------


async def recent(
    session: AsyncSession, team_id: str, channel_id: str, limit: int = RECENT_LIMIT
) -> list[MinutesEntry]:
    """The channel's minutes, newest first."""
    rows = await session.scalars(
        _newest_first(team_id).where(Minutes.channel_id == channel_id).limit(limit)
    )
    return [_entry(row, _digest(row)) for row in rows]


async def count(session: AsyncSession, team_id: str, channel_id: str) -> int:
    """How many sets of minutes the channel has (the list shows only the latest)."""
    total = await session.scalar(
        select(func.count())
        .select_from(Minutes)
        .where(Minutes.team_id == team_id, Minutes.channel_id == channel_id)
    )
    return int(total or 0)


async def get(session: AsyncSession, team_id: str, minutes_id: int) -> StoredMinutes:
    row = await session.scalar(
        select(Minutes).where(Minutes.id == minutes_id, Minutes.team_id == team_id)
    )
    if row is None:
        raise NotFound("I can't find those minutes any more. Type `/minutes` to see the list.")
    return StoredMinutes(_entry(row, _digest(row)), dict(row.body))


async def all_in_channel(
    session: AsyncSession, team_id: str, channel_id: str
) -> list[StoredMinutes]:
    """Every set of minutes of the channel, newest first (for the export)."""
    rows = await session.scalars(_newest_first(team_id).where(Minutes.channel_id == channel_id))
    return [StoredMinutes(_entry(row, _digest(row)), dict(row.body)) for row in rows]


# --- search ------------------------------------------------------------------------------


def search_words(text: str) -> list[str]:
    """The words of a search, case-folded, without repeats or surrounding quotes."""
    words: list[str] = []
    for raw in text.split():
        word = raw.strip("\"'“”‘’.,;:!?()[]").casefold()
        if word and word not in words:
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def _score(digest: Digest, words: Sequence[str]) -> tuple[int, tuple[Piece, ...]] | None:
    """All words must appear somewhere; the score is how many (piece, word) mentions there are.

    Returns the score and the mentioning pieces, those naming most words first."""
    texts = [piece.text.casefold() for piece in digest.pieces]
    if not all(any(word in text for text in texts) for word in words):
        return None
    found: list[tuple[int, int, Piece]] = []
    for position, (piece, text) in enumerate(zip(digest.pieces, texts, strict=True)):
        hits = sum(1 for word in words if word in text)
        if hits:
            found.append((hits, position, piece))
    found.sort(key=lambda item: (-item[0], item[1]))
    return sum(hits for hits, _, _ in found), tuple(piece for _, _, piece in found)


async def search(
    session: AsyncSession,
    team_id: str,
    words: Sequence[str],
    *,
    can_see: Callable[[str], Awaitable[bool]],
    limit: int = SEARCH_LIMIT,
) -> list[SearchHit]:
    """Minutes anywhere in the workspace mentioning every word, best first.

    Ranked by how often they mention the words, then by how recent they are. `can_see(channel)`
    is asked once per channel, only of the best results, so a private channel's minutes are
    left out for anyone who is not in it.
    """
    if not words:
        return []
    rows = await session.scalars(_newest_first(team_id).limit(SEARCH_SCAN_LIMIT))
    scored: list[tuple[int, int, Minutes, Digest, tuple[Piece, ...]]] = []
    for position, row in enumerate(rows):
        digest = _digest(row)
        found = _score(digest, words)
        if found is not None:
            scored.append((found[0], position, row, digest, found[1]))
    scored.sort(key=lambda item: (-item[0], item[1]))  # position: newest first
    visible: dict[str, bool] = {}
    results: list[SearchHit] = []
    for score, _, row, digest, pieces in scored:
        if row.channel_id not in visible:
            visible[row.channel_id] = await can_see(row.channel_id)
        if not visible[row.channel_id]:
            continue
        matches = await _with_proposers(session, row, pieces[:MATCHES_SHOWN])
        results.append(SearchHit(_entry(row, digest), matches, score))
        if len(results) >= limit:
            break
    return results


async def _with_proposers(
    session: AsyncSession, row: Minutes, matches: tuple[Piece, ...]
) -> tuple[Piece, ...]:
    """Name who proposed each matching topic, when the format knows and may say."""
    lookup = source_of(row.source).proposers
    if lookup is None or not any(p.kind == PieceKind.TOPIC and not p.people for p in matches):
        return matches
    proposers = await lookup(session, row.source_id)
    return tuple(
        replace(piece, people=(proposers[piece.text],))
        if piece.kind == PieceKind.TOPIC and not piece.people and piece.text in proposers
        else piece
        for piece in matches
    )
