"""The sandbox's Block Kit renderer (bot/sandbox/static/blockkit.js), checked in Chromium.

Each block and element type has a test of its own. Fixtures are real hearth output where that
helps (the Lean Coffee board and modals), so a change in hearth's blocks that the sandbox
cannot draw shows up here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.blocks.lean_coffee import board_blocks, start_modal, takeaway_modal
from bot.blocks.lean_coffee_forms import StartForm
from bot.ids import LeanCoffeeAction, LeanCoffeeBlock, input_action_id
from bot.services.lean_coffee_types import (
    BoardView,
    SessionStatus,
    TakeawayView,
    TopicState,
    TopicView,
)
from bot.state import LeanCoffeeModal, SessionRef
from tests.browser._browser import (  # chromium_browser is a fixture, found by its name
    REPO_ROOT,
    SCREENSHOTS,
    chromium_browser,  # noqa: F401
)

HARNESS = (REPO_ROOT / "tests" / "browser" / "rendering_page.html").as_uri()
JSON = dict[str, Any]
TINY_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TS = 1_700_000_000  # Tuesday 14 November 2023, 22:13:20 UTC


# --- the page ----------------------------------------------------------------------------------


class Harness:
    """A page with blockkit.js loaded, and the few calls the tests make on it."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.native_dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_dialog(self, dialog: Any) -> None:
        self.native_dialogs.append(dialog.message)
        dialog.dismiss()

    def render(self, blocks: list[JSON], **ctx: Any) -> None:
        self.page.evaluate("([blocks, ctx]) => window.__render(blocks, ctx)", [blocks, ctx])

    def mrkdwn(self, text: str, **ctx: Any) -> str:
        """Renders mrkdwn and returns the text a reader sees."""
        return self.page.evaluate("([text, ctx]) => window.__mrkdwn(text, ctx)", [text, ctx])

    def actions(self) -> list[JSON]:
        return self.page.evaluate("window.__actions")

    def state(self) -> JSON:
        return self.page.evaluate("window.__state()")

    def root(self) -> Any:
        return self.page.locator("#root")

    def block(self, block_id: str) -> Any:
        return self.page.locator(f'#root [data-block-id="{block_id}"]')

    def element(self, action_id: str) -> Any:
        return self.page.locator(f'#root [data-action-id="{action_id}"]')

    def style(self, selector: str, prop: str) -> str:
        return self.page.eval_on_selector(
            selector, "(node, prop) => getComputedStyle(node)[prop]", prop
        )


@pytest.fixture
def bk(request: pytest.FixtureRequest) -> Iterator[Harness]:
    browser = request.getfixturevalue("chromium_browser")
    page = browser.new_page(viewport={"width": 760, "height": 900})
    page.goto(HARNESS)
    harness = Harness(page)
    try:
        yield harness
        assert harness.errors == [], f"the page threw: {harness.errors}"
    finally:
        page.close()


# --- fixtures: blocks and hearth output -------------------------------------------------------


def plain(text: str) -> JSON:
    return {"type": "plain_text", "text": text, "emoji": True}


def md(text: str) -> JSON:
    return {"type": "mrkdwn", "text": text}


def opt(text: str, value: str) -> JSON:
    return {"text": plain(text), "value": value}


def section(text: str, block_id: str = "s1", **extra: Any) -> JSON:
    return {"type": "section", "block_id": block_id, "text": md(text), **extra}


def input_block(block_id: str, label: str, element: JSON, **extra: Any) -> JSON:
    element = {"action_id": f"{block_id}.input", **element}
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        **extra,
    }


def topic(
    topic_id: int, title: str, votes: int, proposer: str | None = "U2", **extra: Any
) -> TopicView:
    return TopicView(
        id=topic_id,
        title=title,
        detail=extra.pop("detail", None),
        proposer_id=proposer,
        votes=votes,
        state=extra.pop("state", TopicState.OPEN),
        **extra,
    )


def board(**changes: Any) -> BoardView:
    values: JSON = {
        "session_id": 7,
        "channel_id": "C1",
        "title": "Thursday Lean Coffee",
        "facilitator_id": "U1",
        "status": SessionStatus.COLLECTING,
        "votes_per_person": 3,
        "timebox_minutes": 7,
        "extension_minutes": (4, 2),
        "anonymous_topics": False,
        "started_at": datetime(2023, 11, 14, 9, 0, tzinfo=UTC),
        "ended_at": None,
        "to_discuss": (
            topic(1, "How do we onboard new members?", 3, detail="We lost three newcomers."),
            topic(2, "Pairing across teams", 1, proposer="U3"),
            topic(3, "<img src=x onerror=alert(1)> & friends", 0),
        ),
        "discussing": None,
        "discussed": (),
        "participant_count": 4,
    }
    values.update(changes)
    return BoardView(**values)


def dicts(blocks: list[Any]) -> list[JSON]:
    return [b.to_dict() for b in blocks]


# --- blocks ------------------------------------------------------------------------------------


def test_every_block_has_a_block_id_even_when_slack_would_make_one(bk: Harness) -> None:
    bk.render([{"type": "divider"}, {"type": "section", "text": md("no id")}])
    ids = bk.page.eval_on_selector_all(
        "#root > .bk > [data-block-type]", "nodes => nodes.map(n => n.dataset.blockId)"
    )
    assert len(ids) == 2
    assert all(ids) and ids[0] != ids[1]


def test_header_block(bk: Harness) -> None:
    bk.render([{"type": "header", "block_id": "h", "text": plain("Lean Coffee :coffee:")}])
    header = bk.block("h")
    assert header.inner_text() == "Lean Coffee \u2615"
    assert bk.style('[data-block-id="h"]', "fontSize") == "18px"
    assert int(bk.style('[data-block-id="h"]', "fontWeight")) >= 700


