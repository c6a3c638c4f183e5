"""What people type for /health-check, read into typed values with friendly errors.

`SetupForm` (the set-up modal), `CadenceForm` (the schedule, also part of the set-up) and
`QuestionForm` read `view["state"]["values"]` with `from_state(...)` and raise `FormErrors`
keyed by the input block each message belongs under. The schedule reuses the rota's choices
and its forgiving time-zone reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ClassVar

from pydantic import field_validator

from bot.blocks.common import (
    Form,
    FormErrors,
    input_state,
    state_selected,
    state_text,
)
from bot.blocks.rota_forms import canonical_zone, week_of_month
from bot.errors import DomainError
from bot.ids import HealthBlock
from bot.services.health_check_types import (
    MAX_MIN_ANSWERS,
    MAX_OPEN_HOURS,
    MAX_REMINDERS,
    MIN_OPEN_HOURS,
    QUESTION_TEXT_MAX,
    QUESTION_TITLE_MAX,
    QuestionInput,
    ScaleOption,
    SettingsInput,
)
from bot.services.recurrence import MAX_EVERY_WEEKS, Cadence, Frequency, zone

State = Mapping[str, Any]

MANUAL = "manual"  # the frequency choice "only when a lead runs one"
ANONYMOUS, NAMED = "anonymous", "named"


def scale_block(index: int) -> str:
    """The block id of the label input of the scale's `index`-th answer."""
    return f"{HealthBlock.SCALE}.{index}"


# Where the rules' own field names (bot.services) show up in the modals.
SERVICE_FIELD_BLOCKS: Mapping[str, str] = {
    "scale": scale_block(0),
    "open_hours": HealthBlock.OPEN_HOURS,
    "reminders": HealthBlock.REMINDERS,
    "min_answers": HealthBlock.MIN_ANSWERS,
    "weekday": HealthBlock.WEEKDAY,
    "every_weeks": HealthBlock.EVERY_WEEKS,
    "week_of_month": HealthBlock.WEEK_OF_MONTH,
    "time_zone": HealthBlock.TIME_ZONE,
    "title": HealthBlock.TITLE,
    "best": HealthBlock.BEST,
    "worst": HealthBlock.WORST,
}


def field_errors(exc: DomainError, default: str) -> dict[str, str]:
    """A modal's `errors` for a refusal: under the input it concerns, else under `default`."""
    if isinstance(exc, FormErrors):
        return exc.errors
    return {str(SERVICE_FIELD_BLOCKS.get(exc.field or "", default)): exc.message}


def _whole_number(raw: object, message: str, low: int, high: int) -> int:
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        raise ValueError(message)
    number = int(float(text))
    if not low <= number <= high:
        raise ValueError(message)
    return number


# --- the schedule --------------------------------------------------------------------------------


class CadenceForm(Form):
    """When checks start: every N weeks on a weekday, monthly on the Nth weekday, or only by
    hand (`frequency` None)."""

    blocks: ClassVar[Mapping[str, str]] = {
        "frequency": HealthBlock.FREQUENCY,
        "weekday": HealthBlock.WEEKDAY,
        "every_weeks": HealthBlock.EVERY_WEEKS,
        "week_of_month": HealthBlock.WEEK_OF_MONTH,
        "at": HealthBlock.TIME,
        "time_zone": HealthBlock.TIME_ZONE,
    }

    frequency: Frequency | None
    weekday: int = 0
    every_weeks: int = 1
    week_of_month: int = 1
    at: time = time(10, 0)
    time_zone: str = "UTC"

    @field_validator("frequency", mode="before")
    @classmethod
    def _frequency(cls, raw: object) -> Frequency | None:
        if raw == MANUAL:
            return None
        try:
            return Frequency(str(raw))
        except ValueError:
            raise ValueError("Choose how often checks run.") from None

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, raw: object) -> int:
        return _whole_number(raw, "Pick a day of the week.", 0, 6)

    @field_validator("every_weeks", mode="before")
    @classmethod
    def _every_weeks(cls, raw: object) -> int:
        if raw is None or raw == "":
            return 1
        return _whole_number(
            raw, f"Run a check every 1 to {MAX_EVERY_WEEKS} weeks.", 1, MAX_EVERY_WEEKS
        )

    @field_validator("week_of_month", mode="before")
    @classmethod
    def _week_of_month(cls, raw: object) -> int:
        return week_of_month(raw)

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, raw: object) -> time:
        if isinstance(raw, time):
            return raw
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(raw or "").strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError("Pick the time checks start.")
        return time(int(match.group(1)), int(match.group(2)))

    @field_validator("time_zone", mode="before")
    @classmethod
    def _time_zone(cls, raw: object) -> str:
        typed = str(raw or "").strip()
        if not typed:
            raise ValueError("Type a time zone, like Europe/London or America/New_York.")
        try:
            return canonical_zone(typed)
        except DomainError as exc:
            raise ValueError(exc.message) from None

    def to_cadence(self, now: datetime, current: Cadence | None = None) -> Cadence | None:
        """The cadence, counted from today in its zone (or from the current schedule's first
        day, so "every other week" keeps its weeks when only the time changes)."""
        if self.frequency is None:
            return None
        anchor: date = now.astimezone(zone(self.time_zone)).date()
        if current is not None and current.anchor <= anchor:
            anchor = current.anchor
        try:
            return Cadence(
                frequency=self.frequency,
                weekday=self.weekday,
                at=self.at,
                time_zone=self.time_zone,
                anchor=anchor,
                every_weeks=self.every_weeks if self.frequency == Frequency.WEEKLY else 1,
                week_of_month=self.week_of_month if self.frequency == Frequency.MONTHLY else 1,
            )
        except DomainError as exc:
            raise FormErrors(field_errors(exc, HealthBlock.FREQUENCY)) from None

    @classmethod
    def from_state(cls, values: State) -> CadenceForm:
        frequency = state_selected(values, HealthBlock.FREQUENCY)
        raw: dict[str, Any] = {"frequency": frequency}
        if frequency != MANUAL:
            raw |= {
                "weekday": state_selected(values, HealthBlock.WEEKDAY),
                "every_weeks": state_text(values, HealthBlock.EVERY_WEEKS),
                "week_of_month": state_selected(values, HealthBlock.WEEK_OF_MONTH),
                "at": input_state(values, HealthBlock.TIME).get("selected_time"),
                "time_zone": state_text(values, HealthBlock.TIME_ZONE),
            }
        return cls.validate_raw(raw)


