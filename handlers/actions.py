""" "Mark as done" on an action, wherever the action is shown: the owner's reminder, the Home
tab, the list at the start of a Lean Coffee, the facilitator's hand-over pack, the thread of a
health check's results. And "Record an action" under a health check's results.

The message the click came from is redrawn with the action shown as done (a direct message's
button becomes "Done ✓"); on the Home tab, the Home is republished with a thank-you on top.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from bot.blocks import actions as blocks
from bot.blocks.common import mention, one_line, safe
from bot.ids import ActionsAction, ActionsBlock, ActionsView
from bot.presenters import actions as present
from bot.services import actions
from bot.services import health_check as hc
from bot.state import ActionRef, CheckRef, HealthActionModal
from handlers.home import from_home
from handlers.listeners import FormValues, on_button, require_person, submit_modal
from handlers.slack_payloads import Body, actor_for, team_of, user_of

logger = logging.getLogger(__name__)

QUOTE_LIMIT = 100
NOT_AN_OWNER = "Pick a person: bots and deactivated accounts can't take on actions."


def register(app: AsyncApp, deps: Deps) -> None:
    @on_button(app, ActionsAction.MARK_DONE)
    async def mark_done_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        value = str(action.get("value") or "")
        ref = ActionRef.decode(value)
        actor = actor_for(client, team_of(body), user_of(body))
        async with deps.sessionmaker() as session:
            found = await actions.get_action(session, actor.team_id, ref.a, ref.s)
        # Its owner may always say it's done (their reminder came to them directly); anyone
        # else must be allowed in the channel it was agreed in, and then the rules decide.
        if actor.user_id != found.owner_id:
            await deps.access.require(actor, found.channel_id, "mark its actions done")
        async with deps.sessionmaker.begin() as session:
            done = await actions.mark_done(session, actor, ref.a, deps.clock.now(), ref.s)
        what = f"“{safe(one_line(done.action.text), QUOTE_LIMIT)}”"
        if done.already:
            by = mention(done.action.done_by_id) if done.action.done_by_id else "someone"
            notice = f"{what} was already marked done by {by}. Nothing more to do!"
        else:
            notice = f"Thank you! {what} is marked as done."
        if from_home(body):
            await respond(text=notice)  # republishes the Home with the note on top
            return
        await redraw(client, body, value, done.action.done_by_id, user_of(body))
        if done.already:
            await respond(text=notice, response_type="ephemeral", replace_original=False)

    async def redraw(
        client: AsyncWebClient, body: Body, value: str, done_by: str | None, clicker: str
    ) -> None:
        """Show the action as done in the message the click came from."""
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        if not message.get("blocks") or not channel or not message.get("ts"):
            return
        in_dm = str(channel).startswith("D")
        note = blocks.DONE if in_dm and done_by == clicker else blocks.done_note(done_by)
        redrawn = blocks.with_action_done(message["blocks"], value, note)
        try:
            await client.chat_update(
                channel=channel, ts=message["ts"], text=message.get("text") or "", blocks=redrawn
            )
        except SlackApiError as exc:
            logger.warning("Could not redraw a message after an action was done: %s", exc)

    # --- recording an action after a health check ------------------------------------------

    @on_button(app, ActionsAction.RECORD_AFTER_CHECK)
    async def record_clicked(
        body: Body, action: Body, client: AsyncWebClient, _respond: AsyncRespond
    ) -> None:
        ref = CheckRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with deps.sessionmaker() as session:
            check = await hc.get_check(session, actor.team_id, ref.k)
        await deps.access.require(actor, check.channel_id, "record an action")
        meta = HealthActionModal(channel=check.channel_id, k=check.id)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.record_modal(meta))

    @app.view(ActionsView.RECORD_AFTER_CHECK)
    async def record_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))

        def parse(values: FormValues) -> blocks.RecordForm:
            return blocks.parse_record(values)

        async def record(
            session: AsyncSession, meta: HealthActionModal, form: blocks.RecordForm
        ) -> actions.Action:
            check = await hc.get_check(session, team_id, meta.k)
            await deps.access.require(actor, check.channel_id, "record an action")
            await require_person(client, form.owner_id, ActionsBlock.OWNER, NOT_AN_OWNER)
            now = deps.clock.now()
            recorded = await actions.record_after_check(
                session, actor, meta.k, form.text, form.owner_id, form.due_date, now
            )
            thread_ts = await actions.results_message_of(session, team_id, meta.k)
            await present.owe_recorded(session, recorded, thread_ts, now)
            return recorded

        recorded = await submit_modal(
            ack,
            view,
            deps.sessionmaker,
            carried=HealthActionModal,
            parse=parse,
            work=record,
            error_block=ActionsBlock.TEXT,
            field_blocks=blocks.FIELD_BLOCKS,
        )
        if recorded is None:
            return
        deps.outbox.kick()  # its confirmation
        await deps.scheduler.changed()  # its due-date reminder
