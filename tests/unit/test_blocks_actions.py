"""Actions in Slack: buttons that name the action's source, the form recording an action
after a health check, its confirmation, and the reminder; valid Block Kit, text escaped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.blocks import actions as blocks
from bot.blocks.common import FormErrors
from bot.blocks.health_check import results_blocks
from bot.emulator.blockkit import validate_message, validate_view
from bot.ids import ActionsAction, ActionsBlock, ActionsView, input_action_id
from bot.services.actions import Action
from bot.services.health_check_types import CheckResults
from bot.state import ActionRef, CheckRef, HealthActionModal

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def action(**changes: Any) -> Action:
    fields: dict[str, Any] = {
        "source": "health_check",
        "id": 5,
        "team_id": "T1",
        "channel_id": "C1",
        "text": "Pair with <!channel> & newcomers",
        "owner_id": "U0BOB",
        "author_id": "U0ALICE",
        "due_date": date(2026, 12, 4),
        "created_at": NOW,
        "done_at": None,
        "done_by_id": None,
        "facilitator_id": "U0CAROL",
        "topic_title": "Health check, 23 Nov 2026",
        "meeting_title": "Health check, 23 Nov 2026",
    }
    fields.update(changes)
    return Action(**fields)


def message_dicts(message: blocks.Outgoing) -> list[dict[str, Any]]:
    result = [b.to_dict() for b in message.blocks]
    assert validate_message(message.text, result) == []
    return result


def mark_done_values(dicts: list[dict[str, Any]]) -> list[str]:
    return [
        b["accessory"]["value"]
        for b in dicts
        if b.get("accessory", {}).get("action_id") == ActionsAction.MARK_DONE
    ]


def test_the_button_names_source_and_id_and_old_values_still_read() -> None:
    assert ActionRef.decode(blocks.mark_done_button(5, "meetup").value) == ActionRef(
        a=5, s="meetup"
    )
    # Lean Coffee's value is what it was before sources existed, so posted buttons match.
    assert blocks.mark_done_button(5).value == '{"a":5}'
    assert ActionRef.decode('{"a":5}').s == "lean_coffee"


def test_the_confirmation_mentions_the_owner_escapes_the_text_and_can_be_done() -> None:
    dicts = message_dicts(blocks.recorded_message(action()))
    text = json.dumps(dicts, ensure_ascii=False)
    assert "<@U0ALICE> recorded an action" in text
    assert "Pair with &lt;!channel&gt; &amp; newcomers (<@U0BOB>, due Fri 4 Dec 2026)" in text
    assert "<!channel>" not in text
    assert "reminder on the due date" in text
    assert [ActionRef.decode(v) for v in mark_done_values(dicts)] == [
        ActionRef(a=5, s="health_check")
    ]
    undated = json.dumps(message_dicts(blocks.recorded_message(action(due_date=None))))
    assert "reminder" not in undated and "Home tab" in undated


def test_the_reminder_names_the_meeting_once() -> None:
    meetup = action(
        source="meetup",
        topic_title="Chat meetup: What <now>?",
        meeting_title="Chat meetup: What <now>?",
    )
    dicts = message_dicts(blocks.reminder(meetup))
    text = json.dumps(dicts, ensure_ascii=False)
    assert text.count("Chat meetup: What &lt;now&gt;?") == 1
    assert [ActionRef.decode(v) for v in mark_done_values(dicts)] == [ActionRef(a=5, s="meetup")]


def test_the_record_form_asks_what_who_and_when() -> None:
    view = blocks.record_modal(HealthActionModal(channel="C1", k=7)).to_dict()
    assert validate_view(view) == []
    assert view["callback_id"] == ActionsView.RECORD_AFTER_CHECK
    assert HealthActionModal.decode(view["private_metadata"]) == HealthActionModal(
        channel="C1", k=7
    )
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [ActionsBlock.TEXT, ActionsBlock.OWNER, ActionsBlock.DUE]
    assert inputs[ActionsBlock.OWNER]["element"]["type"] == "users_select"
    assert not inputs[ActionsBlock.OWNER].get("optional")
    assert inputs[ActionsBlock.DUE]["optional"] is True


def state(text: str | None, owner: str | None, due: str | None) -> dict[str, Any]:
    return {
        ActionsBlock.TEXT: {input_action_id(ActionsBlock.TEXT): {"value": text}},
        ActionsBlock.OWNER: {input_action_id(ActionsBlock.OWNER): {"selected_user": owner}},
        ActionsBlock.DUE: {input_action_id(ActionsBlock.DUE): {"selected_date": due}},
    }


def test_the_record_form_is_read_and_checked() -> None:
    form = blocks.parse_record(state("  Run a pairing day ", "U0BOB", "2026-12-04"))
    assert (form.text, form.owner_id, form.due_date) == (
        "Run a pairing day",
        "U0BOB",
        date(2026, 12, 4),
    )
    assert blocks.parse_record(state("x", "U0BOB", None)).due_date is None
    with pytest.raises(FormErrors) as missing:
        blocks.parse_record(state("   ", None, None))
    assert set(missing.value.errors) == {ActionsBlock.TEXT, ActionsBlock.OWNER}


def test_health_check_results_offer_to_record_an_action() -> None:
    results = CheckResults(
        check_id=7,
        community_id=3,
        channel_id="C1",
        anonymous=True,
        opened_at=NOW,
        closed_at=NOW + timedelta(days=2),
        closed_by_id=None,
        respondents=1,
        members=8,
        min_answers=3,
        below_minimum=True,
        scale=(),
        questions=(),
    )
    last = results_blocks(results)[-1].to_dict()
    [element] = last["elements"]
    assert element["text"]["text"] == "Record an action"
    assert element["action_id"] == ActionsAction.RECORD_AFTER_CHECK
    assert CheckRef.decode(element["value"]) == CheckRef(k=7)
