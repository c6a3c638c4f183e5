"""When a community meets: recurring wall-clock times in a time zone, turned into UTC moments.

A meetup "every other Tuesday at 10:00 Europe/London" stays at 10:00 London time across
daylight-saving changes, so occurrences are computed on local dates and converted to UTC one
by one, never by adding fixed intervals to a UTC time.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidInput

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "last"}
MAX_EVERY_WEEKS = 8
# Far enough to find the next occurrence of any valid cadence, near enough to stay cheap.
SEARCH_DAYS = 7 * MAX_EVERY_WEEKS + 62


class Frequency(StrEnum):
    WEEKLY = "weekly"  # every N weeks on a weekday
    MONTHLY = "monthly"  # the Nth (or last) weekday of each month


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, or a friendly error naming what was typed."""
    if is_usable_zone(name):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # listed, but its file has gone
            pass
    raise InvalidInput(
        f"I don't know the time zone “{name}”. Use a name like Europe/London or America/New_York.",
        field="time_zone",
    )


# Names zoneinfo finds in the host's zone directory that are not places: the host's own
# setting (a schedule on `localtime` would move when the server does), tzcode's rules
# template, and "Factory" (the "-00" zone for machines not yet set up).
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def usable_zone_names() -> frozenset[str]:
    """The IANA zone names people can pick: `available_timezones()` (the tzdata package and
    the host's zone files) without the host-only names. Read once; the list is long."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_PLACES and not name.startswith(("posix/", "right/"))
    )


def is_usable_zone(name: str) -> bool:
    """Whether `name` (exactly as stored, case and all) is a zone people can use: the one
    test behind every time zone hearth accepts (paths, `localtime` and blanks are not)."""
    return name in usable_zone_names()


@dataclass(frozen=True)
class Cadence:
    """A recurring local time. `anchor` is the first date the schedule counts from: for
    "every 2 weeks" it fixes which weeks are on; nothing happens before it."""

    frequency: Frequency
    weekday: int  # 0 = Monday … 6 = Sunday
    at: time  # wall-clock time in `time_zone`
    time_zone: str
    anchor: date
    every_weeks: int = 1  # WEEKLY only
    week_of_month: int = 1  # MONTHLY only: 1–4, or -1 for the last

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InvalidInput("Pick a day of the week.", field="weekday")
        if self.frequency == Frequency.WEEKLY and not 1 <= self.every_weeks <= MAX_EVERY_WEEKS:
            raise InvalidInput(f"Meet every 1 to {MAX_EVERY_WEEKS} weeks.", field="every_weeks")
        if self.frequency == Frequency.MONTHLY and self.week_of_month not in ORDINALS:
            raise InvalidInput(
                "Pick the 1st, 2nd, 3rd, 4th or last week of the month.", field="week_of_month"
            )
        zone(self.time_zone)

    def describe(self) -> str:
        """In words, e.g. "every 2 weeks on Tuesday at 10:00 (Europe/London)"."""
        day = WEEKDAYS[self.weekday]
        at = self.at.strftime("%H:%M")
        if self.frequency == Frequency.MONTHLY:
            when = f"the {ORDINALS[self.week_of_month]} {day} of each month"
        elif self.every_weeks == 1:
            when = f"every {day}"
        else:
            when = f"every {self.every_weeks} weeks on {day}"
        return f"{when} at {at} ({self.time_zone})"

    def _dates_from(self, start: date) -> Iterator[date]:
        """Local dates of occurrences on or after `start` (and the anchor), in order."""
        first = max(start, self.anchor)
        if self.frequency == Frequency.WEEKLY:
            # The anchor's week is week 0; meet in weeks 0, N, 2N, …
            anchor_monday = self.anchor - timedelta(days=self.anchor.weekday())
            day = first + timedelta(days=(self.weekday - first.weekday()) % 7)
            while True:
                weeks = (day - anchor_monday).days // 7
                if weeks % self.every_weeks == 0 and day >= self.anchor:
                    yield day
                day += timedelta(days=7)
        else:
            year, month = first.year, first.month
            while True:
                day = nth_weekday(year, month, self.weekday, self.week_of_month)
                if day >= first:
                    yield day
                month += 1
                if month == 13:
                    year, month = year + 1, 1

    def local_moment(self, day: date) -> datetime:
        """The occurrence on a local date, as an aware UTC datetime.

        A wall-clock time that does not exist that day (the clocks went forward through it)
        lands just after the gap, and one that happens twice (clocks went back) is the first:
        zoneinfo's `fold=0` does both, as people's calendars do.
        """
        return datetime.combine(day, self.at, tzinfo=zone(self.time_zone)).astimezone(UTC)

    def occurrences(self, after: datetime, count: int = 1) -> list[datetime]:
        """The next `count` occurrences strictly after `after` (an aware datetime), in UTC."""
        tz = zone(self.time_zone)
        start = after.astimezone(tz).date()
        result: list[datetime] = []
        for day in self._dates_from(start):
            moment = self.local_moment(day)
            if moment > after:
                result.append(moment)
                if len(result) == count:
                    return result
            if (day - start).days > SEARCH_DAYS * max(count, 1):  # pragma: no cover
                raise InvalidInput("That schedule never comes round. Check the day and weeks.")
        return result  # pragma: no cover (the generators are infinite)

    def next_after(self, after: datetime) -> datetime:
        return self.occurrences(after, 1)[0]


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The `nth` (1–4, or -1 for last) `weekday` of a month."""
    days = [
        week[weekday]
        for week in calendar.Calendar().monthdatescalendar(year, month)
        if week[weekday].month == month
    ]
    return days[-1] if nth == -1 else days[nth - 1]
