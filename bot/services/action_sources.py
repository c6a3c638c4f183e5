"""Where actions are recorded, each read the same way.

Lean Coffee takeaways marked as actions, meetup takeaways with an owner and actions recorded
after a health check live in three tables with three sets of ids. Each `ActionSource` knows
its table: one select giving the same labelled columns (`COLUMNS`), the conditions that keep
it to one workspace, its channel, and the titles people recognise it by. `bot.services.actions`
runs the same query against every source and merges what they return.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, func, null, select

from bot.services.meetup import title_of
from models.community import Community
from models.health_check import HealthCheck, HealthCheckSetup
from models.health_check_actions import HealthCheckAction
from models.lean_coffee import LeanCoffeeSession, LeanCoffeeTakeaway, LeanCoffeeTopic
from models.meetup import ChatMeetup, ChatMeetupPrompt, ChatMeetupTakeaway

LEAN_COFFEE = "lean_coffee"
MEETUP = "meetup"
HEALTH_CHECK = "health_check"

# The labelled columns every source's select gives, in this order.
COLUMNS = (
    "id",
    "team_id",
    "channel_id",
    "text",
    "owner_id",
    "author_id",
    "due_date",
    "created_at",
    "done_at",
    "done_by_id",
    "facilitator_id",  # who ran the meeting the action came from
    "topic",  # what was being discussed, when the source knows (else None)
    "meeting",  # the meeting's own title, when it has one (else None)
    "held_at",  # when the meeting took place
)

ActionRow = LeanCoffeeTakeaway | ChatMeetupTakeaway | HealthCheckAction


class ActionSource(ABC):
    """One table of actions. `model`'s columns `id`, `owner_id`, `due_date`, `created_at`,
    `done_at` and `done_by_id` mean the same in every source."""

    name: ClassVar[str]
    model: ClassVar[type[ActionRow]]

    @abstractmethod
    def select(self) -> Select[Any]:
        """The source's actions (only those: not plain takeaways), with `COLUMNS`."""

    @abstractmethod
    def in_team(self, team_id: str) -> list[ColumnElement[bool]]:
        """Conditions keeping the select to one workspace (on every table that has a team)."""

    @abstractmethod
    def channel(self) -> ColumnElement[str]:
        """The column holding the channel the action was recorded in."""

    @abstractmethod
    def titles(self, row: Mapping[str, Any]) -> tuple[str, str]:
        """(topic title, meeting title) of a row of the select."""


class LeanCoffeeActions(ActionSource):
    name = LEAN_COFFEE
    model = LeanCoffeeTakeaway

    def select(self) -> Select[Any]:
        return (
            select(
                LeanCoffeeTakeaway.id.label("id"),
                LeanCoffeeTakeaway.team_id.label("team_id"),
                LeanCoffeeSession.channel_id.label("channel_id"),
                LeanCoffeeTakeaway.text.label("text"),
                LeanCoffeeTakeaway.owner_id.label("owner_id"),
                LeanCoffeeTakeaway.author_id.label("author_id"),
                LeanCoffeeTakeaway.due_date.label("due_date"),
                LeanCoffeeTakeaway.created_at.label("created_at"),
                LeanCoffeeTakeaway.done_at.label("done_at"),
                LeanCoffeeTakeaway.done_by_id.label("done_by_id"),
                LeanCoffeeSession.facilitator_id.label("facilitator_id"),
                LeanCoffeeTopic.title.label("topic"),
                LeanCoffeeSession.title.label("meeting"),
                LeanCoffeeSession.started_at.label("held_at"),
            )
            .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeeTakeaway.session_id)
            .join(LeanCoffeeTopic, LeanCoffeeTopic.id == LeanCoffeeTakeaway.topic_id)
            .where(LeanCoffeeTakeaway.is_action.is_(True))
        )

    def in_team(self, team_id: str) -> list[ColumnElement[bool]]:
        return [LeanCoffeeTakeaway.team_id == team_id, LeanCoffeeSession.team_id == team_id]

    def channel(self) -> ColumnElement[str]:
        return LeanCoffeeSession.channel_id

    def titles(self, row: Mapping[str, Any]) -> tuple[str, str]:
        return str(row["topic"]), str(row["meeting"])


