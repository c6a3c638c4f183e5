"""Reading Lean Coffee modal submissions: good answers become typed values, bad ones get kind
messages under the right input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.blocks.common import FormErrors
from bot.blocks.lean_coffee import propose_modal, start_modal, takeaway_modal
from bot.blocks.lean_coffee_forms import (
    HandOverForm,
    MergeForm,
    StartForm,
    TakeawayForm,
    TopicForm,
    parse_extensions,
    parse_topic_text,
)
from bot.errors import DomainError, InvalidInput
from bot.ids import LeanCoffeeBlock, input_action_id
from bot.services.lean_coffee_types import TopicState, TopicView
from bot.state import LeanCoffeeModal

TODAY = date(2024, 6, 14)


# --- factories: the shapes Slack sends in view["state"]["values"] -----------------------------


def text_input(value: str | None, kind: str = "plain_text_input") -> dict[str, Any]:
    return {"type": kind, "value": value}


def number_input(value: str | None) -> dict[str, Any]:
    return text_input(value, "number_input")


def checkboxes(*values: str) -> dict[str, Any]:
    return {
        "type": "checkboxes",
        "selected_options": [
            {"text": {"type": "plain_text", "text": v}, "value": v} for v in values
        ],
    }


def select(value: str | None) -> dict[str, Any]:
    chosen = {"text": {"type": "plain_text", "text": "x"}, "value": value} if value else None
    return {"type": "static_select", "selected_option": chosen}


def user(user_id: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def day(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def state(**inputs: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """`state(TITLE=text_input("x"))` → values keyed like Slack's (block id → action id)."""
    values = {}
    for name, element in inputs.items():
        block = LeanCoffeeBlock[name]
        values[str(block)] = {input_action_id(block): element}
    return values


def start_state(**overrides: dict[str, Any]) -> dict[str, Any]:
    inputs = {
        "TITLE": text_input(None),
        "VOTES": number_input("3"),
        "TIMEBOX": number_input("7"),
        "EXTENSIONS": text_input("4, 2"),
        "ANONYMOUS": checkboxes(),
    }
    inputs.update(overrides)
    return state(**inputs)


def takeaway_state(**overrides: dict[str, Any]) -> dict[str, Any]:
    inputs = {
        "TAKEAWAY_TOPIC": select("12"),
        "TAKEAWAY_TEXT": text_input("  Pairing helps newcomers  "),
        "TAKEAWAY_IS_ACTION": checkboxes(),
        "ACTION_OWNER": user(None),
        "ACTION_DUE": day(None),
    }
    inputs.update(overrides)
    return state(**inputs)


def initial_state(view: View) -> dict[str, Any]:
    """What Slack would submit if the person changed nothing: built from the modal itself, so
    a block or action id that does not match the parser fails here."""
    values: dict[str, Any] = {}
    for block in view.to_dict()["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind in ("plain_text_input", "number_input"):
            entry = {"type": kind, "value": element.get("initial_value")}
        elif kind == "checkboxes":
            entry = {"type": kind, "selected_options": element.get("initial_options", [])}
        elif kind == "static_select":
            entry = {"type": kind, "selected_option": element.get("initial_option")}
        elif kind == "users_select":
            entry = {"type": kind, "selected_user": element.get("initial_user")}
        else:
            entry = {"type": kind, "selected_date": element.get("initial_date")}
        values[block["block_id"]] = {element["action_id"]: entry}
    return values


def errors_of(exc: pytest.ExceptionInfo[FormErrors]) -> dict[str, str]:
    return exc.value.errors


# --- start ---------------------------------------------------------------------------------------


def test_start_modal_defaults_parse_to_the_defaults() -> None:
    form = StartForm.from_state(initial_state(start_modal("C1")))
    assert form == StartForm(
        title="Lean Coffee",
        votes_per_person=3,
        timebox_minutes=7,
        extension_minutes=(4, 2),
        anonymous_topics=False,
    )


def test_start_form_reads_every_answer() -> None:
    form = StartForm.from_state(
        start_state(
            TITLE=text_input("  Design   guild  "),
            VOTES=number_input("5"),
            TIMEBOX=number_input("10"),
            EXTENSIONS=text_input("6 3 1"),
            ANONYMOUS=checkboxes("anonymous"),
        )
    )
    assert form.title == "Design guild"
    assert (form.votes_per_person, form.timebox_minutes) == (5, 10)
    assert form.extension_minutes == (6, 3, 1)
    assert form.anonymous_topics is True


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("4, 2", (4, 2)),
        ("4 2", (4, 2)),
        ("4,2", (4, 2)),
        ("+4 min, +2 min", (4, 2)),
        ("", ()),
        ("   ", ()),
        (None, ()),
        ("60", (60,)),
        ("5, 4, 3, 2, 1", (5, 4, 3, 2, 1)),
    ],
)
def test_extension_patterns(typed: str | None, expected: tuple[int, ...]) -> None:
    assert parse_extensions(typed) == expected
    assert StartForm.from_state(start_state(EXTENSIONS=text_input(typed))).extension_minutes == (
        expected
    )