def test_section_text_in_mrkdwn_and_plain_text(bk: Harness) -> None:
    bk.render(
        [
            section("*Proposing* and _voting_"),
            {"type": "section", "block_id": "p", "text": plain("*not bold* here")},
        ]
    )
    assert bk.block("s1").locator("b").inner_text() == "Proposing"
    assert bk.block("s1").locator("i").inner_text() == "voting"
    assert bk.block("p").inner_text() == "*not bold* here"
    assert bk.block("p").locator("b").count() == 0


def test_section_fields_sit_in_two_columns(bk: Harness) -> None:
    fields = [md("*When*\nThursday"), md("*Where*\n#random"), plain("Dots"), plain("3 each")]
    bk.render([{"type": "section", "block_id": "f", "fields": fields}])
    grid = bk.block("f").locator(".bk-fields")
    assert grid.locator(":scope > *").count() == 4
    columns = bk.style('[data-block-id="f"] .bk-fields', "gridTemplateColumns").split()
    assert len(columns) == 2
    boxes = [grid.locator(":scope > *").nth(i).bounding_box() for i in range(4)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[1]["x"] > boxes[0]["x"]
    assert boxes[2]["y"] > boxes[0]["y"]


def test_section_accessory_image(bk: Harness) -> None:
    accessory = {"type": "image", "image_url": TINY_PNG, "alt_text": "a cup of coffee"}
    bk.render([section("With a picture", accessory=accessory)])
    img = bk.block("s1").locator(".bk-accessory img")
    assert img.get_attribute("alt") == "a cup of coffee"
    assert img.get_attribute("src") == TINY_PNG
    text_box = bk.block("s1").locator(".bk-section-body").bounding_box()
    assert img.bounding_box()["x"] > text_box["x"]  # on the right, like Slack


def test_section_accessory_button_fires_from_its_section(bk: Harness) -> None:
    accessory = {
        "type": "button",
        "text": plain("See all 12 topics"),
        "action_id": "all",
        "value": "v",
    }
    bk.render([section("Showing 10 of 12", block_id="more", accessory=accessory)])
    bk.page.get_by_role("button", name="See all 12 topics").click()
    [action] = bk.actions()
    assert (action["block_id"], action["action_id"], action["value"]) == ("more", "all", "v")


def test_divider_block(bk: Harness) -> None:
    bk.render([{"type": "divider", "block_id": "d"}])
    assert bk.block("d").locator("hr").count() == 1


def test_context_block_is_small_and_grey(bk: Harness) -> None:
    elements = [
        {"type": "image", "image_url": TINY_PNG, "alt_text": "avatar"},
        md("Facilitated by <@U1>"),
        plain("3 dots each"),
    ]
    bk.render([{"type": "context", "block_id": "c", "elements": elements}])
    ctx = bk.block("c")
    assert ctx.locator("img").get_attribute("alt") == "avatar"
    assert "Facilitated by @maya" in ctx.inner_text()
    assert "3 dots each" in ctx.inner_text()
    size = float(bk.style('[data-block-id="c"] .bk-context-inner', "fontSize").removesuffix("px"))
    assert 12 <= size <= 13
    assert bk.style('[data-block-id="c"] .bk-context-inner', "color") == "rgb(97, 96, 97)"


def test_image_block(bk: Harness) -> None:
    block = {
        "type": "image",
        "block_id": "img",
        "image_url": TINY_PNG,
        "alt_text": "Votes per topic",
        "title": plain("This week's dots"),
    }
    bk.render([block])
    assert bk.block("img").locator(".bk-image-title").inner_text() == "This week's dots"
    assert bk.block("img").locator("img").get_attribute("alt") == "Votes per topic"


def test_image_with_a_script_url_is_not_loaded(bk: Harness) -> None:
    block = {
        "type": "image",
        "block_id": "img",
        "image_url": "javascript:alert(1)",
        "alt_text": "x",
    }
    bk.render([block])
    assert bk.block("img").locator("img").get_attribute("src") is None


def test_unknown_block_says_it_cannot_be_shown(bk: Harness) -> None:
    bk.render([{"type": "video", "block_id": "v"}])
    assert "can't be shown" in bk.block("v").inner_text()


# --- buttons, menus and pickers (actions blocks) ---------------------------------------------


def test_button_is_a_real_button_and_fires_a_block_action(bk: Harness) -> None:
    vote = {"type": "button", "text": plain("Vote"), "action_id": "lc.vote", "value": "t1"}
    bk.render([{"type": "actions", "block_id": "a", "elements": [vote]}])
    button = bk.element("lc.vote")
    assert button.evaluate("node => node.tagName") == "BUTTON"
    assert button.inner_text() == "Vote"
    button.click()
    [action] = bk.actions()
    assert action["type"] == "button"
    assert action["block_id"] == "a"
    assert action["action_id"] == "lc.vote"
    assert action["value"] == "t1"
    assert action["text"] == plain("Vote")
    assert isinstance(action["action_ts"], str) and "." in action["action_ts"]


def test_button_styles_are_visible(bk: Harness) -> None:
    elements = [
        {"type": "button", "text": plain("Propose"), "action_id": "p", "style": "primary"},
        {"type": "button", "text": plain("End"), "action_id": "e", "style": "danger"},
        {"type": "button", "text": plain("Hand over"), "action_id": "h"},
    ]
    bk.render([{"type": "actions", "block_id": "a", "elements": elements}])
    assert bk.style('[data-action-id="p"]', "backgroundColor") == "rgb(0, 122, 90)"
    assert bk.style('[data-action-id="e"]', "backgroundColor") == "rgb(224, 30, 90)"
    assert bk.style('[data-action-id="h"]', "backgroundColor") == "rgb(255, 255, 255)"
    assert bk.style('[data-action-id="h"]', "borderTopWidth") == "1px"
    assert bk.style('[data-action-id="h"]', "borderTopLeftRadius") == "4px"
    assert bk.style('[data-action-id="p"]', "color") == "rgb(255, 255, 255)"


def test_button_with_confirm_asks_in_the_page_first(bk: Harness) -> None:
    end = {
        "type": "button",
        "text": plain("End session"),
        "action_id": "end",
        "value": "s7",
        "style": "danger",
        "confirm": {
            "title": plain("End this Lean Coffee?"),
            "text": md("The minutes will be posted. *This can't be undone.*"),
            "confirm": plain("End session"),
            "deny": plain("Not yet"),
            "style": "danger",
        },
    }
    bk.render([{"type": "actions", "block_id": "a", "elements": [end]}])
    bk.element("end").click()
    dialog = bk.page.get_by_role("dialog")
    assert dialog.is_visible()
    assert "End this Lean Coffee?" in dialog.inner_text()
    assert dialog.locator("b").inner_text() == "This can't be undone."
    assert bk.actions() == []
    dialog.get_by_role("button", name="Not yet").click()
    assert bk.page.get_by_role("dialog").count() == 0
    assert bk.actions() == []

    bk.element("end").click()
    confirm = bk.page.get_by_role("dialog").get_by_role("button", name="End session")
    assert "bk-button--danger" in confirm.get_attribute("class")
    confirm.click()
    [action] = bk.actions()
    assert (action["action_id"], action["value"]) == ("end", "s7")
    assert bk.native_dialogs == []
    assert bk.page.evaluate("window.__dialogs") == 0


def test_overflow_menu_lists_its_options(bk: Harness) -> None:
    menu = {
        "type": "overflow",
        "action_id": "menu",
        "options": [opt("Edit", "edit"), opt("Withdraw", "withdraw")],
    }
    bk.render([section("A topic", block_id="t", accessory=menu)])
    button = bk.element("menu")
    assert button.evaluate("node => node.tagName") == "BUTTON"
    assert button.inner_text() == "\u22ef"
    items = bk.page.get_by_role("menuitem")
    assert not items.first.is_visible()
    button.click()
    assert [items.nth(i).inner_text() for i in range(items.count())] == ["Edit", "Withdraw"]
    bk.page.get_by_role("menuitem", name="Withdraw").click()
    assert not items.first.is_visible()
    [action] = bk.actions()
    assert action["type"] == "overflow"
    assert action["block_id"] == "t"
    assert action["selected_option"] == opt("Withdraw", "withdraw")


def test_overflow_menu_closes_on_a_click_elsewhere(bk: Harness) -> None:
    menu = {"type": "overflow", "action_id": "menu", "options": [opt("Edit", "edit")]}
    bk.render([section("A topic", block_id="t", accessory=menu)])
    bk.element("menu").click()
    assert bk.page.get_by_role("menuitem").is_visible()
    bk.page.mouse.click(700, 850)
    assert not bk.page.get_by_role("menuitem").is_visible()
    assert bk.actions() == []


def test_static_select_with_option_groups(bk: Harness) -> None:
    select = {
        "type": "static_select",
        "action_id": "pick",
        "placeholder": plain("Choose a topic"),
        "option_groups": [
            {"label": plain("Open"), "options": [opt("Onboarding", "1"), opt("Pairing", "2")]},
            {"label": plain("Discussed"), "options": [opt("Retros", "3")]},
        ],
    }
    bk.render([{"type": "actions", "block_id": "a", "elements": [select]}])
    node = bk.element("pick")
    labels = node.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert labels == ["Open", "Discussed"]
    assert node.locator("option").first.inner_text() == "Choose a topic"
    node.select_option("3")
    [action] = bk.actions()
    assert action["type"] == "static_select"
    assert action["selected_option"] == opt("Retros", "3")


def test_multi_static_select(bk: Harness) -> None:
    select = {
        "type": "multi_static_select",
        "action_id": "many",
        "options": [opt("Mon", "mon"), opt("Tue", "tue"), opt("Wed", "wed")],
        "initial_options": [opt("Tue", "tue")],
    }
    bk.render([{"type": "actions", "block_id": "a", "elements": [select]}])
    assert bk.state() == {
        "a": {"many": {"type": "multi_static_select", "selected_options": [opt("Tue", "tue")]}}
    }
    bk.element("many").select_option(["mon", "wed"])
    action = bk.actions()[-1]
    assert action["selected_options"] == [opt("Mon", "mon"), opt("Wed", "wed")]


def test_users_select_lists_the_workspace(bk: Harness) -> None:
    select = {"type": "users_select", "action_id": "who", "placeholder": plain("Choose someone")}
    bk.render([{"type": "actions", "block_id": "a", "elements": [select]}])
    names = bk.element("who").locator("option").all_inner_texts()
    assert names == ["Choose someone", "Inês Lima", "Maya Patel", "Tom Okafor"]
    bk.element("who").select_option("U2")
    [action] = bk.actions()
    assert (action["type"], action["selected_user"]) == ("users_select", "U2")


def test_multi_users_select(bk: Harness) -> None:
    select = {"type": "multi_users_select", "action_id": "who", "initial_users": ["U1"]}
    bk.render([{"type": "actions", "block_id": "a", "elements": [select]}])
    bk.element("who").select_option(["U1", "U3"])
    action = bk.actions()[-1]
    assert action["type"] == "multi_users_select"
    assert sorted(action["selected_users"]) == ["U1", "U3"]


def test_conversations_select(bk: Harness) -> None:
    select = {"type": "conversations_select", "action_id": "where"}
    bk.render([{"type": "actions", "block_id": "a", "elements": [select]}])
    names = bk.element("where").locator("option").all_inner_texts()
    assert "#community-of-practice" in names and "#random" in names
    bk.element("where").select_option("C2")
    [action] = bk.actions()
    assert action["selected_conversation"] == "C2"


def test_channels_select(bk: Harness) -> None:
    select = {"type": "channels_select", "action_id": "where", "initial_channel": "C1"}
    bk.render([{"type": "actions", "block_id": "a", "elements": [select]}])
    assert bk.state()["a"]["where"] == {"type": "channels_select", "selected_channel": "C1"}
    bk.element("where").select_option("C2")
    [action] = bk.actions()
    assert (action["type"], action["selected_channel"]) == ("channels_select", "C2")


def test_datepicker(bk: Harness) -> None:
    picker = {"type": "datepicker", "action_id": "day", "initial_date": "2024-05-01"}
    bk.render([section("Due", block_id="due", accessory=picker)])
    node = bk.element("day")
    assert node.input_value() == "2024-05-01"
    node.fill("2024-06-15")
    [action] = bk.actions()
    assert (action["type"], action["selected_date"]) == ("datepicker", "2024-06-15")


def test_timepicker(bk: Harness) -> None:
    picker = {"type": "timepicker", "action_id": "at", "initial_time": "10:00"}
    bk.render([{"type": "actions", "block_id": "a", "elements": [picker]}])
    node = bk.element("at")
    assert node.input_value() == "10:00"
    node.fill("14:30")
    [action] = bk.actions()
    assert (action["type"], action["selected_time"]) == ("timepicker", "14:30")


def test_radio_buttons(bk: Harness) -> None:
    radios = {
        "type": "radio_buttons",
        "action_id": "pace",
        "options": [
            opt("Keep going", "keep"),
            {**opt("Move on", "move"), "description": plain("Next topic, please")},
        ],
        "initial_option": opt("Keep going", "keep"),
    }
    bk.render([{"type": "actions", "block_id": "a", "elements": [radios]}])
    assert "Next topic, please" in bk.element("pace").inner_text()
    bk.page.get_by_label("Move on").check()
    [action] = bk.actions()
    assert action["type"] == "radio_buttons"
    assert action["selected_option"]["value"] == "move"


def test_checkboxes(bk: Harness) -> None:
    boxes = {
        "type": "checkboxes",
        "action_id": "opts",
        "options": [opt("Anonymous", "anon"), opt("Reminders", "remind")],
    }
    bk.render([{"type": "actions", "block_id": "a", "elements": [boxes]}])
    bk.page.get_by_label("Reminders").check()
    bk.page.get_by_label("Anonymous").check()
    action = bk.actions()[-1]
    assert action["type"] == "checkboxes"
    assert action["selected_options"] == [opt("Anonymous", "anon"), opt("Reminders", "remind")]


# --- input blocks and view state --------------------------------------------------------------


def test_input_block_label_optional_hint_and_error(bk: Harness) -> None:
    blocks = [
        input_block(
            "name",
            "Name",
            {"type": "plain_text_input"},
            optional=True,
            hint=plain("Shown at the top of the board."),
        ),
        input_block(
            "votes", "Dots per person", {"type": "number_input", "is_decimal_allowed": False}
        ),
    ]
    bk.render(blocks, surface="modal", errors={"votes": "Please choose between 1 and 10 dots."})
    name = bk.block("name")
    assert name.locator("label").inner_text() == "Name (optional)"
    assert name.locator(".bk-hint").inner_text() == "Shown at the top of the board."
    assert name.locator(".bk-input-error").count() == 0
    assert bk.page.get_by_label("Name (optional)").count() == 1
    error = bk.block("votes").locator(".bk-input-error")
    assert error.inner_text() == "Please choose between 1 and 10 dots."
    assert bk.style('[data-block-id="votes"] .bk-input-error', "color") == "rgb(224, 30, 90)"
    assert bk.element("votes.input").get_attribute("aria-invalid") == "true"
    assert "(optional)" not in bk.block("votes").inner_text()


def test_plain_text_input_single_and_multiline(bk: Harness) -> None:
    blocks = [
        input_block(
            "title",
            "Topic",
            {
                "type": "plain_text_input",
                "max_length": 150,
                "min_length": 3,
                "placeholder": plain("What about?"),
            },
        ),
        input_block(
            "detail",
            "Details",
            {"type": "plain_text_input", "multiline": True, "initial_value": "Some background"},
        ),
    ]
    bk.render(blocks, surface="modal")
    title = bk.element("title.input")
    assert title.evaluate("n => [n.tagName, n.type, n.maxLength, n.minLength, n.placeholder]") == [
        "INPUT",
        "text",
        150,
        3,
        "What about?",
    ]
    detail = bk.element("detail.input")
    assert detail.evaluate("n => n.tagName") == "TEXTAREA"
    assert detail.input_value() == "Some background"
    assert bk.state() == {
        "title": {"title.input": {"type": "plain_text_input", "value": None}},
        "detail": {"detail.input": {"type": "plain_text_input", "value": "Some background"}},
    }
    title.fill("Pairing")
    detail.fill("Line one\nLine two")
    assert bk.state()["title"]["title.input"]["value"] == "Pairing"
    assert bk.state()["detail"]["detail.input"]["value"] == "Line one\nLine two"
    assert bk.actions() == []  # modal inputs report only at submit


def test_number_input(bk: Harness) -> None:
    element = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "initial_value": "3",
        "min_value": "1",
        "max_value": "10",
    }
    decimal = {"type": "number_input", "is_decimal_allowed": True}
    bk.render(
        [input_block("votes", "Dots", element), input_block("hours", "Hours", decimal)],
        surface="modal",
    )
    votes = bk.element("votes.input")
    assert votes.evaluate("n => [n.type, n.min, n.max, n.step, n.value]") == [
        "number",
        "1",
        "10",
        "1",
        "3",
    ]
    assert bk.element("hours.input").get_attribute("step") == "any"
    votes.fill("5")
    bk.element("hours.input").fill("1.5")
    assert bk.state() == {
        "votes": {"votes.input": {"type": "number_input", "value": "5"}},
        "hours": {"hours.input": {"type": "number_input", "value": "1.5"}},
    }
    votes.fill("11")
    assert votes.evaluate("n => n.validity.rangeOverflow") is True


