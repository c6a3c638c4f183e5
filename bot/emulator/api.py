"""The Web API methods, answered from `WorkspaceState` the way Slack answers them.

Pure request → response over the state (no HTTP here), so the rules can be read in one place:
which errors Slack gives, what it stores, and what it sends back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.emulator.blockkit import Problem, validate_message, validate_view
from bot.emulator.blocktree import assign_ids
from bot.emulator.oauth import Grant, Tokens
from bot.emulator.render import (
    channel_json,
    message_json,
    user_json,
    view_json,
)
from bot.emulator.state import (
    MAX_VIEW_STACK,
    RESPONSE_URL_LIFETIME_SECONDS,
    RESPONSE_URL_MAX_USES,
    Channel,
    Message,
    ResponseUrl,
    UploadedFile,
    View,
    WorkspaceState,
)

JSON = dict[str, Any]

JSON_PARAMS = ("blocks", "attachments", "view", "metadata", "users")
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


class ApiError(Exception):
    """An `ok: false` answer: `error` is Slack's code, `extra` goes into the response body."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(frozen=True)
class Violation:
    """Something the app sent that Slack would refuse or that hearth promises never to do."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def normalise_params(params: dict[str, Any]) -> JSON:
    """Form fields arrive as strings; decode the ones Slack documents as JSON."""
    result = dict(params)
    for key in JSON_PARAMS:
        value = result.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                result[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ApiError(
                    "invalid_arguments", response_metadata={"messages": [f"{key}: {exc}"]}
                ) from None
    return result


def _page(items: list[Any], params: JSON, default_limit: int = 100) -> tuple[list[Any], str]:
    limit = int(params.get("limit") or default_limit) or default_limit
    cursor = params.get("cursor") or ""
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except ValueError:
            raise ApiError("invalid_cursor") from None
    page = items[start : start + limit]
    more = start + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return page, next_cursor


class WebApi:
    """Answers `/api/<method>` calls; records Block Kit problems in `violations`."""

    def __init__(
        self,
        state: WorkspaceState,
        *,
        bot_token: str,
        app_token: str,
        socket_url: Callable[[], str],
        upload_url: Callable[[str], str] | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        """`tokens` are every token issued, across workspaces (`SlackEmulator` shares one
        registry); without it, `bot_token` and `app_token` are this workspace's only ones."""
        self.state = state
        self.bot_token = bot_token
        self.app_token = app_token
        if tokens is None:
            tokens = Tokens()
            tokens.add(Grant(bot_token, "bot", state.team.id))
            tokens.add(Grant(app_token, "app", None))
        self.tokens = tokens
        self.socket_url = socket_url
        self.upload_url = upload_url or (lambda file_id: f"http://127.0.0.1/upload/{file_id}")
        self.violations: list[Violation] = []
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "api.test": lambda params: {"args": params},
            "auth.test": self.auth_test,
            "apps.connections.open": self.apps_connections_open,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "conversations.open": self.conversations_open,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "users.conversations": self.users_conversations,
            "team.info": self.team_info,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
        }

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    def call(self, method: str, params: dict[str, Any], token: str | None) -> JSON:
        """One Web API call; always a JSON body with `ok` (HTTP status is the server's job)."""
        try:
            self._authenticate(method, token)
            handler = self._methods.get(method)
            if handler is None:
                self.violations.append(Violation(method, "this method is not emulated"))
                raise ApiError("unknown_method")
            return {"ok": True, **handler(normalise_params(params))}
        except ApiError as exc:
            return {"ok": False, "error": exc.error, **exc.extra}

    def _authenticate(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        problem = self.tokens.problem(
            token, team_id=self.state.team.id, wants_app_token=method in APP_TOKEN_METHODS
        )
        if problem is not None:
            raise ApiError(problem)

    # -- helpers ----------------------------------------------------------------------------

    def check_message(self, source: str, text: Any, blocks: Any) -> None:
        """Record every problem; answer `invalid_blocks` for those Slack itself refuses."""
        self._check(source, validate_message(text, blocks), "invalid_blocks")

    def check_view(self, source: str, view: Any) -> None:
        """Record every problem; answer `invalid_arguments` for those Slack itself refuses."""
        self._check(source, validate_view(view), "invalid_arguments")

    def _check(self, source: str, problems: list[Problem], error: str) -> None:
        self.violations.extend(Violation(source, str(p)) for p in problems)
        refused = [str(p) for p in problems if not p.policy]
        if refused:
            raise ApiError(
                error,
                errors=refused,
                response_metadata={"messages": [f"[ERROR] {p}" for p in refused]},
            )

    def _message_content(self, source: str, params: JSON, *, required: bool = True) -> None:
        if "link_names" in params:
            self.violations.append(Violation(source, "link_names must never be sent"))
        text, blocks = params.get("text"), params.get("blocks")
        if required and not text and not blocks and not params.get("attachments"):
            raise ApiError("no_text")
        if isinstance(text, str) and len(text) > 40_000:
            self.violations.append(Violation(source, "text is longer than 40000 characters"))
            raise ApiError("msg_too_long")
        self.check_message(source, text, blocks)

    def _channel(self, params: JSON, key: str = "channel") -> Channel:
        ref = params.get(key)
        if not ref:
            raise ApiError("channel_not_found")
        channel = self.state.resolve_channel(str(ref))
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.is_private and not self.state.bot_is_member(channel):
            raise ApiError("channel_not_found")
        return channel

    def _member_channel(self, params: JSON) -> Channel:
        channel = self._channel(params)
        if not self.state.bot_is_member(channel):
            raise ApiError("not_in_channel")
        return channel

    def _message(self, channel: Channel, ts: Any) -> Message:
        message = self.state.find_message(channel.id, str(ts or ""))
        if message is None:
            raise ApiError("message_not_found")
        return message

    # -- auth and socket mode ---------------------------------------------------------------

    def auth_test(self, params: JSON) -> JSON:
        team = self.state.team
        return {
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": "hearth",
            "team_id": team.id,
            "user_id": self.state.bot_user_id,
            "bot_id": self.state.bot_id,
            "is_enterprise_install": False,
        }

    def apps_connections_open(self, params: JSON) -> JSON:
        return {"url": self.socket_url()}

    def team_info(self, params: JSON) -> JSON:
        team = self.state.team
        return {"team": {"id": team.id, "name": team.name, "domain": team.domain}}

    # -- chat -------------------------------------------------------------------------------

    def chat_post_message(self, params: JSON) -> JSON:
        self._message_content("chat.postMessage", params)
        channel = self._channel(params)
        if channel.is_archived:
            raise ApiError("is_archived")
        if not self.state.bot_is_member(channel):
            raise ApiError("not_in_channel")
        message = self.state.post_message(
            channel.id,
            text=params.get("text") or "",
            blocks=assign_ids(params.get("blocks") or []),
            bot_id=self.state.bot_id,
            thread_ts=params.get("thread_ts") or None,
            metadata=params.get("metadata"),
            # A thread reply "also sent to the channel" shows in both places.
            subtype=(
                "thread_broadcast"
                if params.get("thread_ts") and _truthy(params.get("reply_broadcast"))
                else None
            ),
        )
        return {
            "channel": channel.id,
            "ts": message.ts,
            "message": message_json(self.state, message),
        }

    def chat_update(self, params: JSON) -> JSON:
        self._message_content("chat.update", params, required=False)
        channel = self._channel(params)
        message = self._message(channel, params.get("ts"))
        if message.bot_id != self.state.bot_id:
            raise ApiError("cant_update_message")
        if params.get("text") is not None:
            message.text = params["text"]
        if params.get("blocks") is not None:  # omitted: Slack keeps the previous blocks
            message.blocks = assign_ids(params["blocks"])
        message.edited = {"user": self.state.bot_user_id, "ts": self.state.next_ts()}
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message_json(self.state, message),
        }

    def chat_post_ephemeral(self, params: JSON) -> JSON:
        self._message_content("chat.postEphemeral", params)
        channel = self._channel(params)
        user_id = str(params.get("user") or "")
        if user_id not in self.state.users:
            raise ApiError("user_not_found")
        if not channel.is_im and not self.state.bot_is_member(channel):
            raise ApiError("not_in_channel")
        if user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        ephemeral = self.state.post_ephemeral(
            channel.id,
            user_id,
            text=params.get("text") or "",
            blocks=assign_ids(params.get("blocks") or []),
            thread_ts=params.get("thread_ts") or None,
        )
        return {"message_ts": ephemeral.ts}

    def chat_delete(self, params: JSON) -> JSON:
        channel = self._channel(params)
        message = self._message(channel, params.get("ts"))
        if message.bot_id != self.state.bot_id:
            raise ApiError("cant_delete_message")
        self.state.delete_message(message)
        return {"channel": channel.id, "ts": message.ts}

    def chat_get_permalink(self, params: JSON) -> JSON:
        channel = self._channel(params)
        message = self._message(channel, params.get("message_ts"))
        link = (
            f"https://{self.state.team.domain}.slack.com/archives/{channel.id}/"
            f"p{message.ts.replace('.', '')}"
        )
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # -- files ------------------------------------------------------------------------------

    def files_get_upload_url_external(self, params: JSON) -> JSON:
        """Step 1 of an upload: a file id and the URL to send its bytes to."""
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            raise ApiError("invalid_arguments", detail="length must be a number") from None
        if not filename or length <= 0:
            raise ApiError("invalid_arguments", detail="filename and length are required")
        file = UploadedFile(id=self.state.new_id("F"), name=filename, length=length)
        self.state.files[file.id] = file
        return {"upload_url": self.upload_url(file.id), "file_id": file.id}

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        """Step 2: the bytes posted to the upload URL (False for an unknown or used URL)."""
        file = self.state.files.get(file_id)
        if file is None or file.completed:
            return False
        file.content = content
        return True

    def files_complete_upload_external(self, params: JSON) -> JSON:
        """Step 3: finish the uploads and share them, as one message, where asked."""
        raw = params.get("files")
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            raise ApiError("invalid_arguments", detail="files must be JSON") from None
        if not isinstance(items, list) or not items:
            raise ApiError("invalid_arguments", detail="files is required")
        files: list[UploadedFile] = []
        for item in items:
            file = self.state.files.get(str((item or {}).get("id") or ""))
            if file is None or file.content is None or file.completed:
                raise ApiError("file_not_found")
            if len(file.content) != file.length:
                self.violations.append(
                    Violation(
                        "files.completeUploadExternal",
                        f"{file.name}: {len(file.content)} bytes uploaded, {file.length} declared",
                    )
                )
            file.title = str(item.get("title") or file.name)
            files.append(file)
        channel: Channel | None = None
        if params.get("channel_id"):
            channel = self._member_channel({"channel": params["channel_id"]})
        comment = str(params.get("initial_comment") or "")
        if comment:
            self.check_message("files.completeUploadExternal", comment, None)
        for file in files:
            file.completed = True
            file.initial_comment = comment
        shown = [self._file_json(file) for file in files]
        if channel is not None:
            message = self.state.post_message(
                channel.id,
                text=comment,
                bot_id=self.state.bot_id,
                thread_ts=params.get("thread_ts") or None,
            )
            message.files = shown
            for file in files:
                file.channels.append(channel.id)
        return {"files": [{"id": f["id"], "title": f["title"]} for f in shown]}

    def _file_json(self, file: UploadedFile) -> JSON:
        return {
            "id": file.id,
            "name": file.name,
            "title": file.title,
            "size": len(file.content or b""),
            "user": self.state.bot_user_id,
            "url_private": f"https://files.slack.com/files-pri/{self.state.team.id}-{file.id}/"
            f"{file.name}",
        }

    # -- conversations ----------------------------------------------------------------------

    def conversations_info(self, params: JSON) -> JSON:
        return {"channel": channel_json(self.state, self._channel(params))}

    def conversations_members(self, params: JSON) -> JSON:
        channel = self._channel(params)
        members = sorted(channel.members)
        page, cursor = _page(members, params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def users_conversations(self, params: JSON) -> JSON:
        """A person's channels as the bot sees them: public ones they are in, and private ones
        only where the bot is a member too (Slack hides the rest from a bot token)."""
        user_id = str(params.get("user") or "")
        if user_id and user_id not in self.state.users:
            raise ApiError("user_not_found")
        wanted = {
            t.strip() for t in str(params.get("types") or "public_channel").split(",") if t.strip()
        }
        exclude_archived = _bool(params.get("exclude_archived", False))
        found = []
        for channel in sorted(self.state.channels.values(), key=lambda c: c.id):
            kind = "private_channel" if channel.is_private else "public_channel"
            if channel.is_im or kind not in wanted:
                continue
            if exclude_archived and channel.is_archived:
                continue
            if (user_id or self.state.bot_user_id) not in channel.members:
                continue
            if channel.is_private and not self.state.bot_is_member(channel):
                continue
            found.append(channel_json(self.state, channel))
        page, cursor = _page(found, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def conversations_history(self, params: JSON) -> JSON:
        channel = self._member_channel(params)
        inclusive = _bool(params.get("inclusive", False))
        latest = float(params.get("latest") or "inf")
        oldest = float(params.get("oldest") or 0)

        def within(ts: str) -> bool:
            value = float(ts)
            if inclusive:
                return oldest <= value <= latest
            return oldest < value < latest

        messages = [m for m in self.state.messages_in(channel.id) if within(m.ts)]
        messages.reverse()
        page, cursor = _page(messages, params)
        return {
            "messages": [_with_metadata(self.state, m, params) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_replies(self, params: JSON) -> JSON:
        channel = self._member_channel(params)
        message = self.state.find_message(channel.id, str(params.get("ts") or ""))
        if message is None:
            raise ApiError("thread_not_found")
        root = message.thread_ts if message.is_reply and message.thread_ts else message.ts
        page, cursor = _page(self.state.thread(channel.id, root), params, 1000)
        return {
            "messages": [_with_metadata(self.state, m, params) for m in page],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_open(self, params: JSON) -> JSON:
        users = params.get("users")
        if isinstance(users, str):
            users = [u for u in users.split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) != 1:
            raise ApiError("not_supported", detail="group DMs are not emulated")
        if users[0] not in self.state.users:
            raise ApiError("user_not_found")
        channel = self.state.im_with(users[0])
        return {"channel": {"id": channel.id}}

    # -- users ------------------------------------------------------------------------------

    def users_info(self, params: JSON) -> JSON:
        user = self.state.users.get(str(params.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user_json(self.state, user)}

    def users_list(self, params: JSON) -> JSON:
        users = [user_json(self.state, u) for u in self.state.users.values()]
        page, cursor = _page(users, params, 200)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    # -- views ------------------------------------------------------------------------------

    def _view_spec(self, source: str, params: JSON, kind: str) -> JSON:
        spec = params.get("view")
        if not isinstance(spec, dict):
            raise ApiError("invalid_arguments", response_metadata={"messages": ["view"]})
        self.check_view(source, spec)
        if spec.get("type") != kind:
            raise ApiError("invalid_arguments", detail=f"view type must be {kind}")
        return {**spec, "blocks": assign_ids(spec.get("blocks") or [])}

    def _trigger_user(self, params: JSON) -> str:
        try:
            return self.state.use_trigger(str(params.get("trigger_id") or "")).user_id
        except ValueError as exc:
            raise ApiError(str(exc)) from None

    def views_open(self, params: JSON) -> JSON:
        spec = self._view_spec("views.open", params, "modal")
        user_id = self._trigger_user(params)
        self.state.clear_modals(user_id)
        view = self.state.new_view(user_id, "modal", spec)
        self.state.push_modal(view)
        return {"view": view_json(self.state, view)}

    def views_push(self, params: JSON) -> JSON:
        spec = self._view_spec("views.push", params, "modal")
        user_id = self._trigger_user(params)
        stack = self.state.modal_stack(user_id)
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        view = self.state.new_view(user_id, "modal", spec)
        self.state.push_modal(view)
        return {"view": view_json(self.state, view)}

    def views_update(self, params: JSON) -> JSON:
        view: View | None = None
        if params.get("view_id"):
            view = self.state.views.get(str(params["view_id"]))
        elif params.get("external_id"):
            view = self.state.view_by_external_id(str(params["external_id"]))
        else:
            raise ApiError("invalid_arguments", detail="view_id or external_id is required")
        if view is None or (view.type == "modal" and not view.is_open):
            raise ApiError("not_found")
        if params.get("hash") and params["hash"] != view.hash:
            raise ApiError("hash_conflict")
        spec = self._view_spec("views.update", params, view.type)
        self.state.apply_view_spec(view, spec)
        return {"view": view_json(self.state, view)}

    def views_publish(self, params: JSON) -> JSON:
        user_id = str(params.get("user_id") or "")
        if user_id not in self.state.users:
            raise ApiError("user_not_found")
        spec = self._view_spec("views.publish", params, "home")
        view = self.state.home_of(user_id)
        if view is not None and params.get("hash") and params["hash"] != view.hash:
            raise ApiError("hash_conflict")
        if view is None:
            view = self.state.new_view(user_id, "home", spec)
            self.state.home_views[user_id] = view.id
        else:
            self.state.apply_view_spec(view, spec)
        return {"view": view_json(self.state, view)}

    # -- response_url -----------------------------------------------------------------------

    def respond(self, url_id: str, body: Any) -> tuple[int, JSON]:
        """A POST to a `response_url`: reply, replace or delete as the body asks."""
        url = self.state.response_urls.get(url_id)
        if url is None:
            return 404, {"ok": False, "error": "no_active_hooks"}
        if self.state.now() - url.issued_at > RESPONSE_URL_LIFETIME_SECONDS:
            return 404, {"ok": False, "error": "expired_url"}
        if url.uses >= RESPONSE_URL_MAX_USES:
            return 404, {"ok": False, "error": "used_url"}
        url.uses += 1
        if not isinstance(body, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        try:
            self._respond(url, body)
        except ApiError as exc:
            return 400, {"ok": False, "error": exc.error, **exc.extra}
        return 200, {"ok": True}

    def _respond(self, url: ResponseUrl, body: JSON) -> None:
        state = self.state
        if _bool(body.get("delete_original")):
            if url.original_is_ephemeral:
                original = state.find_ephemeral(url.channel, url.message_ts or "")
                if original is not None:
                    state.ephemerals.remove(original)
            else:
                message = state.find_message(url.channel, url.message_ts or "")
                if message is None:
                    raise ApiError("message_not_found")
                state.delete_message(message)
            return
        self._message_content("response_url", body)
        blocks = assign_ids(body.get("blocks") or [])
        text = body.get("text") or ""
        if _bool(body.get("replace_original")) and url.message_ts:
            if url.original_is_ephemeral:
                ephemeral = state.find_ephemeral(url.channel, url.message_ts)
                if ephemeral is None:
                    raise ApiError("message_not_found")
                ephemeral.text, ephemeral.blocks = text, blocks
            else:
                message = state.find_message(url.channel, url.message_ts)
                if message is None:
                    raise ApiError("message_not_found")
                message.text, message.blocks = text, blocks
                message.edited = {"user": state.bot_user_id, "ts": state.next_ts()}
            return
        thread_ts = body.get("thread_ts") or url.thread_ts
        if body.get("response_type") == "in_channel":
            state.post_message(
                url.channel, text=text, blocks=blocks, bot_id=state.bot_id, thread_ts=thread_ts
            )
        else:
            state.post_ephemeral(
                url.channel, url.user_id, text=text, blocks=blocks, thread_ts=thread_ts
            )

    # -- what Slack does with the app's acknowledgement -------------------------------------

    def apply_command_ack(self, body: Any, *, channel: str, user_id: str, echo: str) -> None:
        """A slash command's immediate response: shown privately, or to everyone."""
        if body is None or body == "":
            return
        if isinstance(body, str):
            body = {"text": body}
        try:
            self._message_content("slash command response", body)
        except ApiError:
            return  # Slack shows the person an error instead; the violation is recorded
        blocks = assign_ids(body.get("blocks") or [])
        text = body.get("text") or ""
        if body.get("response_type") == "in_channel":
            self.state.post_message(channel, text=echo, user=user_id)
            self.state.post_message(channel, text=text, blocks=blocks, bot_id=self.state.bot_id)
        else:
            self.state.post_ephemeral(channel, user_id, text=text, blocks=blocks)

    def apply_view_submission_ack(self, view: View, body: Any) -> str:
        """Follow `response_action`: returns "errors", "update", "push", "clear", "close", or
        "invalid" when Slack would refuse the answer (the modal then stays as it was)."""
        action = body.get("response_action") if isinstance(body, dict) else None
        state = self.state
        source = "view_submission response"
        if action == "errors":
            errors = body.get("errors")
            if not isinstance(errors, dict) or not errors:
                self.violations.append(Violation(source, "errors must be a non-empty object"))
                return "errors"
            inputs = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
            for block_id in errors:
                if block_id not in inputs:
                    self.violations.append(
                        Violation(source, f"error for {block_id!r}, which is not an input block")
                    )
            view.errors = {str(k): str(v) for k, v in errors.items()}
            return "errors"
        if action in ("update", "push"):
            spec = body.get("view")
            try:
                self.check_view(source, spec)
            except ApiError:
                return "invalid"
            spec = {**spec, "blocks": assign_ids(spec.get("blocks") or [])}
            if action == "update":
                state.apply_view_spec(view, spec)
                return "update"
            if len(state.modal_stack(view.user_id)) >= MAX_VIEW_STACK:
                self.violations.append(Violation(source, "push would exceed 3 stacked views"))
                return "invalid"
            state.push_modal(state.new_view(view.user_id, "modal", spec))
            return "push"
        if action == "clear":
            state.clear_modals(view.user_id)
            return "clear"
        if action is not None:
            self.violations.append(Violation(source, f"unknown response_action {action!r}"))
        if isinstance(body, dict) and body and action is None:
            self.violations.append(
                Violation(source, "a view_submission ack body needs response_action")
            )
        state.pop_modal(view.user_id)
        return "close"


def _truthy(value: object) -> bool:
    """Slack's form-encoded booleans arrive as "true"/"1"; JSON ones as true."""
    return value is True or str(value).lower() in ("true", "1")


def _with_metadata(state: Any, message: Any, params: JSON) -> JSON:
    """A message as history and replies show it: its `metadata` only when asked for with
    `include_all_metadata`, as Slack does."""
    data = message_json(state, message)
    if not _truthy(params.get("include_all_metadata")):
        data.pop("metadata", None)
    return data
