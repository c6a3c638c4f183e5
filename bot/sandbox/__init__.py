"""A local Slack look-alike in the browser, so anyone can try hearth without a workspace.

`hearth sandbox` (or `run_sandbox()`) starts the Slack emulator, hearth pointed at it, and a
page on 127.0.0.1 that draws what the emulator holds: channels, messages, threads, modals,
the Home tab. Modules: `runtime` (starting and stopping it all), `clock` (time the page can
move forward), `screen` (what one person sees), `acting` (what they do, through the
emulator's `SlackUser`), `feed` (telling open pages to look again), `server` (the page's
HTTP API).
"""

from bot.sandbox.clock import OffsetClock
from bot.sandbox.runtime import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Sandbox,
    run_sandbox,
    running_sandbox,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "OffsetClock",
    "Sandbox",
    "run_sandbox",
    "running_sandbox",
]