def test_email_and_url_inputs(bk: Harness) -> None:
    blocks = [
        input_block("mail", "Email", {"type": "email_text_input", "initial_value": "a@b.org"}),
        input_block("link", "Link", {"type": "url_text_input"}),
    ]
    bk.render(blocks, surface="modal")
    assert bk.element("mail.input").get_attribute("type") == "email"
    assert bk.element("link.input").get_attribute("type") == "url"
    bk.element("link.input").fill("https://example.org/notes")
    assert bk.state() == {
        "mail": {"mail.input": {"type": "email_text_input", "value": "a@b.org"}},
        "link": {"link.input": {"type": "url_text_input", "value": "https://example.org/notes"}},
    }


def test_select_inputs_report_their_state(bk: Harness) -> None:
    options = [opt("Onboarding", "1"), opt("Pairing", "2")]
    blocks = [
        input_block(
            "topic",
            "Topic",
            {"type": "static_select", "options": options, "initial_option": options[1]},
        ),
        input_block("owner", "Owner", {"type": "users_select", "initial_user": "U3"}),
        input_block("team", "Team", {"type": "multi_users_select"}),
        input_block("where", "Channel", {"type": "conversations_select"}),
    ]
    bk.render(blocks, surface="modal")
    assert bk.state() == {
        "topic": {"topic.input": {"type": "static_select", "selected_option": options[1]}},
        "owner": {"owner.input": {"type": "users_select", "selected_user": "U3"}},
        "team": {"team.input": {"type": "multi_users_select", "selected_users": []}},
        "where": {"where.input": {"type": "conversations_select", "selected_conversation": None}},
    }
    bk.element("topic.input").select_option("1")
    bk.element("owner.input").select_option("U1")
    bk.element("team.input").select_option(["U2", "U3"])
    bk.element("where.input").select_option("C1")
    state = bk.state()
    assert state["topic"]["topic.input"]["selected_option"] == options[0]
    assert state["owner"]["owner.input"]["selected_user"] == "U1"
    assert sorted(state["team"]["team.input"]["selected_users"]) == ["U2", "U3"]
    assert state["where"]["where.input"]["selected_conversation"] == "C1"
    assert bk.actions() == []