class MeetupActions(ActionSource):
    """A chat meetup's takeaways that have an owner. A meetup has no title of its own: it is
    known by its first prompt, as in its minutes."""

    name = MEETUP
    model = ChatMeetupTakeaway

    def select(self) -> Select[Any]:
        first_prompt = (
            select(ChatMeetupPrompt.text)
            .where(ChatMeetupPrompt.meetup_id == ChatMeetup.id)
            .order_by(ChatMeetupPrompt.position)
            .limit(1)
            .correlate(ChatMeetup)
            .scalar_subquery()
        )
        return (
            select(
                ChatMeetupTakeaway.id.label("id"),
                ChatMeetup.team_id.label("team_id"),
                ChatMeetup.channel_id.label("channel_id"),
                ChatMeetupTakeaway.text.label("text"),
                ChatMeetupTakeaway.owner_id.label("owner_id"),
                ChatMeetupTakeaway.author_id.label("author_id"),
                ChatMeetupTakeaway.due_date.label("due_date"),
                ChatMeetupTakeaway.created_at.label("created_at"),
                ChatMeetupTakeaway.done_at.label("done_at"),
                ChatMeetupTakeaway.done_by_id.label("done_by_id"),
                ChatMeetup.facilitator_id.label("facilitator_id"),
                null().label("topic"),
                first_prompt.label("meeting"),
                ChatMeetup.started_at.label("held_at"),
            )
            .join(ChatMeetup, ChatMeetup.id == ChatMeetupTakeaway.meetup_id)
            .where(ChatMeetupTakeaway.owner_id.is_not(None))
        )

    def in_team(self, team_id: str) -> list[ColumnElement[bool]]:
        return [ChatMeetup.team_id == team_id]

    def channel(self) -> ColumnElement[str]:
        return ChatMeetup.channel_id

    def titles(self, row: Mapping[str, Any]) -> tuple[str, str]:
        first = row["meeting"]
        title = title_of([ChatMeetupPrompt(text=first)] if first else [])
        return title, title


class HealthCheckActions(ActionSource):
    """Actions recorded from a health check's results. Whoever ran the check (or, for a
    scheduled one, set up the community's checks) stands in for a facilitator."""

    name = HEALTH_CHECK
    model = HealthCheckAction

    def select(self) -> Select[Any]:
        return (
            select(
                HealthCheckAction.id.label("id"),
                HealthCheckAction.team_id.label("team_id"),
                Community.channel_id.label("channel_id"),
                HealthCheckAction.text.label("text"),
                HealthCheckAction.owner_id.label("owner_id"),
                HealthCheckAction.author_id.label("author_id"),
                HealthCheckAction.due_date.label("due_date"),
                HealthCheckAction.created_at.label("created_at"),
                HealthCheckAction.done_at.label("done_at"),
                HealthCheckAction.done_by_id.label("done_by_id"),
                func.coalesce(HealthCheck.started_by_id, HealthCheckSetup.created_by_id).label(
                    "facilitator_id"
                ),
                null().label("topic"),
                null().label("meeting"),
                func.coalesce(HealthCheck.closed_at, HealthCheck.opened_at).label("held_at"),
            )
            .join(HealthCheck, HealthCheck.id == HealthCheckAction.check_id)
            .join(Community, Community.id == HealthCheck.community_id)
            .outerjoin(HealthCheckSetup, HealthCheckSetup.community_id == HealthCheck.community_id)
        )

    def in_team(self, team_id: str) -> list[ColumnElement[bool]]:
        return [
            HealthCheckAction.team_id == team_id,
            HealthCheck.team_id == team_id,
            Community.team_id == team_id,
        ]

    def channel(self) -> ColumnElement[str]:
        return Community.channel_id

    def titles(self, row: Mapping[str, Any]) -> tuple[str, str]:
        title = check_title(row["held_at"])
        return title, title


def check_title(held_at: datetime | None) -> str:
    """`Health check, 3 Dec 2026`."""
    if held_at is None:
        return "Health check"
    return f"Health check, {held_at.day} {held_at:%b %Y}"


SOURCES: dict[str, ActionSource] = {
    source.name: source for source in (LeanCoffeeActions(), MeetupActions(), HealthCheckActions())
}
