"""Reading the /health-check modals: typed values, or friendly errors under the right input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from bot.blocks.common import FormErrors
from bot.blocks.health_check_forms import (
    CadenceForm,
    QuestionForm,
    QuestionMenu,
    SetupForm,
    field_errors,
    parse_verb,
)
from bot.errors import DomainError, InvalidInput
from bot.services.health_check_types import DEFAULT_SCALE
from bot.services.recurrence import Cadence, Frequency

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def typed(block: str, value: Any, kind: str = "value") -> dict[str, Any]:
    if kind == "selected_option":
        value = {"value": value}
    return {block: {f"{block}.input": {kind: value}}}


def cadence_state(**changes: Any) -> dict[str, Any]:
    values = {
        "health_check.frequency": ("weekly", "selected_option"),
        "health_check.weekday": ("1", "selected_option"),
        "health_check.every_weeks": ("2", "value"),
        "health_check.week_of_month": ("1", "selected_option"),
        "health_check.time": ("09:30", "selected_time"),
        "health_check.time_zone": ("europe/london", "value"),
    }
    for key, value in changes.items():
        block = f"health_check.{key}"
        values[block] = (value, values[block][1])
    state: dict[str, Any] = {}
    for block, (value, kind) in values.items():
        state |= typed(block, value, kind)
    return state


def setup_state(**changes: Any) -> dict[str, Any]:
    state = cadence_state()
    defaults = {
        "health_check.scale.0": ("Great", "value"),
        "health_check.scale.1": ("Fine", "value"),
        "health_check.scale.2": ("Poor", "value"),
        "health_check.open_hours": ("72", "selected_option"),
        "health_check.anonymous": ("named", "selected_option"),
        "health_check.reminders": ("0", "selected_option"),
        "health_check.min_answers": ("5", "value"),
    }
    for key, value in changes.items():
        block = f"health_check.{key}"
        defaults[block] = (value, defaults[block][1])
    for block, (value, kind) in defaults.items():
        state |= typed(block, value, kind)
    return state


def test_cadence_form_reads_the_schedule() -> None:
    form = CadenceForm.from_state(cadence_state())
    cadence = form.to_cadence(NOW)
    assert cadence == Cadence(
        frequency=Frequency.WEEKLY,
        weekday=1,
        at=time(9, 30),
        time_zone="Europe/London",
        anchor=date(2026, 11, 23),
        every_weeks=2,
    )
    # Editing keeps an earlier first day, so "every other week" keeps its weeks.
    earlier = Cadence(
        frequency=Frequency.WEEKLY,
        weekday=1,
        at=time(10, 0),
        time_zone="Europe/London",
        anchor=date(2026, 1, 5),
    )
    again = form.to_cadence(NOW, earlier)
    assert again is not None and again.anchor == date(2026, 1, 5)


def test_by_hand_means_no_cadence() -> None:
    form = CadenceForm.from_state(cadence_state(frequency="manual", time_zone="Nowhere/Land"))
    assert form.frequency is None and form.to_cadence(NOW) is None


@pytest.mark.parametrize(
    ("changes", "block", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "health_check.time_zone", "Mars/Olympus"),
        ({"time_zone": ""}, "health_check.time_zone", "Type a time zone"),
        ({"every_weeks": "9"}, "health_check.every_weeks", "every 1 to 8 weeks"),
        ({"weekday": "7"}, "health_check.weekday", "day of the week"),
        ({"time": None}, "health_check.time", "time checks start"),
        ({"frequency": None}, "health_check.frequency", "how often"),
    ],
)
def test_cadence_errors_are_under_their_input(
    changes: dict[str, Any], block: str, words: str
) -> None:
    with pytest.raises(FormErrors) as caught:
        CadenceForm.from_state(cadence_state(**changes))
    assert words in caught.value.errors[block]


def test_setup_form_reads_settings_and_renames_the_scale() -> None:
    form = SetupForm.from_state(setup_state(), DEFAULT_SCALE)
    settings = form.settings
    assert [o.label for o in settings.scale] == ["Great", "Fine", "Poor"]
    assert [o.key for o in settings.scale] == ["green", "amber", "red"]
    assert [o.score for o in settings.scale] == [100, 50, 0]
    assert (settings.open_hours, settings.anonymous, settings.reminders) == (72, False, 0)
    assert settings.min_answers == 5
    assert form.cadence.frequency == Frequency.WEEKLY


def test_setup_form_gathers_every_error() -> None:
    state = setup_state(**{"scale.1": " ", "min_answers": "1.5"}) | cadence_state(
        time_zone="Nowhere"
    )
    state |= typed("health_check.scale.1", " ")
    state |= typed("health_check.min_answers", "1.5")
    with pytest.raises(FormErrors) as caught:
        SetupForm.from_state(state, DEFAULT_SCALE)
    assert set(caught.value.errors) == {
        "health_check.scale.1",
        "health_check.min_answers",
        "health_check.time_zone",
    }


def test_question_form() -> None:
    state = typed("health_check.title", "  Tools   we use ") | typed(
        "health_check.best", " Shared "
    )
    form = QuestionForm.from_state(state)
    assert (form.title, form.best, form.worst) == ("Tools we use", "Shared", "")
    with pytest.raises(FormErrors) as caught:
        QuestionForm.from_state(
            typed("health_check.title", "") | typed("health_check.worst", "w" * 301)
        )
    assert set(caught.value.errors) == {"health_check.title", "health_check.worst"}


def test_service_errors_land_under_their_input() -> None:
    assert field_errors(InvalidInput("x", field="open_hours"), "d") == {
        "health_check.open_hours": "x"
    }
    assert field_errors(InvalidInput("x", field="scale"), "d") == {"health_check.scale.0": "x"}
    assert field_errors(InvalidInput("x"), "d") == {"d": "x"}


def test_command_words_and_menu_values() -> None:
    assert parse_verb("  NOW please") == "now"
    assert parse_verb("") == ""
    value = QuestionMenu.value(QuestionMenu.UP, "q_1a2b3c4d")
    assert QuestionMenu.parse(value) == ("up", "q_1a2b3c4d")
    with pytest.raises(DomainError):
        QuestionMenu.parse("explode:q_1")