def test_picker_and_choice_inputs_report_their_state(bk: Harness) -> None:
    choices = [opt("Yes", "y"), opt("No", "n")]
    blocks = [
        input_block("due", "By when?", {"type": "datepicker", "initial_date": "2024-05-01"}),
        input_block("at", "At", {"type": "timepicker"}),
        input_block("ok", "Agree?", {"type": "radio_buttons", "options": choices}),
        input_block(
            "tick",
            "Options",
            {"type": "checkboxes", "options": choices, "initial_options": [choices[1]]},
        ),
    ]
    bk.render(blocks, surface="modal")
    assert bk.state() == {
        "due": {"due.input": {"type": "datepicker", "selected_date": "2024-05-01"}},
        "at": {"at.input": {"type": "timepicker", "selected_time": None}},
        "ok": {"ok.input": {"type": "radio_buttons", "selected_option": None}},
        "tick": {"tick.input": {"type": "checkboxes", "selected_options": [choices[1]]}},
    }
    bk.element("due.input").fill("2024-07-02")
    bk.element("at.input").fill("09:30")
    bk.block("ok").get_by_label("Yes").check()
    bk.block("tick").get_by_label("Yes").check()
    bk.block("tick").get_by_label("No").uncheck()
    assert bk.state() == {
        "due": {"due.input": {"type": "datepicker", "selected_date": "2024-07-02"}},
        "at": {"at.input": {"type": "timepicker", "selected_time": "09:30"}},
        "ok": {"ok.input": {"type": "radio_buttons", "selected_option": choices[0]}},
        "tick": {"tick.input": {"type": "checkboxes", "selected_options": [choices[0]]}},
    }
    assert bk.actions() == []


