"""What the minutes archive looks like in Slack: a channel's list, search results, the
minutes in full, and the guide.

Pure functions from the plain values in `bot.services.minutes` to Block Kit objects. Showing a
format's minutes in full is the format's own builder, looked up in `RENDERERS` by source, so
Lean Coffee minutes look the same here as when the session ended; a health check's show its
results as the results message did (totals and scores, never who answered). All user text
passes through `safe()` before it reaches mrkdwn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.blocks import lean_coffee
from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    button,
    context,
    day_text,
    guide_blocks,
    header,
    list_words,
    mention,
    one_line,
    plural,
    safe,
    section,
    split_messages,
    text_sections,
)
from bot.blocks.health_check import TREND_ARROWS, disagreement_words, score_words
from bot.ids import MinutesAction
from bot.services.health_check_types import (
    HealthCheckMinutes,
    HealthCheckMinutesAction,
    HealthCheckMinutesQuestion,
    Trend,
)
from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.minutes import (
    HEALTH_CHECK,
    LEAN_COFFEE,
    MEETUP,
    RECENT_LIMIT,
    MinutesEntry,
    Piece,
    PieceKind,
    SearchHit,
    SearchResult,
    StoredMinutes,
)
from bot.state import MinutesRef

TITLE_CHARS = 100
PIECE_CHARS = 200
PEOPLE_SHOWN = 12
SHOW_BUTTON = "Show minutes"


# --- small pieces ----------------------------------------------------------------------------


def _title(text: str) -> str:
    return safe(one_line(text), TITLE_CHARS) or "Untitled"


def _people(user_ids: Sequence[str], limit: int = PEOPLE_SHOWN) -> str:
    shown = [mention(u) for u in user_ids[:limit]]
    rest = len(user_ids) - len(shown)
    if rest > 0:
        shown.append(plural(rest, "other"))
    return list_words(shown)


def _show_button(entry: MinutesEntry) -> Any:
    return button(SHOW_BUTTON, MinutesAction.SHOW, MinutesRef(m=entry.id).encode())


def _answered(entry: MinutesEntry) -> str:
    return f"{plural(entry.answered or 0, 'person', 'people')} answered"


def _entry_text(entry: MinutesEntry, *, where: bool) -> str:
    place = f" in <#{entry.channel_id}>" if where else ""
    first = f"*{_title(entry.title)}* · {entry.label}{place} · {day_text(entry.held_on)}"
    details = [f"{entry.led_by} {mention(entry.facilitator_id)}"]
    if entry.topic_count:
        details.append(plural(entry.topic_count, entry.topic_word))
    if entry.participant_ids:
        details.append(plural(len(entry.participant_ids), "person", "people"))
    if entry.answered is not None:
        details.append(_answered(entry))
    return f"{first}\n{' · '.join(details)}"


# --- a channel's list ------------------------------------------------------------------------


def list_blocks(entries: Sequence[MinutesEntry], total: int) -> list[Block]:
    """The channel's minutes, newest first as given, each with a button to show them."""
    blocks: list[Block] = [header("Minutes kept in this channel")]
    if not entries:
        blocks.append(section(no_minutes_text()))
        return blocks
    shown = entries[: min(RECENT_LIMIT, MAX_MESSAGE_BLOCKS - 3)]
    blocks.extend(section(_entry_text(e, where=False), accessory=_show_button(e)) for e in shown)
    older = total - len(shown)
    tip = "Only you can see this. `/minutes export` shares them all here as a file."
    if older > 0:
        tip = f"…and {plural(older, 'older set')} of minutes. {tip}"
    blocks.append(context(tip))
    return blocks


def list_text(entries: Sequence[MinutesEntry]) -> str:
    if not entries:
        return no_minutes_text()
    return f"Minutes kept in this channel: {len(entries)} most recent."


def no_minutes_text() -> str:
    return (
        "No minutes have been kept in this channel yet. They're saved here when a Lean Coffee "
        "or a chat meetup ends, and when a health check closes. Type `/minutes some words` to "
        "search every community's minutes."
    )


# --- search ----------------------------------------------------------------------------------


def _piece_line(piece: Piece) -> str | None:
    text = safe(one_line(piece.text), PIECE_CHARS)
    people = list_words([mention(p) for p in piece.people])
    on_topic = f" on _{_title(piece.topic)}_" if piece.topic else ""
    if piece.kind == PieceKind.TOPIC:
        by = f" · proposed by {people}" if people else ""
        return f"• Topic: *{text}*{by}"
    if piece.kind == PieceKind.QUESTION:
        note = f" · {safe(one_line(piece.note), PIECE_CHARS)}" if piece.note else ""
        return f"• Question: *{text}*{note}"
    if piece.kind == PieceKind.TAKEAWAY:
        by = f" · from {people}" if people else ""
        return f"• Takeaway{on_topic}: {text}{by}"
    if piece.kind == PieceKind.ACTION:
        by = f" · {people}" if people else ""
        return f"• Action{on_topic}: {text}{by}"
    if piece.kind == PieceKind.NOT_REACHED:
        return f"• Proposed but not reached: *{text}*"
    return None  # the title is already shown


