"""Plain values the health-check service takes and returns, and the default set-up.

They are frozen and free of SQLAlchemy and Slack, so the block builders that draw them stay
pure functions.

Scores: every answer on the scale carries a score from 0 to 100 (by default "Going well"
100, "Mixed" 50, "Needs attention" 0). A question's score is the average score of its
answers, so 100 means everyone said "Going well" and 50 can mean "all Mixed" or "half and
half". Disagreement tells those apart: it is the standard deviation of the answers' scores
(population form), from 0 (everyone agrees) to 50 (split evenly between the two ends).

A closed check's results are also kept as minutes in the archive (`HealthCheckMinutes`, a
pydantic model stored as JSON). They hold only what the results message shows, totals and
scores, and never who answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.services.recurrence import Cadence

DEFAULT_OPEN_HOURS = 48
DEFAULT_REMINDERS = 1  # one reminder, halfway through
DEFAULT_MIN_ANSWERS = 3
DEFAULT_ANONYMOUS = True
HISTORY_CHECKS = 6  # how many past checks the compact trend shows

# Limits. Each question is a section and an actions block in the poll; 20 of them plus the
# intro and footer stay under Slack's 50 blocks per message.
MAX_QUESTIONS = 20
QUESTION_TITLE_MAX = 150
QUESTION_TEXT_MAX = 300  # each of "at its best" and "at its worst"
MIN_SCALE_OPTIONS = 2
MAX_SCALE_OPTIONS = 5
SCALE_LABEL_MAX = 30  # button text is at most 75 characters, with room for the emoji
SCALE_EMOJI_MAX = 50
SCALE_KEY_MAX = 20
MIN_OPEN_HOURS = 1
MAX_OPEN_HOURS = 14 * 24
MAX_REMINDERS = 3
MAX_MIN_ANSWERS = 50
# Results of an anonymous check drawn from one or two answers would let those people work
# out each other's answers, so anonymous checks need at least this many.
ANONYMOUS_MIN_ANSWERS = 3
# A question's score must move by at least this many points (of 100) against the previous
# check for its trend to be "up" or "down"; anything smaller is "level". Ten points is one
# person in five moving one step on the default three-step scale.
TREND_THRESHOLD = 10.0


class Trend(StrEnum):
    UP = "up"
    LEVEL = "level"
    DOWN = "down"


@dataclass(frozen=True)
class ScaleOption:
    """One answer people can give. `key` is what buttons carry and counts are keyed by."""

    key: str
    label: str
    emoji: str
    score: int  # 0–100


@dataclass(frozen=True)
class QuestionInput:
    """A question as a lead types it; the descriptions may be left empty."""

    title: str
    best: str = ""
    worst: str = ""


@dataclass(frozen=True)
class Question:
    key: str  # stable across edits, so trends survive rewording
    title: str
    best: str  # what it looks like at its best
    worst: str  # … and at its worst


@dataclass(frozen=True)
class SettingsInput:
    """Everything on the set-up besides the questions and the cadence."""

    scale: tuple[ScaleOption, ...]
    open_hours: int = DEFAULT_OPEN_HOURS
    anonymous: bool = DEFAULT_ANONYMOUS
    reminders: int = DEFAULT_REMINDERS  # 0 for none
    min_answers: int = DEFAULT_MIN_ANSWERS


@dataclass(frozen=True)
class SetupView:
    """A community's set-up; `saved` is False (and `revision` 0) while it is the defaults."""

    community_id: int
    channel_id: str
    questions: tuple[Question, ...]
    scale: tuple[ScaleOption, ...]
    cadence: Cadence | None  # None: checks run only by hand
    open_hours: int
    anonymous: bool
    reminders: int
    min_answers: int
    revision: int
    saved: bool


@dataclass(frozen=True)
class ScheduledSetup:
    """A community whose checks run on a schedule, for the scheduler to plan."""

    team_id: str
    community_id: int
    channel_id: str
    revision: int
    cadence: Cadence
    open_hours: int


@dataclass(frozen=True)
class CheckView:
    """One health check, with the questions and scale it asks."""

    id: int
    team_id: str
    community_id: int
    channel_id: str
    occurrence: datetime | None  # the schedule slot; None when run by hand
    setup_revision: int
    questions: tuple[Question, ...]
    scale: tuple[ScaleOption, ...]
    anonymous: bool
    min_answers: int
    reminders: int
    started_by_id: str | None  # None when the schedule started it
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    closed_by_id: str | None  # who closed it early; None while open or when closed on time
    message_ts: str | None
    results_ts: str | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class AnswerReceipt:
    """What a person is told privately after answering."""

    check_id: int
    question_title: str
    choice: ScaleOption
    previous: ScaleOption | None  # their earlier answer, when they changed it
    answered: int  # how many of the check's questions they have answered
    questions: int
    anonymous: bool


@dataclass(frozen=True)
class ChoiceCount:
    option: ScaleOption
    count: int


@dataclass(frozen=True)
class QuestionResult:
    """One question's result. Below the minimum number of answers only `answers` is given
    (`shown` is False and the rest is empty)."""

    key: str
    title: str
    position: int  # where it was asked in the check, from 0
    answers: int
    shown: bool
    distribution: tuple[ChoiceCount, ...]  # in scale order, best first
    score: float | None  # 0–100
    disagreement: float | None  # 0–50
    previous_score: float | None
    trend: Trend | None  # None when there is nothing earlier to compare with


