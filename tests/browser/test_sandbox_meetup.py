"""A chat meetup in the sandbox page, clicked through by three people in one browser.

Alice starts /meetup from the composer and fills its form; the opening message and each
prompt appear in the channel; Bob and Carol reply in the prompts' threads (Carol once off
the record, once anonymously through the opening message's button); the half-time nudge
arrives when the page's clock is moved on; Alice ends it early and the minutes show who
spoke and what was said; she adds an action to the minutes from their button.
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

FIRST = "What surprised you this month?"
SECOND = "What will you try next?"


async def test_a_chat_meetup_from_the_form_to_the_minutes(page: SandboxPage) -> None:
    # 1. Alice starts a meetup: two prompts, twenty minutes, both out at once; her first
    # try at the length is refused under the field, keeping what she typed.
    await page.type("/meetup")
    await expect(page.modal()).to_contain_text("Start a chat meetup")
    await page.fill("Prompts", f"{FIRST}\n{SECOND}")
    await page.fill("Length in minutes", "3")
    await page.submit(closes=False)
    await expect(page.modal()).to_contain_text("between 5 and")
    await expect(page.field("Prompts")).to_have_value(f"{FIRST}\n{SECOND}")
    await page.fill("Length in minutes", "20")
    # The facilitator is preset to whoever started it.
    await expect(page.field("Facilitator").locator("option:checked")).to_have_text("Alice Appleby")
    # Both nudges are ticked to begin with; she keeps only the half-time one.
    await expect(page.modal().get_by_label("At half-time")).to_be_checked()
    await page.modal().get_by_label("Five minutes before the end").uncheck()
    await page.screenshot("meetup-start-modal")
    await page.submit()

    opening = await page.pinned(page.message_with("Chat meetup"))
    await expect(opening).to_contain_text("How to take part")
    await expect(opening).to_contain_text("Facilitated by @alice")
    for label in ("Post anonymously", "End now"):
        await expect(opening.get_by_role("button", name=label, exact=True)).to_be_visible()
    first = await page.pinned(page.message_with(f"Prompt 1 of 2: {FIRST}"))
    second = await page.pinned(page.message_with(f"Prompt 2 of 2: {SECOND}"))
    await expect(first).to_contain_text("Reply in this thread.")
    await expect(second).to_be_visible()

    # 2. Bob and Carol reply in the threads; Carol keeps one reply off the record.
    await page.be(Seed.BOB)
    await page.reply_in_thread(first, "A short survey told us more than the long one")
    await page.be(Seed.CAROL)
    await page.reply_in_thread(first, "(off the record) our budget got cut")
    await page.reply_in_thread(second, "Pairing on research plans")
    await expect(first.locator(".sb-replies")).to_contain_text("2 replies")

    # 3. Carol posts anonymously through the opening message's button.
    await page.click(opening, "Post anonymously")
    await expect(page.modal()).to_contain_text("Post anonymously")
    await page.pick("Which prompt?", f"1. {FIRST}")
    await page.fill("Your reply", "I don't feel heard in planning")
    await page.submit()
    await page.open_thread(first)
    anonymous = page.thread_message_with("I don't feel heard in planning")
    await expect(anonymous).to_contain_text("Posted anonymously")
    await expect(anonymous.locator(".sb-msg-author")).to_have_text("hearth")
    await page.screenshot("meetup-thread")

    # 4. Ten minutes on, each thread gets the half-time nudge; the one she unticked, five
    # minutes before the end, never comes.
    await page.advance("+5 min", "+5 min")
    await expect(page.thread()).to_contain_text("Halfway there: about 10 min left")
    await page.advance("+5 min")
    await page.caught_up()
    await expect(page.thread()).not_to_contain_text("minutes left")

    # 5. Only the facilitator ends it: Bob is told so; Alice ends it early.
    await page.be(Seed.BOB)
    await page.click(opening, "End now")
    await page.confirm("End now")
    await expect(page.message_with("Only the facilitator", ephemeral=True)).to_be_visible()
    await page.be(Seed.ALICE)
    await page.click(opening, "End now")
    await page.confirm("End now")
    minutes = page.message_with(f"Minutes: Chat meetup: {FIRST}")
    await expect(minutes).to_contain_text("Participants")
    for expected in (
        "@bob: 1 reply",
        "@carol: 2 replies",
        "Anonymous: 1 reply",
        "A short survey told us more than the long one",
        "Pairing on research plans",
        "I don't feel heard in planning",
        "1 reply off the record, not kept.",
    ):
        await expect(page.page.locator("#sb-messages")).to_contain_text(expected)
    await expect(page.page.locator("#sb-messages")).not_to_contain_text("our budget got cut")
    await expect(opening).to_contain_text("This chat meetup ended")
    await expect(opening.get_by_role("button")).to_have_count(0)
    # The threads are closed with a note.
    await page.open_thread(second)
    await expect(page.thread()).to_contain_text("Time's up on this thread")

    # 6. Alice adds an action for Bob from the minutes; the minutes redraw with it.
    await page.click(minutes, "Add takeaways and actions")
    await expect(page.modal()).to_contain_text("Takeaway or action")
    await page.fill("Takeaway or action", "Share the short survey template")
    await page.pick("Who will do it?", "Bob Baker")
    due = (page.sandbox.clock.now() + timedelta(days=7)).date()
    await page.fill("Due date", due.isoformat())
    await page.submit()
    await expect(minutes).to_contain_text("Share the short survey template")
    await expect(minutes).to_contain_text(f"action for @bob, due {due:%d %b %Y}")
    await page.screenshot("meetup-minutes")
