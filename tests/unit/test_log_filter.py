"""What hearth's log handler keeps out, or says more quietly: Slack libraries' payloads at
DEBUG, Bolt's refused-signature line (it carries the body), and Bolt's ERROR for a workspace
hearth is not installed in (not a fault of hearth's)."""

from __future__ import annotations

import io
import logging

from bot.logging import log_handler


def emit(name: str, level: int, message: str) -> str:
    stream = io.StringIO()
    handler = log_handler(stream)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.log(level, message)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_slack_payloads_never_reach_the_log() -> None:
    body = "Sending a request - json: {'user': 'U0BOB', 'text': 'You answered Going well'}"
    assert emit("slack_sdk.web.async_base_client", logging.DEBUG, body) == ""
    refused = "Invalid request signature detected (signature: v0=x, body: payload=...)"
    assert emit("slack_bolt.AsyncApp", logging.INFO, refused) == ""
    assert emit("aiosqlite", logging.DEBUG, "executing INSERT ... ('U0BOB', 'green')") == ""


def test_hearths_own_debug_lines_and_library_warnings_stay() -> None:
    assert "Scheduled job" in emit("bot.scheduler", logging.DEBUG, "Scheduled job x ran")
    assert "socket closed" in emit("slack_sdk.socket_mode", logging.WARNING, "socket closed")


def test_a_request_from_a_workspace_without_hearth_is_not_an_error() -> None:
    line = emit(
        "slack_bolt.AsyncApp",
        logging.ERROR,
        "Although the app should be installed into this workspace, the AuthorizeResult "
        "(returned value from authorize) for it was not found.",
    )
    assert " INFO " in line and "ERROR" not in line
    assert "not installed in" in line
