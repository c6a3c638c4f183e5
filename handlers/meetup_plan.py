"""Slack listeners for choosing a rota chat meetup's prompts ahead, from the facilitator's
reminder; also registers the job that starts those meetups at their time."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.blocks import meetup_plan as blocks
from bot.blocks.common import FormErrors
from bot.errors import DomainError
from bot.ids import MeetupBlock, MeetupPlanAction, MeetupPlanView
from bot.jobs import meetup_rota as jobs
from bot.presenters import meetup as present
from bot.services import community as community_service
from bot.services import meetup_plan as service
from bot.services import rota
from bot.services.actor import Actor
from bot.services.rota import Unavailable
from bot.state import MeetupRef
from handlers.slack_payloads import Body, actor_for, team_of, user_of

# Which modal input a service refusal belongs under.
FIELD_BLOCKS = {"prompts": MeetupBlock.PROMPTS, "pace": MeetupBlock.PACE}


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    async def may_plan(actor: Actor, community_id: int) -> None:
        """The community is a claim (a button value, the modal's metadata): refuse unless the
        person may act in its channel, before anything is asked or changed."""
        async with sessionmaker() as session:
            community = await community_service.get_community(session, actor.team_id, community_id)
        await deps.access.require(actor, community.channel_id, "choose its prompts")

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
        await may_plan(actor, ref.c)
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
            await may_plan(actor, ref.c)
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
                # So the facilitator sees what will happen.
                await present.owe_direct_message(
                    session,
                    actor.team_id,
                    present.one_off_key("plan_saved"),
                    actor.user_id,
                    blocks.saved_text(target, plan),
                    now,
                )
        except DomainError as exc:
            block = FIELD_BLOCKS.get(exc.field or "", MeetupBlock.PROMPTS)
            await ack(response_action="errors", errors={block: exc.message})
            return
        await ack()
        deps.outbox.kick()

    jobs.register(deps)
