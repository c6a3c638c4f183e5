"""Odd input that must be refused clearly, not read as something else: away periods that
end before they start, and time zones that are not places."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.blocks.common import FormErrors
from bot.blocks.health_check_forms import CadenceForm
from bot.blocks.rota_forms import AwayForm, ScheduleForm, canonical_zone, parse_period
from bot.errors import InvalidInput
from bot.ids import HealthBlock, RotaBlock, input_action_id
from bot.services.recurrence import is_usable_zone, usable_zone_names, zone
from bot.services.rota import check_away_period
from tests.unit.test_rota_forms import away_state, entry, schedule_state

MON_23_NOV = date(2026, 11, 23)
SAT_5_DEC = date(2026, 12, 5)
SAT_2_JAN = date(2027, 1, 2)

# --- away periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "typed", "first", "last"),
    [
        (MON_23_NOV, "1 Dec to 14 Dec", date(2026, 12, 1), date(2026, 12, 14)),
        (MON_23_NOV, "1 Dec to 1 Dec", date(2026, 12, 1), date(2026, 12, 1)),  # one day
        (MON_23_NOV, "28 Dec to 3 Jan", date(2026, 12, 28), date(2027, 1, 3)),  # New Year
        (MON_23_NOV, "1 Oct to 31 Jan", date(2026, 10, 1), date(2027, 1, 31)),  # under way
        (MON_23_NOV, "14 Dec 2026 to 1 Dec 2027", date(2026, 12, 14), date(2027, 12, 1)),
        (MON_23_NOV, "2030-01-01 to 2030-01-05", date(2030, 1, 1), date(2030, 1, 5)),
        (MON_23_NOV, "29 Feb", date(2028, 2, 29), date(2028, 2, 29)),  # the next leap day
        # Between the two days: the period under way, not next year's.
        (SAT_5_DEC, "1 Dec to 14 Dec", date(2026, 12, 1), date(2026, 12, 14)),
        (SAT_2_JAN, "28 Dec to 3 Jan", date(2026, 12, 28), date(2027, 1, 3)),
        (SAT_2_JAN, "1 Dec to 14 Dec", date(2027, 12, 1), date(2027, 12, 14)),
    ],
)
def test_missing_years_are_filled_in_as_people_mean_them(
    today: date, typed: str, first: date, last: date
) -> None:
    assert parse_period(typed, today) == (first, last)


@pytest.mark.parametrize("today", [MON_23_NOV, SAT_5_DEC, SAT_2_JAN])
@pytest.mark.parametrize(
    ("typed", "swapped"),
    [
        ("14 Dec to 1 Dec", "1 Dec to 14 Dec"),  # once 352 days away
        ("15 Jun to 1 Jun", "1 Jun to 15 Jun"),
        ("1 Mar to 1 Feb", "1 Feb to 1 Mar"),  # "over New Year" would be 11 months
        ("14 Dec 2026 to 1 Dec", "1 Dec to 14 Dec 2026"),
        ("9 Dec to 2 Dec 2026", "2 Dec 2026 to 9 Dec"),
        ("14 Dec 2026 to 1 Dec 2026", "1 Dec 2026 to 14 Dec 2026"),
        ("tomorrow to today", "today to tomorrow"),
    ],
)
def test_a_period_that_ends_before_it_starts_says_what_to_type(
    today: date, typed: str, swapped: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_period(typed, today)
    assert exc.value.message.startswith(f"That ends before it starts. Try `/rota away {swapped}`.")


def test_the_suggestions_read_back_as_meant() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_period("14 Dec to 1 Dec", MON_23_NOV)
    assert exc.value.message == (
        "That ends before it starts. Try `/rota away 1 Dec to 14 Dec`. If you mean until next "
        "year, give the years: `/rota away 14 Dec 2026 to 1 Dec 2027`."
    )
    assert parse_period("1 Dec to 14 Dec", MON_23_NOV) == (date(2026, 12, 1), date(2026, 12, 14))
    assert parse_period("14 Dec 2026 to 1 Dec 2027", MON_23_NOV) == (
        date(2026, 12, 14),
        date(2027, 12, 1),
    )
    # For someone else the command's words would mark the wrong person: only the days.
    with pytest.raises(InvalidInput) as exc:
        parse_period("9 Dec to 2 Dec", MON_23_NOV, command=None)
    assert exc.value.message.startswith(
        "That ends before it starts. Try the days the other way round: 2 Dec to 9 Dec."
    )


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [
        ("2026-12-14", "2026-12-01", "That ends before it starts. Pick a last day on or after"),
        ("2026-11-01", "2026-11-02", "in the past"),
        ("2027-02-01", "2028-03-01", "more than a year"),
    ],
)
def test_the_form_and_the_command_refuse_the_same_ranges(first: str, last: str, words: str) -> None:
    with pytest.raises(FormErrors) as form:
        AwayForm.from_state(away_state("UB", first, last), today=MON_23_NOV)
    assert words in form.value.errors[str(RotaBlock.AWAY_TO)]
    with pytest.raises(InvalidInput) as command:
        parse_period(f"{first} to {last}", MON_23_NOV)
    assert words.split(". ")[0] in command.value.message
    with pytest.raises(InvalidInput) as rule:
        check_away_period(date.fromisoformat(first), date.fromisoformat(last), MON_23_NOV)
    assert words in rule.value.message


def test_the_form_and_the_command_accept_the_same_ranges() -> None:
    # One day, nearly a year, and years ahead: both allow them, with the dates said back.
    for first, last in (
        ("2026-12-01", "2026-12-01"),
        ("2026-12-14", "2027-12-01"),
        ("2030-01-01", "2030-01-05"),
    ):
        form = AwayForm.from_state(away_state("UB", first, last), today=MON_23_NOV)
        typed = parse_period(f"{first} to {last}", MON_23_NOV)
        assert (form.starts_on, form.ends_on) == typed


# --- time zones --------------------------------------------------------------------------------

NOT_PLACES = [
    "localtime",  # the host's own setting: follows whatever the server is set to
    "Factory",  # tzdata's "-00" zone for machines not set up
    "posixrules",
    "../etc/localtime",
    "/etc/localtime",
    "/usr/share/zoneinfo/Europe/London",
    "posix/Europe/London",
    "right/UTC",
    "zone.tab",
    "",
    " ",
    "Europe/London\x00",
    "Mars/Olympus_Mons",
]


@pytest.mark.parametrize("name", NOT_PLACES)
def test_zones_that_are_not_places_are_refused_everywhere(name: str) -> None:
    assert not is_usable_zone(name)
    with pytest.raises(InvalidInput) as exc:
        zone(name)
    assert exc.value.field == "time_zone"
    with pytest.raises(InvalidInput):
        canonical_zone(name)
    with pytest.raises(InvalidInput):
        canonical_zone(name.lower())
    with pytest.raises(FormErrors) as rota_form:
        ScheduleForm.from_state(schedule_state(**entry(RotaBlock.TIME_ZONE, value=name)))
    assert "Europe/London" in rota_form.value.errors[str(RotaBlock.TIME_ZONE)]
    with pytest.raises(FormErrors) as health_form:
        CadenceForm.from_state(health_state(name))
    assert "Europe/London" in health_form.value.errors[str(HealthBlock.TIME_ZONE)]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Europe/London", "Europe/London"),
        ("America/New_York", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("UTC", "UTC"),
        ("Etc/UTC", "Etc/UTC"),
        ("Pacific/Auckland", "Pacific/Auckland"),
    ],
)
def test_iana_zones_still_work(typed: str, name: str) -> None:
    assert canonical_zone(typed) == name
    assert is_usable_zone(name)
    assert zone(name).key == name
    form = ScheduleForm.from_state(schedule_state(**entry(RotaBlock.TIME_ZONE, value=typed)))
    assert form.time_zone == name
    assert CadenceForm.from_state(health_state(typed)).time_zone == name


def test_the_usable_zones_are_the_iana_places() -> None:
    names = usable_zone_names()
    assert len(names) > 400
    assert not names & {"localtime", "Factory", "posixrules"}
    assert not any(n.startswith(("posix/", "right/", "/")) or ".." in n for n in names)


def health_state(time_zone: str) -> dict[str, Any]:
    def value(block: HealthBlock, **answer: Any) -> dict[str, Any]:
        return {str(block): {input_action_id(block): answer}}

    return {
        **value(HealthBlock.FREQUENCY, selected_option={"value": "weekly"}),
        **value(HealthBlock.WEEKDAY, selected_option={"value": "0"}),
        **value(HealthBlock.EVERY_WEEKS, value="1"),
        **value(HealthBlock.WEEK_OF_MONTH, selected_option={"value": "1"}),
        **value(HealthBlock.TIME, selected_time="10:00"),
        **value(HealthBlock.TIME_ZONE, value=time_zone),
    }
