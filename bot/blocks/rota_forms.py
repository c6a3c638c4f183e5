"""What people type for /rota, read into typed values with friendly errors.

Modal submissions (`ScheduleForm`, `AwayForm`, `SwapForm`, `MoveForm`) read
`view["state"]["values"]` with `from_state(...)` and raise `FormErrors` keyed by the input
block each message belongs under. `parse_command` reads the text after `/rota`, and
`parse_period` the dates people type after `/rota away`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator

from bot.blocks.common import (
    Form,
    input_state,
    state_date,
    state_selected,
    state_text,
    state_user,
    unescape_slack,
)
from bot.errors import DomainError, InvalidInput
from bot.ids import RotaBlock
from bot.services.recurrence import (
    MAX_EVERY_WEEKS,
    ORDINALS,
    Frequency,
    usable_zone_names,
    zone,
)
from bot.services.rota import MAX_AWAY_DAYS, MeetupFormat, ScheduleInput, check_away_period

State = Mapping[str, Any]

MIN_DURATION, MAX_DURATION = 5, 480
DEFAULT_DURATION = 60
DEFAULT_REMINDER_MINUTES = 2 * 24 * 60
DEFAULT_ANNOUNCE_MINUTES = 60

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_LOOSE_MENTION = re.compile(r"(?<![\w<|])@[\w.-]+")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?(?:\s+(\d{4}))?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{4}))?$")
_PERIOD_SEPARATOR = re.compile(r"\s+(?:to|until|till|through|-|–|—)\s+|\s*[–—]\s*")
_WEEKDAY_WORDS = {name.lower() for name in calendar.day_name} | {
    name.lower() for name in calendar.day_abbr
}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}
_MONTHS["sept"] = 9

DATE_EXAMPLES = "Use dates like 2026-12-01 or 1 Dec, for example `/rota away 1 Dec to 14 Dec`."


# --- time zones -----------------------------------------------------------------------------


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in usable_zone_names()}


def canonical_zone(raw: str) -> str:
    """An IANA zone name from what someone typed: case and spaces forgiven
    (`europe/london`, `America/New York`); anything else is refused by `zone()`."""
    typed = "_".join(raw.strip().split())
    name = _zones_by_lower_name().get(typed.lower(), typed)
    zone(name)  # raises InvalidInput naming what was typed
    return name


# --- small readers --------------------------------------------------------------------------


def week_of_month(raw: object) -> int:
    """A "which week of the month" choice: 1–4, or -1 for the last (1 when left empty)."""
    if raw is None or raw == "":
        return 1
    try:
        week = int(str(raw))
    except ValueError:
        week = 0
    if week not in ORDINALS:
        raise ValueError("Pick the 1st, 2nd, 3rd, 4th or last week of the month.")
    return week


def _whole_number(raw: object, message: str, low: int, high: int) -> int:
    text = str(raw if raw is not None else "").strip()
    if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        raise ValueError(message)
    number = int(float(text))
    if not low <= number <= high:
        raise ValueError(message)
    return number


def _day(raw: object, message: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or ""))
    except ValueError:
        raise ValueError(message) from None


def _time(raw: object, message: str) -> time:
    if isinstance(raw, time):
        return raw
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(raw or "").strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(message)
    return time(int(match.group(1)), int(match.group(2)))


def _selected_time(values: State, block: RotaBlock) -> str | None:
    return input_state(values, block).get("selected_time") or None


# --- the schedule -----------------------------------------------------------------------------


class ScheduleForm(Form):
    """The meetup schedule modal."""

    blocks: ClassVar[Mapping[str, str]] = {
        "frequency": RotaBlock.FREQUENCY,
        "every_weeks": RotaBlock.EVERY_WEEKS,
        "week_of_month": RotaBlock.WEEK_OF_MONTH,
        "weekday": RotaBlock.WEEKDAY,
        "at": RotaBlock.TIME,
        "time_zone": RotaBlock.TIME_ZONE,
        "starts_on": RotaBlock.STARTS_ON,
        "duration_minutes": RotaBlock.DURATION,
        "format": RotaBlock.FORMAT,
        "reminder_minutes_before": RotaBlock.REMINDER,
        "announce_minutes_before": RotaBlock.ANNOUNCE,
    }

    frequency: Frequency
    every_weeks: int = 1
    week_of_month: int = 1
    weekday: int
    at: time
    time_zone: str
    starts_on: date
    duration_minutes: int = DEFAULT_DURATION
    format: MeetupFormat = MeetupFormat.LEAN_COFFEE
    reminder_minutes_before: int = DEFAULT_REMINDER_MINUTES
    announce_minutes_before: int = DEFAULT_ANNOUNCE_MINUTES

    @field_validator("frequency", mode="before")
    @classmethod
    def _frequency(cls, raw: object) -> Frequency:
        try:
            return Frequency(str(raw))
        except ValueError:
            raise ValueError("Choose how often the community meets.") from None

    @field_validator("every_weeks", mode="before")
    @classmethod
    def _every_weeks(cls, raw: object) -> int:
        if raw is None or raw == "":
            return 1
        return _whole_number(raw, f"Meet every 1 to {MAX_EVERY_WEEKS} weeks.", 1, MAX_EVERY_WEEKS)

    @field_validator("week_of_month", mode="before")
    @classmethod
    def _week_of_month(cls, raw: object) -> int:
        return week_of_month(raw)

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, raw: object) -> int:
        return _whole_number(raw, "Pick a day of the week.", 0, 6)

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, raw: object) -> time:
        return _time(raw, "Pick the time the meetup starts.")

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

    @field_validator("starts_on", mode="before")
    @classmethod
    def _starts_on(cls, raw: object) -> date:
        return _day(raw, "Pick the first day the schedule counts from.")

    @field_validator("duration_minutes", mode="before")
    @classmethod
    def _duration(cls, raw: object) -> int:
        return _whole_number(
            raw,
            f"A meetup lasts between {MIN_DURATION} and {MAX_DURATION} minutes (8 hours).",
            MIN_DURATION,
            MAX_DURATION,
        )

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, raw: object) -> MeetupFormat:
        if raw is None or raw == "":
            return MeetupFormat.LEAN_COFFEE
        try:
            return MeetupFormat(str(raw))
        except ValueError:
            raise ValueError("Pick what kind of meetup it is.") from None

    @field_validator("reminder_minutes_before", "announce_minutes_before", mode="before")
    @classmethod
    def _minutes_before(cls, raw: object, info: ValidationInfo) -> int:
        if raw is None or raw == "":
            return (
                DEFAULT_REMINDER_MINUTES
                if info.field_name == "reminder_minutes_before"
                else DEFAULT_ANNOUNCE_MINUTES
            )
        return _whole_number(raw, "Pick one of the choices.", 0, 60 * 24 * 31)

    def to_input(self) -> ScheduleInput:
        return ScheduleInput(
            frequency=self.frequency,
            weekday=self.weekday,
            at=self.at,
            time_zone=self.time_zone,
            starts_on=self.starts_on,
            every_weeks=self.every_weeks if self.frequency == Frequency.WEEKLY else 1,
            week_of_month=self.week_of_month if self.frequency == Frequency.MONTHLY else 1,
            duration_minutes=self.duration_minutes,
            format=self.format,
            reminder_minutes_before=self.reminder_minutes_before,
            announce_minutes_before=self.announce_minutes_before,
        )

    @classmethod
    def from_state(cls, values: State) -> ScheduleForm:
        return cls.validate_raw(
            {
                "frequency": state_selected(values, RotaBlock.FREQUENCY),
                "every_weeks": state_text(values, RotaBlock.EVERY_WEEKS),
                "week_of_month": state_selected(values, RotaBlock.WEEK_OF_MONTH),
                "weekday": state_selected(values, RotaBlock.WEEKDAY),
                "at": _selected_time(values, RotaBlock.TIME),
                "time_zone": state_text(values, RotaBlock.TIME_ZONE),
                "starts_on": state_date(values, RotaBlock.STARTS_ON),
                "duration_minutes": state_text(values, RotaBlock.DURATION),
                "format": state_selected(values, RotaBlock.FORMAT),
                "reminder_minutes_before": state_selected(values, RotaBlock.REMINDER),
                "announce_minutes_before": state_selected(values, RotaBlock.ANNOUNCE),
            }
        )


# Where the rules' own field names (bot.services) show up in the schedule and other modals.
SERVICE_FIELD_BLOCKS: Mapping[str, RotaBlock] = {
    "weekday": RotaBlock.WEEKDAY,
    "every_weeks": RotaBlock.EVERY_WEEKS,
    "week_of_month": RotaBlock.WEEK_OF_MONTH,
    "time_zone": RotaBlock.TIME_ZONE,
    "duration": RotaBlock.DURATION,
    "reminder": RotaBlock.REMINDER,
    "starts_at": RotaBlock.MOVE_DATE,
    "ends_on": RotaBlock.AWAY_TO,
}


# --- away, swap, move ---------------------------------------------------------------------------


class AwayForm(Form):
    """Who is away, from which day to which day (inclusive)."""

    blocks: ClassVar[Mapping[str, str]] = {
        "user_id": RotaBlock.AWAY_WHO,
        "starts_on": RotaBlock.AWAY_FROM,
        "ends_on": RotaBlock.AWAY_TO,
    }

    user_id: str
    starts_on: date
    ends_on: date

    @field_validator("user_id", mode="before")
    @classmethod
    def _user(cls, raw: object) -> str:
        if not raw:
            raise ValueError("Pick who will be away.")
        return str(raw)

    @field_validator("starts_on", mode="before")
    @classmethod
    def _starts_on(cls, raw: object) -> date:
        return _day(raw, "Pick the first day away.")

    @field_validator("ends_on", mode="before")
    @classmethod
    def _ends_on(cls, raw: object, info: ValidationInfo) -> date:
        ends_on = _day(raw, "Pick the last day away (the same day for a single day).")
        starts_on = info.data.get("starts_on")
        if isinstance(starts_on, date):
            try:
                check_away_period(starts_on, ends_on, (info.context or {})["today"])
            except DomainError as exc:
                raise ValueError(exc.message) from None
        return ends_on

    @classmethod
    def from_state(cls, values: State, *, today: date) -> AwayForm:
        return cls.validate_raw(
            {
                "user_id": state_user(values, RotaBlock.AWAY_WHO),
                "starts_on": state_date(values, RotaBlock.AWAY_FROM),
                "ends_on": state_date(values, RotaBlock.AWAY_TO)
                or state_date(values, RotaBlock.AWAY_FROM),
            },
            context={"today": today},
        )


class SwapForm(Form):
    """Who to ask to swap with."""

    blocks: ClassVar[Mapping[str, str]] = {"user_id": RotaBlock.SWAP_WITH}

    user_id: str

    @field_validator("user_id", mode="before")
    @classmethod
    def _user(cls, raw: object) -> str:
        if not raw:
            raise ValueError("Pick who you'd like to swap with.")
        return str(raw)

    @classmethod
    def from_state(cls, values: State) -> SwapForm:
        return cls.validate_raw({"user_id": state_user(values, RotaBlock.SWAP_WITH)})


class MoveForm(Form):
    """The new day and time of one meetup, as wall-clock time in the schedule's zone."""

    blocks: ClassVar[Mapping[str, str]] = {"day": RotaBlock.MOVE_DATE, "at": RotaBlock.MOVE_TIME}

    day: date
    at: time

    @field_validator("day", mode="before")
    @classmethod
    def _on(cls, raw: object) -> date:
        return _day(raw, "Pick the new day.")

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, raw: object) -> time:
        return _time(raw, "Pick the new time.")

    def starts_at(self, time_zone: str) -> datetime:
        """The new start as an aware datetime (Python's zoneinfo settles DST gaps and folds)."""
        return datetime.combine(self.day, self.at, tzinfo=zone(time_zone))

    @classmethod
    def from_state(cls, values: State) -> MoveForm:
        return cls.validate_raw(
            {
                "day": state_date(values, RotaBlock.MOVE_DATE),
                "at": _selected_time(values, RotaBlock.MOVE_TIME),
            }
        )


