"""What a person sees: snapshots of messages and views, and finding things on them by label."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.blocktree import Element, block_text, elements, flatten_text, readable, text_of
from bot.emulator.inputs import input_blocks, state_values
from bot.emulator.state import Ephemeral, Message, View, WorkspaceState

JSON = dict[str, Any]

SELECTABLE = frozenset(
    {
        "overflow",
        "static_select",
        "multi_static_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "radio_buttons",
        "checkboxes",
        "datepicker",
        "timepicker",
    }
)


class NotOnScreen(LookupError):
    """The person cannot see what the test asked for; the message says what they can see."""


def namer(state: WorkspaceState) -> Callable[[str, str], str]:
    def name_of(sigil: str, target: str) -> str:
        if sigil == "@" and target in state.users:
            return state.users[target].name
        if sigil == "#" and target in state.channels:
            return state.channels[target].name
        return target

    return name_of


def _buttons(blocks: list[JSON]) -> list[str]:
    return [e.label for e in elements(blocks) if e.type == "button"]


def _menus(blocks: list[JSON]) -> list[str]:
    return [e.label or e.action_id for e in elements(blocks) if e.type in SELECTABLE]


@dataclass(frozen=True)
class SeenMessage:
    """A message as one person sees it (ephemeral ones only exist for that person)."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str | None
    bot_id: str | None
    ephemeral: bool
    thread_ts: str | None
    reply_count: int
    edited: bool
    readable_text: str = ""

    @classmethod
    def of(cls, state: WorkspaceState, message: Message | Ephemeral) -> SeenMessage:
        raw = flatten_text(message.blocks) if message.blocks else message.text
        shared = message if isinstance(message, Message) else None
        return cls(
            channel=message.channel,
            ts=message.ts,
            text=message.text,
            blocks=list(message.blocks),
            user=shared.user if shared else None,
            bot_id=message.bot_id,
            ephemeral=shared is None,
            thread_ts=message.thread_ts,
            reply_count=shared.reply_count if shared else 0,
            edited=shared is not None and shared.edited is not None,
            readable_text=readable(raw, namer(state)),
        )

    @property
    def from_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def all_text(self) -> str:
        """Every line of text the blocks show (mrkdwn as sent), or `text` without blocks."""
        return flatten_text(self.blocks) if self.blocks else self.text

    @property
    def buttons(self) -> list[str]:
        return _buttons(self.blocks)

    @property
    def menus(self) -> list[str]:
        """Menus by placeholder (or action_id for overflow menus, which have no label)."""
        return _menus(self.blocks)

    def has_text(self, fragment: str) -> bool:
        """True when the fragment appears as sent or as read (`@alice`, `&` unescaped)."""
        return fragment in self.all_text or fragment in self.readable_text


@dataclass(frozen=True)
class SeenView:
    """A modal or Home tab as its person sees it, with field errors and entered values."""

    id: str
    type: str
    title: str
    callback_id: str
    external_id: str
    private_metadata: str
    blocks: list[JSON]
    errors: dict[str, str]
    values: dict[str, dict[str, JSON]]
    submit: str | None
    close: str | None
    hash: str
    readable_text: str = ""
    inputs: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, state: WorkspaceState, view: View) -> SeenView:
        view_inputs = input_blocks(view)
        return cls(
            id=view.id,
            type=view.type,
            title=text_of(view.title),
            callback_id=view.callback_id,
            external_id=view.external_id,
            private_metadata=view.private_metadata,
            blocks=list(view.blocks),
            errors=dict(view.errors),
            values=state_values(view),
            submit=text_of(view.submit) if view.submit else None,
            close=text_of(view.close) if view.close else None,
            hash=view.hash,
            readable_text=readable(flatten_text(view.blocks), namer(state)),
            inputs=[text_of(b.get("label")) for b in view_inputs],
        )

    @property
    def all_text(self) -> str:
        return flatten_text(self.blocks)

    @property
    def buttons(self) -> list[str]:
        return _buttons(self.blocks)

    @property
    def menus(self) -> list[str]:
        return _menus(self.blocks)

    def has_text(self, fragment: str) -> bool:
        return fragment in self.all_text or fragment in self.readable_text

    def error_for(self, field_name: str) -> str | None:
        """The error shown under an input, found by its label or block_id."""
        if field_name in self.errors:
            return self.errors[field_name]
        for block in self.blocks:
            if block.get("type") == "input" and text_of(block.get("label")) == field_name:
                return self.errors.get(block.get("block_id", ""))
        return None


def _groups_near(blocks: list[JSON], near: str, name_of: Callable[[str, str], str]) -> list[int]:
    """Indices of blocks belonging to any block whose text contains `near`.

    A row is the text block, the context lines under it and the first actions block after
    it: that is how a topic row with its vote count and buttons reads.
    """
    chosen: list[int] = []
    for index, block in enumerate(blocks):
        texts = block_text(block)
        if not any(near in t or near in readable(t, name_of) for t in texts):
            continue
        chosen.append(index)
        for follower in range(index + 1, len(blocks)):
            kind = blocks[follower].get("type")
            if kind not in ("context", "actions"):
                break
            chosen.append(follower)
            if kind == "actions":
                break
    return chosen


def locate(
    state: WorkspaceState,
    blocks: list[JSON],
    *,
    label: str | None,
    kinds: frozenset[str] | set[str],
    near: str | None = None,
    what: str = "button",
) -> Element:
    """The single element of one of `kinds` labelled `label` (optionally near some text)."""
    candidates = [e for e in elements(blocks) if e.type in kinds]
    everything = candidates
    if near is not None:
        indices = set(_groups_near(blocks, near, namer(state)))
        if not indices:
            raise NotOnScreen(f"no text {near!r} here; it shows:\n{flatten_text(blocks)}")
        candidates = [e for e in candidates if e.block_index in indices]
    if label is not None:
        candidates = [
            e
            for e in candidates
            if label in (e.label, e.action_id) or e.label.strip().lower() == label.strip().lower()
        ]
    available = ", ".join(repr(e.label or e.action_id) for e in everything) or "none"
    where = f" near {near!r}" if near else ""
    if not candidates:
        raise NotOnScreen(f"no {what} {label!r}{where}; available: {available}")
    if len(candidates) > 1:
        raise NotOnScreen(
            f"{len(candidates)} {what}s match {label!r}{where}; pass near=... to pick one "
            f"(available: {available})"
        )
    return candidates[0]
