"""`SlackUser`: act as one person in the emulated workspace, the way they would in Slack.

Everything goes through what the person can see: a button is clicked by its label, a modal
field filled by its label, and only messages visible to them (channel messages plus their
own ephemeral ones) can be read or clicked.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from bot.emulator import payloads
from bot.emulator.blocktree import Element, elements, text_of
from bot.emulator.delivery import DeliveryResult
from bot.emulator.inputs import (
    InputError,
    SubmitBlocked,
    accept_state,
    client_checks,
    entered_value,
    fill,
)
from bot.emulator.render import view_json
from bot.emulator.seen import SELECTABLE, NotOnScreen, SeenMessage, SeenView, locate
from bot.emulator.state import Ephemeral, Message, User, View

if TYPE_CHECKING:
    from bot.emulator.server import SlackEmulator

JSON = dict[str, Any]

__all__ = ["InputError", "NotOnScreen", "SlackUser", "SubmitBlocked"]


class SlackUser:
    def __init__(self, emulator: SlackEmulator, user_id: str) -> None:
        self.emulator = emulator
        self.state = emulator.state
        self.id = user_id

    @property
    def user(self) -> User:
        return self.state.users[self.id]

    def __repr__(self) -> str:
        return f"SlackUser({self.id!r}, {self.user.name!r})"

    # -- reading ----------------------------------------------------------------------------

    def _visible(self, channel: str, *, thread_ts: str | None) -> list[SeenMessage]:
        if thread_ts is None:
            shared: list[Message | Ephemeral] = list(self.state.messages_in(channel))
            private = [e for e in self.state.ephemerals_for(self.id, channel) if not e.thread_ts]
        else:
            shared = list(self.state.thread(channel, thread_ts))
            private = [
                e for e in self.state.ephemerals_for(self.id, channel) if e.thread_ts == thread_ts
            ]
        seen = [SeenMessage.of(self.state, m) for m in [*shared, *private]]
        return sorted(seen, key=lambda m: float(m.ts))

    def messages(self, channel: str) -> list[SeenMessage]:
        """The channel as this person sees it, oldest first (thread replies excluded)."""
        self._require_channel(channel)
        return self._visible(channel, thread_ts=None)

    def thread(self, channel: str, ts: str) -> list[SeenMessage]:
        """A thread as this person sees it: the parent, then the replies."""
        self._require_channel(channel)
        return self._visible(channel, thread_ts=ts)

    def last_message(self, channel: str) -> SeenMessage:
        seen = self.messages(channel)
        if not seen:
            raise NotOnScreen(f"{self.user.name} sees no messages in {channel}")
        return seen[-1]

    def dm(self) -> list[SeenMessage]:
        """This person's DM with the bot (the app's Messages tab)."""
        return self.messages(self.state.im_with(self.id).id)

    @property
    def view(self) -> SeenView | None:
        """The modal on top of this person's stack, or None when no modal is open."""
        top = self.state.top_modal(self.id)
        return SeenView.of(self.state, top) if top is not None else None

    @property
    def views(self) -> list[SeenView]:
        """The whole modal stack, bottom first."""
        return [SeenView.of(self.state, v) for v in self.state.modal_stack(self.id)]

    @property
    def home(self) -> SeenView | None:
        home = self.state.home_of(self.id)
        return SeenView.of(self.state, home) if home is not None else None

    def _require_channel(self, channel: str) -> None:
        found = self.state.channels.get(channel)
        if found is None:
            raise NotOnScreen(f"no channel {channel!r}")
        if found.is_private and self.id not in found.members:
            raise NotOnScreen(f"{self.user.name} is not in private channel #{found.name}")

    # -- slash commands ---------------------------------------------------------------------

    async def run_command(self, command: str, text: str = "", *, channel: str) -> DeliveryResult:
        """Type `/command text` in a channel; Slack shows the app's immediate reply."""
        if not command.startswith("/"):
            raise ValueError("a slash command starts with '/'")
        self._require_channel(channel)
        found = self.state.channels[channel]
        url = self.state.issue_response_url(channel, self.id)
        fields = payloads.slash_command(
            self.state,
            user=self.user,
            channel=found,
            command=command,
            text=text,
            response_url=self.emulator.response_url(url.id),
            trigger_id=self.state.issue_trigger(self.id).id,
        )
        result = await self.emulator.deliver("slash_commands", fields)
        if result.ok:
            echo = f"{command} {text}".strip()
            self.emulator.api.apply_command_ack(
                result.response, channel=channel, user_id=self.id, echo=echo
            )
        return result

    # -- clicking ---------------------------------------------------------------------------

    def _live(self, target: SeenMessage | SeenView) -> Message | Ephemeral | View:
        if isinstance(target, SeenView):
            view = self.state.views.get(target.id)
            showing = {v.id for v in self.state.modal_stack(self.id)}
            if view is None or (view.type == "modal" and view.id not in showing):
                raise NotOnScreen(f"view {target.id} ({target.title!r}) is no longer open")
            if view.type == "modal" and self.state.top_modal(self.id) is not view:
                raise NotOnScreen(f"view {target.id} is covered by another modal")
            return view
        if target.ephemeral:
            ephemeral = self.state.find_ephemeral(target.channel, target.ts)
            if ephemeral is None or ephemeral.user != self.id:
                raise NotOnScreen(f"that private message ({target.ts}) is gone")
            return ephemeral
        message = self.state.find_message(target.channel, target.ts)
        if message is None:
            raise NotOnScreen(f"message {target.ts} in {target.channel} was deleted")
        return message

    async def click(
        self,
        target: SeenMessage | SeenView | None,
        label: str,
        *,
        near: str | None = None,
        as_seen: bool = False,
    ) -> DeliveryResult:
        """Click the button labelled `label` on a message or view (None: the open modal).

        `near` picks the button belonging to the block whose text contains it (a topic's
        row); without it the label must be unique. The message's current version is used,
        unless `as_seen`: then the click is on the message as it was when `target` was read,
        as from a client that has not caught up with an update yet (or a double click).
        """
        live = self._target(target)
        if as_seen and isinstance(target, SeenMessage) and isinstance(live, Message):
            live = dataclasses.replace(live, blocks=list(target.blocks))
        element = locate(self.state, live.blocks, label=label, kinds={"button"}, near=near)
        if element.element.get("url") and "action_id" not in element.element:
            raise NotOnScreen(f"{label!r} is a link button; it opens {element.element['url']}")
        return await self._act(live, element, {})

    async def choose(
        self,
        target: SeenMessage | SeenView | None,
        option: Any,
        *,
        menu: str | None = None,
        near: str | None = None,
    ) -> DeliveryResult:
        """Pick `option` in a menu: an overflow (…), a select, radio buttons, a date picker.

        `menu` is the menu's placeholder or action_id; `option` an option's label or value
        (a person's id or name for user menus, a date for date pickers).
        """
        live = self._target(target)
        element = locate(
            self.state, live.blocks, label=menu, kinds=SELECTABLE, near=near, what="menu"
        )
        if element.block.get("type") == "input" and not element.block.get("dispatch_action"):
            raise InputError("that menu is a modal input: use fill() or submit() instead")
        selection = entered_value(self.state, element.element, option)
        selection.pop("type", None)
        if isinstance(live, View):
            fill_entry = entered_value(self.state, element.element, option)
            live.values.setdefault(element.block_id, {})[element.action_id] = fill_entry
        return await self._act(live, element, selection)

    async def use(
        self,
        target: SeenMessage | SeenView | None,
        *,
        block_id: str,
        action_id: str,
        entered: Any = None,
    ) -> DeliveryResult:
        """Use the element a client names by `block_id` and `action_id` (a click, a pick).

        What a browser sends when a person clicks what it drew: `entered` is what they
        picked (an option's value, a person's id, a date), None for a button. The element
        must be on the target as it is now, as for `click` and `choose`.
        """
        live = self._target(target)
        matches = [
            e for e in elements(live.blocks) if (e.block_id, e.action_id) == (block_id, action_id)
        ]
        if len(matches) != 1:
            raise NotOnScreen(f"nothing with block_id {block_id!r} and action_id {action_id!r}")
        element = matches[0]
        if element.type == "button":
            if element.element.get("url") and "action_id" not in element.element:
                raise NotOnScreen("that is a link button; it opens a page, not the app")
            return await self._act(live, element, {})
        if element.block.get("type") == "input" and not element.block.get("dispatch_action"):
            raise InputError("that is a modal input: it is sent when the modal is submitted")
        if element.type not in SELECTABLE:
            raise InputError(f"{element.type} elements are not emulated as actions")
        selection = entered_value(self.state, element.element, entered)
        if isinstance(live, View):
            live.values.setdefault(element.block_id, {})[element.action_id] = dict(selection)
        selection.pop("type", None)
        return await self._act(live, element, selection)

    def enter(self, values: dict[str, Any], *, view_id: str | None = None) -> None:
        """Take the open modal's `state.values` as a client sends them (see `accept_state`).

        `view_id`, when given, must be the modal on top: a client may only type into that.
        """
        top = self._top()
        if view_id is not None and top.id != view_id:
            raise NotOnScreen(f"view {view_id} is not the modal on top")
        accept_state(self.state, top, values)

    def _target(self, target: SeenMessage | SeenView | None) -> Message | Ephemeral | View:
        if target is None:
            top = self.state.top_modal(self.id)
            if top is None:
                raise NotOnScreen(f"{self.user.name} has no modal open")
            return top
        return self._live(target)

    async def _act(
        self, live: Message | Ephemeral | View, element: Element, selection: JSON
    ) -> DeliveryResult:
        action = payloads.action_json(self.state, element, selection)
        trigger = self.state.issue_trigger(self.id).id
        if isinstance(live, View):
            payload = payloads.block_actions_from_view(
                self.state, user=self.user, view=live, actions=[action], trigger_id=trigger
            )
        else:
            url = self.state.issue_response_url(
                live.channel,
                self.id,
                message_ts=live.ts,
                original_is_ephemeral=isinstance(live, Ephemeral),
                # A thread's parent carries thread_ts == ts, but replies to a click on it
                # belong in the channel, not the thread.
                thread_ts=live.thread_ts if live.thread_ts != live.ts else None,
            )
            payload = payloads.block_actions_from_message(
                self.state,
                user=self.user,
                message=live,
                actions=[action],
                trigger_id=trigger,
                response_url=self.emulator.response_url(url.id),
            )
        return await self.emulator.deliver("interactive", payload)

    # -- modals -----------------------------------------------------------------------------

    def _top(self) -> View:
        top = self.state.top_modal(self.id)
        if top is None:
            raise NotOnScreen(f"{self.user.name} has no modal open")
        return top

    def fill(self, values: dict[str, Any]) -> None:
        """Type into / pick in the open modal's inputs, keyed by label or block_id."""
        fill(self.state, self._top(), values)

    async def submit(self, values: dict[str, Any] | None = None) -> DeliveryResult:
        """Fill `values` (if any) and press the modal's submit button.

        Raises `SubmitBlocked` when Slack's client would refuse (a required field is empty,
        text too long or short, a number out of range). `result.outcome` says what Slack did
        with the app's answer: "errors" (the modal stays, see `view.errors`), "update",
        "push", "clear" or "close"; None when the app did not answer in time.
        """
        view = self._top()
        if view.submit is None:
            raise NotOnScreen(f"modal {text_of(view.title)!r} has no submit button")
        if values:
            fill(self.state, view, values)
        problems = client_checks(view)
        if problems:
            raise SubmitBlocked(problems)
        view.errors = {}
        payload = payloads.view_submission(
            self.state,
            user=self.user,
            view=view,
            trigger_id=self.state.issue_trigger(self.id).id,
        )
        result = await self.emulator.deliver("interactive", payload)
        if result.ok:
            result.outcome = self.emulator.api.apply_view_submission_ack(view, result.response)
        return result

    async def close_view(self, *, all_views: bool = False) -> DeliveryResult | None:
        """Press the modal's close button (or close the whole stack with `all_views`).

        Slack tells the app (`view_closed`) only when the view asked with `notify_on_close`.
        """
        view = self._top()
        cleared = all_views or view.clear_on_close
        closed = self.state.clear_modals(self.id) if cleared else [self.state.pop_modal(self.id)]
        if not view.notify_on_close:
            return None
        payload = payloads.view_closed(
            self.state, user=self.user, view=view, is_cleared=cleared and len(closed) > 1
        )
        return await self.emulator.deliver("interactive", payload)

    # -- events -----------------------------------------------------------------------------

    async def open_home(self) -> DeliveryResult:
        """Open the app's Home tab: Slack sends `app_home_opened`."""
        event: JSON = {
            "type": "app_home_opened",
            "user": self.id,
            "channel": self.state.im_with(self.id).id,
            "tab": "home",
        }
        home = self.state.home_of(self.id)
        if home is not None:
            event["view"] = view_json(self.state, home)
        return await self.emulator.send_event(event)

    async def say(
        self, channel: str, text: str, *, thread_ts: str | None = None
    ) -> tuple[SeenMessage, DeliveryResult | None]:
        """Post a message; the app hears it (a `message` event) only where it is a member."""
        self._require_channel(channel)
        found = self.state.channels[channel]
        if self.id not in found.members:
            raise NotOnScreen(f"{self.user.name} is not in #{found.name}")
        message = self.state.post_message(channel, text=text, user=self.id, thread_ts=thread_ts)
        seen = SeenMessage.of(self.state, message)
        if not self.state.bot_is_member(found):
            return seen, None
        event: JSON = {
            "type": "message",
            "channel": channel,
            "user": self.id,
            "text": text,
            "ts": message.ts,
            "channel_type": found.kind,
            "team": self.state.team.id,
        }
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        return seen, await self.emulator.send_event(event)

    async def join(self, channel: str) -> DeliveryResult | None:
        """Join a channel; the app hears `member_joined_channel` where it is a member."""
        found = self.state.channels[channel]
        found.members.add(self.id)
        if not self.state.bot_is_member(found):
            return None
        return await self.emulator.send_event(
            {
                "type": "member_joined_channel",
                "user": self.id,
                "channel": channel,
                "channel_type": "G" if found.is_private else "C",
                "team": self.state.team.id,
            }
        )

    async def invite_bot(self, channel: str) -> DeliveryResult:
        """Add the app to a channel (`/invite @hearth`): it hears its own join."""
        found = self.state.channels[channel]
        if self.id not in found.members:
            raise NotOnScreen(f"{self.user.name} is not in #{found.name}")
        found.members.add(self.state.bot_user_id)
        return await self.emulator.send_event(
            {
                "type": "member_joined_channel",
                "user": self.state.bot_user_id,
                "channel": channel,
                "channel_type": "G" if found.is_private else "C",
                "team": self.state.team.id,
                "inviter": self.id,
            }
        )
