"""hearth's Home tab in the sandbox page: set up a rota, open hearth's Home, and confirm a
turn from there."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import SandboxPage

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("HEARTH_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)


async def test_open_home_and_confirm_a_turn_from_it(page: SandboxPage) -> None:
    # Alice sets a weekly meetup in #practice and joins the rota, so the next turn is hers.
    await page.type("/rota schedule")
    await expect(page.modal()).to_contain_text("Meetup schedule")
    await page.submit()
    await page.type("/rota join")
    await expect(page.message_with("Welcome to the rota", ephemeral=True)).to_be_visible()

    # Opening hearth in the sidebar tells hearth, which draws her Home tab.
    await page.page.locator(".sb-sidebar [data-channel]").filter(has_text="hearth").click()
    await page.page.get_by_role("tab", name="Home").click()
    home = page.page.locator("#sb-home")
    await expect(home).to_contain_text("Your communities")
    await expect(home).to_contain_text("#practice")
    await expect(home).to_contain_text("Your coming turns")
    await page.screenshot("home")

    # "I'll be there" confirms the turn and the Home redraws with a thank-you.
    # She is the only one in the rota, so all of the next five turns are hers.
    be_there = home.get_by_role("button", name="I'll be there", exact=True)
    await expect(be_there).to_have_count(5)
    await be_there.first.click()
    await expect(home).to_contain_text("Thank you! You're confirmed")
    await expect(home).to_contain_text("confirmed")
    await expect(be_there).to_have_count(4)
