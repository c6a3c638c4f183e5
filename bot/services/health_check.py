"""Community health checks: the set-up, running a check, answers, closing it and results.

Anonymity is a guarantee, and this is how it is kept. In an anonymous check an answer is
stored under HMAC-SHA256(check secret, person) instead of the person's Slack id, with no
timestamp and no row id, so neither who nor when is recorded. The secret is made for that
check alone and lives, sealed under the installation's key (`bot.keys`), in a row of its own
only while the check is open; closing the check deletes it and the individual answers once
their counts are stored as results, and a job then makes the database files forget the
deleted bytes (`forgettable_checks`, `bot.db.forget_deleted`). From then on nothing stored
can tie an answer to a person, not even for someone who copied the database or the secret
earlier. While the check is open, only someone holding the secret and the key could link
answers; "who has not answered yet" is worked out by hashing the channel's members with it,
never by storing who answered.

A named check stores the Slack user id with each answer instead, and keeps its answers.

When a check closes, its results are also kept as minutes in the archive (source
`health_check`), in the same transaction as the close, so they are stored exactly once.
They hold totals and scores only, never who answered, in named checks too: the archive is
searched and exported across the whole workspace. Checks closed before that (or whose
minutes are missing for any reason) are archived by the scheduler (`unarchived_checks`);
an action recorded after a check is added to its minutes (`keep_minutes`).

Every query is scoped by the Slack team id. The rules take and return plain values
(`health_check_types`) and raise `DomainError`s written for the person acting.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound
from bot.services import anonymity
from bot.services import health_check_scores as scores
from bot.services.actor import Actor
from bot.services.community import require_lead
from bot.services.health_check_types import (
    ANONYMOUS_MIN_ANSWERS,
    DEFAULT_ANONYMOUS,
    DEFAULT_MIN_ANSWERS,
    DEFAULT_OPEN_HOURS,
    DEFAULT_QUESTIONS,
    DEFAULT_REMINDERS,
    DEFAULT_SCALE,
    HISTORY_CHECKS,
    MAX_MIN_ANSWERS,
    MAX_OPEN_HOURS,
    MAX_QUESTIONS,
    MAX_REMINDERS,
    MAX_SCALE_OPTIONS,
    MIN_OPEN_HOURS,
    MIN_SCALE_OPTIONS,
    QUESTION_TEXT_MAX,
    QUESTION_TITLE_MAX,
    SCALE_EMOJI_MAX,
    SCALE_KEY_MAX,
    SCALE_LABEL_MAX,
    AnswerReceipt,
    CheckResults,
    CheckView,
    HealthCheckMinutes,
    HealthCheckMinutesAction,
    HealthCheckMinutesChoice,
    HealthCheckMinutesOption,
    HealthCheckMinutesQuestion,
    History,
    HistoryPoint,
    Question,
    QuestionHistory,
    QuestionInput,
    QuestionResult,
    ScaleOption,
    ScheduledSetup,
    SettingsInput,
    SetupView,
    Trend,
    UnarchivedCheck,
)
from bot.services.recurrence import Cadence, Frequency
from models.community import Community
from models.health_check import (
    HealthCheck,
    HealthCheckAnswer,
    HealthCheckOptOut,
    HealthCheckQuestion,
    HealthCheckResult,
    HealthCheckSetup,
)
from models.health_check_actions import HealthCheckAction
from models.minutes import Minutes
from models.rota import MeetupSchedule

MINUTES_SOURCE = "health_check"  # the archive's name for health checks' minutes
MINUTES_TITLE = "Community health check"
ARCHIVE_BATCH = 100  # closed checks without minutes planned for archiving at a time

_SCALE_KEY = re.compile(rf"^[a-z0-9_]{{1,{SCALE_KEY_MAX}}}$")
_CLOSED = "This health check has closed, so answers can't be given or changed any more."

# --- plain values from rows -----------------------------------------------------------------


def _scale_of(raw: Sequence[dict[str, Any]]) -> tuple[ScaleOption, ...]:
    return tuple(
        ScaleOption(key=o["key"], label=o["label"], emoji=o["emoji"], score=int(o["score"]))
        for o in raw
    )


def _scale_json(scale: Sequence[ScaleOption]) -> list[dict[str, Any]]:
    return [{"key": o.key, "label": o.label, "emoji": o.emoji, "score": o.score} for o in scale]


def _questions_of(raw: Sequence[dict[str, Any]]) -> tuple[Question, ...]:
    return tuple(
        Question(key=q["key"], title=q["title"], best=q["best"], worst=q["worst"]) for q in raw
    )


def _questions_json(questions: Sequence[Question]) -> list[dict[str, Any]]:
    return [{"key": q.key, "title": q.title, "best": q.best, "worst": q.worst} for q in questions]


def _question(row: HealthCheckQuestion) -> Question:
    return Question(key=row.key, title=row.title, best=row.best, worst=row.worst)


def _cadence_of(setup: HealthCheckSetup) -> Cadence | None:
    if (
        setup.frequency is None
        or setup.weekday is None
        or setup.at_time is None
        or setup.time_zone is None
        or setup.anchor is None
    ):
        return None
    hours, minutes = (int(part) for part in setup.at_time.split(":"))
    return Cadence(
        frequency=Frequency(setup.frequency),
        weekday=setup.weekday,
        at=time(hours, minutes),
        time_zone=setup.time_zone,
        anchor=setup.anchor,
        every_weeks=setup.every_weeks,
        week_of_month=setup.week_of_month,
    )


def _check_view(check: HealthCheck, community: Community) -> CheckView:
    return CheckView(
        id=check.id,
        team_id=check.team_id,
        community_id=check.community_id,
        channel_id=community.channel_id,
        occurrence=check.occurrence,
        setup_revision=check.setup_revision,
        questions=_questions_of(check.questions),
        scale=_scale_of(check.scale),
        anonymous=check.anonymous,
        min_answers=check.min_answers,
        reminders=check.reminders,
        started_by_id=check.started_by_id,
        opened_at=check.opened_at,
        closes_at=check.closes_at,
        closed_at=check.closed_at,
        closed_by_id=check.closed_by_id,
        message_ts=check.message_ts,
        results_ts=check.results_ts,
    )


# --- validation -----------------------------------------------------------------------------


def hours_words(hours: int) -> str:
    """A duration in words: "5 hours", "2 days", "6 days and 23 hours"."""

    def plural(n: int, unit: str) -> str:
        return f"{n} {unit}" + ("" if n == 1 else "s")

    days, rest = divmod(hours, 24)
    if days == 0:
        return plural(hours, "hour")
    if rest == 0:
        return plural(days, "day")
    return f"{plural(days, 'day')} and {plural(rest, 'hour')}"


def longest_open_hours(cadence: Cadence, now: datetime) -> int:
    """The longest a check may stay open on this cadence: it must close before the next one
    opens. Measured over at least the coming year, so short months and the week the clocks
    go forward count."""
    moments = cadence.occurrences(now, 54)
    gap = min(b - a for a, b in pairwise(moments))
    return int((gap - timedelta(seconds=1)).total_seconds() // 3600)


def _check_window(cadence: Cadence, open_hours: int, now: datetime) -> None:
    longest = longest_open_hours(cadence, now)
    if open_hours > longest:
        raise InvalidInput(
            f"With checks {cadence.describe()}, each one can stay open for at most "
            f"{hours_words(longest)}, so it closes before the next one starts. Shorten how "
            "long checks stay open, or space them further apart.",
            field="open_hours",
        )


def _valid_question(question: QuestionInput) -> QuestionInput:
    title, best, worst = question.title.strip(), question.best.strip(), question.worst.strip()
    if not title:
        raise InvalidInput("Give the question a title, for example “Learning”.", field="title")
    if len(title) > QUESTION_TITLE_MAX:
        raise InvalidInput(
            f"Keep the title to {QUESTION_TITLE_MAX} characters (it has {len(title)}). "
            "The descriptions can say more.",
            field="title",
        )
    for text, field, name in ((best, "best", "at its best"), (worst, "worst", "at its worst")):
        if len(text) > QUESTION_TEXT_MAX:
            raise InvalidInput(
                f"Keep “{name}” to {QUESTION_TEXT_MAX} characters (it has {len(text)}).",
                field=field,
            )
    return QuestionInput(title=title, best=best, worst=worst)


def _no_duplicate_title(title: str, rows: Sequence[HealthCheckQuestion], key: str | None) -> None:
    if any(r.title.casefold() == title.casefold() and r.key != key for r in rows):
        raise InvalidInput(
            f"There's already a question called “{title}”. Give this one its own title.",
            field="title",
        )


def _valid_scale(scale: Sequence[ScaleOption]) -> tuple[ScaleOption, ...]:
    if not MIN_SCALE_OPTIONS <= len(scale) <= MAX_SCALE_OPTIONS:
        raise InvalidInput(
            f"The answer scale needs {MIN_SCALE_OPTIONS} to {MAX_SCALE_OPTIONS} answers to "
            "choose from.",
            field="scale",
        )
    cleaned: list[ScaleOption] = []
    for option in scale:
        label, emoji = option.label.strip(), option.emoji.strip()
        if not label:
            raise InvalidInput(
                "Give every answer on the scale a label, for example “Going well”.", field="scale"
            )
        if len(label) > SCALE_LABEL_MAX:
            raise InvalidInput(
                f"Keep each answer's label to {SCALE_LABEL_MAX} characters so it fits on a "
                f"button (“{label}” has {len(label)}).",
                field="scale",
            )
        if len(emoji) > SCALE_EMOJI_MAX:
            raise InvalidInput("Use a single emoji for each answer, like :sunny:.", field="scale")
        if not _SCALE_KEY.match(option.key):
            raise InvalidInput(
                f"The answer “{label}” needs a short key of lower-case letters and numbers.",
                field="scale",
            )
        if not 0 <= option.score <= 100:
            raise InvalidInput(
                "Answer scores go from 0 (needs attention) to 100 (going well).", field="scale"
            )
        cleaned.append(ScaleOption(key=option.key, label=label, emoji=emoji, score=option.score))
    labels = [o.label.casefold() for o in cleaned]
    for option in cleaned:
        if labels.count(option.label.casefold()) > 1:
            raise InvalidInput(
                f"Two answers on the scale are both called “{option.label}”. Give each its own "
                "label.",
                field="scale",
            )
    if len({o.key for o in cleaned}) < len(cleaned):
        raise InvalidInput("Each answer on the scale needs its own key.", field="scale")
    if len({o.score for o in cleaned}) < 2:
        raise InvalidInput(
            "The answers on the scale all score the same, so results couldn't tell them apart. "
            "Give the best answer 100 and the worst 0.",
            field="scale",
        )
    return tuple(cleaned)


def _check_settings(settings: SettingsInput) -> None:
    if not MIN_OPEN_HOURS <= settings.open_hours <= MAX_OPEN_HOURS:
        raise InvalidInput(
            f"A check can stay open from {hours_words(MIN_OPEN_HOURS)} to "
            f"{hours_words(MAX_OPEN_HOURS)}.",
            field="open_hours",
        )
    if not 0 <= settings.reminders <= MAX_REMINDERS:
        raise InvalidInput(
            f"Send between 0 and {MAX_REMINDERS} reminders to people who haven't answered.",
            field="reminders",
        )
    if not 1 <= settings.min_answers <= MAX_MIN_ANSWERS:
        raise InvalidInput(
            f"The minimum number of answers before results are shown is between 1 and "
            f"{MAX_MIN_ANSWERS}.",
            field="min_answers",
        )
    if settings.anonymous and settings.min_answers < ANONYMOUS_MIN_ANSWERS:
        raise InvalidInput(
            f"An anonymous check needs at least {ANONYMOUS_MIN_ANSWERS} answers before results "
            "are shown, so nobody's answer can be worked out from them.",
            field="min_answers",
        )


# --- set-up ---------------------------------------------------------------------------------


async def _setup_row(session: AsyncSession, community: Community) -> HealthCheckSetup | None:
    return await session.scalar(
        select(HealthCheckSetup).where(HealthCheckSetup.community_id == community.id)
    )


async def _question_rows(
    session: AsyncSession, setup: HealthCheckSetup
) -> list[HealthCheckQuestion]:
    result = await session.scalars(
        select(HealthCheckQuestion)
        .where(HealthCheckQuestion.setup_id == setup.id)
        .order_by(HealthCheckQuestion.position, HealthCheckQuestion.id)
    )
    return list(result)


async def _ensure_setup(
    session: AsyncSession, community: Community, actor: Actor, now: datetime
) -> HealthCheckSetup:
    """The community's set-up, saved with the defaults the first time it is needed."""
    existing = await _setup_row(session, community)
    if existing is not None:
        return existing
    setup = HealthCheckSetup(
        community_id=community.id,
        scale=_scale_json(DEFAULT_SCALE),
        every_weeks=1,
        week_of_month=1,
        open_hours=DEFAULT_OPEN_HOURS,
        anonymous=DEFAULT_ANONYMOUS,
        reminders=DEFAULT_REMINDERS,
        min_answers=DEFAULT_MIN_ANSWERS,
        created_by_id=actor.user_id,
        updated_at=now,
        revision=1,
    )
    try:
        async with session.begin_nested():
            session.add(setup)
            await session.flush()
            _add_questions(session, setup, DEFAULT_QUESTIONS)
            await session.flush()
    except IntegrityError:
        # Another lead saved the set-up in the same instant.
        found = await _setup_row(session, community)
        assert found is not None
        return found
    return setup


