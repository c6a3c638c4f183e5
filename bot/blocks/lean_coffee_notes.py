"""Short notes hearth posts in a Lean Coffee board's thread as the discussion moves along."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.blocks.common import actions, button, escape_mrkdwn, mention, section, slack_date
from bot.ids import LeanCoffeeAction
from bot.services.lean_coffee_types import BoardView, KeepGoingChoice, TopicView
from bot.state import SessionRef


def voting_closed_text() -> str:
    return (
        "Voting is closed. Topics are now in order of dots (ties go to whoever proposed "
        "first). Over to the facilitator to start the first one."
    )


def now_discussing_text(title: str, ends_at: datetime | None) -> str:
    until = f" until {slack_date(ends_at, '{time}')}" if ends_at else ""
    return f":speech_balloon: Now discussing *{escape_mrkdwn(title)}*{until}."


def extended_text(topic: TopicView, minutes: int) -> str:
    until = (
        f", until {slack_date(topic.discussion_ends_at, '{time}')}"
        if topic.discussion_ends_at
        else ""
    )
    return (
        f":arrows_counterclockwise: Keeping going on *{escape_mrkdwn(topic.title)}* "
        f"for {minutes} more min{until}."
    )


def moved_on_text(board: BoardView) -> str:
    last = board.discussed[-1].title if board.discussed else "that topic"
    return f":white_check_mark: Moving on from *{escape_mrkdwn(last)}*. {_whats_next(board)}"


def out_of_time_text(board: BoardView) -> str:
    last = board.discussed[-1].title if board.discussed else "that topic"
    return (
        f":hourglass_flowing_sand: Time's up on *{escape_mrkdwn(last)}*, and the extra time "
        f"is used up, so we're moving on. {_whats_next(board)}"
    )


def _whats_next(board: BoardView) -> str:
    if board.to_discuss:
        return f"{mention(board.facilitator_id)}, start the next topic when everyone's ready."
    return (
        f"That was the last topic: {mention(board.facilitator_id)}, end the session to post "
        "the minutes."
    )


def next_topic_prompt(board: BoardView, text: str) -> list[Block]:
    """`text`, and the facilitator is offered the next topic right there in the thread."""
    if not board.to_discuss:
        return [section(text)]
    upcoming = escape_mrkdwn(board.to_discuss[0].title)
    return [
        section(f"{text}\nUp next: *{upcoming}*"),
        actions(
            button(
                "Start next topic",
                LeanCoffeeAction.START_NEXT,
                SessionRef(s=board.session_id).encode(),
                style="primary",
            )
        ),
    ]


def handed_over_text(from_user: str, to_user: str) -> str:
    return (
        f":handshake: {mention(from_user)} handed facilitation to {mention(to_user)}. "
        "Thanks for keeping things moving!"
    )


_CHOICE_WORDS = {
    KeepGoingChoice.KEEP_GOING: "keep going",
    KeepGoingChoice.EITHER_WAY: "either way",
    KeepGoingChoice.MOVE_ON: "move on",
}


def poll_vote_receipt_text(choice: KeepGoingChoice) -> str:
    return (
        f"Got it: you'd {_CHOICE_WORDS[choice]}."
        if choice != KeepGoingChoice.EITHER_WAY
        else "Got it: either way is fine with you."
    ) + " You can change your mind until the vote is decided."
