"""What the emulator takes from a client (a browser's modal state) and gives it to draw."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator.inputs import InputError, accept_state, raw_value, shown_blocks, state_values
from bot.emulator.seed import Seed, seed_default_workspace
from bot.emulator.state import View, WorkspaceState

JSON = dict[str, Any]


def _input(block_id: str, element: JSON) -> JSON:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": block_id},
        "element": {"action_id": "in", **element},
    }


def _option(value: str) -> JSON:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


@pytest.fixture
def view() -> tuple[WorkspaceState, View]:
    state = seed_default_workspace(WorkspaceState())
    spec = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Every input"},
        "blocks": [
            _input("text", {"type": "plain_text_input", "initial_value": "first"}),
            _input("number", {"type": "number_input", "is_decimal_allowed": False}),
            _input("pick", {"type": "static_select", "options": [_option("a"), _option("b")]}),
            _input("who", {"type": "users_select"}),
            _input("day", {"type": "datepicker"}),
            _input("at", {"type": "timepicker"}),
            _input("one", {"type": "radio_buttons", "options": [_option("x"), _option("y")]}),
            _input("many", {"type": "checkboxes", "options": [_option("p"), _option("q")]}),
        ],
    }
    modal = state.new_view(Seed.ALICE, "modal", spec)
    state.push_modal(modal)
    return state, modal


def test_a_clients_state_is_taken_for_every_input(view: tuple[WorkspaceState, View]) -> None:
    state, modal = view
    accept_state(
        state,
        modal,
        {
            "text": {"in": {"type": "plain_text_input", "value": "typed"}},
            "number": {"in": {"type": "number_input", "value": "5"}},
            "pick": {"in": {"type": "static_select", "selected_option": {"value": "b"}}},
            "who": {"in": {"type": "users_select", "selected_user": Seed.BOB}},
            "day": {"in": {"type": "datepicker", "selected_date": "2026-12-04"}},
            "at": {"in": {"type": "timepicker", "selected_time": "09:30"}},
            "one": {"in": {"type": "radio_buttons", "selected_option": {"value": "y"}}},
            "many": {"in": {"type": "checkboxes", "selected_options": [{"value": "q"}]}},
        },
    )
    values = state_values(modal)
    assert values["text"]["in"]["value"] == "typed"
    assert values["number"]["in"]["value"] == "5"
    # Options come from the modal itself, whole, whatever the client sent about them.
    assert values["pick"]["in"]["selected_option"] == _option("b")
    assert values["who"]["in"]["selected_user"] == Seed.BOB
    assert values["day"]["in"]["selected_date"] == "2026-12-04"
    assert values["at"]["in"]["selected_time"] == "09:30"
    assert values["one"]["in"]["selected_option"] == _option("y")
    assert values["many"]["in"]["selected_options"] == [_option("q")]

    shown = {b["block_id"]: b["element"] for b in shown_blocks(modal)}
    assert shown["text"]["initial_value"] == "typed"
    assert shown["pick"]["initial_option"] == _option("b")
    assert shown["who"]["initial_user"] == Seed.BOB
    assert shown["day"]["initial_date"] == "2026-12-04"
    assert shown["many"]["initial_options"] == [_option("q")]
    # The app's own blocks are left as they were.
    assert modal.blocks[0]["element"]["initial_value"] == "first"


def test_clearing_a_field_removes_its_initial_value(view: tuple[WorkspaceState, View]) -> None:
    state, modal = view
    accept_state(state, modal, {"text": {"in": {"type": "plain_text_input", "value": ""}}})
    assert state_values(modal)["text"]["in"]["value"] is None
    assert "initial_value" not in shown_blocks(modal)[0]["element"]


@pytest.mark.parametrize(
    "values",
    [
        {"nowhere": {"in": {"value": "x"}}},
        {"text": {"other": {"value": "x"}}},
        {"pick": {"in": {"selected_option": {"value": "zzz"}}}},
        {"who": {"in": {"selected_user": "U0NOBODY"}}},
        {"day": {"in": {"selected_date": "next tuesday"}}},
        {"at": {"in": {"selected_time": "25:99"}}},
        {"text": "typed"},
        ["not", "an", "object"],
    ],
)
def test_what_no_person_could_enter_is_refused(
    view: tuple[WorkspaceState, View], values: Any
) -> None:
    state, modal = view
    with pytest.raises(InputError):
        accept_state(state, modal, values)
    assert modal.values == {}


def test_raw_values_from_state_entries() -> None:
    assert raw_value({"type": "plain_text_input", "value": "hi"}) == "hi"
    assert raw_value({"selected_option": {"value": "a"}}) == "a"
    assert raw_value({"selected_options": [{"value": "a"}, {"value": "b"}]}) == ["a", "b"]
    assert raw_value({"selected_user": "U1"}) == "U1"
    assert raw_value({"type": "button"}) is None
