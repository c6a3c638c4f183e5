"""A local Slack for hearth's end-to-end tests and sandbox.

    async with SlackEmulator() as slack:           # default workspace: see `Seed`
        app = create_app(api_url=slack.api_url)    # the real Bolt app, pointed here
        slack.set_request_url(app_url)             # or: slack.use_socket_mode()
        alice = slack.user(Seed.ALICE)
        await alice.run_command("/lean-coffee", "start", channel=Seed.PRACTICE)
        await alice.submit({"Topic": "Pairing"})
        board = alice.last_message(Seed.PRACTICE)
        await alice.click(board, "Vote", near="Pairing")
        assert not slack.violations

Modules, one concern each: `state` (the workspace), `seed` (a default one), `blockkit`
(validation), `api` (Web API methods), `server` (HTTP, lifecycle, failure injection),
`requests` (signed requests), `delivery` / `socket_mode` (Slack → app), `payloads` (what
Slack sends), `render` (Slack's JSON shapes), `inputs` (modal values), `seen` / `actor`
(acting as a person), `testing` (fixtures).
"""

from bot.emulator.actor import SlackUser
from bot.emulator.api import Violation
from bot.emulator.delivery import DeliveryResult
from bot.emulator.inputs import InputError, SubmitBlocked
from bot.emulator.requests import SignedRequestBuilder
from bot.emulator.seed import Seed, seed_default_workspace
from bot.emulator.seen import NotOnScreen, SeenMessage, SeenView
from bot.emulator.server import Call, Failure, SlackEmulator
from bot.emulator.state import WorkspaceState

__all__ = [
    "Call",
    "DeliveryResult",
    "Failure",
    "InputError",
    "NotOnScreen",
    "Seed",
    "SeenMessage",
    "SeenView",
    "SignedRequestBuilder",
    "SlackEmulator",
    "SlackUser",
    "SubmitBlocked",
    "Violation",
    "WorkspaceState",
    "seed_default_workspace",
]
