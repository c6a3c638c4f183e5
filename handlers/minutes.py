"""Slack listeners for /minutes: the channel's list, search across communities, the export.

Listing and exporting belong to a channel, so they need a channel hearth is in. Searching
works wherever `/minutes` can be typed (the answer goes back privately through the command's
response URL), and shows a private channel's minutes only to that channel's members.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import ChannelAccess
from bot.app import Deps
from bot.blocks import minutes as blocks
from bot.blocks.common import unescape_slack
from bot.errors import Conflict, NotAllowed
from bot.ids import MinutesAction
from bot.services import minutes as service
from bot.services import minutes_export as export
from bot.state import MinutesRef
from handlers.listeners import on_button
from handlers.slack_payloads import Body, actor_for, check_channel, team_of, user_of

logger = logging.getLogger(__name__)

COMMAND = "/minutes"
MINUTES_IN_A_DM = (
    "Minutes belong to a channel. Run `/minutes` (or `/minutes export`) in your community's "
    "channel. To search every community's minutes, type `/minutes` followed by some words."
)
MINUTES_NOT_INVITED = (
    "I'm not in this channel, so no minutes are kept here. Invite me with `/invite @hearth` "
    "to run a Lean Coffee here. To search every community's minutes, type `/minutes` "
    "followed by some words."
)
NAMES_LOOKED_UP = 50  # beyond this many people, the export names them by Slack id


def visibility(
    access: ChannelAccess, team_id: str, user_id: str
) -> Callable[[str], Awaitable[bool]]:
    """Whether `user_id` may see what was said in a channel: the one rule of who may act
    where (`bot.access`): anyone for a public channel, only members for a private one.
    Unknown channels (or ones hearth has left) stay hidden."""

    async def can_see(channel_id: str) -> bool:
        return await access.may_act(team_id, user_id, channel_id)

    return can_see


async def names_of(client: AsyncWebClient, user_ids: list[str]) -> dict[str, str]:
    """Display names for the export, asked once each; ids stand in when there are too many."""
    names: dict[str, str] = {}
    for user_id in user_ids[:NAMES_LOOKED_UP]:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError:
            continue
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or user.get("name")
        if name:
            names[user_id] = str(name)
    return names


def register(app: AsyncApp, deps: Deps) -> None:
    sessionmaker = deps.sessionmaker

    async def in_channel(client: AsyncWebClient, body: Body) -> str:
        return await check_channel(
            client, body, in_a_dm=MINUTES_IN_A_DM, not_invited=MINUTES_NOT_INVITED
        )

    @app.command(COMMAND)
    async def command(
        ack: AsyncAck, body: Body, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        text = unescape_slack(str(body.get("text") or "")).strip()
        word = text.lower()
        team_id, user_id = team_of(body), user_of(body)
        if word == "help":
            await respond(text=blocks.help_text(), blocks=blocks.help_blocks())
            return
        if not text:
            channel_id = await in_channel(client, body)
            await deps.access.require(
                actor_for(client, team_id, user_id), channel_id, "see minutes"
            )
            async with sessionmaker() as session:
                entries = await service.recent(session, team_id, channel_id)
                total = await service.count(session, team_id, channel_id)
            await respond(text=blocks.list_text(entries), blocks=blocks.list_blocks(entries, total))
            return
        if word == "export":
            await export_channel(client, body, team_id, user_id, respond)
            return
        words = service.search_words(text)
        if not words:
            raise Conflict(blocks.no_results_text(text))
        async with sessionmaker() as session:
            found = await service.search(
                session, team_id, words, can_see=visibility(deps.access, team_id, user_id)
            )
        if not found.hits:
            await respond(text=blocks.no_results_text(text, found))
            return
        await respond(
            text=blocks.search_text(text, found), blocks=blocks.search_blocks(text, found)
        )

    async def export_channel(
        client: AsyncWebClient, body: Body, team_id: str, user_id: str, respond: AsyncRespond
    ) -> None:
        channel_id = await in_channel(client, body)
        await deps.access.require(actor_for(client, team_id, user_id), channel_id, "export minutes")
        async with sessionmaker() as session:
            stored = await service.all_in_channel(session, team_id, channel_id)
        if not stored:
            raise Conflict(
                "There are no minutes in this channel to export yet. They're kept here when a "
                "Lean Coffee or a chat meetup ends, and when a health check closes."
            )
        today = deps.clock.now().date()
        channel_name = str(body.get("channel_name") or channel_id)
        names = await names_of(client, export.people_in(stored))
        content = export.minutes_markdown(channel_name, stored, names, today)
        filename = export.export_filename(channel_name, today)
        try:
            await client.files_upload_v2(
                channel=channel_id,
                content=content,
                filename=filename,
                title=f"Minutes of #{channel_name}",
                initial_comment=blocks.export_comment(user_id, len(stored)),
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            logger.warning("Export upload failed in %s: %s", channel_id, error)
            if error == "missing_scope":
                raise NotAllowed(
                    "I'm not allowed to share files yet. Ask whoever runs hearth to update "
                    "the app from the latest manifest (it adds `files:write`), then try again."
                ) from None
            raise
        await respond(text=f"Done: the minutes are in this channel as `{filename}`.")

    @on_button(app, MinutesAction.SHOW)
    async def show(body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond) -> None:
        ref = MinutesRef.decode(action.get("value"))
        team_id, user_id = team_of(body), user_of(body)
        async with sessionmaker() as session:
            stored = await service.get(session, team_id, ref.m)
        actor = actor_for(client, team_id, user_id)
        await deps.access.require(actor, stored.entry.channel_id, "see its minutes")
        for chunk in blocks.full_messages(stored):
            await respond(
                text=blocks.full_text(stored),
                blocks=chunk,
                response_type="ephemeral",
                replace_original=False,
            )
