"""Slack listeners for /lean-coffee: thin glue between Slack payloads and the service.

Each listener parses what Slack sent, runs one unit of work, acknowledges, and asks the
presenter to show the result. Votes are written before they are acknowledged, so a click
Slack saw acknowledged is a click that was stored.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Deps
from bot.blocks import lean_coffee as blocks
from bot.blocks.common import escape_mrkdwn
from bot.blocks import lean_coffee_notes as notes
from bot.blocks.lean_coffee_forms import (
    FormErrors,
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
from bot.services.lean_coffee import Actor, StartOptions
from bot.services.lean_coffee_types import KeepGoingChoice
from bot.state import LeanCoffeeModal, PollRef, SessionRef, TopicMenuChoice, TopicRef

logger = logging.getLogger(__name__)

COMMAND = "/lean-coffee"
SUBCOMMANDS = ("help", "minutes", "history")


def actor_for(client: AsyncWebClient, team_id: str, user_id: str) -> Actor:
    """The acting person; whether they are a workspace admin is asked of Slack only if needed."""

    async def is_admin() -> bool:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError:
            return False
        user = response.get("user") or {}
        return bool(user.get("is_admin") or user.get("is_owner"))

    return Actor(team_id=team_id, user_id=user_id, is_admin=is_admin)


def _team_id(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict):
        return str(team["id"])
    return str(body.get("team_id") or body["user"]["team_id"])


def _user_id(body: dict[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user["id"])
    return str(body["user_id"])


def _channel_id(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict):
        return str(channel["id"])
    return body.get("channel_id")


async def check_channel(client: AsyncWebClient, body: dict[str, Any]) -> str:
    """Make sure a command came from a channel hearth can post in; say what to do if not."""
    channel_id = str(body["channel_id"])
    if body.get("channel_name") == "directmessage" or channel_id.startswith("D"):
        raise Conflict(
            "Lean Coffee happens in a channel, so everyone can see the board. "
            "Run `/lean-coffee` in your community's channel."
        )
    invite = (
        "I'm not in this channel yet, so I can't post the board here. "
        "Invite me with `/invite @hearth`, then try again."
    )
    try:
        response = await client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
            raise Conflict(invite) from None
        raise
    if not response["channel"].get("is_member", False):
        raise Conflict(invite)
    return channel_id


def _session_and_topic(value: str | None) -> TopicRef:
    """Board buttons carry a session, and those about a topic carry the topic too."""
    try:
        return TopicRef.decode(value)
    except DomainError:
        session = SessionRef.decode(value)
        return TopicRef(s=session.s, t=0)


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    # --- the command ----------------------------------------------------------------------

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        text = str(body.get("text") or "").strip()
        word = text.lower()
        team_id, user_id = _team_id(body), _user_id(body)
        if word == "help":
            await respond(text="How /lean-coffee works", blocks=blocks.help_blocks())
            return
        channel_id = await check_channel(client, body)
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
            await respond(
                text="Past Lean Coffees in this channel", blocks=blocks.history_blocks(entries)
            )
            return
        async with sessionmaker() as session:
            running = await service.running_session(session, team_id, channel_id)
        if not text:
            if running is not None:
                raise Conflict(
                    "A Lean Coffee is already running in this channel: the board is just above. "
                    "Add a topic with `/lean-coffee` followed by your topic."
                )
            await client.views_open(
                trigger_id=body["trigger_id"], view=blocks.start_modal(channel_id)
            )
            return
        if running is None:
            raise Conflict(
                "No Lean Coffee is running in this channel. Start one with `/lean-coffee`, "
                "then add your topic."
            )
        typed = parse_topic_text(text)
        title = typed.title
        async with sessionmaker.begin() as session:
            lc = await service.get_session(session, team_id, running.id)
            actor = actor_for(client, team_id, user_id)
            await service.propose_topic(session, actor, lc, title, typed.detail, deps.clock.now())
        present.request_board_refresh(deps, team_id, running.id)
        await respond(text=f"Thanks! Your topic is on the board: *{escape_mrkdwn(title)}*")

    # --- starting ---------------------------------------------------------------------------

    @app.view(LeanCoffeeView.START)
    async def start_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        try:
            form = StartForm.from_state(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id, user_id = _team_id(body), _user_id(body)
        options = StartOptions(
            title=form.title,
            votes_per_person=form.votes_per_person,
            timebox_minutes=form.timebox_minutes,
            extension_minutes=tuple(form.extension_minutes),
            anonymous_topics=form.anonymous_topics,
        )
        try:
            async with sessionmaker.begin() as session:
                lc = await service.start_session(
                    session,
                    actor_for(client, team_id, user_id),
                    meta.channel,
                    options,
                    deps.clock.now(),
                )
                session_id = lc.id
        except DomainError as exc:
            await ack(response_action="errors", errors={LeanCoffeeBlock.TITLE: exc.message})
            return
        await ack()
        await present.post_board(deps, team_id, session_id)

    # --- proposing, editing, withdrawing, merging ----------------------------------------

    @app.action(LeanCoffeeAction.PROPOSE)
    async def propose_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref = SessionRef.decode(action.get("value"))
        async with sessionmaker() as session:
            lc = await service.get_session(session, _team_id(body), ref.s)
        if lc.status == "ended":
            raise Conflict("This Lean Coffee has ended. Start a new one with `/lean-coffee`.")
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.propose_modal(meta))

    @app.view(LeanCoffeeView.PROPOSE)
    async def propose_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        try:
            form = TopicForm.from_state(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = _team_id(body)
        assert meta.s is not None
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, meta.s)
                await service.propose_topic(
                    session,
                    actor_for(client, team_id, _user_id(body)),
                    lc,
                    form.title,
                    form.detail,
                    deps.clock.now(),
                )
        except DomainError as exc:
            await ack(response_action="errors", errors={LeanCoffeeBlock.TOPIC_TITLE: exc.message})
            return
        await ack()
        present.request_board_refresh(deps, team_id, meta.s)

    @app.action(LeanCoffeeAction.TOPIC_MENU)
    async def topic_menu(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        choice = TopicMenuChoice.decode(action["selected_option"]["value"])
        team_id, user_id = _team_id(body), _user_id(body)
        actor = actor_for(client, team_id, user_id)
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, choice.s)
            topics = await service.session_topics(session, lc)
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id, t=choice.t)
        topic = next((t for t in topics if t.id == choice.t), None)
        if topic is None:
            raise Conflict("That topic is no longer on the board.")
        if choice.do == LeanCoffeeTopicMenu.EDIT:
            async with sessionmaker() as session:
                await service.check_can_change_topic(session, actor, lc, choice.t, "edit")
            await client.views_open(
                trigger_id=body["trigger_id"], view=blocks.propose_modal(meta, topic)
            )
        elif choice.do == LeanCoffeeTopicMenu.WITHDRAW:
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
        elif choice.do == LeanCoffeeTopicMenu.MERGE:
            async with sessionmaker() as session:
                await service.check_facilitator(session, actor, lc, "merge topics")
            candidates = [t for t in topics if t.state == "open" and t.id != topic.id]
            if not candidates:
                raise Conflict("There is no other waiting topic to merge this one into.")
            await client.views_open(
                trigger_id=body["trigger_id"], view=blocks.merge_modal(meta, topic, candidates)
            )
        elif choice.do == LeanCoffeeTopicMenu.TAKEAWAY:
            await client.views_open(
                trigger_id=body["trigger_id"], view=blocks.takeaway_modal(meta, topics, topic.id)
            )

    @app.view(LeanCoffeeView.EDIT_TOPIC)
    async def edit_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        try:
            form = TopicForm.from_state(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = _team_id(body)
        assert meta.s is not None and meta.t is not None
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, meta.s)
                await service.edit_topic(
                    session,
                    actor_for(client, team_id, _user_id(body)),
                    lc,
                    meta.t,
                    form.title,
                    form.detail,
                )
        except DomainError as exc:
            await ack(response_action="errors", errors={LeanCoffeeBlock.TOPIC_TITLE: exc.message})
            return
        await ack()
        present.request_board_refresh(deps, team_id, meta.s)

    @app.view(LeanCoffeeView.MERGE)
    async def merge_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        try:
            form = MergeForm.from_state(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = _team_id(body)
        assert meta.s is not None and meta.t is not None
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, meta.s)
                await service.merge_topics(
                    session, actor_for(client, team_id, _user_id(body)), lc, meta.t, form.topic_id
                )
        except DomainError as exc:
            await ack(response_action="errors", errors={LeanCoffeeBlock.MERGE_INTO: exc.message})
            return
        await ack()
        present.request_board_refresh(deps, team_id, meta.s)

    # --- voting -----------------------------------------------------------------------------

    async def _dot(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        *,
        add: bool,
    ) -> None:
        ref = TopicRef.decode(action.get("value"))
        team_id, user_id = _team_id(body), _user_id(body)
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, ref.s)
                channel_id = lc.channel_id
                actor = actor_for(client, team_id, user_id)
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
            await _refresh_all_topics(body, client, team_id, ref.s)

    @app.action(LeanCoffeeAction.VOTE)
    async def vote_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await _dot(ack, body, action, client, add=True)

    @app.action(LeanCoffeeAction.UNVOTE)
    async def unvote_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await _dot(ack, body, action, client, add=False)

    async def _refresh_all_topics(
        body: dict[str, Any],
        client: AsyncWebClient,
        team_id: str,
        session_id: int,
        page: int | None = None,
    ) -> None:
        view = body["view"]
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, session_id)
            board = await service.board_view(session, lc)
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=blocks.all_topics_modal(board, page=meta.page if page is None else page),
        )

    @app.action(LeanCoffeeAction.SHOW_ALL_TOPICS)
    async def show_all(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref = SessionRef.decode(action.get("value"))
        async with sessionmaker() as session:
            lc = await service.get_session(session, _team_id(body), ref.s)
            board = await service.board_view(session, lc)
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.all_topics_modal(board))

    @app.action(LeanCoffeeAction.ALL_TOPICS_PAGE)
    async def all_topics_page(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        meta = LeanCoffeeModal.decode(action.get("value"))
        assert meta.s is not None
        await _refresh_all_topics(body, client, _team_id(body), meta.s, page=meta.page)

    # --- running the discussion ------------------------------------------------------------

    async def _facilitate(
        body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, what: str
    ) -> None:
        ref = _session_and_topic(action.get("value"))
        team_id, user_id = _team_id(body), _user_id(body)
        actor = actor_for(client, team_id, user_id)
        now = deps.clock.now()
        note: str | None = None
        async with sessionmaker.begin() as session:
            lc = await service.get_session(session, team_id, ref.s)
            if what == "close":
                await service.close_voting(session, actor, lc, now)
                note = notes.voting_closed_text()
            elif what == "next":
                topic = await service.start_next_topic(session, actor, lc, now)
                note = notes.now_discussing_text(topic.title, topic.discussion_ends_at)
            elif what == "move_on":
                topic = await service.move_on(session, actor, lc, now, ref.t or None)
                board = await service.board_view(session, lc)
                note = notes.moved_on_text(board)
            elif what == "extend":
                topic, minutes = await service.extend_topic(session, actor, lc, now, ref.t or None)
                board = await service.board_view(session, lc)
                assert board.discussing is not None
                note = notes.extended_text(board.discussing, minutes)
        await deps.scheduler.changed()
        present.request_board_refresh(deps, team_id, ref.s)
        await _redraw_open_polls(team_id, ref.s)
        if note:
            await present.post_in_thread(deps, team_id, ref.s, note)

    async def _redraw_open_polls(team_id: str, session_id: int) -> None:
        async with sessionmaker() as session:
            poll_ids = await service.poll_ids(session, team_id, session_id)
        for poll_id in poll_ids:
            present.request_poll_refresh(deps, team_id, poll_id)

    @app.action(LeanCoffeeAction.CLOSE_VOTING)
    async def close_voting(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _facilitate(body, action, client, "close")

    @app.action(LeanCoffeeAction.START_NEXT)
    async def start_next(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _facilitate(body, action, client, "next")

    @app.action(LeanCoffeeAction.MOVE_ON)
    async def move_on(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _facilitate(body, action, client, "move_on")

    @app.action(LeanCoffeeAction.EXTEND)
    async def extend(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _facilitate(body, action, client, "extend")

    @app.action(LeanCoffeeAction.HAND_OVER)
    async def hand_over_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref = SessionRef.decode(action.get("value"))
        team_id = _team_id(body)
        actor = actor_for(client, team_id, _user_id(body))
        async with sessionmaker() as session:
            lc = await service.get_session(session, team_id, ref.s)
            await service.check_facilitator(session, actor, lc, "hand over facilitation")
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.hand_over_modal(meta, lc.facilitator_id)
        )

    @app.view(LeanCoffeeView.HAND_OVER)
    async def hand_over_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        try:
            form = HandOverForm.from_state(view["state"]["values"])
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = _team_id(body)
        assert meta.s is not None
        errors = await _reject_bot(client, form.user_id)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, meta.s)
                await service.hand_over(
                    session, actor_for(client, team_id, _user_id(body)), lc, form.user_id
                )
        except DomainError as exc:
            await ack(
                response_action="errors", errors={LeanCoffeeBlock.NEW_FACILITATOR: exc.message}
            )
            return
        await ack()
        present.request_board_refresh(deps, team_id, meta.s)
        await present.post_in_thread(
            deps, team_id, meta.s, notes.handed_over_text(_user_id(body), form.user_id)
        )

    async def _reject_bot(client: AsyncWebClient, user_id: str) -> dict[str, str]:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError:
            return {LeanCoffeeBlock.NEW_FACILITATOR: "I can't find that person. Pick someone else."}
        user = response.get("user") or {}
        if user.get("is_bot") or user.get("deleted"):
            return {
                LeanCoffeeBlock.NEW_FACILITATOR: (
                    "Pick a person: bots and deactivated accounts can't facilitate."
                )
            }
        return {}

    @app.action(LeanCoffeeAction.END_SESSION)
    async def end_session(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref = SessionRef.decode(action.get("value"))
        team_id = _team_id(body)
        async with sessionmaker.begin() as session:
            lc = await service.get_session(session, team_id, ref.s)
            minutes = await service.end_session(
                session, actor_for(client, team_id, _user_id(body)), lc, deps.clock.now()
            )
        await deps.scheduler.changed()
        await present.refresh_board(deps, team_id, ref.s)
        await _redraw_open_polls(team_id, ref.s)
        await present.post_minutes(deps, team_id, minutes)

    # --- takeaways --------------------------------------------------------------------------

    @app.action(LeanCoffeeAction.ADD_TAKEAWAY)
    async def add_takeaway_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref = _session_and_topic(action.get("value"))
        async with sessionmaker() as session:
            lc = await service.get_session(session, _team_id(body), ref.s)
            if lc.status == "ended":
                raise Conflict("This Lean Coffee has ended, so its minutes are final.")
            topics = await service.session_topics(session, lc)
            board = await service.board_view(session, lc)
        if not topics:
            raise Conflict("There are no topics yet to add a takeaway to.")
        selected = ref.t or (board.discussing.id if board.discussing else None)
        meta = LeanCoffeeModal(channel=lc.channel_id, s=lc.id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.takeaway_modal(meta, topics, selected)
        )

    @app.view(LeanCoffeeView.TAKEAWAY)
    async def takeaway_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = LeanCoffeeModal.decode(view.get("private_metadata"))
        try:
            form = TakeawayForm.from_state(view["state"]["values"], today=deps.clock.now().date())
        except FormErrors as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        team_id = _team_id(body)
        assert meta.s is not None
        try:
            async with sessionmaker.begin() as session:
                lc = await service.get_session(session, team_id, meta.s)
                await service.add_takeaway(
                    session,
                    actor_for(client, team_id, _user_id(body)),
                    lc,
                    form.topic_id,
                    form.text,
                    is_action=form.is_action,
                    owner_id=form.owner_id,
                    due_date=form.due_date,
                    now=deps.clock.now(),
                )
        except DomainError as exc:
            await ack(response_action="errors", errors={LeanCoffeeBlock.TAKEAWAY_TEXT: exc.message})
            return
        await ack()
        present.request_board_refresh(deps, team_id, meta.s)

    # --- "Keep going?" ------------------------------------------------------------------------

    async def _poll_vote(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        choice: KeepGoingChoice,
    ) -> None:
        ref = PollRef.decode(action.get("value"))
        team_id, user_id = _team_id(body), _user_id(body)
        try:
            async with sessionmaker.begin() as session:
                await service.vote_on_poll(
                    session, actor_for(client, team_id, user_id), ref.p, choice, deps.clock.now()
                )
        finally:
            await ack()
        present.request_poll_refresh(deps, team_id, ref.p)
        channel_id = _channel_id(body)
        if channel_id:
            await present.tell(deps, channel_id, user_id, notes.poll_vote_receipt_text(choice))

    @app.action(LeanCoffeeAction.KEEP_GOING)
    async def keep_going(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await _poll_vote(ack, body, action, client, KeepGoingChoice.KEEP_GOING)

    @app.action(LeanCoffeeAction.EITHER_WAY)
    async def either_way(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await _poll_vote(ack, body, action, client, KeepGoingChoice.EITHER_WAY)

    @app.action(LeanCoffeeAction.WANT_MOVE_ON)
    async def want_move_on(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await _poll_vote(ack, body, action, client, KeepGoingChoice.MOVE_ON)

    @app.action(LeanCoffeeAction.DECIDE_NOW)
    async def decide_now(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref = PollRef.decode(action.get("value"))
        team_id = _team_id(body)
        decision = await jobs.decide_poll(
            deps, team_id, ref.p, actor=actor_for(client, team_id, _user_id(body))
        )
        if decision is None:
            raise Conflict("That vote has already been decided.")
        await deps.scheduler.changed()

    # Start-up and scheduled work.
    jobs.register(deps)
