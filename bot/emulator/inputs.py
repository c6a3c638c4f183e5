"""Modal inputs: what a person types or picks, turned into Slack's `state.values` shape.

Also the checks Slack's own client makes before it lets a modal be submitted (required
fields, text length, number range): a real person cannot send those, so neither can a test.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from bot.emulator.blocktree import text_of
from bot.emulator.state import View, WorkspaceState

JSON = dict[str, Any]


class InputError(Exception):
    """The person's input cannot be entered into this modal (wrong field, unknown option)."""


class SubmitBlocked(InputError):
    """Slack's client would not submit the modal; `problems` maps block_id to the reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(
            "Slack would not submit this modal: "
            + "; ".join(f"{k}: {v}" for k, v in problems.items())
        )
        self.problems = problems


def input_blocks(view: View) -> list[JSON]:
    return [
        b for b in view.blocks if b.get("type") == "input" and isinstance(b.get("element"), dict)
    ]


def find_input(view: View, key: str) -> JSON:
    """An input block by its label (exact, then case-insensitive) or its block_id."""
    blocks = input_blocks(view)
    for matcher in (
        lambda b: b.get("block_id") == key,
        lambda b: text_of(b.get("label")) == key,
        lambda b: text_of(b.get("label")).strip().lower() == key.strip().lower(),
    ):
        found = [b for b in blocks if matcher(b)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InputError(f"more than one input is labelled {key!r}; use its block_id")
    labels = [f"{text_of(b.get('label'))!r} ({b.get('block_id')})" for b in blocks]
    raise InputError(f"no input {key!r} in this modal; it has: {', '.join(labels) or 'none'}")


def _option(element: JSON, wanted: Any) -> JSON:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    if isinstance(wanted, dict):
        wanted = wanted.get("value")
    for option in options:
        if wanted in (text_of(option.get("text")), option.get("value")):
            return option
    labels = [text_of(o.get("text")) for o in options]
    raise InputError(f"no option {wanted!r}; the choices are: {', '.join(labels)}")


def _user_id(state: WorkspaceState, wanted: str) -> str:
    user = state.users.get(wanted) or state.user_by_name(wanted)
    if user is None:
        raise InputError(f"no person {wanted!r} in this workspace")
    return user.id


def _channel_id(state: WorkspaceState, wanted: str) -> str:
    channel = state.resolve_channel(wanted)
    if channel is None:
        raise InputError(f"no conversation {wanted!r} in this workspace")
    return channel.id


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def entered_value(state: WorkspaceState, element: JSON, value: Any) -> JSON:
    """The `state.values` entry for one element after a person entered `value`."""
    kind = element["type"]
    entry: JSON = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        entry["value"] = None if value is None or value == "" else str(value)
    elif kind == "rich_text_input":
        entry["rich_text_value"] = {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}
            ]
            if value
            else [],
        }
    elif kind in ("static_select", "external_select", "radio_buttons", "overflow"):
        entry["selected_option"] = None if value is None else _option(element, value)
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        entry["selected_options"] = [_option(element, v) for v in _many(value)]
    elif kind == "users_select":
        entry["selected_user"] = None if value is None else _user_id(state, str(value))
    elif kind == "multi_users_select":
        entry["selected_users"] = [_user_id(state, str(v)) for v in _many(value)]
    elif kind == "conversations_select":
        entry["selected_conversation"] = None if value is None else _channel_id(state, str(value))
    elif kind == "multi_conversations_select":
        entry["selected_conversations"] = [_channel_id(state, str(v)) for v in _many(value)]
    elif kind == "channels_select":
        entry["selected_channel"] = None if value is None else _channel_id(state, str(value))
    elif kind == "multi_channels_select":
        entry["selected_channels"] = [_channel_id(state, str(v)) for v in _many(value)]
    elif kind == "datepicker":
        entry["selected_date"] = value.isoformat() if isinstance(value, date) else value
    elif kind == "timepicker":
        entry["selected_time"] = value.strftime("%H:%M") if isinstance(value, time) else value
        if element.get("timezone"):
            entry["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        entry["selected_date_time"] = (
            int(value.timestamp()) if isinstance(value, datetime) else value
        )
    else:
        raise InputError(f"{kind} inputs are not emulated")
    return entry


_INITIAL = {
    "plain_text_input": ("initial_value", "value"),
    "email_text_input": ("initial_value", "value"),
    "url_text_input": ("initial_value", "value"),
    "number_input": ("initial_value", "value"),
    "static_select": ("initial_option", "selected_option"),
    "external_select": ("initial_option", "selected_option"),
    "radio_buttons": ("initial_option", "selected_option"),
    "multi_static_select": ("initial_options", "selected_options"),
    "multi_external_select": ("initial_options", "selected_options"),
    "checkboxes": ("initial_options", "selected_options"),
    "users_select": ("initial_user", "selected_user"),
    "multi_users_select": ("initial_users", "selected_users"),
    "conversations_select": ("initial_conversation", "selected_conversation"),
    "multi_conversations_select": ("initial_conversations", "selected_conversations"),
    "channels_select": ("initial_channel", "selected_channel"),
    "multi_channels_select": ("initial_channels", "selected_channels"),
    "datepicker": ("initial_date", "selected_date"),
    "timepicker": ("initial_time", "selected_time"),
    "datetimepicker": ("initial_date_time", "selected_date_time"),
    "rich_text_input": ("initial_value", "rich_text_value"),
}
_MULTI = {"selected_options", "selected_users", "selected_conversations", "selected_channels"}


def initial_entry(element: JSON) -> JSON:
    """The `state.values` entry for an element the person has not touched."""
    kind = element.get("type", "")
    source, target = _INITIAL.get(kind, ("initial_value", "value"))
    default: Any = [] if target in _MULTI else None
    return {"type": kind, target: element.get(source, default)}


def state_values(view: View) -> dict[str, dict[str, JSON]]:
    """Every stateful element's current value: what the person entered, else its initial one."""
    values: dict[str, dict[str, JSON]] = {}
    for block in view.blocks:
        block_id = block.get("block_id", "")
        elements: list[JSON] = []
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            elements = [block["element"]]
        elif block.get("type") == "actions":
            elements = [e for e in block.get("elements") or [] if e.get("type") in _INITIAL]
        elif block.get("type") == "section" and (block.get("accessory") or {}).get("type") in (
            _INITIAL
        ):
            elements = [block["accessory"]]
        for element in elements:
            action_id = element.get("action_id", "")
            entered = view.values.get(block_id, {}).get(action_id)
            values.setdefault(block_id, {})[action_id] = entered or initial_entry(element)
    return values


