"""Block Kit validation: what Slack would refuse, plus what hearth promises never to send.

Each check returns Slack-style messages ending in `[json-pointer:/blocks/0/text/text]`, so a
failing test points straight at the offending field. slack_sdk's own validators run first
(`Block.parse(...).to_dict()`, `View(...).to_dict()`); the explicit limits below cover what
they miss and make the rules readable in one place.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

JSON = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_ID = 255

SELECT_TYPES = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
TEXT_INPUT_TYPES = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
INPUT_ELEMENT_TYPES = (
    SELECT_TYPES
    | TEXT_INPUT_TYPES
    | {"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons", "file_input"}
)
ACCESSORY_TYPES = (SELECT_TYPES - {"multi_external_select"}) | {
    "button",
    "overflow",
    "datepicker",
    "timepicker",
    "checkboxes",
    "radio_buttons",
    "image",
    "multi_external_select",
    "workflow_button",
}

_BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")
_SLACK_TOKEN = re.compile(r"<(?:[@#!][^<>]*|(?:https?|mailto|tel|slack):[^<>]*)>")
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")

_sdk_logger = logging.getLogger("slack_sdk.models")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload.

    `policy` problems break hearth's own promises (no @here, escaped user text, no
    link_names) rather than Slack's rules: Slack would accept them, so the emulator does too,
    but still records them as violations.
    """

    message: str
    pointer: str
    policy: bool = False

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


def validate_message(text: Any, blocks: Any, *, pointer: str = "") -> list[Problem]:
    """Problems with a message's `text` and `blocks` (chat.*, response_url, command acks)."""
    checker = _Checker()
    if text is not None:
        if not isinstance(text, str):
            checker.error(f"{pointer}/text", "text must be a string")
        else:
            if len(text) > MAX_MESSAGE_TEXT:
                checker.error(
                    f"{pointer}/text", f"text must be at most {MAX_MESSAGE_TEXT} characters"
                )
            checker.mrkdwn(text, f"{pointer}/text")
    if blocks is not None:
        checker.blocks(blocks, f"{pointer}/blocks", MAX_MESSAGE_BLOCKS)
    return checker.errors