# --- the command line ------------------------------------------------------------------------


@dataclass(frozen=True)
class RotaCommand:
    """`/rota <verb> <people and words>`: the verb in lower case, the people mentioned (in
    order, once each), anything that looked like a mention Slack did not recognise, and the
    remaining words as typed."""

    verb: str
    user_ids: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()
    rest: str = ""
    raw: str = field(default="", compare=False)


def parse_command(text: str) -> RotaCommand:
    """Read Slack's escaped command text: mentions arrive as `<@U123|name>`."""
    stripped = text.strip()
    verb, _, remainder = stripped.partition(" ")
    if verb.startswith("<@"):  # "/rota @bob" is not a verb; treat it as words after none
        verb, remainder = "", stripped
    user_ids = tuple(dict.fromkeys(_MENTION.findall(remainder)))
    words = _MENTION.sub(" ", remainder)
    unknown = tuple(_LOOSE_MENTION.findall(unescape_slack(words)))
    words = " ".join(_LOOSE_MENTION.sub(" ", unescape_slack(words)).split())
    return RotaCommand(
        verb=verb.lower(), user_ids=user_ids, unknown_names=unknown, rest=words, raw=stripped
    )


_LEAD_ACTIONS = {"add": False, "remove": True}
_MYSELF = {"me", "myself"}
_FILLERS = {"and", "&", ","}