def _add_questions(
    session: AsyncSession, setup: HealthCheckSetup, questions: Sequence[Question]
) -> None:
    for position, q in enumerate(questions):
        session.add(
            HealthCheckQuestion(
                setup_id=setup.id,
                key=q.key,
                position=position,
                title=q.title,
                best=q.best,
                worst=q.worst,
            )
        )


def _bump(setup: HealthCheckSetup, now: datetime) -> None:
    setup.revision += 1
    setup.updated_at = now


def _renumber(rows: Sequence[HealthCheckQuestion]) -> None:
    for position, row in enumerate(rows):
        row.position = position


async def setup_view(session: AsyncSession, community: Community) -> SetupView:
    """The community's set-up, or the defaults (unsaved, revision 0) before anyone saved one."""
    setup = await _setup_row(session, community)
    if setup is None:
        return SetupView(
            community_id=community.id,
            channel_id=community.channel_id,
            questions=DEFAULT_QUESTIONS,
            scale=DEFAULT_SCALE,
            cadence=None,
            open_hours=DEFAULT_OPEN_HOURS,
            anonymous=DEFAULT_ANONYMOUS,
            reminders=DEFAULT_REMINDERS,
            min_answers=DEFAULT_MIN_ANSWERS,
            revision=0,
            saved=False,
        )
    return SetupView(
        community_id=community.id,
        channel_id=community.channel_id,
        questions=tuple(_question(r) for r in await _question_rows(session, setup)),
        scale=_scale_of(setup.scale),
        cadence=_cadence_of(setup),
        open_hours=setup.open_hours,
        anonymous=setup.anonymous,
        reminders=setup.reminders,
        min_answers=setup.min_answers,
        revision=setup.revision,
        saved=True,
    )