def test_modal_actions_and_dispatch_inputs_fire_but_plain_inputs_do_not(bk: Harness) -> None:
    options = [opt("Weekly", "w"), opt("Monthly", "m")]
    blocks = [
        input_block("quiet", "Quiet", {"type": "static_select", "options": options}),
        input_block(
            "loud", "Loud", {"type": "static_select", "options": options}, dispatch_action=True
        ),
        input_block("search", "Search", {"type": "plain_text_input"}, dispatch_action=True),
        {
            "type": "actions",
            "block_id": "act",
            "elements": [{"type": "button", "text": plain("Add a row"), "action_id": "add"}],
        },
        section("Pick a day", block_id="acc", accessory={"type": "datepicker", "action_id": "day"}),
    ]
    bk.render(blocks, surface="modal")
    bk.element("quiet.input").select_option("m")
    assert bk.actions() == []
    bk.element("loud.input").select_option("w")
    bk.element("search.input").fill("coffee")
    bk.element("search.input").press("Enter")
    bk.element("add").click()
    bk.element("day").fill("2024-05-01")
    fired = [(a["block_id"], a["action_id"]) for a in bk.actions()]
    assert fired == [
        ("loud", "loud.input"),
        ("search", "search.input"),
        ("act", "add"),
        ("acc", "day"),
    ]
    assert bk.actions()[1]["value"] == "coffee"
    assert bk.state()["quiet"]["quiet.input"]["selected_option"] == options[1]


def test_input_elements_fire_in_messages(bk: Harness) -> None:
    options = [opt("Weekly", "w"), opt("Monthly", "m")]
    bk.render([input_block("often", "How often?", {"type": "static_select", "options": options})])
    bk.element("often.input").select_option("m")
    [action] = bk.actions()
    assert action["selected_option"] == options[1]


# --- rich text --------------------------------------------------------------------------------


def text(words: str, **style: bool) -> JSON:
    return {"type": "text", "text": words, **({"style": style} if style else {})}


def rich_section(*elements: JSON) -> JSON:
    return {"type": "rich_text_section", "elements": list(elements)}


