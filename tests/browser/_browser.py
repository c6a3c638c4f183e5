"""Headless Chromium for the browser tests, driven by Playwright.

Playwright drives the Chromium the system already has (Debian's `chromium` package): it never
downloads a browser of its own. Without Chromium or Playwright the browser tests are skipped,
unless HEARTH_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")


def browser_required() -> bool:
    """CI sets HEARTH_REQUIRE_BROWSER=1 so a missing browser fails instead of skipping."""
    return os.environ.get("HEARTH_REQUIRE_BROWSER", "") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the browser is required."""
    if browser_required():
        pytest.fail(f"{reason} (HEARTH_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    """HEARTH_CHROMIUM if set, else Debian's Chromium wherever it is installed."""
    configured = os.environ.get("HEARTH_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Browser]:
    """One headless Chromium per test module; each test opens its own page in it."""
    path = chromium_path()
    if path is None:
        unavailable("Chromium is not installed: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed: pip install playwright")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
