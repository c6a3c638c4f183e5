"""The Markdown export: escaping, order, names, and formats it does not know."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services.lean_coffee_types import (
    LeanCoffeeMinutes,
    MinutesAction,
    MinutesTakeaway,
    MinutesTopic,
)
from bot.services.meetup import Airtime, MeetupMinutes
from bot.services.meetup import MinutesPrompt as MeetupPrompt
from bot.services.meetup import MinutesReply as MeetupReply
from bot.services.meetup import MinutesTakeaway as MeetupTakeaway
from bot.services.minutes import MinutesEntry, StoredMinutes
from bot.services.minutes_export import (
    escape_markdown,
    export_filename,
    minutes_markdown,
    people_in,
    person,
)

DAY = date(2026, 11, 16)


def lean_coffee(title: str, minutes_id: int = 1, held_on: date = DAY) -> StoredMinutes:
    body = LeanCoffeeMinutes(
        session_id=minutes_id,
        channel_id="C1",
        title=title,
        held_on=held_on,
        started_at=datetime(2026, 11, 16, 10, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 16, 10, 45, tzinfo=UTC),
        facilitator_id="UALICE",
        participant_ids=("UALICE", "UBOB"),
        discussed=(
            MinutesTopic(
                title="- Pairing *on* <b>content</b>",
                votes=3,
                seconds_spent=660,
                takeaways=(
                    MinutesTakeaway(text="Pair weekly_ish", author_id="UBOB"),
                    MinutesTakeaway(
                        text="Book a room",
                        author_id="UBOB",
                        is_action=True,
                        owner_id="UCAROL",
                        due_date=date(2026, 12, 4),
                    ),
                ),
            ),
        ),
        actions=(
            MinutesAction(
                text="Book a room",
                topic_title="- Pairing *on* <b>content</b>",
                owner_id="UCAROL",
                due_date=date(2026, 12, 4),
            ),
        ),
        carried_over=("1. Not a list",),
    )
    entry = MinutesEntry(
        id=minutes_id,
        source="lean_coffee",
        label="Lean Coffee",
        channel_id="C1",
        title=title,
        held_on=held_on,
        facilitator_id="UALICE",
        topic_count=1,
        participant_ids=("UALICE", "UBOB"),
    )
    return StoredMinutes(entry, body.model_dump(mode="json"))


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("plain words", "plain words"),
        ("*bold* _it_ `code`", "\\*bold\\* \\_it\\_ \\`code\\`"),
        ("[link](http://x) ![img](y)", "\\[link\\](http://x) \\!\\[img\\](y)"),
        ("<script>&amp;", "\\<script\\>\\&amp;"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("a | b ~~c~~", "a \\| b \\~\\~c\\~\\~"),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two lines"),
    ],
)
def test_escape_markdown(typed: str, escaped: str) -> None:
    assert escape_markdown(typed) == escaped


def test_people_by_name_or_by_id() -> None:
    assert person("UBOB", {"UBOB": "bob_b"}) == "@bob\\_b"
    assert person("UX", {}) == "@UX"


def test_the_whole_file() -> None:
    names = {"UALICE": "alice", "UBOB": "bob", "UCAROL": "carol"}
    newer = lean_coffee("Second *coffee*", 2, date(2026, 11, 20))
    older = lean_coffee("First coffee", 1)

    text = minutes_markdown("practice", [newer, older], names, date(2026, 11, 23))

    assert text.startswith("# Minutes of \\#practice\n\n")
    assert "Exported from hearth on Mon 23 Nov 2026: 2 sets of minutes, newest first." in text
    assert text.index("## Second \\*coffee\\* · Lean Coffee · Fri 20 Nov 2026") < text.index(
        "## First coffee · Lean Coffee · Mon 16 Nov 2026"
    )
    assert "- Time: 10:00 to 10:45 UTC" in text
    assert "- Facilitated by @alice" in text
    assert "- Who took part (2): @alice, @bob" in text
    assert "1. **\\- Pairing \\*on\\* \\<b\\>content\\</b\\>** · 3 votes · 11 min" in text
    assert "   - Pair weekly\\_ish (@bob)" in text
    assert "   - Action: Book a room — @carol, due Fri 4 Dec 2026" in text
    assert "### Actions" in text
    assert "### Not reached\n\n- 1\\. Not a list" in text
    assert "<b>" not in text and "UCAROL" not in text
    assert text.endswith("\n")


def test_unknown_formats_get_a_summary() -> None:
    entry = MinutesEntry(7, "retro", "Retro", "C1", "Retro [1]", DAY, "UALICE", 0, ())
    stored = StoredMinutes(entry, {"anything": True})

    text = minutes_markdown("practice", [stored], {}, DAY)

    assert "1 set of minutes" in text
    assert "## Retro \\[1\\] · Retro · Mon 16 Nov 2026" in text
    assert "- Facilitated by @UALICE" in text


def test_a_body_of_an_unreadable_shape_is_summarised() -> None:
    stored = lean_coffee("Broken")
    broken = StoredMinutes(stored.entry, {"title": "no more fields"})

    text = minutes_markdown("practice", [broken], {}, DAY)

    assert "## Broken · Lean Coffee" in text
    assert "- Facilitated by @UALICE" in text


def test_filename_and_people() -> None:
    assert export_filename("Content Design!", DAY) == "hearth-minutes-content-design-2026-11-16.md"
    assert export_filename("", DAY) == "hearth-minutes-channel-2026-11-16.md"
    assert people_in([lean_coffee("A")]) == ["UALICE", "UBOB", "UCAROL"]


def test_a_meetup_is_written_in_full_without_what_was_off_the_record() -> None:
    body = MeetupMinutes(
        meetup_id=3,
        channel_id="C1",
        title="Chat meetup: What surprised you?",
        held_on=DAY,
        started_at=datetime(2026, 11, 16, 12, 0, tzinfo=UTC),
        ended_at=datetime(2026, 11, 16, 12, 30, tzinfo=UTC),
        facilitator_id="UALICE",
        participant_ids=("UALICE", "UBOB", "UCAROL"),
        airtime=(Airtime(user_id="UBOB", replies=2), Airtime(user_id="UCAROL", replies=1)),
        anonymous_replies=1,
        prompts=(
            MeetupPrompt(
                text="What *surprised* you?",
                replies=(
                    MeetupReply(author_id="UBOB", text="# Style guides\nare read"),
                    MeetupReply(author_id=None, text="Nobody reads the wiki"),
                ),
                off_record=1,
            ),
            MeetupPrompt(text="What next?", replies=(), off_record=0),
        ),
        takeaways=(
            MeetupTakeaway(text="Share the guide", author_id="UALICE"),
            MeetupTakeaway(
                text="Book a crit", author_id="UALICE", owner_id="UBOB", due_date=date(2026, 12, 4)
            ),
        ),
    )
    entry = MinutesEntry(3, "meetup", "Chat meetup", "C1", body.title, DAY, "UALICE", 2, ())
    stored = StoredMinutes(entry, body.model_dump(mode="json"))

    text = minutes_markdown("practice", [stored], {"UBOB": "bob"}, DAY)

    assert "- Airtime: @bob 2 replies, @UCAROL 1 reply, anonymous 1 reply" in text
    assert "### 1. What \\*surprised\\* you?" in text
    assert "- \\# Style guides are read (@bob)" in text
    assert "- Nobody reads the wiki (anonymous)" in text
    assert "- _1 reply off the record_" in text
    assert "### 2. What next?\n\nNo replies." in text
    assert "- Share the guide (@UALICE)" in text
    assert "- Action: Book a crit — @bob, due Fri 4 Dec 2026" in text
    assert "may be missing" not in text
    assert set(people_in([stored])) == {"UALICE", "UBOB", "UCAROL"}