@dataclass(frozen=True)
class CheckResults:
    check_id: int
    community_id: int
    channel_id: str
    anonymous: bool
    opened_at: datetime
    closed_at: datetime
    closed_by_id: str | None
    respondents: int
    members: int | None  # channel members at close, when known
    min_answers: int
    below_minimum: bool  # fewer people answered than the minimum: show only the count
    scale: tuple[ScaleOption, ...]
    # Questions with results, most disagreement first (then lowest score), then the rest
    # in the order they were asked.
    questions: tuple[QuestionResult, ...]

    @property
    def response_rate(self) -> float | None:
        """Share of channel members who answered (0–1), when the member count is known."""
        if not self.members:
            return None
        return min(1.0, self.respondents / self.members)


@dataclass(frozen=True)
class UnarchivedCheck:
    """A closed check whose results are not in the minutes archive yet (it closed before
    hearth kept them there): for the scheduler to archive."""

    team_id: str
    check_id: int
    closed_at: datetime


@dataclass(frozen=True)
class HistoryPoint:
    check_id: int
    closed_at: datetime
    respondents: int


@dataclass(frozen=True)
class QuestionHistory:
    key: str
    title: str  # as last asked
    scores: tuple[float | None, ...]  # one per HistoryPoint; None: not asked or too few answers


@dataclass(frozen=True)
class History:
    checks: tuple[HistoryPoint, ...]  # oldest first
    questions: tuple[QuestionHistory, ...]


class HealthCheckMinutesOption(BaseModel):
    """One answer people could give."""

    model_config = ConfigDict(frozen=True)

    label: str
    emoji: str
    score: int  # 0–100


class HealthCheckMinutesChoice(BaseModel):
    """How many gave one answer to a question (a total, never who)."""

    model_config = ConfigDict(frozen=True)

    label: str
    emoji: str
    count: int


class HealthCheckMinutesQuestion(BaseModel):
    """One question's result as the results message showed it. Below the minimum number of
    answers only `answers` is kept (`shown` is False, the rest empty), as there."""

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    answers: int
    shown: bool
    score: float | None = None  # 0–100
    previous_score: float | None = None
    change: float | None = None  # score minus the previous check's, when both are known
    trend: Trend | None = None
    disagreement: float | None = None  # 0–50
    distribution: tuple[HealthCheckMinutesChoice, ...] = ()  # in scale order, best first


class HealthCheckMinutesAction(BaseModel):
    """Something the community took on after talking the results over. Actions are recorded
    in the open, by name, after the check has closed: they say nothing about who answered."""

    model_config = ConfigDict(frozen=True)

    text: str
    owner_id: str
    due_date: date | None = None


class HealthCheckMinutes(BaseModel):
    """A closed check's minutes in the archive: what its results message showed, and the
    actions recorded after it.

    Only totals: no respondent, no individual answer, not even in a named check, because the
    archive is searched and exported across the whole workspace. Who ran the check is kept
    on the minutes row (its facilitator), not here.
    """

    model_config = ConfigDict(frozen=True)

    check_id: int
    channel_id: str
    title: str
    held_on: date  # the day it closed, in the community's time zone when known
    opened_at: datetime
    closed_at: datetime
    closed_early: bool
    anonymous: bool
    respondents: int
    members: int | None  # channel members at close, when known
    min_answers: int
    below_minimum: bool
    scale: tuple[HealthCheckMinutesOption, ...]  # best first
    # Most disagreement first (then lowest score), then those without results, as asked.
    questions: tuple[HealthCheckMinutesQuestion, ...]
    actions: tuple[HealthCheckMinutesAction, ...] = ()

    @property
    def response_rate(self) -> float | None:
        """Share of channel members who answered (0–1), when the member count is known."""
        if not self.members:
            return None
        return min(1.0, self.respondents / self.members)


DEFAULT_SCALE: tuple[ScaleOption, ...] = (
    ScaleOption(key="green", label="Going well", emoji=":large_green_circle:", score=100),
    ScaleOption(key="amber", label="Mixed", emoji=":large_yellow_circle:", score=50),
    ScaleOption(key="red", label="Needs attention", emoji=":red_circle:", score=0),
)

DEFAULT_QUESTIONS: tuple[Question, ...] = (
    Question(
        key="value",
        title="Value to members",
        best="Being part of this community makes our work easier and better. "
        "Time spent here is time well spent.",
        worst="It's hard to say what we get out of this community. "
        "It feels like one more thing to keep up with.",
    ),
    Question(
        key="learning",
        title="Learning",
        best="We often learn something new here, from each other and from outside, "
        "and we put it to use.",
        worst="We rarely learn anything new. Conversations go over the same ground.",
    ),
    Question(
        key="sharing",
        title="Sharing",
        best="People share their work early, including what didn't work, and others build on it.",
        worst="People keep their work to themselves, or only share it once it's polished.",
    ),
    Question(
        key="support",
        title="Support and safety",
        best="It feels safe to ask a basic question, admit a mistake or disagree. "
        "People help each other out.",
        worst="People hold back questions and doubts for fear of looking foolish. "
        "Asking for help feels risky.",
    ),
    Question(
        key="participation",
        title="Participation",
        best="Many voices are heard, not only the usual few. Newcomers find their way in easily.",
        worst="A handful of people do all the talking. Others watch from the side or have "
        "drifted away.",
    ),
    Question(
        key="fun",
        title="Fun",
        best="We enjoy our time together. There's energy, humour and a reason to turn up.",
        worst="It feels like a chore. People come out of duty, if they come at all.",
    ),
    Question(
        key="leadership",
        title="Leadership load",
        best="Organising is shared around. Nobody carries the community alone, "
        "and the leads have the time and energy it needs.",
        worst="The same one or two people do all the organising, and they're running out of steam.",
    ),
    Question(
        key="purpose",
        title="Purpose",
        best="We know why we exist and what we're working towards together, "
        "and it still matters to us.",
        worst="We've lost sight of why we meet. The community drifts from one session to the next.",
    ),
)