async def update_settings(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    settings: SettingsInput,
    now: datetime,
) -> SetupView:
    """Change the scale, how long checks stay open, anonymity, reminders and the minimum
    number of answers. A check already running keeps the settings it opened with."""
    await require_lead(session, community, actor, "change the health check set-up")
    scale = _valid_scale(settings.scale)
    _check_settings(settings)
    setup = await _ensure_setup(session, community, actor, now)
    cadence = _cadence_of(setup)
    if cadence is not None:
        _check_window(cadence, settings.open_hours, now)
    setup.scale = _scale_json(scale)
    setup.open_hours = settings.open_hours
    setup.anonymous = settings.anonymous
    setup.reminders = settings.reminders
    setup.min_answers = settings.min_answers
    _bump(setup, now)
    await session.flush()
    return await setup_view(session, community)


async def set_cadence(
    session: AsyncSession, actor: Actor, community: Community, cadence: Cadence, now: datetime
) -> SetupView:
    """Run checks on a schedule (or change it). The cadence validated itself when built."""
    await require_lead(session, community, actor, "change when health checks run")
    cadence.next_after(now)  # a cadence that never comes round raises here
    setup = await _ensure_setup(session, community, actor, now)
    _check_window(cadence, setup.open_hours, now)
    setup.frequency = cadence.frequency.value
    setup.weekday = cadence.weekday
    setup.every_weeks = cadence.every_weeks
    setup.week_of_month = cadence.week_of_month
    setup.at_time = cadence.at.strftime("%H:%M")
    setup.time_zone = cadence.time_zone
    setup.anchor = cadence.anchor
    _bump(setup, now)
    await session.flush()
    return await setup_view(session, community)


async def delete_cadence(
    session: AsyncSession, actor: Actor, community: Community, now: datetime
) -> SetupView:
    """Stop running checks on a schedule; they can still be run by hand. An open check
    carries on until it closes."""
    await require_lead(session, community, actor, "delete the health check schedule")
    setup = await _setup_row(session, community)
    if setup is None or _cadence_of(setup) is None:
        raise NotFound(
            "This community's health checks aren't on a schedule, so there's nothing to delete."
        )
    setup.frequency = None
    setup.weekday = None
    setup.at_time = None
    setup.time_zone = None
    setup.anchor = None
    _bump(setup, now)
    await session.flush()
    return await setup_view(session, community)


def _find_row(rows: Sequence[HealthCheckQuestion], key: str) -> HealthCheckQuestion:
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        raise NotFound(
            "That question isn't in the set any more; someone may have just removed it. "
            "Open the set-up again to see the current questions."
        )
    return row


def _new_key(taken: set[str]) -> str:
    while True:
        key = f"q_{secrets.token_hex(4)}"
        if key not in taken:
            return key


async def add_question(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    question: QuestionInput,
    now: datetime,
    *,
    position: int | None = None,
) -> Question:
    """Add a question (at the end, or at `position` counted from 0) with a new stable key."""
    await require_lead(session, community, actor, "change the health check questions")
    cleaned = _valid_question(question)
    setup = await _ensure_setup(session, community, actor, now)
    rows = await _question_rows(session, setup)
    if len(rows) >= MAX_QUESTIONS:
        raise InvalidInput(
            f"A health check can ask at most {MAX_QUESTIONS} questions, so it fits in one "
            "Slack message. Remove one before adding another."
        )
    _no_duplicate_title(cleaned.title, rows, None)
    row = HealthCheckQuestion(
        setup_id=setup.id,
        key=_new_key({r.key for r in rows}),
        position=len(rows),
        title=cleaned.title,
        best=cleaned.best,
        worst=cleaned.worst,
    )
    session.add(row)
    at = len(rows) if position is None else max(0, min(position, len(rows)))
    rows.insert(at, row)
    _renumber(rows)
    _bump(setup, now)
    await session.flush()
    return _question(row)


