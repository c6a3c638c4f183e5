"""Browser tests: the sandbox page in headless Chromium (Debian's, no browser download).

The sandbox runs in the test's event loop on free ports; Playwright drives Chromium from
the same loop. Without Chromium or Playwright the tests are skipped with the reason, unless
HEARTH_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from bot.emulator.seed import Seed
from bot.sandbox import Sandbox, running_sandbox
from tests.browser._browser import CHROMIUM_ARGS, SCREENSHOTS, chromium_path, unavailable

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

SCREENSHOT_DIR = SCREENSHOTS
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOT_STYLE = "#sb-toast { display: none !important; }"
WAIT_MS = 10_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield launched
        finally:
            await launched.close()


def next_monday_morning() -> datetime:
    """10:00 in London on the coming Monday: a time a community would meet."""
    london = ZoneInfo("Europe/London")
    today = datetime.now(london).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(10, 0), tzinfo=london)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with running_sandbox(port=0, start=next_monday_morning()) as running:
        yield running
    assert not running.emulator.violations, running.emulator.violations


@pytest.fixture
async def page(browser: Browser, sandbox: Sandbox) -> AsyncIterator[SandboxPage]:
    context = await browser.new_context(viewport=VIEWPORT, timezone_id="Europe/London")
    tab = await context.new_page()
    tab.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    await tab.goto(sandbox.url + "/")
    await tab.locator("#sandbox[aria-busy=false]").wait_for()
    try:
        yield SandboxPage(tab, sandbox)
    finally:
        await context.close()
    assert not errors, f"the page raised: {errors}"


class SandboxPage:
    """The sandbox page, used the way a person would: by what is on screen."""

    def __init__(self, page: Page, sandbox: Sandbox) -> None:
        self.page = page
        self.sandbox = sandbox

    # -- who and where ---------------------------------------------------------------------

    async def be(self, user_id: str) -> None:
        """Switch person with the menu at the top right."""
        await self.page.locator("#sb-who").click()
        await self.page.locator(f'.sb-people-item[data-user="{user_id}"]').click()
        await self.page.locator(f'#sandbox[data-person="{user_id}"]').wait_for()

    async def open_channel(self, channel_id: str) -> None:
        await self.page.locator(f'.sb-sidebar [data-channel="{channel_id}"]').click()

    async def open_app(self) -> None:
        """Open hearth under "Apps" in the sidebar: its messages (DMs) or its Home tab."""
        await self.page.locator(".sb-sidebar [data-channel]").filter(has_text="hearth").click()

    async def open_app_messages(self) -> None:
        """hearth's DMs with this person (its Messages tab)."""
        await self.open_app()
        await self.page.get_by_role("tab", name="Messages").click()
        await self.page.locator("#sb-messages:not([hidden])").wait_for()

    async def open_home(self) -> Locator:
        """hearth's Home tab, as hearth draws it afresh when the person opens it."""
        await self.open_app()
        published = len(self.sandbox.emulator.calls_to("views.publish"))
        await self.page.get_by_role("tab", name="Home").click()
        await self.sandbox.emulator.wait_for_calls(
            "views.publish", published + 1, within=WAIT_MS / 1000
        )
        await self.caught_up()
        return self.page.locator("#sb-home")

    # -- typing ----------------------------------------------------------------------------

    async def type(self, text: str) -> None:
        """Type into the channel's composer and press Enter."""
        box = self.page.locator("#sb-composer-text")
        await box.fill(text)
        await box.press("Enter")

    # -- messages --------------------------------------------------------------------------

    def messages(self) -> Locator:
        return self.page.locator("#sb-messages .sb-msg")

    def message_with(self, text: str, *, ephemeral: bool = False) -> Locator:
        kind = "[data-ephemeral]" if ephemeral else ":not([data-ephemeral])"
        return self.page.locator(f"#sb-messages .sb-msg{kind}").filter(has_text=text).last

    async def pinned(self, message: Locator) -> Locator:
        """That very message from now on, whatever later messages say (by its timestamp)."""
        ts = await message.get_attribute("data-ts")
        where = await message.get_attribute("data-channel")
        return self.page.locator(f'#sb-messages .sb-msg[data-channel="{where}"][data-ts="{ts}"]')

    def thread_message_with(self, text: str) -> Locator:
        return self.page.locator("#sb-thread-messages .sb-msg").filter(has_text=text).last

    async def click(self, where: Locator, label: str, *, near: str | None = None) -> None:
        """Click the button labelled `label` in a message; `near`: the row with that text."""
        scope = where
        if near is not None:
            row = where.locator("[data-block-type=section]").filter(has_text=near).first
            scope = row.locator("xpath=following-sibling::*[@data-block-type='actions'][1]")
        await scope.get_by_role("button", name=label, exact=True).click()

    async def click_beside(self, where: Locator, label: str, text: str) -> None:
        """Click the button labelled `label` beside the text `text` (a section's accessory)."""
        row = where.locator("[data-block-type=section]").filter(has_text=text).first
        await row.get_by_role("button", name=label, exact=True).click()

    async def confirm(self, label: str) -> None:
        """Answer a confirmation dialog (Block Kit `confirm`)."""
        await self.page.locator(".bk-confirm").get_by_role("button", name=label).click()

    async def open_thread(self, message: Locator) -> None:
        await message.locator(".sb-replies").click()
        await self.page.locator("#sb-thread").wait_for()

    async def reply_in_thread(self, message: Locator, text: str) -> None:
        """Reply to `message` the way Slack offers it: hover, "Reply in thread", type, Enter;
        returns once the reply is on screen in the thread."""
        await message.hover()
        await message.get_by_role("button", name="Reply in thread").click()
        box = self.page.locator("#sb-thread-text")
        await box.fill(text)
        await box.press("Enter")
        await self.thread_message_with(text).wait_for()

    def thread(self) -> Locator:
        """The open thread's messages, its first (the message replied to) included."""
        return self.page.locator("#sb-thread-messages")

    # -- modals ----------------------------------------------------------------------------

    def modal(self) -> Locator:
        return self.page.locator(".sb-modal")

    def field(self, label: str) -> Locator:
        """A modal input by its label (an optional one's label ends in "(optional)")."""
        name = re.compile(rf"^\s*{re.escape(label)}( \(optional\))?\s*$")
        label_node = self.page.locator(".bk-input-label", has_text=name)
        block = self.modal().locator("[data-block-type=input]").filter(has=label_node)
        return block.locator("input, textarea, select").first

    async def fill(self, label: str, value: str) -> None:
        await self.field(label).fill(value)

    async def pick(self, label: str, option: str) -> None:
        await self.field(label).select_option(label=option)

    async def check(self, option: str) -> None:
        await self.modal().get_by_label(option).check()

    async def submit(self, *, closes: bool = True) -> None:
        await self.modal().locator(".sb-modal-submit").click()
        if closes:
            await self.modal().wait_for(state="detached")

    # -- time and pictures -----------------------------------------------------------------

    async def advance(self, *steps: str) -> None:
        """Press the clock's buttons ("+5 min", …), each once, waiting for each to finish."""
        for step in steps:
            before = self.sandbox.clock.offset
            await self.page.locator(".sb-clock").get_by_role("button", name=step).click()
            await self.page.wait_for_function(
                "() => !document.querySelector('.sb-clock-step:disabled')"
            )
            assert self.sandbox.clock.offset > before

    async def caught_up(self) -> None:
        """Wait until the page has drawn every change made so far, so that something
        missing from it is really missing, not yet to come."""
        version = self.sandbox.feed.version
        await self.page.wait_for_function(
            "(v) => Number(document.getElementById('sandbox').dataset.version) >= v", arg=version
        )

    async def screenshot(self, name: str, **options: Any) -> None:
        """Keep a picture of the page as a test artifact (and for the README, when asked)."""
        targets = [SCREENSHOT_DIR]
        extra = os.environ.get("HEARTH_SCREENSHOT_DIR")
        if extra:
            targets.append(Path(extra))
        # Let fonts settle, and leave out passing things (a toast, hover tools) so pictures
        # show the workspace itself.
        await self.page.evaluate("document.fonts.ready")
        await self.page.mouse.move(0, 0)
        picture = await self.page.screenshot(
            animations="disabled", caret="hide", style=SCREENSHOT_STYLE, **options
        )
        for folder in targets:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.png").write_bytes(picture)


