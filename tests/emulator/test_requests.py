"""Signed requests are byte-for-byte what Slack sends, and verify with Slack's own check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.clock import ManualClock
from bot.emulator.requests import SignedRequestBuilder

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MOMENT = datetime(2025, 11, 22, 10, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def now(self) -> float:
        return self.seconds


@pytest.fixture
def builder() -> SignedRequestBuilder:
    return SignedRequestBuilder(SECRET, ManualClock(MOMENT))


def verifies(body: str, headers: dict[str, str], secret: str = SECRET) -> bool:
    verifier = SignatureVerifier(secret, clock=FixedClock(MOMENT.timestamp()))
    return verifier.is_valid_request(body, headers)


def test_slash_command_is_form_encoded_and_signed(builder: SignedRequestBuilder) -> None:
    body, headers = builder.slash_command({"command": "/lean-coffee", "text": "a & b"})
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Slack-Request-Timestamp"] == str(int(MOMENT.timestamp()))
    assert headers["X-Slack-Signature"].startswith("v0=")
    assert parse_qs(body) == {"command": ["/lean-coffee"], "text": ["a & b"]}
    assert verifies(body, headers)
    assert not verifies(body, headers, secret="another-secret")
    assert not verifies(body + "x", headers)


def test_interactions_carry_one_payload_field(builder: SignedRequestBuilder) -> None:
    payload = {"type": "block_actions", "actions": [{"action_id": "lean_coffee.vote"}]}
    body, headers = builder.block_actions(payload)
    assert json.loads(parse_qs(body)["payload"][0]) == payload
    assert verifies(body, headers)
    body, _ = builder.view_submission({"type": "view_submission"})
    assert json.loads(parse_qs(body)["payload"][0])["type"] == "view_submission"
    body, _ = builder.view_closed({"type": "view_closed"})
    assert json.loads(parse_qs(body)["payload"][0])["type"] == "view_closed"


def test_events_are_json(builder: SignedRequestBuilder) -> None:
    envelope = {"type": "event_callback", "event": {"type": "app_home_opened"}}
    body, headers = builder.event_callback(envelope)
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == envelope
    assert verifies(body, headers)


def test_payload_type_is_checked(builder: SignedRequestBuilder) -> None:
    with pytest.raises(ValueError, match="block_actions"):
        builder.block_actions({"type": "view_submission"})


def test_the_signature_is_slacks_documented_example() -> None:
    """Slack's docs: this secret, timestamp and body give this signature."""
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
        "&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
        "%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    clock = ManualClock(datetime.fromtimestamp(1531420618, UTC))
    _, headers = SignedRequestBuilder(SECRET, clock).sign(body, "application/x-www-form-urlencoded")
    assert headers["X-Slack-Signature"] == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )
