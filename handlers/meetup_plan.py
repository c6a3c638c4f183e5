"""Slack listeners for choosing a rota chat meetup's prompts ahead, from the facilitator's
reminder; also registers the job that starts those meetups at their time."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.blocks import meetup_plan as blocks
from bot.blocks.common import FormErrors
from bot.errors import DomainError
from bot.ids import MeetupBlock, MeetupPlanAction, MeetupPlanView
from bot.jobs import meetup_rota as jobs
from bot.services import community as community_service
from bot.services import meetup_plan as service
from bot.services import rota
from bot.services.rota import Unavailable
from bot.state import MeetupRef
from handlers.slack_payloads import Body, actor_for, team_of, user_of

logger = logging.getLogger(__name__)

# Which modal input a service refusal belongs under.
FIELD_BLOCKS = {"prompts": MeetupBlock.PROMPTS, "pace": MeetupBlock.PACE}


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    async def away_statuses(team_id: str, community_id: int) -> Unavailable:
        """Who Slack says is away, so "whose turn" matches the reminders."""
        async with sessionmaker() as session:
            community = await community_service.get_community(session, team_id, community_id)
            members = [m.user_id for m in await rota.members(session, community)]
        return await deps.statuses.checker(members)

    @app.action(MeetupPlanAction.CHOOSE_PROMPTS)
    async def choose_clicked(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        unavailable = await away_statuses(actor.team_id, ref.c)
        async with sessionmaker.begin() as session:
            community = await community_service.get_community(session, actor.team_id, ref.c)
            target = await service.plan_target(
                session, actor, community, ref.m, deps.clock.now(), unavailable
            )
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.plan_modal(target))

    @app.view(MeetupPlanView.PLAN)
    async def plan_submitted(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        ref = MeetupRef.decode(view.get("private_metadata"))
        try:
            form = blocks.parse_plan(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        actor = actor_for(client, team_of(body), user_of(body))
        try:
            unavailable = await away_statuses(actor.team_id, ref.c)
            async with sessionmaker.begin() as session:
                community = await community_service.get_community(session, actor.team_id, ref.c)
                now = deps.clock.now()
                plan = await service.save_plan(
                    session, actor, community, ref.m, form, now, unavailable
                )
                target = await service.plan_target(
                    session, actor, community, ref.m, now, unavailable
                )
        except DomainError as exc:
            block = FIELD_BLOCKS.get(exc.field or "", MeetupBlock.PROMPTS)
            await ack(response_action="errors", errors={block: exc.message})
            return
        await ack()
        try:
            await client.chat_postMessage(
                channel=actor.user_id, text=blocks.saved_text(target, plan)
            )
        except SlackApiError as exc:
            logger.warning("Could not confirm a saved meetup plan: %s", exc.response.get("error"))

    jobs.register(deps)
