"""Slack listeners for /health-check: the command, the answer buttons (on the poll and in
reminders), closing early, the schedule buttons and the set-up modals.

Answers are stored before they are acknowledged, so an acknowledged click is a durable one;
the person is then told privately what they chose (an ephemeral note, never a lasting
message), and the poll's count is redrawn, coalesced. Nothing here logs who answered what.
Anything a person got wrong is raised as a `DomainError` and explained privately by
`handlers.errors`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from bot.blocks import health_check as blocks
from bot.blocks import health_check_setup as setup_blocks
from bot.blocks.common import escape_mrkdwn, slack_date, truncate
from bot.blocks.health_check_forms import (
    SERVICE_FIELD_BLOCKS,
    CadenceForm,
    QuestionForm,
    QuestionMenu,
    SetupForm,
    parse_verb,
    scale_block,
)
from bot.errors import Conflict, InvalidInput, NotFound
from bot.ids import HealthAction, HealthBlock, HealthView
from bot.presenters import health_check as present
from bot.presenters.rota import tell
from bot.services import community as community_service
from bot.services import health_check as hc
from bot.services.actor import Actor
from bot.services.health_check_types import CheckResults, Question, SetupView
from bot.services.recurrence import Cadence
from bot.state import AnswerRef, CheckRef, CommunityRef, HealthModal
from handlers.listeners import FormValues, Parsed, Result, on_button, submit_to_community
from handlers.rota import zone_of
from handlers.slack_payloads import (
    Body,
    actor_for,
    channel_of,
    check_channel,
    team_of,
    user_of,
)
from models.community import Community

logger = logging.getLogger(__name__)

COMMAND = "/health-check"
IN_A_DM = (
    "A health check belongs to a channel's community, so everyone there can answer. "
    "Run `/health-check` in your community's channel."
)
NOT_INVITED = (
    "I'm not in this channel yet, so I can't run its health checks. "
    "Invite me with `/invite @hearth`, then try again."
)
NO_CHECKS_YET = (
    "There are no health checks in this channel yet. A lead sets them up with "
    "`/health-check` (whoever sets them up here becomes a lead), and `/health-check help` "
    "explains how they work."
)
NO_RESULTS_YET = (
    "No health check has closed in this channel yet, so there are no results to show. "
    "They're posted here when a check closes."
)
ANSWER_ACTION = re.compile(rf"^{re.escape(HealthAction.ANSWER)}(\.[a-z0-9_]+)?$")


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    def now() -> datetime:
        return deps.clock.now()

    async def community_by_id(session: AsyncSession, team_id: str, community_id: int) -> Community:
        return await community_service.get_community(session, team_id, community_id)

    async def member_count(channel_id: str) -> int | None:
        try:
            return len(await present.member_ids(deps, channel_id))
        except SlackApiError as exc:
            logger.warning(
                "Could not count members of %s: %s", channel_id, exc.response.get("error")
            )
            return None

    # --- opening the modals ------------------------------------------------------------------

    async def community_of(
        session: AsyncSession, actor: Actor, community_id: int, doing: str
    ) -> Community:
        """The community a button or form names, once `actor` is known to be allowed in its
        channel (the id is a claim; `doing` words the refusal)."""
        community = await community_by_id(session, actor.team_id, community_id)
        await deps.access.require(actor, community.channel_id, doing)
        return community

    async def open_setup(client: AsyncWebClient, trigger_id: str, actor: Actor, c: int) -> None:
        async with sessionmaker() as session:
            community = await community_of(session, actor, c, "change its health checks")
            await community_service.require_lead(
                session, community, actor, "change the health check set-up"
            )
            setup = await hc.setup_view(session, community)
        meta = HealthModal(channel=setup.channel_id, c=c)
        time_zone = await zone_of(client, actor.user_id)
        await client.views_open(
            trigger_id=trigger_id, view=setup_blocks.setup_modal(meta, setup, time_zone)
        )

    async def redraw_setup(
        client: AsyncWebClient, view_id: str, actor: Actor, meta: HealthModal
    ) -> None:
        """Show the stored questions in the open set-up modal."""
        async with sessionmaker() as session:
            community = await community_by_id(session, actor.team_id, meta.c or 0)
            setup = await hc.setup_view(session, community)
        time_zone = await zone_of(client, actor.user_id)
        await client.views_update(
            view_id=view_id,
            view=setup_blocks.setup_modal(
                HealthModal(channel=meta.channel, c=meta.c), setup, time_zone
            ),
        )

    # --- running one now ---------------------------------------------------------------------

    async def run_now(actor: Actor, community_id: int, respond: AsyncRespond) -> None:
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, community_id, "run a health check")
            opened_at = now()
            check = await hc.run_now(session, actor, community, opened_at)
            await present.owe_poll(session, actor.team_id, check, opened_at)
        deps.outbox.kick()
        await deps.scheduler.changed()
        await respond(
            text=f"The health check is open in <#{check.channel_id}> until "
            f"{slack_date(check.closes_at)}. Close it early with the button on its poll.",
            response_type="ephemeral",
            replace_original=False,
        )

    # --- the command -------------------------------------------------------------------------

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        verb = parse_verb(str(body.get("text") or ""))
        if verb == "help":
            await respond(text=blocks.help_text(), blocks=present.dicts(blocks.help_blocks()))
            return
        channel_id = await check_channel(client, body, in_a_dm=IN_A_DM, not_invited=NOT_INVITED)
        actor = actor_for(client, team_of(body), user_of(body))
        await deps.access.require(actor, channel_id, "use health checks")
        if verb in ("", "setup"):
            async with sessionmaker.begin() as session:
                community = await community_service.community_for(session, actor, channel_id, now())
                await community_service.require_lead(
                    session, community, actor, "change the health check set-up"
                )
                community_id = community.id
            await open_setup(client, body["trigger_id"], actor, community_id)
        elif verb == "now":
            async with sessionmaker.begin() as session:
                community = await community_service.community_for(session, actor, channel_id, now())
                community_id = community.id
            await run_now(actor, community_id, respond)
        elif verb == "schedule":
            await respond(**await schedule_message(actor, channel_id))
        elif verb == "results":
            await respond(**await results_message(actor, channel_id))
        else:
            typed = escape_mrkdwn(truncate(verb, 30))
            raise InvalidInput(
                f"I don't know `/health-check {typed}`. Type `/health-check help` to see what "
                "I can do."
            )

    async def schedule_message(actor: Actor, channel_id: str) -> dict[str, Any]:
        async with sessionmaker() as session:
            community = await community_service.find_community(session, actor.team_id, channel_id)
            if community is None:
                return {"text": NO_CHECKS_YET}
            overview = blocks.SetupOverview(
                setup=await hc.setup_view(session, community),
                viewer_is_lead=await community_service.is_lead(session, community, actor),
                leads=tuple(await community_service.leads(session, community)),
                open_check=await hc.current_check(session, community),
            )
        return {
            "text": "The health check schedule",
            "blocks": present.dicts(blocks.schedule_blocks(overview)),
        }

    async def results_message(actor: Actor, channel_id: str) -> dict[str, Any]:
        async with sessionmaker() as session:
            community = await community_service.find_community(session, actor.team_id, channel_id)
            latest: CheckResults | None = None
            if community is not None:
                latest = await hc.latest_results(session, community)
            if community is None or latest is None:
                return {"text": NO_RESULTS_YET}
            history = await hc.history(session, community)
        return {
            "text": blocks.results_text(latest),
            "blocks": present.dicts(
                [*blocks.results_blocks(latest), *blocks.history_blocks(history)][:50]
            ),
        }

    # --- answering ---------------------------------------------------------------------------

    @app.action(ANSWER_ACTION)
    async def answered(
        ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = AnswerRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        # Asked before the write, so an answer's transaction never waits on Slack.
        async with sessionmaker() as session:
            check = await hc.get_check(session, actor.team_id, ref.k)
        await deps.access.require(actor, check.channel_id, "answer its health check")
        async with sessionmaker.begin() as session:
            receipt = await hc.answer(session, actor, ref.k, ref.q, ref.o, now())
        await ack()  # only once the answer is stored
        text = blocks.receipt_text(
            receipt.question_title,
            receipt.choice,
            receipt.previous,
            receipt.answered,
            receipt.questions,
            receipt.anonymous,
        )
        channel_id = channel_of(body)
        try:
            await client.chat_postEphemeral(
                channel=channel_id or actor.user_id, user=actor.user_id, text=text
            )
        except SlackApiError:
            # Still only for them: through the click's response_url, never a lasting message.
            await respond(text=text, response_type="ephemeral", replace_original=False)
        present.request_count_refresh(deps, actor.team_id, ref.k)

    # --- closing early -----------------------------------------------------------------------

    @on_button(app, HealthAction.CLOSE_NOW)
    async def close_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CheckRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker() as session:
            check = await hc.get_check(session, actor.team_id, ref.k)
            community = await community_of(
                session, actor, check.community_id, "close its health check"
            )
            await community_service.require_lead(
                session, community, actor, "close a health check early"
            )
        if not check.is_open:
            raise Conflict("This health check has already closed.")
        members = await member_count(check.channel_id)
        async with sessionmaker.begin() as session:
            closed_at = now()
            results = await hc.close_early(session, actor, ref.k, closed_at, member_count=members)
            await present.owe_results(session, actor.team_id, results, closed_at)
        deps.outbox.kick()
        await deps.scheduler.changed()
        await present.redraw_closed_poll(deps, actor.team_id, ref.k)

    # --- schedule and set-up buttons ---------------------------------------------------------

    @on_button(app, HealthAction.EDIT_SETUP)
    async def edit_setup_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        await open_setup(client, body["trigger_id"], actor, ref.c)

    @on_button(app, HealthAction.EDIT_SCHEDULE)
    async def edit_schedule_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker() as session:
            community = await community_of(session, actor, ref.c, "change its health checks")
            await community_service.require_lead(
                session, community, actor, "change when health checks run"
            )
            setup = await hc.setup_view(session, community)
        meta = HealthModal(channel=setup.channel_id, c=ref.c)
        time_zone = await zone_of(client, actor.user_id)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=setup_blocks.schedule_modal(meta, setup.cadence, time_zone),
        )

    @on_button(app, HealthAction.DELETE_SCHEDULE)
    async def delete_schedule_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "change its health checks")
            await hc.delete_cadence(session, actor, community, now())
        await deps.scheduler.changed()
        await respond(
            text="The health check schedule is deleted: no more checks start by themselves. "
            "The questions and past results are kept, and `/health-check now` still runs one.",
            response_type="ephemeral",
            replace_original=False,
        )

    @on_button(app, HealthAction.RUN_NOW)
    async def run_now_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        await run_now(actor_for(client, team_of(body), user_of(body)), ref.c, respond)

    @on_button(app, HealthAction.QUESTION_MENU)
    async def question_menu_used(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        view = body.get("view") or {}
        meta = HealthModal.decode(view.get("private_metadata"))
        if meta.c is None:
            raise Conflict("That form lost track of its community. Please open it again.")
        raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        what, key = QuestionMenu.parse(str(raw))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker() as session:  # before anything, adding included
            await community_of(session, actor, meta.c, "change its health checks")
        if what == QuestionMenu.ADD:
            await client.views_push(
                trigger_id=body["trigger_id"],
                view=setup_blocks.question_modal(HealthModal(channel=meta.channel, c=meta.c), None),
            )
            return
        question: Question | None = None
        async with sessionmaker.begin() as session:
            community = await community_by_id(session, actor.team_id, meta.c)
            setup = await hc.setup_view(session, community)
            keys = [q.key for q in setup.questions]
            if key not in keys:
                raise NotFound(
                    "That question isn't in the set any more; someone may have just removed "
                    "it. Close the set-up and open it again to see the current questions."
                )
            if what == QuestionMenu.EDIT:
                await community_service.require_lead(
                    session, community, actor, "change the health check questions"
                )
                question = setup.questions[keys.index(key)]
            elif what == QuestionMenu.REMOVE:
                await hc.remove_question(session, actor, community, key, now())
            else:
                step = -1 if what == QuestionMenu.UP else 1
                await hc.move_question(
                    session, actor, community, key, keys.index(key) + step, now()
                )
        if what == QuestionMenu.EDIT:
            await client.views_push(
                trigger_id=body["trigger_id"],
                view=setup_blocks.question_modal(
                    HealthModal(channel=meta.channel, c=meta.c, q=key), question
                ),
            )
            return
        await redraw_setup(client, str(view["id"]), actor, meta)

    # --- modals ------------------------------------------------------------------------------

    async def submit(
        ack: AsyncAck,
        view: Body,
        actor: Actor,
        *,
        parse: Callable[[FormValues], Parsed],
        work: Callable[[AsyncSession, Community, HealthModal, Parsed], Awaitable[Result]],
        error_block: str,
    ) -> Result | None:
        return await submit_to_community(
            ack,
            view,
            sessionmaker,
            actor,
            access=deps.access,
            doing="change its health checks",
            carried=HealthModal,
            parse=parse,
            work=work,
            error_block=error_block,
            field_blocks=SERVICE_FIELD_BLOCKS,
        )

    @app.view(HealthView.QUESTION)
    async def question_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: HealthModal, form: QuestionForm
        ) -> HealthModal:
            if meta.q is None:
                await hc.add_question(session, actor, community, form.to_input(), now())
            else:
                await hc.edit_question(session, actor, community, meta.q, form.to_input(), now())
            return meta

        meta = await submit(
            ack,
            view,
            actor,
            parse=QuestionForm.from_state,
            work=work,
            error_block=HealthBlock.TITLE,
        )
        parent = view.get("previous_view_id")
        if meta is not None and parent:
            try:
                await redraw_setup(client, str(parent), actor, meta)
            except SlackApiError as exc:
                logger.info("The set-up modal was closed: %s", exc.response.get("error"))

    async def save_cadence(
        session: AsyncSession,
        actor: Actor,
        community: Community,
        current: SetupView,
        cadence: Cadence | None,
        then: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """Change the schedule; `then` runs between taking the old one away and setting the
        new one, so each is checked against what it will run with."""
        if cadence == current.cadence:
            if then is not None:
                await then()
            return
        if current.cadence is not None:
            await hc.delete_cadence(session, actor, community, now())
        if then is not None:
            await then()
        if cadence is not None:
            await hc.set_cadence(session, actor, community, cadence, now())

    @app.view(HealthView.SETUP)
    async def setup_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: HealthModal, values: FormValues
        ) -> SetupView:
            current = await hc.setup_view(session, community)
            # The answer labels are checked against the current scale, so parsed here.
            form = SetupForm.from_state(values, current.scale)
            cadence = form.cadence.to_cadence(now(), current.cadence)

            async def settings() -> None:
                await hc.update_settings(session, actor, community, form.settings, now())

            await save_cadence(session, actor, community, current, cadence, settings)
            return await hc.setup_view(session, community)

        saved = await submit(ack, view, actor, parse=dict, work=work, error_block=scale_block(0))
        if saved is None:
            return
        await deps.scheduler.changed()
        when = saved.cadence.describe() if saved.cadence else "only when a lead runs one"
        await tell(
            deps,
            saved.channel_id,
            actor.user_id,
            f"Saved the health check set-up: checks run {when}, with "
            f"{len(saved.questions)} questions. `/health-check now` runs one straight away.",
        )

    @app.view(HealthView.SCHEDULE)
    async def schedule_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: HealthModal, form: CadenceForm
        ) -> SetupView:
            await community_service.require_lead(
                session, community, actor, "change when health checks run"
            )
            current = await hc.setup_view(session, community)
            await save_cadence(
                session, actor, community, current, form.to_cadence(now(), current.cadence)
            )
            return await hc.setup_view(session, community)

        saved = await submit(
            ack,
            view,
            actor,
            parse=CadenceForm.from_state,
            work=work,
            error_block=HealthBlock.FREQUENCY,
        )
        if saved is None:
            return
        await deps.scheduler.changed()
        when = saved.cadence.describe() if saved.cadence else "only when a lead runs one"
        await tell(
            deps,
            saved.channel_id,
            actor.user_id,
            f"Saved: health checks run {when}. `/health-check schedule` shows it any time.",
        )
