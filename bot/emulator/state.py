"""The emulated workspace: plain dataclasses, no I/O, no Slack JSON shapes.

Everything the emulator knows lives here so that the Web API, the user driver and the
browser sandbox read and change one model. Values are plain (str, int, dict, list), so any
of it can be turned into JSON with `dataclasses.asdict`.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.clock import Clock, SystemClock

TRIGGER_LIFETIME_SECONDS = 3.0
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60.0
RESPONSE_URL_MAX_USES = 5
MAX_VIEW_STACK = 3

JSON = dict[str, Any]


@dataclass
class Team:
    id: str = "T0HEARTH"
    name: str = "Hearth Community"
    domain: str = "hearth-community"


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/London"
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    is_restricted: bool = False
    deleted: bool = False
    bot_id: str | None = None
    email: str | None = None
    # The custom status people set ("Vacationing", :palm_tree:); expiration 0 = never.
    status_text: str = ""
    status_emoji: str = ""
    status_expiration: int = 0

    def tz_offset(self, moment: datetime) -> int:
        """Seconds east of UTC at `moment`, as Slack reports it (changes with DST)."""
        offset = moment.astimezone(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def tz_label(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.tz)).tzname() or self.tz


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    created: int = 0
    creator: str | None = None
    im_user: str | None = None
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""

    @property
    def kind(self) -> Literal["channel", "group", "im"]:
        """Slack's `channel_type` in events: public channel, private channel or DM."""
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"


@dataclass
class Message:
    channel: str
    ts: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    reply_count: int = 0
    reply_users: list[str] = field(default_factory=list)
    latest_reply: str | None = None
    edited: JSON | None = None
    subtype: str | None = None
    metadata: JSON | None = None
    files: list[JSON] = field(default_factory=list)  # files shared with the message

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    """A message only `user` can see; Slack never stores it where the API can read it."""

    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None


@dataclass
class View:
    id: str
    team_id: str
    user_id: str
    type: Literal["modal", "home"]
    blocks: list[JSON] = field(default_factory=list)
    callback_id: str = ""
    external_id: str = ""
    private_metadata: str = ""
    title: JSON | None = None
    submit: JSON | None = None
    close: JSON | None = None
    notify_on_close: bool = False
    clear_on_close: bool = False
    hash: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, JSON]] = field(default_factory=dict)
    is_open: bool = True


@dataclass
class UploadedFile:
    """A file the app uploaded (files.getUploadURLExternal, the upload, then
    files.completeUploadExternal), and where it was shared."""

    id: str
    name: str
    length: int
    title: str = ""
    content: bytes | None = None  # None until the bytes arrive at the upload URL
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str = ""

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8")


