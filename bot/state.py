"""Small state carried through button values and modal `private_metadata`.

Slack gives a button `value` 2000 characters and `private_metadata` 3000, so these hold ids,
never copies of data; handlers re-read everything else from the database.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import DomainError


class CarriedState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def decode(cls, raw: str | None) -> Self:
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise DomainError(
                "Sorry, that button is from an older version of hearth. "
                "Run the command again to get a fresh one."
            ) from None


class SessionRef(CarriedState):
    """Points at a Lean Coffee session (button values on the board)."""

    s: int


class TopicRef(CarriedState):
    """Points at one topic of a session (vote buttons, topic menus)."""

    s: int
    t: int


class PollRef(CarriedState):
    """Points at a "Keep going?" poll."""

    p: int


class TopicMenuChoice(CarriedState):
    """Value of an option in a topic's overflow menu: what to do, and to which topic."""

    do: str
    s: int
    t: int


class LeanCoffeeModal(CarriedState):
    """`private_metadata` of Lean Coffee modals: where the modal was opened from."""

    channel: str
    s: int | None = None
    t: int | None = None
    page: int = 0


class CommunityRef(CarriedState):
    """Points at a channel's community (rota buttons)."""

    c: int


class MeetupRef(CarriedState):
    """Points at one meetup of a community."""

    c: int
    m: int


class SwapRef(CarriedState):
    """Points at a swap request."""

    w: int


class SwapAskedRef(CarriedState):
    """A swap request and the direct message that asked for it ("Withdraw the request"), so
    withdrawing can redraw that message. No `ch`/`ts` when the message could not be sent."""

    w: int
    ch: str | None = None
    ts: str | None = None


class RotaModal(CarriedState):
    """`private_metadata` of /rota modals."""

    channel: str
    c: int | None = None
    m: int | None = None


class CheckRef(CarriedState):
    """Points at one health check."""

    k: int


class AnswerRef(CarriedState):
    """An answer button: which check, which question (its stable key), which scale option."""

    k: int
    q: str
    o: str


class HealthModal(CarriedState):
    """`private_metadata` of /health-check modals."""

    channel: str
    c: int | None = None
    q: str | None = None


class MinutesRef(CarriedState):
    """Points at one set of minutes in the archive."""

    m: int


class ActionRef(CarriedState):
    """Points at one action ("Mark as done" buttons): its id in the table of `s`, where it
    was recorded. Buttons from before there were several sources carry no `s`: those were
    all Lean Coffee actions."""

    a: int
    s: str = "lean_coffee"


class HealthActionModal(CarriedState):
    """`private_metadata` of the form recording an action after a health check."""

    channel: str
    k: int


class ChatMeetupRef(CarriedState):
    """Points at one time-boxed chat meetup (buttons on its messages)."""

    m: int


class ChatMeetupModal(CarriedState):
    """`private_metadata` of /meetup modals: the channel, and the meetup once there is one."""

    channel: str
    m: int | None = None


class PersonalDataModal(CarriedState):
    """`private_metadata` of the "Your data" modals. Empty: whose data it is comes from
    Slack's signed payload (the person who clicked), never from anything carried."""
