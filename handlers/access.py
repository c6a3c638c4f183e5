"""The same workspace, before any listener: a request from a workspace hearth was not
authorized for is refused whole.

Installed in one workspace, hearth speaks with that workspace's token whoever writes; a request
signed for another workspace (the app installed there too, or a Slack Connect guest) names ids
that mean nothing there and everything here, so it must never reach a listener: nothing is
looked up or changed, and the person is told privately where Slack gives a way (the request's
own `response_url`, or its modal). Installed in several workspaces, Bolt authorizes each
request with its own workspace's token, so the two always agree and this never refuses.

No database and no Web API call here (DESIGN.md: nothing slow before the acknowledgement).
Within the workspace, whether someone may act in a channel is `bot.access.ChannelAccess`,
asked by each listener once it has loaded the object it acts on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.models.blocks import PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from handlers.slack_payloads import Body

logger = logging.getLogger(__name__)

ANOTHER_WORKSPACE = (
    "Sorry, I look after another Slack workspace, so I can't do anything for you here. "
    "Whoever runs hearth for your workspace can add it there."
)


def another_workspace_modal() -> dict[str, object]:
    """What a modal submitted from another workspace turns into: the same words, closable."""
    return View(
        type="modal",
        title=PlainTextObject(text="hearth"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=ANOTHER_WORKSPACE)],
    ).to_dict()


async def only_this_workspace(
    context: AsyncBoltContext, body: Body, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Bolt middleware, after authorization: the request's workspace must be the one hearth
    was authorized for. Anything else is acknowledged, refused privately, and goes no further."""
    authorized = context.authorize_result
    installed = authorized.team_id if authorized is not None else None
    if installed is None or context.team_id is None or context.team_id == installed:
        return await next()
    logger.warning(
        "Refused a %s from workspace %s: hearth here is authorized for %s",
        body.get("type") or "command",
        context.team_id,
        installed,
    )
    if body.get("type") == "view_submission":
        payload = {"response_action": "update", "view": another_workspace_modal()}
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )
    if body.get("command"):  # the acknowledgement is what the person sees
        payload = {"response_type": "ephemeral", "text": ANOTHER_WORKSPACE}
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )
    if context.response_url and context.respond is not None:  # a click: its own response_url
        await context.respond(
            text=ANOTHER_WORKSPACE, response_type="ephemeral", replace_original=False
        )
    return BoltResponse(status=200, body="")


def register(app: AsyncApp) -> None:
    """Register early: no listener should see a request from another workspace."""
    app.middleware(only_this_workspace)
