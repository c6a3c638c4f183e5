"""Walking Block Kit JSON the way a reader does: the text it shows and what can be clicked."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "overflow",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
        "file_input",
        "workflow_button",
    }
)


@dataclass(frozen=True)
class Element:
    """An interactive element and where it sits (`block_index` in the message or view)."""

    block_index: int
    block: JSON
    element: JSON

    @property
    def type(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    @property
    def block_id(self) -> str:
        return str(self.block.get("block_id", ""))

    @property
    def label(self) -> str:
        """What a person sees on it: a button's text, a menu's placeholder, an input's label."""
        if self.type == "button":
            return text_of(self.element.get("text"))
        if self.block.get("type") == "input":
            return text_of(self.block.get("label"))
        if self.type == "overflow":
            return ""  # shown as "…"; found by its action_id instead
        return text_of(self.element.get("placeholder"))


def text_of(obj: Any) -> str:
    """The string inside a text object (or a bare string)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return ""


def elements(blocks: list[JSON]) -> Iterator[Element]:
    """Every interactive element in reading order."""
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "section" and isinstance(block.get("accessory"), dict):
            accessory = block["accessory"]
            if accessory.get("type") in INTERACTIVE_TYPES:
                yield Element(index, block, accessory)
        elif kind in ("actions", "context_actions"):
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    yield Element(index, block, element)
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield Element(index, block, block["element"])


def block_text(block: JSON) -> list[str]:
    """The lines of text a block shows (not its buttons)."""
    kind = block.get("type")
    lines: list[str] = []
    if kind == "section":
        if block.get("text"):
            lines.append(text_of(block["text"]))
        lines.extend(text_of(f) for f in block.get("fields") or [])
    elif kind == "header":
        lines.append(text_of(block.get("text")))
    elif kind == "context":
        parts = [text_of(e) for e in block.get("elements") or [] if e.get("type") != "image"]
        lines.append(" ".join(p for p in parts if p))
    elif kind == "markdown":
        lines.append(str(block.get("text", "")))
    elif kind == "rich_text":
        lines.append(_rich_text(block.get("elements") or []))
    elif kind == "input":
        lines.append(text_of(block.get("label")))
    elif kind == "image":
        lines.append(text_of(block.get("title")) or str(block.get("alt_text", "")))
    return [line for line in lines if line]


def flatten_text(blocks: list[JSON]) -> str:
    return "\n".join(line for block in blocks for line in block_text(block))


def _rich_text(elements: list[JSON]) -> str:
    out: list[str] = []
    for element in elements:
        kind = element.get("type")
        if kind == "text":
            out.append(str(element.get("text", "")))
        elif kind == "link":
            out.append(str(element.get("text") or element.get("url", "")))
        elif kind == "user":
            out.append(f"<@{element.get('user_id')}>")
        elif kind == "channel":
            out.append(f"<#{element.get('channel_id')}>")
        elif kind == "emoji":
            out.append(f":{element.get('name')}:")
        elif "elements" in element:
            out.append(_rich_text(element["elements"]))
            if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
                out.append("\n")
    return "".join(out).strip()


def assign_ids(blocks: list[JSON]) -> list[JSON]:
    """Give every block a `block_id` and every element an `action_id`, as Slack does on save."""
    result = []
    for block in blocks:
        block = dict(block)
        block.setdefault("block_id", _random_id())
        if isinstance(block.get("accessory"), dict):
            block["accessory"] = _with_action_id(block["accessory"])
        if block.get("type") in ("actions", "context_actions"):
            block["elements"] = [_with_action_id(e) for e in block.get("elements") or []]
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            block["element"] = _with_action_id(block["element"])
        result.append(block)
    return result


def _with_action_id(element: JSON) -> JSON:
    if element.get("type") in INTERACTIVE_TYPES and "action_id" not in element:
        return {**element, "action_id": _random_id()}
    return element


def _random_id() -> str:
    return secrets.token_urlsafe(4).replace("-", "x").replace("_", "y")


_TOKEN = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>|<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")


def readable(text: str, name_of: Callable[[str, str], str] | None = None) -> str:
    """mrkdwn as a person reads it: `<@U1>` → `@alice`, `<url|label>` → `label`, `&amp;` → `&`.

    `name_of(kind, id)` names people ("@") and channels ("#"); without it the id is shown.
    """

    def replace(match: re.Match[str]) -> str:
        sigil, target, label, url, url_label = match.groups()
        if url is not None:
            return url_label or url
        if sigil == "!":
            if target.startswith("date^"):
                return label or target
            return label or f"@{target.split('^')[0]}"
        if label:
            return f"{sigil}{label}"
        name = name_of(sigil, target) if name_of else target
        return f"{sigil}{name}"

    return unescape(_TOKEN.sub(replace, text))


def unescape(text: str) -> str:
    """Undo the three escapes Slack uses in mrkdwn (and nothing else)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
