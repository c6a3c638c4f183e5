"""What a person does on the page, done through the emulator's own `SlackUser`.

The page sends what a Slack client would (the line typed in the composer, the element
clicked, the modal's state); each function here turns that into the same calls the
end-to-end tests make, so Slack's behaviour has one implementation. Each returns what the
page should tell the person, and raises `PageError` for what Slack would refuse to do.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.actor import SlackUser
from bot.emulator.blocktree import elements
from bot.emulator.delivery import DeliveryResult
from bot.emulator.inputs import InputError, SubmitBlocked, raw_value
from bot.emulator.seen import NotOnScreen, SeenMessage, SeenView
from bot.emulator.server import SlackEmulator

JSON = dict[str, Any]

MAX_TEXT = 40_000
# Slack's own commands the sandbox understands; everything else goes to the app.
INVITE = "/invite"


class PageError(Exception):
    """Something the person tried that Slack would not do; the message says what to do."""


def person(emulator: SlackEmulator, user_id: Any) -> SlackUser:
    user = emulator.state.users.get(str(user_id or ""))
    if user is None or user.is_bot:
        raise PageError("Pick someone to be from the people menu at the top right.")
    return emulator.user(user.id)


def parse_command(line: str) -> tuple[str, str]:
    """`/lean-coffee  Pairing ` → ("/lean-coffee", "Pairing"), as Slack splits a command."""
    stripped = line.strip()
    command, _, text = stripped.partition(" ")
    if not command.startswith("/") or len(command) < 2:
        raise PageError("A command starts with / followed by its name, like /lean-coffee.")
    return command.lower(), text.strip()


def _text(value: Any) -> str:
    text = str(value or "")
    if len(text) > MAX_TEXT:
        raise PageError("That message is too long for Slack; try splitting it up.")
    return text


def _failure(result: DeliveryResult, what: str) -> str:
    if result.error == "timeout":
        return f"hearth didn't answer in time, so {what} did not go through. Try again?"
    if result.error:
        return f"hearth could not be reached, so {what} did not go through. Is it running?"
    return f"hearth answered with an error (HTTP {result.status}), so {what} did not go through."


def _outcome(result: DeliveryResult, what: str) -> JSON:
    if result.ok:
        return {"ok": True, "outcome": result.outcome}
    return {"ok": False, "error": _failure(result, what)}


async def run_command(
    emulator: SlackEmulator, user_id: Any, channel: Any, line: Any, thread_ts: Any = None
) -> JSON:
    """A line typed in the composer that starts with "/"."""
    actor = person(emulator, user_id)
    if thread_ts:
        raise PageError("Slash commands don't work in threads. Type it in the channel instead.")
    command, text = parse_command(_text(line))
    channel_id = str(channel or "")
    try:
        if command == INVITE:
            return await _invite(emulator, actor, channel_id, text)
        result = await actor.run_command(command, text, channel=channel_id)
    except NotOnScreen as exc:
        raise PageError(str(exc)) from None
    if result.status == 404:
        raise PageError(
            f"{command} is not a valid command. In Slack, a message that starts with / is "
            "a command: add a space before it to send it as a message."
        )
    return _outcome(result, command)


async def _invite(emulator: SlackEmulator, actor: SlackUser, channel_id: str, text: str) -> JSON:
    app = emulator.state.users[emulator.state.bot_user_id]
    if text.removeprefix("@").lower() not in (app.name, app.id.lower()):
        raise PageError(f"In the sandbox, /invite adds the app: type /invite @{app.name}.")
    channel = emulator.state.channels.get(channel_id)
    if channel is None or channel.is_im:
        raise PageError("Open the channel to add the app to, then type /invite again.")
    if emulator.state.bot_is_member(channel):
        raise PageError(f"@{app.name} is already in #{channel.name}.")
    return _outcome(await actor.invite_bot(channel_id), "the invitation")


async def post_message(
    emulator: SlackEmulator, user_id: Any, channel: Any, text: Any, thread_ts: Any = None
) -> JSON:
    """A plain message (or thread reply) typed in the composer."""
    actor = person(emulator, user_id)
    body = _text(text).strip()
    if not body:
        raise PageError("Type something to send.")
    try:
        _seen, result = await actor.say(str(channel or ""), body, thread_ts=thread_ts or None)
    except NotOnScreen as exc:
        raise PageError(f"{exc}. Join the channel first.") from None
    if result is None or result.ok:
        return {"ok": True}
    return {"ok": True, "warning": _failure(result, "hearth hearing it")}


def _target(emulator: SlackEmulator, actor: SlackUser, body: JSON) -> SeenMessage | SeenView:
    state = emulator.state
    if body.get("view_id"):
        view = state.views.get(str(body["view_id"]))
        if view is None or view.user_id != actor.id:
            raise PageError("That window is no longer open.")
        return SeenView.of(state, view)
    channel, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
    if body.get("ephemeral"):
        ephemeral = state.find_ephemeral(channel, ts)
        if ephemeral is None or ephemeral.user != actor.id:
            raise PageError("That private message has gone.")
        return SeenMessage.of(state, ephemeral)
    message = state.find_message(channel, ts)
    if message is None:
        raise PageError("That message has been deleted.")
    return SeenMessage.of(state, message)


def current_block_id(target: SeenMessage | SeenView, action: JSON) -> str:
    """The block the clicked element is in now.

    A message redrawn just before the click (someone else voted) gets new random ids for
    blocks the app left without one, as Slack gives them; Slack still delivers a click on
    what the person saw. So an element no longer in the block the page named is found again
    by its action_id and value, when exactly one matches.
    """
    block_id = str(action.get("block_id") or "")
    action_id = str(action.get("action_id") or "")
    same_kind = [e for e in elements(target.blocks) if e.action_id == action_id]
    if any(e.block_id == block_id for e in same_kind):
        return block_id
    same = [e for e in same_kind if e.element.get("value") == action.get("value")]
    return same[0].block_id if len(same) == 1 else block_id


async def act(emulator: SlackEmulator, user_id: Any, body: JSON) -> JSON:
    """A click or pick on a message, the Home tab or a modal (a `block_actions` payload).

    `body` names the message (`channel`, `ts`, `ephemeral`) or the view (`view_id`), the
    `action` as the renderer reports it, and for a modal its current `state` values.
    """
    actor = person(emulator, user_id)
    action = body.get("action")
    if not isinstance(action, dict):
        raise PageError("Nothing was clicked.")
    try:
        target = _target(emulator, actor, body)
        modal = isinstance(target, SeenView) and target.type == "modal"
        if modal and isinstance(body.get("state"), dict):
            actor.enter(body["state"], view_id=target.id)
        result = await actor.use(
            target,
            block_id=current_block_id(target, action),
            action_id=str(action.get("action_id") or ""),
            entered=raw_value(action),
        )
    except (NotOnScreen, InputError) as exc:
        raise PageError(str(exc)) from None
    return _outcome(result, "that")


async def submit(emulator: SlackEmulator, user_id: Any, view_id: Any, values: Any) -> JSON:
    """The modal's submit button: Slack's own checks first, then a `view_submission`."""
    actor = person(emulator, user_id)
    try:
        actor.enter(values if isinstance(values, dict) else {}, view_id=str(view_id or ""))
        result = await actor.submit()
    except SubmitBlocked as exc:
        # Slack's client shows these under the fields and sends nothing.
        top = emulator.state.top_modal(actor.id)
        if top is not None:
            top.errors = dict(exc.problems)
        return {"ok": True, "outcome": "blocked", "errors": exc.problems}
    except (NotOnScreen, InputError) as exc:
        raise PageError(str(exc)) from None
    return _outcome(result, "the form")


async def close_view(
    emulator: SlackEmulator, user_id: Any, view_id: Any, *, all_views: bool = False
) -> JSON:
    """The modal's close button (or ✕, which closes the whole stack)."""
    actor = person(emulator, user_id)
    top = emulator.state.top_modal(actor.id)
    if top is None or top.id != str(view_id or ""):
        raise PageError("That window is no longer open.")
    result = await actor.close_view(all_views=all_views)
    return {"ok": True} if result is None else _outcome(result, "closing it")


async def open_home(emulator: SlackEmulator, user_id: Any) -> JSON:
    """Opening the app's Home tab: Slack tells the app, which may draw it."""
    result = await person(emulator, user_id).open_home()
    return {"ok": True, "has_home": result.ok}


async def join(emulator: SlackEmulator, user_id: Any, channel: Any) -> JSON:
    actor = person(emulator, user_id)
    found = emulator.state.channels.get(str(channel or ""))
    if found is None or found.is_im or found.is_private:
        raise PageError("Only public channels can be joined from here.")
    result = await actor.join(found.id)
    return {"ok": True} if result is None else _outcome(result, "joining")
