"""Plain values the Lean Coffee service returns and the block builders draw.

They are frozen and free of SQLAlchemy and Slack, so builders stay pure functions and the
minutes can be stored as JSON and drawn again later exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

DEFAULT_VOTES_PER_PERSON = 3
DEFAULT_TIMEBOX_MINUTES = 7
DEFAULT_EXTENSION_MINUTES: tuple[int, ...] = (4, 2)
KEEP_GOING_POLL_SECONDS = 60
TOPIC_TITLE_MAX = 150
TOPIC_DETAIL_MAX = 1000
SESSION_TITLE_MAX = 100
TAKEAWAY_MAX = 1000


class SessionStatus(StrEnum):
    COLLECTING = "collecting"  # topics proposed and dot-voted
    DISCUSSING = "discussing"  # voting closed, topics taken in order
    ENDED = "ended"


class TopicState(StrEnum):
    OPEN = "open"  # on the "To discuss" list
    DISCUSSING = "discussing"
    DISCUSSED = "discussed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


class KeepGoingChoice(StrEnum):
    KEEP_GOING = "keep_going"
    EITHER_WAY = "either_way"
    MOVE_ON = "move_on"


class PollOutcome(StrEnum):
    EXTENDED = "extended"
    MOVED_ON = "moved_on"


@dataclass(frozen=True)
class TakeawayView:
    id: int
    text: str
    author_id: str
    is_action: bool = False
    owner_id: str | None = None
    due_date: date | None = None


@dataclass(frozen=True)
class TopicView:
    id: int
    title: str
    detail: str | None
    proposer_id: str | None  # None when the session takes anonymous topics
    votes: int
    state: TopicState
    carried_over: bool = False
    discussion_started_at: datetime | None = None
    discussion_ends_at: datetime | None = None
    seconds_spent: int = 0
    extensions_used: int = 0
    takeaways: tuple[TakeawayView, ...] = ()


@dataclass(frozen=True)
class BoardView:
    """Everything the channel's board message shows."""

    session_id: int
    channel_id: str
    title: str
    facilitator_id: str
    status: SessionStatus
    votes_per_person: int
    timebox_minutes: int
    extension_minutes: tuple[int, ...]
    anonymous_topics: bool
    started_at: datetime
    ended_at: datetime | None
    # COLLECTING: proposal order; DISCUSSING: the agreed order (votes, then first proposed).
    to_discuss: tuple[TopicView, ...]
    discussing: TopicView | None
    discussed: tuple[TopicView, ...]
    participant_count: int
    # Length of the box "Keep going" would add to the topic under discussion; None when spent.
    next_extension_minutes: int | None = None


@dataclass(frozen=True)
class KeepGoingView:
    """A "Keep going?" poll in the board's thread."""

    poll_id: int
    session_id: int
    topic_id: int
    topic_title: str
    round: int  # 0 for the first time-box, 1 after the first extension, …
    keep_going: int
    either_way: int
    move_on: int
    decides_at: datetime
    outcome: PollOutcome | None
    extension_minutes: int | None  # what "Keep going" would add; None when the pattern is spent


@dataclass(frozen=True)
class VoteReceipt:
    """What a voter is told privately after voting or unvoting."""

    topic_title: str
    topic_votes: int  # all dots on the topic
    my_votes_on_topic: int
    dots_left: int
    votes_per_person: int


class MinutesTakeaway(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    author_id: str
    is_action: bool = False
    owner_id: str | None = None
    due_date: date | None = None


class MinutesTopic(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    votes: int
    seconds_spent: int
    takeaways: tuple[MinutesTakeaway, ...] = ()


class MinutesAction(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    topic_title: str
    owner_id: str | None = None
    due_date: date | None = None


class LeanCoffeeMinutes(BaseModel):
    """The minutes of one session: stored as JSON, drawn by the block builder."""

    model_config = ConfigDict(frozen=True)

    session_id: int
    channel_id: str
    title: str
    held_on: date
    started_at: datetime
    ended_at: datetime
    facilitator_id: str
    participant_ids: tuple[str, ...]
    discussed: tuple[MinutesTopic, ...]
    actions: tuple[MinutesAction, ...]
    carried_over: tuple[str, ...]  # titles left on "To discuss", offered to the next session


@dataclass(frozen=True)
class HistoryEntry:
    session_id: int
    title: str
    held_on: date
    facilitator_id: str
    topics_discussed: int
    participant_count: int
