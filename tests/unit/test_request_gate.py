"""The front door's rules one at a time: signature, timestamp, strict reading, payload shapes."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltResponse
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.request_gate import (
    MAX_NESTING,
    Malformed,
    MalformedPayload,
    RefuseMalformedPayloads,
    Unverified,
    check_signature,
    check_timestamp,
    payload_problem,
    read_body,
    read_form,
    single_header,
)
from bot.server import QuietLog
from handlers.slack_payloads import channel_of, team_of, user_of

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_796_000_000
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


# -- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, -300, 300, -1, 1])
def test_a_timestamp_within_five_minutes_is_taken(offset: int) -> None:
    assert check_timestamp(str(NOW + offset), NOW) == NOW + offset


@pytest.mark.parametrize("offset", [-301, 301, -3600, -NOW])
def test_a_timestamp_outside_five_minutes_is_refused(offset: int) -> None:
    with pytest.raises(Unverified, match="five minutes"):
        check_timestamp(str(NOW + offset), NOW)


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1e3",
        "-1",
        "",
        " 123",
        f" {NOW}",
        f"{NOW} ",
        f"{NOW}\n",
        f"+{NOW}",
        f"{NOW}.0",
        "1_796_000_000",
        "0x6b0e5b00",
        "١٧٩٦٠٠٠٠٠٠",  # Arabic-Indic digits: int() takes these
        "１７９６０００００",  # full-width digits: so does this
        "9" * 400,  # int() would take this too, slowly
    ],
)
def test_a_timestamp_that_is_not_plain_digits_is_refused(value: str) -> None:
    with pytest.raises(Unverified, match="not a number"):
        check_timestamp(value, NOW)


def test_a_header_must_come_exactly_once() -> None:
    assert single_header(["v0=abc"], "signature") == "v0=abc"
    with pytest.raises(Unverified, match="no signature header"):
        single_header([], "signature")
    with pytest.raises(Unverified, match="2 signature headers"):
        single_header(["v0=a", "v0=b"], "signature")


# -- signatures -----------------------------------------------------------------------------


def slack_signature(body: bytes, timestamp: str = str(NOW), secret: str = SECRET) -> str:
    """Slack's own signing, from slack_sdk: an independent check of ours."""
    signature = SignatureVerifier(secret).generate_signature(
        timestamp=timestamp, body=body.decode("utf-8")
    )
    assert signature is not None
    return signature


def test_slacks_signature_is_accepted() -> None:
    body = b"command=%2Flean-coffee&text=hello"
    check_signature(SECRET.encode(), str(NOW), body, slack_signature(body))


def test_the_signature_covers_bytes_that_are_not_utf8() -> None:
    """Checked on the raw bytes, so a body is verified before anything tries to decode it."""
    import hashlib
    import hmac

    body = b"text=\xff\xfe"
    base = b"v0:" + str(NOW).encode() + b":" + body
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()

    check_signature(SECRET.encode(), str(NOW), body, signature)
    with pytest.raises(Unverified):
        check_signature(SECRET.encode(), str(NOW), b"text=\xff\xfd", signature)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("another secret", lambda b, s: (b, slack_signature(b, secret="another-secret"))),
        ("another timestamp", lambda b, s: (b, slack_signature(b, timestamp=str(NOW - 1)))),
        ("a byte added", lambda b, s: (b + b" ", s)),
        ("a byte changed", lambda b, s: (b.replace(b"hello", b"hellp"), s)),
        ("upper-case hex", lambda b, s: (b, s.upper())),
        ("v1", lambda b, s: (b, "v1" + s[2:])),
        ("no version", lambda b, s: (b, s[3:])),
        ("cut short", lambda b, s: (b, s[:-1])),
        ("trailing space", lambda b, s: (b, s + " ")),
        ("non-ASCII", lambda b, s: (b, s[:-1] + "é")),
        ("empty", lambda b, s: (b, "")),
    ],
)
def test_anything_but_slacks_signature_of_these_bytes_is_refused(name: str, change: Any) -> None:
    body = b"command=%2Flean-coffee&text=hello"
    sent_body, signature = change(body, slack_signature(body))

    with pytest.raises(Unverified):
        check_signature(SECRET.encode(), str(NOW), sent_body, signature)


# -- reading --------------------------------------------------------------------------------


