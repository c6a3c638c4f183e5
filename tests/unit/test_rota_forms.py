"""Reading what people type for /rota: modal submissions, the command line and dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from bot.blocks.common import FormErrors
from bot.blocks.rota_forms import (
    AwayForm,
    MoveForm,
    ScheduleForm,
    SwapForm,
    canonical_zone,
    parse_command,
    parse_day,
    parse_lead_change,
    parse_period,
)
from bot.errors import InvalidInput
from bot.ids import RotaBlock, input_action_id
from bot.services.recurrence import Frequency
from bot.services.rota import MeetupFormat

TODAY = date(2026, 11, 23)


def entry(block: RotaBlock, **value: Any) -> dict[str, Any]:
    return {str(block): {input_action_id(block): value}}


def select(block: RotaBlock, value: str | None) -> dict[str, Any]:
    return entry(block, selected_option=None if value is None else {"value": value})


def schedule_state(**overrides: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {
        **select(RotaBlock.FREQUENCY, "weekly"),
        **select(RotaBlock.WEEKDAY, "1"),
        **entry(RotaBlock.EVERY_WEEKS, value="2"),
        **select(RotaBlock.WEEK_OF_MONTH, "1"),
        **entry(RotaBlock.TIME, selected_time="10:00"),
        **entry(RotaBlock.TIME_ZONE, value="Europe/London"),
        **entry(RotaBlock.STARTS_ON, selected_date="2026-11-23"),
        **entry(RotaBlock.DURATION, value="60"),
        **select(RotaBlock.FORMAT, "lean_coffee"),
        **select(RotaBlock.REMINDER, "2880"),
        **select(RotaBlock.ANNOUNCE, "60"),
    }
    state.update(overrides)
    return state


def errors_of(exc: pytest.ExceptionInfo[FormErrors]) -> dict[str, str]:
    return exc.value.errors


# --- the schedule --------------------------------------------------------------------------


def test_schedule_form_reads_every_field() -> None:
    form = ScheduleForm.from_state(schedule_state())
    assert form.to_input().cadence().describe() == (
        "every 2 weeks on Tuesday at 10:00 (Europe/London)"
    )
    assert form.at == time(10, 0) and form.starts_on == TODAY
    assert form.reminder_minutes_before == 2880 and form.announce_minutes_before == 60


def test_monthly_ignores_the_weekly_interval_and_vice_versa() -> None:
    form = ScheduleForm.from_state(
        schedule_state(
            **select(RotaBlock.FREQUENCY, "monthly"), **select(RotaBlock.WEEK_OF_MONTH, "-1")
        )
    )
    made = form.to_input()
    assert made.frequency == Frequency.MONTHLY and made.every_weeks == 1
    assert made.week_of_month == -1
    assert made.cadence().describe().startswith("the last Tuesday of each month")


def test_optional_fields_fall_back_to_defaults() -> None:
    form = ScheduleForm.from_state(
        schedule_state(
            **entry(RotaBlock.EVERY_WEEKS, value=None),
            **select(RotaBlock.FORMAT, None),
            **select(RotaBlock.REMINDER, None),
            **select(RotaBlock.ANNOUNCE, None),
        )
    )
    assert form.every_weeks == 1 and form.format == MeetupFormat.LEAN_COFFEE
    assert form.reminder_minutes_before == 2 * 24 * 60 and form.announce_minutes_before == 60


@pytest.mark.parametrize(
    ("override", "block", "words"),
    [
        (entry(RotaBlock.TIME_ZONE, value="Mars/Olympus"), RotaBlock.TIME_ZONE, "Mars/Olympus"),
        (entry(RotaBlock.TIME_ZONE, value="  "), RotaBlock.TIME_ZONE, "Type a time zone"),
        (entry(RotaBlock.EVERY_WEEKS, value="9"), RotaBlock.EVERY_WEEKS, "1 to 8 weeks"),
        (entry(RotaBlock.EVERY_WEEKS, value="1.5"), RotaBlock.EVERY_WEEKS, "1 to 8 weeks"),
        (entry(RotaBlock.DURATION, value="2"), RotaBlock.DURATION, "between 5 and 480"),
        (select(RotaBlock.WEEK_OF_MONTH, "5"), RotaBlock.WEEK_OF_MONTH, "last week"),
        (select(RotaBlock.WEEKDAY, None), RotaBlock.WEEKDAY, "day of the week"),
        (select(RotaBlock.FREQUENCY, "daily"), RotaBlock.FREQUENCY, "how often"),
        (entry(RotaBlock.TIME, selected_time="25:00"), RotaBlock.TIME, "time the meetup"),
        (entry(RotaBlock.STARTS_ON, selected_date=None), RotaBlock.STARTS_ON, "first day"),
    ],
)
def test_schedule_form_errors_land_under_their_field(
    override: dict[str, Any], block: RotaBlock, words: str
) -> None:
    with pytest.raises(FormErrors) as exc:
        ScheduleForm.from_state(schedule_state(**override))
    assert words in errors_of(exc)[str(block)]


def test_time_zones_forgive_case_and_spaces() -> None:
    assert canonical_zone("america/new york") == "America/New_York"
    assert canonical_zone(" Europe/London ") == "Europe/London"
    assert canonical_zone("utc") == "UTC"
    with pytest.raises(InvalidInput) as exc:
        canonical_zone("<!channel>")
    assert exc.value.field == "time_zone"


# --- away, swap, move ----------------------------------------------------------------------------


def away_state(who: str | None, first: str | None, last: str | None) -> dict[str, Any]:
    return {
        **entry(RotaBlock.AWAY_WHO, selected_user=who),
        **entry(RotaBlock.AWAY_FROM, selected_date=first),
        **entry(RotaBlock.AWAY_TO, selected_date=last),
    }


def test_away_form() -> None:
    form = AwayForm.from_state(away_state("UB", "2026-12-01", "2026-12-03"), today=TODAY)
    assert (form.user_id, form.starts_on, form.ends_on) == (
        "UB",
        date(2026, 12, 1),
        date(2026, 12, 3),
    )
    single = AwayForm.from_state(away_state("UB", "2026-12-01", None), today=TODAY)
    assert single.ends_on == single.starts_on


@pytest.mark.parametrize(
    ("state", "block", "words"),
    [
        (away_state("UB", "2026-12-05", "2026-12-01"), RotaBlock.AWAY_TO, "ends before it starts"),
        (away_state("UB", "2026-11-01", "2026-11-02"), RotaBlock.AWAY_TO, "in the past"),
        (away_state("UB", "2026-12-01", "2028-12-01"), RotaBlock.AWAY_TO, "more than a year"),
        (away_state(None, "2026-12-01", None), RotaBlock.AWAY_WHO, "who will be away"),
    ],
)
def test_away_form_errors(state: dict[str, Any], block: RotaBlock, words: str) -> None:
    with pytest.raises(FormErrors) as exc:
        AwayForm.from_state(state, today=TODAY)
    assert words in errors_of(exc)[str(block)]


def test_swap_and_move_forms() -> None:
    assert SwapForm.from_state(entry(RotaBlock.SWAP_WITH, selected_user="UC")).user_id == "UC"
    with pytest.raises(FormErrors):
        SwapForm.from_state(entry(RotaBlock.SWAP_WITH, selected_user=None))
    move = MoveForm.from_state(
        {
            **entry(RotaBlock.MOVE_DATE, selected_date="2026-07-07"),
            **entry(RotaBlock.MOVE_TIME, selected_time="10:00"),
        }
    )
    assert move.starts_at("Europe/London").astimezone(UTC) == datetime(2026, 7, 7, 9, 0, tzinfo=UTC)
    with pytest.raises(FormErrors) as exc:
        MoveForm.from_state(entry(RotaBlock.MOVE_DATE, selected_date="2026-07-07"))
    assert str(RotaBlock.MOVE_TIME) in errors_of(exc)


# --- the command line ---------------------------------------------------------------------------


def test_parse_command_reads_slacks_mentions() -> None:
    parsed = parse_command("Add <@U0BOB|bob> <@U0CAROL|carol> <@U0BOB|bob>")
    assert parsed.verb == "add" and parsed.user_ids == ("U0BOB", "U0CAROL")
    assert parsed.rest == "" and parsed.unknown_names == ()
    away = parse_command("away <@U0BOB|bob> 1 Dec to 14 Dec")
    assert away.user_ids == ("U0BOB",) and away.rest == "1 Dec to 14 Dec"
    assert parse_command("add @nobody <@W0X>").unknown_names == ("@nobody",)
    assert parse_command("add @nobody <@W0X>").user_ids == ("W0X",)
    assert parse_command("").verb == ""
    assert parse_command("  stats  ").verb == "stats"
    assert parse_command("dance &lt;!channel&gt;").rest == "<!channel>"


@pytest.mark.parametrize(
    ("typed", "remove", "people"),
    [
        ("lead <@U0BOB|bob>", False, ("U0BOB",)),
        ("lead add <@U0BOB|bob> and <@U0DAN|dan>", False, ("U0BOB", "U0DAN")),
        ("lead remove <@U0BOB|bob>", True, ("U0BOB",)),
        ("lead <@U0BOB|bob>, <@U0DAN|dan> REMOVE", True, ("U0BOB", "U0DAN")),
        ("lead remove me", True, ("U0ME",)),
        ("lead remove <@U0BOB|bob> myself", True, ("U0BOB", "U0ME")),
        # Someone called "remove" is a person to add, not a word.
        ("lead <@U0REM|remove>", False, ("U0REM",)),
        ("lead remove <@U0REM|remove>", True, ("U0REM",)),
        ("lead remove", True, ()),
    ],
)
def test_parse_lead_change(typed: str, remove: bool, people: tuple[str, ...]) -> None:
    change = parse_lead_change(parse_command(typed), "U0ME")
    assert (change.remove, change.user_ids) == (remove, people)


def test_parse_lead_change_refuses_words_it_does_not_know() -> None:
    # A typo never makes a lead of someone meant to stop being one.
    for typed in ("lead delete <@U0BOB|bob>", "lead remove add <@U0BOB|bob>"):
        with pytest.raises(InvalidInput, match="lead remove @alex"):
            parse_lead_change(parse_command(typed), "U0ME")
    unknown = parse_lead_change(parse_command("lead remove @remove"), "U0ME")
    assert unknown.unknown_names == ("@remove",) and unknown.user_ids == ()


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("1 Dec", date(2026, 12, 1)),
        ("Dec 1", date(2026, 12, 1)),
        ("1st December 2027", date(2027, 12, 1)),
        ("Tue 1 Dec", date(2026, 12, 1)),
        ("December 3rd, 2026", date(2026, 12, 3)),
        ("5 sept", date(2027, 9, 5)),  # already passed this year: next year's
        ("today", TODAY),
        ("tomorrow", date(2026, 11, 24)),
    ],
)
def test_parse_day(typed: str, day: date) -> None:
    assert parse_day(typed, TODAY) == day


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("1 Dec to 14 Dec", date(2026, 12, 1), date(2026, 12, 14)),
        ("2026-12-01 2026-12-14", date(2026, 12, 1), date(2026, 12, 14)),
        ("2026-12-01 - 2026-12-14", date(2026, 12, 1), date(2026, 12, 14)),
        ("from 1 Dec until 3 Dec", date(2026, 12, 1), date(2026, 12, 3)),
        ("28 Dec – 3 Jan", date(2026, 12, 28), date(2027, 1, 3)),
        ("1 Dec 14 Dec", date(2026, 12, 1), date(2026, 12, 14)),
        ("Dec 1 Dec 14", date(2026, 12, 1), date(2026, 12, 14)),
        ("1 Dec", date(2026, 12, 1), date(2026, 12, 1)),
    ],
)
def test_parse_period(typed: str, first: date, last: date) -> None:
    assert parse_period(typed, TODAY) == (first, last)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Say which days"),
        ("soonish", "couldn't read"),
        ("31 Feb", "isn't a day in the calendar"),
        ("1 Smarch", "couldn't read"),
        ("2026-11-01 to 2026-11-02", "in the past"),
        ("14 Dec 2026 to 1 Dec 2026", "ends before it starts"),
        ("1 Dec to 2 Dec to 3 Dec", "first and a last day"),
    ],
)
def test_parse_period_refuses_with_a_clear_reason(typed: str, words: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_period(typed, TODAY)
    assert words in exc.value.message
