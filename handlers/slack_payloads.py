"""Reading what Slack sent, shared by every domain's listeners: who acted, in which workspace
and channel, and whether that channel is somewhere hearth can work."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import Conflict
from bot.request_gate import MalformedPayload
from bot.services.actor import Actor

Body = dict[str, Any]

LEAN_COFFEE_IN_A_DM = (
    "Lean Coffee happens in a channel, so everyone can see the board. "
    "Run `/lean-coffee` in your community's channel."
)
LEAN_COFFEE_NOT_INVITED = (
    "I'm not in this channel yet, so I can't post the board here. "
    "Invite me with `/invite @hearth`, then try again."
)


def actor_for(client: AsyncWebClient, team_id: str, user_id: str) -> Actor:
    """The acting person; whether they are a workspace admin is asked of Slack only if needed."""

    async def is_admin() -> bool:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError:
            return False
        user = response.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner"))

    return Actor(team_id=team_id, user_id=user_id, is_admin=is_admin)


def _an_id(value: object, what: str) -> str:
    """Slack ids are non-empty strings; anything else is refused, not turned into "None"."""
    if isinstance(value, str) and value:
        return value
    raise MalformedPayload(f"the payload has no {what}")


def team_of(body: Body) -> str:
    """The workspace: `team.id`, else `team_id`, else (an org-wide install, where `team` is
    null) the acting person's own `user.team_id`."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id") is not None:
        return _an_id(team["id"], "team id")
    if body.get("team_id") is not None:
        return _an_id(body["team_id"], "team id")
    user = body.get("user")
    return _an_id(user.get("team_id") if isinstance(user, dict) else None, "team id")


def user_of(body: Body) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return _an_id(user.get("id"), "user id")
    return _an_id(body.get("user_id"), "user id")


def channel_of(body: Body) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict):
        return _an_id(channel.get("id"), "channel id")
    channel_id = body.get("channel_id")
    return None if channel_id is None else _an_id(channel_id, "channel id")


async def check_channel(
    client: AsyncWebClient,
    body: Body,
    *,
    in_a_dm: str = LEAN_COFFEE_IN_A_DM,
    not_invited: str = LEAN_COFFEE_NOT_INVITED,
) -> str:
    """Make sure a command came from a channel hearth can post in; say what to do if not.

    `in_a_dm` and `not_invited` are the explanations, worded for the command."""
    channel_id = str(body["channel_id"])
    if body.get("channel_name") == "directmessage" or channel_id.startswith("D"):
        raise Conflict(in_a_dm)
    try:
        response = await client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
            raise Conflict(not_invited) from None
        raise
    if not response["channel"].get("is_member", False):
        raise Conflict(not_invited)
    return channel_id
