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
    schedule_set_text,
    span_text,
    stats_blocks,
    swap_asked_blocks,
    swap_called_off_text,
    swap_modal,
    swap_request_blocks,
    swap_withdrawn_request_blocks,
    swap_withdrawn_text,
    when,
)
from bot.emulator.blockkit import validate_message, validate_view
from bot.ids import RotaAction, RotaBlock, RotaView, input_action_id
from bot.services.recurrence import Frequency
from bot.services.rota import (
    CalledOff,
    FacilitationStat,
    MeetupFormat,
    PendingSwap,
    ScheduleInput,
    SwapEnd,
    Turn,
)
from bot.state import CommunityRef, MeetupRef, RotaModal, SwapAskedRef, SwapRef

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


def test_the_note_to_the_requester_can_withdraw_the_request() -> None:
    ref = SwapAskedRef(w=42, ch="D0CAROL", ts="1795428000.000100")
    message = as_message(swap_asked_blocks(ref, "UC", NOW))
    assert "I've asked <@UC> by direct message" in dumps(message)
    found = buttons(message["blocks"])
    assert list(found) == ["Withdraw the request"]
    assert found["Withdraw the request"]["action_id"] == RotaAction.WITHDRAW_SWAP
    assert SwapAskedRef.decode(found["Withdraw the request"]["value"]) == ref
    # Without a DM to redraw (it could not be sent) the button still withdraws.
    bare = as_message(swap_asked_blocks(SwapAskedRef(w=7), "UC", NOW))
    decoded = SwapAskedRef.decode(buttons(bare["blocks"])["Withdraw the request"]["value"])
    assert (decoded.w, decoded.ch, decoded.ts) == (7, None, None)


def test_a_withdrawn_request_is_redrawn_without_its_buttons() -> None:
    mine = as_message(swap_withdrawn_request_blocks("UA", "UA", "C1", NOW))
    assert buttons(mine["blocks"]) == {}
    text = dumps(mine)
    assert "<@UA> withdrew this request" in text and "<#C1>" in text
    assert "nothing for you to do" in text
    by_lead = dumps(as_message(swap_withdrawn_request_blocks("UA", "ULEAD", "C1", NOW)))
    assert "<@ULEAD> (a community lead) withdrew this request: <@UA> had asked" in by_lead


def test_withdrawn_words_for_each_person() -> None:
    own = swap_withdrawn_text("UA", "UC", NOW, viewer_id="UA", by_id="UA")
    assert own.startswith("You withdrew your request to <@UC>") and "still yours" in own
    told = swap_withdrawn_text("UA", "UC", NOW, viewer_id="UA", by_id="ULEAD")
    assert told.startswith("<@ULEAD> withdrew your request to <@UC>")
    lead = swap_withdrawn_text("UA", "UC", NOW, viewer_id="ULEAD", by_id="ULEAD")
    assert lead.startswith("You withdrew <@UA>'s request to <@UC>") and "<@UA>'s." in lead


@pytest.mark.parametrize(
    ("reason", "asker_says", "asked_says"),
    [
        (SwapEnd.MEETUP_CANCELLED, "that meetup was cancelled", "that meetup was cancelled"),
        (SwapEnd.SCHEDULE_CHANGED, "no longer on the schedule", "no longer on the schedule"),
        (SwapEnd.TAKEN, "<@UD> is facilitating it now", "<@UD> is facilitating it now"),
        (SwapEnd.NOT_THEIR_TURN, "it isn't your turn any more", "isn't <@UA>'s turn any more"),
    ],
)
def test_called_off_words_say_why_to_both_people(
    reason: SwapEnd, asker_says: str, asked_says: str
) -> None:
    off = CalledOff(
        PendingSwap(1, 10, "UA", "UC", NOW), reason, "UD" if reason == "taken" else None
    )
    asker = swap_called_off_text(off, "C1", for_asker=True)
    asked = swap_called_off_text(off, "C1", for_asker=False)
    assert asker.startswith("Your request to <@UC> to take the meetup on <!date^1795428000^")
    assert asker_says in asker and "I've let them know" in asker
    assert asked.startswith("<@UA>'s request that you facilitate the meetup in <#C1>")
    assert asked_says in asked and "nothing for you to do" in asked


def test_called_off_by_a_move_gives_both_times() -> None:
    later = NOW + timedelta(days=2)
    off = CalledOff(PendingSwap(1, 10, "UA", "UC", later), SwapEnd.MEETUP_MOVED)
    asker = swap_called_off_text(off, "C1", for_asker=True, was_at=NOW)
    asked = swap_called_off_text(off, "C1", for_asker=False, was_at=NOW)
    for text in (asker, asked):
        assert text.index("<!date^1795428000^") < text.index("<!date^1795600800^"), text
        assert "the meetup moved to" in text
    assert "ask them again with `/rota swap`" in asker


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
    assert "/rota lead remove @alex" in text and "/rota lead remove me" in text
    assert "*Withdraw the request*" in text


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


@pytest.mark.parametrize(
    ("dropped", "kept", "words"),
    [
        (0, 5, None),
        (1, 4, "1 coming meetup no longer fits the new schedule and was removed; confirmations"),
        (2, 3, "2 coming meetups no longer fit the new schedule and were removed; confirmations"),
        (1, 0, "The coming meetup no longer fits the new schedule and was removed."),
        (5, 0, "The 5 coming meetups no longer fit the new schedule and were removed."),
    ],
)
def test_a_schedule_change_says_what_became_of_the_coming_meetups(
    dropped: int, kept: int, words: str | None
) -> None:
    text = schedule_set_text("UL", SUMMARY, NOW, changed=True, dropped=dropped, kept=kept)
    assert text.startswith("<@UL> changed the meetup schedule: we meet every Tuesday")
    if words is None:
        assert "no longer" not in text
    else:
        assert words in text
        assert ("for the others are kept" in text) == (kept > 0)
