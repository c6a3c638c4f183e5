"""The "Your data" modals: valid Block Kit inside Slack's limits, people's words escaped,
plain words about what deleting does, and no way to delete while something needs handing on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from slack_sdk.models.views import View

from bot.blocks import personal_data as blocks
from bot.blocks.common import MAX_MODAL_BLOCKS, MAX_SECTION_TEXT, mention
from bot.emulator.blockkit import validate_view
from bot.ids import PersonalDataAction, PersonalDataView
from bot.services.minutes_export import person
from bot.services.personal_data_types import (
    EXAMPLES,
    FORGOTTEN_ID,
    Blocker,
    BlockerKind,
    Example,
    Held,
    Kind,
    PersonalData,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LONG = "<!channel> & " + "x" * 3000


def everything(count: int = 250) -> PersonalData:
    examples = (
        Example(text=LONG, channel_id="C1", on=date(2026, 11, 23)),
        Example(label="Chat meetup", channel_id="C2", on=date(2026, 11, 24)),
        Example(channel_id="C3", on=date(2027, 1, 4), until=date(2027, 1, 10)),
        Example(channel_id="C4", at=AT),
    )[:EXAMPLES]
    return PersonalData("UBOB", tuple(Held(kind, count, examples) for kind in Kind))


def as_json(view: View) -> dict[str, Any]:
    data = view.to_dict()
    assert validate_view(data) == [], validate_view(data)
    assert len(data["blocks"]) <= MAX_MODAL_BLOCKS
    for block in data["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
    return data


def buttons(data: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in data["blocks"]
        for e in [*b.get("elements", []), b.get("accessory") or {}]
        if e.get("type") == "button"
    ]


def test_the_list_holds_every_kind_within_slacks_limits_escaped() -> None:
    data = as_json(blocks.summary_modal(everything()))
    text = json.dumps(data, ensure_ascii=False)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; xxx" in text
    assert "*250 Lean Coffee topics you proposed* (they stay in the minutes" in text
    assert "250 dots you put on Lean Coffee topics" in text
    assert "…and 247 more" in text
    assert "Chat meetup in <#C2> on Tue 24 Nov 2026" in text
    assert "<#C3> from Mon 4 Jan 2027 to Sun 10 Jan 2027" in text
    assert blocks.ANONYMOUS_NOTE in text
    # Deleted things first, then what stays without a name.
    assert text.index("Deleted when you delete your data") < text.index(
        "Kept for others, with your name taken off"
    )
    assert buttons(data) == [PersonalDataAction.DELETE]
    assert data["callback_id"] == PersonalDataView.SUMMARY


def test_one_of_a_kind_reads_in_the_singular() -> None:
    data = PersonalData("UBOB", (Held(Kind.DOTS, 1), Held(Kind.MINUTES, 1)))
    text = json.dumps(as_json(blocks.summary_modal(data)), ensure_ascii=False)
    assert "1 dot you put on a Lean Coffee topic" in text
    assert "1 set of minutes that names you" in text


def test_nothing_held_says_so_and_offers_no_delete() -> None:
    data = as_json(blocks.summary_modal(PersonalData("UBOB", ())))
    assert blocks.NOTHING_HELD in json.dumps(data, ensure_ascii=False)
    assert buttons(data) == []


def test_what_needs_handing_on_comes_first() -> None:
    data = PersonalData(
        "UBOB",
        (Held(Kind.LEAD, 1),),
        (Blocker(BlockerKind.ONLY_LEAD, "C9"), Blocker(BlockerKind.FACILITATING_MEETUP, "C8")),
    )
    listed = as_json(blocks.summary_modal(data))
    text = json.dumps(listed, ensure_ascii=False)
    assert "only lead of the community in <#C9>" in text and "/rota lead @someone" in text
    assert "chat meetup running in <#C8>" in text
    assert buttons(listed) == []
    pushed = as_json(blocks.confirm_modal(data))
    assert "submit" not in pushed and "<#C9>" in json.dumps(pushed)


def test_the_confirmation_says_what_goes_and_what_stays() -> None:
    data = PersonalData("UBOB", (Held(Kind.ROTA, 1), Held(Kind.TOPICS, 1), Held(Kind.DOTS, 2)))
    confirm = as_json(blocks.confirm_modal(data))
    assert confirm["callback_id"] == PersonalDataView.CONFIRM
    assert confirm["submit"]["text"] == "Delete my data"
    text = confirm["blocks"][0]["text"]["text"]
    assert text.startswith(
        "This removes 1 rota you're in (or were) and 2 dots you put on Lean Coffee topics "
        "and takes your name off 1 Lean Coffee topic you proposed."
    )
    assert "Others' minutes keep what you said, without your name." in text
    assert "This can't be undone." in text


def test_what_was_done() -> None:
    removed = PersonalData("UBOB", (Held(Kind.DOTS, 2), Held(Kind.TOPICS, 1)))
    done = as_json(blocks.done_modal(removed))
    text = json.dumps(done, ensure_ascii=False)
    assert "Removed: 2 dots you put on Lean Coffee topics." in text
    assert "Your name is off 1 Lean Coffee topic you proposed" in text
    refused = as_json(blocks.done_modal(None, "Before I can forget you, one thing…"))
    assert "Before I can forget you" in json.dumps(refused, ensure_ascii=False)
    assert "There was nothing to delete" in blocks.forgotten_text(PersonalData("UBOB", ()))


def test_the_modal_opens_at_once_while_the_data_is_gathered() -> None:
    looking = as_json(blocks.looking_modal())
    assert "Looking up what hearth holds about you" in json.dumps(looking, ensure_ascii=False)
    assert buttons(looking) == [] and "submit" not in looking


def test_a_forgotten_person_reads_as_someone_wherever_people_are_named() -> None:
    assert mention(FORGOTTEN_ID) == "someone" and mention("UBOB") == "<@UBOB>"
    assert person(FORGOTTEN_ID, {FORGOTTEN_ID: "x"}) == "someone"
    assert person("UBOB", {}) == "@UBOB"