def fill(state: WorkspaceState, view: View, entries: dict[str, Any]) -> None:
    """Type or pick values into a modal's inputs, keyed by label or block_id."""
    for key, value in entries.items():
        block = find_input(view, key)
        element = block["element"]
        view.values.setdefault(block["block_id"], {})[element["action_id"]] = entered_value(
            state, element, value
        )


def _is_empty(entry: JSON) -> bool:
    return all(v in (None, "", []) for k, v in entry.items() if k != "type")


def client_checks(view: View) -> dict[str, str]:
    """What Slack's client itself refuses before sending a submission."""
    problems: dict[str, str] = {}
    values = state_values(view)
    for block in input_blocks(view):
        element = block["element"]
        entry = values.get(block["block_id"], {}).get(element.get("action_id", ""), {})
        if _is_empty(entry):
            if not block.get("optional", False):
                problems[block["block_id"]] = "Please complete this required field."
            continue
        value = entry.get("value")
        if element.get("type") == "plain_text_input" and isinstance(value, str):
            if len(value) < int(element.get("min_length", 0)):
                problems[block["block_id"]] = f"at least {element['min_length']} characters"
            if len(value) > int(element.get("max_length", 3000)):
                problems[block["block_id"]] = (
                    f"at most {element.get('max_length', 3000)} characters"
                )
        if element.get("type") == "number_input" and isinstance(value, str):
            problems.update(_number_problem(block["block_id"], element, value))
    return problems


def _number_problem(block_id: str, element: JSON, value: str) -> dict[str, str]:
    try:
        number = float(value) if element.get("is_decimal_allowed") else int(value)
    except ValueError:
        whole = not element.get("is_decimal_allowed")
        return {block_id: "must be a whole number" if whole else "must be a number"}
    if element.get("min_value") is not None and number < float(element["min_value"]):
        return {block_id: f"must be at least {element['min_value']}"}
    if element.get("max_value") is not None and number > float(element["max_value"]):
        return {block_id: f"must be at most {element['max_value']}"}
    return {}


# -- a client's state, and what a client shows ------------------------------------------------

_RAW_KEYS = (
    "value",
    "selected_option",
    "selected_options",
    "selected_user",
    "selected_users",
    "selected_conversation",
    "selected_conversations",
    "selected_channel",
    "selected_channels",
    "selected_date",
    "selected_time",
    "selected_date_time",
)


