"""/minutes messages: within Slack's limits, user text escaped, the right buttons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from slack_sdk.models.blocks import Block

from bot.blocks import minutes as blocks
from bot.blocks.common import MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT
from bot.services.minutes import (
    MinutesEntry,
    Piece,
    PieceKind,
    SearchHit,
    SearchResult,
    StoredMinutes,
)
from tests.unit.test_minutes_markdown import lean_coffee

NASTY = "<!channel> & <@U0EVIL> *pairing*"


def entry(number: int, title: str = "Coffee", source: str = "lean_coffee") -> MinutesEntry:
    return MinutesEntry(
        id=number,
        source=source,
        label="Lean Coffee",
        channel_id="C0PRACTICE",
        title=title,
        held_on=date(2026, 11, 16),
        facilitator_id="UALICE",
        topic_count=3,
        participant_ids=tuple(f"U{i}" for i in range(30)),
    )


def as_json(message: list[Block]) -> str:
    dicts = [b.to_dict() for b in message]  # validates each block
    for block in dicts:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= MAX_SECTION_TEXT
    return json.dumps(dicts)


def mrkdwn_of(message: list[Block]) -> str:
    """Every mrkdwn text in the message (plain text, as in headers, is never parsed)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([b.to_dict() for b in message])
    return "\n".join(found)


def test_the_list_stays_within_one_message() -> None:
    entries = [entry(n, f"Coffee {n}") for n in range(25)]

    message = blocks.list_blocks(entries[:20], total=25)

    assert len(message) <= MAX_MESSAGE_BLOCKS
    raw = as_json(message)
    assert raw.count(blocks.SHOW_BUTTON) == 20
    assert "and 5 older sets" in raw
    assert '"value": "{\\"m\\":3}"' in raw
    assert "minutes.show" in raw


def test_an_empty_list_explains_itself() -> None:
    raw = as_json(blocks.list_blocks([], total=0))
    assert "No minutes have been kept in this channel yet" in raw
    assert blocks.SHOW_BUTTON not in raw


def test_user_text_is_escaped_everywhere() -> None:
    hit = SearchHit(
        entry=entry(1, NASTY),
        matches=(
            Piece(PieceKind.TOPIC, NASTY, ("UBOB",)),
            Piece(PieceKind.TAKEAWAY, NASTY, ("UCAROL",), topic=NASTY),
            Piece(PieceKind.ACTION, NASTY, ("UDAVE",), topic=NASTY),
            Piece(PieceKind.NOT_REACHED, NASTY),
            Piece(PieceKind.TITLE, NASTY),
        ),
        score=5,
    )
    more = SearchResult((hit,), more=True, ranked=500)
    raw = mrkdwn_of(blocks.search_blocks(NASTY, more))
    raw += mrkdwn_of(blocks.list_blocks([entry(1, NASTY)], total=1))
    raw += blocks.no_results_text(NASTY) + blocks.search_text(NASTY, more)
    raw += blocks.no_results_text(NASTY, SearchResult((), more=True, ranked=500))

    assert "<!channel>" not in raw and "<@U0EVIL>" not in raw
    assert "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt;" in raw
    # Our own mentions still render.
    for who in ("<@UALICE>", "<@UBOB>", "<@UCAROL>", "<@UDAVE>", "<#C0PRACTICE>"):
        assert who in raw


def test_search_results_name_people_and_stay_within_limits() -> None:
    long_text = "pairing " * 200
    hits = [
        SearchHit(
            entry=entry(n, "x" * 500),
            matches=tuple(Piece(PieceKind.TAKEAWAY, long_text, ("UBOB",)) for _ in range(5)),
            score=5,
        )
        for n in range(10)
    ]

    message = blocks.search_blocks("pairing", SearchResult(tuple(hits), more=True, ranked=500))

    assert len(message) <= MAX_MESSAGE_BLOCKS
    raw = as_json(message)
    assert raw.count(blocks.SHOW_BUTTON) == 10
    assert "and 18 others" in raw  # 30 people: 12 named
    assert "proposed by" not in raw and "from <@UBOB>" in raw
    assert "Topic" not in raw


def test_search_results_do_not_name_the_facilitator_twice() -> None:
    with_facilitator = replace(entry(1), participant_ids=("UALICE", "UBOB"))
    alone = replace(entry(2), participant_ids=("UALICE",))
    hits = tuple(SearchHit(e, (), 1) for e in (with_facilitator, alone))

    raw = mrkdwn_of(blocks.search_blocks("pairing", SearchResult(hits)))

    assert "Facilitated by <@UALICE> with <@UBOB>" in raw
    assert "with <@UALICE>" not in raw


def test_search_says_when_more_minutes_matched_than_were_ranked() -> None:
    hit = SearchHit(entry=entry(1), matches=(), score=1)
    narrow = "Add a word or two to narrow the search"

    every = SearchResult((hit,), more=False, ranked=1)
    assert narrow not in as_json(blocks.search_blocks("pairing", every))
    assert blocks.search_text("pairing", every) == "1 set of minutes mention “pairing”."
    assert "Tip: try fewer" in blocks.no_results_text("pairing", SearchResult((), ranked=3))

    more = SearchResult((hit,), more=True, ranked=500)
    raw = as_json(blocks.search_blocks("pairing", more))
    assert "these are the best of the newest 500. " + narrow in raw
    assert narrow in blocks.search_text("pairing", more)
    nothing_visible = blocks.no_results_text("pairing", SearchResult((), more=True, ranked=500))
    assert "None of the newest 500 sets of minutes" in nothing_visible
    assert narrow in nothing_visible and "Tip: try fewer" not in nothing_visible


def test_full_minutes_use_the_formats_own_builder() -> None:
    stored = lean_coffee("First coffee")

    messages = blocks.full_messages(stored)

    raw = "".join(as_json(m) for m in messages)
    assert "Minutes: First coffee" in raw
    assert "Pair weekly_ish" in raw


def test_full_minutes_of_an_unknown_format_are_summarised() -> None:
    stored = StoredMinutes(entry(9, NASTY, source="meetup"), {"other": "shape"})
    broken = StoredMinutes(entry(9, "Broken"), {"title": "missing fields"})

    for item in (stored, broken):
        (message,) = blocks.full_messages(item)
        as_json(message)
        raw = mrkdwn_of(message)
        assert "facilitated by <@UALICE>" in raw
        assert "<!channel>" not in raw


def test_help_covers_every_command() -> None:
    raw = as_json(blocks.help_blocks())
    for command in ("`/minutes`", "`/minutes some words`", "`/minutes export`", "`/minutes help`"):
        assert command in raw