@pytest.mark.parametrize("typed", ["0", "61", "4, two", "4.5", "-3", "6, 5, 4, 3, 2, 1"])
def test_bad_extension_patterns_are_explained(typed: str) -> None:
    with pytest.raises(FormErrors) as exc:
        StartForm.from_state(start_state(EXTENSIONS=text_input(typed)))
    message = errors_of(exc)[LeanCoffeeBlock.EXTENSIONS]
    assert "4, 2" in message
    assert set(errors_of(exc)) == {LeanCoffeeBlock.EXTENSIONS}


@pytest.mark.parametrize(
    ("block", "value"),
    [
        ("VOTES", "0"),
        ("VOTES", "11"),
        ("VOTES", None),
        ("VOTES", "2.5"),
        ("TIMEBOX", "0"),
        ("TIMEBOX", "61"),
        ("TIMEBOX", "abc"),
    ],
)
def test_numbers_out_of_range_are_explained(block: str, value: str | None) -> None:
    with pytest.raises(FormErrors) as exc:
        StartForm.from_state(start_state(**{block: number_input(value)}))
    assert list(errors_of(exc)) == [LeanCoffeeBlock[block]]
    assert "Choose between" in errors_of(exc)[LeanCoffeeBlock[block]]


def test_start_form_reports_every_bad_answer_at_once() -> None:
    with pytest.raises(FormErrors) as exc:
        StartForm.from_state(
            start_state(
                TITLE=text_input("x" * 101),
                VOTES=number_input("99"),
                TIMEBOX=number_input("0"),
                EXTENSIONS=text_input("soon"),
            )
        )
    assert set(errors_of(exc)) == {
        LeanCoffeeBlock.TITLE,
        LeanCoffeeBlock.VOTES,
        LeanCoffeeBlock.TIMEBOX,
        LeanCoffeeBlock.EXTENSIONS,
    }
    assert "101" in errors_of(exc)[LeanCoffeeBlock.TITLE]
    assert isinstance(exc.value, DomainError)


# --- topics --------------------------------------------------------------------------------------


def test_topic_form_strips_and_keeps_detail_optional() -> None:
    form = TopicForm.from_state(
        state(TOPIC_TITLE=text_input("  How do we\nonboard?  "), TOPIC_DETAIL=text_input("   "))
    )
    assert form == TopicForm(title="How do we onboard?", detail=None)
    with_detail = TopicForm.from_state(
        state(TOPIC_TITLE=text_input("T"), TOPIC_DETAIL=text_input("  line 1\nline 2 "))
    )
    assert with_detail.detail == "line 1\nline 2"


def test_topic_form_round_trips_through_the_edit_modal() -> None:
    topic = TopicView(
        id=3,
        title="Old title",
        detail="Old detail",
        proposer_id="U1",
        votes=0,
        state=TopicState.OPEN,
    )
    view = propose_modal(LeanCoffeeModal(channel="C1", s=1), topic)
    assert TopicForm.from_state(initial_state(view)) == TopicForm(
        title="Old title", detail="Old detail"
    )


@pytest.mark.parametrize(
    ("title", "detail", "block", "words"),
    [
        (None, None, LeanCoffeeBlock.TOPIC_TITLE, "Give your topic a title"),
        ("   ", None, LeanCoffeeBlock.TOPIC_TITLE, "Give your topic a title"),
        ("x" * 151, None, LeanCoffeeBlock.TOPIC_TITLE, "151"),
        ("ok", "d" * 1001, LeanCoffeeBlock.TOPIC_DETAIL, "1001"),
    ],
)
def test_bad_topics_are_explained(
    title: str | None, detail: str | None, block: LeanCoffeeBlock, words: str
) -> None:
    with pytest.raises(FormErrors) as exc:
        TopicForm.from_state(state(TOPIC_TITLE=text_input(title), TOPIC_DETAIL=text_input(detail)))
    assert list(errors_of(exc)) == [block]
    assert words in errors_of(exc)[block]


def test_topic_at_the_limits_is_accepted() -> None:
    form = TopicForm.from_state(
        state(TOPIC_TITLE=text_input("t" * 150), TOPIC_DETAIL=text_input("d" * 1000))
    )
    assert (len(form.title), len(form.detail or "")) == (150, 1000)


