"""The JSON shapes Slack uses for users, channels, messages and views (API and payloads)."""

from __future__ import annotations

from typing import Any

from bot.emulator.inputs import state_values
from bot.emulator.state import Channel, Ephemeral, Message, User, View, WorkspaceState

JSON = dict[str, Any]


def user_json(state: WorkspaceState, user: User) -> JSON:
    now = state.clock.now()
    profile: JSON = {
        "real_name": user.real_name,
        "display_name": user.name,
        "real_name_normalized": user.real_name,
        "display_name_normalized": user.name,
        "team": state.team.id,
        "status_text": user.status_text,
        "status_emoji": user.status_emoji,
        "status_expiration": user.status_expiration,
    }
    if user.email:
        profile["email"] = user.email
    if user.bot_id:
        profile["bot_id"] = user.bot_id
    return {
        "id": user.id,
        "team_id": state.team.id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz_label(now),
        "tz_offset": user.tz_offset(now),
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_primary_owner,
        "is_restricted": user.is_restricted,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": int(state.now()),
    }


def channel_json(state: WorkspaceState, channel: Channel) -> JSON:
    if channel.is_im:
        return {
            "id": channel.id,
            "created": channel.created,
            "is_im": True,
            "is_org_shared": False,
            "user": channel.im_user,
            "is_user_deleted": False,
            "priority": 0,
        }
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.name == "general",
        "creator": channel.creator or "",
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_member": state.bot_is_member(channel),
        "topic": {"value": channel.topic, "creator": "", "last_set": 0},
        "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
        "num_members": len(channel.members),
    }


def bot_profile(state: WorkspaceState) -> JSON:
    return {
        "id": state.bot_id,
        "app_id": state.app_id,
        "name": "hearth",
        "deleted": False,
        "team_id": state.team.id,
        "updated": 0,
        "icons": {},
    }


def message_json(state: WorkspaceState, message: Message) -> JSON:
    data: JSON = {"type": "message", "ts": message.ts, "text": message.text}
    if message.subtype:
        data["subtype"] = message.subtype
    if message.bot_id:
        data["bot_id"] = message.bot_id
        data["app_id"] = state.app_id
        data["user"] = state.bot_user_id
        data["bot_profile"] = bot_profile(state)
    elif message.user:
        data["user"] = message.user
    data["team"] = state.team.id
    if message.blocks:
        data["blocks"] = message.blocks
    if message.thread_ts:
        data["thread_ts"] = message.thread_ts
        if not message.is_reply:
            data["reply_count"] = message.reply_count
            data["reply_users_count"] = len(message.reply_users)
            data["reply_users"] = list(message.reply_users)
            data["latest_reply"] = message.latest_reply
        else:
            data["parent_user_id"] = _author(state, message.channel, message.thread_ts)
    if message.edited:
        data["edited"] = message.edited
    if message.metadata:
        data["metadata"] = message.metadata
    if message.files:
        data["files"] = message.files
    return data


def ephemeral_json(state: WorkspaceState, message: Ephemeral) -> JSON:
    data: JSON = {
        "type": "message",
        "subtype": "bot_message",
        "ts": message.ts,
        "text": message.text,
        "bot_id": message.bot_id or state.bot_id,
        "app_id": state.app_id,
    }
    if message.blocks:
        data["blocks"] = message.blocks
    if message.thread_ts:
        data["thread_ts"] = message.thread_ts
    return data


def _author(state: WorkspaceState, channel: str, ts: str) -> str | None:
    parent = state.find_message(channel, ts)
    if parent is None:
        return None
    return state.bot_user_id if parent.bot_id else parent.user


def view_json(state: WorkspaceState, view: View) -> JSON:
    return {
        "id": view.id,
        "team_id": view.team_id,
        "type": view.type,
        "blocks": view.blocks,
        "private_metadata": view.private_metadata,
        "callback_id": view.callback_id,
        "state": {"values": state_values(view)},
        "hash": view.hash,
        "title": view.title,
        "clear_on_close": view.clear_on_close,
        "notify_on_close": view.notify_on_close,
        "close": view.close,
        "submit": view.submit,
        "previous_view_id": view.previous_view_id,
        "root_view_id": view.root_view_id or view.id,
        "app_id": state.app_id,
        "external_id": view.external_id,
        "app_installed_team_id": state.team.id,
        "bot_id": state.bot_id,
    }