def test_a_slash_command_is_read_as_its_fields() -> None:
    body = urlencode({"command": "/lean-coffee", "text": "tea & cake ☕", "team_id": "T1"})

    assert read_body(body.encode(), FORM) == {
        "command": "/lean-coffee",
        "text": "tea & cake ☕",
        "team_id": "T1",
    }


def test_a_command_whose_text_says_payload_keeps_its_fields() -> None:
    """Bolt's reading turns this into {}: any form mentioning "payload" is looked up by it."""
    body = urlencode({"command": "/lean-coffee", "text": "payload formats"})

    assert read_body(body.encode(), FORM)["text"] == "payload formats"


def test_an_interaction_is_read_from_its_payload_field() -> None:
    payload = {"type": "block_actions", "actions": [{"action_id": "a"}]}
    body = urlencode({"payload": json.dumps(payload)})

    assert read_body(body.encode(), FORM) == payload


def test_an_event_is_read_as_json() -> None:
    envelope = {"type": "event_callback", "event": {"type": "app_home_opened"}}

    assert read_body(json.dumps(envelope).encode(), "application/json") == envelope


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", FORM, "empty"),
        (b"text=\xff", FORM, "not UTF-8"),
        (b"text=%ff%fe", FORM, "not UTF-8"),
        (b"payload=%zz", FORM, "percent-escape"),
        (b"text=%2", FORM, "percent-escape"),
        (b"text=100%", FORM, "percent-escape"),
        (b"command=%2Fa&command=%2Fb", FORM, "twice"),
        (b"command", FORM, "without a name or value"),
        (b"=value", FORM, "without a name or value"),
        (b"a=1&&b=2", FORM, "without a name or value"),
        (b"payload=not+json", FORM, "not JSON"),
        (b"payload=%5B%5D", FORM, "not an object"),
        (b"payload=%22text%22", FORM, "not an object"),
        (b"payload=5", FORM, "not an object"),
        (b"payload=null", FORM, "not an object"),
        (b'payload={"n":NaN}', FORM, "not JSON"),
        (f"payload={deep(5000)}".encode(), FORM, "nested too deeply"),
        (b"{", JSON_TYPE, "not JSON"),
        (b"[1]", JSON_TYPE, "not an object"),
        (b"null", JSON_TYPE, "not an object"),
        (b'"x"', JSON_TYPE, "not an object"),
        (b"12", JSON_TYPE, "not an object"),
        (b'{"n": Infinity}', JSON_TYPE, "not JSON"),
        (b'{"n": -Infinity}', JSON_TYPE, "not JSON"),
        (deep(5000).encode(), JSON_TYPE, "nested too deeply"),
        ('{"a": "é"}'.encode("latin-1"), JSON_TYPE, "not UTF-8"),
        ('\ufeff{"a": 1}'.encode(), JSON_TYPE, "not JSON"),
        (b"\x89PNG\r\n", "image/png", "not UTF-8"),
        (b"command=%2Fa", "text/plain", "neither a form nor JSON"),
        (b"command=%2Fa", "application/octet-stream", "neither a form nor JSON"),
        (b'{"type": "event_callback"}', FORM, "the form is JSON"),
        (b"{x=1&command=%2Fa", FORM, "the form is JSON"),
    ],
)
def test_a_body_hearth_cannot_read_is_malformed(
    body: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(Malformed, match=reason):
        read_body(body, content_type)


def test_a_form_turns_plus_into_a_space_and_keeps_escaped_plus() -> None:
    assert read_form("text=a+b%2Bc") == {"text": "a b+c"}


def test_refusal_reasons_never_carry_the_body() -> None:
    secret_text = "my-private-answer"
    for body in (f"payload={secret_text}", f"text=%zz{secret_text}", f"{secret_text}"):
        with pytest.raises(Malformed) as refused:
            read_body(body.encode(), FORM)
        assert secret_text not in str(refused.value)


# -- shapes ---------------------------------------------------------------------------------


def command() -> dict[str, Any]:
    return {
        "command": "/lean-coffee",
        "team_id": "T1",
        "user_id": "U1",
        "channel_id": "C1",
        "trigger_id": "1.2.3",
        "text": "",
        "response_url": "https://hooks.slack.com/commands/1",
    }


def click() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": "T1"},
        "team": {"id": "T1", "domain": "community"},
        "enterprise": None,
        "channel": {"id": "C1", "name": "practice"},
        "container": {"type": "message", "message_ts": "1.2"},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.com/actions/1",
        "state": {"values": {}},
        "actions": [{"action_id": "lean_coffee.vote", "block_id": "b", "value": "{}"}],
    }