# --- the set-up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupForm:
    """The set-up modal: the settings and the cadence."""

    settings: SettingsInput
    cadence: CadenceForm

    @classmethod
    def from_state(cls, values: State, scale: Sequence[ScaleOption]) -> SetupForm:
        """Read the modal; `scale` is the current scale, whose labels the modal renames."""
        errors: dict[str, str] = {}
        labels: list[ScaleOption] = []
        for index, option in enumerate(scale):
            label = (state_text(values, scale_block(index)) or "").strip()
            if not label:
                errors[scale_block(index)] = "Give this answer a label, like “Going well”."
            labels.append(
                ScaleOption(key=option.key, label=label, emoji=option.emoji, score=option.score)
            )

        def number(block: HealthBlock, message: str, low: int, high: int) -> int:
            raw = state_text(values, block) or state_selected(values, block)
            try:
                return _whole_number(raw, message, low, high)
            except ValueError as exc:
                errors[block] = str(exc)
                return low

        open_hours = number(
            HealthBlock.OPEN_HOURS,
            "Pick how long each check stays open.",
            MIN_OPEN_HOURS,
            MAX_OPEN_HOURS,
        )
        reminders = number(
            HealthBlock.REMINDERS, "Pick how many reminders to send.", 0, MAX_REMINDERS
        )
        min_answers = number(
            HealthBlock.MIN_ANSWERS,
            f"Type a whole number from 1 to {MAX_MIN_ANSWERS}.",
            1,
            MAX_MIN_ANSWERS,
        )
        anonymous = state_selected(values, HealthBlock.ANONYMOUS) != NAMED
        try:
            cadence = CadenceForm.from_state(values)
        except FormErrors as exc:
            errors |= exc.errors
            cadence = CadenceForm.model_construct(frequency=None)
        if errors:
            raise FormErrors(errors)
        return cls(
            settings=SettingsInput(
                scale=tuple(labels),
                open_hours=open_hours,
                anonymous=anonymous,
                reminders=reminders,
                min_answers=min_answers,
            ),
            cadence=cadence,
        )


class QuestionForm(Form):
    """One question: its title and what it looks like at its best and at its worst."""

    blocks: ClassVar[Mapping[str, str]] = {
        "title": HealthBlock.TITLE,
        "best": HealthBlock.BEST,
        "worst": HealthBlock.WORST,
    }

    title: str
    best: str = ""
    worst: str = ""

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, raw: object) -> str:
        title = " ".join(str(raw or "").split())
        if not title:
            raise ValueError("Give the question a title, for example “Learning”.")
        if len(title) > QUESTION_TITLE_MAX:
            raise ValueError(f"Keep the title to {QUESTION_TITLE_MAX} characters.")
        return title

    @field_validator("best", "worst", mode="before")
    @classmethod
    def _text(cls, raw: object) -> str:
        text = str(raw or "").strip()
        if len(text) > QUESTION_TEXT_MAX:
            raise ValueError(f"Keep this to {QUESTION_TEXT_MAX} characters.")
        return text

    def to_input(self) -> QuestionInput:
        return QuestionInput(title=self.title, best=self.best, worst=self.worst)

    @classmethod
    def from_state(cls, values: State) -> QuestionForm:
        return cls.validate_raw(
            {
                "title": state_text(values, HealthBlock.TITLE),
                "best": state_text(values, HealthBlock.BEST),
                "worst": state_text(values, HealthBlock.WORST),
            }
        )


# --- the command and the question menu -----------------------------------------------------------

VERBS = ("", "setup", "now", "schedule", "results", "help")


def parse_verb(text: str) -> str:
    """The word after `/health-check`, in lower case ("" for the set-up)."""
    words = text.strip().lower().split()
    return words[0] if words else ""


class QuestionMenu:
    """Values of the options in a question's overflow menu in the set-up modal:
    `<what>:<question key>`."""

    EDIT = "edit"
    REMOVE = "remove"
    UP = "up"
    DOWN = "down"
    ADD = "add"  # the "Add a question" button
    ALL = (EDIT, REMOVE, UP, DOWN, ADD)

    @staticmethod
    def value(what: str, key: str) -> str:
        return f"{what}:{key}"

    @staticmethod
    def parse(value: str) -> tuple[str, str]:
        what, _, key = value.partition(":")
        if what not in QuestionMenu.ALL or not key:
            raise DomainError("I didn't understand that choice. Please open the set-up again.")
        return what, key
