"""Block Kit pieces every domain reuses: escaping, limits, dates, small builders, form errors.

Everything here is pure: builders take plain values and return `slack_sdk.models` objects, so
they can be unit-tested and validated with `to_dict()` without Slack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    InteractiveElement,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.errors import DomainError
from bot.ids import input_action_id
from bot.services.personal_data_types import FORGOTTEN_ID, SOMEONE

# Slack's limits (https://docs.slack.dev/reference/block-kit): builders stay inside them.
MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_SELECT_OPTIONS = 100
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_MODAL_TITLE = 24
MAX_CONFIRM_TEXT = 300
MAX_PLACEHOLDER = 150

ELLIPSIS = "…"

# What a dangling cut looks like at the end of escaped mrkdwn: half an entity or half a token.
_DANGLING = re.compile(r"(&[a-z#0-9]*|<[^>]*)$")


# --- text -------------------------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """Make user text inert in mrkdwn: `<!channel>` shows as text and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of `&`, `<`, `>` in text it sends us (slash commands, messages)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """Shorten plain text to at most `limit` characters, ending with "…" when cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def clip_mrkdwn(text: str, limit: int) -> str:
    """Shorten already-escaped mrkdwn without cutting an entity (`&amp;`) or token (`<@U1>`)."""
    if len(text) <= limit:
        return text
    cut = _DANGLING.sub("", text[: limit - 1]).rstrip()
    return cut + ELLIPSIS


def safe(text: str, limit: int | None = None) -> str:
    """User text ready for mrkdwn: shortened first (so the limit counts what people see), then
    escaped."""
    return escape_mrkdwn(truncate(text, limit) if limit else text)


def one_line(text: str) -> str:
    """Fold newlines and runs of spaces, for titles shown inline."""
    return " ".join(text.split())


def mention(user_id: str) -> str:
    """A user mention that Slack renders as the person's current name ("someone" for a
    person hearth has forgotten at their request)."""
    if user_id == FORGOTTEN_ID:
        return SOMEONE
    return f"<@{user_id}>"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 vote`, `3 votes`."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def list_words(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def duration_text(seconds: int) -> str:
    """A spoken length of time: `less than a minute`, `1 min`, `11 min`, `1 h 5 min`."""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def day_text(day: date) -> str:
    """A calendar day written out (`Fri 14 Jun 2024`).

    Dates such as due dates are days, not instants, so they are not shifted into each reader's
    time zone the way `slack_date` shifts moments.
    """
    return f"{day:%a} {day.day} {day:%b %Y}"


def slack_date(moment: datetime, token: str = "{date_short_pretty} at {time}") -> str:
    """A moment that Slack shows in each reader's own time zone, with a UTC fallback.

    Naive datetimes are taken to be UTC, as everywhere else in hearth.
    """
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    fallback = f"{utc:%a} {utc.day} {utc:%b %Y %H:%M} UTC"
    return f"<!date^{int(utc.timestamp())}^{token}|{fallback}>"


# --- text objects and blocks -----------------------------------------------------------------


def plain(text: str, *, emoji: bool = True) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=emoji)


def mrkdwn(text: str) -> MarkdownTextObject:
    """mrkdwn with `verbatim` on, so Slack never turns typed `@channel` or `#name` into
    mentions; our own `<@U1>` and `<!date…>` tokens still render."""
    return MarkdownTextObject(text=text, verbatim=True)


def section(
    text: str, *, accessory: InteractiveElement | None = None, block_id: str | None = None
) -> SectionBlock:
    """A section; its text is clipped to Slack's 3000 characters as a last guard."""
    return SectionBlock(
        text=mrkdwn(clip_mrkdwn(text, MAX_SECTION_TEXT)), accessory=accessory, block_id=block_id
    )


def header(text: str) -> HeaderBlock:
    """A header (plain text, so user text needs no escaping), shortened to fit."""
    return HeaderBlock(text=plain(truncate(one_line(text) or " ", MAX_HEADER_TEXT)))


def context(*texts: str) -> ContextBlock:
    """A context line made of up to ten mrkdwn pieces."""
    pieces = [t for t in texts if t][:MAX_CONTEXT_ELEMENTS]
    return ContextBlock(elements=[mrkdwn(clip_mrkdwn(t, MAX_SECTION_TEXT)) for t in pieces])


def divider() -> DividerBlock:
    return DividerBlock()