def test_rich_text_section_styles_and_elements(bk: Harness) -> None:
    block = {
        "type": "rich_text",
        "block_id": "rt",
        "elements": [
            rich_section(
                text("Hello "),
                text("bold", bold=True),
                text(" "),
                text("slanted", italic=True),
                text(" "),
                text("gone", strike=True),
                text(" "),
                text("x = 1", code=True),
                text(" "),
                {"type": "link", "url": "https://example.org/", "text": "the notes"},
                text(" "),
                {"type": "user", "user_id": "U1"},
                text(" "),
                {"type": "channel", "channel_id": "C1"},
                text(" "),
                {"type": "emoji", "name": "tada"},
                {"type": "emoji", "name": "not_a_real_emoji"},
                text(" "),
                {"type": "broadcast", "range": "here"},
            )
        ],
    }
    bk.render([block])
    rt = bk.block("rt")
    assert rt.locator("b").inner_text() == "bold"
    assert rt.locator("i").inner_text() == "slanted"
    assert rt.locator("s").inner_text() == "gone"
    assert rt.locator("code").inner_text() == "x = 1"
    assert rt.locator("a").get_attribute("href") == "https://example.org/"
    assert rt.locator("a").inner_text() == "the notes"
    assert rt.locator(".bk-mention--user").inner_text() == "@maya"
    assert rt.locator(".bk-mention--channel").inner_text() == "#community-of-practice"
    assert rt.locator(".bk-mention--broadcast").inner_text() == "@here"
    assert "\U0001f389" in rt.inner_text()
    assert ":not_a_real_emoji:" in rt.inner_text()


def test_rich_text_lists_with_indent(bk: Harness) -> None:
    block = {
        "type": "rich_text",
        "block_id": "rt",
        "elements": [
            {
                "type": "rich_text_list",
                "style": "bullet",
                "indent": 0,
                "elements": [rich_section(text("one")), rich_section(text("two"))],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "indent": 1,
                "elements": [rich_section(text("first")), rich_section(text("second"))],
            },
        ],
    }
    bk.render([block])
    bullets = bk.block("rt").locator("ul")
    assert bullets.locator("li").all_inner_texts() == ["one", "two"]
    assert bk.style('[data-block-id="rt"] ul', "listStyleType") == "disc"
    numbered = bk.block("rt").locator("ol")
    assert numbered.locator("li").all_inner_texts() == ["first", "second"]
    assert numbered.get_attribute("data-indent") == "1"
    assert bk.style('[data-block-id="rt"] ol', "listStyleType") == "lower-alpha"
    assert numbered.bounding_box()["x"] > bullets.bounding_box()["x"]


def test_rich_text_quote_and_preformatted(bk: Harness) -> None:
    block = {
        "type": "rich_text",
        "block_id": "rt",
        "elements": [
            {"type": "rich_text_quote", "elements": [text("We agreed to pair.")]},
            {"type": "rich_text_preformatted", "elements": [text("make  test\nmake lint")]},
        ],
    }
    bk.render([block])
    assert bk.block("rt").locator("blockquote").inner_text() == "We agreed to pair."
    assert bk.block("rt").locator("pre").inner_text() == "make  test\nmake lint"


# --- mrkdwn -----------------------------------------------------------------------------------


def test_mrkdwn_text_styles(bk: Harness) -> None:
    shown = bk.mrkdwn("*bold* _italic_ ~strike~ `co*de*` and snake_case_name, 2*3*4")
    assert shown == "bold italic strike co*de* and snake_case_name, 2*3*4"
    root = bk.root()
    assert root.locator("b").all_inner_texts() == ["bold"]
    assert root.locator("i").all_inner_texts() == ["italic"]
    assert root.locator("s").all_inner_texts() == ["strike"]
    assert root.locator("code").all_inner_texts() == ["co*de*"]


def test_mrkdwn_nested_styles(bk: Harness) -> None:
    bk.mrkdwn("*Now discussing:* _*Pairing*_")
    assert bk.root().locator("i > b").inner_text() == "Pairing"


def test_mrkdwn_preformatted_block(bk: Harness) -> None:
    shown = bk.mrkdwn("Run this:\n```make test\n*not bold*```\nDone")
    assert bk.root().locator("pre").inner_text() == "make test\n*not bold*"
    assert bk.root().locator("b").count() == 0
    assert shown.startswith("Run this:") and shown.endswith("Done")


def test_mrkdwn_quote_lines(bk: Harness) -> None:
    bk.mrkdwn("Before\n&gt; quoted one\n> quoted two\nAfter")
    assert bk.root().locator("blockquote").inner_text() == "quoted one\nquoted two"
    assert "Before" in bk.root().inner_text() and "After" in bk.root().inner_text()


def test_mrkdwn_lists_stay_as_lines(bk: Harness) -> None:
    shown = bk.mrkdwn("*Takeaways*\n• Pair more\n- Ship less")
    assert shown == "Takeaways\n• Pair more\n- Ship less"
    assert bk.root().inner_text().splitlines() == ["Takeaways", "• Pair more", "- Ship less"]


def test_mrkdwn_links(bk: Harness) -> None:
    bk.mrkdwn("See <https://example.org/a?b=1&amp;c=2|the notes> or <https://example.org/raw>")
    links = bk.root().locator("a")
    assert links.all_inner_texts() == ["the notes", "https://example.org/raw"]
    assert links.first.get_attribute("href") == "https://example.org/a?b=1&c=2"
    assert links.first.get_attribute("rel") == "noopener noreferrer"


def test_mrkdwn_script_links_are_text(bk: Harness) -> None:
    shown = bk.mrkdwn("<javascript:alert(1)|click me>")
    assert shown == "click me"
    assert bk.root().locator("a").count() == 0


