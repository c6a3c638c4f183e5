"""A health check's minutes as the archive shows them: its list line, search lines, full view
and Markdown section; escaped, within Slack's limits, and naming nobody who answered."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.blocks import minutes as blocks
from bot.blocks.common import MAX_MESSAGE_BLOCKS
from bot.services import minutes as archive
from bot.services.health_check_types import (
    DEFAULT_SCALE,
    HealthCheckMinutes,
    HealthCheckMinutesAction,
    HealthCheckMinutesChoice,
    HealthCheckMinutesOption,
    HealthCheckMinutesQuestion,
    Trend,
)
from bot.services.minutes import MinutesEntry, Piece, PieceKind, SearchHit, SearchResult
from bot.services.minutes import StoredMinutes as Stored
from bot.services.minutes_export import minutes_markdown, people_in
from tests.unit.test_blocks_minutes import as_json, mrkdwn_of

NASTY = "<!channel> & <@U0EVIL> *well-being* # [x](y)"
DAY = date(2026, 11, 25)
SCALE = tuple(
    HealthCheckMinutesOption(label=o.label, emoji=o.emoji, score=o.score) for o in DEFAULT_SCALE
)


def tally(*counts: int) -> tuple[HealthCheckMinutesChoice, ...]:
    return tuple(
        HealthCheckMinutesChoice(label=o.label, emoji=o.emoji, count=n)
        for o, n in zip(SCALE, counts, strict=True)
    )


def question(title: str = "Learning", **changes: object) -> HealthCheckMinutesQuestion:
    values: dict[str, object] = {
        "key": "learning",
        "title": title,
        "answers": 4,
        "shown": True,
        "score": 75.0,
        "previous_score": 55.0,
        "change": 20.0,
        "trend": Trend.UP,
        "disagreement": 25.0,
        "distribution": tally(2, 2, 0),
    }
    values.update(changes)
    return HealthCheckMinutesQuestion.model_validate(values)


def check_minutes(**changes: object) -> HealthCheckMinutes:
    values: dict[str, object] = {
        "check_id": 7,
        "channel_id": "C0PRACTICE",
        "title": "Community health check",
        "held_on": DAY,
        "opened_at": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        "closed_at": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "closed_early": False,
        "anonymous": True,
        "respondents": 4,
        "members": 10,
        "min_answers": 3,
        "below_minimum": False,
        "scale": SCALE,
        "questions": (
            question(NASTY),
            question("Fun", score=40.0, previous_score=42.0, change=-2.0, trend=Trend.LEVEL),
            question(
                "Purpose",
                answers=1,
                shown=False,
                score=None,
                previous_score=None,
                change=None,
                trend=None,
                disagreement=None,
                distribution=(),
            ),
        ),
        "actions": (
            HealthCheckMinutesAction(text=NASTY, owner_id="U0OWNER", due_date=date(2026, 12, 4)),
        ),
    }
    values.update(changes)
    return HealthCheckMinutes.model_validate(values)


def stored(minutes: HealthCheckMinutes) -> Stored:
    body = minutes.model_dump(mode="json")
    digest = archive.digest_of("health_check", body, minutes.title)
    source = archive.source_of("health_check")
    entry = MinutesEntry(
        id=3,
        source="health_check",
        label=source.label,
        channel_id=minutes.channel_id,
        title=minutes.title,
        held_on=minutes.held_on,
        facilitator_id="U0RUNNER",
        topic_count=digest.topic_count,
        participant_ids=digest.participant_ids,
        answered=digest.answered,
        led_by=source.led_by,
        topic_word=source.topic_word,
    )
    return Stored(entry, body)


# --- the digest -------------------------------------------------------------------------------


def test_the_digest_is_the_questions_with_their_scores_and_the_actions() -> None:
    body = check_minutes().model_dump(mode="json")

    digest = archive.digest_of("health_check", body, "Community health check")

    assert digest.topic_count == 3 and digest.participant_ids == () and digest.answered == 4
    assert [(p.kind, p.text, p.note, p.people) for p in digest.pieces] == [
        (PieceKind.TITLE, "Community health check", None, ()),
        (PieceKind.QUESTION, NASTY, "score 75/100, up from 55", ()),
        (PieceKind.QUESTION, "Fun", "score 40/100, level (42 last time)", ()),
        (PieceKind.QUESTION, "Purpose", "too few answers to show", ()),
        (PieceKind.ACTION, NASTY, None, ("U0OWNER",)),
    ]
    # Search matches words in the title, questions and actions; never a note or a person.
    text = archive.search_text_of("health_check", body, "Community health check")
    assert text.split("\n") == [
        "community health check",
        NASTY.casefold(),
        "fun",
        "purpose",
        NASTY.casefold(),
    ]


# --- Slack ------------------------------------------------------------------------------------


def test_the_list_and_search_say_who_ran_it_and_how_many_answered() -> None:
    entry = stored(check_minutes()).entry
    hit = SearchHit(
        entry,
        (
            Piece(PieceKind.QUESTION, NASTY, note="score 75/100, up from 55"),
            Piece(PieceKind.ACTION, NASTY, ("U0OWNER",)),
        ),
        2,
    )

    listed = mrkdwn_of(blocks.list_blocks([entry], total=1))
    found = mrkdwn_of(blocks.search_blocks("well-being", SearchResult((hit,))))

    assert "run by <@U0RUNNER> · 3 questions · 4 people answered" in listed
    assert "Run by <@U0RUNNER> · 4 people answered" in found
    assert "• Question: *&lt;!channel&gt; &amp; &lt;@U0EVIL&gt; *well-being* # [x](y)* · " in found
    assert "score 75/100, up from 55" in found
    assert "• Action: &lt;!channel&gt;" in found and "· <@U0OWNER>" in found
    assert "acilitated" not in listed + found
    assert "<!channel>" not in listed + found and "<@U0EVIL>" not in listed + found


def test_in_full_the_scores_as_the_results_message_showed_them() -> None:
    (message,) = blocks.full_messages(stored(check_minutes()))

    raw = mrkdwn_of(message)
    as_json(message)
    assert "Health check in <#C0PRACTICE> · Wed 25 Nov 2026 · run by <@U0RUNNER>" in raw
    assert "4 people answered, 40% of the channel's 10 members." in raw
    assert "Answers were anonymous; only the totals are kept." in raw
    assert "score *75*/100, ↑ up from 55 (+20), some disagreement" in raw
    assert ":large_green_circle: Going well *2* · :large_yellow_circle: Mixed *2*" in raw
    assert "*Fun*: score *40*/100, → level (42 last time), some disagreement" in raw
    assert "*Purpose*: 1 answer, too few to show" in raw
    assert "Scores run from 0 (everyone said :red_circle: Needs attention)" in raw
    assert "• &lt;!channel&gt; &amp; &lt;@U0EVIL&gt;" in raw
    assert "<@U0OWNER>, due Fri 4 Dec 2026" in raw
    assert "<!channel>" not in raw and "<@U0EVIL>" not in raw


def test_in_full_a_named_check_and_one_with_too_few_answers() -> None:
    named = mrkdwn_of(blocks.full_messages(stored(check_minutes(anonymous=False)))[0])
    assert "Only the totals are kept here." in named and "anonymous" not in named

    few = check_minutes(
        below_minimum=True,
        respondents=2,
        members=None,
        closed_early=True,
        questions=(question(shown=False, distribution=(), score=None),),
        actions=(),
    )
    raw = mrkdwn_of(blocks.full_messages(stored(few))[0])
    assert "2 people answered. It was closed early." in raw
    assert "fewer than the 3 answers needed" in raw
    assert "score" not in raw and "Actions" not in raw


def test_in_full_the_largest_check_stays_within_slacks_limits() -> None:
    many = check_minutes(
        questions=tuple(question(f"Question {n} " + "x" * 140) for n in range(20)),
        actions=tuple(
            HealthCheckMinutesAction(text="y" * 1000, owner_id="U0OWNER") for _ in range(40)
        ),
    )

    messages = blocks.full_messages(stored(many))

    assert all(len(m) <= MAX_MESSAGE_BLOCKS for m in messages)
    raw = "".join(as_json(m) for m in messages)  # checks each section's length too
    assert raw.count("Question ") == 20 and raw.count("y" * 1000) == 40


def test_a_health_check_body_this_version_cannot_read_is_summarised() -> None:
    broken = Stored(stored(check_minutes()).entry, {"title": "no more fields"})

    (message,) = blocks.full_messages(broken)

    assert "run by <@U0RUNNER>" in mrkdwn_of(message)
    assert "- Run by @U0RUNNER" in minutes_markdown("practice", [broken], {}, DAY)


# --- Markdown ---------------------------------------------------------------------------------


def test_the_markdown_section() -> None:
    item = stored(check_minutes())
    names = {"U0RUNNER": "alice", "U0OWNER": "carol"}

    text = minutes_markdown("practice", [item], names, DAY)

    assert "## Community health check · Health check · Wed 25 Nov 2026" in text
    assert "- Open: Mon 23 Nov 2026 10:00 to Wed 25 Nov 2026 10:00 UTC\n" in text
    assert "- Run by @alice" in text
    assert (
        "- Answers: 4 people answered, 40% of the channel's 10 members "
        "(anonymous: only the totals are kept)"
    ) in text
    assert (
        "- **\\<\\!channel\\> \\& \\<@U0EVIL\\> \\*well-being\\* \\# \\[x\\](y)**: score 75/100, "
        "+20 since last time (55), spread 25/50 · Going well 2, Mixed 2, Needs attention 0"
    ) in text
    assert "- **Fun**: score 40/100, -2 since last time (42), spread 25/50" in text
    assert "- **Purpose**: 1 answer, too few to show" in text
    assert "### Actions\n\n- \\<\\!channel\\>" in text and "— @carol, due Fri 4 Dec 2026" in text
    assert people_in([item]) == ["U0RUNNER", "U0OWNER"]


def test_the_markdown_of_a_check_with_too_few_answers() -> None:
    few = check_minutes(below_minimum=True, respondents=1, members=None, actions=())

    text = minutes_markdown("practice", [stored(few)], {}, DAY)

    assert "- Answers: 1 person answered (anonymous: only the totals are kept)" in text
    assert "Fewer than the 3 answers needed, so the results weren't shown." in text
    assert "score" not in text and "### Actions" not in text