def _more_text(result: SearchResult) -> str:
    return (
        f"More minutes mention these words than I can rank at once, so these are the best of "
        f"the newest {result.ranked}. Add a word or two to narrow the search."
    )


def search_blocks(query: str, result: SearchResult) -> list[Block]:
    """Where, when and who: each result's minutes, people and the lines that matched; and,
    when only the newest matching minutes were ranked, that more words would narrow it."""
    hits: Sequence[SearchHit] = result.hits
    blocks: list[Block] = [
        header(f"Minutes mentioning “{one_line(query)}”"),
        context(
            f"{plural(len(hits), 'result')}, best match first, from every community you can see."
        ),
    ]
    if result.more:
        blocks.append(context(_more_text(result)))
    for hit in hits:
        entry = hit.entry
        who = [f"{entry.led_by.capitalize()} {mention(entry.facilitator_id)}"]
        others = [p for p in entry.participant_ids if p != entry.facilitator_id]
        if others:
            who.append(f"with {_people(others)}")
        if entry.answered is not None:
            who.append(f"· {_answered(entry)}")
        text = (
            f"*{_title(entry.title)}* · {entry.label} in <#{entry.channel_id}> · "
            f"{day_text(entry.held_on)}\n{' '.join(who)}"
        )
        blocks.append(section(text, accessory=_show_button(entry)))
        lines = [line for line in (_piece_line(p) for p in hit.matches) if line]
        if lines:
            blocks.append(section("\n".join(lines)))
    blocks.append(
        context("Only you can see this. Say hello to the people named: they've been there.")
    )
    return split_messages(blocks)[0]


def search_text(query: str, result: SearchResult) -> str:
    found = f"{plural(len(result.hits), 'set')} of minutes mention “{safe(one_line(query), 100)}”."
    return f"{found} {_more_text(result)}" if result.more else found


def no_results_text(query: str, result: SearchResult | None = None) -> str:
    """Nothing to show: fewer words may help, unless too many minutes matched to rank."""
    quoted = f"“{safe(one_line(query), 100)}”"
    if result is not None and result.more:
        return (
            f"None of the newest {result.ranked} sets of minutes mentioning all of {quoted} "
            "came up for you, and older ones mention them too. Add a word or two to narrow "
            "the search."
        )
    return (
        f"I couldn't find any minutes mentioning all of {quoted}. "
        "Tip: try fewer or shorter words (`/minutes onboarding` finds “onboarding” and "
        "“onboarded”); every word you type must appear."
    )


# --- in full ---------------------------------------------------------------------------------


def _lean_coffee_messages(stored: StoredMinutes) -> list[list[Block]]:
    return lean_coffee.minutes_messages(LeanCoffeeMinutes.model_validate(stored.body))


def _meetup_messages(stored: StoredMinutes) -> list[list[Block]]:
    from bot.blocks import meetup as meetup_blocks
    from bot.services.meetup import MeetupMinutes

    return meetup_blocks.minutes_messages(MeetupMinutes.model_validate(stored.body))


def _change_words(question: HealthCheckMinutesQuestion) -> str:
    """`↑ up from 55 (+20)`, `→ level (55 last time)`; empty without an earlier score."""
    if question.trend is None or question.previous_score is None:
        return ""
    before = score_words(question.previous_score)
    change = f" ({question.change:+.0f})" if question.change is not None else ""
    arrow = TREND_ARROWS[question.trend]
    if question.trend == Trend.UP:
        return f"{arrow} up from {before}{change}"
    if question.trend == Trend.DOWN:
        return f"{arrow} down from {before}{change}"
    return f"{arrow} level ({before} last time)"


def _question_line(question: HealthCheckMinutesQuestion) -> str:
    if not question.shown:
        return f"*{safe(question.title)}*: {plural(question.answers, 'answer')}, too few to show"
    parts = [f"score *{score_words(question.score)}*/100"]
    parts.extend(
        w for w in (_change_words(question), disagreement_words(question.disagreement)) if w
    )
    tally = " · ".join(
        f"{c.emoji} {safe(c.label)} *{c.count}*".strip() for c in question.distribution
    )
    return f"*{safe(question.title)}*: {', '.join(parts)}\n{tally}"


