"""The rota's timed messages: valid Block Kit, the right buttons, safe to show."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.blocks import rota_reminders as blocks
from bot.emulator.blockkit import validate_message
from bot.ids import ActionsAction, MeetupPlanAction, RotaAction
from bot.services.rota_reminders import HandoverPack, LastMinutes, OpenAction, WaitingTopic
from bot.state import ActionRef, MeetupRef

STARTS = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
MEETUP = blocks.MeetupInfo(
    community_id=3,
    meetup_id=42,
    channel_id="C0PRACTICE",
    starts_at=STARTS,
    duration_minutes=60,
    format="lean_coffee",
)
EMPTY = HandoverPack(None, (), (), 0)
FULL = HandoverPack(
    last=LastMinutes(
        title="<!channel> & co",
        held_on=date(2026, 11, 19),
        facilitator_id="U0CAROL",
        topics=("Plain <b>language</b>", "Research ops"),
        topics_discussed=3,
        takeaways=4,
        actions=1,
    ),
    actions=(
        OpenAction(
            "Write <it> up & share", "U0BOB", date(2026, 12, 4), "Plain language", 8, "lean_coffee"
        ),
        OpenAction("Find a room", None, None, "Chat meetup: Rooms?", 3, "meetup"),
    ),
    waiting=(WaitingTopic("Naming <things>", 3), WaitingTopic("Tea", 1)),
    waiting_total=7,
)


def dicts(message: blocks.Outgoing) -> list[dict[str, Any]]:
    result = [b.to_dict() for b in message.blocks]
    assert validate_message(message.text, result) == []
    assert len(result) <= 50
    return result


def buttons(message: blocks.Outgoing) -> list[tuple[str, str, str]]:
    found = []
    for block in dicts(message):
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.append((element["text"]["text"], element["action_id"], element["value"]))
    return found


def text_of(message: blocks.Outgoing) -> str:
    return json.dumps([b.to_dict() for b in message.blocks], ensure_ascii=False)


REF = MeetupRef(c=3, m=42).encode()


def test_the_reminder_asks_to_confirm_skip_or_swap_with_the_meetup_ref() -> None:
    message = blocks.reminder(MEETUP, "U0ALICE", False, EMPTY)
    assert buttons(message) == [
        ("I'll facilitate", RotaAction.CONFIRM, REF),
        ("I can't make it", RotaAction.SKIP, REF),
        ("Swap with someone", RotaAction.SWAP, REF),
    ]
    assert MeetupRef.decode(REF) == MeetupRef(c=3, m=42)
    text = text_of(message)
    assert f"<!date^{int(STARTS.timestamp())}^" in text
    assert "<@U0ALICE>" in text and "<#C0PRACTICE>" in text and "a Lean Coffee (1 h)" in text
    assert "no minutes yet" in text and "None recorded yet" in text
    assert "Reminder" in message.text and "<!date^" in message.text


def test_a_confirmed_facilitator_is_not_asked_to_confirm_again() -> None:
    message = blocks.reminder(MEETUP, "U0ALICE", True, EMPTY)
    assert [b[1] for b in buttons(message)] == [RotaAction.SKIP, RotaAction.SWAP]
    assert "already confirmed" in text_of(message)


def test_the_hand_over_pack_is_escaped_and_complete() -> None:
    text = text_of(blocks.reminder(MEETUP, "U0ALICE", False, FULL))
    assert "&lt;!channel&gt; &amp; co" in text and "<!channel>" not in text
    assert "Plain &lt;b&gt;language&lt;/b&gt;" in text
    assert "3 topics discussed" in text and "and 1 more" in text
    assert "4 takeaways, of which 1 action" in text
    assert "Write &lt;it&gt; up &amp; share (<@U0BOB>, due Fri 4 Dec 2026" in text
    assert "Find a room (no owner yet; from “Chat meetup: Rooms?”)" in text
    assert "Naming &lt;things&gt; (3 votes)" in text and "Tea (1 vote)" in text
    assert "and 5 more topics" in text
    assert "Thu 19 Nov 2026" in text


def test_a_long_pack_stays_within_slack_limits() -> None:
    huge = HandoverPack(
        last=FULL.last,
        actions=tuple(
            OpenAction("x" * 3000, "U0BOB", None, "t" * 500, n, "lean_coffee") for n in range(5)
        ),
        waiting=tuple(WaitingTopic("y" * 500, i) for i in range(5)),
        waiting_total=500,
    )
    for block in dicts(blocks.reminder(MEETUP, "U0ALICE", False, huge)):
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_the_announcement_names_the_facilitator_and_the_format() -> None:
    chat = blocks.MeetupInfo(3, 42, "C0PRACTICE", STARTS, 30, "chat")
    confirmed = blocks.announcement(chat, "U0ALICE", True, None)
    text = text_of(confirmed)
    assert "<@U0ALICE> is facilitating" in text and "a time-boxed chat (30 min)" in text
    assert f"<!date^{int(STARTS.timestamp())}^{{time}}" in text
    assert buttons(confirmed) == []

    asked = text_of(blocks.announcement(MEETUP, "U0ALICE", False, "U0BOB"))
    assert "hasn't confirmed yet" in asked and "asked <@U0BOB>" in asked

    unasked = text_of(blocks.announcement(MEETUP, "U0ALICE", False, None))
    assert "not confirmed yet" in unasked and "asked" not in unasked

    other = blocks.MeetupInfo(3, 42, "C0PRACTICE", STARTS, 90, "other")
    assert "a meetup (1 h 30 min)" in text_of(blocks.announcement(other, "U0A", True, None))


def test_with_nobody_to_facilitate_the_channel_is_asked_to_step_in() -> None:
    message = blocks.announcement(MEETUP, None, False, None)
    assert "Nobody is down to facilitate" in text_of(message)
    assert buttons(message) == [("I'll facilitate", RotaAction.STEP_IN, REF)]


def test_the_step_in_request_carries_the_meetup() -> None:
    message = blocks.step_in_request(MEETUP, "U0ALICE", "U0BOB")
    assert buttons(message) == [("I'll step in", RotaAction.STEP_IN, REF)]
    text = text_of(message)
    assert "<@U0BOB>" in text and "<@U0ALICE> is down to facilitate" in text


def test_the_overload_notice_gives_the_numbers() -> None:
    message = blocks.overload_notice("C0PRACTICE", "U0ALICE", 5, 1.5)
    text = text_of(message)
    assert "<@U0ALICE> has now facilitated 5 meetups in <#C0PRACTICE>" in text
    assert "average 1.5" in text
    assert all(isinstance(b, Block) for b in message.blocks)
    dicts(message)


def mark_done_values(message: blocks.Outgoing) -> list[ActionRef]:
    return [
        ActionRef.decode(block["accessory"]["value"])
        for block in dicts(message)
        if block.get("accessory", {}).get("action_id") == ActionsAction.MARK_DONE
    ]


def test_each_open_action_in_the_pack_can_be_marked_done() -> None:
    message = blocks.reminder(MEETUP, "U0ALICE", False, FULL)
    assert mark_done_values(message) == [ActionRef(a=8), ActionRef(a=3, s="meetup")]
    assert "more open action" not in text_of(message)


def many_actions(shown: int, total: int) -> HandoverPack:
    return HandoverPack(
        last=FULL.last,
        actions=tuple(
            OpenAction(f"Action {n}", "U0BOB", None, "Topic", n, "health_check")
            for n in range(shown)
        ),
        waiting=FULL.waiting,
        waiting_total=FULL.waiting_total,
        actions_total=total,
    )


@pytest.mark.parametrize("format_", ["lean_coffee", "chat"])
def test_more_actions_than_fit_are_counted_within_fifty_blocks(format_: str) -> None:
    meetup = blocks.MeetupInfo(3, 42, "C0PRACTICE", STARTS, 60, format_)
    message = blocks.reminder(meetup, "U0ALICE", False, many_actions(40, 57))
    assert len(dicts(message)) <= 50
    shown = mark_done_values(message)
    assert shown == [ActionRef(a=n, s="health_check") for n in range(len(shown))]
    assert len(shown) >= 30
    text = text_of(message)
    assert f"…and {57 - len(shown)} more open actions: each owner sees theirs" in text
    # The rest of the pack is still there after the actions.
    assert "Naming &lt;things&gt;" in text and "Thank you for keeping" in text


def test_actions_that_just_fit_need_no_count() -> None:
    room = blocks.PACK_ROOM - 4  # less last time, the heading, waiting topics and thanks
    message = blocks.reminder(MEETUP, "U0ALICE", False, many_actions(room, room))
    assert len(mark_done_values(message)) == room
    assert "more open action" not in text_of(message)
    one_more = blocks.reminder(MEETUP, "U0ALICE", False, many_actions(room + 1, room + 1))
    assert len(dicts(one_more)) <= 50
    assert "more open action" in text_of(one_more)


def test_meetup_minutes_count_prompts() -> None:
    last = LastMinutes("Chat meetup: Why?", date(2026, 11, 19), "U0CAROL", ("Why?",), 2, 3, 1)
    chat = replace(last, topic_word="prompt")
    pack = replace(FULL, last=chat)
    text = text_of(blocks.reminder(MEETUP, "U0ALICE", False, pack))
    assert "2 prompts discussed: “Why?” and 1 more." in text
    assert "3 takeaways, of which 1 action" in text


CHAT = blocks.MeetupInfo(3, 42, "C0PRACTICE", STARTS, 30, "chat")


def accessories(message: blocks.Outgoing) -> list[tuple[str, str, str]]:
    return [
        (a["text"]["text"], a["action_id"], a["value"])
        for block in dicts(message)
        if (a := block.get("accessory")) and a.get("type") == "button"
    ]


def test_only_a_chat_meetups_reminder_offers_to_choose_the_prompts() -> None:
    for confirmed in (False, True):
        message = blocks.reminder(CHAT, "U0ALICE", confirmed, EMPTY)
        assert accessories(message) == [
            ("Choose the prompts", MeetupPlanAction.CHOOSE_PROMPTS, REF)
        ]
        assert "by itself at the time" in text_of(message)
    for other in ("lean_coffee", "other"):
        info = blocks.MeetupInfo(3, 42, "C0PRACTICE", STARTS, 30, other)
        message = blocks.reminder(info, "U0ALICE", False, EMPTY)
        assert accessories(message) == [] and "Choose the prompts" not in text_of(message)


def test_a_chat_meetups_announcement_says_it_happens_here() -> None:
    for facilitator in ("U0ALICE", None):
        text = text_of(blocks.announcement(CHAT, facilitator, True, None))
        assert "It happens right here, as a time-boxed chat" in text
    assert "right here" not in text_of(blocks.announcement(MEETUP, "U0ALICE", True, None))
