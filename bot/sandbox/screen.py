"""What one person sees in the sandbox, as JSON for the page: their channels, the messages
there (with their own "only visible to you" ones and the files shared with them), threads,
modals, Home tab and the time; and which shared files they may open.

Read straight from the emulated workspace, so the page shows whatever hearth has made,
whatever the feature: nothing here knows about Lean Coffee.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.inputs import shown_blocks
from bot.emulator.state import (
    Channel,
    Ephemeral,
    Message,
    UploadedFile,
    User,
    View,
    WorkspaceState,
)

JSON = dict[str, Any]


def screen(state: WorkspaceState, user_id: str, *, moved_seconds: float, version: int) -> JSON:
    """Everything the page draws for `user_id`."""
    if user_id not in state.users or state.users[user_id].is_bot:
        raise KeyError(user_id)
    dm = state.im_with(user_id)
    channels = visible_channels(state, user_id)
    home = state.home_of(user_id)
    return {
        "version": version,
        "team": {"id": state.team.id, "name": state.team.name, "domain": state.team.domain},
        "me": user_id,
        "people": [_person(u) for u in state.users.values() if not u.is_bot and not u.deleted],
        "users": {u.id: _person(u) for u in state.users.values()},
        "channels": [_channel(state, c, user_id) for c in channels],
        "app": {
            "name": state.users[state.bot_user_id].real_name,
            "user_id": state.bot_user_id,
            "dm": dm.id,
        },
        "conversations": {
            c.id: conversation(state, c.id, user_id)
            for c in [*channels, dm]
            if _can_read(c, user_id)
        },
        "modals": [_view(v) for v in state.modal_stack(user_id)],
        "home": _view(home) if home is not None else None,
        "clock": {"now": state.now(), "moved_seconds": moved_seconds},
    }


def visible_channels(state: WorkspaceState, user_id: str) -> list[Channel]:
    """Channels (not DMs) the person is in, then public ones they could join, by name."""
    found = [
        c
        for c in state.channels.values()
        if not c.is_im and not c.is_archived and (user_id in c.members or not c.is_private)
    ]
    return sorted(found, key=lambda c: (user_id not in c.members, c.name))


def _can_read(channel: Channel, user_id: str) -> bool:
    return user_id in channel.members or not channel.is_private


def conversation(state: WorkspaceState, channel_id: str, user_id: str) -> list[JSON]:
    """A channel's messages and thread replies, with this person's private ones, oldest first."""
    shared: list[Message | Ephemeral] = [m for m in state.messages if m.channel == channel_id]
    private = state.ephemerals_for(user_id, channel_id)
    items = sorted([*shared, *private], key=lambda m: float(m.ts))
    return [_message(state, m) for m in items]


def _message(state: WorkspaceState, message: Message | Ephemeral) -> JSON:
    if isinstance(message, Ephemeral):
        return {
            "ts": message.ts,
            "user": state.bot_user_id,
            "bot": True,
            "text": message.text,
            "blocks": message.blocks,
            "ephemeral": True,
            "edited": False,
            "thread_ts": message.thread_ts,
            "is_reply": message.thread_ts is not None,
            "in_channel": message.thread_ts is None,
            "reply_count": 0,
            "reply_users": [],
            "files": [],
        }
    bot = message.bot_id is not None
    return {
        "ts": message.ts,
        "user": state.bot_user_id if bot else message.user,
        "bot": bot,
        "text": message.text,
        "blocks": message.blocks,
        "ephemeral": False,
        "edited": message.edited is not None,
        "thread_ts": message.thread_ts,
        "is_reply": message.is_reply,
        "in_channel": not message.is_reply or message.subtype == "thread_broadcast",
        "reply_count": message.reply_count,
        "reply_users": list(message.reply_users),
        "files": [_file(f) for f in message.files],
    }


def _file(shared: JSON) -> JSON:
    """A file shared with a message, as its card shows it (opened through `/api/file`)."""
    return {
        "id": shared.get("id"),
        "name": shared.get("name"),
        "title": shared.get("title") or shared.get("name"),
        "size": shared.get("size", 0),
    }


def readable_file(state: WorkspaceState, user_id: str, file_id: str) -> UploadedFile:
    """A shared file `user_id` may open: one shared in a channel they can read.
    KeyError for anything else (unknown, unfinished, or only in channels closed to them)."""
    if user_id not in state.users or state.users[user_id].is_bot:
        raise KeyError(user_id)
    file = state.files.get(file_id)
    if file is None or not file.completed or file.content is None:
        raise KeyError(file_id)
    for channel_id in file.channels:
        channel = state.channels.get(channel_id)
        if channel is not None and _can_read(channel, user_id):
            return file
    raise KeyError(file_id)


def _view(view: View) -> JSON:
    return {
        "id": view.id,
        "type": view.type,
        "title": view.title,
        "submit": view.submit,
        "close": view.close,
        "blocks": shown_blocks(view),
        "errors": dict(view.errors),
        "hash": view.hash,
        "callback_id": view.callback_id,
    }


def _person(user: User) -> JSON:
    return {
        "id": user.id,
        "name": user.name,
        "real_name": user.real_name,
        "is_admin": user.is_admin,
        "is_bot": user.is_bot,
        "tz": user.tz,
    }


def _channel(state: WorkspaceState, channel: Channel, user_id: str) -> JSON:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_private": channel.is_private,
        "is_member": user_id in channel.members,
        "bot_is_member": state.bot_is_member(channel),
        "members": len(channel.members - {state.bot_user_id}),
        "topic": channel.topic,
    }