async def edit_question(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    key: str,
    question: QuestionInput,
    now: datetime,
) -> Question:
    """Reword a question; it keeps its key, so its trend carries on."""
    await require_lead(session, community, actor, "change the health check questions")
    cleaned = _valid_question(question)
    setup = await _ensure_setup(session, community, actor, now)
    rows = await _question_rows(session, setup)
    row = _find_row(rows, key)
    _no_duplicate_title(cleaned.title, rows, key)
    row.title, row.best, row.worst = cleaned.title, cleaned.best, cleaned.worst
    _bump(setup, now)
    await session.flush()
    return _question(row)


async def remove_question(
    session: AsyncSession, actor: Actor, community: Community, key: str, now: datetime
) -> None:
    """Remove a question from future checks. Its past results stay in the history."""
    await require_lead(session, community, actor, "change the health check questions")
    setup = await _ensure_setup(session, community, actor, now)
    rows = await _question_rows(session, setup)
    row = _find_row(rows, key)
    if len(rows) == 1:
        raise InvalidInput(
            "A health check needs at least one question. Add another before removing this one."
        )
    await session.delete(row)
    rows.remove(row)
    _renumber(rows)
    _bump(setup, now)
    await session.flush()


async def move_question(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    key: str,
    position: int,
    now: datetime,
) -> tuple[Question, ...]:
    """Move a question to `position` (from 0; clamped to the list). Returns the new order."""
    await require_lead(session, community, actor, "change the health check questions")
    setup = await _ensure_setup(session, community, actor, now)
    rows = await _question_rows(session, setup)
    row = _find_row(rows, key)
    rows.remove(row)
    rows.insert(max(0, min(position, len(rows))), row)
    _renumber(rows)
    _bump(setup, now)
    await session.flush()
    return tuple(_question(r) for r in rows)


async def restore_default_questions(
    session: AsyncSession, actor: Actor, community: Community, now: datetime
) -> tuple[Question, ...]:
    """Put the default questions back (under their own keys, so their trends resume)."""
    await require_lead(session, community, actor, "change the health check questions")
    setup = await _ensure_setup(session, community, actor, now)
    await session.execute(
        delete(HealthCheckQuestion).where(HealthCheckQuestion.setup_id == setup.id)
    )
    _add_questions(session, setup, DEFAULT_QUESTIONS)
    _bump(setup, now)
    await session.flush()
    return DEFAULT_QUESTIONS


async def scheduled_setups(session: AsyncSession) -> list[ScheduledSetup]:
    """Every community, in every workspace, whose checks run on a schedule.

    The one query across teams besides `open_checks`: the scheduler plans for all of them.
    """
    rows = await session.execute(
        select(HealthCheckSetup, Community)
        .join(Community, Community.id == HealthCheckSetup.community_id)
        .where(HealthCheckSetup.frequency.is_not(None))
        .order_by(HealthCheckSetup.id)
    )
    result = []
    for setup, community in rows:
        cadence = _cadence_of(setup)
        if cadence is not None:
            result.append(
                ScheduledSetup(
                    team_id=community.team_id,
                    community_id=community.id,
                    channel_id=community.channel_id,
                    revision=setup.revision,
                    cadence=cadence,
                    open_hours=setup.open_hours,
                )
            )
    return result


# --- checks ---------------------------------------------------------------------------------

Lock = Literal["share", "update"] | None


async def _load_check(
    session: AsyncSession, team_id: str, check_id: int, lock: Lock = None
) -> tuple[HealthCheck, Community]:
    """The check and its community, in this team only.

    Answers take a shared lock on the check row and closing an exclusive one, so on
    PostgreSQL an answer can never slip in after the close has counted (SQLite's write
    transactions are serialised already).
    """
    stmt = (
        select(HealthCheck, Community)
        .join(Community, Community.id == HealthCheck.community_id)
        .where(
            HealthCheck.id == check_id,
            HealthCheck.team_id == team_id,
            Community.team_id == team_id,
        )
    )
    if lock is not None:
        stmt = stmt.with_for_update(read=lock == "share", of=HealthCheck).execution_options(
            populate_existing=True
        )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("I can't find that health check any more.")
    return row


async def get_check(session: AsyncSession, team_id: str, check_id: int) -> CheckView:
    check, community = await _load_check(session, team_id, check_id)
    return _check_view(check, community)


async def current_check(session: AsyncSession, community: Community) -> CheckView | None:
    """The community's open check, if one is running."""
    check = await session.scalar(
        select(HealthCheck).where(
            HealthCheck.community_id == community.id,
            HealthCheck.team_id == community.team_id,
            HealthCheck.closed_at.is_(None),
        )
    )
    return None if check is None else _check_view(check, community)


async def open_checks(session: AsyncSession) -> list[CheckView]:
    """Every open check, in every workspace, soonest to close first: for the scheduler's
    close and reminder jobs (including ones that came due while hearth was down)."""
    rows = await session.execute(
        select(HealthCheck, Community)
        .join(Community, Community.id == HealthCheck.community_id)
        .where(HealthCheck.closed_at.is_(None))
        .order_by(HealthCheck.closes_at, HealthCheck.id)
    )
    return [_check_view(check, community) for check, community in rows]


def reminder_times(check: CheckView) -> tuple[datetime, ...]:
    """When to remind people who have not answered: evenly through the open window (one
    reminder comes halfway). Empty when reminders are off."""
    window = check.closes_at - check.opened_at
    n = check.reminders
    return tuple(check.opened_at + window * k / (n + 1) for k in range(1, n + 1))