def _action_line(action: HealthCheckMinutesAction) -> str:
    due = f", due {day_text(action.due_date)}" if action.due_date else ""
    return f"• {safe(one_line(action.text))} · {mention(action.owner_id)}{due}"


def health_check_responses(minutes: HealthCheckMinutes) -> str:
    """`5 people answered, 63% of the channel's 8 members`."""
    people = plural(minutes.respondents, "person", "people")
    if minutes.members:
        rate = round((minutes.response_rate or 0) * 100)
        return f"{people} answered, {rate}% of the channel's {minutes.members} members"
    return f"{people} answered"


def _health_check_messages(stored: StoredMinutes) -> list[list[Block]]:
    """A closed check as its results message showed it, with the actions recorded after it:
    totals and scores only, never who answered."""
    minutes = HealthCheckMinutes.model_validate(stored.body)
    entry = stored.entry
    early = " It was closed early." if minutes.closed_early else ""
    kept = (
        "Answers were anonymous; only the totals are kept."
        if minutes.anonymous
        else "Only the totals are kept here."
    )
    blocks: list[Block] = [
        header(f"Minutes: {one_line(entry.title)}"),
        section(
            f"{entry.label} in <#{entry.channel_id}> · {day_text(entry.held_on)} · "
            f"{entry.led_by} {mention(entry.facilitator_id)}\n"
            f"{health_check_responses(minutes)}.{early} {kept}"
        ),
    ]
    if minutes.below_minimum:
        blocks.append(
            section(
                f"That was fewer than the {minutes.min_answers} answers needed, so the results "
                "weren't shown: with so few, people's answers could be worked out."
            )
        )
    else:
        if minutes.scale:
            worst, best = minutes.scale[-1], minutes.scale[0]
            blocks.append(
                context(
                    "Questions people disagreed on most come first. Scores run from 0 "
                    f"(everyone said {worst.emoji} {safe(worst.label)}) to 100 (everyone said "
                    f"{best.emoji} {safe(best.label)})."
                )
            )
        blocks.extend(text_sections([_question_line(q) for q in minutes.questions]))
    if minutes.actions:
        lines = ["*Actions recorded after it:*", *(_action_line(a) for a in minutes.actions)]
        blocks.extend(text_sections(lines))
    return split_messages(blocks)


RENDERERS: dict[str, Callable[[StoredMinutes], list[list[Block]]]] = {
    LEAN_COFFEE: _lean_coffee_messages,
    MEETUP: _meetup_messages,
    HEALTH_CHECK: _health_check_messages,
}


def full_messages(stored: StoredMinutes) -> list[list[Block]]:
    """The minutes in full, drawn by their format's builder (a summary when there is none)."""
    render = RENDERERS.get(stored.entry.source)
    if render is not None:
        try:
            return render(stored)
        except ValueError:
            pass  # a shape this version cannot read: fall back to the summary
    entry = stored.entry
    return [[header(f"Minutes: {one_line(entry.title)}"), section(_entry_text(entry, where=True))]]


def full_text(stored: StoredMinutes) -> str:
    entry = stored.entry
    return f"Minutes of {_title(entry.title)}, {day_text(entry.held_on)}."


# --- export and help -----------------------------------------------------------------------


def export_comment(user_id: str, count: int) -> str:
    """The note posted with the exported file."""
    return (
        f"The minutes of this channel as a Markdown file: {plural(count, 'set')}, newest "
        f"first. Asked for by {mention(user_id)}."
    )


_HELP = [
    (
        "*The minutes archive* keeps the minutes of every Lean Coffee and chat meetup, and "
        "the results of every health check, so your community can look back, and so anyone "
        "can find who in another community has talked a problem through before."
    ),
    (
        "• `/minutes`: list the minutes kept in this channel, newest first. *Show minutes* "
        "shows one set in full, only to you."
    ),
    (
        "• `/minutes some words`: search the minutes and topics of every community in this "
        "workspace. Every word must appear; results say where and when, who facilitated, "
        "who took part and who proposed or wrote what matched, so you know whom to ask. "
        "Minutes of a private channel are found only by its members. Works anywhere you "
        "can use `/minutes`; only you see the answer."
    ),
    (
        "• `/minutes export`: share all of this channel's minutes here as a Markdown file, "
        "newest first, with people's names."
    ),
    "• `/minutes help`: show this guide.",
]


def help_blocks() -> list[Block]:
    return guide_blocks("The minutes archive", _HELP)


def help_text() -> str:
    return "How to list, search and export minutes with /minutes."


__all__ = [
    "RENDERERS",
    "export_comment",
    "full_messages",
    "full_text",
    "help_blocks",
    "help_text",
    "list_blocks",
    "list_text",
    "no_minutes_text",
    "no_results_text",
    "search_blocks",
    "search_text",
]
