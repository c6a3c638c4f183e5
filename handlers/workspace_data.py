"""When a workspace removes hearth, or adds it again.

Slack sends `app_uninstalled` when someone removes hearth from a workspace, and
`tokens_revoked` when its tokens stop working (an uninstall sends both). Installed in several
workspaces, hearth then deletes that workspace's installation at once, so nothing can act for
it, and plans the deletion of everything else it keeps for it after the retention period
(`bot.services.workspace_data`); installing hearth there again within that period calls the
deletion off, and the community finds its history as it left it.

Installed in one workspace (`SLACK_BOT_TOKEN`), the token is the operator's, in hearth's
settings: hearth cannot act there any more and says so in its log, but it deletes nothing.
The operator removed the app and decides what happens to the database (reinstalling and
setting the new token carries on where it stopped; deleting the database removes it all);
a stray or mistaken event must never be able to empty the one workspace hearth serves.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.oauth.installation_store import Installation

from bot.app import Deps
from bot.services import workspace_data

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event(workspace_data.APP_UNINSTALLED)
    async def uninstalled(context: AsyncBoltContext) -> None:
        await _gone(deps, context.team_id, workspace_data.APP_UNINSTALLED)

    @app.event(workspace_data.TOKENS_REVOKED)
    async def tokens_revoked(context: AsyncBoltContext, event: dict[str, Any]) -> None:
        tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
        if not (tokens or {}).get("bot"):
            # People's own tokens: hearth asks for none, so it holds none to forget.
            return
        await _gone(deps, context.team_id, workspace_data.TOKENS_REVOKED)

    if deps.installations is not None:

        async def installed(installation: Installation) -> None:
            if installation.team_id is not None:
                await _back(deps, installation.team_id)

        deps.installations.on_installed = installed


async def _gone(deps: Deps, team_id: str | None, reason: str) -> None:
    if team_id is None:
        return
    if deps.installations is None:
        logger.warning(
            "Slack says hearth was removed from workspace %s (%s): SLACK_BOT_TOKEN no longer "
            "works there, so hearth can do nothing for it. Its data stays in the database: "
            "reinstall the app and set the new SLACK_BOT_TOKEN to carry on, or delete the "
            "database to remove it.",
            team_id,
            reason,
        )
        return
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        departure = await workspace_data.leave(
            session, team_id, reason, now, deps.installations.retention
        )
    deps.installations.tokens.forget(team_id)
    await deps.scheduler.changed()
    logger.info(
        "hearth was removed from workspace %s (%s); its data will be deleted on %s unless "
        "hearth is installed there again before then",
        team_id,
        reason,
        departure.forget_at.date().isoformat(),
    )


async def _back(deps: Deps, team_id: str) -> None:
    assert deps.installations is not None
    async with deps.sessionmaker.begin() as session:
        departure = await workspace_data.come_back(session, team_id)
    deps.installations.tokens.forget(team_id)
    if departure is not None:
        await deps.scheduler.changed()
        logger.info(
            "hearth is back in workspace %s: its data is kept, and its timed work resumes",
            team_id,
        )
