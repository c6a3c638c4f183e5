"""Chat meetup blocks: within Slack's limits, escaped, and forms read back correctly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.blocks import meetup as blocks
from bot.blocks import meetup_plan as blocks_plan
from bot.blocks.common import MAX_MESSAGE_BLOCKS, FormErrors
from bot.emulator.blockkit import validate_message, validate_view
from bot.ids import MeetupBlock, input_action_id
from bot.services.meetup import (
    Airtime,
    MeetupMinutes,
    MeetupState,
    MinutesPrompt,
    MinutesReply,
    PromptView,
)
from bot.services.meetup_plan import PlanInput, PlanTarget, SavedPlan
from bot.state import ChatMeetupModal, MeetupRef

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_start_form_reads_prompts_length_pace_and_nudges() -> None:
    values = {
        MeetupBlock.PROMPTS: {input_action_id(MeetupBlock.PROMPTS): {"value": "A\n\n B \n"}},
        MeetupBlock.LENGTH: {input_action_id(MeetupBlock.LENGTH): {"value": "45"}},
        MeetupBlock.PACE: {input_action_id(MeetupBlock.PACE): {"value": "5"}},
        MeetupBlock.NUDGES: {
            input_action_id(MeetupBlock.NUDGES): {"selected_options": [{"value": "five"}]}
        },
    }
    options = blocks.parse_start(values)
    assert options.prompts == ("A", "B")
    assert (options.length_minutes, options.pace_minutes) == (45, 5)
    assert (options.nudge_half_time, options.nudge_five_before) == (False, True)


def test_start_form_explains_each_problem_under_its_field() -> None:
    values = {
        MeetupBlock.PROMPTS: {input_action_id(MeetupBlock.PROMPTS): {"value": "  "}},
        MeetupBlock.LENGTH: {input_action_id(MeetupBlock.LENGTH): {"value": "1000"}},
    }
    with pytest.raises(FormErrors) as caught:
        blocks.parse_start(values)
    assert set(caught.value.errors) == {MeetupBlock.PROMPTS, MeetupBlock.LENGTH}


def test_start_modal_defaults_to_thirty_minutes_and_both_nudges() -> None:
    view = blocks.start_modal("C1", "U1", from_rota=True).to_dict()
    text = str(view)
    assert "'initial_value': '30'" in text
    assert "At half-time" in text and "It's their turn on the rota." in text
    assert view["blocks"][-1]["element"]["initial_user"] == "U1"


def _state(status: str = "running") -> MeetupState:
    prompt = PromptView(1, 1, "Why <b> & how?", NOW, "1.1")
    return MeetupState(
        id=7,
        channel_id="C1",
        facilitator_id="U1",
        status=status,
        length_minutes=30,
        pace_minutes=0,
        started_at=NOW,
        ends_at=NOW + timedelta(minutes=30),
        ended_at=None if status == "running" else NOW,
        opening_ts="1.0",
        prompts=(prompt,),
    )


def test_opening_message_has_the_time_box_and_buttons_until_it_ends() -> None:
    running = [b.to_dict() for b in blocks.opening_blocks(_state())]
    assert "<!date^" in str(running) and "(off the record)" in str(running)
    assert [e["text"]["text"] for e in running[-1]["elements"]] == [
        "Post anonymously",
        "Add a takeaway or action",
        "Extend…",
        "End now",
    ]
    assert validate_message("x", running) == []
    ended = [b.to_dict() for b in blocks.opening_blocks(_state("ended"))]
    assert all(b["type"] != "actions" for b in ended)


def test_extend_modal_offers_set_lengths_and_reads_the_choice() -> None:
    view = blocks.extend_modal(ChatMeetupModal(channel="C1", m=7), _state()).to_dict()
    assert validate_view(view) == []
    select = view["blocks"][-1]["element"]
    assert [o["value"] for o in select["options"]] == ["5", "10", "15", "30"]
    assert select["initial_option"]["value"] == "10"
    assert "480" in str(view)
    chosen = {"value": "15"}
    values = {
        MeetupBlock.EXTEND_BY: {input_action_id(MeetupBlock.EXTEND_BY): {"selected_option": chosen}}
    }
    assert blocks.parse_extend(values) == 15
    with pytest.raises(FormErrors) as caught:
        blocks.parse_extend({})
    assert set(caught.value.errors) == {MeetupBlock.EXTEND_BY}


def test_help_is_valid_and_covers_the_meetup() -> None:
    dicts = [b.to_dict() for b in blocks.help_blocks()]
    assert validate_message(blocks.help_text(), dicts) == []
    text = str(dicts)
    for part in ("`/meetup`", "`/meetup help`", "(off the record)", "Extend…", "takeaway"):
        assert part in text


def test_user_text_is_escaped() -> None:
    assert "&lt;b&gt; &amp; how?" in blocks.prompt_text(_state().prompts[0], 1)
    assert blocks.anonymous_post_text("<!channel>") == "_Posted anonymously:_\n&lt;!channel&gt;"


def test_long_minutes_split_into_messages_within_slack_limits() -> None:
    replies = tuple(MinutesReply(author_id=f"U{i}", text="x" * 500) for i in range(400))
    minutes = MeetupMinutes(
        meetup_id=7,
        channel_id="C1",
        title="Chat meetup: big",
        held_on=date(2026, 11, 23),
        started_at=NOW,
        ended_at=NOW,
        facilitator_id="U1",
        participant_ids=("U1",),
        airtime=(Airtime(user_id="U2", replies=400),),
        anonymous_replies=1,
        prompts=(MinutesPrompt(text="big", replies=replies, off_record=2),),
    )
    messages = blocks.minutes_messages(minutes)
    assert len(messages) > 1
    assert all(len(m) <= MAX_MESSAGE_BLOCKS for m in messages)
    dicts = [[b.to_dict() for b in m] for m in messages]
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for m in dicts for b in m)
    assert "Add takeaways and actions" in str(dicts[0])
    assert str(dicts).count("x" * 500) == 400


# --- a rota meetup held as a chat ------------------------------------------------------------


def _plan_target(plan: SavedPlan | None = None) -> PlanTarget:
    return PlanTarget(
        community_id=3,
        meetup_id=42,
        channel_id="C1",
        starts_at=NOW,
        length_minutes=45,
        facilitator_id="U1",
        plan=plan,
    )


def test_the_plan_modal_has_no_length_and_shows_what_was_saved() -> None:
    empty = blocks_plan.plan_modal(_plan_target()).to_dict()
    assert validate_view(empty) == []
    assert MeetupRef.decode(empty["private_metadata"]) == MeetupRef(c=3, m=42)
    ids = [b.get("block_id") for b in empty["blocks"]]
    assert MeetupBlock.PROMPTS in ids and MeetupBlock.LENGTH not in ids
    assert MeetupBlock.FACILITATOR not in ids
    assert "45 min" in str(empty) and "What have you been working on" in str(empty)
    prompts = next(b for b in empty["blocks"] if b.get("block_id") == MeetupBlock.PROMPTS)
    assert "initial_value" not in prompts["element"]

    saved = SavedPlan(("One <b>", "Two"), 10, False, True, "U2", NOW)
    view = blocks_plan.plan_modal(_plan_target(saved)).to_dict()
    assert validate_view(view) == []
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id[MeetupBlock.PROMPTS]["element"]["initial_value"] == "One <b>\nTwo"
    assert by_id[MeetupBlock.PACE]["element"]["initial_value"] == "10"
    assert [o["value"] for o in by_id[MeetupBlock.NUDGES]["element"]["initial_options"]] == ["five"]
    assert "Last saved by <@U2>" in str(view)


def test_the_plan_form_reads_prompts_pace_and_nudges() -> None:
    values = {
        MeetupBlock.PROMPTS: {input_action_id(MeetupBlock.PROMPTS): {"value": " A \n\nB"}},
        MeetupBlock.PACE: {input_action_id(MeetupBlock.PACE): {"value": ""}},
        MeetupBlock.NUDGES: {
            input_action_id(MeetupBlock.NUDGES): {"selected_options": [{"value": "half"}]}
        },
    }
    assert blocks_plan.parse_plan(values) == PlanInput(("A", "B"), 0, True, False)
    values[MeetupBlock.PROMPTS] = {input_action_id(MeetupBlock.PROMPTS): {"value": " "}}
    values[MeetupBlock.PACE] = {input_action_id(MeetupBlock.PACE): {"value": "-2"}}
    with pytest.raises(FormErrors) as caught:
        blocks_plan.parse_plan(values)
    assert set(caught.value.errors) == {MeetupBlock.PROMPTS, MeetupBlock.PACE}


def test_a_rota_meetup_says_whose_turn_it_is_or_who_stands_in() -> None:
    plain_meetup = str([b.to_dict() for b in blocks.opening_blocks(_state())])
    assert "Facilitated by <@U1>" in plain_meetup and "scheduled" not in plain_meetup
    from_rota = replace(_state(), from_rota=True)
    text = str([b.to_dict() for b in blocks.opening_blocks(from_rota)])
    assert "scheduled meetup. Facilitated by <@U1>, whose turn it is" in text
    stand_in = replace(_state(), from_rota=True, stand_in=True)
    text = str([b.to_dict() for b in blocks.opening_blocks(stand_in)])
    assert "Nobody on the rota was free to facilitate, so <@U1>" in text


def test_notes_to_the_facilitator_escape_prompts() -> None:
    saved = SavedPlan(("<!channel> & all",), 0, True, True, "U1", NOW)
    text = blocks_plan.saved_text(_plan_target(saved), saved)
    assert "&lt;!channel&gt; &amp; all" in text and "<!channel>" not in text
    assert "1 prompt (all at the start)" in text
    busy = blocks_plan.busy_text("C1", "U1")
    assert "<@U1>" in busy and "<#C1>" in busy and "already running" in busy


def test_the_minutes_notification_text_is_escaped() -> None:
    minutes = MeetupMinutes(
        meetup_id=7,
        channel_id="C1",
        title="Chat meetup: <!here> & co",
        held_on=date(2026, 11, 23),
        started_at=NOW,
        ended_at=NOW,
        facilitator_id="U1",
        participant_ids=("U1",),
        airtime=(),
        anonymous_replies=0,
        prompts=(),
    )
    assert blocks.minutes_text(minutes) == "Minutes: Chat meetup: &lt;!here&gt; &amp; co"


def test_minutes_say_when_replies_may_be_missing() -> None:
    minutes = MeetupMinutes(
        meetup_id=7,
        channel_id="C1",
        title="Chat meetup: x",
        held_on=date(2026, 11, 23),
        started_at=NOW,
        ended_at=NOW,
        facilitator_id="U1",
        participant_ids=("U1",),
        airtime=(),
        anonymous_replies=0,
        prompts=(MinutesPrompt(text="x", replies=(), off_record=0),),
    )
    complete = [[b.to_dict() for b in m] for m in blocks.minutes_messages(minutes)]
    assert "may be missing" not in str(complete)

    missing = minutes.model_copy(update={"replies_may_be_missing": True})
    messages = [[b.to_dict() for b in m] for m in blocks.minutes_messages(missing)]
    assert "A few replies may be missing" in str(messages[0])
    assert "Add takeaways and actions" in str(messages[0])
    assert all(validate_message(blocks.minutes_text(missing), m) == [] for m in messages)
    # Minutes stored before the note existed read as complete.
    body = minutes.model_dump(mode="json")
    del body["replies_may_be_missing"]
    assert not MeetupMinutes.model_validate(body).replies_may_be_missing
