"""Actions that follow up, in the sandbox page: a Lean Coffee records three actions; Alice marks
one done from her Home tab, another from the reminder hearth sends her on its due date (when
the page's clock reaches it), and at the next Lean Coffee Bob marks his done from the list of
open actions in the board's thread. Each place redraws to say it is done, and by whom."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from bot.emulator.seed import Seed
from tests.browser.conftest import SandboxPage, Takeaway, hold_lean_coffee

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("HEARTH_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)

FROM_HOME = "Update the newcomer guide"
FROM_REMINDER = "Book the room for the next meetup"
FROM_LIST = "Draft an error message pattern"


async def test_actions_are_marked_done_from_home_reminder_and_next_lean_coffee(
    page: SandboxPage,
) -> None:
    today = page.sandbox.clock.now().date()
    await hold_lean_coffee(
        page,
        "Content design CoP",
        "Plain language in error messages",
        [
            Takeaway(FROM_HOME, owner="Alice Appleby"),
            Takeaway(FROM_REMINDER, owner="Alice Appleby", due=today + timedelta(days=1)),
            Takeaway(FROM_LIST, owner="Bob Baker", due=today + timedelta(days=14)),
        ],
    )

    # 1. Alice's Home tab lists her two actions; she marks one done there.
    home = await page.open_home()
    await expect(home).to_contain_text("Your actions")
    await expect(home).to_contain_text(FROM_HOME)
    await expect(home).to_contain_text(FROM_REMINDER)
    await expect(home).not_to_contain_text(FROM_LIST)  # Bob's, not hers
    mark_done = home.get_by_role("button", name="Mark as done", exact=True)
    await expect(mark_done).to_have_count(2)
    await page.screenshot("actions-home")
    await page.click_beside(home, "Mark as done", FROM_HOME)
    await expect(home).to_contain_text("is marked as done")
    await expect(mark_done).to_have_count(1)
    rows = home.locator("[data-block-type=section]")
    await expect(rows.filter(has_text=FROM_HOME).get_by_role("button")).to_have_count(0)
    await expect(rows.filter(has_text=FROM_REMINDER).get_by_role("button")).to_have_text(
        "Mark as done"
    )

    # 2. The next day (after 09:00) hearth reminds her by DM; she marks it done there.
    await page.advance("+1 day")
    await page.open_app_messages()
    reminder = page.message_with("is due today")
    await expect(reminder).to_contain_text(FROM_REMINDER)
    await expect(reminder).to_contain_text("Content design CoP")
    await page.screenshot("actions-reminder")
    await page.click_beside(reminder, "Mark as done", FROM_REMINDER)
    await expect(reminder).to_contain_text("Done ✓")
    await expect(reminder.get_by_role("button", name="Mark as done")).to_have_count(0)

    # 3. At the next Lean Coffee, only Bob's action is still open; he marks it done.
    await page.open_channel(Seed.PRACTICE)
    await page.type("/lean-coffee")
    await page.fill("Name", "Next Lean Coffee")
    await page.submit()
    board = await page.pinned(page.message_with("Next Lean Coffee"))
    await expect(board.locator(".sb-replies")).to_be_visible()
    await page.be(Seed.BOB)
    await page.open_thread(board)
    open_actions = page.thread_message_with("Open actions from earlier sessions")
    await expect(open_actions).to_contain_text(FROM_LIST)
    await expect(open_actions).to_contain_text("@bob")
    await expect(open_actions).not_to_contain_text(FROM_HOME)
    await expect(open_actions).not_to_contain_text(FROM_REMINDER)
    await page.screenshot("actions-open-list")
    await page.click_beside(open_actions, "Mark as done", FROM_LIST)
    await expect(open_actions).to_contain_text("Done ✓ marked done by @bob")
    await expect(open_actions.get_by_role("button", name="Mark as done")).to_have_count(0)
