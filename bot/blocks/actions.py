"""Block Kit for actions: one section per action with a "Mark as done" button, the owner's
reminder on the due date, the list shown at the start of a Lean Coffee, the form recording an
action after a health check and its confirmation, and how a message is redrawn once one of
its actions is done.

Pure functions from plain values; every user-written text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    FormErrors,
    action_owner_input,
    actions,
    button,
    context,
    day_text,
    due_date_input,
    mention,
    modal,
    one_line,
    plain,
    safe,
    section,
    state_date,
    state_text,
    state_user,
)
from bot.ids import ActionsAction, ActionsBlock, ActionsView, input_action_id
from bot.services.action_sources import LEAN_COFFEE
from bot.services.actions import DUE_FIELD, OWNER_FIELD, TEXT_FIELD, TEXT_MAX, Action
from bot.state import ActionRef, CheckRef, HealthActionModal

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


def mark_done_button(action_id: int, source: str = LEAN_COFFEE) -> ButtonElement:
    """The button that marks the action `action_id` of `source` done, wherever it is shown."""
    return button(MARK_DONE, ActionsAction.MARK_DONE, ActionRef(a=action_id, s=source).encode())


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
        action_text(action, owner=owner, origin=origin),
        accessory=mark_done_button(action.id, action.source),
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
            action_section(action, owner=False, origin=action.topic_title != action.meeting_title),
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


# --- recording an action after a health check -------------------------------------------------

RECORD_LABEL = "Record an action"
# Which input block each of the service's `InvalidInput.field`s belongs to.
FIELD_BLOCKS: Mapping[str, ActionsBlock] = {
    TEXT_FIELD: ActionsBlock.TEXT,
    OWNER_FIELD: ActionsBlock.OWNER,
    DUE_FIELD: ActionsBlock.DUE,
}


def record_button(check_id: int) -> Block:
    """Under a health check's results: turn what the results showed into an action."""
    return actions(
        button(RECORD_LABEL, ActionsAction.RECORD_AFTER_CHECK, CheckRef(k=check_id).encode())
    )


def record_modal(meta: HealthActionModal) -> View:
    """What will be done, who will do it and (if they like) by when."""
    return modal(
        title="Record an action",
        callback_id=ActionsView.RECORD_AFTER_CHECK,
        submit="Save",
        private_metadata=meta.encode(),
        blocks=[
            section(
                "What will the community do about these results? The owner is reminded on "
                "the due date, and sees it on their Home tab until it's done."
            ),
            InputBlock(
                block_id=ActionsBlock.TEXT,
                label=plain("What will we do?"),
                element=PlainTextInputElement(
                    action_id=input_action_id(ActionsBlock.TEXT),
                    multiline=True,
                    max_length=TEXT_MAX,
                    placeholder=plain("e.g. Run a pairing session for newer members"),
                ),
            ),
            action_owner_input(ActionsBlock.OWNER, optional=False),
            due_date_input(ActionsBlock.DUE),
        ],
    )


@dataclass(frozen=True)
class RecordForm:
    text: str
    owner_id: str
    due_date: date | None


def parse_record(values: Mapping[str, Any]) -> RecordForm:
    """The form's answers; a missing text or owner is a field error."""
    errors: dict[str, str] = {}
    text = (state_text(values, ActionsBlock.TEXT) or "").strip()
    if not text:
        errors[ActionsBlock.TEXT] = "Write what will be done first."
    owner = state_user(values, ActionsBlock.OWNER)
    if not owner:
        errors[ActionsBlock.OWNER] = "Pick who will do it."
    if errors:
        raise FormErrors(errors)
    due = state_date(values, ActionsBlock.DUE)
    try:
        due_date = date.fromisoformat(due) if due else None
    except ValueError:
        raise FormErrors({ActionsBlock.DUE: "Pick a day from the calendar."}) from None
    assert owner is not None
    return RecordForm(text=text, owner_id=owner, due_date=due_date)


def recorded_message(action: Action) -> Outgoing:
    """The confirmation posted in the results' thread, with the action's own button."""
    owner = mention(action.owner_id) if action.owner_id else "its owner"
    if action.due_date is not None:
        after = f"{owner} gets a reminder on the due date and sees it on their Home tab."
    else:
        after = f"{owner} sees it on their Home tab until it's done."
    return Outgoing(
        text=f"Action recorded for {owner}: {safe(one_line(action.text), ACTION_LIMIT)}",
        blocks=[
            section(f"{mention(action.author_id)} recorded an action from these results:"),
            action_section(action, origin=False),
            context(after),
        ],
    )


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