def test_mrkdwn_user_and_channel_mentions(bk: Harness) -> None:
    shown = bk.mrkdwn("<@U1> and <@U9> in <#C1> and <#C7|book-club>")
    assert shown == "@maya and @U9 in #community-of-practice and #book-club"
    mention = bk.root().locator(".bk-mention--user").first
    assert mention.get_attribute("data-user-id") == "U1"
    assert bk.style("#root .bk-mention--user", "backgroundColor") != "rgba(0, 0, 0, 0)"


def test_mrkdwn_here_and_channel_are_highlighted(bk: Harness) -> None:
    shown = bk.mrkdwn("<!here> and <!channel>: coffee time")
    assert shown == "@here and @channel: coffee time"
    assert bk.root().locator(".bk-mention--broadcast").count() == 2


def test_mrkdwn_entities_are_decoded(bk: Harness) -> None:
    assert bk.mrkdwn("Tea &amp; coffee &lt;3 &gt; 2") == "Tea & coffee <3 > 2"


def test_mrkdwn_emoji_shortcodes(bk: Harness) -> None:
    shortcodes = {
        "speech_balloon": "\U0001f4ac",
        "white_check_mark": "\u2705",
        "arrows_counterclockwise": "\U0001f504",
        "handshake": "\U0001f91d",
        "coffee": "\u2615",
        "hourglass_flowing_sand": "\u23f3",
        "tada": "\U0001f389",
        "wave": "\U0001f44b",
        "bulb": "\U0001f4a1",
        "calendar": "\U0001f4c6",
        "raising_hand": "\U0001f64b",
        "bar_chart": "\U0001f4ca",
        "green_heart": "\U0001f49a",
        "yellow_heart": "\U0001f49b",
        "red_circle": "\U0001f534",
    }
    for name, glyph in shortcodes.items():
        assert bk.mrkdwn(f"a :{name}: b") == f"a {glyph} b", name
    assert bk.mrkdwn("a :no_such_emoji: b `:tada:`") == "a :no_such_emoji: b :tada:"
    assert bk.mrkdwn("time 10:30:45") == "time 10:30:45"


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "tz", "expected"),
    [
        ("{date_num}", "Europe/London", "2023-11-14"),
        ("{date}", "Europe/London", "November 14th, 2023"),
        ("{date_short}", "Europe/London", "Nov 14, 2023"),
        ("{date_long}", "Europe/London", "Tuesday, November 14th, 2023"),
        ("{date_long}", "Asia/Tokyo", "Wednesday, November 15th, 2023"),
        ("{time}", "Europe/London", "10:13 PM"),
        ("{time}", "America/New_York", "5:13 PM"),
        ("{time_secs}", "Asia/Tokyo", "7:13:20 AM"),
        ("{date_pretty}", "Europe/London", "November 14th, 2023"),
        ("{date_short_pretty} at {time}", "Europe/London", "Nov 14, 2023 at 10:13 PM"),
        ("{date_long_pretty}", "Europe/London", "Tuesday, November 14th, 2023"),
    ],
)
def test_date_tokens_in_the_viewers_time_zone(
    bk: Harness, token: str, tz: str, expected: str
) -> None:
    later = (TS + 40 * 86400) * 1000
    assert bk.mrkdwn(f"<!date^{TS}^{token}|fallback>", viewerTz=tz, now=later) == expected


def test_date_tokens_follow_summer_time(bk: Harness) -> None:
    summer = 1_689_000_000  # 10 July 2023, 14:40 UTC: 15:40 in London (BST)
    assert bk.mrkdwn(f"<!date^{summer}^{{time}}|x>", viewerTz="Europe/London") == "3:40 PM"


def test_pretty_dates_say_today_yesterday_and_ago(bk: Harness) -> None:
    token = f"<!date^{TS}^{{date_short_pretty}} at {{time}}|x>"
    same_day = (TS + 3600) * 1000
    next_day = (TS + 86400) * 1000
    assert bk.mrkdwn(token, viewerTz="Europe/London", now=same_day) == "Today at 10:13 PM"
    assert bk.mrkdwn(token, viewerTz="Europe/London", now=next_day) == "Yesterday at 10:13 PM"
    before = (TS - 86400) * 1000
    assert (
        bk.mrkdwn(f"Due <!date^{TS}^{{date_pretty}}|x>", viewerTz="Europe/London", now=before)
        == "Due tomorrow"
    )
    ago = f"<!date^{TS}^{{ago}}|x>"
    assert bk.mrkdwn(ago, viewerTz="Europe/London", now=(TS + 3 * 3600) * 1000) == "3 hours ago"


def test_unknown_date_token_or_zone_shows_the_fallback(bk: Harness) -> None:
    fallback = "Tue 14 Nov 2023 22:13 UTC"
    assert bk.mrkdwn(f"<!date^{TS}^{{nonsense}}|{fallback}>") == fallback
    assert bk.mrkdwn(f"<!date^{TS}^{{time}}|{fallback}>", viewerTz="Mars/Olympus") == fallback


# --- safety -----------------------------------------------------------------------------------


XSS = '<img src=x onerror="window.__pwned=1;alert(1)">'


def test_no_html_is_ever_injected(bk: Harness) -> None:
    blocks = [
        {"type": "header", "block_id": "h", "text": plain(XSS)},
        section(XSS, block_id="raw"),
        section(
            XSS.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), block_id="escaped"
        ),
        {
            "type": "actions",
            "block_id": "a",
            "elements": [
                {"type": "button", "text": plain(XSS), "action_id": "b"},
                {"type": "static_select", "action_id": "s", "options": [opt(XSS, "1")]},
            ],
        },
        input_block("i", XSS, {"type": "plain_text_input", "initial_value": XSS}),
        {"type": "rich_text", "block_id": "rt", "elements": [rich_section(text(XSS))]},
    ]
    bk.render(blocks, users={"U1": {"name": XSS}})
    bk.mrkdwn(f"<@U1> {XSS}", users={"U1": {"name": XSS}})
    bk.render(blocks, errors={"i": XSS})
    bk.page.wait_for_timeout(100)
    assert bk.root().locator("img").count() == 0
    assert bk.page.evaluate("window.__pwned") is None
    assert bk.native_dialogs == []
    assert bk.block("h").inner_text() == XSS
    assert bk.block("escaped").inner_text() == XSS
    assert bk.element("b").inner_text() == XSS
    assert bk.block("i").locator(".bk-input-error").inner_text() == XSS