@dataclass
class Trigger:
    id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where the app may answer an interaction, and what "the original message" is."""

    id: str
    channel: str
    user_id: str
    issued_at: float
    message_ts: str | None = None
    original_is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


class WorkspaceState:
    """One team, its people, channels, messages and views, with Slack-shaped ids and ts."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        team: Team | None = None,
        bot_user_id: str = "U0HEARTHBOT",
        bot_id: str = "B0HEARTH",
        first_id: int = 1,
    ) -> None:
        """One workspace. Another workspace the app is installed in has its own bot user
        (`bot_user_id`, `bot_id`) and numbers its new ids from `first_id`, so that ids stay
        unique across workspaces as they are in Slack."""
        self.clock: Clock = clock or SystemClock()
        self.team = team or Team()
        self.app_id = "A0HEARTH"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: list[Message] = []
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, UploadedFile] = {}
        self._last_ts = 0
        self._ids = itertools.count(first_id)
        self.add_user(
            self.bot_user_id, "hearth", "hearth", is_bot=True, bot_id=self.bot_id, tz="UTC"
        )

    # -- time and ids -----------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now().timestamp()

    def next_ts(self) -> str:
        """A message timestamp like "1763776000.000100": from the clock, strictly increasing."""
        micros = max(int(self.now() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        """A Slack-looking id (`V0…`, `C0…`), unique within this workspace."""
        return f"{prefix}0{next(self._ids):08X}"

    # -- people and channels ----------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str = "", **fields: Any) -> User:
        user = User(id=user_id, name=name, real_name=real_name or name.title(), **fields)
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        members: Iterable[str] = (),
        is_private: bool = False,
        with_bot: bool = False,
    ) -> Channel:
        people = sorted(members)
        channel = Channel(
            id=channel_id,
            name=name,
            is_private=is_private,
            members=set(people),
            created=int(self.now()),
            creator=people[0] if people else None,
        )
        if with_bot:
            channel.members.add(self.bot_user_id)
        self.channels[channel_id] = channel
        return channel

    def im_with(self, user_id: str) -> Channel:
        """The DM between the bot and a person, opened on first use as Slack does."""
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        channel = Channel(
            id="D" + user_id[1:],
            name=user_id,
            is_im=True,
            is_private=True,
            members={user_id, self.bot_user_id},
            created=int(self.now()),
            im_user=user_id,
        )
        if channel.id in self.channels:
            channel.id = self.new_id("D")
        self.channels[channel.id] = channel
        return channel

    def user_by_name(self, name: str) -> User | None:
        name = name.removeprefix("@")
        for user in self.users.values():
            if name in (user.name, user.id):
                return user
        return None

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.removeprefix("#")
        for channel in self.channels.values():
            if not channel.is_im and name in (channel.name, channel.id):
                return channel
        return None

    def resolve_channel(self, ref: str) -> Channel | None:
        """A channel by id or name, or a person's DM with the bot when given a user id."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users and not self.users[ref].is_bot:
            return self.im_with(ref)
        return self.channel_by_name(ref)

    def bot_is_member(self, channel: Channel) -> bool:
        return self.bot_user_id in channel.members

    # -- messages ---------------------------------------------------------------------------

    def find_message(self, channel: str, ts: str) -> Message | None:
        for message in self.messages:
            if message.channel == channel and message.ts == ts:
                return message
        return None

    def find_ephemeral(self, channel: str, ts: str) -> Ephemeral | None:
        for message in self.ephemerals:
            if message.channel == channel and message.ts == ts:
                return message
        return None

    def post_message(
        self,
        channel: str,
        *,
        text: str = "",
        blocks: list[JSON] | None = None,
        user: str | None = None,
        bot_id: str | None = None,
        thread_ts: str | None = None,
        subtype: str | None = None,
        metadata: JSON | None = None,
    ) -> Message:
        """Store a message; a reply lands in its parent's thread (a reply to a reply too)."""
        parent: Message | None = None
        if thread_ts is not None:
            parent = self.find_message(channel, thread_ts)
            if parent is not None and parent.is_reply and parent.thread_ts:
                parent = self.find_message(channel, parent.thread_ts) or parent
        message = Message(
            channel=channel,
            ts=self.next_ts(),
            text=text,
            blocks=list(blocks or []),
            user=user,
            bot_id=bot_id,
            thread_ts=parent.ts if parent is not None else thread_ts,
            subtype=subtype,
            metadata=metadata,
        )
        if parent is not None:
            parent.thread_ts = parent.ts
            parent.reply_count += 1
            parent.latest_reply = message.ts
            author = user or self.bot_user_id
            if author not in parent.reply_users:
                parent.reply_users.append(author)
        self.messages.append(message)
        return message

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        *,
        text: str = "",
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        message = Ephemeral(
            channel=channel,
            ts=self.next_ts(),
            user=user,
            text=text,
            blocks=list(blocks or []),
            thread_ts=thread_ts,
            bot_id=self.bot_id,
        )
        self.ephemerals.append(message)
        return message

    def delete_message(self, message: Message) -> None:
        self.messages.remove(message)
        if message.is_reply and message.thread_ts:
            parent = self.find_message(message.channel, message.thread_ts)
            if parent is not None:
                parent.reply_count = max(0, parent.reply_count - 1)

    def messages_in(self, channel: str, *, include_replies: bool = False) -> list[Message]:
        """A channel's messages, oldest first; thread replies only when asked for (or when
        they were also sent to the channel)."""
        return [
            m
            for m in self.messages
            if m.channel == channel
            and (include_replies or not m.is_reply or m.subtype == "thread_broadcast")
        ]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent and its replies, oldest first."""
        return [
            m for m in self.messages if m.channel == channel and (m.ts == ts or m.thread_ts == ts)
        ]

    def ephemerals_for(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        return [
            m
            for m in self.ephemerals
            if m.user == user and (channel is None or m.channel == channel)
        ]

    def bot_messages(self, channel: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.bot_id == self.bot_id and (channel is None or m.channel == channel)
        ]

    # -- triggers and response urls ---------------------------------------------------------

    def issue_trigger(self, user_id: str) -> Trigger:
        number = next(self._ids)
        trigger = Trigger(
            id=f"{int(self.now())}.{number}.{secrets.token_hex(16)}",
            user_id=user_id,
            issued_at=self.now(),
        )
        self.triggers[trigger.id] = trigger
        return trigger

    def use_trigger(self, trigger_id: str) -> Trigger:
        """Spend a trigger id; raises `ValueError` with Slack's error code when it cannot."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None or trigger.used:
            raise ValueError("invalid_trigger_id")
        if self.now() - trigger.issued_at > TRIGGER_LIFETIME_SECONDS:
            raise ValueError("expired_trigger_id")
        trigger.used = True
        return trigger

    def issue_response_url(
        self,
        channel: str,
        user_id: str,
        *,
        message_ts: str | None = None,
        original_is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> ResponseUrl:
        response_url = ResponseUrl(
            id=secrets.token_hex(12),
            channel=channel,
            user_id=user_id,
            issued_at=self.now(),
            message_ts=message_ts,
            original_is_ephemeral=original_is_ephemeral,
            thread_ts=thread_ts,
        )
        self.response_urls[response_url.id] = response_url
        return response_url

    # -- views ------------------------------------------------------------------------------

    def modal_stack(self, user_id: str) -> list[View]:
        return [self.views[v] for v in self.modal_stacks.get(user_id, [])]

    def top_modal(self, user_id: str) -> View | None:
        stack = self.modal_stacks.get(user_id)
        return self.views[stack[-1]] if stack else None

    def home_of(self, user_id: str) -> View | None:
        view_id = self.home_views.get(user_id)
        return self.views.get(view_id) if view_id else None

    def view_by_external_id(self, external_id: str) -> View | None:
        for view in self.views.values():
            if view.external_id == external_id:
                return view
        return None

    def new_view(self, user_id: str, view_type: Literal["modal", "home"], spec: JSON) -> View:
        """A view from the app's JSON (`views.open` / `views.publish`), not yet shown."""
        view = View(
            id=self.new_id("V"),
            team_id=self.team.id,
            user_id=user_id,
            type=view_type,
        )
        self.apply_view_spec(view, spec)
        return view

    def apply_view_spec(self, view: View, spec: JSON) -> None:
        """Replace what the app controls; Slack keeps the id and stack position on update."""
        view.blocks = list(spec.get("blocks") or [])
        view.callback_id = spec.get("callback_id") or ""
        view.external_id = spec.get("external_id") or view.external_id
        view.private_metadata = spec.get("private_metadata") or ""
        view.title = spec.get("title")
        view.submit = spec.get("submit")
        view.close = spec.get("close")
        view.notify_on_close = bool(spec.get("notify_on_close", False))
        view.clear_on_close = bool(spec.get("clear_on_close", False))
        view.hash = f"{int(self.now())}.{secrets.token_hex(8)}"
        view.errors = {}
        known = {b.get("block_id") for b in view.blocks}
        view.values = {k: v for k, v in view.values.items() if k in known}
        self.views[view.id] = view

    def push_modal(self, view: View) -> None:
        stack = self.modal_stacks.setdefault(view.user_id, [])
        view.root_view_id = stack[0] if stack else view.id
        view.previous_view_id = stack[-1] if stack else None
        view.is_open = True
        stack.append(view.id)

    def pop_modal(self, user_id: str) -> View | None:
        stack = self.modal_stacks.get(user_id) or []
        if not stack:
            return None
        view = self.views[stack.pop()]
        view.is_open = False
        return view

    def clear_modals(self, user_id: str) -> list[View]:
        closed = []
        while (view := self.pop_modal(user_id)) is not None:
            closed.append(view)
        return closed

    # -- export -----------------------------------------------------------------------------

    def to_json(self) -> JSON:
        """Everything, as plain JSON-able values (for the sandbox UI and for debugging)."""

        def plain(obj: Any) -> Any:
            data = asdict(obj)
            if isinstance(data.get("members"), set):
                data["members"] = sorted(data["members"])
            return data

        return {
            "team": plain(self.team),
            "app_id": self.app_id,
            "bot_user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "now": self.now(),
            "users": [plain(u) for u in self.users.values()],
            "channels": [plain(c) for c in self.channels.values()],
            "messages": [plain(m) for m in self.messages],
            "ephemerals": [plain(m) for m in self.ephemerals],
            "views": [plain(v) for v in self.views.values()],
            "modal_stacks": {k: list(v) for k, v in self.modal_stacks.items()},
            "home_views": dict(self.home_views),
        }
