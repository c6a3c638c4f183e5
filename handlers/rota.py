"""Slack listeners for /rota: the command, its buttons (on /rota messages, reminder DMs and
swap requests) and its modals.

Each listener parses what Slack sent, runs one unit of work against `bot.services.rota`, and
tells the people concerned: the person acting privately (answered at once), anyone affected
by direct message and the channel when a meetup or its facilitator changes (owed through the
outbox in the unit of work's transaction, and sent once it commits: `deps.outbox.kick()`).
Anything a person got wrong is raised as a `DomainError` and explained privately by
`handlers.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from bot.blocks import rota as blocks
from bot.blocks.common import (
    FormErrors,
    actions,
    button,
    escape_mrkdwn,
    list_words,
    mention,
    section,
    truncate,
)
from bot.blocks.rota_forms import (
    SERVICE_FIELD_BLOCKS,
    AwayForm,
    LeadChange,
    MoveForm,
    RotaCommand,
    ScheduleForm,
    SwapForm,
    canonical_zone,
    parse_command,
    parse_lead_change,
    parse_period,
)
from bot.errors import Conflict, DomainError, InvalidInput, NotFound
from bot.ids import RotaAction, RotaBlock, RotaView
from bot.presenters import rota as present
from bot.services import community as community_service
from bot.services import outbox, rota
from bot.services import rota_reminders as reminders
from bot.services.actor import Actor
from bot.services.recurrence import zone
from bot.services.rota import CalledOff, MeetupStatus, PendingSwap, Turn
from bot.state import CommunityRef, MeetupRef, RotaModal, SwapAskedRef, SwapRef
from handlers.listeners import FormValues, Parsed, Result, on_button, submit_to_community
from handlers.slack_payloads import Body, actor_for, check_channel, team_of, user_of
from models.community import Community

logger = logging.getLogger(__name__)

COMMAND = "/rota"
IN_A_DM = (
    "The rota belongs to a channel's community, so everyone there can see whose turn it is. "
    "Run `/rota` in your community's channel."
)
NOT_INVITED = (
    "I'm not in this channel yet, so I can't keep its rota. "
    "Invite me with `/invite @hearth`, then try again."
)
NO_ROTA = (
    "There's no rota in this channel yet. To get started, a lead sets when the community meets "
    "with `/rota schedule` (whoever sets up the rota here becomes its lead), and everyone who "
    "wants to take turns types `/rota join`. `/rota help` explains the rest."
)


# --- reading what people sent ---------------------------------------------------------------


def from_ephemeral(body: Body) -> bool:
    """Whether a click came from a message only the clicker sees (a /rota reply)."""
    return bool((body.get("container") or {}).get("is_ephemeral"))


async def check_person(client: AsyncWebClient, user_id: str) -> None:
    """Only people can take turns: not bots, not deactivated accounts, not strangers."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError:
        raise InvalidInput(
            f"I can't find {mention(user_id)} in this workspace. Mention someone from here."
        ) from None
    user = response.get("user") or {}
    if user.get("is_bot") or user_id == "USLACKBOT":
        raise InvalidInput(f"{mention(user_id)} is a bot, so can't facilitate. Pick a person.")
    if user.get("deleted"):
        raise InvalidInput(
            f"{mention(user_id)}'s account is deactivated, so they can't facilitate."
        )


async def zone_of(client: AsyncWebClient, user_id: str) -> str:
    """The person's own time zone from Slack, the schedule form's suggestion."""
    try:
        response = await client.users_info(user=user_id)
        return canonical_zone(str((response.get("user") or {}).get("tz") or "UTC"))
    except (SlackApiError, DomainError):
        return "UTC"


def people_in(
    command: RotaCommand | LeadChange, example: str, *, most: int | None = None
) -> list[str]:
    """The people a command names, or a clear word about who it couldn't recognise."""
    if command.unknown_names:
        names = escape_mrkdwn(list_words(list(command.unknown_names)))
        raise InvalidInput(
            f"I don't know who {names} is. Pick people from Slack's list as you type @, "
            f"like `{example}`."
        )
    if not command.user_ids:
        raise InvalidInput(f"Say who, for example `{example}`.")
    if most is not None and len(command.user_ids) > most:
        raise InvalidInput(f"Name just one person, like `{example}`.")
    return list(command.user_ids)


