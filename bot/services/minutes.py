"""The minutes archive: every format's minutes in one place, per channel and across the
workspace, so someone stuck on a problem can find who has talked it through before.

Each format stores its minutes in the `minutes` table under its own `source`, with a JSON
body only that format understands: Lean Coffees and chat meetups when they end, health checks
when they close. `SOURCES` says, per source, what to call it and how to read its body into
plain pieces (topics, a health check's questions with their scores, takeaways, actions, and
who they came from); the archive itself never looks inside a body any other way. A health
check's pieces name nobody but the owners of actions recorded after it: its minutes never
say who answered. Every query is scoped by team id.
Nothing here talks to Slack: whether a person may see a channel is asked through `can_see`.

Search is filtered in the database: each row keeps `search_text`, its pieces case-folded,
written here at flush time whenever any format stores minutes or changes their body, so no
format has to remember to. Every word of a search must appear in it (SQL LIKE, wildcards
taken literally); only the newest matching minutes are then ranked in Python, and the answer
says so when there were more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, event, func, inspect, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

from bot.errors import NotFound
from bot.services import health_check as hc
from bot.services.health_check_types import HealthCheckMinutes, HealthCheckMinutesQuestion, Trend
from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.meetup import MeetupMinutes
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTopic
from models.minutes import Minutes

RECENT_LIMIT = 20  # entries in a channel's list (a button each, within one message)
SEARCH_LIMIT = 10  # results of a search
# Newest minutes mentioning every word that a search ranks (from their search text; only
# the results' bodies are read); when more mention them, the answer says so and suggests
# more words. See benchmarks/minutes_search.py for what a search costs.
SEARCH_RANK_LIMIT = 1000
LIKE_ESCAPE = "/"
MAX_SEARCH_WORDS = 10
MATCHES_SHOWN = 5  # matching topics/takeaways shown per result

Body = dict[str, Any]


class PieceKind(StrEnum):
    TITLE = "title"
    TOPIC = "topic"
    QUESTION = "question"  # a health check's question, its score in the note
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
    note: str | None = None  # shown after the text but not searched: "score 75/100"


@dataclass(frozen=True)
class Digest:
    """What the archive needs to know about one set of minutes, whatever the format."""

    topic_count: int
    participant_ids: tuple[str, ...]
    pieces: tuple[Piece, ...]
    answered: int | None = None  # how many answered, for formats that count, not name, people


ProposerLookup = Callable[[AsyncSession, int], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class MinutesSource:
    """How the archive titles and reads the minutes of one format."""

    label: str  # shown next to each entry: "Lean Coffee"
    digest: Callable[[Body], Digest]
    # Who proposed each topic (title → Slack id), read from the format's own tables when its
    # minutes do not carry it; absent where proposals are anonymous.
    proposers: ProposerLookup | None = None
    led_by: str = "facilitated by"  # how the minutes' facilitator is introduced
    topic_word: str = "topic"  # what the digest's topics are called


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
    answered: int | None = None
    led_by: str = "facilitated by"
    topic_word: str = "topic"


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


@dataclass(frozen=True)
class SearchResult:
    """The best hits, and whether older minutes the person can see also mention every word
    but were not ranked (only the newest `ranked` were): then more words would narrow it."""

    hits: tuple[SearchHit, ...]
    more: bool = False
    ranked: int = 0


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


def score_note(question: HealthCheckMinutesQuestion) -> str:
    """A question's result in words: "score 75/100, up from 55"."""
    if not question.shown or question.score is None:
        return "too few answers to show"
    note = f"score {question.score:.0f}/100"
    if question.trend is None or question.previous_score is None:
        return note
    before = f"{question.previous_score:.0f}"
    if question.trend == Trend.UP:
        return f"{note}, up from {before}"
    if question.trend == Trend.DOWN:
        return f"{note}, down from {before}"
    return f"{note}, level ({before} last time)"


def _health_check_digest(body: Body) -> Digest:
    """A health check's questions are its topics, each with its score; actions recorded
    after it name their owners. Nobody who answered is named, in named checks too."""
    minutes = HealthCheckMinutes.model_validate(body)
    pieces: list[Piece] = [Piece(PieceKind.TITLE, minutes.title)]
    pieces.extend(
        Piece(PieceKind.QUESTION, question.title, note=score_note(question))
        for question in minutes.questions
    )
    pieces.extend(Piece(PieceKind.ACTION, a.text, (a.owner_id,)) for a in minutes.actions)
    return Digest(
        topic_count=len(minutes.questions),
        participant_ids=(),
        pieces=tuple(pieces),
        answered=minutes.respondents,
    )


LEAN_COFFEE = "lean_coffee"
MEETUP = "meetup"
HEALTH_CHECK = hc.MINUTES_SOURCE
SOURCES: dict[str, MinutesSource] = {
    LEAN_COFFEE: MinutesSource("Lean Coffee", _lean_coffee_digest, _lean_coffee_proposers),
    MEETUP: MinutesSource("Chat meetup", _meetup_digest),
    HEALTH_CHECK: MinutesSource(
        "Health check", _health_check_digest, led_by="run by", topic_word="question"
    ),
}


