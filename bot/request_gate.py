"""The front door's checks: did Slack send this, is it fresh, and can hearth read it?

Order matters, and is the whole point (see "Trust" in DESIGN.md):

1. `check_timestamp` and `check_signature` look only at headers and the raw bytes. Anything
   that fails gets 401 and nothing else happens: nothing is parsed, nothing is logged from
   the body, and nothing is sent anywhere, so no request can make hearth post to a
   `response_url` or DM a person it names unless Slack signed it.
2. `read_body` parses what Slack signed, strictly: a body Bolt or hearth's listeners would
   choke on is refused with 400 instead of becoming a 500 with a traceback.
3. `payload_problem` checks the shape of each kind of payload hearth listens for. It is the
   one check used in both modes: by the HTTP gate, and for Socket Mode (which has no
   signatures, but the same payloads) by hearth's Socket Mode handler and a Bolt middleware.

Everything here is pure (no I/O) so each rule is tested on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from slack_bolt import BoltResponse
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest

# Slack's own advice: refuse anything signed more than five minutes from now, either way.
SIGNATURE_WINDOW_SECONDS = 300
SIGNATURE_VERSION = "v0"
# Far deeper than any payload Slack sends (a modal's state or a message's rich text is about
# a dozen levels), far shallower than what makes copying or printing a payload recurse out.
MAX_NESTING = 64

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

# Plain ASCII digits only: int() would also take " 123", "+1", "1_000" and "١٢٣".
_DIGITS = re.compile(r"[0-9]{1,15}")
_LOWER_HEX_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

Body = dict[str, Any]

logger = logging.getLogger(__name__)


class Refused(Exception):
    """A request hearth will not act on. `reason` is short and safe to log: it never holds
    any part of the body."""

    status = 400
    error = "malformed_request"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unverified(Refused):
    """Not signed by Slack with hearth's signing secret, or not signed recently."""

    status = 401
    error = "invalid_request_signature"


class Malformed(Refused):
    """Signed by Slack, but not something hearth can read."""


class MalformedPayload(ValueError):
    """A listener met a payload without something it needs (a user or team id).

    The front door refuses these, so meeting one means a check there is missing; raising
    beats carrying on with the text "None" as somebody's id."""


# -- 1. is it from Slack? -------------------------------------------------------------------


def single_header(values: Sequence[str], name: str) -> str:
    """The one value of a header that must appear exactly once."""
    if not values:
        raise Unverified(f"no {name} header")
    if len(values) > 1:
        raise Unverified(f"{len(values)} {name} headers")
    return values[0]


def check_timestamp(value: str, now: float, window: float = SIGNATURE_WINDOW_SECONDS) -> int:
    """The request's timestamp, if it is plain digits and within `window` seconds of `now`."""
    if not _DIGITS.fullmatch(value):
        raise Unverified("the timestamp is not a number of seconds")
    timestamp = int(value)
    if abs(now - timestamp) > window:
        raise Unverified("the timestamp is more than five minutes from this machine's clock")
    return timestamp


def expected_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """`v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack computes it."""
    base = b"%s:%s:%s" % (SIGNATURE_VERSION.encode(), timestamp.encode("ascii"), body)
    return f"{SIGNATURE_VERSION}=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def check_signature(secret: bytes, timestamp: str, body: bytes, signature: str) -> None:
    """Refuse unless `signature` is Slack's signature of exactly these bytes."""
    if not _DIGITS.fullmatch(timestamp):
        raise Unverified("the timestamp is not a number of seconds")
    if not _LOWER_HEX_SIGNATURE.fullmatch(signature):
        raise Unverified("the signature is not a v0 signature")
    expected = expected_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        raise Unverified("the signature does not match")


# -- 2. can hearth read it? -----------------------------------------------------------------