def validate_view(view: Any) -> list[Problem]:
    """Problems with a modal or Home tab sent to views.open/push/update/publish or an ack."""
    checker = _Checker()
    if not isinstance(view, dict):
        return [Problem("view must be an object", "/view")]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.error("/view/type", "view type must be modal or home")
    if isinstance(view.get("blocks"), list) and not view["blocks"]:
        checker.error("/view/blocks", "a view needs at least one block")
    try:  # blocks are checked one by one below; stand-ins keep only their count here
        blocks = view.get("blocks")
        stand_ins = [DividerBlock()] * len(blocks) if isinstance(blocks, list) else blocks
        View(**{**view, "blocks": stand_ins}).to_dict()
    except Exception as exc:  # slack_sdk raises several types for malformed input
        checker.error("/view", f"slack_sdk: {exc}")
    if kind == "modal":
        if view.get("title") is None:
            checker.error("/view/title", "a modal needs a title")
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                checker.text(view[key], f"/view/{key}", 24, plain_only=True)
        blocks = view.get("blocks") or []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            checker.error("/view/submit", "a modal with input blocks needs a submit button")
    checker.length(view.get("private_metadata"), "/view/private_metadata", 3000)
    checker.length(view.get("callback_id"), "/view/callback_id", MAX_ID)
    checker.length(view.get("external_id"), "/view/external_id", MAX_ID)
    checker.blocks(view.get("blocks"), "/view/blocks", MAX_VIEW_BLOCKS)
    return checker.errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[Problem] = []

    @property
    def refusals(self) -> int:
        return sum(not p.policy for p in self.errors)

    def error(self, pointer: str, message: str, *, policy: bool = False) -> None:
        self.errors.append(Problem(message, pointer, policy))

    def length(self, value: Any, pointer: str, maximum: int, *, minimum: int = 0) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.error(pointer, "must be a string")
        elif len(value) > maximum:
            self.error(pointer, f"must be at most {maximum} characters (was {len(value)})")
        elif len(value) < minimum:
            self.error(pointer, f"must be at least {minimum} characters")

    # -- text -------------------------------------------------------------------------------

    def text(self, obj: Any, pointer: str, maximum: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.error(pointer, "must be a text object, not a bare string")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.error(f"{pointer}/type", "text type must be plain_text or mrkdwn")
            return
        if plain_only and kind != "plain_text":
            self.error(f"{pointer}/type", "must be plain_text")
        if kind == "mrkdwn" and "emoji" in obj:
            self.error(f"{pointer}/emoji", "emoji is only allowed on plain_text")
        if kind == "plain_text" and "verbatim" in obj:
            self.error(f"{pointer}/verbatim", "verbatim is only allowed on mrkdwn")
        self.length(obj.get("text"), f"{pointer}/text", maximum, minimum=1)
        if obj.get("text") is None:
            self.error(f"{pointer}/text", "text is required")
        if kind == "mrkdwn" and isinstance(obj.get("text"), str):
            self.mrkdwn(obj["text"], f"{pointer}/text")

    def mrkdwn(self, text: str, pointer: str) -> None:
        """hearth never pings everyone, and escapes `&`, `<`, `>` in whatever people typed."""
        if _BROADCAST.search(text):
            self.error(pointer, "must not mention @channel, @here or @everyone", policy=True)
        rest = _SLACK_TOKEN.sub("", text)
        if "<" in rest:
            self.error(pointer, "contains an unescaped '<' (escape user text as &lt;)", policy=True)
        if _BARE_AMPERSAND.search(rest):
            self.error(
                pointer, "contains an unescaped '&' (escape user text as &amp;)", policy=True
            )

    # -- blocks -----------------------------------------------------------------------------

    def blocks(self, blocks: Any, pointer: str, maximum: int) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, list):
            self.error(pointer, "blocks must be an array")
            return
        if len(blocks) > maximum:
            self.error(pointer, f"no more than {maximum} blocks are allowed (was {len(blocks)})")
        seen_block_ids: set[str] = set()
        for index, block in enumerate(blocks):
            here = f"{pointer}/{index}"
            if not isinstance(block, dict):
                self.error(here, "each block must be an object")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.length(block_id, f"{here}/block_id", MAX_ID, minimum=1)
                if block_id in seen_block_ids:
                    self.error(f"{here}/block_id", f"duplicate block_id {block_id!r}")
                seen_block_ids.add(block_id)
            before = self.refusals
            self.block(block, here)
            if self.refusals == before:  # slack_sdk as a safety net, without repeating us
                self.sdk_block(block, here)

    def sdk_block(self, block: JSON, pointer: str) -> None:
        previous = _sdk_logger.level
        _sdk_logger.setLevel(logging.ERROR)  # unknown types are reported below instead
        try:
            parsed = Block.parse(block)
            if parsed is None:
                self.error(f"{pointer}/type", f"unknown block type {block.get('type')!r}")
            else:
                parsed.to_dict()
        except Exception as exc:  # slack_sdk raises several types for malformed input
            self.error(pointer, f"slack_sdk: {exc}")
        finally:
            _sdk_logger.setLevel(previous)

    def block(self, block: JSON, pointer: str) -> None:
        kind = block.get("type")
        action_ids: set[str] = set()
        if kind == "section":
            if block.get("text") is None and not block.get("fields"):
                self.error(pointer, "a section needs text or fields")
            if block.get("text") is not None:
                self.text(block["text"], f"{pointer}/text", 3000)
            fields = block.get("fields")
            if fields is not None:
                if len(fields) > 10:
                    self.error(f"{pointer}/fields", "no more than 10 fields are allowed")
                for i, item in enumerate(fields):
                    self.text(item, f"{pointer}/fields/{i}", 2000)
            accessory = block.get("accessory")
            if accessory is not None:
                if accessory.get("type") not in ACCESSORY_TYPES:
                    self.error(
                        f"{pointer}/accessory/type",
                        f"{accessory.get('type')!r} cannot be a section accessory",
                    )
                self.element(accessory, f"{pointer}/accessory", action_ids)
        elif kind == "header":
            self.text(block.get("text"), f"{pointer}/text", 150, plain_only=True)
        elif kind == "actions":
            items = block.get("elements") or []
            if not 1 <= len(items) <= 25:
                self.error(f"{pointer}/elements", "an actions block holds 1 to 25 elements")
            for i, element in enumerate(items):
                self.element(element, f"{pointer}/elements/{i}", action_ids)
        elif kind == "context":
            items = block.get("elements") or []
            if not 1 <= len(items) <= 10:
                self.error(f"{pointer}/elements", "a context block holds 1 to 10 elements")
            for i, element in enumerate(items):
                here = f"{pointer}/elements/{i}"
                if element.get("type") == "image":
                    self.length(element.get("alt_text"), f"{here}/alt_text", 2000, minimum=1)
                else:
                    self.text(element, here, 3000)
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", 2000, plain_only=True)
            if block.get("hint") is not None:
                self.text(block["hint"], f"{pointer}/hint", 2000, plain_only=True)
            element = block.get("element")
            if not isinstance(element, dict) or element.get("type") not in INPUT_ELEMENT_TYPES:
                self.error(f"{pointer}/element", "an input block needs an input element")
            else:
                self.element(element, f"{pointer}/element", action_ids)
        elif kind == "image":
            self.length(block.get("alt_text"), f"{pointer}/alt_text", 2000, minimum=1)
            if block.get("title") is not None:
                self.text(block["title"], f"{pointer}/title", 2000, plain_only=True)

    # -- elements ---------------------------------------------------------------------------

    def element(self, element: Any, pointer: str, action_ids: set[str]) -> None:
        if not isinstance(element, dict):
            self.error(pointer, "each element must be an object")
            return
        kind = element.get("type")
        action_id = element.get("action_id")
        if action_id is not None:
            self.length(action_id, f"{pointer}/action_id", MAX_ID, minimum=1)
            if action_id in action_ids:
                self.error(
                    f"{pointer}/action_id", f"duplicate action_id {action_id!r} in this block"
                )
            action_ids.add(action_id)
        if element.get("placeholder") is not None:
            self.text(element["placeholder"], f"{pointer}/placeholder", 150, plain_only=True)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{pointer}/confirm")
        if kind == "button":
            self.text(element.get("text"), f"{pointer}/text", 75, plain_only=True)
            self.length(element.get("value"), f"{pointer}/value", 2000)
            self.length(element.get("url"), f"{pointer}/url", 3000)
            if element.get("style") not in (None, "primary", "danger"):
                self.error(f"{pointer}/style", "button style must be primary or danger")
        elif kind == "overflow":
            options = element.get("options") or []
            if not 1 <= len(options) <= 5:
                self.error(f"{pointer}/options", "an overflow menu holds 1 to 5 options")
            self.options(options, f"{pointer}/options", plain_only=True)
        elif kind in ("static_select", "multi_static_select"):
            self.select_options(element, pointer)
        elif kind in ("checkboxes", "radio_buttons"):
            options = element.get("options") or []
            if not 1 <= len(options) <= 10:
                self.error(f"{pointer}/options", f"{kind} hold 1 to 10 options")
            self.options(options, f"{pointer}/options", plain_only=False)
            self.initial_options(element, options, pointer)
        elif kind == "plain_text_input":
            maximum = element.get("max_length")
            minimum = element.get("min_length")
            if maximum is not None and not 1 <= maximum <= 3000:
                self.error(f"{pointer}/max_length", "max_length must be between 1 and 3000")
            if minimum is not None and not 0 <= minimum <= 3000:
                self.error(f"{pointer}/min_length", "min_length must be between 0 and 3000")
            if maximum is not None and minimum is not None and minimum > maximum:
                self.error(f"{pointer}/min_length", "min_length must not exceed max_length")
            self.length(element.get("initial_value"), f"{pointer}/initial_value", 3000)
        elif kind == "number_input":
            if not isinstance(element.get("is_decimal_allowed"), bool):
                self.error(f"{pointer}/is_decimal_allowed", "is_decimal_allowed is required")
        elif kind == "datepicker":
            initial = element.get("initial_date")
            if initial is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(initial)):
                self.error(f"{pointer}/initial_date", "initial_date must be YYYY-MM-DD")
        elif kind == "timepicker":
            initial = element.get("initial_time")
            if initial is not None and not re.fullmatch(r"\d{2}:\d{2}", str(initial)):
                self.error(f"{pointer}/initial_time", "initial_time must be HH:mm")

    def select_options(self, element: JSON, pointer: str) -> None:
        options = element.get("options")
        groups = element.get("option_groups")
        if (options is None) == (groups is None):
            self.error(pointer, "a static select needs exactly one of options or option_groups")
            return
        every: list[JSON] = []
        if options is not None:
            if not 1 <= len(options) <= 100:
                self.error(f"{pointer}/options", "a select holds 1 to 100 options")
            self.options(options, f"{pointer}/options", plain_only=True)
            every = list(options)
        else:
            if not 1 <= len(groups) <= 100:
                self.error(f"{pointer}/option_groups", "a select holds 1 to 100 option groups")
            for i, group in enumerate(groups):
                here = f"{pointer}/option_groups/{i}"
                self.text(group.get("label"), f"{here}/label", 75, plain_only=True)
                group_options = group.get("options") or []
                if not 1 <= len(group_options) <= 100:
                    self.error(f"{here}/options", "an option group holds 1 to 100 options")
                self.options(group_options, f"{here}/options", plain_only=True)
                every.extend(group_options)
        self.initial_options(element, every, pointer)

    def initial_options(self, element: JSON, options: list[JSON], pointer: str) -> None:
        values = {o.get("value") for o in options if isinstance(o, dict)}
        chosen = list(element.get("initial_options") or [])
        if element.get("initial_option") is not None:
            chosen.append(element["initial_option"])
        for option in chosen:
            if not isinstance(option, dict) or option.get("value") not in values:
                self.error(pointer, "an initial option must be one of the options")

    def options(self, options: list[Any], pointer: str, *, plain_only: bool) -> None:
        for i, option in enumerate(options):
            here = f"{pointer}/{i}"
            if not isinstance(option, dict):
                self.error(here, "each option must be an object")
                continue
            self.text(option.get("text"), f"{here}/text", 75, plain_only=plain_only)
            self.length(option.get("value"), f"{here}/value", 150)
            if option.get("description") is not None:
                self.text(option["description"], f"{here}/description", 75, plain_only=plain_only)
            self.length(option.get("url"), f"{here}/url", 3000)

    def confirm(self, confirm: Any, pointer: str) -> None:
        if not isinstance(confirm, dict):
            self.error(pointer, "confirm must be an object")
            return
        self.text(confirm.get("title"), f"{pointer}/title", 100, plain_only=True)
        self.text(confirm.get("text"), f"{pointer}/text", 300)
        self.text(confirm.get("confirm"), f"{pointer}/confirm", 30, plain_only=True)
        self.text(confirm.get("deny"), f"{pointer}/deny", 30, plain_only=True)
