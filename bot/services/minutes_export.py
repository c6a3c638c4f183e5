"""A channel's minutes as one Markdown file, for keeping outside Slack (a wiki, a repo).

A pure function of stored minutes and people's names: no clock, no database, no Slack. Every
piece of user text is escaped, so a topic called `# Heading` or `[link](x)` reads as typed.
Each format's minutes are written by its entry in `WRITERS`; others get a short summary.
A meetup's section holds its prompts and replies, never those marked off the record. A
health check's section holds its totals and scores and the actions recorded after it, never
who answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime

from bot.services.health_check_types import HealthCheckMinutes, HealthCheckMinutesQuestion
from bot.services.lean_coffee_types import LeanCoffeeMinutes
from bot.services.meetup import MeetupMinutes
from bot.services.minutes import HEALTH_CHECK, LEAN_COFFEE, MEETUP, StoredMinutes
from bot.services.personal_data_types import FORGOTTEN_ID, SOMEONE

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
    """`@name` when the name is known, else `@` and the Slack id ("someone" for a person
    hearth has forgotten at their request)."""
    if user_id == FORGOTTEN_ID:
        return SOMEONE
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


def _lean_coffee(stored: StoredMinutes, names: Names) -> list[str]:
    minutes = LeanCoffeeMinutes.model_validate(stored.body)
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


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _question(question: HealthCheckMinutesQuestion) -> str:
    title = f"**{escape_markdown(question.title)}**"
    if not question.shown:
        answers = "1 answer" if question.answers == 1 else f"{question.answers} answers"
        return f"- {title}: {answers}, too few to show"
    parts = [f"score {_score(question.score)}/100"]
    if question.previous_score is not None:
        change = f"{question.change:+.0f}" if question.change is not None else "±0"
        parts.append(f"{change} since last time ({_score(question.previous_score)})")
    if question.disagreement is not None:
        parts.append(f"spread {question.disagreement:.0f}/50")
    tally = ", ".join(f"{escape_markdown(c.label)} {c.count}" for c in question.distribution)
    return f"- {title}: {', '.join(parts)} · {tally}"


def _health_check(stored: StoredMinutes, names: Names) -> list[str]:
    minutes = HealthCheckMinutes.model_validate(stored.body)
    people = "1 person" if minutes.respondents == 1 else f"{minutes.respondents} people"
    answered = f"{people} answered"
    if minutes.members:
        rate = round((minutes.response_rate or 0) * 100)
        answered += f", {rate}% of the channel's {minutes.members} members"
    kept = "only the totals are kept"
    if minutes.anonymous:
        kept = f"anonymous: {kept}"
    lines = [
        f"- Open: {_day(minutes.opened_at.date())} {_time(minutes.opened_at)} to "
        f"{_day(minutes.closed_at.date())} {_time(minutes.closed_at)} UTC"
        + (" (closed early)" if minutes.closed_early else ""),
        f"- {stored.entry.led_by.capitalize()} {person(stored.entry.facilitator_id, names)}",
        f"- Answers: {answered} ({kept})",
        "",
        "### Results",
        "",
    ]
    if minutes.below_minimum:
        lines.append(
            f"Fewer than the {minutes.min_answers} answers needed, so the results weren't shown."
        )
    else:
        if minutes.scale:
            worst, best = minutes.scale[-1], minutes.scale[0]
            lines.extend(
                [
                    "Most disagreement first. Scores run from 0 (everyone said "
                    f"{escape_markdown(worst.label)}) to 100 (everyone said "
                    f"{escape_markdown(best.label)}); spread from 0 (everyone agreed) to 50 "
                    "(split between the two ends).",
                    "",
                ]
            )
        lines.extend(_question(q) for q in minutes.questions)
    if minutes.actions:
        lines.extend(["", "### Actions", ""])
        lines.extend(
            f"- {escape_markdown(a.text)}{_owner(a.owner_id, a.due_date, names)}"
            for a in minutes.actions
        )
    return lines


def _meetup(stored: StoredMinutes, names: Names) -> list[str]:
    """Each prompt with its replies (never those off the record), airtime and takeaways."""
    minutes = MeetupMinutes.model_validate(stored.body)
    lines = [
        f"- Time: {_time(minutes.started_at)} to {_time(minutes.ended_at)} UTC",
        f"- Facilitated by {person(minutes.facilitator_id, names)}",
    ]
    airtime = [f"{person(a.user_id, names)} {_replies(a.replies)}" for a in minutes.airtime]
    if minutes.anonymous_replies:
        airtime.append(f"anonymous {_replies(minutes.anonymous_replies)}")
    if airtime:
        lines.append(f"- Airtime: {', '.join(airtime)}")
    if minutes.replies_may_be_missing:
        lines.append("- Some replies may be missing: the threads could not be read back.")
    for position, prompt in enumerate(minutes.prompts, start=1):
        lines.extend(["", f"### {position}. {escape_markdown(prompt.text)}", ""])
        for reply in prompt.replies:
            who = person(reply.author_id, names) if reply.author_id else "anonymous"
            lines.append(f"- {escape_markdown(reply.text)} ({who})")
        if prompt.off_record:
            lines.append(f"- _{_replies(prompt.off_record)} off the record_")
        if not prompt.replies and not prompt.off_record:
            lines.append("No replies.")
    if minutes.takeaways:
        lines.extend(["", "### Takeaways and actions", ""])
        for takeaway in minutes.takeaways:
            text = escape_markdown(takeaway.text)
            if takeaway.owner_id:
                lines.append(
                    f"- Action: {text}{_owner(takeaway.owner_id, takeaway.due_date, names)}"
                )
            else:
                lines.append(f"- {text} ({person(takeaway.author_id, names)})")
    return lines


def _replies(count: int) -> str:
    return "1 reply" if count == 1 else f"{count} replies"


WRITERS: dict[str, Callable[[StoredMinutes, Names], list[str]]] = {
    LEAN_COFFEE: _lean_coffee,
    HEALTH_CHECK: _health_check,
    MEETUP: _meetup,
}


def _section(stored: StoredMinutes, names: Names) -> list[str]:
    entry = stored.entry
    lines = [f"## {escape_markdown(entry.title)} · {entry.label} · {_day(entry.held_on)}", ""]
    writer = WRITERS.get(entry.source)
    if writer is not None:
        try:
            return [*lines, *writer(stored, names)]
        except ValueError:
            pass  # a shape this version cannot read: the summary below still says something
    lines.append(f"- {entry.led_by.capitalize()} {person(entry.facilitator_id, names)}")
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
        elif stored.entry.source == MEETUP:
            try:
                meetup = MeetupMinutes.model_validate(stored.body)
            except ValueError:
                continue
            for spoke in meetup.airtime:
                seen[spoke.user_id] = None
            for reply in (r for p in meetup.prompts for r in p.replies):
                if reply.author_id:
                    seen[reply.author_id] = None
            for takeaway in meetup.takeaways:
                seen[takeaway.author_id] = None
                if takeaway.owner_id:
                    seen[takeaway.owner_id] = None
        elif stored.entry.source == HEALTH_CHECK:
            try:
                check = HealthCheckMinutes.model_validate(stored.body)
            except ValueError:
                continue
            for action in check.actions:
                seen[action.owner_id] = None
    seen.pop(FORGOTTEN_ID, None)  # nobody to look up
    return list(seen)