@dataclass(frozen=True)
class LeadChange:
    """`/rota lead …` read: whether it removes leads (else adds), who it names (the
    person typing included when they said "me"), and any names Slack did not recognise."""

    remove: bool
    user_ids: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()


def parse_lead_change(command: RotaCommand, user_id: str) -> LeadChange:
    """`/rota lead @alex` adds, `/rota lead remove @alex` removes, `me` is whoever typed it.

    Only words outside mentions count, so someone whose name is "remove" (mentioned as
    `<@U…|remove>`) is just a person to add. Any other word is refused rather than guessed,
    so a typo never makes a lead of someone who was meant to stop being one."""
    words = [w for w in command.rest.lower().replace(",", " , ").split() if w not in _FILLERS]
    actions = [w for w in words if w in _LEAD_ACTIONS]
    others = [w for w in words if w not in _LEAD_ACTIONS and w not in _MYSELF]
    if others or len(actions) > 1:
        raise InvalidInput(
            "I didn't follow that. To make someone a lead: `/rota lead @alex`. To stop someone "
            "being a lead: `/rota lead remove @alex`, or `/rota lead remove me` to step down."
        )
    people = command.user_ids
    if any(w in _MYSELF for w in words) and user_id not in people:
        people = (*people, user_id)
    return LeadChange(
        remove=bool(actions) and _LEAD_ACTIONS[actions[0]],
        user_ids=people,
        unknown_names=command.unknown_names,
    )


