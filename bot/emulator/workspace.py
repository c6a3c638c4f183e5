"""`Workspace`: one team in the emulator, to act in when there are several.

The emulator starts with one workspace (`SlackEmulator.state`), which is all a test of hearth
in one workspace needs. An app installed in several workspaces is tested by adding more
(`SlackEmulator.add_workspace`): each has its own people, channels, messages and bot user,
answers the Web API only to its own tokens, and delivers what its people do to the same app
(one Request URL, one signing secret), carrying its own team id. A `Workspace` offers what
`SlackEmulator` offers for the default one: `user(...)` to act as someone there, and
`send_event(...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.emulator.api import WebApi
from bot.emulator.delivery import DeliveryResult, Kind
from bot.emulator.payloads import event_callback
from bot.emulator.state import WorkspaceState

if TYPE_CHECKING:
    from bot.emulator.actor import SlackUser
    from bot.emulator.server import SlackEmulator

JSON = dict[str, Any]


class Workspace:
    def __init__(self, emulator: SlackEmulator, state: WorkspaceState, api: WebApi) -> None:
        self.emulator = emulator
        self.state = state
        self.api = api

    def __repr__(self) -> str:
        return f"Workspace({self.team_id!r}, {self.state.team.name!r})"

    @property
    def team_id(self) -> str:
        return self.state.team.id

    @property
    def bot_token(self) -> str | None:
        """The bot token that works here now (None when the app is not installed)."""
        grant = self.emulator.tokens.current_bot(self.team_id)
        return grant.token if grant is not None else None

    def user(self, user_id: str) -> SlackUser:
        """Act as someone in this workspace."""
        from bot.emulator.actor import SlackUser

        if user_id not in self.state.users:
            raise KeyError(
                f"no user {user_id!r} in {self.team_id}; known: {list(self.state.users)}"
            )
        return SlackUser(self, user_id)  # type: ignore[arg-type]  # offers what it uses

    # -- what `SlackUser` uses of its emulator ----------------------------------------------

    async def deliver(self, kind: Kind, payload: JSON) -> DeliveryResult:
        return await self.emulator.deliver(kind, payload)

    def response_url(self, url_id: str) -> str:
        return self.emulator.response_url(url_id)

    async def send_event(self, event: JSON) -> DeliveryResult:
        """Deliver one Events API event from this workspace."""
        return await self.deliver("events_api", event_callback(self.state, event))