def submission(kind: str = "view_submission") -> dict[str, Any]:
    return {
        "type": kind,
        "user": {"id": "U1", "team_id": "T1"},
        "team": {"id": "T1"},
        "trigger_id": "1.2.3",
        "view": {
            "type": "modal",
            "callback_id": "lean_coffee.propose",
            "private_metadata": "{}",
            "state": {"values": {"b": {"a": {"type": "plain_text_input", "value": "x"}}}},
        },
    }


def event() -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev01",
        "event": {"type": "app_home_opened", "user": "U1"},
        "authorizations": [{"team_id": "T1", "user_id": "U0BOT"}],
    }


@pytest.mark.parametrize(
    "body",
    [
        command(),
        click(),
        submission(),
        submission("view_closed"),
        event(),
        {"type": "url_verification", "challenge": "c", "token": "t"},
        {"ssl_check": "1", "token": "t"},
        {"type": "app_rate_limited", "team_id": "T1"},  # no listener: Bolt answers it
        # An org-wide (Enterprise Grid) install: no team, the person's own team instead.
        {**click(), "team": None, "enterprise": {"id": "E1"}},
    ],
)
def test_payloads_as_slack_sends_them_pass(body: dict[str, Any]) -> None:
    assert payload_problem(body) is None


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "not an object"),
        (None, "not an object"),
        ({}, "neither a type nor a command"),
        ({"ssl_check": "0"}, "neither a type nor a command"),
        ({**click(), "type": 5}, "type is not a string"),
        (without(command(), "command"), "neither a type nor a command"),
        *(
            (without(command(), name), f"no {name}")
            for name in ("team_id", "user_id", "channel_id", "trigger_id")
        ),
        ({**command(), "command": ""}, "no command"),
        ({**command(), "user_id": ""}, "no user_id"),
        ({**command(), "text": 5}, "text is not a string"),
        ({**click(), "actions": []}, "no actions"),
        (without(click(), "actions"), "no actions"),
        ({**click(), "actions": "x"}, "actions is not a list"),
        ({**click(), "actions": ["x"]}, "actions is not a list"),
        ({**click(), "actions": [{"block_id": "b"}]}, "no action_id"),
        ({**click(), "actions": [{"action_id": ""}]}, "no action_id"),
        ({**click(), "actions": [{"action_id": "a", "value": 5}]}, "value is not a string"),
        ({**click(), "user": {"id": None, "team_id": "T1"}}, "no user id"),
        ({**click(), "user": {"id": "", "team_id": "T1"}}, "no user id"),
        ({**click(), "user": {"id": 5}}, "user.id is not a string"),
        ({**click(), "user": "U1"}, "user is not an object"),
        (without(click(), "user"), "no user id"),
        ({**click(), "team": None, "user": {"id": "U1"}}, "no team id"),
        ({**click(), "team": {"id": None}, "user": {"id": "U1"}}, "no team id"),
        ({**click(), "team": {"id": ""}}, "team id is empty"),
        ({**click(), "team": {"id": 5}}, "team.id is not a string"),
        ({**click(), "team": "T1"}, "team is not an object"),
        (without(click(), "trigger_id"), "no trigger_id"),
        ({**click(), "channel": "C1"}, "channel is not an object"),
        ({**click(), "enterprise": 5}, "enterprise is not an object"),
        ({**click(), "authorizations": "x"}, "authorizations is not a list"),
        ({**click(), "response_urls": 5}, "response_urls is not a list"),
        ({**click(), "response_url": ["x"]}, "response_url is not a string"),
        ({**click(), "container": "x"}, "container is not an object"),
        ({**submission(), "view": without(submission()["view"], "type")}, "no type"),
        ({**submission(), "view": without(submission()["view"], "callback_id")}, "no callback_id"),
        ({**submission(), "view": without(submission()["view"], "state")}, "no state.values"),
        ({**submission(), "view": {**submission()["view"], "state": {"values": []}}}, "state"),
        (
            {**submission(), "view": {**submission()["view"], "state": {"values": {"b": "x"}}}},
            "object of objects",
        ),
        (
            {**submission(), "view": {**submission()["view"], "private_metadata": 5}},
            "private_metadata",
        ),
        ({**submission(), "view": "x"}, "view is not an object"),
        ({**submission(), "view": None}, "view is not an object"),
        (without(submission(), "view"), "no view"),
        ({**submission(), "user": {"id": None}}, "no user id"),
        (without(submission("view_closed"), "view"), "no view"),
        ({**event(), "event": None}, "event is not an object"),
        ({**event(), "event": ["x"]}, "event is not an object"),
        (without(event(), "event"), "no event type"),
        ({**event(), "event": {"user": "U1"}}, "no event type"),
        (without(event(), "event_id"), "no event_id"),
        ({**event(), "event_id": 5}, "no event_id"),
        (without(event(), "team_id"), "no team_id"),
        ({"type": "url_verification"}, "no challenge"),
        ({"type": "url_verification", "challenge": 5}, "no challenge"),
    ],
)
def test_payloads_hearth_cannot_handle_are_named(body: Any, reason: str) -> None:
    problem = payload_problem(body)

    assert problem is not None
    assert reason in problem