class NotACalendarDay(InvalidInput):
    """Read as a date, but there is no such day (31 Feb)."""


def _month(word: str) -> int:
    month = _MONTHS.get(word.lower().rstrip("."))
    if month is None:
        raise InvalidInput(f"I don't recognise “{word}” as a month. {DATE_EXAMPLES}")
    return month


@dataclass(frozen=True)
class TypedDay:
    """A day as someone wrote it. `year` is None when they left it out: which year is meant
    depends on today, or on the other end of a period."""

    month: int
    day: int
    year: int | None
    text: str

    def in_year(self, year: int) -> date:
        try:
            return date(year, self.month, self.day)
        except ValueError:
            raise NotACalendarDay(
                f"“{self.text}” isn't a day in the calendar. {DATE_EXAMPLES}"
            ) from None

    def on_or_after(self, day: date) -> date:
        """This day, or without a year the first such day on or after `day` (29 Feb: the
        next leap year's)."""
        if self.year is not None:
            return self.in_year(self.year)
        return self._nearest(day, range(day.year, day.year + 9), lambda found: found >= day)

    def on_or_before(self, day: date) -> date:
        """This day, or without a year the last such day on or before `day`."""
        if self.year is not None:
            return self.in_year(self.year)
        return self._nearest(day, range(day.year, day.year - 9, -1), lambda found: found <= day)

    def _nearest(self, day: date, years: range, fits: Callable[[date], bool]) -> date:
        for year in years:
            try:
                found = date(year, self.month, self.day)
            except ValueError:
                continue
            if fits(found):
                return found
        return self.in_year(day.year)  # no year has it (31 Feb): says so


def read_day(text: str, today: date) -> TypedDay:
    """One day as people write it: `2026-12-01`, `1 Dec`, `Dec 1`, `1st December 2026`,
    `Tue 1 Dec`, `today`, `tomorrow`, keeping whether a year was given."""
    shown = text.strip()
    words = [w for w in shown.lower().replace(",", " ").split() if w]
    while words and words[0].rstrip(".") in _WEEKDAY_WORDS:
        words = words[1:]
    cleaned = " ".join(words)
    if cleaned in ("today", "tomorrow"):
        day = today + timedelta(days=1 if cleaned == "tomorrow" else 0)
        return TypedDay(day.month, day.day, day.year, shown)
    if match := _ISO_DAY.match(cleaned):
        year, month, day_of_month = (int(g) for g in match.groups())
        typed = TypedDay(month, day_of_month, year, shown)
    elif match := _DAY_MONTH.match(cleaned):
        year = int(match.group(3)) if match.group(3) else None
        typed = TypedDay(_month(match.group(2)), int(match.group(1)), year, shown)
    elif match := _MONTH_DAY.match(cleaned):
        year = int(match.group(3)) if match.group(3) else None
        typed = TypedDay(_month(match.group(1)), int(match.group(2)), year, shown)
    else:
        raise InvalidInput(f"I couldn't read “{shown}” as a date. {DATE_EXAMPLES}")
    typed.on_or_after(today)  # no such day (31 Feb): say so now
    return typed