def source_of(name: str) -> MinutesSource:
    """The source's reader, or a plain one for formats this version does not know yet."""
    known = SOURCES.get(name)
    if known is not None:
        return known
    return MinutesSource(name.replace("_", " ").capitalize(), lambda _body: Digest(0, (), ()), None)


def digest_of(source: str, body: Body, title: str) -> Digest:
    """Read a body through its source; a shape this version cannot read still has its title."""
    try:
        digest = source_of(source).digest(body)
    except (ValidationError, KeyError, TypeError, ValueError):
        # Minutes of a shape this version cannot read still list by their row's own fields.
        digest = Digest(0, (), ())
    if not any(piece.kind == PieceKind.TITLE for piece in digest.pieces):
        digest = replace(digest, pieces=(Piece(PieceKind.TITLE, title), *digest.pieces))
    return digest


def _digest(row: Minutes) -> Digest:
    return digest_of(row.source, row.body, row.title)


def search_text_of(source: str, body: Body, title: str) -> str:
    """What search matches words against: each piece case-folded as `search_words` folds the
    words of a search, its spaces collapsed, one piece a line (so no word spans two pieces).

    The migration that added `search_text` keeps its own copy of this for the rows it
    backfilled; a change here that alters the text needs a migration refreshing it."""
    pieces = digest_of(source, body, title).pieces
    return "\n".join(" ".join(piece.text.casefold().split()) for piece in pieces)


@event.listens_for(Minutes, "before_insert")
def _index_new_minutes(_mapper: Mapper[Minutes], _connection: Connection, row: Minutes) -> None:
    """Every format stores minutes through the ORM: index them on the way in."""
    row.search_text = search_text_of(row.source, row.body, row.title)


@event.listens_for(Minutes, "before_update")
def _reindex_minutes(_mapper: Mapper[Minutes], _connection: Connection, row: Minutes) -> None:
    """A body (or title) changed later, such as a takeaway added after a meetup: index again."""
    state = inspect(row)
    if state.attrs.body.history.has_changes() or state.attrs.title.history.has_changes():
        row.search_text = search_text_of(row.source, row.body, row.title)


def _entry(row: Minutes, digest: Digest) -> MinutesEntry:
    source = source_of(row.source)
    return MinutesEntry(
        id=row.id,
        source=row.source,
        label=source.label,
        channel_id=row.channel_id,
        title=row.title,
        held_on=row.held_on,
        facilitator_id=row.facilitator_id,
        topic_count=digest.topic_count,
        participant_ids=digest.participant_ids,
        answered=digest.answered,
        led_by=source.led_by,
        topic_word=source.topic_word,
    )


_NEWEST_FIRST = (Minutes.held_on.desc(), Minutes.created_at.desc(), Minutes.id.desc())
_CANDIDATE_COLUMNS = (
    Minutes.id,
    Minutes.channel_id,
    Minutes.search_text,
    Minutes.held_on,
    Minutes.created_at,
)


def _newest_first(team_id: str) -> Any:
    return select(Minutes).where(Minutes.team_id == team_id).order_by(*_NEWEST_FIRST)


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


def _mentions(texts: Sequence[str], words: Sequence[str]) -> list[int] | None:
    """How many of the words each (case-folded) piece mentions; None unless every word is
    mentioned somewhere. The score of a set of minutes is the sum."""
    if not all(any(word in text for text in texts) for word in words):
        return None
    return [sum(1 for word in words if word in text) for text in texts]


def _score(digest: Digest, words: Sequence[str]) -> tuple[int, tuple[Piece, ...]] | None:
    """All words must appear somewhere; the score is how many (piece, word) mentions there are.

    Returns the score and the mentioning pieces, those naming most words first."""
    mentions = _mentions([piece.text.casefold() for piece in digest.pieces], words)
    if mentions is None:
        return None
    found = [(hits, position) for position, hits in enumerate(mentions) if hits]
    found.sort(key=lambda item: (-item[0], item[1]))
    return sum(mentions), tuple(digest.pieces[position] for _, position in found)


def like_pattern(word: str) -> str:
    """A LIKE pattern finding `word` anywhere, its `%`, `_` and escape characters literal."""
    for special in (LIKE_ESCAPE, "%", "_"):
        word = word.replace(special, LIKE_ESCAPE + special)
    return f"%{word}%"


def _mentions_every_word(words: Sequence[str]) -> ColumnElement[bool]:
    """Rows whose search text holds every word; rows never indexed (written some other way)
    are let through too, for the ranking to judge from their body."""
    return or_(
        Minutes.search_text.is_(None),
        and_(*(Minutes.search_text.like(like_pattern(w), escape=LIKE_ESCAPE) for w in words)),
    )


