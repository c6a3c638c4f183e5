"""Block Kit limits and hearth's own promises, as the emulator enforces them."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.emulator.blockkit import validate_message, validate_view
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import ViolationsFound, assert_no_violations, running_emulator, web_client


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label: str, action_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        **extra,
    }


def option(text: str, value: str = "v") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def modal(**extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Title"},
        "blocks": [section("Hi")],
        **extra,
    }


def problems(blocks: list[dict[str, Any]], text: str | None = "fallback") -> list[str]:
    return [str(p) for p in validate_message(text, blocks)]


def view_problems(view: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate_view(view)]


def test_a_good_message_passes() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Lean Coffee", "emoji": True}},
        section("*Topic* by <@U0ALICE> &amp; friends", accessory=button("Vote", value="1")),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "<!date^1763776000^{time}|10:00>"}],
        },
        {"type": "actions", "elements": [button("Vote", "a"), button("Skip", "b")]},
    ]
    assert problems(blocks) == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([section("x")] * 51, "no more than 50 blocks"),
        ([section("x" * 3001)], "at most 3000 characters"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "10 fields"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "at most 150"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "must be plain_text"),
        ([section("x", accessory=button("b" * 76))], "at most 75"),
        ([section("x", accessory=button("b", value="v" * 2001))], "at most 2000"),
        ([section("x", block_id="a" * 256)], "at most 255"),
        ([section("x", block_id="same"), section("y", block_id="same")], "duplicate block_id"),
        (
            [{"type": "actions", "elements": [button("a", "dup"), button("b", "dup")]}],
            "duplicate action_id",
        ),
        ([{"type": "actions", "elements": [button(str(i), str(i)) for i in range(26)]}], "1 to 25"),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "1 to 10 elements",
        ),
        (
            [
                section(
                    "x",
                    accessory={
                        "type": "static_select",
                        "action_id": "s",
                        "options": [option(str(i), str(i)) for i in range(101)],
                    },
                )
            ],
            "1 to 100 options",
        ),
        (
            [
                section(
                    "x",
                    accessory={
                        "type": "overflow",
                        "action_id": "o",
                        "options": [option(str(i), str(i)) for i in range(6)],
                    },
                )
            ],
            "1 to 5 options",
        ),
        (
            [
                section(
                    "x",
                    accessory={"type": "overflow", "action_id": "o", "options": [option("o" * 76)]},
                )
            ],
            "at most 75",
        ),
        (
            [
                section(
                    "x",
                    accessory={
                        "type": "overflow",
                        "action_id": "o",
                        "options": [option("o", "v" * 151)],
                    },
                )
            ],
            "at most 150",
        ),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}], "emoji"),
        ([{"type": "section", "text": "bare string"}], "bare string"),
        ([{"type": "carousel_of_doom"}], "unknown block type"),
        ([section("Hey <!channel>")], "@channel"),
        ([section("Hey <!here|here>")], "@here"),
        ([section("Hey <!everyone>")], "@everyone"),
        ([section("1 < 2")], "unescaped '<'"),
        ([section("Tea & biscuits")], "unescaped '&'"),
    ],
)
def test_message_limits(blocks: list[dict[str, Any]], expected: str) -> None:
    found = problems(blocks)
    assert any(expected in p for p in found), found


def test_action_ids_may_repeat_across_blocks() -> None:
    """Slack wants action_id unique within its block only (one Vote per topic row)."""
    blocks = [
        section("a", accessory=button("Vote", "vote")),
        section("b", accessory=button("Vote", "vote")),
    ]
    assert problems(blocks) == []


def test_problems_point_at_the_field() -> None:
    assert problems([section("ok"), section("x" * 3001)]) == [
        "must be at most 3000 characters (was 3001) [json-pointer:/blocks/1/text/text]"
    ]


def test_message_text_limits() -> None:
    assert any("40000" in str(p) for p in validate_message("x" * 40_001, None))
    assert any("@here" in str(p) for p in validate_message("<!here> look", None))
    assert validate_message("Tea &amp; biscuits, 1 &lt; 2", None) == []


def test_view_limits() -> None:
    assert view_problems(modal()) == []
    title = {"type": "plain_text", "text": "t" * 25}
    assert any("at most 24" in p for p in view_problems(modal(title=title)))
    assert any("at most 24" in p for p in view_problems(modal(submit=title)))
    assert any("a modal needs a title" in p for p in view_problems(modal(title=None)))
    assert any("3000" in p for p in view_problems(modal(private_metadata="m" * 3001)))
    assert any("255" in p for p in view_problems(modal(callback_id="c" * 256)))
    assert any("100 blocks" in p for p in view_problems(modal(blocks=[section("x")] * 101)))
    text_input = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Name"},
        "element": {"type": "plain_text_input", "action_id": "v", "max_length": 3001},
    }
    found = view_problems(modal(blocks=[text_input]))
    assert any("needs a submit button" in p for p in found)
    assert any("max_length must be between 1 and 3000" in p for p in found)
    long_label = {**text_input, "label": {"type": "plain_text", "text": "l" * 2001}}
    assert any("at most 2000" in p for p in view_problems(modal(blocks=[long_label])))
    home = {"type": "home", "blocks": [section("x")] * 100}
    assert view_problems(home) == []


async def test_invalid_blocks_answer_and_record(emulator: SlackEmulator) -> None:
    client = web_client(emulator)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=Seed.PRACTICE, text="t", blocks=[section("x" * 3001)])
    response = caught.value.response
    assert response["error"] == "invalid_blocks"
    assert response["errors"] == [
        "must be at most 3000 characters (was 3001) [json-pointer:/blocks/0/text/text]"
    ]
    assert [v.source for v in emulator.violations] == ["chat.postMessage"]
    assert emulator.state.messages_in(Seed.PRACTICE) == []
    emulator.violations.clear()


async def test_link_names_is_a_violation(emulator: SlackEmulator) -> None:
    await web_client(emulator).chat_postMessage(channel=Seed.PRACTICE, text="hi", link_names=True)
    assert [str(v) for v in emulator.violations] == [
        "chat.postMessage: link_names must never be sent"
    ]
    emulator.violations.clear()


async def test_invalid_views_answer_invalid_arguments(emulator: SlackEmulator) -> None:
    client = web_client(emulator)
    trigger = emulator.state.issue_trigger(Seed.ALICE).id
    bad = modal(title={"type": "plain_text", "text": "t" * 25})
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=bad)
    assert caught.value.response["error"] == "invalid_arguments"
    assert emulator.violations
    emulator.violations.clear()


async def test_the_fixture_fails_a_test_with_violations() -> None:
    with pytest.raises(ViolationsFound, match="link_names"):
        async with running_emulator() as emulator:
            await web_client(emulator).chat_postMessage(
                channel=Seed.PRACTICE, text="hi", link_names=True
            )
    async with running_emulator(check_violations=False) as emulator:
        await web_client(emulator).chat_postMessage(channel=Seed.PRACTICE, text="<!here>")
        with pytest.raises(ViolationsFound):
            assert_no_violations(emulator)


async def test_policy_problems_are_accepted_but_recorded(emulator: SlackEmulator) -> None:
    """Slack would post these, so the emulator does too; the test still fails on them."""
    client = web_client(emulator)
    response = await client.chat_postMessage(
        channel=Seed.PRACTICE, text="Tea & biscuits", blocks=[section("<!here> 1 < 2")]
    )
    assert response["ok"]
    assert [str(v) for v in emulator.violations] == [
        "chat.postMessage: contains an unescaped '&' (escape user text as &amp;)"
        " [json-pointer:/text]",
        "chat.postMessage: must not mention @channel, @here or @everyone"
        " [json-pointer:/blocks/0/text/text]",
        "chat.postMessage: contains an unescaped '<' (escape user text as &lt;)"
        " [json-pointer:/blocks/0/text/text]",
    ]
    emulator.violations.clear()
