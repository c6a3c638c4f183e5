"""Slack listeners for /meetup: thin glue between Slack payloads and the meetup service.

Replies are heard as `message` events in the prompts' threads (the app subscribes to
`message.channels` and `message.groups`): each is counted and kept as it arrives, so closing
a meetup never has to read long threads back from Slack, and anything posted after the close
is simply not recorded.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.blocks import meetup as blocks
from bot.blocks.common import FormErrors, unescape_slack
from bot.errors import Conflict, DomainError
from bot.ids import MeetupAction, MeetupBlock, MeetupView
from bot.jobs import meetup as jobs
from bot.presenters import meetup as present
from bot.services import meetup as service
from bot.services import rota as rota_service
from bot.state import ChatMeetupModal, ChatMeetupRef
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
# Plain replies, replies also sent to the channel, and replies with a file are heard;
# edits, deletions and the like are not.
HEARD_SUBTYPES = (None, "thread_broadcast", "file_share")
# Which modal input a service refusal belongs under.
FIELD_BLOCKS = {
    "prompts": MeetupBlock.PROMPTS,
    "length": MeetupBlock.LENGTH,
    "pace": MeetupBlock.PACE,
    "anon_prompt": MeetupBlock.ANON_PROMPT,
    "takeaway_text": MeetupBlock.TAKEAWAY_TEXT,
    "action_owner": MeetupBlock.ACTION_OWNER,
    "action_due": MeetupBlock.ACTION_DUE,
}


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        word = str(body.get("text") or "").strip().lower()
        if word == "help":
            await respond(text=blocks.help_text())
            return
        if word:
            await respond(
                text="Type `/meetup` on its own to start a chat meetup, or `/meetup help`."
            )
            return
        team_id, user_id = team_of(body), user_of(body)
        channel_id = await check_channel(client, body, in_a_dm=IN_A_DM, not_invited=NOT_INVITED)
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
        meta = ChatMeetupModal.decode(view.get("private_metadata"))
        try:
            options = blocks.parse_start(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = team_of(body)
        try:
            async with sessionmaker.begin() as session:
                meetup = await service.start(
                    session,
                    actor_for(client, team_id, user_of(body)),
                    meta.channel,
                    options,
                    deps.clock.now(),
                )
                meetup_id = meetup.id
        except DomainError as exc:
            block = FIELD_BLOCKS.get(exc.field or "", MeetupBlock.PROMPTS)
            await ack(response_action="errors", errors={block: exc.message})
            return
        await ack()
        await present.post_opening(deps, team_id, meetup_id)
        await jobs.run_due_now(deps, team_id, meetup_id)
        await deps.scheduler.changed()

    # --- replies in the threads ------------------------------------------------------------

    @app.event("message")
    async def message_posted(event: Body, body: Body) -> None:
        thread_ts = event.get("thread_ts")
        user_id = event.get("user")
        if (
            not thread_ts
            or thread_ts == event.get("ts")
            or event.get("subtype") not in HEARD_SUBTYPES
            or event.get("bot_id")
            or not user_id
        ):
            return
        team_id = str(event.get("team") or body.get("team_id") or "")
        async with sessionmaker.begin() as session:
            await service.record_reply(
                session,
                team_id,
                str(event.get("channel")),
                str(thread_ts),
                str(event["ts"]),
                str(user_id),
                unescape_slack(str(event.get("text") or "")),
                deps.clock.now(),
            )

    # --- posting anonymously ------------------------------------------------------------------

    @app.action(MeetupAction.POST_ANONYMOUSLY)
    async def anonymous_clicked(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = ChatMeetupRef.decode(action.get("value"))
        state = await present.snapshot(deps, team_of(body), ref.m)
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
        # Who sent this is never stored or logged: only the text and the thread are used.
        meta = ChatMeetupModal.decode(view.get("private_metadata"))
        try:
            form = blocks.parse_anonymous(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = team_of(body)
        try:
            if meta.m is None:
                raise Conflict("That form lost track of its meetup. Please open it again.")
            async with sessionmaker() as session:
                channel_id, thread_ts = await service.anonymous_target(
                    session, team_id, meta.m, form.prompt_id
                )
        except DomainError as exc:
            block = FIELD_BLOCKS.get(exc.field or "", MeetupBlock.ANON_TEXT)
            await ack(response_action="errors", errors={block: exc.message})
            return
        await ack()
        ts = await present.post_anonymously(deps, channel_id, thread_ts, form.text)
        async with sessionmaker.begin() as session:
            await service.record_anonymous(
                session, team_id, meta.m, form.prompt_id, ts, form.text, deps.clock.now()
            )

    # --- steering ----------------------------------------------------------------------------

    @app.action(MeetupAction.EXTEND)
    async def extend_clicked(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = ChatMeetupRef.decode(action.get("value"))
        team_id = team_of(body)
        async with sessionmaker.begin() as session:
            meetup = await service.get_meetup(session, team_id, ref.m)
            await service.extend(
                session, actor_for(client, team_id, user_of(body)), meetup, deps.clock.now()
            )
            ends_at = meetup.ends_at
        await deps.scheduler.changed()
        await present.refresh_opening(deps, team_id, ref.m)
        await present.post_in_opening_thread(deps, team_id, ref.m, blocks.extended_text(ends_at))

    @app.action(MeetupAction.END_NOW)
    async def end_clicked(ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient) -> None:
        await ack()
        ref = ChatMeetupRef.decode(action.get("value"))
        team_id = team_of(body)
        async with sessionmaker.begin() as session:
            minutes = await service.end(
                session,
                team_id,
                ref.m,
                deps.clock.now(),
                actor=actor_for(client, team_id, user_of(body)),
            )
        await deps.scheduler.changed()
        await jobs.finish(deps, team_id, minutes)

    # --- takeaways and actions -------------------------------------------------------------

    @app.action(MeetupAction.ADD_TAKEAWAY)
    async def takeaway_clicked(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = ChatMeetupRef.decode(action.get("value"))
        state = await present.snapshot(deps, team_of(body), ref.m)
        meta = ChatMeetupModal(channel=state.channel_id, m=state.id)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.takeaway_modal(meta))

    @app.view(MeetupView.TAKEAWAY)
    async def takeaway_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        meta = ChatMeetupModal.decode(view.get("private_metadata"))
        try:
            form = blocks.parse_takeaway(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = team_of(body)
        try:
            if meta.m is None:
                raise Conflict("That form lost track of its meetup. Please open it again.")
            async with sessionmaker.begin() as session:
                await service.add_takeaway(
                    session,
                    actor_for(client, team_id, user_of(body)),
                    meta.m,
                    form.text,
                    deps.clock.now(),
                    owner_id=form.owner_id,
                    due_date=form.due_date,
                )
        except DomainError as exc:
            block = FIELD_BLOCKS.get(exc.field or "", MeetupBlock.TAKEAWAY_TEXT)
            await ack(response_action="errors", errors={block: exc.message})
            return
        await ack()
        await present.refresh_minutes(deps, team_id, meta.m)

    jobs.register(deps)
