"""Scheduled health checks in the sandbox page: the poll appears in the channel when the clock
reaches its time, the reminder arrives as a direct message halfway, an answer given there
counts, "Don't remind me" is acknowledged, and the results come when the check closes."""

from __future__ import annotations

import os
import re
from datetime import date, time

import pytest

from bot.emulator.seed import Seed
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services.actor import Actor
from bot.services.health_check_types import DEFAULT_QUESTIONS
from bot.services.recurrence import Cadence, Frequency
from tests.browser.conftest import SandboxPage

try:
    from playwright.async_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("HEARTH_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("Playwright is not installed (pip install playwright)", allow_module_level=True)


async def schedule_tuesdays(page: SandboxPage) -> None:
    """Alice, a lead, runs checks on Tuesdays at 10:00 London time (as the set-up modal
    would save them)."""
    hearth = page.sandbox.hearth
    team = page.sandbox.emulator.state.team.id
    now = hearth.deps.clock.now()
    tuesdays = Cadence(
        frequency=Frequency.WEEKLY,
        weekday=1,
        at=time(10, 0),
        time_zone="Europe/London",
        anchor=date(2020, 1, 6),
    )
    async with hearth.deps.sessionmaker.begin() as s:
        lead = Actor(team, Seed.ALICE)
        community = await community_service.community_for(s, lead, Seed.PRACTICE, now)
        await hc.set_cadence(s, lead, community, tuesdays, now)
    await hearth.scheduler.changed()


async def test_a_scheduled_check_is_posted_reminded_answered_and_closed(
    page: SandboxPage,
) -> None:
    await schedule_tuesdays(page)
    first = DEFAULT_QUESTIONS[0].title

    # 1. Tuesday 10:00: the poll appears in #practice.
    await page.advance("+1 day")
    await page.open_channel(Seed.PRACTICE)
    poll = page.message_with("How is our community doing?")
    await expect(poll).to_be_visible()
    await expect(poll).to_contain_text(first)
    await page.screenshot("health-check-poll")

    # 2. Halfway through, Bob (who has not answered) gets a reminder in his DM with hearth.
    await page.be(Seed.BOB)
    await page.advance("+1 day")
    await page.page.locator(".sb-sidebar [data-channel]").filter(has_text="hearth").click()
    reminder = page.message_with("Don't remind me")
    await expect(reminder).to_be_visible()
    await expect(reminder).to_contain_text(first)
    await page.screenshot("health-check-reminder")

    # 3. He answers the first question right there, and asks not to be reminded again.
    row = reminder.locator("[data-block-type=section]").filter(has_text=first).first
    actions = row.locator("xpath=following-sibling::*[@data-block-type='actions'][1]")
    await actions.get_by_role("button", name=re.compile("Going well")).click()
    await page.click(reminder, "Don't remind me")
    await expect(page.messages().filter(has_text="won't remind you")).not_to_have_count(0)

    # 4. Two days after it opened, the check closes and the results are posted.
    await page.advance("+1 day")
    await page.open_channel(Seed.PRACTICE)
    results = page.message_with("Community health check: results")
    await expect(results).to_be_visible()
    await expect(results).to_contain_text("1")
    await page.screenshot("health-check-results")