def test_nesting_is_limited_without_recursion() -> None:
    nested: Any = "bottom"
    for _ in range(MAX_NESTING):
        nested = [nested]
    assert payload_problem({**click(), "extra": nested}) == "the payload is nested too deeply"

    shallow: Any = "bottom"
    for _ in range(MAX_NESTING - 2):
        shallow = {"x": shallow}
    assert payload_problem({**click(), "extra": shallow}) is None


# -- the same check inside Bolt ------------------------------------------------------------


async def run_middleware(body: dict[str, Any]) -> tuple[BoltResponse | None, bool]:
    called: list[bool] = []

    async def next_() -> BoltResponse:
        called.append(True)
        return BoltResponse(status=200, body="from the listener")

    request = AsyncBoltRequest(body=body, mode="socket_mode")
    response = await RefuseMalformedPayloads().async_process(
        req=request, resp=BoltResponse(status=200, body=""), next=next_
    )
    return response, bool(called)


async def test_the_middleware_passes_a_good_payload_on() -> None:
    response, called = await run_middleware(click())

    assert called
    assert response is not None and response.body == "from the listener"


async def test_the_middleware_acknowledges_and_drops_a_bad_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    body = {**click(), "actions": [], "note": "my-private-answer"}

    response, called = await run_middleware(body)

    assert not called
    assert response is not None and (response.status, response.body) == (200, "")
    [line] = [r.getMessage() for r in caplog.records]
    assert line == "Dropped a request hearth cannot read (block_actions: it has no actions)"


# -- listeners refuse rather than read None as "None" ---------------------------------------


def test_ids_are_read_from_a_payload() -> None:
    assert (team_of(click()), user_of(click()), channel_of(click())) == ("T1", "U1", "C1")
    assert (team_of(command()), user_of(command()), channel_of(command())) == ("T1", "U1", "C1")
    org_wide = {**click(), "team": None}
    assert team_of(org_wide) == "T1"
    assert channel_of(without(command(), "channel_id")) is None


@pytest.mark.parametrize(
    ("read", "body"),
    [
        (user_of, {**click(), "user": {"id": None}}),
        (user_of, {**command(), "user_id": None}),
        (user_of, without(command(), "user_id")),
        (user_of, {**click(), "user": {"id": 5}}),
        (team_of, {**click(), "team": {"id": ""}}),
        (team_of, {**click(), "team": None, "user": {"id": "U1"}}),
        (team_of, {**command(), "team_id": None}),
        (channel_of, {**click(), "channel": {"id": None}}),
        (channel_of, {**command(), "channel_id": ""}),
    ],
)
def test_a_missing_id_is_refused_not_stringified(read: Any, body: dict[str, Any]) -> None:
    with pytest.raises(MalformedPayload):
        read(body)


# -- a quiet log ----------------------------------------------------------------------------


def test_the_log_notes_each_reason_once_a_minute_then_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    clock = [1000.0]
    log = QuietLog(60, now=lambda: clock[0])

    for _ in range(5):
        log.note(logging.WARNING, "bad signature", "Refused %s", "one")
    log.note(logging.WARNING, "stale", "Refused %s", "two")
    assert [r.getMessage() for r in caplog.records] == ["Refused one", "Refused two"]

    caplog.clear()
    clock[0] += 61
    log.note(logging.WARNING, "bad signature", "Refused %s", "one")
    assert [r.getMessage() for r in caplog.records] == [
        "Refused one (and 4 more like it since the last note)"
    ]
