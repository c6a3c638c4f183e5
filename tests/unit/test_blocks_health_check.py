"""Health-check messages and modals: valid Block Kit, within Slack's limits, safe to show,
and never carrying anyone's answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks.common import MAX_MESSAGE_BLOCKS, MAX_MODAL_BLOCKS
from bot.blocks.health_check import (
    SetupOverview,
    help_blocks,
    history_blocks,
    poll_blocks,
    privacy_text,
    question_blocks,
    receipt_text,
    results_blocks,
    schedule_blocks,
    sparkline,
    trend_words,
)
from bot.blocks.health_check_setup import question_modal, schedule_modal, setup_modal
from bot.emulator.blockkit import validate_message, validate_view
from bot.ids import HealthAction
from bot.services.health_check_scores import distribution
from bot.services.health_check_types import (
    DEFAULT_QUESTIONS,
    DEFAULT_SCALE,
    MAX_QUESTIONS,
    QUESTION_TEXT_MAX,
    QUESTION_TITLE_MAX,
    CheckResults,
    CheckView,
    History,
    HistoryPoint,
    Question,
    QuestionHistory,
    QuestionResult,
    SetupView,
    Trend,
)
from bot.services.recurrence import Cadence, Frequency
from bot.state import AnswerRef, HealthModal

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NASTY = "<!channel> & <@U1> *bold*"


def check(questions: tuple[Question, ...] = DEFAULT_QUESTIONS, **changes: object) -> CheckView:
    view = CheckView(
        id=7,
        team_id="T1",
        community_id=3,
        channel_id="C1",
        occurrence=None,
        setup_revision=1,
        questions=questions,
        scale=DEFAULT_SCALE,
        anonymous=True,
        min_answers=3,
        reminders=1,
        started_by_id="UA",
        opened_at=NOW,
        closes_at=NOW + timedelta(days=2),
        closed_at=None,
        closed_by_id=None,
        message_ts="1.2",
        results_ts=None,
    )
    return replace(view, **changes)  # type: ignore[arg-type]


def longest_questions(count: int = MAX_QUESTIONS) -> tuple[Question, ...]:
    return tuple(
        Question(
            key=f"q_{i:08x}",
            title=("T" * (QUESTION_TITLE_MAX - 3)) + f"{i:03d}",
            best="b" * QUESTION_TEXT_MAX,
            worst="w" * QUESTION_TEXT_MAX,
        )
        for i in range(count)
    )


def setup(**changes: object) -> SetupView:
    view = SetupView(
        community_id=3,
        channel_id="C1",
        questions=DEFAULT_QUESTIONS,
        scale=DEFAULT_SCALE,
        cadence=None,
        open_hours=48,
        anonymous=True,
        reminders=1,
        min_answers=3,
        revision=0,
        saved=False,
    )
    return replace(view, **changes)  # type: ignore[arg-type]


def valid_message(blocks: list[Block]) -> list[dict]:
    dicts = [b.to_dict() for b in blocks]
    assert validate_message("text", dicts) == []
    assert len(dicts) <= MAX_MESSAGE_BLOCKS
    return dicts


def valid_view(view: View) -> dict:
    data = view.to_dict()
    assert validate_view(data) == []
    assert len(data["blocks"]) <= MAX_MODAL_BLOCKS
    return data


def result(key: str, counts: dict[str, int], **changes: object) -> QuestionResult:
    base = QuestionResult(
        key=key,
        title=key.title(),
        position=0,
        answers=sum(counts.values()),
        shown=True,
        distribution=distribution(counts, DEFAULT_SCALE),
        score=50.0,
        disagreement=10.0,
        previous_score=None,
        trend=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def results(questions: tuple[QuestionResult, ...], **changes: object) -> CheckResults:
    base = CheckResults(
        check_id=7,
        community_id=3,
        channel_id="C1",
        anonymous=True,
        opened_at=NOW,
        closed_at=NOW + timedelta(days=2),
        closed_by_id=None,
        respondents=4,
        members=8,
        min_answers=3,
        below_minimum=False,
        scale=DEFAULT_SCALE,
        questions=questions,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- the poll ------------------------------------------------------------------------------------


def test_a_full_poll_of_the_longest_questions_fits_one_message() -> None:
    dicts = valid_message(poll_blocks(check(longest_questions()), respondents=12))
    assert len(dicts) == 2 * MAX_QUESTIONS + 4


def test_question_blocks_carry_an_answer_ref_per_button_with_unique_ids() -> None:
    dicts = [b.to_dict() for b in question_blocks(check())]
    assert len(dicts) == 2 * len(DEFAULT_QUESTIONS)
    rows = [d for d in dicts if d["type"] == "actions"]
    assert len({d["block_id"] for d in rows}) == len(DEFAULT_QUESTIONS)
    first = rows[0]["elements"]
    assert [e["action_id"] for e in first] == [
        f"{HealthAction.ANSWER}.{o.key}" for o in DEFAULT_SCALE
    ]
    assert [AnswerRef.decode(e["value"]) for e in first] == [
        AnswerRef(k=7, q="value", o=o.key) for o in DEFAULT_SCALE
    ]
    assert first[0]["text"]["text"] == ":large_green_circle: Going well"
    assert "_At its best:_" in dicts[0]["text"]["text"]


def test_poll_says_who_can_see_what_and_escapes_user_text() -> None:
    nasty = (Question(key="x", title=NASTY, best=NASTY, worst=""),)
    text = str(valid_message(poll_blocks(check(nasty), respondents=1)))
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;@U1&gt;" in text
    assert "1 person has answered" in text
    assert "destroys the key when it closes" in privacy_text(True, 3)
    assert "at least 5 people" in privacy_text(True, 5)
    named = privacy_text(False, 3)
    assert "not anonymous" in named and "who answered what" in named


def test_a_closed_poll_has_no_buttons() -> None:
    closed = check(closed_at=NOW + timedelta(hours=5), closed_by_id="UB")
    dicts = valid_message(poll_blocks(closed, respondents=4))
    assert not any(d["type"] == "actions" for d in dicts)
    assert "closed early by <@UB>" in str(dicts)


def test_receipts() -> None:
    green, amber = DEFAULT_SCALE[0], DEFAULT_SCALE[1]
    first = receipt_text("Fun & <games>", green, None, 1, 8, True)
    assert "You answered :large_green_circle: Going well to *Fun &amp; &lt;games&gt;*" in first
    assert "7 questions to go" in first and "stored anonymously" in first
    changed = receipt_text("Fun", amber, green, 8, 8, False)
    assert "from :large_green_circle: Going well to :large_yellow_circle: Mixed" in changed
    assert "every question" in changed and "anonymously" not in changed


# --- results and history -------------------------------------------------------------------------


def test_results_show_distribution_score_trend_and_response_rate() -> None:
    shown = (
        result("learning", {"green": 2, "red": 2}, score=50.0, disagreement=50.0),
        result(
            "fun",
            {"green": 4},
            score=100.0,
            disagreement=0.0,
            previous_score=75.0,
            trend=Trend.UP,
        ),
        result("purpose", {"green": 1}, shown=False, score=None, disagreement=None),
    )
    text = str(valid_message(results_blocks(results(shown, closed_by_id="UA"))))
    assert "4 people answered, 50% of the channel's 8 members" in text
    assert "closed early by <@UA>" in text
    assert text.index("*Learning*") < text.index("*Fun*") < text.index("*Purpose*")
    assert "score *50*/100" in text and "views are split" in text
    assert ":red_circle: Needs attention *2*" in text
    assert "↑ up from 75" in text
    assert "1 answer, too few to show" in text


def test_below_the_minimum_only_the_count() -> None:
    below = results((result("fun", {"green": 2}),), respondents=2, below_minimum=True)
    text = str(valid_message(results_blocks(below)))
    assert "2 people answered" in text and "fewer than the 3 answers" in text
    assert "score" not in text and "Going well" not in text.split("Scores run")[0]


def test_results_of_twenty_long_questions_fit_one_message() -> None:
    many = tuple(result(q.key, {"green": 3, "red": 1}, title=q.title) for q in longest_questions())
    valid_message(results_blocks(results(many)))


@pytest.mark.parametrize(
    ("trend", "previous", "words"),
    [
        (Trend.UP, 40.0, "↑ up from 40"),
        (Trend.LEVEL, 55.0, "→ level (55 last time)"),
        (Trend.DOWN, 80.0, "↓ down from 80"),
        (None, None, ""),
    ],
)
def test_trend_words(trend: Trend | None, previous: float | None, words: str) -> None:
    assert trend_words(result("x", {}, trend=trend, previous_score=previous)) == words


def test_sparkline_uses_the_fixed_scale() -> None:
    assert sparkline([0.0, 50.0, 100.0]) == "▁▅█"
    assert sparkline([None, 14.3, 85.7]) == "·▂▇"
    assert sparkline([]) == ""


def test_history_blocks() -> None:
    history = History(
        checks=tuple(
            HistoryPoint(check_id=i, closed_at=NOW + timedelta(days=28 * i), respondents=3 + i)
            for i in range(3)
        ),
        questions=(QuestionHistory(key="fun", title="Fun & games", scores=(50.0, None, 100.0)),),
    )
    text = str(valid_message(history_blocks(history)))
    assert "`▅·█` *Fun &amp; games*: 50 → – → 100" in text
    assert "Trend over the last 3 checks" in text
    assert history_blocks(History(checks=(), questions=())) == []


# --- schedule, set-up and help -------------------------------------------------------------------

MONTHLY = Cadence(
    frequency=Frequency.MONTHLY,
    weekday=0,
    at=time(9, 30),
    time_zone="Europe/London",
    anchor=date(2026, 11, 1),
    week_of_month=-1,
)


def test_schedule_for_leads_and_others() -> None:
    lead = str(valid_message(schedule_blocks(SetupOverview(setup(cadence=MONTHLY), True, ("UA",)))))
    assert "The last Monday of each month at 09:30" in lead
    assert "Delete schedule" in lead and "Run a check now" in lead
    other = str(valid_message(schedule_blocks(SetupOverview(setup(), False, ("UA",)))))
    assert "Edit schedule" not in other and "<@UA>" in other
    assert "Not on a schedule" in other


def test_set_up_modal_of_twenty_long_questions_fits() -> None:
    meta = HealthModal(channel="C1", c=3)
    data = valid_view(setup_modal(meta, setup(questions=longest_questions()), "Europe/London"))
    text = str(data)
    assert "Add a question" not in text  # full
    menus = [b["accessory"] for b in data["blocks"] if b.get("accessory")]
    assert len(menus) == MAX_QUESTIONS
    labels = [[o["text"]["text"] for o in m["options"]] for m in menus]
    assert labels[0] == ["Edit", "Remove", "Move down"]
    assert labels[-1] == ["Edit", "Remove", "Move up"]


def test_set_up_modal_starts_from_the_setup() -> None:
    meta = HealthModal(channel="C1", c=3)
    data = valid_view(setup_modal(meta, setup(cadence=MONTHLY, anonymous=False), "Asia/Tokyo"))
    assert "Add a question" in str(data)
    inputs = {b["block_id"]: b["element"] for b in data["blocks"] if b["type"] == "input"}
    assert inputs["health_check.frequency"]["initial_option"]["value"] == "monthly"
    assert inputs["health_check.week_of_month"]["initial_option"]["value"] == "-1"
    assert inputs["health_check.time"]["initial_time"] == "09:30"
    assert inputs["health_check.time_zone"]["initial_value"] == "Europe/London"
    assert inputs["health_check.anonymous"]["initial_option"]["value"] == "named"
    assert inputs["health_check.scale.1"]["initial_value"] == "Mixed"
    assert inputs["health_check.open_hours"]["initial_option"]["value"] == "48"
    # Without a schedule: a new set-up suggests monthly, a saved one stays by hand.
    fresh = valid_view(setup_modal(meta, setup(), "Asia/Tokyo"))
    saved = valid_view(setup_modal(meta, setup(saved=True), "Asia/Tokyo"))
    pick = {b["block_id"]: b["element"] for b in fresh["blocks"] if b["type"] == "input"}
    assert pick["health_check.frequency"]["initial_option"]["value"] == "monthly"
    assert pick["health_check.time_zone"]["initial_value"] == "Asia/Tokyo"
    pick = {b["block_id"]: b["element"] for b in saved["blocks"] if b["type"] == "input"}
    assert pick["health_check.frequency"]["initial_option"]["value"] == "manual"


def test_question_and_schedule_modals() -> None:
    meta = HealthModal(channel="C1", c=3, q="value")
    data = valid_view(question_modal(meta, DEFAULT_QUESTIONS[0]))
    assert data["title"]["text"] == "Edit question"
    assert HealthModal.decode(data["private_metadata"]) == meta
    assert valid_view(question_modal(meta, None))["title"]["text"] == "Add a question"
    valid_view(schedule_modal(HealthModal(channel="C1", c=3), MONTHLY, "UTC"))


def test_help() -> None:
    text = str(valid_message(help_blocks()))
    for command in ("now", "schedule", "results"):
        assert f"/health-check {command}" in text
