"""A whole Lean Coffee in the sandbox page, clicked through by three people in one browser.

Alice starts it, Bob and Carol propose topics, all three vote, the time-box runs out when
the page's clock is moved on, the group votes to keep going, takeaways are captured and the
minutes are posted. Screenshots of the key moments are kept in test-artifacts/screenshots/
(and in $HEARTH_SCREENSHOT_DIR, which is how the README's pictures are refreshed).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from bot.emulator.seed import Seed
from tests.browser.conftest import SandboxPage

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("HEARTH_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)

BOARD = "Facilitated by"
FIRST = "Plain language in error messages"
SECOND = "Research ops for small teams"
THIRD = "Pairing on content"


async def test_three_people_run_a_whole_lean_coffee(page: SandboxPage) -> None:
    board = page.message_with(BOARD)

    # 1. Alice starts a Lean Coffee from the composer; the modal checks what she typed.
    await page.type("/lean-coffee")
    await expect(page.modal()).to_contain_text("Start a Lean Coffee")
    await page.fill("Name", "Content design CoP")
    await page.fill("Extra time if the group wants to keep going", "lots")
    await page.submit(closes=False)
    error = page.modal().locator("[data-block-id='lean_coffee.extensions']")
    await expect(error).to_contain_text("Use whole minutes")
    # What she typed is still there beside the error.
    await expect(page.field("Name")).to_have_value("Content design CoP")
    await page.screenshot("start-modal-with-error")
    await page.fill("Extra time if the group wants to keep going", "4, 2")
    await page.submit()
    await expect(board).to_contain_text("Content design CoP")
    await expect(board.get_by_role("button", name="Propose a topic")).to_be_visible()

    # 2. Bob proposes by command; Carol through the board's button and its modal.
    await page.be(Seed.BOB)
    await page.type(f"/lean-coffee {FIRST}")
    await expect(page.message_with("Thanks!", ephemeral=True)).to_contain_text(FIRST)
    await expect(page.message_with("Only visible to you", ephemeral=True)).to_be_visible()
    await page.be(Seed.CAROL)
    await page.click(board, "Propose a topic")
    await expect(page.modal()).to_contain_text("Propose a topic")
    await page.fill("Topic", SECOND)
    await page.fill("Details", "How do two-person teams keep research going?")
    await page.submit()
    await page.type(f"/lean-coffee {THIRD}")
    await expect(board).to_contain_text(SECOND)
    await expect(board).to_contain_text(THIRD)
    # Bob's private confirmation is his alone.
    await expect(
        page.messages().filter(has_text=f"Thanks! Your topic is on the board: {FIRST}")
    ).to_have_count(0)

    # 3. Everyone votes; the board updates in place for everyone.
    await page.click(board, "Vote", near=FIRST)
    await page.click(board, "Vote", near=SECOND)
    await page.be(Seed.BOB)
    await page.click(board, "Vote", near=SECOND)
    await page.click(board, "Vote", near=FIRST)
    await page.be(Seed.ALICE)
    await page.click(board, "Vote", near=FIRST)
    await page.click(board, "Vote", near=FIRST)
    await expect(board).to_contain_text("4 votes")
    await expect(board).to_contain_text("(edited)")
    await page.screenshot("voting")

    # 4. Alice closes voting (after confirming) and starts the most-voted topic.
    await page.click(board, "Close voting")
    await page.confirm("Close voting")
    await page.click(board, "Start next topic")
    await expect(board).to_contain_text("Discussing")
    await expect(board.get_by_role("button", name="Move on")).to_be_visible()

    # 5. Seven minutes pass on the sandbox clock: the time-box ends and a poll appears.
    before = page.sandbox.clock.offset
    await page.advance("+5 min", "+1 min", "+1 min")
    assert page.sandbox.clock.offset - before >= timedelta(minutes=7)
    await expect(board.locator(".sb-replies")).to_be_visible()
    await page.open_thread(board)
    poll = page.thread_message_with("Keep going?")
    await expect(poll).to_contain_text(FIRST)
    for person in (Seed.BOB, Seed.CAROL):
        await page.be(person)
        await page.open_thread(board)
        await page.click(page.thread_message_with("Keep going?"), "Keep going (+4 min)")
    await page.be(Seed.ALICE)
    await page.open_thread(board)
    await page.click(page.thread_message_with("Keep going?"), "Either way")
    await expect(page.thread_message_with("Keep going?")).to_contain_text(
        "Keep going: 2 · Either way: 1"
    )
    await page.screenshot("keep-going-vote")

    # A minute later the poll decides itself: two keep going, nobody wants to move on.
    await page.advance("+1 min")
    await expect(page.page.locator("#sb-thread-messages")).to_contain_text("4 more min")

    # 6. Takeaways: Carol's from the board, Bob's is an action with an owner and a date.
    await page.click(board, "Add a takeaway")
    await expect(page.modal()).to_contain_text("Add a takeaway")
    await page.fill("Takeaway", "Lead with what the person can do next")
    await page.submit()
    await page.be(Seed.BOB)
    await page.click(board, "Add a takeaway")
    await page.fill("Takeaway", "Draft an error message pattern")
    await page.check("This is an action")
    await page.pick("Who will do it?", "Bob Baker")
    due = (page.sandbox.clock.now() + timedelta(days=14)).date().isoformat()
    await page.fill("By when?", due)
    await page.screenshot("takeaway-modal")
    await page.submit()

    # 7. Alice ends the session; the minutes are posted for everyone to see.
    await page.be(Seed.ALICE)
    await page.click(board, "End session")
    await page.confirm("End session")
    minutes = page.page.locator(".sb-msg:not([data-ephemeral])").filter(has_text="Minutes")
    await expect(minutes.first).to_be_visible()
    everything = page.page.locator("#sb-main, #sb-thread")
    for expected in (
        FIRST,
        "Lead with what the person can do next",
        "Draft an error message pattern",
        THIRD,
    ):
        await expect(minutes.first).to_contain_text(expected)
    await expect(everything.first).to_contain_text("Content design CoP")
    await page.screenshot("minutes")