@dataclass(frozen=True)
class SwapAsked:
    """A swap just requested: whom it asks, and for which meetup."""

    swap_id: int
    other: str
    channel_id: str
    starts_at: datetime


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    def now() -> datetime:
        return deps.clock.now()

    async def community_by_id(session: AsyncSession, team_id: str, community_id: int) -> Community:
        return await community_service.get_community(session, team_id, community_id)

    async def community_of(
        session: AsyncSession, actor: Actor, community_id: int, doing: str
    ) -> Community:
        """The community a button names, once `actor` is known to be allowed in its channel
        (the id is a claim; `doing` words the refusal, e.g. "join the rota")."""
        community = await community_by_id(session, actor.team_id, community_id)
        await deps.access.require(actor, community.channel_id, doing)
        return community

    async def may_act_on_swap(actor: Actor, swap_id: int, doing: str) -> None:
        """A swap request is the two people's it is between (it came to them directly), so
        they may always answer or withdraw it; anyone else must be allowed in the community's
        channel first, and then the rules decide (a lead may withdraw it)."""
        async with sessionmaker() as session:
            swap, community = await rota.swap_of_team(session, actor.team_id, swap_id)
        if actor.user_id not in (swap.from_user_id, swap.to_user_id):
            await deps.access.require(actor, community.channel_id, doing)

    async def away_statuses(session: AsyncSession, community: Community) -> rota.Unavailable:
        """Who Slack says is away (holiday, off sick), so turns shown match the reminders."""
        members = [m.user_id for m in await rota.members(session, community)]
        return await deps.statuses.checker(members)

    async def existing_community(session: AsyncSession, team_id: str, channel_id: str) -> Community:
        community = await community_service.find_community(session, team_id, channel_id)
        if community is None:
            raise NotFound(NO_ROTA)
        return community

    async def overview_message(
        team_id: str, community_id: int, actor: Actor, notice: str | None = None
    ) -> dict[str, Any]:
        async with sessionmaker.begin() as session:
            community = await community_by_id(session, team_id, community_id)
            view = await present.overview(
                session, community, actor, now(), await away_statuses(session, community)
            )
        return {
            "text": notice or blocks.overview_text(view),
            "blocks": present.dicts(blocks.overview_blocks(view, notice)),
        }

    async def reply(
        body: Body,
        respond: AsyncRespond,
        actor: Actor,
        community_id: int,
        notice: str,
    ) -> None:
        """After a click: redraw the /rota reply it came from with a note on top, or (from a
        direct message or a channel post) answer the person privately."""
        if from_ephemeral(body):
            message = await overview_message(actor.team_id, community_id, actor, notice)
            await respond(replace_original=True, **message)
        else:
            await respond(text=notice, response_type="ephemeral", replace_original=False)

    async def after_change(
        session: AsyncSession,
        community: Community,
        *,
        moved_meetup_id: int | None = None,
        pending_before: Sequence[PendingSwap] = (),
        was_at: datetime | None = None,
    ) -> list[CalledOff]:
        """Call off the swap requests a change made pointless, and owe both people of each a
        word about it (inside the change's transaction)."""
        called = await rota.call_off_swaps(
            session,
            community,
            now(),
            moved_meetup_id=moved_meetup_id,
            pending_before=pending_before,
        )
        await present.owe_called_off(
            session, community.team_id, called, community.channel_id, now(), was_at
        )
        return called

    # --- the command ----------------------------------------------------------------------

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        parsed = parse_command(str(body.get("text") or ""))
        if parsed.verb == "help":
            await respond(text=blocks.help_text(), blocks=present.dicts(blocks.help_blocks()))
            return
        channel_id = await check_channel(client, body, in_a_dm=IN_A_DM, not_invited=NOT_INVITED)
        team_id = team_of(body)
        actor = actor_for(client, team_id, user_of(body))
        await deps.access.require(actor, channel_id, "use the rota")
        handler = SUBCOMMANDS.get(parsed.verb)
        if handler is None:
            typed = escape_mrkdwn(truncate(parsed.verb, 30))
            raise InvalidInput(
                f"I don't know `/rota {typed}`. Type `/rota help` to see what I can do."
            )
        await handler(parsed, body, client, respond, actor, channel_id)

    Subcommand = Callable[
        [RotaCommand, Body, AsyncWebClient, AsyncRespond, Actor, str], Awaitable[None]
    ]

    async def show(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker() as session:
            community = await community_service.find_community(session, actor.team_id, channel_id)
        if community is None:
            await respond(text=NO_ROTA)
            return
        await respond(**await overview_message(actor.team_id, community.id, actor))

    async def schedule(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker.begin() as session:
            community = await community_service.community_for(session, actor, channel_id, now())
            current = await rota.get_schedule(session, community)
            if current is None:
                await community_service.require_lead(
                    session, community, actor, "set the meetup schedule"
                )
            view = await present.overview(
                session, community, actor, now(), await away_statuses(session, community)
            )
            community_id = community.id
        if current is not None:
            await respond(
                text="The meetup schedule", blocks=present.dicts(blocks.schedule_blocks(view))
            )
            return
        meta = RotaModal(channel=channel_id, c=community_id)
        time_zone = await zone_of(client, actor.user_id)
        today = now().astimezone(zone(time_zone)).date()
        defaults = blocks.default_schedule(time_zone, today)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.schedule_modal(meta, defaults, editing=False),
        )

    async def join(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker.begin() as session:
            community = await community_service.community_for(session, actor, channel_id, now())
            await rota.join(session, actor, community, now())
            notice = await joined_notice(session, community, actor.user_id)
        await deps.scheduler.changed()
        await respond(text=notice)

    async def joined_notice(session: AsyncSession, community: Community, user_id: str) -> str:
        turns = await rota.plan(
            session, community, now(), unavailable=await away_statuses(session, community)
        )
        mine = next((t for t in turns if t.facilitator_id == user_id), None)
        first = f" Your first turn is {blocks.when(mine.starts_at)}." if mine else ""
        return f"Welcome to the rota! Thank you for taking a turn.{first}"

    async def leave(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker.begin() as session:
            community = await existing_community(session, actor.team_id, channel_id)
            await rota.leave(session, actor, community)
            await after_change(session, community)
        deps.outbox.kick()
        await deps.scheduler.changed()
        await respond(
            text="You've left the rota, so you won't be asked to facilitate. Thanks for your "
            "turns! `/rota join` brings you back any time."
        )

    async def add(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        people = people_in(parsed, "/rota add @alex @sam")
        for user_id in people:
            await check_person(client, user_id)
        async with sessionmaker.begin() as session:
            community = await community_service.community_for(session, actor, channel_id, now())
            added = await rota.add_members(session, actor, community, people, now())
            for user_id in added:
                if user_id != actor.user_id:
                    await present.owe_dm(
                        session,
                        actor.team_id,
                        user_id,
                        f"{mention(actor.user_id)} added you to the facilitation rota in "
                        f"<#{channel_id}>. Type `/rota` there to see when your turn is, or "
                        "`/rota leave` if it isn't for you.",
                        now(),
                    )
        deps.outbox.kick()
        await deps.scheduler.changed()
        already = [u for u in people if u not in added]
        parts = []
        if added:
            parts.append(f"Added {list_words([mention(u) for u in added])} to the rota.")
        if already:
            verb = "is" if len(already) == 1 else "are"
            parts.append(f"{list_words([mention(u) for u in already])} {verb} already in it.")
        await respond(text=" ".join(parts))

    async def remove(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        people = people_in(parsed, "/rota remove @alex")
        async with sessionmaker.begin() as session:
            community = await existing_community(session, actor.team_id, channel_id)
            for user_id in people:
                await rota.remove_member(session, actor, community, user_id)
            await after_change(session, community)
        deps.outbox.kick()
        await deps.scheduler.changed()
        await respond(
            text=f"Removed {list_words([mention(u) for u in people])} from the rota. "
            "Any turns they had go to the next people in line."
        )

    async def lead(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        change = parse_lead_change(parsed, actor.user_id)
        if change.remove:
            await lead_remove(change, respond, actor, channel_id)
            return
        people = people_in(change, "/rota lead @alex")
        for user_id in people:
            await check_person(client, user_id)
        async with sessionmaker.begin() as session:
            community = await community_service.community_for(session, actor, channel_id, now())
            added = await community_service.add_leads(session, actor, community, people, now())
            leads = await community_service.leads(session, community)
            for user_id in added:
                if user_id != actor.user_id:
                    await present.owe_dm(
                        session,
                        actor.team_id,
                        user_id,
                        f"{mention(actor.user_id)} made you a lead of the community in "
                        f"<#{channel_id}>: you can now set its meetup schedule and manage its "
                        "rota. `/rota help` shows how.",
                        now(),
                    )
        deps.outbox.kick()
        names = list_words([mention(u) for u in leads])
        if not added:
            await respond(text=f"They're already leads. This community's leads: {names}.")
            return
        await respond(
            text=f"{list_words([mention(u) for u in added])} can now look after the rota "
            f"and the schedule too. This community's leads: {names}."
        )

    async def lead_remove(
        change: LeadChange, respond: AsyncRespond, actor: Actor, channel_id: str
    ) -> None:
        """`/rota lead remove @alex` (or `me`, to step down); the community keeps a lead."""
        people = people_in(change, "/rota lead remove @alex")
        async with sessionmaker.begin() as session:
            community = await existing_community(session, actor.team_id, channel_id)
            removed = await community_service.remove_leads(session, actor, community, people)
            leads = await community_service.leads(session, community)
            others = [u for u in removed if u != actor.user_id]
            for user_id in others:
                await present.owe_dm(
                    session,
                    actor.team_id,
                    user_id,
                    f"{mention(actor.user_id)} stepped you down as a lead of the community in "
                    f"<#{channel_id}>. Thank you for looking after it! Nothing else changes: "
                    "you keep your place in the rota if you're in it, and a lead can make you "
                    "one again any time.",
                    now(),
                )
        deps.outbox.kick()
        parts = []
        if others:
            verb = "is no longer a lead" if len(others) == 1 else "are no longer leads"
            parts.append(f"{list_words([mention(u) for u in others])} {verb}.")
        if actor.user_id in removed:
            parts.append("You've stepped down as a lead. Thank you for looking after the rota!")
        parts.append(f"This community's leads: {list_words([mention(u) for u in leads])}.")
        await respond(text=" ".join(parts))

    async def skip_command(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker() as session:
            community = await existing_community(session, actor.team_id, channel_id)
        notice = await do_skip(actor, community.id, None)
        await respond(text=notice)

    async def do_skip(actor: Actor, community_id: int, meetup_id: int | None) -> str:
        """Pass the next meetup on; owe the new facilitator, the skipped one and the channel
        a word about it. Returns the note for the person who acted."""
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, community_id, "skip a turn")
            before = await rota.next_turn(
                session, community, now(), unavailable=await away_statuses(session, community)
            )
            if meetup_id is not None and before.meetup_id != meetup_id:
                raise Conflict(
                    "Only the next meetup's turn can be skipped, and that isn't it any more. "
                    "Type `/rota` to see where things stand."
                )
            after = await rota.skip(
                session,
                actor,
                community,
                now(),
                unavailable=await away_statuses(session, community),
            )
            await after_change(session, community)
            skipped = before.facilitator_id
            assert skipped is not None
            await owe_skipped(session, actor, community, before, after, skipped)
        deps.outbox.kick()
        await deps.scheduler.changed()
        if after.facilitator_id is None:
            return (
                "Done: your turn is passed on, but nobody else in the rota is available for "
                f"{blocks.when(after.starts_at)}. I've asked the channel for help."
            )
        whose = "your" if skipped == actor.user_id else f"{mention(skipped)}'s"
        return (
            f"Done: {whose} turn is passed on. {mention(after.facilitator_id)} will facilitate "
            f"the meetup on {blocks.when(after.starts_at)}, and has been told."
        )

    async def owe_skipped(
        session: AsyncSession,
        actor: Actor,
        community: Community,
        before: Turn,
        after: Turn,
        skipped: str,
    ) -> None:
        """The turn passed on: ask the new facilitator, tell the skipped one (when someone
        else skipped them) and the channel (asking for help when nobody is left)."""
        team_id, channel_id = actor.team_id, community.channel_id
        if after.facilitator_id is not None:
            ref = MeetupRef(c=community.id, m=after.meetup_id).encode()
            text = (
                f"{mention(skipped)} can't facilitate the meetup in <#{channel_id}> on "
                f"{blocks.when(after.starts_at)}, so it's your turn. Can you do it?"
            )
            await present.owe_dm(
                session,
                team_id,
                after.facilitator_id,
                text,
                now(),
                [
                    section(text),
                    actions(
                        button("I'll be there", RotaAction.CONFIRM, ref, style="primary"),
                        button("Skip my turn", RotaAction.SKIP, ref),
                        button("Swap…", RotaAction.SWAP, ref),
                    ),
                ],
                until=after.starts_at,
            )
        if skipped != actor.user_id:
            await present.owe_dm(
                session,
                team_id,
                skipped,
                f"{mention(actor.user_id)} passed your turn for the meetup in <#{channel_id}> on "
                f"{blocks.when(before.starts_at)} on to the next person. You keep your place.",
                now(),
            )
        if after.facilitator_id is None:
            text = (
                f"Can anyone facilitate the meetup on {blocks.when(after.starts_at)}? "
                f"{mention(skipped)} can't, and nobody else in the rota is available. "
                "`/rota join` to help out."
            )
        else:
            text = (
                f"Change of facilitator: {mention(after.facilitator_id)} will facilitate the "
                f"meetup on {blocks.when(after.starts_at)} instead of {mention(skipped)}."
            )
        await present.owe_announcement(session, team_id, channel_id, text, now())

    async def swap_command(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker.begin() as session:
            community = await existing_community(session, actor.team_id, channel_id)
            turn = await rota.next_turn(
                session, community, now(), unavailable=await away_statuses(session, community)
            )
            community_id = community.id
        if not parsed.user_ids and not parsed.unknown_names:
            await open_swap_modal(body, client, actor, community_id, turn.meetup_id)
            return
        (other,) = people_in(parsed, "/rota swap @sam", most=1)
        text, note = await ask_to_swap(client, actor, community_id, turn.meetup_id, other)
        await respond(text=text, blocks=present.dicts(note))

    async def open_swap_modal(
        body: Body, client: AsyncWebClient, actor: Actor, community_id: int, meetup_id: int
    ) -> None:
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, community_id, "ask for a swap")
            turn = await rota.next_turn(
                session, community, now(), unavailable=await away_statuses(session, community)
            )
            if turn.meetup_id != meetup_id:
                raise Conflict(
                    "You can only swap the next meetup, and that isn't it any more. "
                    "Type `/rota` to see where things stand."
                )
            if turn.facilitator_id != actor.user_id:
                raise Conflict(
                    "Only the facilitator of the next meetup can ask for a swap"
                    + (f" (that's {mention(turn.facilitator_id)})." if turn.facilitator_id else ".")
                )
            channel_id = community.channel_id
        meta = RotaModal(channel=channel_id, c=community_id, m=meetup_id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.swap_modal(meta, turn.starts_at)
        )

    async def ask_to_swap(
        client: AsyncWebClient, actor: Actor, community_id: int, meetup_id: int, other: str
    ) -> tuple[str, list[Block]]:
        await check_person(client, other)
        async with sessionmaker.begin() as session:
            community = await community_by_id(session, actor.team_id, community_id)
            asked = await request_swap(session, actor, community, meetup_id, other)
        deps.outbox.kick()
        return swap_asked_note(asked)

    async def request_swap(
        session: AsyncSession, actor: Actor, community: Community, meetup_id: int, other: str
    ) -> SwapAsked:
        """Record the request and owe the other person their DM asking them (with *Accept*
        and *Decline*), in the same transaction."""
        turn = await rota.next_turn(
            session, community, now(), unavailable=await away_statuses(session, community)
        )
        if turn.meetup_id != meetup_id:
            raise Conflict("That meetup isn't the next one any more. Type `/rota` to check.")
        swap = await rota.request_swap(
            session,
            actor,
            community,
            other,
            now(),
            unavailable=await away_statuses(session, community),
        )
        await present.owe_swap_request(
            session, actor.team_id, swap, community.channel_id, turn.starts_at, now()
        )
        return SwapAsked(swap.id, other, community.channel_id, turn.starts_at)

    def swap_asked_note(asked: SwapAsked) -> tuple[str, list[Block]]:
        """The note for the person who asked. Its *Withdraw the request* button names the
        swap; where the request's DM landed is the outbox's to say when it is withdrawn."""
        ref = SwapAskedRef(w=asked.swap_id)
        return (
            blocks.swap_asked_text(asked.other, asked.starts_at),
            blocks.swap_asked_blocks(ref, asked.other, asked.starts_at),
        )

    async def away(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        who = actor.user_id
        if parsed.user_ids or parsed.unknown_names:
            (who,) = people_in(parsed, "/rota away @sam 1 Dec to 14 Dec", most=1)
        async with sessionmaker.begin() as session:
            community = await community_service.community_for(session, actor, channel_id, now())
            today = await present.today_for(session, community, now())
            community_id = community.id
        if not parsed.rest:
            meta = RotaModal(channel=channel_id, c=community_id)
            await client.views_open(
                trigger_id=body["trigger_id"], view=blocks.away_modal(meta, who, today)
            )
            return
        # "Try `/rota away …`" only fits when the person is marking themselves away.
        command = "/rota away" if who == actor.user_id else None
        starts_on, ends_on = parse_period(parsed.rest, today, command=command)
        await check_person(client, who)
        await respond(text=await mark_away(actor, community_id, who, starts_on, ends_on))

    async def mark_away(
        actor: Actor, community_id: int, who: str, starts_on: date, ends_on: date
    ) -> str:
        async with sessionmaker.begin() as session:
            community = await community_by_id(session, actor.team_id, community_id)
            await rota.set_away(session, actor, community, who, starts_on, ends_on, now())
            note = await tell_away(session, actor, community.channel_id, who, starts_on, ends_on)
        deps.outbox.kick()
        await deps.scheduler.changed()
        return note

    async def tell_away(
        session: AsyncSession,
        actor: Actor,
        channel_id: str,
        who: str,
        starts_on: date,
        ends_on: date,
    ) -> str:
        """Owe someone marked away by another a DM about it (in the transaction that marked
        them); returns the note for the person who acted."""
        if who != actor.user_id:
            await present.owe_dm(
                session,
                actor.team_id,
                who,
                f"{mention(actor.user_id)} marked you as away for the rota in <#{channel_id}>: "
                + blocks.away_text(who, who, starts_on, ends_on).removeprefix("Got it: "),
                now(),
            )
        return blocks.away_text(who, actor.user_id, starts_on, ends_on)

    async def stats(
        parsed: RotaCommand,
        body: Body,
        client: AsyncWebClient,
        respond: AsyncRespond,
        actor: Actor,
        channel_id: str,
    ) -> None:
        async with sessionmaker() as session:
            community = await existing_community(session, actor.team_id, channel_id)
        await respond(**await stats_message(actor.team_id, community.id))

    async def stats_message(team_id: str, community_id: int) -> dict[str, Any]:
        async with sessionmaker() as session:
            community = await community_by_id(session, team_id, community_id)
            rows = await rota.stats(session, community)
        return {
            "text": blocks.stats_text(rows),
            "blocks": present.dicts(blocks.stats_blocks(rows, rota.overloaded(rows))),
        }

    SUBCOMMANDS: dict[str, Subcommand] = {
        "": show,
        "show": show,
        "schedule": schedule,
        "join": join,
        "leave": leave,
        "add": add,
        "remove": remove,
        "lead": lead,
        "skip": skip_command,
        "swap": swap_command,
        "away": away,
        "stats": stats,
    }

    # --- buttons ----------------------------------------------------------------------------

    @on_button(app, RotaAction.JOIN)
    async def join_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "join the rota")
            await rota.join(session, actor, community, now())
            notice = await joined_notice(session, community, actor.user_id)
        await deps.scheduler.changed()
        await reply(body, respond, actor, ref.c, notice)

    @on_button(app, RotaAction.LEAVE)
    async def leave_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "leave the rota")
            await rota.leave(session, actor, community)
            await after_change(session, community)
        deps.outbox.kick()
        await deps.scheduler.changed()
        await reply(body, respond, actor, ref.c, "You've left the rota. Thanks for your turns!")

    @on_button(app, RotaAction.AWAY)
    async def away_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        user_id = user_of(body)
        actor = actor_for(client, team_of(body), user_id)
        async with sessionmaker() as session:
            community = await community_of(session, actor, ref.c, "mark someone away")
            today = await present.today_for(session, community, now())
        meta = RotaModal(channel=community.channel_id, c=community.id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.away_modal(meta, user_id, today)
        )

    @on_button(app, RotaAction.STATS)
    async def stats_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker() as session:
            await community_of(session, actor, ref.c, "see the rota's stats")
        message = await stats_message(actor.team_id, ref.c)
        await respond(response_type="ephemeral", replace_original=False, **message)

    @on_button(app, RotaAction.EDIT_SCHEDULE)
    async def edit_schedule_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker() as session:
            community = await community_of(session, actor, ref.c, "change the meetup schedule")
            await community_service.require_lead(
                session, community, actor, "change the meetup schedule"
            )
            current = await rota.get_schedule(session, community)
            values = present.input_of(current) if current else None
        if values is None:
            time_zone = await zone_of(client, actor.user_id)
            today = now().astimezone(zone(time_zone)).date()
            values = blocks.default_schedule(time_zone, today)
        meta = RotaModal(channel=community.channel_id, c=community.id)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.schedule_modal(meta, values, editing=current is not None),
        )

    @on_button(app, RotaAction.DELETE_SCHEDULE)
    async def delete_schedule_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = CommunityRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "delete the meetup schedule")
            pending = await rota.pending_swaps(session, community)
            await rota.delete_schedule(session, actor, community, now())
            await after_change(session, community, pending_before=pending)
            await present.owe_announcement(
                session,
                actor.team_id,
                community.channel_id,
                f"{mention(actor.user_id)} deleted the meetup schedule, so there are no meetups "
                "planned for now.",
                now(),
            )
        deps.outbox.kick()
        await deps.scheduler.changed()
        notice = (
            "The meetup schedule is deleted: no more meetups or reminders. The rota is kept, "
            "so `/rota schedule` picks up where you left off."
        )
        if from_ephemeral(body):
            await respond(replace_original=True, text=notice)
        else:
            await respond(text=notice, response_type="ephemeral", replace_original=False)

    @on_button(app, RotaAction.CANCEL_MEETUP)
    async def cancel_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "cancel a meetup")
            meetup = await rota.cancel_meetup(session, actor, community, ref.m, now())
            starts_at = meetup.starts_at
            await reminders.withdraw_notices(session, actor.team_id, meetup, starts_at, now())
            await after_change(session, community)
            await present.owe_announcement(
                session,
                actor.team_id,
                community.channel_id,
                blocks.meetup_cancelled_text(actor.user_id, starts_at),
                now(),
            )
        deps.outbox.kick()
        await deps.scheduler.changed()
        await reply(
            body, respond, actor, ref.c, f"Cancelled the meetup on {blocks.when(starts_at)}."
        )

    @on_button(app, RotaAction.MOVE_MEETUP)
    async def move_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker() as session:
            community = await community_of(session, actor, ref.c, "move a meetup")
            await community_service.require_lead(session, community, actor, "move a meetup")
            meetup = await rota.get_meetup(session, community, ref.m)
            schedule = await rota.get_schedule(session, community)
            if meetup.status != MeetupStatus.PLANNED or meetup.starts_at <= now():
                raise Conflict("Only a meetup that hasn't started yet can be moved.")
        meta = RotaModal(channel=community.channel_id, c=community.id, m=meetup.id)
        time_zone = schedule.time_zone if schedule else "UTC"
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=blocks.move_modal(meta, meetup.starts_at, time_zone),
        )

    @on_button(app, RotaAction.CONFIRM)
    async def confirm_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "confirm a turn")
            meetup = await rota.confirm(session, actor, community, ref.m, now())
            starts_at = meetup.starts_at
        await deps.scheduler.changed()
        await reply(
            body,
            respond,
            actor,
            ref.c,
            f"Thank you! You're confirmed to facilitate the meetup on {blocks.when(starts_at)}.",
        )

    @on_button(app, RotaAction.SKIP)
    async def skip_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        notice = await do_skip(actor, ref.c, ref.m)
        await reply(body, respond, actor, ref.c, notice)

    @on_button(app, RotaAction.SWAP)
    async def swap_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        await open_swap_modal(body, client, actor, ref.c, ref.m)

    async def answer_swap(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond, accept: bool
    ) -> None:
        ref = SwapRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        await may_act_on_swap(actor, ref.w, "answer a swap request")
        async with sessionmaker.begin() as session:
            swap, meetup = await rota.answer_swap(session, actor, ref.w, accept, now())
            community = await community_by_id(session, actor.team_id, meetup.community_id)
            asker, starts_at = swap.from_user_id, meetup.starts_at
            await after_change(session, community)
            await present.owe_dm(
                session,
                actor.team_id,
                asker,
                blocks.swap_answered_text(
                    asker, actor.user_id, starts_at, accepted=accept, for_asker=True
                ),
                now(),
            )
            if accept:
                await present.owe_announcement(
                    session,
                    actor.team_id,
                    community.channel_id,
                    f"Change of facilitator: {mention(actor.user_id)} will facilitate the "
                    f"meetup on {blocks.when(starts_at)} instead of {mention(asker)}.",
                    now(),
                )
        deps.outbox.kick()
        await deps.scheduler.changed()
        own = blocks.swap_answered_text(
            asker, actor.user_id, starts_at, accepted=accept, for_asker=False
        )
        await respond(replace_original=True, text=own, blocks=[section(own).to_dict()])

    @on_button(app, RotaAction.ACCEPT_SWAP)
    async def accept_swap_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await answer_swap(body, action, client, respond, True)

    @on_button(app, RotaAction.DECLINE_SWAP)
    async def decline_swap_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await answer_swap(body, action, client, respond, False)

    @on_button(app, RotaAction.WITHDRAW_SWAP)
    async def withdraw_swap_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = SwapAskedRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        await may_act_on_swap(actor, ref.w, "withdraw a swap request")
        async with sessionmaker.begin() as session:
            swap, meetup = await rota.withdraw_swap(session, actor, ref.w, now())
            await outbox.withdraw(session, actor.team_id, [present.swap_request_key(swap)], now())
            community = await community_by_id(session, actor.team_id, meetup.community_id)
            asker, asked, starts_at = swap.from_user_id, swap.to_user_id, meetup.starts_at
            channel_id = community.channel_id
            # Where the request's DM landed (a button from before the outbox carries it).
            request_dm = await present.swap_request_landed(session, actor.team_id, swap)
            if request_dm is None and ref.ch and ref.ts:
                request_dm = (ref.ch, ref.ts)
            if asker != actor.user_id:
                await present.owe_dm(
                    session,
                    actor.team_id,
                    asker,
                    blocks.swap_withdrawn_text(
                        asker, asked, starts_at, viewer_id=asker, by_id=actor.user_id
                    ),
                    now(),
                )
        deps.outbox.kick()
        own = blocks.swap_withdrawn_text(
            asker, asked, starts_at, viewer_id=actor.user_id, by_id=actor.user_id
        )
        await respond(replace_original=True, text=own, blocks=[section(own).to_dict()])
        if request_dm is not None:
            await present.redraw(
                deps,
                *request_dm,
                blocks.swap_withdrawn_request_text(asker, actor.user_id, channel_id, starts_at),
                blocks.swap_withdrawn_request_blocks(asker, actor.user_id, channel_id, starts_at),
            )

    @on_button(app, RotaAction.STEP_IN)
    async def step_in_clicked(
        body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        ref = MeetupRef.decode(action.get("value"))
        actor = actor_for(client, team_of(body), user_of(body))
        async with sessionmaker.begin() as session:
            community = await community_of(session, actor, ref.c, "step in")
            meetup, before = await rota.step_in(session, actor, community, ref.m, now())
            starts_at, channel_id = meetup.starts_at, community.channel_id
            await after_change(session, community)
            if before is not None:
                await present.owe_dm(
                    session,
                    actor.team_id,
                    before,
                    f"{mention(actor.user_id)} stepped in to facilitate the meetup in "
                    f"<#{channel_id}> on {blocks.when(starts_at)}, so you're off the hook this "
                    "time. You keep your place in the rota.",
                    now(),
                )
            await present.owe_announcement(
                session,
                actor.team_id,
                channel_id,
                f"{mention(actor.user_id)} will facilitate the meetup on {blocks.when(starts_at)}.",
                now(),
            )
        deps.outbox.kick()
        await deps.scheduler.changed()
        await reply(
            body,
            respond,
            actor,
            ref.c,
            f"Thank you for stepping in! You're facilitating the meetup on "
            f"{blocks.when(starts_at)}.",
        )

    # --- modals -----------------------------------------------------------------------------

    async def submit(
        ack: AsyncAck,
        view: Body,
        actor: Actor,
        *,
        parse: Callable[[FormValues], Parsed],
        work: Callable[[AsyncSession, Community, RotaModal, Parsed], Awaitable[Result]],
        error_block: RotaBlock,
        doing: str,
    ) -> Result | None:
        """Answer a /rota modal; once saved, what it owes people is sent, and the reminders
        and turns are planned again."""
        result = await submit_to_community(
            ack,
            view,
            sessionmaker,
            actor,
            access=deps.access,
            doing=doing,
            carried=RotaModal,
            parse=parse,
            work=work,
            error_block=error_block,
            field_blocks=SERVICE_FIELD_BLOCKS,
        )
        if result is not None:
            deps.outbox.kick()
            await deps.scheduler.changed()
        return result

    @app.view(RotaView.SCHEDULE)
    async def schedule_submitted(
        ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient
    ) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: RotaModal, form: ScheduleForm
        ) -> bool:
            changed = await rota.get_schedule(session, community) is not None
            pending = await rota.pending_swaps(session, community)
            saved = await rota.set_schedule(session, actor, community, form.to_input(), now())
            await after_change(session, community, pending_before=pending)
            turns = await rota.plan(
                session,
                community,
                now(),
                count=1,
                unavailable=await away_statuses(session, community),
            )
            await present.owe_announcement(
                session,
                actor.team_id,
                community.channel_id,
                blocks.schedule_set_text(
                    actor.user_id,
                    present.summary_of(saved.schedule),
                    turns[0].starts_at if turns else None,
                    changed=changed,
                    dropped=saved.dropped,
                    kept=saved.kept,
                ),
                now(),
            )
            return True

        await submit(
            ack,
            view,
            actor,
            parse=ScheduleForm.from_state,
            work=work,
            error_block=RotaBlock.FREQUENCY,
            doing="set the meetup schedule",
        )

    @app.view(RotaView.AWAY)
    async def away_submitted(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: RotaModal, values: FormValues
        ) -> tuple[str, AwayForm]:
            # The dates are checked against the community's today, so parsed here.
            today = await present.today_for(session, community, now())
            form = AwayForm.from_state(values, today=today)
            try:
                await check_person(client, form.user_id)
            except DomainError as exc:
                raise FormErrors({RotaBlock.AWAY_WHO: exc.message}) from None
            await rota.set_away(
                session, actor, community, form.user_id, form.starts_on, form.ends_on, now()
            )
            note = await tell_away(
                session, actor, community.channel_id, form.user_id, form.starts_on, form.ends_on
            )
            return community.channel_id, note

        result = await submit(
            ack,
            view,
            actor,
            parse=dict,
            work=work,
            error_block=RotaBlock.AWAY_FROM,
            doing="mark someone away",
        )
        if result is None:
            return
        channel_id, note = result
        await present.tell(deps, channel_id, actor.user_id, note, team_id=actor.team_id)

    @app.view(RotaView.SWAP)
    async def swap_submitted(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: RotaModal, form: SwapForm
        ) -> SwapAsked:
            await check_person(client, form.user_id)
            return await request_swap(session, actor, community, meta.m or 0, form.user_id)

        asked = await submit(
            ack,
            view,
            actor,
            parse=SwapForm.from_state,
            work=work,
            error_block=RotaBlock.SWAP_WITH,
            doing="ask for a swap",
        )
        if asked is not None:
            text, note = swap_asked_note(asked)
            await present.tell(
                deps, asked.channel_id, actor.user_id, text, note, team_id=actor.team_id
            )

    @app.view(RotaView.MOVE_MEETUP)
    async def move_submitted(ack: AsyncAck, body: Body, view: Body, client: AsyncWebClient) -> None:
        actor = actor_for(client, team_of(body), user_of(body))

        async def work(
            session: AsyncSession, community: Community, meta: RotaModal, form: MoveForm
        ) -> bool:
            meetup_id = meta.m or 0
            schedule = await rota.get_schedule(session, community)
            old = (await rota.get_meetup(session, community, meetup_id)).starts_at
            starts_at = form.starts_at(schedule.time_zone if schedule else "UTC")
            meetup = await rota.move_meetup(session, actor, community, meetup_id, starts_at, now())
            if starts_at != old:
                await reminders.withdraw_notices(session, actor.team_id, meetup, old, now())
            # Whoever was asked to swap agreed to nothing about the new time.
            await after_change(
                session,
                community,
                moved_meetup_id=meetup.id if starts_at != old else None,
                was_at=old,
            )
            turns = await rota.plan(
                session, community, now(), unavailable=await away_statuses(session, community)
            )
            turn = next((t for t in turns if t.meetup_id == meetup.id), None)
            await present.owe_announcement(
                session,
                actor.team_id,
                community.channel_id,
                blocks.meetup_moved_text(
                    actor.user_id, old, meetup.starts_at, turn.facilitator_id if turn else None
                ),
                now(),
            )
            return True

        await submit(
            ack,
            view,
            actor,
            parse=MoveForm.from_state,
            work=work,
            error_block=RotaBlock.MOVE_DATE,
            doing="move a meetup",
        )
