"""Plain values about one person's data: what hearth holds about them, and what forgetting
them did. Free of SQLAlchemy and Slack, so the block builders draw them as they are.

When a person asks hearth to forget them, what only they had is deleted, and what others rely
on (their topics in someone's minutes, an action the community still means to do) stays, with
`FORGOTTEN_ID` where their Slack id was. Every builder shows that id as "someone".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

# Stands where a forgotten person's Slack id was (a Slack id is upper case, so this never is
# one). Short enough for every user-id column.
FORGOTTEN_ID = "forgotten"
SOMEONE = "someone"  # how `FORGOTTEN_ID` reads wherever a person would be named
EXAMPLES = 3  # examples shown per kind of data


class Fate(StrEnum):
    """What `forget_person` does with a kind of data."""

    DELETED = "deleted"  # it was only theirs
    UNNAMED = "unnamed"  # others rely on it: it stays, without their name


class Kind(StrEnum):
    """The kinds of data hearth may hold about a person, in the order they are shown."""

    LEAD = "lead"  # communities they lead
    ROTA = "rota"  # rota memberships (also ones they left)
    AWAY = "away"  # their away dates
    TURNS = "turns"  # coming meetups pinned to them (confirmed, swapped, stepped in)
    SKIPS = "skips"  # turns they passed on
    SWAPS = "swaps"  # swap requests they made or were asked (pending ones are deleted)
    PAST_MEETUPS = "past_meetups"  # meetups in a rota's history with them as facilitator
    TOPICS = "topics"  # Lean Coffee topics they proposed
    DOTS = "dots"  # Lean Coffee dot votes
    KEEP_GOING = "keep_going"  # "Keep going?" votes
    REPLIES = "replies"  # replies heard in chat meetups
    TAKEAWAYS = "takeaways"  # takeaways and actions they wrote down
    ACTIONS = "actions"  # actions they own
    MARKED_DONE = "marked_done"  # actions they marked done
    ANSWERS = "answers"  # answers to named health checks
    OPT_OUTS = "opt_outs"  # "don't remind me" about health checks
    MEETINGS_RUN = "meetings_run"  # Lean Coffees, chat meetups, health checks they ran
    MINUTES = "minutes"  # minutes that name them
    MENTIONS = "mentions"  # things others wrote that @-mention them
    SET_UP = "set_up"  # communities, schedules, set-ups, leads and away dates they set up
    NOTES = "notes"  # hearth's records of messages it sent them or about them


FATES: dict[Kind, Fate] = {
    Kind.LEAD: Fate.DELETED,
    Kind.ROTA: Fate.DELETED,
    Kind.AWAY: Fate.DELETED,
    Kind.TURNS: Fate.DELETED,
    Kind.SKIPS: Fate.DELETED,
    Kind.SWAPS: Fate.UNNAMED,
    Kind.PAST_MEETUPS: Fate.UNNAMED,
    Kind.TOPICS: Fate.UNNAMED,
    Kind.DOTS: Fate.DELETED,
    Kind.KEEP_GOING: Fate.DELETED,
    Kind.REPLIES: Fate.UNNAMED,
    Kind.TAKEAWAYS: Fate.UNNAMED,
    Kind.ACTIONS: Fate.UNNAMED,
    Kind.MARKED_DONE: Fate.UNNAMED,
    Kind.ANSWERS: Fate.DELETED,
    Kind.OPT_OUTS: Fate.DELETED,
    Kind.MEETINGS_RUN: Fate.UNNAMED,
    Kind.MINUTES: Fate.UNNAMED,
    Kind.MENTIONS: Fate.UNNAMED,
    Kind.SET_UP: Fate.UNNAMED,
    Kind.NOTES: Fate.UNNAMED,
}


@dataclass(frozen=True)
class Example:
    """One example of a kind of data: the person's own words and/or where and when."""

    text: str | None = None  # user text, shown escaped
    label: str | None = None  # hearth's own name for it ("Chat meetup"), when it has no text
    channel_id: str | None = None
    on: date | None = None  # a day (the first day, for away dates)
    until: date | None = None  # the last day of away dates
    at: datetime | None = None  # a moment (a coming turn)


@dataclass(frozen=True)
class Held:
    """How much of one kind hearth holds, with a few examples (newest first)."""

    kind: Kind
    count: int
    examples: tuple[Example, ...] = ()

    @property
    def fate(self) -> Fate:
        return FATES[self.kind]


class BlockerKind(StrEnum):
    ONLY_LEAD = "only_lead"  # the community would be left without a lead of its own
    FACILITATING_LEAN_COFFEE = "facilitating_lean_coffee"  # a Lean Coffee still running
    FACILITATING_MEETUP = "facilitating_meetup"  # a chat meetup still running


@dataclass(frozen=True)
class Blocker:
    """Something to hand on before hearth can forget the person."""

    kind: BlockerKind
    channel_id: str


def blocker_text(blocker: Blocker) -> str:
    """What to do about one blocker, in the person's words (mrkdwn)."""
    where = f"<#{blocker.channel_id}>"
    if blocker.kind == BlockerKind.ONLY_LEAD:
        return (
            f"You're the only lead of the community in {where}, and it needs one to look after "
            "it: make someone else a lead there with `/rota lead @someone` first."
        )
    if blocker.kind == BlockerKind.FACILITATING_LEAN_COFFEE:
        return (
            f"You're facilitating the Lean Coffee running in {where}: hand it over or end it first."
        )
    return f"You're facilitating the chat meetup running in {where}: end it first, or let it end."


def blockers_text(blockers: Sequence[Blocker]) -> str:
    """Why hearth can't forget the person yet, and what to do first (mrkdwn)."""
    lead = (
        "Before I can forget you, one thing needs handing on:"
        if len(blockers) == 1
        else "Before I can forget you, a few things need handing on:"
    )
    return "\n".join([lead, *(f"• {blocker_text(b)}" for b in blockers)])


@dataclass(frozen=True)
class PersonalData:
    """Everything hearth holds about one person in one workspace."""

    user_id: str
    held: tuple[Held, ...]  # kinds with something in them, in `Kind` order
    blockers: tuple[Blocker, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.held

    def of(self, kind: Kind) -> Held | None:
        return next((h for h in self.held if h.kind == kind), None)

    def count(self, kind: Kind) -> int:
        found = self.of(kind)
        return found.count if found else 0

    def with_fate(self, fate: Fate) -> tuple[Held, ...]:
        return tuple(h for h in self.held if h.fate == fate)