async def _open(
    session: AsyncSession,
    community: Community,
    setup: HealthCheckSetup,
    now: datetime,
    *,
    occurrence: datetime | None,
    closes_at: datetime,
    started_by_id: str | None,
) -> CheckView:
    questions = tuple(_question(r) for r in await _question_rows(session, setup))
    if not questions:
        raise InvalidInput("This community's health check has no questions. Add one first.")
    check = HealthCheck(
        team_id=community.team_id,
        community_id=community.id,
        occurrence=occurrence,
        setup_revision=setup.revision,
        questions=_questions_json(questions),
        scale=list(setup.scale),
        anonymous=setup.anonymous,
        min_answers=setup.min_answers,
        reminders=setup.reminders,
        started_by_id=started_by_id,
        opened_at=now,
        closes_at=closes_at,
    )
    try:
        async with session.begin_nested():
            session.add(check)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "A health check is already open in this channel. Close it first, or wait for it "
            "to close."
        ) from None
    if check.anonymous:
        anonymity.keep_secret(session, check.id)
        await session.flush()
    return _check_view(check, community)


async def run_now(
    session: AsyncSession, actor: Actor, community: Community, now: datetime
) -> CheckView:
    """A lead starts a check at once; it stays open as long as the set-up says."""
    await require_lead(session, community, actor, "start a health check")
    setup = await _ensure_setup(session, community, actor, now)
    return await _open(
        session,
        community,
        setup,
        now,
        occurrence=None,
        closes_at=now + timedelta(hours=setup.open_hours),
        started_by_id=actor.user_id,
    )


async def open_scheduled_check(
    session: AsyncSession,
    team_id: str,
    community_id: int,
    occurrence: datetime,
    now: datetime,
    *,
    revision: int | None = None,
) -> CheckView | None:
    """Open the check for one scheduled occurrence, once.

    It closes `open_hours` after the occurrence, so a check opened late (hearth was down)
    keeps the schedule's rhythm. Returns None, changing nothing, when the occurrence was
    already opened, is not due yet or is past its open window, when the schedule is gone or
    its revision differs from `revision`, or when another check is still open (close due
    checks first).
    """
    community = await session.scalar(
        select(Community).where(Community.id == community_id, Community.team_id == team_id)
    )
    if community is None:
        return None
    setup = await _setup_row(session, community)
    if setup is None or _cadence_of(setup) is None:
        return None
    if revision is not None and setup.revision != revision:
        return None
    closes_at = occurrence + timedelta(hours=setup.open_hours)
    if occurrence > now or closes_at <= now:
        return None
    try:
        return await _open(
            session,
            community,
            setup,
            now,
            occurrence=occurrence,
            closes_at=closes_at,
            started_by_id=None,
        )
    except Conflict:
        return None


async def record_message(
    session: AsyncSession, team_id: str, check_id: int, message_ts: str
) -> None:
    """Remember where the poll landed, so it can be updated with the answer count and closed
    (the outbox tells, `bot.services.health_check_messages`). A check gone meanwhile is fine."""
    await session.execute(
        update(HealthCheck)
        .where(HealthCheck.id == check_id, HealthCheck.team_id == team_id)
        .values(message_ts=message_ts)
    )


async def record_results_message(
    session: AsyncSession, team_id: str, check_id: int, message_ts: str
) -> None:
    """Remember where the results landed; the check's minutes link to them (as from the
    Home). A check gone meanwhile is fine."""
    await session.execute(
        update(HealthCheck)
        .where(HealthCheck.id == check_id, HealthCheck.team_id == team_id)
        .values(results_ts=message_ts)
    )
    await session.execute(
        update(Minutes)
        .where(
            Minutes.team_id == team_id,
            Minutes.source == MINUTES_SOURCE,
            Minutes.source_id == check_id,
        )
        .values(posted_ts=message_ts)
    )


# --- answers --------------------------------------------------------------------------------


async def _voters(
    session: AsyncSession, check: HealthCheck, team_id: str, user_ids: Sequence[str]
) -> list[str]:
    """What stands for each person in this check: their hash under its secret, or their id."""
    if not check.anonymous:
        return list(user_ids)
    secret = await anonymity.check_secret(session, check.id)
    if secret is None:
        raise Conflict(_CLOSED)
    return [anonymity.voter_key(secret, team_id, user_id) for user_id in user_ids]


async def _voter(session: AsyncSession, check: HealthCheck, team_id: str, user_id: str) -> str:
    return (await _voters(session, check, team_id, [user_id]))[0]