@dataclass(frozen=True)
class Takeaway:
    """A takeaway to record in a Lean Coffee; an action when it has an `owner` (a name as
    the people picker shows it)."""

    text: str
    owner: str | None = None
    due: date | None = None


async def hold_lean_coffee(
    page: SandboxPage, name: str, topic: str, takeaways: Sequence[Takeaway]
) -> Locator:
    """Alice runs a short Lean Coffee in the open channel from the page: she proposes
    `topic`, starts it, records the takeaways and ends it. Returns the board."""
    await page.be(Seed.ALICE)
    await page.type("/lean-coffee")
    await page.fill("Name", name)
    await page.submit()
    board = await page.pinned(page.message_with(name))
    await page.type(f"/lean-coffee {topic}")
    await board.filter(has_text=topic).wait_for()
    await page.click(board, "Close voting")
    await page.confirm("Close voting")
    await page.click(board, "Start next topic")
    await board.filter(has_text="Discussing").wait_for()
    for takeaway in takeaways:
        await page.click(board, "Add a takeaway")
        await page.fill("Takeaway", takeaway.text)
        if takeaway.owner is not None:
            await page.check("This is an action")
            await page.pick("Who will do it?", takeaway.owner)
            if takeaway.due is not None:
                await page.fill("By when?", takeaway.due.isoformat())
        await page.submit()
        await board.filter(has_text=takeaway.text).wait_for()
    await page.click(board, "End session")
    await page.confirm("End session")
    await page.message_with(f"Minutes: {name}").wait_for()
    return board
