"""Lean Coffee modal submissions, read into typed values with friendly errors.

Each form reads `view["state"]["values"]` with `from_state(...)` and either returns a frozen
pydantic model or raises `FormErrors` keyed by the input block the message belongs under.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator, model_validator

from bot.blocks.common import (
    Form,
    FormErrors,
    state_checked,
    state_date,
    state_selected,
    state_text,
    state_user,
    unescape_slack,
)
from bot.blocks.lean_coffee import (
    ACTION_CHECKBOX_VALUE,
    ANONYMOUS_CHECKBOX_VALUE,
    DEFAULT_SESSION_TITLE,
    MAX_EXTENSIONS,
    MAX_MINUTES,
    MAX_VOTES,
    MIN_MINUTES,
    MIN_VOTES,
)
from bot.errors import InvalidInput
from bot.ids import LeanCoffeeBlock
from bot.services.lean_coffee_types import (
    SESSION_TITLE_MAX,
    TAKEAWAY_MAX,
    TOPIC_DETAIL_MAX,
    TOPIC_TITLE_MAX,
)

_MINUTE_WORDS = re.compile(r"(?i)\b(minutes?|mins?|m)\b|\+")
_SEPARATORS = re.compile(r"[,;\s]+")
# Slack's own tokens in slash-command text: <@U1|name>, <#C1|name>, <https://x|label>, <https://x>
_SLACK_TOKEN = re.compile(r"<([@#!]?)[^|<>]*\|([^<>]*)>|<([^@#!<>|][^<>|]*)>")

State = Mapping[str, Any]


def _whole_number(raw: object, message: str, low: int, high: int) -> int:
    """An integer between `low` and `high` from a number input, or `ValueError(message)`."""
    if isinstance(raw, bool):
        raise ValueError(message)
    if isinstance(raw, int):
        number = raw
    else:
        text = str(raw or "").strip()
        if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
            raise ValueError(message)
        number = int(float(text))
    if not low <= number <= high:
        raise ValueError(message)
    return number


def _optional_text(raw: object) -> str | None:
    text = str(raw).strip() if raw is not None else ""
    return text or None


def parse_extensions(raw: str | None) -> tuple[int, ...]:
    """`"4, 2"`, `"4 2"` or `"+4 min, +2 min"` → `(4, 2)`; empty means no extensions."""
    cleaned = _MINUTE_WORDS.sub(" ", raw or "")
    parts = [p for p in _SEPARATORS.split(cleaned) if p]
    message = (
        f"Use whole minutes from {MIN_MINUTES} to {MAX_MINUTES}, separated by commas, "
        "like 4, 2. Leave it empty for no extra time."
    )
    minutes = tuple(_whole_number(p, message, MIN_MINUTES, MAX_MINUTES) for p in parts)
    if len(minutes) > MAX_EXTENSIONS:
        raise ValueError(
            f"That's {len(minutes)} extensions; up to {MAX_EXTENSIONS} keeps things moving. "
            "Try something like 4, 2."
        )
    return minutes


class StartForm(Form):
    """Settings for a new Lean Coffee (the start modal)."""

    blocks: ClassVar[Mapping[str, str]] = {
        "title": LeanCoffeeBlock.TITLE,
        "votes_per_person": LeanCoffeeBlock.VOTES,
        "timebox_minutes": LeanCoffeeBlock.TIMEBOX,
        "extension_minutes": LeanCoffeeBlock.EXTENSIONS,
        "anonymous_topics": LeanCoffeeBlock.ANONYMOUS,
        "facilitator_id": LeanCoffeeBlock.FACILITATOR,
    }

    title: str = DEFAULT_SESSION_TITLE
    votes_per_person: int
    timebox_minutes: int
    extension_minutes: tuple[int, ...]
    anonymous_topics: bool = False
    facilitator_id: str | None = None  # None: whoever starts it

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, raw: object) -> str:
        title = " ".join(str(raw or "").split()) or DEFAULT_SESSION_TITLE
        if len(title) > SESSION_TITLE_MAX:
            raise ValueError(
                f"Keep the name to {SESSION_TITLE_MAX} characters or fewer "
                f"(this one is {len(title)})."
            )
        return title

    @field_validator("votes_per_person", mode="before")
    @classmethod
    def _votes(cls, raw: object) -> int:
        return _whole_number(
            raw,
            f"Choose between {MIN_VOTES} and {MAX_VOTES} dots per person.",
            MIN_VOTES,
            MAX_VOTES,
        )

    @field_validator("timebox_minutes", mode="before")
    @classmethod
    def _timebox(cls, raw: object) -> int:
        return _whole_number(
            raw,
            f"Choose between {MIN_MINUTES} and {MAX_MINUTES} minutes per topic.",
            MIN_MINUTES,
            MAX_MINUTES,
        )

    @field_validator("extension_minutes", mode="before")
    @classmethod
    def _extensions(cls, raw: object) -> tuple[int, ...]:
        if isinstance(raw, tuple | list):
            return parse_extensions(", ".join(str(m) for m in raw))
        return parse_extensions(None if raw is None else str(raw))

    @classmethod
    def from_state(cls, values: State) -> StartForm:
        return cls.validate_raw(
            {
                "title": state_text(values, LeanCoffeeBlock.TITLE),
                "votes_per_person": state_text(values, LeanCoffeeBlock.VOTES),
                "timebox_minutes": state_text(values, LeanCoffeeBlock.TIMEBOX),
                "extension_minutes": state_text(values, LeanCoffeeBlock.EXTENSIONS),
                "anonymous_topics": ANONYMOUS_CHECKBOX_VALUE
                in state_checked(values, LeanCoffeeBlock.ANONYMOUS),
                "facilitator_id": state_user(values, LeanCoffeeBlock.FACILITATOR),
            }
        )


class TopicForm(Form):
    """A proposed or edited topic."""

    blocks: ClassVar[Mapping[str, str]] = {
        "title": LeanCoffeeBlock.TOPIC_TITLE,
        "detail": LeanCoffeeBlock.TOPIC_DETAIL,
    }

    title: str
    detail: str | None = None

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, raw: object) -> str:
        title = " ".join(str(raw or "").split())
        if not title:
            raise ValueError("Give your topic a title, a few words are enough.")
        if len(title) > TOPIC_TITLE_MAX:
            raise ValueError(
                f"Titles can be up to {TOPIC_TITLE_MAX} characters and this one is "
                f"{len(title)}. Shorten it and put the rest in the details."
            )
        return title

    @field_validator("detail", mode="before")
    @classmethod
    def _detail(cls, raw: object) -> str | None:
        detail = _optional_text(raw)
        if detail and len(detail) > TOPIC_DETAIL_MAX:
            raise ValueError(
                f"Details can be up to {TOPIC_DETAIL_MAX} characters and these are "
                f"{len(detail)}. Could you trim them a little?"
            )
        return detail

    @classmethod
    def from_state(cls, values: State) -> TopicForm:
        return cls.validate_raw(
            {
                "title": state_text(values, LeanCoffeeBlock.TOPIC_TITLE),
                "detail": state_text(values, LeanCoffeeBlock.TOPIC_DETAIL),
            }
        )


def _plain_from_slack(text: str) -> str:
    """Slash-command text as the person typed it: Slack's tokens become their labels and its
    escaping is undone (we escape again whenever we show it)."""

    def label(match: re.Match[str]) -> str:
        if match.group(3) is not None:
            return match.group(3)
        return f"{match.group(1) if match.group(1) in ('@', '#') else ''}{match.group(2)}"

    return unescape_slack(_SLACK_TOKEN.sub(label, text))


def parse_topic_text(text: str) -> TopicForm:
    """A topic typed after `/lean-coffee`, held to the same rules as the propose modal."""
    try:
        return TopicForm.validate_raw({"title": _plain_from_slack(text)})
    except FormErrors as exc:
        raise InvalidInput(
            exc.errors.get(LeanCoffeeBlock.TOPIC_TITLE, exc.message)
            + " You can also click *Propose a topic* on the board.",
            field=LeanCoffeeBlock.TOPIC_TITLE,
        ) from None


class MergeForm(Form):
    """The topic to keep when merging."""

    blocks: ClassVar[Mapping[str, str]] = {"topic_id": LeanCoffeeBlock.MERGE_INTO}

    topic_id: int

    @field_validator("topic_id", mode="before")
    @classmethod
    def _topic(cls, raw: object) -> int:
        if raw is None or not str(raw).strip().isdigit():
            raise ValueError("Pick the topic to merge into.")
        return int(str(raw))

    @classmethod
    def from_state(cls, values: State) -> MergeForm:
        return cls.validate_raw({"topic_id": state_selected(values, LeanCoffeeBlock.MERGE_INTO)})


class TakeawayForm(Form):
    """A takeaway, or an action (someone to do it, optionally by a day)."""

    blocks: ClassVar[Mapping[str, str]] = {
        "topic_id": LeanCoffeeBlock.TAKEAWAY_TOPIC,
        "text": LeanCoffeeBlock.TAKEAWAY_TEXT,
        "is_action": LeanCoffeeBlock.TAKEAWAY_IS_ACTION,
        "due_date": LeanCoffeeBlock.ACTION_DUE,
        "owner_id": LeanCoffeeBlock.ACTION_OWNER,
    }

    # Order matters: owner_id's check reads is_action, already validated above it.
    topic_id: int
    text: str
    is_action: bool = False
    due_date: date | None = None
    owner_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _owner_or_due_makes_an_action(cls, raw: object) -> object:
        """Choosing who does it or by when only makes sense for an action, so it is one."""
        if isinstance(raw, Mapping) and (raw.get("owner_id") or raw.get("due_date")):
            return {**raw, "is_action": True}
        return raw

    @field_validator("topic_id", mode="before")
    @classmethod
    def _topic(cls, raw: object) -> int:
        if raw is None or not str(raw).strip().isdigit():
            raise ValueError("Pick the topic this takeaway belongs to.")
        return int(str(raw))

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, raw: object) -> str:
        text = _optional_text(raw)
        if not text:
            raise ValueError("Write the takeaway, a sentence is plenty.")
        if len(text) > TAKEAWAY_MAX:
            raise ValueError(
                f"Takeaways can be up to {TAKEAWAY_MAX} characters and this one is "
                f"{len(text)}. Could you shorten it?"
            )
        return text

    @field_validator("due_date", mode="after")
    @classmethod
    def _due(cls, due: date | None, info: ValidationInfo) -> date | None:
        today = (info.context or {}).get("today")
        if due is not None and today is not None and due < today:
            raise ValueError("That day has already passed. Pick today or a later day.")
        return due

    @field_validator("owner_id", mode="before")
    @classmethod
    def _owner(cls, raw: object, info: ValidationInfo) -> str | None:
        owner = _optional_text(raw)
        if info.data.get("is_action") and not owner:
            raise ValueError("Who will do this? Pick someone, or untick “This is an action”.")
        return owner

    @classmethod
    def from_state(cls, values: State, *, today: date) -> TakeawayForm:
        """`today` is the submitter's day, so a due date before it can be refused."""
        return cls.validate_raw(
            {
                "topic_id": state_selected(values, LeanCoffeeBlock.TAKEAWAY_TOPIC),
                "text": state_text(values, LeanCoffeeBlock.TAKEAWAY_TEXT),
                "is_action": ACTION_CHECKBOX_VALUE
                in state_checked(values, LeanCoffeeBlock.TAKEAWAY_IS_ACTION),
                "due_date": state_date(values, LeanCoffeeBlock.ACTION_DUE),
                "owner_id": state_user(values, LeanCoffeeBlock.ACTION_OWNER),
            },
            context={"today": today},
        )


class HandOverForm(Form):
    """Who takes over facilitating. (The handler refuses bots.)"""

    blocks: ClassVar[Mapping[str, str]] = {"user_id": LeanCoffeeBlock.NEW_FACILITATOR}

    user_id: str

    @field_validator("user_id", mode="before")
    @classmethod
    def _user(cls, raw: object) -> str:
        user = _optional_text(raw)
        if not user:
            raise ValueError("Pick who should take over.")
        return user

    @classmethod
    def from_state(cls, values: State) -> HandOverForm:
        return cls.validate_raw({"user_id": state_user(values, LeanCoffeeBlock.NEW_FACILITATOR)})
