"""What Slack sends the app: slash command fields, interaction payloads, event envelopes.

Shapes follow Slack's documented payloads field for field, so Bolt (and hearth's parsing of
payloads into pydantic models) sees exactly what production would send.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from bot.emulator.blocktree import Element, text_of
from bot.emulator.render import message_json, view_json
from bot.emulator.state import Channel, Ephemeral, Message, User, View, WorkspaceState

JSON = dict[str, Any]

VERIFICATION_TOKEN = "emulator-verification-token"

_MENTION = re.compile(r"(?<![\w<|])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_CHANNEL = re.compile(r"(?<![\w<|&])#([a-z0-9][a-z0-9_-]*)", re.IGNORECASE)
_URL = re.compile(r"(?<![<|])\bhttps?://[^\s<>]+")


def action_ts(state: WorkspaceState) -> str:
    now = state.now()
    return f"{now:.6f}"


def escape_command_text(state: WorkspaceState, text: str) -> str:
    """Slash command text as Slack sends it with "Escape channels, users, and links" on."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def user(match: re.Match[str]) -> str:
        name = match.group(1).rstrip(".")
        if name in ("here", "channel", "everyone"):
            return f"<!{name}>" + match.group(1)[len(name) :]
        found = state.user_by_name(name)
        if found is None:
            return match.group(0)
        return f"<@{found.id}|{found.name}>" + match.group(1)[len(name) :]

    def channel(match: re.Match[str]) -> str:
        found = state.channel_by_name(match.group(1))
        return match.group(0) if found is None else f"<#{found.id}|{found.name}>"

    escaped = _URL.sub(lambda m: f"<{m.group(0)}>", escaped)
    escaped = _MENTION.sub(user, escaped)
    return _CHANNEL.sub(channel, escaped)


def channel_name(channel: Channel) -> str:
    """The `channel_name` Slack puts in slash commands."""
    if channel.is_im:
        return "directmessage"
    if channel.is_private:
        return "privategroup"
    return channel.name


def _team(state: WorkspaceState) -> JSON:
    return {"id": state.team.id, "domain": state.team.domain}


def _user(state: WorkspaceState, user: User) -> JSON:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": state.team.id}


def slash_command(
    state: WorkspaceState,
    *,
    user: User,
    channel: Channel,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": state.team.id,
        "team_domain": state.team.domain,
        "channel_id": channel.id,
        "channel_name": channel_name(channel),
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": escape_command_text(state, text),
        "api_app_id": state.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def action_json(state: WorkspaceState, element: Element, selection: JSON | None = None) -> JSON:
    """One entry of `actions`: the element clicked or chosen, with what was picked."""
    data: JSON = {
        "type": element.type,
        "action_id": element.action_id,
        "block_id": element.block_id,
        "action_ts": action_ts(state),
    }
    if element.type == "button":
        data["text"] = element.element.get("text")
        if "value" in element.element:
            data["value"] = element.element["value"]
        if "style" in element.element:
            data["style"] = element.element["style"]
    elif element.element.get("placeholder") is not None:
        data["placeholder"] = element.element["placeholder"]
    data.update(selection or {})
    return data


def block_actions_from_message(
    state: WorkspaceState,
    *,
    user: User,
    message: Message | Ephemeral,
    actions: list[JSON],
    trigger_id: str,
    response_url: str,
) -> JSON:
    channel = state.channels[message.channel]
    ephemeral = isinstance(message, Ephemeral)
    container: JSON = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": channel.id,
        "is_ephemeral": ephemeral,
    }
    if message.thread_ts:
        container["thread_ts"] = message.thread_ts
    payload: JSON = {
        "type": "block_actions",
        "user": _user(state, user),
        "api_app_id": state.app_id,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": _team(state),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": channel_name(channel)},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": actions,
    }
    if not ephemeral:  # Slack leaves the message out of payloads from ephemeral messages
        payload["message"] = message_json(state, message)
    return payload


def block_actions_from_view(
    state: WorkspaceState, *, user: User, view: View, actions: list[JSON], trigger_id: str
) -> JSON:
    return {
        "type": "block_actions",
        "user": _user(state, user),
        "api_app_id": state.app_id,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view.id},
        "trigger_id": trigger_id,
        "team": _team(state),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view_json(state, view),
        "actions": actions,
    }


def view_submission(state: WorkspaceState, *, user: User, view: View, trigger_id: str) -> JSON:
    return {
        "type": "view_submission",
        "team": _team(state),
        "user": _user(state, user),
        "api_app_id": state.app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view_json(state, view),
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(state: WorkspaceState, *, user: User, view: View, is_cleared: bool) -> JSON:
    return {
        "type": "view_closed",
        "team": _team(state),
        "user": _user(state, user),
        "api_app_id": state.app_id,
        "token": VERIFICATION_TOKEN,
        "view": view_json(state, view),
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def event_callback(state: WorkspaceState, event: JSON) -> JSON:
    """The Events API envelope around one event."""
    event = {"event_ts": action_ts(state), **event}
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": state.team.id,
        "context_team_id": state.team.id,
        "api_app_id": state.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev0{secrets.token_hex(5).upper()}",
        "event_time": int(state.now()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": state.team.id,
                "user_id": state.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": secrets.token_hex(16),
    }


def option_label(option: JSON) -> str:
    return text_of(option.get("text"))
