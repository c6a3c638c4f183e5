"""The health-check reminder DM: valid Block Kit, the answer buttons, "Don't remind me", and
user text made safe."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks import health_check_reminders as blocks
from bot.emulator.blockkit import validate_message
from bot.ids import HealthAction
from bot.services.health_check_types import (
    DEFAULT_QUESTIONS,
    DEFAULT_SCALE,
    MAX_QUESTIONS,
    CheckView,
    Question,
)
from bot.state import AnswerRef, CommunityRef

OPENED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CHECK = CheckView(
    id=42,
    team_id="T1",
    community_id=7,
    channel_id="C0PRACTICE",
    occurrence=OPENED,
    setup_revision=3,
    questions=DEFAULT_QUESTIONS,
    scale=DEFAULT_SCALE,
    anonymous=True,
    min_answers=3,
    reminders=1,
    started_by_id=None,
    opened_at=OPENED,
    closes_at=OPENED + timedelta(days=2),
    closed_at=None,
    closed_by_id=None,
    message_ts="1.2",
    results_ts=None,
)


def dicts(message: blocks.Outgoing) -> list[dict[str, Any]]:
    result = [b.to_dict() for b in message.blocks]
    assert validate_message(message.text, result) == []
    assert len(result) <= 50
    return result


def buttons(result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in result for e in b.get("elements", []) if e.get("type") == "button"]


def test_the_reminder_carries_every_question_with_its_answer_buttons() -> None:
    result = dicts(blocks.reminder(CHECK))
    answers = [b for b in buttons(result) if b["action_id"].startswith(HealthAction.ANSWER)]
    assert len(answers) == len(DEFAULT_QUESTIONS) * len(DEFAULT_SCALE)
    refs = [AnswerRef.decode(b["value"]) for b in answers]
    assert {r.k for r in refs} == {42}
    assert {r.q for r in refs} == {q.key for q in DEFAULT_QUESTIONS}


def test_dont_remind_me_points_at_the_community() -> None:
    [stop] = [
        b for b in buttons(dicts(blocks.reminder(CHECK))) if b["text"]["text"] == "Don't remind me"
    ]
    assert stop["action_id"] == HealthAction.STOP_REMINDERS
    assert CommunityRef.decode(stop["value"]) == CommunityRef(c=7)


def test_it_says_where_it_is_from_until_when_and_who_can_see_answers() -> None:
    message = blocks.reminder(CHECK)
    text = json.dumps(dicts(message))
    assert "<#C0PRACTICE>" in message.text and "<#C0PRACTICE>" in text
    assert f"<!date^{int(CHECK.closes_at.timestamp())}^" in text
    assert "anonymous" in text
    named = json.dumps(dicts(blocks.reminder(replace(CHECK, anonymous=False))))
    assert "not anonymous" in named


def test_a_check_started_by_a_lead_names_them() -> None:
    text = json.dumps(dicts(blocks.reminder(replace(CHECK, started_by_id="U0ALICE"))))
    assert "<@U0ALICE> started a health check" in text


def test_user_text_is_escaped() -> None:
    sneaky = Question(key="q_1", title="<!channel> & friends", best="<b>", worst="")
    text = json.dumps(dicts(blocks.reminder(replace(CHECK, questions=(sneaky,)))))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; friends" in text


def test_the_most_questions_still_fit_in_one_message() -> None:
    many = tuple(
        Question(key=f"q_{i}", title=f"Question {i}", best="best", worst="worst")
        for i in range(MAX_QUESTIONS)
    )
    result = dicts(blocks.reminder(replace(CHECK, questions=many)))
    assert "Question 19" in json.dumps(result)


def test_the_confirmation_names_the_channel() -> None:
    assert "<#C0PRACTICE>" in blocks.stopped_text("C0PRACTICE")
