"""Chat meetup blocks: within Slack's limits, escaped, and forms read back correctly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.blocks import meetup as blocks
from bot.blocks.common import MAX_MESSAGE_BLOCKS, FormErrors
from bot.ids import MeetupBlock, input_action_id
from bot.services.meetup import (
    Airtime,
    MeetupMinutes,
    MeetupState,
    MinutesPrompt,
    MinutesReply,
    PromptView,
)

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
        "Extend by 10 min",
        "End now",
    ]
    ended = [b.to_dict() for b in blocks.opening_blocks(_state("ended"))]
    assert all(b["type"] != "actions" for b in ended)


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
