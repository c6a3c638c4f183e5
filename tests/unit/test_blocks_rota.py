"""The rota's messages and modals: valid Block Kit, within Slack's limits, safe to show."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks.rota import (
    RotaOverview,
    ScheduleSummary,
    away_modal,
    away_text,
    before_text,
    default_schedule,
    help_blocks,
    move_modal,
    overview_blocks,
    overview_text,
    period_text,
    schedule_blocks,
    schedule_modal,
    span_text,
    stats_blocks,
    swap_modal,
    swap_request_blocks,
    when,
)
from bot.emulator.blockkit import validate_message, validate_view
from bot.ids import RotaAction, RotaBlock, RotaView, input_action_id
from bot.services.recurrence import Frequency
from bot.services.rota import FacilitationStat, MeetupFormat, ScheduleInput, Turn
from bot.state import CommunityRef, MeetupRef, RotaModal, SwapRef

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SUMMARY = ScheduleSummary(
    description="every Tuesday at 10:00 (Europe/London)",
    time_zone="Europe/London",
    duration_minutes=60,
    format=MeetupFormat.LEAN_COFFEE,
    reminder_minutes_before=2880,
    announce_minutes_before=60,
)


def turns(count: int = 5, facilitators: tuple[str | None, ...] = ("UA", "UB")) -> list[Turn]:
    return [
        Turn(
            meetup_id=10 + i,
            starts_at=NOW + timedelta(days=1 + 7 * i),
            duration_minutes=60,
            facilitator_id=facilitators[i % len(facilitators)],
            confirmed=i == 0,
            moved=i == 2,
        )
        for i in range(count)
    ]


def make_overview(**kw: Any) -> RotaOverview:
    fields: dict[str, Any] = {
        "community_id": 3,
        "channel_id": "C1",
        "viewer_id": "UA",
        "viewer_is_lead": True,
        "schedule": SUMMARY,
        "turns": turns(),
        "members": ["UA", "UB"],
        "leads": ["UA"],
        "aways": [("UB", date(2026, 12, 1), date(2026, 12, 9))],
    }
    fields.update(kw)
    return RotaOverview(**fields)


def dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def as_message(blocks: list[Block], text: str = "x") -> dict[str, Any]:
    dicts = [b.to_dict() for b in blocks]
    problems = validate_message(text, dicts)
    assert problems == [], problems
    return {"text": text, "blocks": dicts}


def as_view(view: View) -> dict[str, Any]:
    data = view.to_dict()
    problems = validate_view(data)
    assert problems == [], problems
    return data


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for block in blocks:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found[element["text"]["text"]] = element
    return found


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


# --- the overview --------------------------------------------------------------------------


def test_overview_shows_five_meetups_with_slack_dates_and_the_leads_buttons() -> None:
    message = as_message(overview_blocks(make_overview()))
    text = dumps(message)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sum(t.count("<!date^") for t in sections) == 5
    assert "*Facilitating:* <@UA> ✓ confirmed" in text
    assert "moved from its usual time" in text
    found = buttons(message["blocks"])
    assert found["Leave the rota"]["action_id"] == RotaAction.LEAVE
    assert CommunityRef.decode(found["Stats"]["value"]).c == 3
    assert MeetupRef.decode(found["Skip my turn"]["value"]) == MeetupRef(c=3, m=10)
    assert found["Skip my turn"]["confirm"]["confirm"]["text"] == "Skip my turn"
    assert "Edit schedule" in found and "I'll be there" not in found  # already confirmed
    cancels = [
        e
        for b in message["blocks"]
        for e in b.get("elements") or []
        if e.get("action_id") == RotaAction.CANCEL_MEETUP
    ]
    assert [MeetupRef.decode(e["value"]).m for e in cancels] == [10, 11, 12, 13, 14]
    assert all(e["confirm"]["style"] == "danger" for e in cancels)
    assert "Away: <@UB> 1–9 Dec" in text


def test_overview_for_a_member_who_is_not_next_and_not_a_lead() -> None:
    message = as_message(overview_blocks(make_overview(viewer_id="UC", viewer_is_lead=False)))
    found = buttons(message["blocks"])
    assert set(found) == {"Join the rota", "I'm away…", "Stats"}
    assert found["Join the rota"]["style"] == "primary"


def test_overview_with_nobody_and_no_schedule() -> None:
    empty = make_overview(schedule=None, turns=[], members=[], aways=[], viewer_is_lead=False)
    message = as_message(overview_blocks(empty), overview_text(empty))
    text = dumps(message)
    assert "nobody yet — join with `/rota join`" in text
    assert "A community lead can set one with `/rota schedule`" in text
    nobody = make_overview(turns=turns(facilitators=(None,)), members=[])
    assert "_nobody available yet_" in dumps(as_message(overview_blocks(nobody)))


def test_a_huge_rota_stays_within_slacks_limits() -> None:
    people = [f"U{i:09d}" for i in range(2000)]
    overview = make_overview(
        members=people,
        leads=people[:40],
        aways=[(p, date(2026, 12, 1), date(2026, 12, 2)) for p in people[:40]],
        viewer_id=people[0],
    )
    message = as_message(overview_blocks(overview, notice="x" * 5000))
    assert len(message["blocks"]) <= 50
    assert "and 1850 more" in dumps(message)


def test_overview_text_names_the_next_facilitator() -> None:
    assert overview_text(make_overview()).startswith("Next meetup <!date^")
    assert "<@UA>" in overview_text(make_overview())


# --- schedule, modals ------------------------------------------------------------------------


def test_schedule_message_offers_edit_and_delete_to_leads_only() -> None:
    lead = as_message(schedule_blocks(make_overview()))
    found = buttons(lead["blocks"])
    assert set(found) == {"Edit schedule", "Delete schedule"}
    assert found["Delete schedule"]["confirm"]["title"]["text"] == "Delete the schedule?"
    member = as_message(schedule_blocks(make_overview(viewer_is_lead=False)))
    assert buttons(member["blocks"]) == {}
    assert "Only the community's leads (<@UA>)" in dumps(member)


def test_schedule_modal_holds_the_current_values() -> None:
    current = ScheduleInput(
        frequency=Frequency.MONTHLY,
        weekday=3,
        at=time(18, 30),
        time_zone="America/New_York",
        starts_on=date(2026, 12, 1),
        week_of_month=-1,
        duration_minutes=90,
        format=MeetupFormat.CHAT,
        reminder_minutes_before=17,  # not one of the choices: still offered
        announce_minutes_before=0,
    )
    view = as_view(schedule_modal(RotaModal(channel="C1", c=3), current, editing=True))
    assert view["callback_id"] == RotaView.SCHEDULE
    assert RotaModal.decode(view["private_metadata"]) == RotaModal(channel="C1", c=3)
    found = inputs(view)
    assert len(view["blocks"]) <= 100
    element = found[RotaBlock.FREQUENCY]["element"]
    assert element["action_id"] == input_action_id(RotaBlock.FREQUENCY)
    assert element["initial_option"]["value"] == "monthly"
    assert found[RotaBlock.WEEKDAY]["element"]["initial_option"]["text"]["text"] == "Thursday"
    assert found[RotaBlock.WEEK_OF_MONTH]["element"]["initial_option"]["value"] == "-1"
    assert found[RotaBlock.TIME]["element"]["initial_time"] == "18:30"
    assert found[RotaBlock.TIME_ZONE]["element"]["initial_value"] == "America/New_York"
    assert found[RotaBlock.STARTS_ON]["element"]["initial_date"] == "2026-12-01"
    assert found[RotaBlock.DURATION]["element"]["initial_value"] == "90"
    assert found[RotaBlock.FORMAT]["element"]["initial_option"]["value"] == "chat"
    reminder = found[RotaBlock.REMINDER]["element"]
    assert reminder["initial_option"]["value"] == "17"
    assert len(reminder["options"]) <= 100
    assert found[RotaBlock.ANNOUNCE]["element"]["initial_option"]["text"]["text"] == (
        "When it starts"
    )


def test_default_schedule_suggests_the_setters_zone() -> None:
    view = as_view(
        schedule_modal(
            RotaModal(channel="C1", c=1),
            default_schedule("Asia/Singapore", date(2026, 11, 23)),
            editing=False,
        )
    )
    found = inputs(view)
    assert found[RotaBlock.TIME_ZONE]["element"]["initial_value"] == "Asia/Singapore"
    assert found[RotaBlock.REMINDER]["element"]["initial_option"]["text"]["text"] == (
        "2 days before"
    )
    assert found[RotaBlock.ANNOUNCE]["element"]["initial_option"]["text"]["text"] == (
        "1 hour before"
    )


def test_move_modal_works_in_the_schedules_time_zone() -> None:
    meta = RotaModal(channel="C1", c=3, m=12)
    view = as_view(move_modal(meta, datetime(2026, 7, 7, 9, 0, tzinfo=UTC), "Europe/London"))
    found = inputs(view)
    assert found[RotaBlock.MOVE_DATE]["element"]["initial_date"] == "2026-07-07"
    timepicker = found[RotaBlock.MOVE_TIME]["element"]
    assert timepicker["initial_time"] == "10:00"  # British Summer Time
    assert timepicker["timezone"] == "Europe/London"
    assert RotaModal.decode(view["private_metadata"]).m == 12


def test_away_and_swap_modals() -> None:
    meta = RotaModal(channel="C1", c=3)
    away = inputs(as_view(away_modal(meta, "UB", date(2026, 11, 23))))
    assert away[RotaBlock.AWAY_WHO]["element"]["initial_user"] == "UB"
    assert away[RotaBlock.AWAY_TO]["optional"] is True
    swap = as_view(swap_modal(RotaModal(channel="C1", c=3, m=10), NOW))
    assert swap["callback_id"] == RotaView.SWAP
    assert inputs(swap)[RotaBlock.SWAP_WITH]["element"]["type"] == "users_select"


def test_swap_request_carries_the_swap() -> None:
    message = as_message(swap_request_blocks(42, "UA", "C1", NOW))
    found = buttons(message["blocks"])
    assert SwapRef.decode(found["Accept"]["value"]).w == 42
    assert found["Decline"]["action_id"] == RotaAction.DECLINE_SWAP
    assert "<#C1>" in dumps(message) and "<@UA>" in dumps(message)


# --- stats, help, words ------------------------------------------------------------------------


def test_stats_flag_the_overloaded_and_stay_within_limits() -> None:
    rows = [FacilitationStat("UA", 9, NOW)] + [
        FacilitationStat(f"U{i:09d}", 1, None) for i in range(1000)
    ]
    message = as_message(stats_blocks(rows, ["UA"]))
    assert len(message["blocks"]) <= 50
    text = dumps(message)
    assert "<@UA>: 9 times, last on <!date^" in text
    assert text.count("_more than their share_") == 1
    assert "Nobody is in the rota yet" in dumps(as_message(stats_blocks([], [])))


def test_help_is_valid_and_covers_every_command() -> None:
    text = dumps(as_message(help_blocks()))
    for command in ("/rota join", "/rota skip", "/rota swap", "/rota away", "/rota stats"):
        assert command in text
    for command in ("/rota schedule", "/rota add", "/rota remove", "/rota lead", "/rota help"):
        assert command in text


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "when it starts"),
        (60, "1 hour before"),
        (2880, "2 days before"),
        (90, "1 h 30 min before"),
    ],
)
def test_before_text(minutes: int, words: str) -> None:
    assert before_text(minutes) == words


def test_small_words() -> None:
    assert span_text(15) == "15 min"
    assert period_text(date(2026, 12, 28), date(2027, 1, 3)) == "28 Dec – 3 Jan"
    assert period_text(date(2026, 12, 1), date(2026, 12, 1)) == "1 Dec"
    assert when(NOW).startswith("<!date^1795428000^")
    assert "You're away Tue 1 Dec 2026 to" in away_text(
        "UA", "UA", date(2026, 12, 1), date(2026, 12, 2)
    )
    assert "<@UB> is away" in away_text("UB", "UA", date(2026, 12, 1), date(2026, 12, 1))
