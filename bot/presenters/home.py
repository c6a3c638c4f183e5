"""Publishes a person's Home tab: asks Slack which of hearth's channels they are in, reads
what the Home shows, looks up message links, and publishes the view.

`publish` is the one helper to call whenever something a person's Home shows has changed
(hearth also refreshes it each time they open it). A Home that cannot be published is logged,
never allowed to undo what the person just did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import home as blocks
from bot.services import home
from bot.services.actor import Actor

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

# users.conversations pages: 200 channels each (Slack's advice), at most 10 pages.
CHANNELS_PAGE = 200
MAX_CHANNEL_PAGES = 10


async def member_channels(
    client: AsyncWebClient, user_id: str, candidates: Collection[str]
) -> set[str]:
    """Which of `candidates` the person is in, as far as hearth may know: public channels
    they are in, and private ones only where hearth is a member too."""
    if not candidates:
        return set()
    wanted = set(candidates)
    found: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_CHANNEL_PAGES):
        response = await client.users_conversations(
            user=user_id,
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=CHANNELS_PAGE,
            cursor=cursor,
        )
        found.update(c["id"] for c in response.get("channels") or [] if c.get("id") in wanted)
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None or found == wanted:
            break
    return found


async def permalinks(
    client: AsyncWebClient, messages: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Links to messages (channel, ts); a message hearth cannot link to is left out, and the
    Home says where to find it instead."""
    wanted = list(dict.fromkeys(messages))

    async def one(channel_id: str, ts: str) -> str | None:
        try:
            response = await client.chat_getPermalink(channel=channel_id, message_ts=ts)
        except SlackApiError as exc:
            logger.info("No link to a message in %s: %s", channel_id, exc.response.get("error"))
            return None
        return response.get("permalink")

    found = await asyncio.gather(*(one(channel_id, ts) for channel_id, ts in wanted))
    return {key: url for key, url in zip(wanted, found, strict=True) if url}


async def gather(deps: Deps, team_id: str, user_id: str) -> home.HomeView:
    """What `user_id`'s Home shows now."""
    async with deps.sessionmaker() as session:
        candidates = await home.channels_in_use(session, team_id)
    member_of = await member_channels(deps.client, user_id, candidates)
    async with deps.sessionmaker() as session:
        people = await home.rota_people(session, team_id, member_of)
    unavailable = await deps.statuses.checker(people) if people else None
    # Working out the next meetups may create their rows, so this is a write transaction.
    async with deps.sessionmaker.begin() as session:
        return await home.home_view(
            session,
            Actor(team_id=team_id, user_id=user_id),
            member_of,
            deps.clock.now(),
            unavailable,
        )


def _links_wanted(view: home.HomeView) -> list[tuple[str, str]]:
    checks = [(c.channel_id, c.message_ts) for c in view.checks if c.message_ts]
    minutes = [(m.channel_id, m.posted_ts) for m in view.minutes if m.posted_ts]
    return checks + minutes


async def publish(deps: Deps, team_id: str, user_id: str, notice: str | None = None) -> None:
    """Refresh `user_id`'s Home tab, with `notice` (mrkdwn, already escaped) on top if given."""
    try:
        view = await gather(deps, team_id, user_id)
        links = await permalinks(deps.client, _links_wanted(view))
        await deps.client.views_publish(
            user_id=user_id, view=blocks.home_tab(view, links, notice).to_dict()
        )
    except SlackApiError as exc:
        logger.warning("Could not publish the Home tab: %s", exc.response.get("error"))