async def search(
    session: AsyncSession,
    team_id: str,
    words: Sequence[str],
    *,
    can_see: Callable[[str], Awaitable[bool]],
    limit: int = SEARCH_LIMIT,
    rank_limit: int = SEARCH_RANK_LIMIT,
) -> SearchResult:
    """Minutes anywhere in the workspace mentioning every word, best first.

    The database finds the minutes mentioning every word; the newest `rank_limit` of them
    are ranked by how often they mention the words (scored from their search text, one
    piece a line, so no body is read but the results'), then by how recent they are.
    `can_see` is asked once per channel, only of the best results (and, when more minutes
    matched than were ranked, of the rest's channels until one is visible), so a private
    channel's minutes are left out for anyone who is not in it.
    """
    words = [word.casefold() for word in words]
    if not words:
        return SearchResult(())
    rank_limit = max(rank_limit, 1)
    candidates = list(
        await session.execute(
            select(*_CANDIDATE_COLUMNS)
            .where(Minutes.team_id == team_id, _mentions_every_word(words))
            .order_by(*_NEWEST_FIRST)
            .limit(rank_limit + 1)
        )
    )
    ranked, unranked = candidates[:rank_limit], len(candidates) > rank_limit
    texts = await _search_texts(session, ranked)
    scored: list[tuple[int, int, int, str]] = []  # score, position (newest first), id, channel
    for position, row in enumerate(ranked):
        mentions = _mentions(texts[row.id].split("\n"), words)
        if mentions is not None:
            scored.append((sum(mentions), position, row.id, row.channel_id))
    scored.sort(key=lambda item: (-item[0], item[1]))
    visible: dict[str, bool] = {}
    results: list[SearchHit] = []
    for _, _, minutes_id, channel_id in scored:
        if channel_id not in visible:
            visible[channel_id] = await can_see(channel_id)
        if not visible[channel_id]:
            continue
        hit = await _hit(session, minutes_id, words)
        if hit is not None:
            results.append(hit)
        if len(results) >= limit:
            break
    more = unranked and await _any_visible_beyond(
        session, team_id, words, ranked[-1], visible, can_see
    )
    return SearchResult(tuple(results), more, len(ranked))


async def _search_texts(session: AsyncSession, candidates: Sequence[Any]) -> dict[int, str]:
    """Each candidate's search text; minutes never indexed are read from their body."""
    texts = {row.id: row.search_text for row in candidates if row.search_text is not None}
    missing = [row.id for row in candidates if row.search_text is None]
    if missing:
        rows = await session.scalars(select(Minutes).where(Minutes.id.in_(missing)))
        texts.update({row.id: search_text_of(row.source, row.body, row.title) for row in rows})
    return texts


async def _hit(session: AsyncSession, minutes_id: int, words: Sequence[str]) -> SearchHit | None:
    """A result as shown: the minutes read through their format, the matching pieces first."""
    row = await session.get(Minutes, minutes_id)
    if row is None:
        return None
    digest = _digest(row)
    found = _score(digest, words)
    if found is None:  # a search text out of step with its body: the body has the last word
        return None
    matches = await _with_proposers(session, row, found[1][:MATCHES_SHOWN])
    return SearchHit(_entry(row, digest), matches, found[0])


def _older_than(row: Any) -> ColumnElement[bool]:
    """Minutes after `row` in newest-first order (it has `held_on`, `created_at` and `id`)."""
    return or_(
        Minutes.held_on < row.held_on,
        and_(
            Minutes.held_on == row.held_on,
            or_(
                Minutes.created_at < row.created_at,
                and_(Minutes.created_at == row.created_at, Minutes.id < row.id),
            ),
        ),
    )


async def _any_visible_beyond(
    session: AsyncSession,
    team_id: str,
    words: Sequence[str],
    last_ranked: Any,
    visible: dict[str, bool],
    can_see: Callable[[str], Awaitable[bool]],
) -> bool:
    """Whether any minutes mentioning every word, older than the ranked ones, are in a
    channel the person can see: only then does the answer say there are more, so "more"
    never stands for minutes they could not open anyway. Channels already known to be
    visible are looked at first; the others are asked about until one is visible."""
    rest = (Minutes.team_id == team_id, _mentions_every_word(words), _older_than(last_ranked))
    seen = [channel_id for channel_id, may in visible.items() if may]
    if seen:
        found = await session.scalar(
            select(Minutes.id).where(*rest, Minutes.channel_id.in_(seen)).limit(1)
        )
        if found is not None:
            return True
    others = select(Minutes.channel_id).where(*rest).distinct()
    if visible:
        others = others.where(Minutes.channel_id.not_in(list(visible)))
    for channel_id in sorted(await session.scalars(others)):
        visible[channel_id] = await can_see(channel_id)
        if visible[channel_id]:
            return True
    return False


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