def read_body(raw: bytes, content_type: str) -> Body:
    """What Slack signed, as one JSON object: a slash command's fields, an interaction's
    `payload`, or an event envelope. Anything else is `Malformed`."""
    if not raw:
        raise Malformed("the body is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if content_type == FORM:
        if text.startswith("{"):  # Bolt would read this as JSON, not as the form it claims
            raise Malformed("the form is JSON")
        fields = read_form(text)
        if "payload" in fields:
            return read_json(fields["payload"], "the payload field")
        return fields
    if content_type == JSON_TYPE:
        return read_json(text, "the body")
    raise Malformed("the body is neither a form nor JSON")


def read_form(text: str) -> dict[str, str]:
    """A form body, strictly: every field `name=value`, each once, percent-escapes whole and
    decoding to UTF-8 (Python's own parser quietly lets all of these through)."""
    if _BAD_PERCENT.search(text):
        raise Malformed("the form has a broken percent-escape")
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        name, equals, value = pair.partition("=")
        if not name or not equals:
            raise Malformed("the form has a field without a name or value")
        try:
            name = unquote_to_bytes(name.replace("+", " ")).decode("utf-8")
            value = unquote_to_bytes(value.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("a form field is not UTF-8") from None
        if name in fields:
            raise Malformed("the form names a field twice")
        fields[name] = value
    return fields


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json(text: str, what: str) -> Body:
    """One JSON object, without NaN or Infinity and not nested absurdly deep."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise Malformed(f"{what} is nested too deeply") from None
    except ValueError:
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is JSON but not an object")
    return value


# -- 3. does it have what hearth needs? -----------------------------------------------------


def payload_problem(body: object) -> str | None:
    """What is wrong with this payload's shape, or None when hearth can handle it.

    Checks what Bolt's routing and hearth's listeners read without asking: ids that must be
    non-empty strings, lists that must not be empty, objects that must be objects. Types
    hearth has no listener for only get the envelope checks; Bolt answers those itself."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    if _nested_deeper_than(body, MAX_NESTING):
        return "the payload is nested too deeply"
    problem = _envelope_problem(body)
    if problem is not None:
        return problem
    kind = body.get("type")
    if kind is None:
        if "command" in body:
            return _slash_command_problem(body)
        if body.get("ssl_check") == "1":
            return None  # Slack checking the certificate; Bolt answers it
        return "the payload has neither a type nor a command"
    check = _CHECKS.get(kind)
    return check(body) if check is not None else None


def _nested_deeper_than(value: object, limit: int) -> bool:
    """Measured without recursion, so the measuring cannot overflow either."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _is_id(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _envelope_problem(body: Body) -> str | None:
    """Fields Bolt reads from every payload while building its context and routing."""
    if "type" in body and not isinstance(body["type"], str):
        return "type is not a string"
    for name in ("user", "team", "enterprise", "channel", "container", "message", "state"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            return f"{name} is not an object"
        inner_id = body[name].get("id") if isinstance(body.get(name), dict) else None
        if inner_id is not None and not isinstance(inner_id, str):
            return f"{name}.id is not a string"
    for name in ("event", "view"):  # Bolt reads these with .get() whenever they are present
        if name in body and not isinstance(body[name], dict):
            return f"{name} is not an object"
    for name in ("authorizations", "response_urls", "actions"):
        if body.get(name) is not None and not _list_of_objects(body[name]):
            return f"{name} is not a list of objects"
    for name in ("response_url", "trigger_id", "team_id", "user_id", "channel_id", "text"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{name} is not a string"
    if isinstance(body.get("view"), dict):
        metadata = body["view"].get("private_metadata")
        if metadata is not None and not isinstance(metadata, str):
            return "view.private_metadata is not a string"
    return None


def _list_of_objects(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _slash_command_problem(body: Body) -> str | None:
    for name in ("command", "team_id", "user_id", "channel_id", "trigger_id"):
        if not _is_id(body.get(name)):
            return f"the slash command has no {name}"
    return None


def _user_and_team_problem(body: Body) -> str | None:
    """Who acted, and in which workspace: `team` may be null only in an org-wide (Enterprise
    Grid) install, where the person's own `user.team_id` says which workspace."""
    user = body.get("user")
    if not isinstance(user, dict) or not _is_id(user.get("id")):
        return "it has no user id"
    team = body.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    if team_id is None:
        if not _is_id(user.get("team_id")):
            return "it has no team id"
    elif not _is_id(team_id):
        return "its team id is empty"
    return None


def _block_actions_problem(body: Body) -> str | None:
    problem = _user_and_team_problem(body)
    if problem is not None:
        return f"block_actions: {problem}"
    if not _is_id(body.get("trigger_id")):
        return "block_actions: it has no trigger_id"
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "block_actions: it has no actions"
    for action in actions:
        if not _is_id(action.get("action_id")):
            return "block_actions: an action has no action_id"
        for name in ("block_id", "value"):
            if action.get(name) is not None and not isinstance(action[name], str):
                return f"block_actions: an action's {name} is not a string"
    return None


def _view_problem(body: Body, *, submitted: bool) -> str | None:
    kind = body["type"]
    problem = _user_and_team_problem(body)
    if problem is not None:
        return f"{kind}: {problem}"
    view = body.get("view")
    if not isinstance(view, dict):
        return f"{kind}: it has no view"
    for name in ("type", "callback_id"):
        if not isinstance(view.get(name), str):
            return f"{kind}: the view has no {name}"
    if not submitted:
        return None
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return f"{kind}: the view has no state.values"
    for block in values.values():
        if not isinstance(block, dict) or not all(isinstance(v, dict) for v in block.values()):
            return f"{kind}: state.values is not an object of objects"
    return None


def _event_callback_problem(body: Body) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not _is_id(event.get("type")):
        return "event_callback: it has no event type"
    for name in ("team_id", "event_id"):
        if not _is_id(body.get(name)):
            return f"event_callback: it has no {name}"
    return None


def _url_verification_problem(body: Body) -> str | None:
    if not _is_id(body.get("challenge")):
        return "url_verification: it has no challenge"
    return None


_CHECKS: dict[str, Callable[[Body], str | None]] = {
    "block_actions": _block_actions_problem,
    "view_submission": lambda body: _view_problem(body, submitted=True),
    "view_closed": lambda body: _view_problem(body, submitted=False),
    "event_callback": _event_callback_problem,
    "url_verification": _url_verification_problem,
}


def describe(body: Mapping[str, Any]) -> str:
    """A few words naming a payload for a log line: its type, never its content."""
    kind = body.get("type")
    if isinstance(kind, str) and kind in _CHECKS:
        return kind
    return "slash command" if "command" in body and kind is None else "request"


# -- the same check inside Bolt, for Socket Mode --------------------------------------------


class RefuseMalformedPayloads(AsyncMiddleware):
    """Bolt global middleware: acknowledge and drop a payload hearth cannot handle.

    Over HTTP the gate has already refused these with 400; over Socket Mode there is no
    status to answer with, so the request is acknowledged (Slack must not retry it) and
    dropped, with one line in the log and no traceback.

    A class, not a middleware function: for a function Bolt first works out every argument
    it might inject, and that alone raises on some shapes (`actions: []`)."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        problem = payload_problem(req.body)
        if problem is None:
            return await next()
        logger.warning("Dropped a request hearth cannot read (%s)", problem)
        return BoltResponse(status=200, body="")
