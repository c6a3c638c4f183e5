"""Slack listeners for /meetup: thin glue between Slack payloads and the meetup service.

Replies are heard as `message` events in the prompts' threads (the app subscribes to
`message.channels` and `message.groups`): each is counted and kept as it arrives, and edits
and deletions while the meetup runs are followed. Events that never arrive are made up for
at the close, which reads the threads back once before writing the minutes (for "End now",
after the click is acknowledged); anything posted after the close is not recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from bot.blocks import meetup as blocks
from bot.errors import Conflict
from bot.ids import MeetupAction, MeetupBlock, MeetupView
from bot.jobs import meetup as jobs
from bot.presenters import meetup as present
from bot.services import meetup as service
from bot.services import rota as rota_service
from bot.state import ChatMeetupModal, ChatMeetupRef
from handlers.listeners import (
    FormValues,
    Parsed,
    Result,
    on_button,
    require_person,
    submit_modal,
)
from handlers.slack_payloads import Body, actor_for, check_channel, team_of, user_of

logger = logging.getLogger(__name__)

COMMAND = "/meetup"
IN_A_DM = (
    "A chat meetup happens in a channel, so the whole community can join in. "
    "Run `/meetup` in your community's channel."
)
NOT_INVITED = (
    "I'm not in this channel yet, so I can't run a meetup here. "
    "Invite me with `/invite @hearth`, then try again."
)
# Which modal input a service refusal belongs under.
FIELD_BLOCKS = {
    "prompts": MeetupBlock.PROMPTS,
    "length": MeetupBlock.LENGTH,
    "pace": MeetupBlock.PACE,
    "anon_prompt": MeetupBlock.ANON_PROMPT,
    "takeaway_text": MeetupBlock.TAKEAWAY_TEXT,
    "action_owner": MeetupBlock.ACTION_OWNER,
    "action_due": MeetupBlock.ACTION_DUE,
    "extend_by": MeetupBlock.EXTEND_BY,
}


def meetup_of(meta: ChatMeetupModal) -> int:
    if meta.m is None:
        raise Conflict("That form lost track of its meetup. Please open it again.")
    return meta.m


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    async def submit(
        ack: AsyncAck,
        view: Body,
        *,
        parse: Callable[[FormValues], Parsed],
        work: Callable[[AsyncSession, ChatMeetupModal, Parsed], Awaitable[Result]],
        error_block: MeetupBlock,
    ) -> Result | None:
        return await submit_modal(
            ack,
            view,
            sessionmaker,
            carried=ChatMeetupModal,
            parse=parse,
            work=work,
            error_block=error_block,
            field_blocks=FIELD_BLOCKS,
        )

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        word = str(body.get("text") or "").strip().lower()
        if word == "help":
            await respond(text=blocks.help_text(), blocks=blocks.help_blocks())
            return
        if word:
            await respond(
                text="Type `/meetup` on its own to start a chat meetup, or `/meetup help`."
            )
            return
        team_id, user_id = team_of(body), user_of(body)
        channel_id = await check_channel(client, body, in_a_dm=IN_A_DM, not_invited=NOT_INVITED)
        await deps.access.require(
            actor_for(client, team_id, user_id), channel_id, "start a chat meetup"
        )
        async with sessionmaker() as session:
            running = await service.running_meetup(session, team_id, channel_id)
            if running is not None:
                raise Conflict(
                    "A chat meetup is already running in this channel: join in its threads. "
                    "You can start another once it ends."
                )
            on_rota = await rota_service.current_facilitator(
                session, team_id, channel_id, deps.clock.now()
            )
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.start_modal(channel_id, on_rota or user_id, from_rota=on_rota is not None),
        )

    @app.view(MeetupView.START)
    async def start_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        team_id, user_id = team_of(body), user_of(body)

        async def work(
            session: AsyncSession, meta: ChatMeetupModal, options: service.StartOptions
        ) -> int:
            actor = actor_for(client, team_id, user_id)
            # The channel is the modal's claim: someone may start one only where they may act.
            await deps.access.require(actor, meta.channel, "start a chat meetup")
            if options.facilitator_id and options.facilitator_id != user_id:
                await require_person(client, options.facilitator_id, MeetupBlock.FACILITATOR)
            now = deps.clock.now()
            meetup = await service.start(session, actor, meta.channel, options, now)
            await present.owe_opening(session, team_id, meetup, now)
            return meetup.id

        meetup_id = await submit(
            ack, view, parse=blocks.parse_start, work=work, error_block=MeetupBlock.PROMPTS
        )
        if meetup_id is None:
            return
        deps.outbox.kick()
        await jobs.run_due_now(deps, team_id, meetup_id)
        await deps.scheduler.changed()

    # --- replies in the threads ------------------------------------------------------------

    @app.event("message")
    async def message_posted(event: Body, body: Body) -> None:
        team_id = str(event.get("team") or body.get("team_id") or "")
        channel_id = str(event.get("channel") or "")
        subtype = event.get("subtype")
        if subtype == "message_deleted":
            if event.get("deleted_ts"):
                async with sessionmaker.begin() as session:
                    await service.remove_reply(
                        session, team_id, channel_id, str(event["deleted_ts"])
                    )
            return
        edited = subtype == "message_changed"
        heard = present.heard_reply((event.get("message") or {}) if edited else event)
        if heard is None:
            return
        thread_ts, reply = heard
        async with sessionmaker.begin() as session:
            if edited:
                await service.edit_reply(
                    session, team_id, channel_id, thread_ts, reply, deps.clock.now()
                )
            else:
                await service.record_reply(
                    session,
                    team_id,
                    channel_id,
                    thread_ts,
                    reply.message_ts,
                    reply.author_id,
                    reply.text,
                    deps.clock.now(),
                )

    # --- posting anonymously ------------------------------------------------------------------

    @on_button(app, MeetupAction.POST_ANONYMOUSLY)
    async def anonymous_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = ChatMeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        state = await present.snapshot(deps, actor.team_id, ref.m)
        await deps.access.require(actor, state.channel_id, "post in its threads")
        if state.status != service.RUNNING:
            raise Conflict("This meetup has ended, so its threads are closed to new posts.")
        if not state.released:
            raise Conflict("No prompt is out yet. Try again in a moment.")
        meta = ChatMeetupModal(channel=state.channel_id, m=state.id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.anonymous_modal(meta, state.prompts)
        )

    @app.view(MeetupView.ANONYMOUS)
    async def anonymous_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        # Who sent this is never stored or logged: only the text and the thread are used (and
        # whether they may post in the meetup's channel, asked of Slack and not kept by person).
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))

        async def work(
            session: AsyncSession, meta: ChatMeetupModal, form: blocks.AnonymousForm
        ) -> int:
            meetup = await service.get_meetup(session, team_id, meetup_of(meta))
            await deps.access.require(actor, meetup.channel_id, "post in its threads")
            now = deps.clock.now()
            post = await service.post_anonymously(
                session, team_id, meetup_of(meta), form.prompt_id, form.text, now
            )
            await present.owe_anonymous(session, team_id, post, form.text, now)
            return post.reply_id

        posted = await submit(
            ack, view, parse=blocks.parse_anonymous, work=work, error_block=MeetupBlock.ANON_TEXT
        )
        if posted is not None:
            deps.outbox.kick()

    # --- steering ----------------------------------------------------------------------------

    @on_button(app, MeetupAction.EXTEND)
    async def extend_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = ChatMeetupRef.decode(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        async with sessionmaker() as session:
            meetup = await service.get_meetup(session, team_id, ref.m)
            await deps.access.require(actor, meetup.channel_id, "extend the meetup")
            await service.check_can_extend(session, actor, meetup)
            state = await service.state_of(session, meetup)
        meta = ChatMeetupModal(channel=state.channel_id, m=state.id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.extend_modal(meta, state)
        )

    @app.view(MeetupView.EXTEND)
    async def extend_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        team_id = team_of(body)

        async def work(session: AsyncSession, meta: ChatMeetupModal, minutes: int) -> int:
            meetup = await service.get_meetup(session, team_id, meetup_of(meta))
            actor = actor_for(client, team_id, user_of(body))
            await deps.access.require(actor, meetup.channel_id, "extend the meetup")
            now = deps.clock.now()
            await service.extend(session, actor, meetup, now, minutes)
            await present.owe_extended(session, team_id, meetup, minutes, now)
            return meetup.id

        meetup_id = await submit(
            ack, view, parse=blocks.parse_extend, work=work, error_block=MeetupBlock.EXTEND_BY
        )
        if meetup_id is None:
            return
        deps.outbox.kick()
        await deps.scheduler.changed()
        present.request_opening_refresh(deps, team_id, meetup_id)

    @on_button(app, MeetupAction.END_NOW)
    async def end_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        # The click is already acknowledged (`on_button`): reading the threads back may take
        # longer than the three seconds Slack waits.
        ref = ChatMeetupRef.decode(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        now = deps.clock.now()
        async with sessionmaker() as session:
            meetup = await service.get_meetup(session, team_id, ref.m)
            await deps.access.require(actor, meetup.channel_id, "end the meetup")
            await service.check_can_end(session, actor, meetup)
        complete = await present.catch_up(deps, team_id, ref.m, now)
        async with sessionmaker.begin() as session:
            minutes = await service.end(
                session, team_id, ref.m, now, actor=actor, replies_may_be_missing=not complete
            )
            await present.owe_close(session, team_id, minutes, now)
        deps.outbox.kick()
        await deps.scheduler.changed()
        present.request_opening_refresh(deps, team_id, ref.m)

    # --- takeaways and actions -------------------------------------------------------------

    @on_button(app, MeetupAction.ADD_TAKEAWAY)
    async def takeaway_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = ChatMeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        state = await present.snapshot(deps, actor.team_id, ref.m)
        await deps.access.require(actor, state.channel_id, "add a takeaway")
        meta = ChatMeetupModal(channel=state.channel_id, m=state.id)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.takeaway_modal(meta))

    @app.view(MeetupView.TAKEAWAY)
    async def takeaway_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        team_id = team_of(body)

        async def work(
            session: AsyncSession, meta: ChatMeetupModal, form: blocks.TakeawayForm
        ) -> tuple[int, str, bool]:
            meetup_id = meetup_of(meta)
            actor = actor_for(client, team_id, user_of(body))
            meetup = await service.get_meetup(session, team_id, meetup_id)
            await deps.access.require(actor, meetup.channel_id, "add a takeaway")
            minutes = await service.add_takeaway(
                session,
                actor,
                meetup_id,
                form.text,
                deps.clock.now(),
                owner_id=form.owner_id,
                due_date=form.due_date,
            )
            return meetup_id, meetup.channel_id, minutes is not None

        added = await submit(
            ack, view, parse=blocks.parse_takeaway, work=work, error_block=MeetupBlock.TAKEAWAY_TEXT
        )
        if added is None:
            return
        meetup_id, channel_id, in_minutes = added
        await deps.scheduler.changed()  # an action's due-date reminder
        if in_minutes:
            await present.refresh_minutes(deps, team_id, meetup_id)
        else:  # the meetup is still on: its minutes are written at the close
            await present.tell(deps, channel_id, user_of(body), blocks.takeaway_noted_text())

    jobs.register(deps)
