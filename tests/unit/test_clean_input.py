"""Control characters stripped at the edge: the cleaning itself, and the middleware's view of
a request (listener arguments are views into the body it cleans)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import to_action, to_command, to_event, to_view

from bot.clean import clean_in_place, clean_text
from handlers.clean_input import clean_request


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Plain language", "Plain language"),
        ("Plain\x00 language", "Plain language"),  # NUL: PostgreSQL refuses it in text
        ("\x00", ""),
        ("bell\x07 backspace\x08 escape\x1b[31m", "bell backspace escape[31m"),
        ("vertical\x0b tab\x0c feed", "vertical tab feed"),
        ("line one\nline two\tand a tab", "line one\nline two\tand a tab"),
        ("windows\r\nline ends\r", "windows\nline ends"),
        ("delete\x7f", "delete"),
        ("c1\x80 controls\x85\x9f", "c1 controls"),
        ("\x1f\x01unit separators", "unit separators"),
        # Printable neighbours of the control ranges stay.
        (" ~\xa0é ẞ 😀 «quotes» \u200b", " ~\xa0é ẞ 😀 «quotes» \u200b"),
        ("<!channel> &amp; *bold*", "<!channel> &amp; *bold*"),
    ],
)
def test_clean_text(typed: str, kept: str) -> None:
    assert clean_text(typed) == kept


def test_clean_in_place_reaches_every_string_and_leaves_other_values() -> None:
    body: dict[str, Any] = {
        "text": "a\x00b",
        "n": 3,
        "flag": True,
        "none": None,
        "nested": {"list": ["c\x07", {"deep": "d\x1b"}, 4], "key\x00": "e"},
    }
    same = clean_in_place(body)
    assert same is body
    assert body == {
        "text": "ab",
        "n": 3,
        "flag": True,
        "none": None,
        "nested": {"list": ["c", {"deep": "d"}, 4], "key\x00": "e"},
    }
    assert clean_in_place("x\x00") == "x"


async def run_middleware(body: dict[str, Any]) -> AsyncBoltRequest:
    req = AsyncBoltRequest(body=body, mode="socket_mode")
    called: list[bool] = []

    async def next_() -> None:
        called.append(True)

    await clean_request(req, next_)
    assert called == [True], "the middleware must hand on to the listeners"
    return req


async def test_middleware_cleans_what_each_kind_of_listener_is_given() -> None:
    command = await run_middleware(
        {"command": "/lean-coffee", "text": "Plain\x00 language", "team_id": "T1"}
    )
    assert (to_command(command.body) or {})["text"] == "Plain language"

    modal = await run_middleware(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "view": {
                "callback_id": "lean_coffee.propose",
                "state": {"values": {"b": {"a": {"type": "plain_text_input", "value": "x\x00"}}}},
            },
        }
    )
    view = to_view(modal.body) or {}
    assert view["state"]["values"]["b"]["a"]["value"] == "x"

    click = await run_middleware(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "actions": [{"action_id": "a", "value": "v\x00", "type": "button"}],
        }
    )
    assert (to_action(click.body) or {})["value"] == "v"

    said = await run_middleware(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event": {"type": "message", "text": "hi\x00 there", "user": "U1"},
        }
    )
    assert (to_event(said.body) or {})["text"] == "hi there"
