"""Browser tests: the sandbox page in headless Chromium (Debian's, no browser download).

The sandbox runs in the test's event loop on free ports; Playwright drives Chromium from
the same loop. Without Chromium or Playwright the tests are skipped with the reason, unless
HEARTH_REQUIRE_BROWSER=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

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

    def thread_message_with(self, text: str) -> Locator:
        return self.page.locator("#sb-thread-messages .sb-msg").filter(has_text=text).last

    async def click(self, where: Locator, label: str, *, near: str | None = None) -> None:
        """Click the button labelled `label` in a message; `near`: the row with that text."""
        scope = where
        if near is not None:
            row = where.locator("[data-block-type=section]").filter(has_text=near).first
            scope = row.locator("xpath=following-sibling::*[@data-block-type='actions'][1]")
        await scope.get_by_role("button", name=label, exact=True).click()

    async def confirm(self, label: str) -> None:
        """Answer a confirmation dialog (Block Kit `confirm`)."""
        await self.page.locator(".bk-confirm").get_by_role("button", name=label).click()

    async def open_thread(self, message: Locator) -> None:
        await message.locator(".sb-replies").click()
        await self.page.locator("#sb-thread").wait_for()

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
