"""Block Kit for actions: one section per action with a "Mark as done" button, the owner's
reminder on the due date, the list shown at the start of a Lean Coffee, and how a message is
redrawn once one of its actions is done.

Pure functions from plain values; every user-written text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block, ButtonElement

from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    button,
    context,
    day_text,
    mention,
    one_line,
    safe,
    section,
)
from bot.ids import ActionsAction
from bot.services.actions import Action
from bot.state import ActionRef

ACTION_LIMIT = 300
TITLE_LIMIT = 120
MARK_DONE = "Mark as done"
DONE = "Done ✓"
# The start-of-Lean-Coffee list: a header, the actions, and a line about any more.
MAX_LISTED = MAX_MESSAGE_BLOCKS - 2


@dataclass(frozen=True)
class Outgoing:
    """A message ready for `chat.postMessage`: notification text and blocks."""

    text: str
    blocks: list[Block]


def mark_done_button(action_id: int) -> ButtonElement:
    return button(MARK_DONE, ActionsAction.MARK_DONE, ActionRef(a=action_id).encode())


def action_text(action: Action, *, owner: bool = True, origin: bool = True) -> str:
    """`• Write the guide (@alice, due Fri 4 Dec 2026; from “Onboarding”)`."""
    text = f"• {safe(one_line(action.text), ACTION_LIMIT)}"
    details = []
    if owner:
        details.append(mention(action.owner_id) if action.owner_id else "no owner yet")
    if action.due_date is not None:
        details.append(f"due {day_text(action.due_date)}")
    line = f"{text} ({', '.join(details)})" if details else text
    if origin:
        line += f"\n_from “{safe(one_line(action.topic_title), TITLE_LIMIT)}”_"
    return line


def action_section(action: Action, *, owner: bool = True, origin: bool = True) -> Block:
    """One action with its "Mark as done" button."""
    return section(
        action_text(action, owner=owner, origin=origin), accessory=mark_done_button(action.id)
    )


def reminder(action: Action) -> Outgoing:
    """The owner's direct message on the due date."""
    where = f"<#{action.channel_id}>"
    meeting = safe(one_line(action.meeting_title), TITLE_LIMIT)
    intro = (
        f"Hello! An action you took on in _{meeting}_ in {where} is due today. "
        "If it's finished, mark it as done so it's off everyone's list."
    )
    return Outgoing(
        text=f"An action you took on is due today: {safe(one_line(action.text), ACTION_LIMIT)}",
        blocks=[
            section(intro),
            action_section(action, owner=False),
            context("Not done yet? No worries: it stays on your Home tab until it is."),
        ],
    )


def open_actions_message(actions: Sequence[Action], *, more: bool = False) -> Outgoing:
    """Posted in the thread of a new Lean Coffee board: what is still open from before.
    `more`: there are further open actions than those given."""
    shown = list(actions)[:MAX_LISTED]
    blocks: list[Block] = [
        section(
            "*Open actions from earlier sessions*\n"
            "A quick look before we start: anything finished can be marked as done."
        )
    ]
    blocks += [action_section(a) for a in shown]
    if more or len(shown) < len(actions):
        blocks.append(context("…and more: each owner sees theirs on hearth's Home tab."))
    return Outgoing(text=f"Open actions from earlier sessions: {len(shown)}", blocks=blocks)


def done_note(done_by_id: str | None) -> str:
    return f"{DONE} marked done by {mention(done_by_id)}" if done_by_id else DONE


def with_action_done(blocks: Sequence[dict[str, Any]], value: str, note: str) -> list[dict]:
    """A message's blocks (as Slack sent them back) with the action whose button carries
    `value` shown as done: its button removed and `note` added under its text."""
    redrawn: list[dict[str, Any]] = []
    for block in blocks:
        accessory = block.get("accessory")
        if (
            block.get("type") == "section"
            and isinstance(accessory, dict)
            and accessory.get("action_id") == ActionsAction.MARK_DONE
            and accessory.get("value") == value
        ):
            block = {k: v for k, v in block.items() if k != "accessory"}
            text = dict(block.get("text") or {"type": "mrkdwn", "text": ""})
            text["text"] = f"{text.get('text', '')}\n*{note}*"
            block["text"] = text
        redrawn.append(block)
    return redrawn
