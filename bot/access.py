"""May this person act on something hearth keeps in this channel? One answer, asked of Slack
and kept briefly.

Ids that arrive in button values and `private_metadata` are claims, not facts (DESIGN.md,
"Trust"): a listener loads the object they name (the services scope that by team), then asks
here whether the person acting may act in the object's channel, read from the database and
never from the payload:

- a public channel: yes, anyone in the workspace may take part;
- a private channel: only its members (`conversations.members`, every page);
- a direct message with hearth: only its person (`conversations.open` names it);
- a channel Slack won't tell hearth about (hearth was removed, or it was deleted): nobody.

Slack's answers are kept `ACCESS_CACHE_SECONDS` (a burst of votes asks once; someone just
invited waits at most that long), for at most `MAX_PLACES` channels; lookups of one channel at
the same moment share one call. When Slack can't answer, the answer is no (fail closed), said
kindly. Only `channels:read`, `groups:read` and `im:write` are needed, all in the manifest.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.errors import NotAllowed
from bot.services.actor import Actor

logger = logging.getLogger(__name__)

ACCESS_CACHE_SECONDS = 60.0
MAX_PLACES = 500
MEMBERS_PAGE = 1000
# Slack answering these is an answer (hearth can't see the channel), not a hiccup.
HIDDEN_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "missing_scope",
        "method_not_supported_for_channel_type",
    }
)


class Kind(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    DIRECT = "direct"
    HIDDEN = "hidden"  # Slack won't say: hearth is not there (any more), or it is gone


@dataclass(frozen=True)
class Place:
    """A channel as far as taking part goes: what kind it is, and who is in it."""

    kind: Kind
    name: str = ""
    people: frozenset[str] = frozenset()  # private: its members; direct: its one person

    def admits(self, user_id: str) -> bool:
        if self.kind is Kind.PUBLIC:
            return True
        return self.kind is not Kind.HIDDEN and user_id in self.people


class SlackUnsure(Exception):
    """Slack could not say (rate limited after retries, down, unreachable)."""


def refusal(place: Place, doing: str) -> str:
    """What a person is told when `place` does not admit them: what happened and what to do,
    never anything about the object itself."""
    if place.kind is Kind.PRIVATE:
        where = f"#{place.name}" if place.name else "That channel"
        return (
            f"{where} is a private channel you're not in, so you can't {doing} there. "
            "Ask someone in it to invite you."
        )
    if place.kind is Kind.DIRECT:
        return (
            f"That belongs to someone else's messages with me, so you can't {doing}. "
            "Nothing has changed."
        )
    return (
        f"I can't reach that channel any more (hearth may have been removed from it, or the "
        f"channel is gone), so you can't {doing} there. Ask someone in it to invite me back "
        "with `/invite @hearth`."
    )


def unsure(doing: str) -> str:
    return (
        f"I couldn't check with Slack just now whether you can {doing} there, so nothing has "
        "changed. Please try again in a moment."
    )


def _retrieve(future: asyncio.Future[Place]) -> None:
    if not future.cancelled():
        future.exception()


class ChannelAccess:
    """Who may act in which channel, from Slack, remembered `ttl_seconds` per channel."""

    def __init__(
        self,
        client: AsyncWebClient,
        clock: Clock,
        *,
        ttl_seconds: float = ACCESS_CACHE_SECONDS,
        max_places: int = MAX_PLACES,
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._max = max_places
        # (team, channel, and for a direct message the person asking) -> when asked, answer.
        self._known: OrderedDict[tuple[str, ...], tuple[datetime, asyncio.Future[Place]]] = (
            OrderedDict()
        )

    async def require(self, actor: Actor, channel_id: str, doing: str) -> None:
        """Refuse (`NotAllowed`, worded with `doing`, e.g. "vote") unless `actor` may act in
        `channel_id`. Nothing is changed by a refusal: call this before the change."""
        try:
            place = await self.place(actor.team_id, channel_id, actor.user_id)
        except SlackUnsure:
            raise NotAllowed(unsure(doing)) from None
        if not place.admits(actor.user_id):
            raise NotAllowed(refusal(place, doing))

    async def may_act(self, team_id: str, user_id: str, channel_id: str) -> bool:
        """The same answer as a yes or no (no when Slack can't say): for filtering lists."""
        try:
            place = await self.place(team_id, channel_id, user_id)
        except SlackUnsure:
            return False
        return place.admits(user_id)

    async def place(self, team_id: str, channel_id: str, user_id: str) -> Place:
        """What Slack says of the channel (a direct message: whether it is `user_id`'s)."""
        ask: Callable[[], Awaitable[Place]]
        if channel_id.startswith("D"):
            key: tuple[str, ...] = (team_id, channel_id, user_id)
            ask = partial(self._direct, channel_id, user_id)
        else:
            key = (team_id, channel_id)
            ask = partial(self._channel, channel_id)
        now = self._clock.now()
        known = self._known.get(key)
        if known is None or now - known[0] > self._ttl:
            asking = asyncio.ensure_future(ask())
            asking.add_done_callback(_retrieve)  # a failure nobody waited for is not logged
            known = (now, asking)
            self._known[key] = known
            while len(self._known) > self._max:
                self._known.popitem(last=False)
        self._known.move_to_end(key)
        try:
            return await asyncio.shield(known[1])
        except Exception:
            if self._known.get(key) is known:
                del self._known[key]  # not an answer: ask again next time
            raise

    def forget(self) -> None:
        """Drop every remembered answer."""
        self._known.clear()

    async def _channel(self, channel_id: str) -> Place:
        try:
            info = await self._client.conversations_info(channel=channel_id)
        except SlackApiError as exc:
            return self._hidden_or_raise(exc, channel_id)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SlackUnsure(str(exc)) from None
        channel = info.get("channel") or {}
        name = str(channel.get("name") or "")
        if not (channel.get("is_private") or channel.get("is_mpim") or channel.get("is_im")):
            return Place(Kind.PUBLIC, name)
        members: set[str] = set()
        cursor: str | None = None
        while True:
            try:
                page = await self._client.conversations_members(
                    channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor
                )
            except SlackApiError as exc:
                return self._hidden_or_raise(exc, channel_id)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise SlackUnsure(str(exc)) from None
            members.update(str(m) for m in page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return Place(Kind.PRIVATE, name, frozenset(members))

    async def _direct(self, channel_id: str, user_id: str) -> Place:
        """A direct message is someone's: the one `conversations.open` with them names it."""
        try:
            opened = await self._client.conversations_open(users=user_id)
        except SlackApiError as exc:
            return self._hidden_or_raise(exc, channel_id)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SlackUnsure(str(exc)) from None
        theirs = (opened.get("channel") or {}).get("id") == channel_id
        return Place(Kind.DIRECT, people=frozenset({user_id} if theirs else ()))

    @staticmethod
    def _hidden_or_raise(exc: SlackApiError, channel_id: str) -> Place:
        error = str(exc.response.get("error") or "")
        if error in HIDDEN_ERRORS or error.endswith("_not_found"):
            logger.info("Slack won't tell me about %s (%s)", channel_id, error)
            return Place(Kind.HIDDEN)
        logger.warning("Could not ask Slack who is in %s: %s", channel_id, error)
        raise SlackUnsure(error)