def button(
    text: str,
    action_id: StrEnum | str,
    value: str | None = None,
    *,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    """A button whose words say what it does; text is shortened to Slack's 75 characters."""
    if value is not None and len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"button value is {len(value)} characters; Slack allows 2000")
    return ButtonElement(
        text=plain(truncate(text, MAX_BUTTON_TEXT)),
        action_id=str(action_id),
        value=value,
        style=style,
        confirm=confirm,
    )


def actions(*elements: InteractiveElement, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(elements=list(elements)[:MAX_ACTIONS_ELEMENTS], block_id=block_id)


def confirm_dialog(
    title: str, text: str, *, confirm: str, deny: str = "Cancel", style: str | None = "danger"
) -> ConfirmObject:
    """A "are you sure?" dialog for buttons that cannot be undone."""
    return ConfirmObject(
        title=plain(truncate(title, 100)),
        text=mrkdwn(clip_mrkdwn(text, MAX_CONFIRM_TEXT)),
        confirm=plain(truncate(confirm, 30)),
        deny=plain(truncate(deny, 30)),
        style=style,
    )


def option(text: str, value: str) -> Option:
    """A select/overflow/checkbox option with its label shortened to fit."""
    if len(value) > MAX_OPTION_VALUE:
        raise ValueError(f"option value is {len(value)} characters; Slack allows 150")
    return Option(text=plain(truncate(one_line(text) or " ", MAX_OPTION_TEXT)), value=value)


def modal(
    *,
    title: str,
    callback_id: StrEnum | str,
    blocks: Sequence[Block],
    submit: str | None = None,
    close: str = "Cancel",
    private_metadata: str | None = None,
) -> View:
    """A modal view; title, submit and close are shortened to Slack's 24 characters."""
    return View(
        type="modal",
        callback_id=str(callback_id),
        title=plain(truncate(title, MAX_MODAL_TITLE)),
        submit=plain(truncate(submit, MAX_MODAL_TITLE)) if submit else None,
        close=plain(truncate(close, MAX_MODAL_TITLE)),
        blocks=list(blocks),
        private_metadata=private_metadata,
    )


def guide_blocks(title: str, paragraphs: Iterable[str]) -> list[Block]:
    """A command's help: a header, then a section for each mrkdwn paragraph."""
    return [header(title), *(section(text) for text in paragraphs)]


# --- long content ------------------------------------------------------------------------


def split_mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Cut escaped mrkdwn into pieces of at most `limit` characters, losing nothing.

    Cuts fall at a space when one is near, and never inside an entity (`&amp;`) or a token
    (`<@U1>`); only text with no safe place at all is cut hard.
    """
    pieces: list[str] = []
    while len(text) > limit:
        cut = limit
        space = text.rfind(" ", limit // 2, limit)
        if space > 0:
            cut = space
        else:
            dangling = _DANGLING.search(text[:limit])
            if dangling and dangling.start() > 0:
                cut = dangling.start()
        pieces.append(text[:cut])
        text = text[cut:].lstrip(" ")
    if text or not pieces:
        pieces.append(text)
    return pieces


def pack_lines(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Join mrkdwn lines into as few chunks as possible, each at most `limit` characters.

    Lines are kept whole where they fit; a line longer than `limit` continues in the next
    chunk rather than being cut short.
    """
    chunks: list[str] = []
    current = ""
    for line in (piece for raw in lines for piece in split_mrkdwn(raw, limit)):
        if not current:
            current = line
        elif len(current) + 1 + len(line) <= limit:
            current = f"{current}\n{line}"
        else:
            chunks.append(current)
            current = line
    if current:
        chunks.append(current)
    return chunks


def text_sections(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[SectionBlock]:
    """Sections holding `lines`, each within Slack's section text limit."""
    return [section(chunk) for chunk in pack_lines(lines, limit)]


def split_messages(
    blocks: Sequence[Block], per_message: int = MAX_MESSAGE_BLOCKS
) -> list[list[Block]]:
    """Split a long run of blocks into messages of at most `per_message` blocks each.

    A divider is never left dangling at the start or end of a message.
    """
    messages: list[list[Block]] = []
    current: list[Block] = []
    for block in blocks:
        if isinstance(block, DividerBlock) and not current:
            continue
        current.append(block)
        if len(current) == per_message:
            messages.append(current)
            current = []
    if current:
        messages.append(current)
    for message in messages:
        while len(message) > 1 and isinstance(message[-1], DividerBlock):
            message.pop()
    return messages


# --- modal forms ----------------------------------------------------------------------------


class FormErrors(DomainError):
    """A modal submission that cannot be used, with one friendly message per input block.

    Handlers answer with `ack(response_action="errors", errors=exc.errors)`; as a
    `DomainError` it also reads well when shown on its own.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        if not errors:
            raise ValueError("FormErrors needs at least one error")
        self.errors: dict[str, str] = {str(k): v for k, v in errors.items()}
        first_block, first_message = next(iter(self.errors.items()))
        super().__init__(first_message, field=first_block)


class Form(BaseModel):
    """A modal's submitted values as a typed, validated model.

    Subclasses map each field to the input block it came from (`blocks`), and raise
    `ValueError("friendly message")` in validators; `validate_raw` turns pydantic's errors into
    `FormErrors` keyed by block id so Slack shows each message under the right input.
    """

    model_config = ConfigDict(frozen=True)

    blocks: ClassVar[Mapping[str, str]] = {}
    fallback_message: ClassVar[str] = "Please check this answer."

    @classmethod
    def validate_raw(cls, raw: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> Self:
        try:
            return cls.model_validate(dict(raw), context=dict(context or {}))
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                block = cls.blocks.get(field, field or "form")
                cause = (error.get("ctx") or {}).get("error")
                message = str(cause) if isinstance(cause, ValueError) else cls.fallback_message
                errors.setdefault(block, message)
            raise FormErrors(errors) from None


def input_state(values: Mapping[str, Any], block: StrEnum | str) -> Mapping[str, Any]:
    """The state of the single input element in `block` (empty when the block is absent)."""
    elements = values.get(str(block)) or {}
    action_id = input_action_id(block) if isinstance(block, StrEnum) else f"{block}.input"
    if action_id in elements:
        return elements[action_id] or {}
    if len(elements) == 1:
        return next(iter(elements.values())) or {}
    return {}


def state_text(values: Mapping[str, Any], block: StrEnum | str) -> str | None:
    """What was typed into a plain-text or number input (None when left empty)."""
    value = input_state(values, block).get("value")
    return None if value is None else str(value)


def state_selected(values: Mapping[str, Any], block: StrEnum | str) -> str | None:
    """The value of the chosen option of a static select (None when nothing is chosen)."""
    selected = input_state(values, block).get("selected_option")
    return str(selected["value"]) if selected else None


def state_checked(values: Mapping[str, Any], block: StrEnum | str) -> set[str]:
    """The values of the ticked checkboxes."""
    return {str(o["value"]) for o in input_state(values, block).get("selected_options") or ()}


def state_user(values: Mapping[str, Any], block: StrEnum | str) -> str | None:
    """The person chosen in a users_select."""
    return input_state(values, block).get("selected_user") or None


def state_date(values: Mapping[str, Any], block: StrEnum | str) -> str | None:
    """The `YYYY-MM-DD` day chosen in a datepicker."""
    return input_state(values, block).get("selected_date") or None


def facilitator_input(block_id: StrEnum, facilitator_id: str | None, *, from_rota: bool) -> Block:
    """Who facilitates a session or meetup: preset to the starter, or to whoever's turn it is
    on the rota (then says so), and changeable."""
    return InputBlock(
        block_id=str(block_id),
        label=plain("Facilitator"),
        optional=True,
        hint=plain("It's their turn on the rota.") if from_rota else None,
        element=UserSelectElement(
            action_id=input_action_id(block_id),
            placeholder=plain("You, unless you pick someone"),
            initial_user=facilitator_id,
        ),
    )


def action_owner_input(block_id: StrEnum, *, optional: bool, hint: str | None = None) -> Block:
    """ "Who will do it?": the owner of an action, in every form that records one."""
    return InputBlock(
        block_id=str(block_id),
        label=plain("Who will do it?"),
        optional=optional,
        hint=plain(hint) if hint else None,
        element=UserSelectElement(
            action_id=input_action_id(block_id), placeholder=plain("Choose someone")
        ),
    )


def due_date_input(block_id: StrEnum, *, hint: str | None = None) -> Block:
    """ "By when?": an action's optional due date, when its owner is reminded."""
    return InputBlock(
        block_id=str(block_id),
        label=plain("By when?"),
        optional=True,
        hint=plain(hint) if hint else None,
        element=DatePickerElement(
            action_id=input_action_id(block_id), placeholder=plain("Pick a day")
        ),
    )