def parse_day(text: str, today: date) -> date:
    """One day as people write it (see `read_day`); without a year, the next such day."""
    return read_day(text, today).on_or_after(today)


# A period typed without years whose end comes before its start in the calendar ("28 Dec
# to 3 Jan") runs over New Year, when short; longer, it is more likely typed back to front.
MAX_OVER_NEW_YEAR_DAYS = 183


def parse_period(
    text: str, today: date, *, command: str | None = "/rota away"
) -> tuple[date, date]:
    """`1 Dec to 14 Dec`, `2026-12-01 2026-12-14`, or one day: first and last day, checked
    by the same rule as the form (`check_away_period`).

    Missing years are filled in as people mean them: the period is the next one that has not
    ended (`1 Dec to 14 Dec` on 5 Dec is this month's, already under way), and it runs over
    New Year only when that makes it short. `14 Dec to 1 Dec` is refused as ending before it
    starts, saying what to type (with `command`; None when the words would not fit, as when
    someone else is named) rather than read as eleven and a half months away."""
    cleaned = re.sub(r"^(from|on)\s+", "", " ".join(text.split()), flags=re.IGNORECASE)
    if not cleaned:
        raise InvalidInput(f"Say which days. {DATE_EXAMPLES}")
    parts = [p for p in _PERIOD_SEPARATOR.split(cleaned) if p.strip()]
    if len(parts) == 2:
        first, last = read_day(parts[0], today), read_day(parts[1], today)
    elif len(parts) == 1:
        first, last = _one_or_two_days(parts[0], today)
    else:
        raise InvalidInput(f"Give a first and a last day. {DATE_EXAMPLES}")
    starts_on, ends_on = _dates_of(first, last, today)
    if _back_to_front(first, last, starts_on, ends_on):
        year = ends_on.year if first.year is None else starts_on.year
        starts_on, ends_on = first.in_year(first.year or year), last.in_year(last.year or year)
    the_other_way = _the_other_way(first, last, today, command) if ends_on < starts_on else None
    check_away_period(starts_on, ends_on, today, the_other_way=the_other_way)
    return starts_on, ends_on


def _dates_of(first: TypedDay, last: TypedDay, today: date) -> tuple[date, date]:
    """The period's dates: a missing year is taken from the other end, or (both missing)
    the end is the next such day and the start the last such day on or before it."""
    if last.year is not None or first.year is None:
        ends_on = last.on_or_after(today)
        return first.on_or_before(ends_on), ends_on
    starts_on = first.on_or_after(today)
    return starts_on, last.on_or_after(starts_on)


def _back_to_front(first: TypedDay, last: TypedDay, starts_on: date, ends_on: date) -> bool:
    """Whether a period read as running over New Year (a year was left out and the end
    comes first in the calendar) is too long for that to be what was meant."""
    guessed = first.year is None or last.year is None
    return (
        guessed
        and (last.month, last.day) < (first.month, first.day)
        and (ends_on - starts_on).days > MAX_OVER_NEW_YEAR_DAYS
    )


def _the_other_way(first: TypedDay, last: TypedDay, today: date, command: str | None) -> str:
    """What to type for a period that ends before it starts: the days swapped round, and,
    if a year was left out and the long way round is allowed, how to ask for that."""
    swapped = f"{last.text} to {first.text}"
    words = (
        f"Try `{command} {swapped}`."
        if command
        else f"Try the days the other way round: {swapped}."
    )
    if first.year is None or last.year is None:
        starts_on = first.on_or_after(today)
        ends_on = last.on_or_after(starts_on)
        if starts_on < ends_on and ends_on >= today and (ends_on - starts_on).days < MAX_AWAY_DAYS:
            long = f"{_day_month_year(starts_on)} to {_day_month_year(ends_on)}"
            words += " If you mean until next year, give the years: " + (
                f"`{command} {long}`." if command else f"{long}."
            )
    return words


def _day_month_year(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _one_or_two_days(text: str, today: date) -> tuple[TypedDay, TypedDay]:
    try:
        day = read_day(text, today)
        return day, day
    except NotACalendarDay:
        raise
    except InvalidInput:
        pass
    words = text.split()
    for cut in range(1, len(words)):
        try:
            return (
                read_day(" ".join(words[:cut]), today),
                read_day(" ".join(words[cut:]), today),
            )
        except InvalidInput:
            continue
    raise InvalidInput(f"I couldn't read “{text}” as dates. {DATE_EXAMPLES}")
