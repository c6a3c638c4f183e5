"""The facilitation rota in the sandbox page: set a schedule, join, skip a turn, and get the
reminder as a direct message when the clock is moved on, clicked through as three people."""

from __future__ import annotations

import os

import pytest

from bot.emulator.seed import Seed
from tests.browser.conftest import SandboxPage

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("HEARTH_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)


async def test_set_up_a_rota_skip_a_turn_and_confirm_from_the_reminder(page: SandboxPage) -> None:
    # 1. Alice, the lead, sets a weekly Thursday meetup from the schedule form.
    await page.type("/rota schedule")
    await expect(page.modal()).to_contain_text("Meetup schedule")
    await page.pick("Day of the week", "Thursday")
    await page.submit()
    await expect(page.message_with("Thursday")).to_be_visible()

    # 2. Bob and Carol join; Bob is first, so the next meetup is his.
    for person in (Seed.BOB, Seed.CAROL):
        await page.be(person)
        await page.type("/rota join")
        await expect(page.message_with("Welcome to the rota", ephemeral=True)).to_be_visible()
    await page.be(Seed.BOB)
    await page.type("/rota")
    overview = page.message_with("Facilitation rota", ephemeral=True)
    await expect(overview).to_contain_text("@bob")
    await page.screenshot("rota")

    # 3. Bob can't make it: he skips (after a confirmation), and Carol takes the meetup.
    await page.click(overview, "Skip my turn")
    await page.confirm("Skip my turn")
    await expect(page.message_with("@carol will facilitate")).to_be_visible()

    # 4. Two days before the meetup, Carol gets her reminder in her DM with hearth.
    await page.be(Seed.CAROL)
    await page.advance("+1 day")
    await page.page.locator(".sb-sidebar [data-channel]").filter(has_text="hearth").click()
    reminder = page.message_with("I'll facilitate")
    await expect(reminder).to_be_visible()
    await page.screenshot("rota-reminder")
    await page.click(reminder, "I'll facilitate")
    await expect(page.messages().filter(has_text="Thank you")).not_to_have_count(0)