# --- real hearth output -----------------------------------------------------------------------


def test_lean_coffee_board_renders_like_slack(bk: Harness) -> None:
    view = board()
    bk.render(dicts(board_blocks(view)))
    root = bk.root()
    assert root.locator(".bk-block--header").inner_text() == "Thursday Lean Coffee"
    assert "Facilitated by @maya" in root.locator(".bk-block--context").first.inner_text()
    votes = bk.page.get_by_role("button", name="Vote", exact=True)
    assert votes.count() == 3
    assert root.locator(".bk-overflow").count() == 3
    assert "<img src=x onerror=alert(1)> & friends" in root.inner_text()
    assert root.locator("img").count() == 0
    propose = bk.page.get_by_role("button", name="Propose a topic")
    assert "bk-button--primary" in propose.get_attribute("class")
    end = bk.page.get_by_role("button", name="End session")
    assert "bk-button--danger" in end.get_attribute("class")
    blocks = root.locator("[data-block-type]")
    assert blocks.count() == len(board_blocks(view))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SCREENSHOTS / "lean_coffee_board.png"))

    votes.first.click()
    [action] = bk.actions()
    assert action["action_id"] == LeanCoffeeAction.VOTE
    assert json.loads(action["value"])["t"] == 1


def test_lean_coffee_close_voting_asks_before_it_closes(bk: Harness) -> None:
    bk.render(dicts(board_blocks(board())))
    bk.page.get_by_role("button", name="Close voting").click()
    dialog = bk.page.get_by_role("dialog")
    assert "Close voting?" in dialog.inner_text()
    dialog.get_by_role("button", name="Close voting").click()
    [action] = bk.actions()
    assert action["action_id"] == LeanCoffeeAction.CLOSE_VOTING
    assert action["value"] == SessionRef(s=7).encode()


def test_lean_coffee_topic_menu_is_an_overflow(bk: Harness) -> None:
    bk.render(dicts(board_blocks(board())))
    bk.page.locator("#root .bk-overflow").nth(1).click()
    bk.page.get_by_role("menuitem", name="Withdraw").click()
    [action] = bk.actions()
    assert action["action_id"] == LeanCoffeeAction.TOPIC_MENU
    assert json.loads(action["selected_option"]["value"])["t"] == 2


def test_lean_coffee_discussing_board_shows_the_end_time_in_the_viewers_zone(bk: Harness) -> None:
    ends = datetime.fromtimestamp(TS, UTC) + timedelta(minutes=7)
    discussing = topic(
        1,
        "How do we onboard new members?",
        3,
        state=TopicState.DISCUSSING,
        discussion_started_at=datetime.fromtimestamp(TS, UTC),
        discussion_ends_at=ends,
        takeaways=(
            TakeawayView(id=1, text="Buddy system", author_id="U2", is_action=True, owner_id="U3"),
        ),
    )
    view = board(
        status=SessionStatus.DISCUSSING,
        discussing=discussing,
        to_discuss=(topic(2, "Pairing across teams", 1),),
        next_extension_minutes=4,
    )
    bk.render(dicts(board_blocks(view)), viewerTz="America/New_York")
    shown = bk.root().inner_text()
    assert "until 5:20 PM" in shown
    assert "Action: Buddy system (@ines)" in shown
    assert bk.page.get_by_role("button", name="Extend 4 min").count() == 1


def test_start_modal_state_is_what_hearth_parses(bk: Harness) -> None:
    view = start_modal("C1").to_dict()
    bk.render(view["blocks"], surface="modal")
    votes = bk.element(input_action_id(LeanCoffeeBlock.VOTES))
    assert votes.input_value() == "3"
    assert "(optional)" in bk.block(LeanCoffeeBlock.TITLE).inner_text()
    bk.element(input_action_id(LeanCoffeeBlock.TITLE)).fill("Friday chat")
    votes.fill("5")
    bk.block(LeanCoffeeBlock.ANONYMOUS).get_by_label("Hide who proposed each topic").check()
    form = StartForm.from_state(bk.state())
    assert form.title == "Friday chat"
    assert form.votes_per_person == 5
    assert form.timebox_minutes == 7
    assert form.extension_minutes == (4, 2)
    assert form.anonymous_topics is True
    assert bk.actions() == []


def test_takeaway_modal_inputs_all_render(bk: Harness) -> None:
    topics = [topic(1, "Onboarding", 3), topic(2, "Pairing", 1)]
    view = takeaway_modal(LeanCoffeeModal(channel="C1"), topics, 2).to_dict()
    bk.render(view["blocks"], surface="modal")
    state = bk.state()
    assert set(state) == {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    chosen = state[LeanCoffeeBlock.TAKEAWAY_TOPIC][input_action_id(LeanCoffeeBlock.TAKEAWAY_TOPIC)]
    assert chosen["selected_option"]["value"] == "2"
    owner = bk.element(input_action_id(LeanCoffeeBlock.ACTION_OWNER))
    owner.select_option("U2")
    bk.element(input_action_id(LeanCoffeeBlock.ACTION_DUE)).fill("2024-05-01")
    state = bk.state()
    assert state[LeanCoffeeBlock.ACTION_OWNER][input_action_id(LeanCoffeeBlock.ACTION_OWNER)] == {
        "type": "users_select",
        "selected_user": "U2",
    }
    assert state[LeanCoffeeBlock.ACTION_DUE][input_action_id(LeanCoffeeBlock.ACTION_DUE)] == {
        "type": "datepicker",
        "selected_date": "2024-05-01",
    }