async def _upsert_answer(
    session: AsyncSession, check_id: int, voter: str, question_key: str, choice: str
) -> None:
    """Insert or change one answer in a single statement, so racing clicks never lose one."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(HealthCheckAnswer).values(
        check_id=check_id, voter=voter, question_key=question_key, choice=choice
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[
            HealthCheckAnswer.check_id,
            HealthCheckAnswer.voter,
            HealthCheckAnswer.question_key,
        ],
        set_={"choice": stmt.excluded.choice},
    )
    await session.execute(stmt)


async def answer(
    session: AsyncSession,
    actor: Actor,
    check_id: int,
    question_key: str,
    choice: str,
    now: datetime,
) -> AnswerReceipt:
    """Record (or change) the person's answer to one question while the check is open.

    No time is stored with it. Answering a closed check, a question the check does not ask or
    an answer not on its scale is refused and changes nothing.
    """
    check, _ = await _load_check(session, actor.team_id, check_id, lock="share")
    if check.closed_at is not None or check.closes_at <= now:
        raise Conflict(_CLOSED)
    questions = _questions_of(check.questions)
    question = next((q for q in questions if q.key == question_key), None)
    if question is None:
        raise NotFound(
            "That question isn't part of this health check (it may have been changed since). "
            "Your other answers still count."
        )
    scale = _scale_of(check.scale)
    option = next((o for o in scale if o.key == choice), None)
    if option is None:
        raise InvalidInput("That answer isn't one of this check's choices. Please pick a button.")
    voter = await _voter(session, check, actor.team_id, actor.user_id)
    mine = HealthCheckAnswer.check_id == check.id, HealthCheckAnswer.voter == voter
    previous_key = await session.scalar(
        select(HealthCheckAnswer.choice).where(
            *mine, HealthCheckAnswer.question_key == question_key
        )
    )
    await _upsert_answer(session, check.id, voter, question_key, option.key)
    answered = await session.scalar(
        select(func.count()).select_from(HealthCheckAnswer).where(*mine)
    )
    previous = next((o for o in scale if o.key == previous_key), None)
    return AnswerReceipt(
        check_id=check.id,
        question_title=question.title,
        choice=option,
        previous=None if previous == option else previous,
        answered=answered or 0,
        questions=len(questions),
        anonymous=check.anonymous,
    )


async def my_answers(session: AsyncSession, actor: Actor, check_id: int) -> dict[str, str]:
    """The person's answers so far (question key -> scale key), to show them their choices.

    Empty once an anonymous check has closed: nothing can find them any more.
    """
    check, _ = await _load_check(session, actor.team_id, check_id)
    if check.closed_at is not None and check.anonymous:
        return {}
    try:
        voter = await _voter(session, check, actor.team_id, actor.user_id)
    except Conflict:
        return {}
    rows = await session.execute(
        select(HealthCheckAnswer.question_key, HealthCheckAnswer.choice).where(
            HealthCheckAnswer.check_id == check.id, HealthCheckAnswer.voter == voter
        )
    )
    return dict(rows.all())


async def respondent_count(session: AsyncSession, team_id: str, check_id: int) -> int:
    """How many people have answered at least one question (never what they answered)."""
    check, _ = await _load_check(session, team_id, check_id)
    if check.closed_at is not None:
        return check.respondent_count or 0
    count = await session.scalar(
        select(func.count(func.distinct(HealthCheckAnswer.voter))).where(
            HealthCheckAnswer.check_id == check.id
        )
    )
    return count or 0


async def non_answerers(
    session: AsyncSession, team_id: str, check_id: int, member_ids: Sequence[str]
) -> list[str]:
    """Which of `member_ids` (say, the channel's members) have not answered any question.

    Only while the check is open: an anonymous check finds them by hashing each member with
    its secret and looking for the hash, so nothing records who answered.
    """
    check, _ = await _load_check(session, team_id, check_id)
    if check.closed_at is not None:
        raise Conflict("This health check has closed, so there's nobody left to remind.")
    voters = set(
        await session.scalars(
            select(HealthCheckAnswer.voter).where(HealthCheckAnswer.check_id == check.id).distinct()
        )
    )
    members = list(dict.fromkeys(member_ids))
    keys = await _voters(session, check, team_id, members)
    return [m for m, key in zip(members, keys, strict=True) if key not in voters]


async def to_remind(
    session: AsyncSession, team_id: str, check_id: int, member_ids: Sequence[str]
) -> list[str]:
    """The non-answerers among `member_ids` who have not asked to be left alone."""
    waiting = await non_answerers(session, team_id, check_id, member_ids)
    check, _ = await _load_check(session, team_id, check_id)
    opted_out = set(
        await session.scalars(
            select(HealthCheckOptOut.user_id).where(
                HealthCheckOptOut.community_id == check.community_id
            )
        )
    )
    return [m for m in waiting if m not in opted_out]


async def set_reminders_wanted(
    session: AsyncSession, actor: Actor, community: Community, wanted: bool, now: datetime
) -> None:
    """Record "don't remind me" (`wanted=False`) or "remind me again" for this community's
    checks. Saying the same twice is fine."""
    if community.team_id != actor.team_id:
        raise NotFound("I can't find that community any more.")
    if wanted:
        await session.execute(
            delete(HealthCheckOptOut).where(
                HealthCheckOptOut.community_id == community.id,
                HealthCheckOptOut.user_id == actor.user_id,
            )
        )
        return
    if await wants_reminders(session, community, actor.user_id):
        try:
            async with session.begin_nested():
                session.add(
                    HealthCheckOptOut(
                        community_id=community.id, user_id=actor.user_id, created_at=now
                    )
                )
                await session.flush()
        except IntegrityError:
            pass  # the same click, twice at once


async def wants_reminders(session: AsyncSession, community: Community, user_id: str) -> bool:
    opted_out = await session.scalar(
        select(HealthCheckOptOut.id).where(
            HealthCheckOptOut.community_id == community.id, HealthCheckOptOut.user_id == user_id
        )
    )
    return opted_out is None


# --- closing and results --------------------------------------------------------------------


async def close_early(
    session: AsyncSession,
    actor: Actor,
    check_id: int,
    now: datetime,
    *,
    member_count: int | None = None,
) -> CheckResults:
    """A lead closes a check before its time. `member_count` is the channel's members, for
    the response rate."""
    check, community = await _load_check(session, actor.team_id, check_id, lock="update")
    await require_lead(session, community, actor, "close a health check early")
    if check.closed_at is not None:
        raise Conflict("This health check has already closed.")
    return await _close(session, check, community, now, actor.user_id, member_count)


async def close_due(
    session: AsyncSession,
    team_id: str,
    check_id: int,
    now: datetime,
    *,
    member_count: int | None = None,
) -> CheckResults | None:
    """Close a check whose time is up; None (changing nothing) if it is already closed, gone
    or not due yet, so a second firing does nothing."""
    try:
        check, community = await _load_check(session, team_id, check_id, lock="update")
    except NotFound:
        return None
    if check.closed_at is not None or check.closes_at > now:
        return None
    return await _close(session, check, community, now, None, member_count)


async def _close(
    session: AsyncSession,
    check: HealthCheck,
    community: Community,
    now: datetime,
    closed_by_id: str | None,
    member_count: int | None,
) -> CheckResults:
    of_check = HealthCheckAnswer.check_id == check.id
    counts: dict[str, dict[str, int]] = {}
    tally = await session.execute(
        select(HealthCheckAnswer.question_key, HealthCheckAnswer.choice, func.count())
        .where(of_check)
        .group_by(HealthCheckAnswer.question_key, HealthCheckAnswer.choice)
    )
    for key, choice, n in tally:
        counts.setdefault(key, {})[choice] = n
    respondents = (
        await session.scalar(
            select(func.count(func.distinct(HealthCheckAnswer.voter))).where(of_check)
        )
    ) or 0
    questions = _questions_of(check.questions)
    scale = _scale_of(check.scale)
    below_minimum = respondents < check.min_answers
    previous = await _previous_scores(session, check, [q.key for q in questions])

    results: list[QuestionResult] = []
    for position, question in enumerate(questions):
        question_counts = counts.get(question.key, {})
        answers = sum(question_counts.values())
        shown = not below_minimum and answers >= check.min_answers
        score = scores.score(question_counts, scale) if shown else None
        earlier = previous.get(question.key) if shown else None
        result = QuestionResult(
            key=question.key,
            title=question.title,
            position=position,
            answers=answers,
            shown=shown,
            distribution=scores.distribution(question_counts, scale) if shown else (),
            score=score,
            disagreement=scores.disagreement(question_counts, scale) if shown else None,
            previous_score=earlier,
            trend=scores.trend(score, earlier),
        )
        results.append(result)
        session.add(
            HealthCheckResult(
                check_id=check.id,
                question_key=question.key,
                position=position,
                title=question.title,
                answers=answers,
                counts={o.key: question_counts.get(o.key, 0) for o in scale} if shown else None,
                score=result.score,
                disagreement=result.disagreement,
                previous_score=result.previous_score,
                trend=None if result.trend is None else result.trend.value,
            )
        )

    check.closed_at = now
    check.closed_by_id = closed_by_id
    check.member_count = member_count
    check.respondent_count = respondents
    check.below_minimum = below_minimum
    await session.flush()
    if check.anonymous:
        # From here on no hash can be tied to anyone.
        await anonymity.destroy_secret(session, check.id)
        # The counts are in the results; the rows would only keep each person's answers
        # together, which in a small community could single someone out.
        await session.execute(delete(HealthCheckAnswer).where(of_check))
    view = _results_view(check, community, results)
    await _keep_minutes(session, check, community, view, now)
    return view


async def _previous_scores(
    session: AsyncSession, check: HealthCheck, keys: Sequence[str]
) -> dict[str, float]:
    """Each question's score in the latest earlier closed check of the community that had
    one (checks with too few answers have none and are passed over)."""
    if not keys:
        return {}
    ranked = (
        select(
            HealthCheckResult.question_key,
            HealthCheckResult.score,
            func.row_number()
            .over(
                partition_by=HealthCheckResult.question_key,
                order_by=(HealthCheck.opened_at.desc(), HealthCheck.id.desc()),
            )
            .label("rank"),
        )
        .join(HealthCheck, HealthCheck.id == HealthCheckResult.check_id)
        .where(
            HealthCheck.community_id == check.community_id,
            HealthCheck.team_id == check.team_id,
            HealthCheck.closed_at.is_not(None),
            HealthCheck.id != check.id,
            HealthCheck.opened_at <= check.opened_at,
            HealthCheckResult.score.is_not(None),
            HealthCheckResult.question_key.in_(keys),
        )
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.question_key, ranked.c.score).where(ranked.c.rank == 1)
    )
    return {key: float(score) for key, score in rows if score is not None}


def _stored_result(row: HealthCheckResult, scale: Sequence[ScaleOption]) -> QuestionResult:
    shown = row.counts is not None
    return QuestionResult(
        key=row.question_key,
        title=row.title,
        position=row.position,
        answers=row.answers,
        shown=shown,
        distribution=scores.distribution(row.counts or {}, scale) if shown else (),
        score=row.score,
        disagreement=row.disagreement,
        previous_score=row.previous_score,
        trend=None if row.trend is None else Trend(row.trend),
    )


def _results_view(
    check: HealthCheck, community: Community, questions: Sequence[QuestionResult]
) -> CheckResults:
    assert check.closed_at is not None
    return CheckResults(
        check_id=check.id,
        community_id=check.community_id,
        channel_id=community.channel_id,
        anonymous=check.anonymous,
        opened_at=check.opened_at,
        closed_at=check.closed_at,
        closed_by_id=check.closed_by_id,
        respondents=check.respondent_count or 0,
        members=check.member_count,
        min_answers=check.min_answers,
        below_minimum=bool(check.below_minimum),
        scale=_scale_of(check.scale),
        questions=scores.most_disagreement_first(questions),
    )


async def _stored_results(
    session: AsyncSession, check: HealthCheck, community: Community
) -> CheckResults:
    rows = await session.scalars(
        select(HealthCheckResult)
        .where(HealthCheckResult.check_id == check.id)
        .order_by(HealthCheckResult.position)
    )
    scale = _scale_of(check.scale)
    return _results_view(check, community, [_stored_result(r, scale) for r in rows])


async def results(session: AsyncSession, team_id: str, check_id: int) -> CheckResults:
    """A closed check's results, as stored when it closed."""
    check, community = await _load_check(session, team_id, check_id)
    if check.closed_at is None:
        raise Conflict("This health check is still open. Its results come when it closes.")
    return await _stored_results(session, check, community)


async def latest_results(session: AsyncSession, community: Community) -> CheckResults | None:
    """The community's most recent closed check's results, if it has closed one."""
    check = await session.scalar(
        select(HealthCheck)
        .where(
            HealthCheck.community_id == community.id,
            HealthCheck.team_id == community.team_id,
            HealthCheck.closed_at.is_not(None),
        )
        .order_by(HealthCheck.opened_at.desc(), HealthCheck.id.desc())
        .limit(1)
    )
    return None if check is None else await _stored_results(session, check, community)


async def history(
    session: AsyncSession, community: Community, count: int = HISTORY_CHECKS
) -> History:
    """Each question's scores over the community's last `count` closed checks, oldest first.

    Questions come in the set-up's current order, then any no longer asked (by where they
    were last asked); a question's title is the one it was last asked with.
    """
    checks = list(
        await session.scalars(
            select(HealthCheck)
            .where(
                HealthCheck.community_id == community.id,
                HealthCheck.team_id == community.team_id,
                HealthCheck.closed_at.is_not(None),
            )
            .order_by(HealthCheck.opened_at.desc(), HealthCheck.id.desc())
            .limit(count)
        )
    )
    checks.reverse()
    if not checks:
        return History(checks=(), questions=())
    column = {check.id: i for i, check in enumerate(checks)}
    rows = await session.scalars(
        select(HealthCheckResult).where(HealthCheckResult.check_id.in_(list(column)))
    )
    series: dict[str, list[float | None]] = {}
    latest: dict[str, tuple[int, int, str]] = {}  # key -> (check column, position, title)
    for row in rows:
        i = column[row.check_id]
        series.setdefault(row.question_key, [None] * len(checks))[i] = row.score
        if row.question_key not in latest or latest[row.question_key][0] < i:
            latest[row.question_key] = (i, row.position, row.title)
    current = [q.key for q in (await setup_view(session, community)).questions]
    asked_now = [k for k in current if k in series]
    others = sorted(
        (k for k in series if k not in current), key=lambda k: (-latest[k][0], latest[k][1])
    )
    return History(
        checks=tuple(
            HistoryPoint(
                check_id=c.id,
                closed_at=c.closed_at or c.closes_at,
                respondents=c.respondent_count or 0,
            )
            for c in checks
        ),
        questions=tuple(
            QuestionHistory(key=k, title=latest[k][2], scores=tuple(series[k]))
            for k in (*asked_now, *others)
        ),
    )


# --- minutes --------------------------------------------------------------------------------


async def _time_zone(session: AsyncSession, community: Community) -> ZoneInfo:
    """The community's time zone: its checks' schedule's, else its meetups', else UTC."""
    names = (
        await session.scalar(
            select(HealthCheckSetup.time_zone).where(HealthCheckSetup.community_id == community.id)
        ),
        await session.scalar(
            select(MeetupSchedule.time_zone).where(MeetupSchedule.community_id == community.id)
        ),
    )
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


async def _runner(session: AsyncSession, check: HealthCheck, community: Community) -> str:
    """Who ran the check: whoever started it by hand, else whoever set up the community's
    checks (the schedule opened it), as actions recorded after it say too."""
    if check.started_by_id:
        return check.started_by_id
    set_up_by = await session.scalar(
        select(HealthCheckSetup.created_by_id).where(HealthCheckSetup.community_id == community.id)
    )
    return set_up_by or community.created_by_id


def _minutes_question(result: QuestionResult) -> HealthCheckMinutesQuestion:
    change = None
    if result.score is not None and result.previous_score is not None:
        change = round(result.score - result.previous_score, 1)
    return HealthCheckMinutesQuestion(
        key=result.key,
        title=result.title,
        answers=result.answers,
        shown=result.shown,
        score=result.score,
        previous_score=result.previous_score,
        change=change,
        trend=result.trend,
        disagreement=result.disagreement,
        distribution=tuple(
            HealthCheckMinutesChoice(label=c.option.label, emoji=c.option.emoji, count=c.count)
            for c in result.distribution
        ),
    )


async def _minutes_of(
    session: AsyncSession, check: HealthCheck, results: CheckResults, held_on: date
) -> HealthCheckMinutes:
    """What the results message shows, and the actions recorded after it so far."""
    recorded = await session.scalars(
        select(HealthCheckAction)
        .where(HealthCheckAction.check_id == check.id)
        .order_by(HealthCheckAction.created_at, HealthCheckAction.id)
    )
    return HealthCheckMinutes(
        check_id=check.id,
        channel_id=results.channel_id,
        title=MINUTES_TITLE,
        held_on=held_on,
        opened_at=results.opened_at,
        closed_at=results.closed_at,
        closed_early=results.closed_by_id is not None,
        anonymous=results.anonymous,
        respondents=results.respondents,
        members=results.members,
        min_answers=results.min_answers,
        below_minimum=results.below_minimum,
        scale=tuple(
            HealthCheckMinutesOption(label=o.label, emoji=o.emoji, score=o.score)
            for o in results.scale
        ),
        questions=tuple(_minutes_question(r) for r in results.questions),
        actions=tuple(
            HealthCheckMinutesAction(text=a.text, owner_id=a.owner_id, due_date=a.due_date)
            for a in recorded
        ),
    )


async def _locked_minutes(session: AsyncSession, check: HealthCheck) -> Minutes | None:
    """The check's minutes row, locked, so two actions recorded at once both end up in it."""
    return await session.scalar(
        select(Minutes)
        .where(
            Minutes.team_id == check.team_id,
            Minutes.source == MINUTES_SOURCE,
            Minutes.source_id == check.id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _keep_minutes(
    session: AsyncSession,
    check: HealthCheck,
    community: Community,
    results: CheckResults,
    now: datetime,
) -> HealthCheckMinutes:
    """Store the closed check's minutes, or bring them up to date (a new action). Once per
    check, whoever gets here first: the archive's unique (source, source_id) decides."""
    row = await _locked_minutes(session, check)
    if row is None:
        closed = results.closed_at.astimezone(await _time_zone(session, community))
        minutes = await _minutes_of(session, check, results, closed.date())
        try:
            async with session.begin_nested():
                session.add(
                    Minutes(
                        team_id=check.team_id,
                        channel_id=community.channel_id,
                        source=MINUTES_SOURCE,
                        source_id=check.id,
                        title=minutes.title,
                        held_on=minutes.held_on,
                        facilitator_id=await _runner(session, check, community),
                        body=minutes.model_dump(mode="json"),
                        created_at=now,
                        posted_ts=check.results_ts,
                    )
                )
                await session.flush()
            return minutes
        except IntegrityError:  # stored by someone else this instant: bring theirs up to date
            row = await _locked_minutes(session, check)
            if row is None:
                raise
    minutes = await _minutes_of(session, check, results, row.held_on)
    body = minutes.model_dump(mode="json")
    if row.body != body:
        row.body = body
        await session.flush()
    return minutes


async def keep_minutes(
    session: AsyncSession, team_id: str, check_id: int, now: datetime
) -> HealthCheckMinutes | None:
    """Make sure a closed check's results (and the actions recorded after it) are in the
    minutes archive: stored if missing, brought up to date if not. Doing it twice, or in two
    processes at once, stores them once. None while the check is open."""
    check, community = await _load_check(session, team_id, check_id)
    if check.closed_at is None:
        return None
    results = await _stored_results(session, check, community)
    return await _keep_minutes(session, check, community, results, now)


async def unarchived_checks(
    session: AsyncSession, limit: int = ARCHIVE_BATCH
) -> list[UnarchivedCheck]:
    """Closed checks, in every workspace, whose minutes are not in the archive (they closed
    before hearth kept them), oldest first: for the scheduler to archive, a batch at a time."""
    archived = (
        select(Minutes.id)
        .where(Minutes.source == MINUTES_SOURCE, Minutes.source_id == HealthCheck.id)
        .exists()
    )
    rows = await session.execute(
        select(HealthCheck.team_id, HealthCheck.id, HealthCheck.closed_at)
        .where(HealthCheck.closed_at.is_not(None), ~archived)
        .order_by(HealthCheck.closed_at, HealthCheck.id)
        .limit(limit)
    )
    return [
        UnarchivedCheck(team_id=team_id, check_id=check_id, closed_at=closed_at)
        for team_id, check_id, closed_at in rows
        if closed_at is not None
    ]
