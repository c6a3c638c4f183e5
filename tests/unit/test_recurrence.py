"""Meetup times: local wall-clock times that survive daylight saving, weekly and monthly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput
from bot.services.recurrence import Cadence, Frequency, nth_weekday

LONDON = ZoneInfo("Europe/London")


def weekly(**kw: object) -> Cadence:
    fields: dict[str, object] = {
        "frequency": Frequency.WEEKLY,
        "weekday": 1,  # Tuesday
        "at": time(10, 0),
        "time_zone": "Europe/London",
        "anchor": date(2026, 3, 1),
    }
    fields.update(kw)
    return Cadence(**fields)  # type: ignore[arg-type]


def test_weekly_keeps_local_time_across_the_spring_and_autumn_changes() -> None:
    cadence = weekly()
    moments = cadence.occurrences(datetime(2026, 3, 20, tzinfo=UTC), 3)
    # 24 Mar is still GMT; 31 Mar is BST (clocks went forward on 29 Mar).
    assert [m.astimezone(LONDON).strftime("%d %b %H:%M") for m in moments] == [
        "24 Mar 10:00",
        "31 Mar 10:00",
        "07 Apr 10:00",
    ]
    assert [m.hour for m in moments] == [10, 9, 9]  # in UTC
    autumn = cadence.occurrences(datetime(2026, 10, 20, tzinfo=UTC), 2)
    assert [m.astimezone(LONDON).hour for m in autumn] == [10, 10]
    assert [m.hour for m in autumn] == [9, 10]  # clocks went back on 25 Oct


def test_every_other_week_counts_from_the_anchor_week() -> None:
    cadence = weekly(every_weeks=2, anchor=date(2026, 11, 24))  # a Tuesday
    moments = cadence.occurrences(datetime(2026, 11, 1, tzinfo=UTC), 3)
    assert [m.date() for m in moments] == [
        date(2026, 11, 24),
        date(2026, 12, 8),
        date(2026, 12, 22),
    ]


def test_nothing_happens_before_the_anchor_or_at_the_same_moment() -> None:
    cadence = weekly(anchor=date(2026, 11, 24))
    first = cadence.next_after(datetime(2026, 1, 1, tzinfo=UTC))
    assert first == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert cadence.next_after(first) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_monthly_on_the_nth_or_last_weekday() -> None:
    second_tuesday = weekly(frequency=Frequency.MONTHLY, week_of_month=2)
    got = second_tuesday.occurrences(datetime(2026, 11, 1, tzinfo=UTC), 3)
    assert [m.date() for m in got] == [date(2026, 11, 10), date(2026, 12, 8), date(2027, 1, 12)]
    last_friday = weekly(frequency=Frequency.MONTHLY, weekday=4, week_of_month=-1)
    got = last_friday.occurrences(datetime(2026, 11, 1, tzinfo=UTC), 2)
    assert [m.date() for m in got] == [date(2026, 11, 27), date(2026, 12, 25)]


def test_a_time_in_the_spring_forward_gap_lands_after_it() -> None:
    cadence = weekly(weekday=6, at=time(1, 30), anchor=date(2026, 3, 1))  # Sundays 01:30
    moment = cadence.next_after(datetime(2026, 3, 28, tzinfo=UTC))
    assert moment.astimezone(LONDON).strftime("%d %H:%M %Z") == "29 02:30 BST"


def test_far_time_zones() -> None:
    cadence = weekly(time_zone="Pacific/Auckland", at=time(8, 0))
    moment = cadence.next_after(datetime(2026, 11, 1, tzinfo=UTC))
    assert moment.astimezone(ZoneInfo("Pacific/Auckland")).strftime("%a %H:%M") == "Tue 08:00"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time zone"),
        ({"every_weeks": 0}, "every 1 to 8 weeks"),
        ({"every_weeks": 9}, "every 1 to 8 weeks"),
        ({"weekday": 7}, "day of the week"),
        ({"frequency": Frequency.MONTHLY, "week_of_month": 5}, "last week of the month"),
    ],
)
def test_bad_cadences_are_refused_with_a_reason(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        weekly(**fields)


def test_describe_reads_naturally() -> None:
    assert weekly().describe() == "every Tuesday at 10:00 (Europe/London)"
    assert weekly(every_weeks=2).describe() == "every 2 weeks on Tuesday at 10:00 (Europe/London)"
    assert (
        weekly(frequency=Frequency.MONTHLY, week_of_month=-1).describe()
        == "the last Tuesday of each month at 10:00 (Europe/London)"
    )


def test_nth_weekday() -> None:
    assert nth_weekday(2026, 2, 0, 4) == date(2026, 2, 23)
    assert nth_weekday(2026, 2, 0, -1) == date(2026, 2, 23)
    assert nth_weekday(2026, 3, 0, -1) == date(2026, 3, 30)