def test_parse_topic_text_undoes_slack_escaping() -> None:
    assert parse_topic_text("  Pros &amp; cons of &lt;script&gt; tags ") == TopicForm(
        title="Pros & cons of <script> tags"
    )


def test_parse_topic_text_turns_slack_tokens_into_their_labels() -> None:
    form = parse_topic_text("Ask <@U123|sam> about <#C9|general> and <https://x.org|the docs>")
    assert form.title == "Ask @sam about #general and the docs"
    assert parse_topic_text("See <https://x.org>").title == "See https://x.org"


@pytest.mark.parametrize("text", ["", "   ", "x" * 151])
def test_parse_topic_text_refuses_with_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_topic_text(text)
    assert "Propose a topic" in exc.value.message


# --- merge, takeaway, hand over ---------------------------------------------------------------


def test_merge_form() -> None:
    assert MergeForm.from_state(state(MERGE_INTO=select("42"))) == MergeForm(topic_id=42)
    with pytest.raises(FormErrors) as exc:
        MergeForm.from_state(state(MERGE_INTO=select(None)))
    assert errors_of(exc) == {LeanCoffeeBlock.MERGE_INTO: "Pick the topic to merge into."}


def test_takeaway_form_plain_takeaway() -> None:
    form = TakeawayForm.from_state(takeaway_state(), today=TODAY)
    assert form == TakeawayForm(topic_id=12, text="Pairing helps newcomers")
    assert form.is_action is False


def test_takeaway_form_action_with_owner_and_due_date() -> None:
    form = TakeawayForm.from_state(
        takeaway_state(
            TAKEAWAY_IS_ACTION=checkboxes("action"),
            ACTION_OWNER=user("U7"),
            ACTION_DUE=day("2024-06-14"),
        ),
        today=TODAY,
    )
    assert (form.is_action, form.owner_id, form.due_date) == (True, "U7", TODAY)


def test_takeaway_with_an_owner_is_an_action() -> None:
    form = TakeawayForm.from_state(takeaway_state(ACTION_OWNER=user("U7")), today=TODAY)
    assert form.is_action is True


@pytest.mark.parametrize(
    ("overrides", "block", "words"),
    [
        ({"TAKEAWAY_IS_ACTION": checkboxes("action")}, LeanCoffeeBlock.ACTION_OWNER, "Who"),
        ({"ACTION_DUE": day("2024-06-20")}, LeanCoffeeBlock.ACTION_OWNER, "Who"),
        (
            {"ACTION_OWNER": user("U7"), "ACTION_DUE": day("2024-06-13")},
            LeanCoffeeBlock.ACTION_DUE,
            "passed",
        ),
        ({"TAKEAWAY_TEXT": text_input(None)}, LeanCoffeeBlock.TAKEAWAY_TEXT, "Write"),
        ({"TAKEAWAY_TEXT": text_input("x" * 1001)}, LeanCoffeeBlock.TAKEAWAY_TEXT, "1001"),
        ({"TAKEAWAY_TOPIC": select(None)}, LeanCoffeeBlock.TAKEAWAY_TOPIC, "Pick the topic"),
    ],
)
def test_bad_takeaways_are_explained(
    overrides: dict[str, Any], block: LeanCoffeeBlock, words: str
) -> None:
    with pytest.raises(FormErrors) as exc:
        TakeawayForm.from_state(takeaway_state(**overrides), today=TODAY)
    assert list(errors_of(exc)) == [block]
    assert words in errors_of(exc)[block]


def test_takeaway_modal_round_trips_with_the_preselected_topic() -> None:
    topics = [
        TopicView(
            id=i, title=f"T{i}", detail=None, proposer_id=None, votes=0, state=TopicState.OPEN
        )
        for i in (4, 5)
    ]
    values = initial_state(takeaway_modal(LeanCoffeeModal(channel="C1", s=1), topics, 5))
    values[LeanCoffeeBlock.TAKEAWAY_TEXT][input_action_id(LeanCoffeeBlock.TAKEAWAY_TEXT)][
        "value"
    ] = "Noted"
    assert TakeawayForm.from_state(values, today=TODAY) == TakeawayForm(topic_id=5, text="Noted")


def test_hand_over_form() -> None:
    assert HandOverForm.from_state(state(NEW_FACILITATOR=user("U5"))) == HandOverForm(user_id="U5")
    with pytest.raises(FormErrors) as exc:
        HandOverForm.from_state(state(NEW_FACILITATOR=user(None)))
    assert list(errors_of(exc)) == [LeanCoffeeBlock.NEW_FACILITATOR]


def test_missing_blocks_read_as_empty_answers() -> None:
    with pytest.raises(FormErrors) as exc:
        HandOverForm.from_state({})
    assert "Pick who" in errors_of(exc)[LeanCoffeeBlock.NEW_FACILITATOR]
