"""Slack listeners for /lean-coffee: thin glue between Slack payloads and the service.

Each listener parses what Slack sent, runs one unit of work, acknowledges, and asks the
presenter to show the result. Votes are written before they are acknowledged, so a click
Slack saw acknowledged is a click that was stored. Anything a person got wrong is raised as a
`DomainError` and explained privately by `handlers.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from bot.blocks import lean_coffee as blocks
from bot.blocks import lean_coffee_notes as notes
from bot.blocks.common import escape_mrkdwn
from bot.blocks.lean_coffee_forms import (
    HandOverForm,
    MergeForm,
    StartForm,
    TakeawayForm,
    TopicForm,
    parse_topic_text,
)
from bot.errors import Conflict, DomainError
from bot.ids import LeanCoffeeAction, LeanCoffeeBlock, LeanCoffeeTopicMenu, LeanCoffeeView
from bot.jobs import lean_coffee as jobs
from bot.presenters import lean_coffee as present
from bot.services import lean_coffee as service
from bot.services import rota as rota_service
from bot.services.lean_coffee import Actor, StartOptions
from bot.services.lean_coffee_types import KeepGoingChoice, SessionStatus, TopicState
from bot.state import LeanCoffeeModal, PollRef, SessionRef, TopicMenuChoice, TopicRef
from handlers.listeners import on_button, require_person, submit_modal
from handlers.slack_payloads import Body, actor_for, channel_of, check_channel, team_of, user_of
from models.lean_coffee import LeanCoffeeSession

logger = logging.getLogger(__name__)

COMMAND = "/lean-coffee"


# --- reading Slack payloads ---------------------------------------------------------------


def session_and_topic(value: str | None) -> TopicRef:
    """Board buttons carry a session; those about one topic carry the topic too (else t=0)."""
    try:
        return TopicRef.decode(value)
    except DomainError:
        return TopicRef(s=SessionRef.decode(value).s, t=0)


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    async def submit_to_session(
        ack: AsyncAck,
        body: Body,
        view: Body,
        client: AsyncWebClient,
        *,
        parse: Callable[[dict[str, Any]], Any],
        error_block: LeanCoffeeBlock,
        doing: str,
        work: Callable[[AsyncSession, LeanCoffeeSession, Actor, Any], Awaitable[None]],
    ) -> LeanCoffeeModal | None:
        """Answer a Lean Coffee modal: run `work` on its session (once the person is known to
        be allowed in its channel; `doing` words a refusal), then redraw the board. Returns the
        modal's context when it was saved (None when it showed field errors)."""
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))

        async def on_session(
            session: AsyncSession, meta: LeanCoffeeModal, form: Any
        ) -> LeanCoffeeModal:
            if meta.s is None:
                raise Conflict("That form lost track of its Lean Coffee. Please open it again.")
            lc = await service.get_session(session, team_id, meta.s)
            await deps.access.require(actor, lc.channel_id, doing)
            await work(session, lc, actor, form)
            return meta

        meta = await submit_modal(
            ack,
            view,
            sessionmaker,
            carried=LeanCoffeeModal,
            parse=parse,
            work=on_session,
            error_block=error_block,
        )
        if meta is not None and meta.s is not None:
            deps.outbox.kick()
            present.request_board_refresh(deps, team_id, meta.s)
        return meta

    async def session_of_poll(team_id: str, poll_id: int) -> LeanCoffeeSession:
        """The session a "Keep going?" poll belongs to (a short read, before any write)."""
        async with sessionmaker() as session:
            poll = await service.get_poll(session, team_id, poll_id)
            return await service.get_session(session, team_id, poll.session_id)

    async def redraw_polls(team_id: str, session_id: int) -> None:
        async with sessionmaker() as session:
            poll_ids = await service.poll_ids(session, team_id, session_id)
        for poll_id in poll_ids:
            present.request_poll_refresh(deps, team_id, poll_id)

    # --- the command ----------------------------------------------------------------------

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        text = str(body.get("text") or "").strip()
        word = text.lower()
        # A topic is acknowledged only once it is stored (an acknowledged topic is a kept
        # one); everything else only reads, so it is acknowledged at once.
        proposing = bool(text) and word not in ("help", "minutes", "history")
        if not proposing:
            await ack()
        team_id, user_id = team_of(body), user_of(body)
        if word == "help":
            await respond(text=blocks.help_text(), blocks=blocks.help_blocks())
            return
        channel_id = await check_channel(client, body)
        actor = actor_for(client, team_id, user_id)
        await deps.access.require(actor, channel_id, "use Lean Coffee")
        if word == "minutes":
            async with sessionmaker() as session:
                minutes = await service.last_minutes(session, team_id, channel_id)
            if minutes is None:
                await respond(
                    text="There are no Lean Coffee minutes in this channel yet. "
                    "They're kept here when a session ends."
                )
                return
            for chunk in blocks.minutes_messages(minutes):
                await respond(text=blocks.minutes_text(minutes), blocks=chunk)
            return
        if word == "history":
            async with sessionmaker() as session:
                entries = await service.history(session, team_id, channel_id)
            await respond(text=blocks.history_text(entries), blocks=blocks.history_blocks(entries))
            return
        async with sessionmaker() as session:
            running = await service.running_session(session, team_id, channel_id)
        if not text:
            if running is not None:
                where = (
                    "the board is above"
                    if running.board_ts is not None
                    else "its board will appear as soon as Slack takes it"
                )
                raise Conflict(
                    f"A Lean Coffee is already running in this channel: {where}. "
                    "Add a topic with `/lean-coffee` followed by your topic."
                )
            # A meetup on the channel's rota now (or soon): its facilitator leads by default.
            async with sessionmaker() as session:
                on_rota = await rota_service.current_facilitator(
                    session, team_id, channel_id, deps.clock.now()
                )
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=blocks.start_modal(
                    channel_id, on_rota or user_id, from_rota=on_rota is not None
                ),
            )
            return
        if running is None:
            raise Conflict(
                "No Lean Coffee is running in this channel. Start one with `/lean-coffee`, "
                "then add your topic."
            )
        typed = parse_topic_text(text)
        async with sessionmaker.begin() as session:
            lc = await service.get_session(session, team_id, running.id)
            await service.propose_topic(
                session, actor, lc, typed.title, typed.detail, deps.clock.now()
            )
        await ack(text=f"Thanks! Your topic is on the board: *{escape_mrkdwn(typed.title)}*")
        present.request_board_refresh(deps, team_id, running.id)

    # --- starting ---------------------------------------------------------------------------

    @app.view(LeanCoffeeView.START)
    async def start_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        team_id, user_id = team_of(body), user_of(body)

        async def work(
            session: AsyncSession, meta: LeanCoffeeModal, form: StartForm
        ) -> tuple[int, str]:
            actor = actor_for(client, team_id, user_id)
            # The channel is the modal's claim: someone may start one only where they may act.
            await deps.access.require(actor, meta.channel, "start a Lean Coffee")
            if form.facilitator_id and form.facilitator_id != user_id:
                await require_person(client, form.facilitator_id, LeanCoffeeBlock.FACILITATOR)
            options = StartOptions(
                title=form.title,
                votes_per_person=form.votes_per_person,
                timebox_minutes=form.timebox_minutes,
                extension_minutes=tuple(form.extension_minutes),
                anonymous_topics=form.anonymous_topics,
                facilitator_id=form.facilitator_id,
            )
            now = deps.clock.now()
            lc = await service.start_session(session, actor, meta.channel, options, now)
            await present.owe_board(session, team_id, lc, now)
            return lc.id, lc.channel_id

        started = await submit_modal(
            ack,
            view,
            sessionmaker,
            carried=LeanCoffeeModal,
            parse=StartForm.from_state,
            work=work,
            error_block=LeanCoffeeBlock.TITLE,
        )
        if started is not None:
            deps.outbox.kick()

    # --- proposing, editing, withdrawing, merging ----------------------------------------

    @on_button(app, LeanCoffeeAction.PROPOSE)
    async def propose_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = SessionRef.decode(action.get("value"))
        team_id = team_of(body)
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, ref.s)
        actor = actor_for(client, team_id, user_of(body))
        await deps.access.require(actor, lc.channel_id, "propose a topic")
        if lc.status == SessionStatus.ENDED:
            raise Conflict("This Lean Coffee has ended. Start a new one with `/lean-coffee`.")
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.propose_modal(meta))

    @app.view(LeanCoffeeView.PROPOSE)
    async def propose_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        async def work(
            session: AsyncSession, lc: LeanCoffeeSession, actor: Actor, form: TopicForm
        ) -> None:
            await service.propose_topic(
                session, actor, lc, form.title, form.detail, deps.clock.now()
            )

        await submit_to_session(
            ack,
            body,
            view,
            client,
            parse=TopicForm.from_state,
            error_block=LeanCoffeeBlock.TOPIC_TITLE,
            doing="propose a topic",
            work=work,
        )

    @on_button(app, LeanCoffeeAction.TOPIC_MENU)
    async def topic_menu(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        choice = TopicMenuChoice.decode(action["selected_option"]["value"])
        team_id, user_id = team_of(body), user_of(body)
        actor = actor_for(client, team_id, user_id)
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, choice.s)
            await deps.access.require(actor, lc.channel_id, "change topics")
            topics = await service.session_topics(session, lc)
            topic = next((t for t in topics if t.id == choice.t), None)
            if topic is None:
                raise Conflict("That topic is no longer on the board.")
            if choice.do == LeanCoffeeTopicMenu.EDIT:
                await service.check_can_change_topic(session, actor, lc, choice.t, "edit")
            elif choice.do == LeanCoffeeTopicMenu.MERGE:
                await service.check_facilitator(session, actor, lc, "merge topics")
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id, t=choice.t)
        if choice.do == LeanCoffeeTopicMenu.EDIT:
            view = blocks.propose_modal(meta, topic)
        elif choice.do == LeanCoffeeTopicMenu.MERGE:
            candidates = [t for t in topics if t.state == TopicState.OPEN and t.id != topic.id]
            if not candidates:
                raise Conflict("There is no other waiting topic to merge this one into.")
            view = blocks.merge_modal(meta, topic, candidates)
        elif choice.do == LeanCoffeeTopicMenu.TAKEAWAY:
            view = blocks.takeaway_modal(meta, topics, topic.id)
        else:  # withdraw: no modal needed
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, choice.s)
                await service.withdraw_topic(session, actor, lc, choice.t)
            present.request_board_refresh(deps, team_id, choice.s)
            await present.tell(
                deps,
                lc.channel_id,
                user_id,
                f"Withdrawn: *{escape_mrkdwn(topic.title)}*. "
                "Any dots on it went back to the people who placed them.",
            )
            return
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(LeanCoffeeView.EDIT_TOPIC)
    async def edit_submitted(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        topic_id = LeanCoffeeModal.decode(view.get("private_metadata")).t or 0

        async def work(
            session: AsyncSession, lc: LeanCoffeeSession, actor: Actor, form: TopicForm
        ) -> None:
            await service.edit_topic(session, actor, lc, topic_id, form.title, form.detail)

        await submit_to_session(
            ack,
            body,
            view,
            client,
            parse=TopicForm.from_state,
            error_block=LeanCoffeeBlock.TOPIC_TITLE,
            doing="edit topics",
            work=work,
        )

    @app.view(LeanCoffeeView.MERGE)
    async def merge_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        duplicate_id = LeanCoffeeModal.decode(view.get("private_metadata")).t or 0

        async def work(
            session: AsyncSession, lc: LeanCoffeeSession, actor: Actor, form: MergeForm
        ) -> None:
            await service.merge_topics(session, actor, lc, duplicate_id, form.topic_id)

        await submit_to_session(
            ack,
            body,
            view,
            client,
            parse=MergeForm.from_state,
            error_block=LeanCoffeeBlock.MERGE_INTO,
            doing="merge topics",
            work=work,
        )

    # --- voting -----------------------------------------------------------------------------

    async def place_dot(
        body: Body, action: Body, client: AsyncWebClient, ack: AsyncAck, *, add: bool
    ) -> None:
        ref = TopicRef.decode(action.get("value"))
        team_id, user_id = team_of(body), user_of(body)
        actor = actor_for(client, team_id, user_id)
        # Asked before the write, so a vote's transaction never waits on Slack.
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, ref.s)
        await deps.access.require(actor, lc.channel_id, "vote")
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, ref.s)
                channel_id = lc.channel_id
                if add:
                    receipt = await service.vote(session, actor, lc, ref.t, deps.clock.now())
                else:
                    receipt = await service.unvote(session, actor, lc, ref.t)
        finally:
            # Acknowledged only once the dot is stored (or refused).
            await ack()
        present.request_board_refresh(deps, team_id, ref.s)
        await present.tell(
            deps, channel_id, user_id, blocks.vote_receipt_text(receipt, removed=not add)
        )
        if body.get("view"):
            await show_all_topics_page(body, client, team_id, ref.s)

    # Votes are acknowledged only once stored, so they don't go through `on_button`.
    @app.action(LeanCoffeeAction.VOTE)
    async def vote_clicked(ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient) -> None:
        await place_dot(body, action, client, ack, add=True)

    @app.action(LeanCoffeeAction.UNVOTE)
    async def unvote_clicked(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient
    ) -> None:
        await place_dot(body, action, client, ack, add=False)

    async def show_all_topics_page(
        body: Body, client: AsyncWebClient, team_id: str, session_id: int, page: int | None = None
    ) -> None:
        """Redraw the "all topics" modal the person is looking at (after a vote, or paging)."""
        view = body["view"]
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        actor = actor_for(client, team_id, user_of(body))
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, session_id)
            await deps.access.require(actor, lc.channel_id, "see its topics")
            board = await service.board_view(session, lc)
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=blocks.all_topics_modal(board, page=meta.page if page is None else page),
        )

    @on_button(app, LeanCoffeeAction.SHOW_ALL_TOPICS)
    async def show_all(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = SessionRef.decode(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, ref.s)
            await deps.access.require(actor, lc.channel_id, "see its topics")
            board = await service.board_view(session, lc)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.all_topics_modal(board))

    @on_button(app, LeanCoffeeAction.ALL_TOPICS_PAGE)
    async def all_topics_page(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        target = LeanCoffeeModal.decode(action.get("value"))
        if target.s is None:
            raise Conflict("That page button lost its place. Close the list and open it again.")
        await show_all_topics_page(body, client, team_of(body), target.s, page=target.page)

    # --- running the discussion ------------------------------------------------------------

    async def facilitate(
        body: Body, action: Body, client: AsyncWebClient, step: LeanCoffeeAction
    ) -> None:
        """Close voting, start the next topic, move on or extend: the facilitator's buttons."""
        ref = session_and_topic(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        now = deps.clock.now()
        shown_topic = ref.t or None
        async with sessionmaker.begin() as session:
            lc = await service.get_session(session, team_id, ref.s)
            await deps.access.require(actor, lc.channel_id, "run this Lean Coffee")
            if step == LeanCoffeeAction.CLOSE_VOTING:
                await service.close_voting(session, actor, lc, now)
                note = notes.voting_closed_text()
            elif step == LeanCoffeeAction.START_NEXT:
                topic = await service.start_next_topic(session, actor, lc, now)
                note = notes.now_discussing_text(topic.title, topic.discussion_ends_at)
            elif step == LeanCoffeeAction.MOVE_ON:
                await service.move_on(session, actor, lc, now, shown_topic)
                note = notes.moved_on_text(await service.board_view(session, lc))
            else:
                _, minutes = await service.extend_topic(session, actor, lc, now, shown_topic)
                board = await service.board_view(session, lc)
                assert board.discussing is not None
                note = notes.extended_text(board.discussing, minutes)
            await present.owe_note(session, team_id, lc, note, now)
        deps.outbox.kick()
        await deps.scheduler.changed()
        present.request_board_refresh(deps, team_id, ref.s)
        await redraw_polls(team_id, ref.s)

    def facilitator_button(step: LeanCoffeeAction) -> None:
        @on_button(app, step)
        async def clicked(
            body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
        ) -> None:
            await facilitate(body, action, client, step)

    for step in (
        LeanCoffeeAction.CLOSE_VOTING,
        LeanCoffeeAction.START_NEXT,
        LeanCoffeeAction.MOVE_ON,
        LeanCoffeeAction.EXTEND,
    ):
        facilitator_button(step)

    @on_button(app, LeanCoffeeAction.HAND_OVER)
    async def hand_over_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = SessionRef.decode(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, ref.s)
            await deps.access.require(actor, lc.channel_id, "hand over facilitation")
            await service.check_facilitator(session, actor, lc, "hand over facilitation")
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.hand_over_modal(meta, lc.facilitator_id)
        )

    @app.view(LeanCoffeeView.HAND_OVER)
    async def hand_over_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        async def work(
            session: AsyncSession, lc: LeanCoffeeSession, actor: Actor, form: HandOverForm
        ) -> None:
            await require_person(client, form.user_id, LeanCoffeeBlock.NEW_FACILITATOR)
            await service.hand_over(session, actor, lc, form.user_id)
            note = notes.handed_over_text(actor.user_id, form.user_id)
            await present.owe_note(session, team_of(body), lc, note, deps.clock.now())

        await submit_to_session(
            ack,
            body,
            view,
            client,
            parse=HandOverForm.from_state,
            error_block=LeanCoffeeBlock.NEW_FACILITATOR,
            doing="hand over facilitation",
            work=work,
        )

    @on_button(app, LeanCoffeeAction.END_SESSION)
    async def end_session(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = SessionRef.decode(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        now = deps.clock.now()
        async with sessionmaker.begin() as session:
            lc = await service.get_session(session, team_id, ref.s)
            await deps.access.require(actor, lc.channel_id, "end this Lean Coffee")
            minutes = await service.end_session(session, actor, lc, now)
            await present.owe_minutes(session, team_id, minutes, now)
        deps.outbox.kick()
        await deps.scheduler.changed()
        await present.refresh_board(deps, team_id, ref.s)
        await redraw_polls(team_id, ref.s)

    # --- takeaways --------------------------------------------------------------------------

    @on_button(app, LeanCoffeeAction.ADD_TAKEAWAY)
    async def add_takeaway_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = session_and_topic(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, ref.s)
            await deps.access.require(actor, lc.channel_id, "add a takeaway")
            if lc.status == SessionStatus.ENDED:
                raise Conflict("This Lean Coffee has ended, so its minutes are final.")
            topics = await service.session_topics(session, lc)
        if not topics:
            raise Conflict("There are no topics yet to add a takeaway to.")
        current = next((t.id for t in topics if t.state == TopicState.DISCUSSING), None)
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.takeaway_modal(meta, topics, ref.t or current),
        )

    @app.view(LeanCoffeeView.TAKEAWAY)
    async def takeaway_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        async def work(
            session: AsyncSession, lc: LeanCoffeeSession, actor: Actor, form: TakeawayForm
        ) -> None:
            await service.add_takeaway(
                session,
                actor,
                lc,
                form.topic_id,
                form.text,
                is_action=form.is_action,
                owner_id=form.owner_id,
                due_date=form.due_date,
                now=deps.clock.now(),
            )

        def parse(values: dict[str, Any]) -> TakeawayForm:
            return TakeawayForm.from_state(values, today=deps.clock.now().date())

        await submit_to_session(
            ack,
            body,
            view,
            client,
            parse=parse,
            error_block=LeanCoffeeBlock.TAKEAWAY_TEXT,
            doing="add a takeaway",
            work=work,
        )

    # --- "Keep going?" ------------------------------------------------------------------------

    def poll_button(action_id: LeanCoffeeAction, choice: KeepGoingChoice) -> None:
        @app.action(action_id)  # acknowledged once the vote is stored
        async def clicked(ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient) -> None:
            ref = PollRef.decode(action.get("value"))
            team_id, user_id = team_of(body), user_of(body)
            actor = actor_for(client, team_id, user_id)
            lc = await session_of_poll(team_id, ref.p)  # asked before the write, as for dots
            await deps.access.require(actor, lc.channel_id, "vote on keeping going")
            try:
                async with sessionmaker.begin() as session:
                    await service.vote_on_poll(session, actor, ref.p, choice, deps.clock.now())
            finally:
                await ack()
            present.request_poll_refresh(deps, team_id, ref.p)
            channel_id = channel_of(body)
            if channel_id:
                await present.tell(deps, channel_id, user_id, notes.poll_vote_receipt_text(choice))

    poll_button(LeanCoffeeAction.KEEP_GOING, KeepGoingChoice.KEEP_GOING)
    poll_button(LeanCoffeeAction.EITHER_WAY, KeepGoingChoice.EITHER_WAY)
    poll_button(LeanCoffeeAction.WANT_MOVE_ON, KeepGoingChoice.MOVE_ON)

    @on_button(app, LeanCoffeeAction.DECIDE_NOW)
    async def decide_now(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = PollRef.decode(action.get("value"))
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        lc = await session_of_poll(team_id, ref.p)
        await deps.access.require(actor, lc.channel_id, "decide the vote")
        decision = await jobs.decide_poll(deps, team_id, ref.p, actor=actor)
        if decision is None:
            raise Conflict("That vote has already been decided.")
        await deps.scheduler.changed()

    # Scheduled work: time-boxes ending and polls deciding themselves.
    jobs.register(deps)