def raw_value(entry: JSON) -> Any:
    """What was entered, from one `state.values` entry (an option by its value)."""
    for key in _RAW_KEYS:
        if key not in entry:
            continue
        value = entry[key]
        if key == "selected_option":
            return value.get("value") if isinstance(value, dict) else value
        if key == "selected_options":
            return [o.get("value") if isinstance(o, dict) else o for o in value or []]
        return value
    return None


def stateful_elements(view: View) -> dict[tuple[str, str], JSON]:
    """Every element of a view that holds a value, by (block_id, action_id)."""
    found: dict[tuple[str, str], JSON] = {}
    for block in view.blocks:
        block_id = block.get("block_id", "")
        candidates: list[JSON] = []
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            candidates = [block["element"]]
        elif block.get("type") == "actions":
            candidates = [e for e in block.get("elements") or [] if isinstance(e, dict)]
        elif isinstance(block.get("accessory"), dict):
            candidates = [block["accessory"]]
        for element in candidates:
            if element.get("type") in _INITIAL:
                found[(block_id, element.get("action_id", ""))] = element
    return found


def accept_state(state: WorkspaceState, view: View, values: Any) -> None:
    """Take a client's `state.values` for a view, as a browser sends it before an action.

    Each entry is checked against the element it claims to be (an option must be one of the
    element's options, a person must exist), so a client cannot enter what Slack would not
    let a person pick. Raises `InputError` for anything that does not fit.
    """
    if not isinstance(values, dict):
        raise InputError("state values must be an object of block_id → action_id → value")
    known = stateful_elements(view)
    accepted: dict[str, dict[str, JSON]] = {}
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            raise InputError(f"state for {block_id!r} must be an object")
        for action_id, entry in actions.items():
            element = known.get((str(block_id), str(action_id)))
            if element is None:
                raise InputError(f"this view has no input {block_id!r}/{action_id!r}")
            if not isinstance(entry, dict):
                raise InputError(f"the value of {block_id!r}/{action_id!r} must be an object")
            if element["type"] == "rich_text_input" and "rich_text_value" in entry:
                checked: JSON = {"type": "rich_text_input", **_rich_text(entry)}
            else:
                checked = entered_value(state, element, _checked_raw(element, entry))
            accepted.setdefault(str(block_id), {})[str(action_id)] = checked
    for block_id, actions in accepted.items():
        view.values.setdefault(block_id, {}).update(actions)


def _rich_text(entry: JSON) -> JSON:
    value = entry["rich_text_value"]
    if value is not None and not (isinstance(value, dict) and value.get("type") == "rich_text"):
        raise InputError("a rich text value must be a rich_text object")
    return {"rich_text_value": value}


def _checked_raw(element: JSON, entry: JSON) -> Any:
    """The entered value, refusing dates and times no date or time picker could produce."""
    raw = raw_value(entry)
    if raw in (None, ""):
        return None
    try:
        if element["type"] == "datepicker":
            date.fromisoformat(str(raw))
        elif element["type"] == "timepicker":
            time.fromisoformat(str(raw))
        elif element["type"] == "datetimepicker":
            raw = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"{raw!r} is not something a {element['type']} can hold") from None
    return raw


def shown_blocks(view: View) -> list[JSON]:
    """The view's blocks as its person sees them now: what they entered shows as the value.

    A client redrawing a view (after field errors or a `views.update` that kept a block)
    shows entered values, not the app's initial ones; this puts each entered value where
    the element's initial value goes, so any Block Kit renderer draws the view as it is.
    """
    shown: list[JSON] = []
    for block in view.blocks:
        block_id = block.get("block_id", "")
        entered = view.values.get(block_id, {})
        if not entered:
            shown.append(block)
            continue
        block = dict(block)
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            block["element"] = _with_entered(block["element"], entered)
        elif block.get("type") == "actions":
            block["elements"] = [_with_entered(e, entered) for e in block.get("elements") or []]
        elif isinstance(block.get("accessory"), dict):
            block["accessory"] = _with_entered(block["accessory"], entered)
        shown.append(block)
    return shown


def _with_entered(element: JSON, entered: dict[str, JSON]) -> JSON:
    entry = entered.get(element.get("action_id", ""))
    kind = element.get("type", "")
    if entry is None or kind not in _INITIAL:
        return element
    initial_key, state_key = _INITIAL[kind]
    value = entry.get(state_key)
    element = dict(element)
    if value in (None, "", []):
        element.pop(initial_key, None)
    else:
        element[initial_key] = value
    return element
