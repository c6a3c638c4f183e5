"""Lean Coffee's messages and modals: valid Block Kit, within Slack's limits, safe to show."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks.lean_coffee import (
    ALL_TOPICS_PER_PAGE,
    all_topics_modal,
    all_topics_page_count,
    board_blocks,
    board_text,
    hand_over_modal,
    help_blocks,
    history_blocks,
    keep_going_blocks,
    keep_going_text,
    merge_modal,
    minutes_messages,
    minutes_text,
    no_session_text,
    propose_modal,
    start_modal,
    takeaway_modal,
    vote_receipt_text,
)
from bot.ids import (
    LeanCoffeeAction,
    LeanCoffeeBlock,
    LeanCoffeeTopicMenu,
    LeanCoffeeView,
    input_action_id,
)
from bot.services.lean_coffee_types import BoardView as Board
from bot.services.lean_coffee_types import (
    HistoryEntry,
    KeepGoingView,
    LeanCoffeeMinutes,
    MinutesAction,
    MinutesTakeaway,
    MinutesTopic,
    PollOutcome,
    SessionStatus,
    TakeawayView,
    TopicState,
    TopicView,
    VoteReceipt,
)
from bot.state import LeanCoffeeModal, PollRef, SessionRef, TopicMenuChoice, TopicRef

NOW = datetime(2024, 6, 14, 9, 0, tzinfo=UTC)
PING = "<!channel> hi & bye"
PING_ESCAPED = "&lt;!channel&gt; hi &amp; bye"


# --- factories -----------------------------------------------------------------------------


def make_takeaway(
    i: int = 1, *, text: str = "We agreed to try pairing.", **kw: Any
) -> TakeawayView:
    return TakeawayView(id=i, text=text, author_id="UAUTHOR", **kw)


def make_topic(i: int = 1, **kw: Any) -> TopicView:
    fields: dict[str, Any] = {
        "id": i,
        "title": f"Topic {i}",
        "detail": None,
        "proposer_id": f"UPROP{i}",
        "votes": i % 5,
        "state": TopicState.OPEN,
    }
    fields.update(kw)
    return TopicView(**fields)


def big_topic(i: int, **kw: Any) -> TopicView:
    """A topic at every limit, full of characters that need escaping."""
    return make_topic(
        i,
        title=(f"{i} {PING} " + "<&>" * 50)[:150],
        detail="&<>" * 333 + "d",
        votes=i % 13,
        carried_over=i % 7 == 0,
        takeaways=tuple(
            make_takeaway(
                j,
                text="&" * 999 + "t",
                is_action=j % 2 == 0,
                owner_id="UOWN",
                due_date=date(2024, 7, 1),
            )
            for j in range(10)
        ),
        **kw,
    )


def make_board(status: SessionStatus = SessionStatus.COLLECTING, **kw: Any) -> Board:
    fields: dict[str, Any] = {
        "session_id": 7,
        "channel_id": "C1",
        "title": "Team Lean Coffee",
        "facilitator_id": "UFAC",
        "status": status,
        "votes_per_person": 3,
        "timebox_minutes": 7,
        "extension_minutes": (4, 2),
        "anonymous_topics": False,
        "started_at": NOW,
        "ended_at": NOW + timedelta(hours=1) if status is SessionStatus.ENDED else None,
        "to_discuss": tuple(make_topic(i) for i in range(1, 4)),
        "discussing": None,
        "discussed": (),
        "participant_count": 5,
        "next_extension_minutes": None,
    }
    fields.update(kw)
    return Board(**fields)


def discussing_board(**kw: Any) -> Board:
    current = make_topic(
        10,
        title="How do we onboard?",
        state=TopicState.DISCUSSING,
        discussion_started_at=NOW,
        discussion_ends_at=NOW + timedelta(minutes=7),
        extensions_used=1,
        takeaways=(make_takeaway(1), make_takeaway(2, is_action=True, owner_id="UOWN")),
    )
    fields: dict[str, Any] = {"discussing": current, "next_extension_minutes": 4}
    fields.update(kw)
    return make_board(SessionStatus.DISCUSSING, **fields)


def stress_board(status: SessionStatus) -> Board:
    """60 waiting topics, 40 discussed ones and a topic with 30 long takeaways."""
    return make_board(
        status,
        title="T&" * 50,
        to_discuss=tuple(big_topic(i) for i in range(1, 61)),
        discussing=replace(big_topic(99), takeaways=big_topic(99).takeaways * 3)
        if status is SessionStatus.DISCUSSING
        else None,
        discussed=tuple(replace(big_topic(i), state=TopicState.DISCUSSED) for i in range(100, 140)),
        next_extension_minutes=4,
        participant_count=250,
    )


def make_poll(**kw: Any) -> KeepGoingView:
    fields: dict[str, Any] = {
        "poll_id": 3,
        "session_id": 7,
        "topic_id": 10,
        "topic_title": "How do we onboard?",
        "round": 0,
        "keep_going": 2,
        "either_way": 1,
        "move_on": 0,
        "decides_at": NOW + timedelta(minutes=1),
        "outcome": None,
        "extension_minutes": 4,
    }
    fields.update(kw)
    return KeepGoingView(**fields)


def make_minutes(
    *, topics: int = 2, takeaways: int = 2, people: int = 4, text: str = "Learned a lot"
) -> LeanCoffeeMinutes:
    return LeanCoffeeMinutes(
        session_id=7,
        channel_id="C1",
        title="Team Lean Coffee",
        held_on=date(2024, 6, 14),
        started_at=NOW,
        ended_at=NOW + timedelta(minutes=55),
        facilitator_id="UFAC",
        participant_ids=tuple(f"U{i:08d}" for i in range(people)),
        discussed=tuple(
            MinutesTopic(
                title=f"Topic {i} {PING}",
                votes=i,
                seconds_spent=11 * 60,
                takeaways=tuple(
                    MinutesTakeaway(
                        text=f"{text} #{i}.{j}",
                        author_id="UA",
                        is_action=j == 0,
                        owner_id="UOWN" if j == 0 else None,
                        due_date=date(2024, 7, 1) if j == 0 else None,
                    )
                    for j in range(takeaways)
                ),
            )
            for i in range(topics)
        ),
        actions=tuple(
            MinutesAction(
                text=f"Write it up {i}",
                topic_title=f"Topic {i}",
                owner_id="UOWN",
                due_date=date(2024, 7, 1),
            )
            for i in range(topics)
        ),
        carried_over=("Left over & waiting",),
    )


# --- helpers to look inside -------------------------------------------------------------------


def as_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]  # to_dict() runs slack_sdk's validation


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def elements_of_type(blocks: Any, kind: str) -> list[dict[str, Any]]:
    return [n for n in walk(blocks) if n.get("type") == kind]


def buttons(blocks: Any, action: LeanCoffeeAction | None = None) -> list[dict[str, Any]]:
    found = elements_of_type(blocks, "button")
    return [b for b in found if action is None or b["action_id"] == action]


def texts(blocks: Any) -> str:
    return "\n".join(n["text"] for n in walk(blocks) if isinstance(n.get("text"), str))


def mrkdwn_texts(blocks: Any) -> str:
    """Only mrkdwn is parsed for mentions; plain_text (headers, buttons) never pings."""
    return "\n".join(n["text"] for n in walk(blocks) if n.get("type") == "mrkdwn")


def plain_texts(blocks: Any) -> str:
    return "\n".join(n["text"] for n in walk(blocks) if n.get("type") == "plain_text")


def assert_message_limits(dicts: list[dict[str, Any]]) -> None:
    assert 0 < len(dicts) <= 50
    assert_block_limits(dicts)


def assert_block_limits(dicts: Any) -> None:
    for block in dicts:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    for b in buttons(dicts):
        assert len(b["text"]["text"]) <= 75
        assert len(b.get("value", "")) <= 2000
    for node in walk(dicts):
        if node.get("type") in ("mrkdwn", "plain_text"):
            assert 0 < len(node["text"]) <= 3000


def assert_modal_limits(view: View) -> dict[str, Any]:
    d = view.to_dict()
    assert 0 < len(d["blocks"]) <= 100
    assert len(d["title"]["text"]) <= 24
    for key in ("submit", "close"):
        if key in d:
            assert len(d[key]["text"]) <= 24
    assert len(d.get("private_metadata", "")) <= 3000
    assert_block_limits(d["blocks"])
    return d


# --- the board --------------------------------------------------------------------------------


def test_collecting_board_has_vote_buttons_for_each_topic() -> None:
    board = make_board()
    dicts = as_dicts(board_blocks(board))
    assert_message_limits(dicts)
    assert dicts[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Team Lean Coffee", "emoji": True},
    }
    votes = buttons(dicts, LeanCoffeeAction.VOTE)
    unvotes = buttons(dicts, LeanCoffeeAction.UNVOTE)
    assert [b["text"]["text"] for b in votes] == ["Vote"] * 3
    assert [b["text"]["text"] for b in unvotes] == ["Remove my vote"] * 3
    assert [TopicRef.decode(b["value"]) for b in votes] == [TopicRef(s=7, t=t) for t in (1, 2, 3)]
    assert [TopicRef.decode(b["value"]) for b in unvotes] == [TopicRef(s=7, t=t) for t in (1, 2, 3)]


def test_collecting_board_topic_menu_offers_every_choice() -> None:
    dicts = as_dicts(board_blocks(make_board()))
    menus = elements_of_type(dicts, "overflow")
    assert len(menus) == 3
    for topic_id, menu in zip((1, 2, 3), menus, strict=True):
        assert menu["action_id"] == LeanCoffeeAction.TOPIC_MENU
        choices = [TopicMenuChoice.decode(o["value"]) for o in menu["options"]]
        assert [c.do for c in choices] == list(LeanCoffeeTopicMenu)
        assert {(c.s, c.t) for c in choices} == {(7, topic_id)}
        assert [o["text"]["text"] for o in menu["options"]] == [
            "Edit",
            "Withdraw",
            "Merge into…",
            "Add a takeaway",
        ]


def test_collecting_board_shows_votes_proposer_and_carry_over() -> None:
    board = make_board(
        to_discuss=(make_topic(1, votes=3, detail="Some background", carried_over=True),)
    )
    text = texts(as_dicts(board_blocks(board)))
    assert "●●● 3 votes" in text
    assert "from <@UPROP1>" in text
    assert "Some background" in text
    assert "carried over" in text
    assert "<@UFAC>" in text
    assert "3 dots each" in text


def test_anonymous_board_hides_who_proposed() -> None:
    board = make_board(anonymous_topics=True)
    assert "UPROP" not in json.dumps(as_dicts(board_blocks(board)))


def test_user_text_is_escaped_and_pings_nobody() -> None:
    topic = make_topic(1, title=PING, detail=PING)
    board = make_board(title="Coffee <!here>", to_discuss=(topic,))
    for dicts in (as_dicts(board_blocks(board)), assert_modal_limits(all_topics_modal(board))):
        shown = mrkdwn_texts(dicts)
        assert "<!channel>" not in shown
        assert "<!here>" not in shown
        assert PING_ESCAPED in shown
        assert "&lt;!here&gt;" in shown or "Coffee <!here>" in plain_texts(dicts)
    assert "<!" not in board_text(board)


def test_collecting_board_footer_has_facilitator_controls() -> None:
    dicts = as_dicts(board_blocks(make_board()))
    propose = buttons(dicts, LeanCoffeeAction.PROPOSE)
    close = buttons(dicts, LeanCoffeeAction.CLOSE_VOTING)
    end = buttons(dicts, LeanCoffeeAction.END_SESSION)
    assert [b["text"]["text"] for b in propose] == ["Propose a topic"]
    assert [b["text"]["text"] for b in close] == ["Close voting"]
    assert [b["text"]["text"] for b in buttons(dicts, LeanCoffeeAction.HAND_OVER)] == ["Hand over"]
    assert [b["text"]["text"] for b in end] == ["End session"]
    assert "confirm" in end[0]
    assert end[0]["style"] == "danger"
    assert not buttons(dicts, LeanCoffeeAction.START_NEXT)
    for b in (*propose, *close, *end):
        assert SessionRef.decode(b["value"]) == SessionRef(s=7)
    styled = [b for b in buttons(dicts) if b.get("style")]
    assert len(styled) <= 2


def test_empty_collecting_board_invites_the_first_topic() -> None:
    dicts = as_dicts(board_blocks(make_board(to_discuss=())))
    assert_message_limits(dicts)
    assert "Be the first" in texts(dicts)
    assert not buttons(dicts, LeanCoffeeAction.SHOW_ALL_TOPICS)


def test_board_with_many_topics_stays_within_fifty_blocks_and_offers_see_all() -> None:
    board = make_board(to_discuss=tuple(big_topic(i) for i in range(1, 61)))
    dicts = as_dicts(board_blocks(board))
    assert_message_limits(dicts)
    see_all = buttons(dicts, LeanCoffeeAction.SHOW_ALL_TOPICS)
    assert [b["text"]["text"] for b in see_all] == ["See all 60 topics"]
    assert SessionRef.decode(see_all[0]["value"]) == SessionRef(s=7)
    shown = [TopicRef.decode(b["value"]).t for b in buttons(dicts, LeanCoffeeAction.VOTE)]
    assert shown == list(range(1, len(shown) + 1))
    assert len(shown) >= 15


def test_forty_topics_fit_only_with_see_all() -> None:
    board = make_board(to_discuss=tuple(make_topic(i) for i in range(1, 41)))
    dicts = as_dicts(board_blocks(board))
    assert len(dicts) <= 50
    assert buttons(dicts, LeanCoffeeAction.SHOW_ALL_TOPICS)


def test_max_topics_on_board_caps_the_list() -> None:
    board = make_board(to_discuss=tuple(make_topic(i) for i in range(1, 11)))
    dicts = as_dicts(board_blocks(board, max_topics_on_board=4))
    assert len(buttons(dicts, LeanCoffeeAction.VOTE)) == 4
    assert [b["text"]["text"] for b in buttons(dicts, LeanCoffeeAction.SHOW_ALL_TOPICS)] == [
        "See all 10 topics"
    ]
    everything = as_dicts(board_blocks(board, max_topics_on_board=10))
    assert len(buttons(everything, LeanCoffeeAction.VOTE)) == 10
    assert not buttons(everything, LeanCoffeeAction.SHOW_ALL_TOPICS)


@pytest.mark.parametrize("status", list(SessionStatus))
def test_stress_board_stays_within_limits(status: SessionStatus) -> None:
    board = stress_board(status)
    dicts = as_dicts(board_blocks(board))
    assert_message_limits(dicts)
    assert "<!channel" not in mrkdwn_texts(dicts)
    assert len(board_text(board)) < 3000


def test_discussing_board_shows_the_topic_and_its_controls() -> None:
    board = discussing_board()
    dicts = as_dicts(board_blocks(board))
    assert_message_limits(dicts)
    text = texts(dicts)
    assert "How do we onboard?" in text
    until = int((NOW + timedelta(minutes=7)).timestamp())
    assert f"until <!date^{until}^" in text
    assert "extended 1 time" in text
    assert "We agreed to try pairing." in text
    assert "*Action:*" in text and "<@UOWN>" in text
    for action, label in (
        (LeanCoffeeAction.MOVE_ON, "Move on"),
        (LeanCoffeeAction.EXTEND, "Extend 4 min"),
        (LeanCoffeeAction.ADD_TAKEAWAY, "Add a takeaway"),
    ):
        found = buttons(dicts, action)
        assert [b["text"]["text"] for b in found] == [label]
        assert TopicRef.decode(found[0]["value"]) == TopicRef(s=7, t=10)
    assert not buttons(dicts, LeanCoffeeAction.VOTE)
    assert not buttons(dicts, LeanCoffeeAction.CLOSE_VOTING)
    assert not buttons(dicts, LeanCoffeeAction.START_NEXT)
    assert buttons(dicts, LeanCoffeeAction.PROPOSE)
    assert buttons(dicts, LeanCoffeeAction.END_SESSION)
    assert "1. *Topic 1*" in text  # the queue in order, with counts
    assert not elements_of_type(dicts, "overflow")


def test_no_extend_button_when_the_extensions_are_spent() -> None:
    dicts = as_dicts(board_blocks(discussing_board(next_extension_minutes=None)))
    assert not buttons(dicts, LeanCoffeeAction.EXTEND)
    assert buttons(dicts, LeanCoffeeAction.MOVE_ON)


def test_start_next_topic_only_when_nothing_is_under_discussion_and_topics_wait() -> None:
    waiting = as_dicts(board_blocks(discussing_board(discussing=None)))
    assert [b["text"]["text"] for b in buttons(waiting, LeanCoffeeAction.START_NEXT)] == [
        "Start next topic"
    ]
    assert not buttons(waiting, LeanCoffeeAction.MOVE_ON)
    done = as_dicts(board_blocks(discussing_board(discussing=None, to_discuss=())))
    assert not buttons(done, LeanCoffeeAction.START_NEXT)
    assert "every topic" in texts(done)


def test_discussed_topics_show_votes_time_and_takeaways() -> None:
    finished = replace(
        make_topic(5, votes=4, title="Retro formats"),
        state=TopicState.DISCUSSED,
        seconds_spent=11 * 60,
        takeaways=(make_takeaway(1, text="Try the sailboat"),),
    )
    text = texts(as_dicts(board_blocks(discussing_board(discussed=(finished,)))))
    assert "Retro formats" in text
    assert "4 votes · 11 min" in text
    assert "Try the sailboat" in text


def test_ended_board_has_no_buttons_and_points_to_the_minutes() -> None:
    finished = replace(make_topic(5), state=TopicState.DISCUSSED, seconds_spent=300)
    board = make_board(SessionStatus.ENDED, discussed=(finished,))
    dicts = as_dicts(board_blocks(board))
    assert_message_limits(dicts)
    assert not buttons(dicts)
    assert not elements_of_type(dicts, "overflow")
    assert not [d for d in dicts if d["type"] == "actions" or "accessory" in d]
    text = texts(dicts)
    assert "ended" in text
    assert "minutes are in the thread" in text
    assert "has ended" in board_text(board)


def test_board_text_summarises_each_state() -> None:
    assert "3 topics proposed" in board_text(make_board())
    assert "now discussing How do we onboard?" in board_text(discussing_board())
    assert "voting is closed" in board_text(discussing_board(discussing=None))


# --- all topics -------------------------------------------------------------------------------


def test_all_topics_modal_pages_cover_every_topic_exactly_once() -> None:
    board = make_board(to_discuss=tuple(big_topic(i) for i in range(1, 121)))
    pages = all_topics_page_count(board)
    assert pages == -(-120 // ALL_TOPICS_PER_PAGE) == 3
    seen: list[int] = []
    for page in range(pages):
        view = all_topics_modal(board, page)
        d = assert_modal_limits(view)
        assert d["callback_id"] == LeanCoffeeView.ALL_TOPICS
        assert LeanCoffeeModal.decode(d["private_metadata"]) == LeanCoffeeModal(
            channel="C1", s=7, page=page
        )
        votes = buttons(d["blocks"], LeanCoffeeAction.VOTE)
        unvotes = buttons(d["blocks"], LeanCoffeeAction.UNVOTE)
        assert len(votes) == len(unvotes)
        seen.extend(TopicRef.decode(b["value"]).t for b in votes)
        nav = buttons(d["blocks"], LeanCoffeeAction.ALL_TOPICS_PAGE)
        labels = {b["text"]["text"]: LeanCoffeeModal.decode(b["value"]).page for b in nav}
        expected = {}
        if page > 0:
            expected["Previous page"] = page - 1
        if page < pages - 1:
            expected["Next page"] = page + 1
        assert labels == expected
    assert seen == list(range(1, 121))


def test_all_topics_modal_clamps_the_page_and_fits_one_page() -> None:
    board = make_board()
    d = assert_modal_limits(all_topics_modal(board, page=9))
    assert LeanCoffeeModal.decode(d["private_metadata"]).page == 0
    assert not buttons(d["blocks"], LeanCoffeeAction.ALL_TOPICS_PAGE)
    assert d["title"]["text"] == "All 3 topics"


def test_all_topics_modal_has_no_vote_buttons_once_voting_is_closed() -> None:
    d = assert_modal_limits(all_topics_modal(discussing_board()))
    assert not buttons(d["blocks"], LeanCoffeeAction.VOTE)
    assert "Topic 3" in texts(d["blocks"])


def test_all_topics_modal_when_nothing_waits() -> None:
    d = assert_modal_limits(all_topics_modal(make_board(to_discuss=())))
    assert "no topics waiting" in texts(d["blocks"])


# --- keep going ---------------------------------------------------------------------------------


def test_keep_going_poll_offers_every_choice() -> None:
    dicts = as_dicts(keep_going_blocks(make_poll()))
    assert_message_limits(dicts)
    labels = {b["action_id"]: b["text"]["text"] for b in buttons(dicts)}
    assert labels == {
        LeanCoffeeAction.KEEP_GOING: "Keep going (+4 min)",
        LeanCoffeeAction.EITHER_WAY: "Either way",
        LeanCoffeeAction.WANT_MOVE_ON: "Move on",
        LeanCoffeeAction.DECIDE_NOW: "Decide now",
    }
    assert {PollRef.decode(b["value"]) for b in buttons(dicts)} == {PollRef(p=3)}
    text = texts(dicts)
    assert "Time's up on *How do we onboard?*. Keep going?" in text
    assert "Keep going: 2 · Either way: 1 · Move on: 0" in text
    decides = int((NOW + timedelta(minutes=1)).timestamp())
    assert f"<!date^{decides}^" in text


def test_keep_going_poll_without_extensions_left_cannot_keep_going() -> None:
    dicts = as_dicts(keep_going_blocks(make_poll(extension_minutes=None)))
    assert not buttons(dicts, LeanCoffeeAction.KEEP_GOING)
    assert buttons(dicts, LeanCoffeeAction.WANT_MOVE_ON)
    assert "last extension" in texts(dicts)


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        (PollOutcome.EXTENDED, "Keeping going for 4 more minutes"),
        (PollOutcome.MOVED_ON, "Moving on"),
    ],
)
def test_decided_poll_states_the_result_without_buttons(outcome: PollOutcome, said: str) -> None:
    poll = make_poll(outcome=outcome)
    dicts = as_dicts(keep_going_blocks(poll))
    assert not buttons(dicts)
    assert said in texts(dicts)
    assert said in keep_going_text(poll)


def test_keep_going_escapes_the_topic() -> None:
    poll = make_poll(topic_title=PING)
    assert "<!channel>" not in mrkdwn_texts(as_dicts(keep_going_blocks(poll)))
    assert "<!channel>" not in keep_going_text(poll)


# --- modals ------------------------------------------------------------------------------------


def input_elements(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in d["blocks"] if b["type"] == "input"}


def test_start_modal() -> None:
    d = assert_modal_limits(start_modal("C42"))
    assert d["callback_id"] == LeanCoffeeView.START
    assert d["title"]["text"] == "Start a Lean Coffee"
    assert d["submit"]["text"] == "Start"
    assert LeanCoffeeModal.decode(d["private_metadata"]) == LeanCoffeeModal(channel="C42")
    inputs = input_elements(d)
    for block in (
        LeanCoffeeBlock.TITLE,
        LeanCoffeeBlock.VOTES,
        LeanCoffeeBlock.TIMEBOX,
        LeanCoffeeBlock.EXTENSIONS,
        LeanCoffeeBlock.ANONYMOUS,
    ):
        assert inputs[block]["action_id"] == input_action_id(block)
    assert inputs[LeanCoffeeBlock.TITLE]["placeholder"]["text"] == "Lean Coffee"
    votes = inputs[LeanCoffeeBlock.VOTES]
    assert (votes["type"], votes["initial_value"], votes["min_value"], votes["max_value"]) == (
        "number_input",
        "3",
        "1",
        "10",
    )
    timebox = inputs[LeanCoffeeBlock.TIMEBOX]
    assert (timebox["initial_value"], timebox["min_value"], timebox["max_value"]) == (
        "7",
        "1",
        "60",
    )
    assert inputs[LeanCoffeeBlock.EXTENSIONS]["initial_value"] == "4, 2"
    assert "shrinking is typical" in json.dumps(d)
    assert "initial_options" not in inputs[LeanCoffeeBlock.ANONYMOUS]


def test_propose_modal_new_and_edit() -> None:
    meta = LeanCoffeeModal(channel="C1", s=7)
    new = assert_modal_limits(propose_modal(meta))
    assert new["title"]["text"] == "Propose a topic"
    assert new["callback_id"] == LeanCoffeeView.PROPOSE
    assert "initial_value" not in input_elements(new)[LeanCoffeeBlock.TOPIC_TITLE]
    assert input_elements(new)[LeanCoffeeBlock.TOPIC_TITLE]["max_length"] == 150
    assert input_elements(new)[LeanCoffeeBlock.TOPIC_DETAIL]["multiline"] is True

    topic = make_topic(4, title="Old title", detail="Old detail")
    edit = assert_modal_limits(propose_modal(meta, topic))
    assert edit["title"]["text"] == "Edit your topic"
    assert edit["callback_id"] == LeanCoffeeView.EDIT_TOPIC
    inputs = input_elements(edit)
    assert inputs[LeanCoffeeBlock.TOPIC_TITLE]["initial_value"] == "Old title"
    assert inputs[LeanCoffeeBlock.TOPIC_DETAIL]["initial_value"] == "Old detail"
    assert LeanCoffeeModal.decode(edit["private_metadata"]) == LeanCoffeeModal(
        channel="C1", s=7, t=4
    )


def test_merge_modal_lists_other_topics_within_limits() -> None:
    meta = LeanCoffeeModal(channel="C1", s=7)
    topic = big_topic(1)
    candidates = [big_topic(i) for i in range(1, 151)]
    d = assert_modal_limits(merge_modal(meta, topic, candidates))
    assert d["callback_id"] == LeanCoffeeView.MERGE
    select = input_elements(d)[LeanCoffeeBlock.MERGE_INTO]
    assert select["action_id"] == input_action_id(LeanCoffeeBlock.MERGE_INTO)
    assert len(select["options"]) == 100
    assert "1" not in [o["value"] for o in select["options"]]
    assert all(len(o["text"]["text"]) <= 75 for o in select["options"])
    assert LeanCoffeeModal.decode(d["private_metadata"]).t == 1
    assert "<!channel" not in mrkdwn_texts(d)


def test_merge_modal_without_candidates_explains_and_cannot_submit() -> None:
    d = assert_modal_limits(
        merge_modal(LeanCoffeeModal(channel="C1", s=7), make_topic(1), [make_topic(1)])
    )
    assert "submit" not in d
    assert "no other topic" in texts(d["blocks"])


def test_takeaway_modal_preselects_the_topic() -> None:
    meta = LeanCoffeeModal(channel="C1", s=7)
    topics = [make_topic(i) for i in range(1, 4)]
    d = assert_modal_limits(takeaway_modal(meta, topics, 2))
    assert d["callback_id"] == LeanCoffeeView.TAKEAWAY
    inputs = input_elements(d)
    assert inputs[LeanCoffeeBlock.TAKEAWAY_TOPIC]["initial_option"]["value"] == "2"
    assert inputs[LeanCoffeeBlock.TAKEAWAY_TEXT]["max_length"] == 1000
    assert inputs[LeanCoffeeBlock.TAKEAWAY_TEXT]["multiline"] is True
    assert inputs[LeanCoffeeBlock.TAKEAWAY_IS_ACTION]["type"] == "checkboxes"
    assert inputs[LeanCoffeeBlock.ACTION_OWNER]["type"] == "users_select"
    assert inputs[LeanCoffeeBlock.ACTION_DUE]["type"] == "datepicker"
    optional = {
        b["block_id"]: b.get("optional", False) for b in d["blocks"] if b["type"] == "input"
    }
    assert optional[LeanCoffeeBlock.ACTION_OWNER] and optional[LeanCoffeeBlock.ACTION_DUE]
    assert not optional[LeanCoffeeBlock.TAKEAWAY_TEXT]
    assert LeanCoffeeModal.decode(d["private_metadata"]).t == 2

    none_chosen = input_elements(assert_modal_limits(takeaway_modal(meta, topics, None)))
    assert "initial_option" not in none_chosen[LeanCoffeeBlock.TAKEAWAY_TOPIC]


def test_takeaway_modal_keeps_the_chosen_topic_among_many() -> None:
    topics = [make_topic(i) for i in range(1, 131)]
    d = assert_modal_limits(takeaway_modal(LeanCoffeeModal(channel="C1", s=7), topics, 125))
    select = input_elements(d)[LeanCoffeeBlock.TAKEAWAY_TOPIC]
    assert len(select["options"]) == 100
    assert select["initial_option"]["value"] == "125"


def test_hand_over_modal() -> None:
    d = assert_modal_limits(hand_over_modal(LeanCoffeeModal(channel="C1", s=7), "UFAC"))
    assert d["callback_id"] == LeanCoffeeView.HAND_OVER
    element = input_elements(d)[LeanCoffeeBlock.NEW_FACILITATOR]
    assert element["type"] == "users_select"
    assert element["action_id"] == input_action_id(LeanCoffeeBlock.NEW_FACILITATOR)
    assert "<@UFAC>" in texts(d["blocks"])


# --- short replies, minutes, history, help ----------------------------------------------


def test_vote_receipt_text() -> None:
    receipt = VoteReceipt(
        topic_title="X & Y", topic_votes=4, my_votes_on_topic=1, dots_left=1, votes_per_person=3
    )
    assert vote_receipt_text(receipt) == (
        "You put a dot on *X &amp; Y* (it has 4). You have 1 of 3 dots left."
    )
    stacked = replace(receipt, my_votes_on_topic=2, dots_left=0)
    assert "2 of them yours" in vote_receipt_text(stacked)
    assert "Remove my vote" in vote_receipt_text(stacked)
    assert vote_receipt_text(replace(receipt, topic_votes=3, dots_left=2), removed=True) == (
        "You took a dot off *X &amp; Y* (it has 3 now). You have 2 of 3 dots left."
    )


def test_minutes_show_everything_that_happened() -> None:
    minutes = make_minutes()
    messages = minutes_messages(minutes)
    assert len(messages) == 1
    dicts = as_dicts(messages[0])
    assert_message_limits(dicts)
    text = texts(dicts)
    assert "Fri 14 Jun 2024" in text
    assert "<@UFAC>" in text
    assert "<@U00000003>" in text
    assert f"Topic 1 {PING_ESCAPED}" in text
    assert "1 vote · 11 min" in text
    assert "Learned a lot #1.1" in text
    assert "*Action:* Learned a lot #1.0 (<@UOWN>, due Mon 1 Jul 2024)" in text
    assert "Write it up 1" in text
    assert "Left over &amp; waiting" in text
    assert "<!channel>" not in mrkdwn_texts(dicts)
    assert "2 topics discussed, 2 actions" in minutes_text(minutes)


def test_long_minutes_split_into_messages_and_keep_every_takeaway() -> None:
    minutes = make_minutes(topics=40, takeaways=6, people=300, text="&" * 990)
    messages = minutes_messages(minutes)
    assert len(messages) > 1
    everything = []
    for message in messages:
        dicts = as_dicts(message)
        assert_message_limits(dicts)
        everything.extend(dicts)
    text = texts(everything)
    for i in range(40):
        for j in range(6):
            assert f"#{i}.{j}" in text
    assert "<@U00000299>" in text


def test_history_blocks() -> None:
    entries = [
        HistoryEntry(
            session_id=i,
            title=f"Coffee {i} <!here>",
            held_on=date(2024, 1, 1) + timedelta(days=i),
            facilitator_id="UFAC",
            topics_discussed=5,
            participant_count=8,
        )
        for i in range(500)
    ]
    dicts = as_dicts(history_blocks(entries))
    assert_message_limits(dicts)
    text = texts(dicts)
    assert "Coffee 0 &lt;!here&gt;" in text
    assert "5 topics discussed · 8 people" in text
    assert "older sessions" in text
    empty = as_dicts(history_blocks([]))
    assert "No Lean Coffee" in texts(empty)


def test_help_explains_every_command() -> None:
    dicts = as_dicts(help_blocks())
    assert_message_limits(dicts)
    text = texts(dicts)
    for command in (
        "`/lean-coffee`",
        "`/lean-coffee minutes`",
        "`/lean-coffee history`",
        "`/lean-coffee help`",
    ):
        assert command in text
    for word in (
        "Propose a topic",
        "Vote",
        "Close voting",
        "Keep going",
        "Add a takeaway",
        "End session",
    ):
        assert word in text


def test_no_session_text_says_what_to_do() -> None:
    assert "`/lean-coffee`" in no_session_text()
