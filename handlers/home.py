"""hearth's Home tab: published when a person opens it, refreshed after they act from it.

Buttons on the Home reuse other domains' actions (a rota turn's "I'll be there" is the same
`rota.confirm` as in a reminder). Clicks on a Home carry no `response_url`, so for them the
`respond` those listeners reply with is replaced by one that redraws the Home with the reply
on top: every listener works from the Home without knowing about it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.app import Deps
from bot.ids import HomeAction
from bot.presenters import home as present
from handlers.slack_payloads import Body, team_of, user_of

HOME_TAB = "home"


class ReplyOnHome:
    """Stands in for Bolt's `respond` on clicks from the Home tab: the reply is shown at the
    top of the person's refreshed Home instead of as a message."""

    def __init__(self, deps: Deps, team_id: str, user_id: str) -> None:
        self.deps = deps
        self.team_id = team_id
        self.user_id = user_id

    async def __call__(self, text: str | dict[str, Any] = "", **_: Any) -> None:
        notice = text.get("text") if isinstance(text, dict) else text
        await present.publish(self.deps, self.team_id, self.user_id, notice=notice or None)


def from_home(body: Body) -> bool:
    view = body.get("view")
    return (
        body.get("type") == "block_actions"
        and isinstance(view, dict)
        and view.get("type") == HOME_TAB
        and not body.get("response_url")
    )


def register(app: AsyncApp, deps: Deps) -> None:
    @app.middleware
    async def reply_on_home(
        body: Body, context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        # No database work here: Bolt may run the listener after this returns.
        if from_home(body):
            context["respond"] = ReplyOnHome(deps, team_of(body), user_of(body))
        return await next()

    @app.event("app_home_opened")
    async def home_opened(body: Body, event: Body) -> None:
        if event.get("tab") != HOME_TAB:
            return  # the Messages tab
        await present.publish(deps, team_of(body), str(event["user"]))

    @app.action(HomeAction.OPEN_LINK)
    async def link_clicked(ack: AsyncAck) -> None:
        """Slack opens the link itself; the click only needs acknowledging."""
        await ack()
