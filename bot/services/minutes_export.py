"""A channel's minutes as one Markdown file, for keeping outside Slack (a wiki, a repo).

A pure function of stored minutes and people's names: no clock, no database, no Slack. Every
piece of user text is escaped, so a topic called `# Heading` or `[link](x)` reads as typed.
Each format's minutes are written by its entry in `WRITERS`; others get a short summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.minutes import LEAN_COFFEE, StoredMinutes

Names = Mapping[str, str]

# CommonMark lets any ASCII punctuation be escaped with a backslash; these are the ones that
# can start formatting, links, HTML or tables mid-line.
_INLINE = re.compile(r"([\\`*_\[\]<>#|~&!{}])")
# At the start of a line these make a list or a heading underline; `12.` is escaped as `12\.`.
_BULLET = re.compile(r"^([-+=])")
_NUMBERED = re.compile(r"^(\d+)([.)])")


def escape_markdown(text: str) -> str:
    """User text made inert in Markdown, on one line."""
    flat = " ".join(text.split())
    escaped = _INLINE.sub(r"\\\1", flat)
    escaped = _BULLET.sub(r"\\\1", escaped)
    return _NUMBERED.sub(r"\1\\\2", escaped)


def person(user_id: str, names: Names) -> str:
    """`@name` when the name is known, else `@` and the Slack id."""
    return "@" + escape_markdown(names.get(user_id) or user_id)


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _time(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(UTC):%H:%M}"


def _minutes_length(seconds: int) -> str:
    if seconds < 60:
        return "under a minute"
    return f"{round(seconds / 60)} min"


def _lean_coffee(body: dict[str, Any], names: Names) -> list[str]:
    minutes = LeanCoffeeMinutes.model_validate(body)
    people = ", ".join(person(p, names) for p in minutes.participant_ids)
    lines = [
        f"- Time: {_time(minutes.started_at)} to {_time(minutes.ended_at)} UTC",
        f"- Facilitated by {person(minutes.facilitator_id, names)}",
    ]
    if people:
        lines.append(f"- Who took part ({len(minutes.participant_ids)}): {people}")
    lines.append("")
    lines.append("### What we discussed")
    lines.append("")
    if not minutes.discussed:
        lines.append("No topics were discussed this time.")
    for position, topic in enumerate(minutes.discussed, start=1):
        votes = "1 vote" if topic.votes == 1 else f"{topic.votes} votes"
        lines.append(
            f"{position}. **{escape_markdown(topic.title)}** · {votes} · "
            f"{_minutes_length(topic.seconds_spent)}"
        )
        for takeaway in topic.takeaways:
            text = escape_markdown(takeaway.text)
            if takeaway.is_action:
                lines.append(
                    f"   - Action: {text}{_owner(takeaway.owner_id, takeaway.due_date, names)}"
                )
            else:
                lines.append(f"   - {text} ({person(takeaway.author_id, names)})")
    if minutes.actions:
        lines.extend(["", "### Actions", ""])
        for action in minutes.actions:
            lines.append(
                f"- {escape_markdown(action.text)}{_owner(action.owner_id, action.due_date, names)}"
                f" (from *{escape_markdown(action.topic_title)}*)"
            )
    if minutes.carried_over:
        lines.extend(["", "### Not reached", ""])
        lines.extend(f"- {escape_markdown(title)}" for title in minutes.carried_over)
    return lines


def _owner(owner_id: str | None, due: date | None, names: Names) -> str:
    parts = []
    if owner_id:
        parts.append(person(owner_id, names))
    if due:
        parts.append(f"due {_day(due)}")
    return f" — {', '.join(parts)}" if parts else ""


WRITERS: dict[str, Callable[[dict[str, Any], Names], list[str]]] = {
    LEAN_COFFEE: _lean_coffee,
}


def _section(stored: StoredMinutes, names: Names) -> list[str]:
    entry = stored.entry
    lines = [f"## {escape_markdown(entry.title)} · {entry.label} · {_day(entry.held_on)}", ""]
    writer = WRITERS.get(entry.source)
    if writer is not None:
        try:
            return [*lines, *writer(stored.body, names)]
        except ValueError:
            pass  # a shape this version cannot read: the summary below still says something
    lines.append(f"- Facilitated by {person(entry.facilitator_id, names)}")
    return lines


def minutes_markdown(
    channel_name: str, minutes: Sequence[StoredMinutes], names: Names, exported_on: date
) -> str:
    """The whole file: a title, then each set of minutes in the order given (newest first)."""
    count = "1 set" if len(minutes) == 1 else f"{len(minutes)} sets"
    lines = [
        f"# Minutes of \\#{escape_markdown(channel_name)}",
        "",
        f"Exported from hearth on {_day(exported_on)}: {count} of minutes, newest first.",
    ]
    for stored in minutes:
        lines.extend(["", *_section(stored, names)])
    return "\n".join(lines) + "\n"


def export_filename(channel_name: str, exported_on: date) -> str:
    """`hearth-minutes-practice-2026-11-23.md`, safe on any file system."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", channel_name.lower()).strip("-") or "channel"
    return f"hearth-minutes-{slug}-{exported_on.isoformat()}.md"


def people_in(minutes: Sequence[StoredMinutes]) -> list[str]:
    """Everyone named in the minutes, for looking their names up once each."""
    seen: dict[str, None] = {}
    for stored in minutes:
        seen[stored.entry.facilitator_id] = None
        for user_id in stored.entry.participant_ids:
            seen[user_id] = None
        if stored.entry.source == LEAN_COFFEE:
            try:
                body = LeanCoffeeMinutes.model_validate(stored.body)
            except ValueError:
                continue
            for topic in body.discussed:
                for takeaway in topic.takeaways:
                    seen[takeaway.author_id] = None
                    if takeaway.owner_id:
                        seen[takeaway.owner_id] = None
    return list(seen)
