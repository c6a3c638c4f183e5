"""The minutes archive in the sandbox page: a Lean Coffee in #practice and a chat meetup in the
private #leads are held from the page, then /minutes lists and shows a channel's minutes,
searches both communities (the private one only for its members), and exports #practice's
minutes as a file everyone in the channel can open."""

from __future__ import annotations

import os

import pytest

from bot.emulator.seed import Seed
from tests.browser.conftest import SandboxPage, Takeaway, hold_lean_coffee

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("HEARTH_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)

COFFEE = "Content design CoP"
TOPIC = "Onboarding newcomers"
TAKEAWAY = "Give every newcomer a buddy"
PROMPT = "How do we onboard new leads?"
REPLY = "Shadow a session first"


async def hold_meetup_in_leads(page: SandboxPage) -> None:
    """Alice runs a one-prompt chat meetup in #leads; Carol replies; Alice ends it early."""
    await page.open_channel(Seed.LEADS)
    await page.type("/meetup")
    await page.fill("Prompts", PROMPT)
    await page.submit()
    prompt = await page.pinned(page.message_with(f"Prompt: {PROMPT}"))
    await page.be(Seed.CAROL)
    await page.open_channel(Seed.LEADS)
    await page.reply_in_thread(prompt, REPLY)
    await page.be(Seed.ALICE)
    await page.click(page.message_with("How to take part"), "End now")
    await page.confirm("End now")
    await expect(page.message_with(f"Minutes: Chat meetup: {PROMPT}")).to_contain_text(REPLY)


async def test_list_show_search_and_export_minutes(page: SandboxPage) -> None:
    await hold_lean_coffee(page, COFFEE, TOPIC, [Takeaway(TAKEAWAY)])
    await hold_meetup_in_leads(page)

    # 1. In #practice, /minutes lists the channel's minutes privately; one opens in full.
    await page.open_channel(Seed.PRACTICE)
    await page.type("/minutes")
    listing = page.message_with("Minutes kept in this channel", ephemeral=True)
    await expect(listing).to_contain_text(COFFEE)
    await expect(listing).to_contain_text("facilitated by @alice")
    await expect(listing).not_to_contain_text(PROMPT)  # #leads' meetup stays in #leads
    await page.click_beside(listing, "Show minutes", COFFEE)
    full = page.message_with(f"Minutes: {COFFEE}", ephemeral=True)
    await expect(full).to_contain_text(TAKEAWAY)
    await page.screenshot("minutes-list")

    # 2. In #leads, the meetup is listed.
    await page.open_channel(Seed.LEADS)
    await page.type("/minutes")
    await expect(page.message_with("Minutes kept in this channel", ephemeral=True)).to_contain_text(
        f"Chat meetup: {PROMPT}"
    )

    # 3. A search from #practice finds both communities' minutes for Alice…
    await page.open_channel(Seed.PRACTICE)
    await page.type("/minutes onboard")
    found = page.message_with("Minutes mentioning “onboard”", ephemeral=True)
    await expect(found).to_contain_text("in #practice")
    await expect(found).to_contain_text("in #leads")
    await expect(found).to_contain_text(f"Topic: {TOPIC}")
    await expect(found).to_contain_text(f"Topic: {PROMPT}")
    await page.screenshot("minutes-search")
    await page.click_beside(found, "Show minutes", "in #leads")
    meetup = page.message_with(f"Minutes: Chat meetup: {PROMPT}", ephemeral=True)
    await expect(meetup).to_contain_text(f"@carol: {REPLY}")

    # …and only #practice's for Bob, who is not in the private #leads.
    await page.be(Seed.BOB)
    await page.type("/minutes onboard")
    bobs = page.message_with("Minutes mentioning “onboard”", ephemeral=True)
    await expect(bobs).to_contain_text(COFFEE)
    await expect(bobs).not_to_contain_text("#leads")
    await expect(bobs).not_to_contain_text(PROMPT)

    # 4. Alice exports #practice's minutes: a Markdown file everyone in the channel sees.
    await page.be(Seed.ALICE)
    await page.type("/minutes export")
    day = page.sandbox.clock.now().date().isoformat()
    filename = f"hearth-minutes-practice-{day}.md"
    done = page.message_with("Done: the minutes are in this channel", ephemeral=True)
    await expect(done).to_contain_text(filename)
    await page.be(Seed.BOB)
    shared = page.message_with("Asked for by @alice")
    card = shared.locator(".sb-file")
    await expect(card).to_contain_text("Minutes of #practice")
    await expect(card).to_contain_text(filename)
    await expect(card.get_by_role("link", name=f"Download {filename}")).to_be_visible()
    await page.screenshot("minutes-export")

    # Bob opens it: the Markdown minutes, in a new tab.
    async with page.page.context.expect_page() as opened:
        await card.get_by_role("link", name="Minutes of #practice").click()
    tab = await opened.value
    await tab.wait_for_load_state()
    text = await tab.locator("body").inner_text()
    assert text.startswith("# Minutes of \\#practice")
    assert f"## {COFFEE}" in text and TAKEAWAY in text
    assert PROMPT not in text  # only this channel's minutes
    await tab.close()


async def test_open_minutes_from_the_home_tab(page: SandboxPage) -> None:
    """The Home tab is drawn afresh each time it is opened, and its "Open in channel" shows
    the minutes in the page, as Slack would, instead of going to a slack.com address."""
    await hold_lean_coffee(page, COFFEE, TOPIC, [Takeaway(TAKEAWAY)])
    home = await page.open_home()
    await expect(home).to_contain_text(COFFEE)
    await expect(home).not_to_contain_text(PROMPT)

    await hold_meetup_in_leads(page)
    home = await page.open_home()
    await expect(home).to_contain_text(f"Chat meetup: {PROMPT}")
    await page.click_beside(home, "Open in channel", f"Chat meetup: {PROMPT}")
    await expect(page.page.locator("#sb-channel-title")).to_have_text("leads")
    shown = page.page.locator("#sb-messages .sb-msg.sb-msg--linked")
    await expect(shown).to_contain_text(f"Minutes: Chat meetup: {PROMPT}")
    await expect(shown).to_be_in_viewport()

    # A Lean Coffee's minutes are a reply on its board: they open with the thread.
    home = await page.open_home()
    await page.click_beside(home, "Open in channel", COFFEE)
    await expect(page.page.locator("#sb-channel-title")).to_have_text("practice")
    await expect(page.page.locator("#sb-thread")).to_be_visible()
    linked = page.page.locator("#sb-thread-messages .sb-msg.sb-msg--linked")
    await expect(linked).to_contain_text(f"Minutes: {COFFEE}")
    assert len(page.page.context.pages) == 1  # nothing opened in a new tab
