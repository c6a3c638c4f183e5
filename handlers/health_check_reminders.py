"""The "Don't remind me" button on a health-check reminder DM.

It records the choice for the community (the rule lives in `bot.services.health_check`) and
tells the person privately. Answer buttons in the same DM are handled by the poll's listener.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.blocks.health_check_reminders import stopped_text
from bot.ids import HealthAction
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.state import CommunityRef
from handlers.errors import tell_privately
from handlers.slack_payloads import Body, actor_for, team_of, user_of


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(HealthAction.STOP_REMINDERS)
    async def stop_reminders(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with deps.sessionmaker.begin() as session:
            community = await community_service.get_community(session, actor.team_id, ref.c)
            await deps.access.require(actor, community.channel_id, "change your reminders")
            await hc.set_reminders_wanted(session, actor, community, False, deps.clock.now())
            channel_id = community.channel_id
        await ack()
        await tell_privately(client, body, stopped_text(channel_id), respond)
