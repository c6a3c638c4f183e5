"""Block Kit for the health-check reminder: a direct message to someone who has not answered.

It carries the questions with their answer buttons (answering here counts the same as in the
channel) and a "Don't remind me" button. Pure functions from plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    actions,
    button,
    context,
    header,
    mention,
    section,
    slack_date,
)
from bot.blocks.health_check import privacy_text, question_blocks
from bot.ids import HealthAction
from bot.services.health_check_types import CheckView
from bot.state import CommunityRef

STOP_LABEL = "Don't remind me"


@dataclass(frozen=True)
class Outgoing:
    """A message ready for `chat.postMessage`: notification text and blocks."""

    text: str
    blocks: list[Block]


def reminder_text(check: CheckView) -> str:
    """The notification: which channel's check, and until when."""
    return (
        f"A health check in <#{check.channel_id}> is waiting for your answers, "
        f"open until {slack_date(check.closes_at)}."
    )


def reminder(check: CheckView) -> Outgoing:
    """The reminder DM for one open check."""
    who = (
        f"{mention(check.started_by_id)} started a health check"
        if check.started_by_id
        else "Your community is running its regular health check"
    )
    intro = (
        f"Hi! This is hearth, with a reminder from <#{check.channel_id}>. {who}, and you "
        f"haven't answered yet. It takes a minute: pick an answer for each question right "
        f"here, or in the channel. It's open until {slack_date(check.closes_at)}."
    )
    top: list[Block] = [
        header("How is your community doing?"),
        section(intro),
        context(privacy_text(check.anonymous, check.min_answers)),
    ]
    bottom: list[Block] = [
        actions(
            button(
                STOP_LABEL,
                HealthAction.STOP_REMINDERS,
                CommunityRef(c=check.community_id).encode(),
            )
        ),
        context(
            f"“{STOP_LABEL}” stops reminders about health checks in <#{check.channel_id}>. "
            "You can still answer every check in the channel."
        ),
    ]
    questions = question_blocks(check)
    room = MAX_MESSAGE_BLOCKS - len(top) - len(bottom)
    if len(questions) > room:  # cannot happen within MAX_QUESTIONS; never break the message
        questions = [
            *questions[: room - 1 - (room - 1) % 2],
            section(f"There are more questions in the poll in <#{check.channel_id}>."),
        ]
    return Outgoing(reminder_text(check), [*top, *questions, *bottom])


def stopped_text(channel_id: str) -> str:
    """What someone who asked not to be reminded is told."""
    return (
        f"Done: I won't remind you about health checks in <#{channel_id}> any more. "
        "Your answers so far still count, and you can answer any check in the channel."
    )
