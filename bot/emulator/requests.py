"""Signed HTTP requests exactly as Slack sends them to an app's Request URL.

Pure: takes a payload, returns `(body, headers)`. Slash commands are form fields,
interactions are a form with one `payload=` field holding JSON, events are a JSON body; all
carry `X-Slack-Request-Timestamp` and `X-Slack-Signature` (v0 HMAC-SHA256 of
`v0:{timestamp}:{body}` with the signing secret).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.clock import Clock, SystemClock

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"


class SignedRequestBuilder:
    def __init__(self, signing_secret: str, clock: Clock | None = None) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._clock: Clock = clock or SystemClock()

    def sign(self, body: str, content_type: str) -> tuple[str, dict[str, str]]:
        timestamp = str(int(self._clock.now().timestamp()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or "",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        return body, headers

    def slash_command(self, fields: dict[str, str]) -> tuple[str, dict[str, str]]:
        return self.sign(urlencode(fields), FORM)

    def interactive(self, payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """Any interaction payload (block_actions, view_submission, view_closed, …)."""
        return self.sign(urlencode({"payload": json.dumps(payload)}), FORM)

    def block_actions(self, payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return self.interactive(self._expect(payload, "block_actions"))

    def view_submission(self, payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return self.interactive(self._expect(payload, "view_submission"))

    def view_closed(self, payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return self.interactive(self._expect(payload, "view_closed"))

    def event_callback(self, envelope: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return self.sign(json.dumps(self._expect(envelope, "event_callback")), JSON_TYPE)

    def url_verification(self, challenge: str) -> tuple[str, dict[str, str]]:
        body = {"token": "", "challenge": challenge, "type": "url_verification"}
        return self.sign(json.dumps(body), JSON_TYPE)

    @staticmethod
    def _expect(payload: dict[str, Any], kind: str) -> dict[str, Any]:
        if payload.get("type") != kind:
            raise ValueError(f"expected a {kind} payload, got type={payload.get('type')!r}")
        return payload
