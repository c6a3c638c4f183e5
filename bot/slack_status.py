"""Whether someone's Slack status says they are away (on holiday, out sick) over a meetup.

People already tell their workspace when they are off, with a status such as :palm_tree:
"Vacationing" or :face_with_thermometer: "Out sick". The rota reads it so nobody is asked to
facilitate from a sun lounger. Only `users.info` is needed (the `users:read` scope).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.services.rota import Unavailable

logger = logging.getLogger(__name__)

# Slack's presets ("Vacationing", "Out sick") and the emoji people pick for the same.
AWAY_EMOJI = frozenset(
    {
        "palm_tree",
        "desert_island",
        "beach_with_umbrella",
        "face_with_thermometer",
        "thermometer",
        "sick",
        "nauseated_face",
        "face_vomiting",
        "sneezing_face",
        "face_with_head_bandage",
        "hospital",
    }
)
# Words that mean "not working", matched as whole words in any case.
_AWAY_WORDS = re.compile(
    r"\b("
    r"on holidays?|holidays?|holidaying|vacation|vacationing|on vacation"
    r"|out sick|off sick|sick|unwell|sick leave|ooo|out of (the )?office|pto"
    r"|annual leave|on leave|parental leave|maternity leave|paternity leave"
    r"|day off|days off|off work"
    r")\b",
    re.IGNORECASE,
)

# Asking about a whole big rota at once would spend Slack's rate limit on one job.
MAX_PEOPLE = 100
STATUS_CACHE_SECONDS = 300
CONCURRENT_LOOKUPS = 4


@dataclass(frozen=True)
class SlackStatus:
    text: str = ""
    emoji: str = ""  # without colons, e.g. "palm_tree"
    expiration: int = 0  # Unix time the status clears itself; 0 = it never does


def status_from_profile(profile: Mapping[str, Any]) -> SlackStatus:
    """Read the status out of a `users.info` profile (missing fields mean no status)."""
    try:
        expiration = int(profile.get("status_expiration") or 0)
    except (TypeError, ValueError):
        expiration = 0
    return SlackStatus(
        text=str(profile.get("status_text") or ""),
        emoji=str(profile.get("status_emoji") or "").strip(":"),
        expiration=expiration,
    )


def says_away(status: SlackStatus) -> bool:
    """True when the status is about being on holiday, on leave or off sick."""
    emoji = status.emoji.split("::")[0]  # skin tones come as :name::skin-tone-2:
    return emoji in AWAY_EMOJI or bool(_AWAY_WORDS.search(status.text))


def away_at(status: SlackStatus | None, moment: datetime) -> bool:
    """True when the status says away and is still set at `moment` (it has no expiry, or
    expires only after it)."""
    if status is None or not says_away(status):
        return False
    if status.expiration == 0:
        return True
    return datetime.fromtimestamp(status.expiration, UTC) >= moment


async def fetch_statuses(
    client: AsyncWebClient,
    user_ids: Iterable[str],
    *,
    limit: int = MAX_PEOPLE,
    concurrency: int = CONCURRENT_LOOKUPS,
) -> dict[str, SlackStatus]:
    """The statuses of up to `limit` people, asked a few at a time.

    Someone Slack cannot tell us about counts as available: a lookup that fails must not
    take them out of the rota.
    """
    wanted = list(dict.fromkeys(user_ids))[:limit]
    gate = asyncio.Semaphore(concurrency)

    async def one(user_id: str) -> tuple[str, SlackStatus | None]:
        async with gate:
            try:
                response = await client.users_info(user=user_id)
            except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                logger.info("Could not read the Slack status of %s (%s)", user_id, exc)
                return user_id, None
        user = response.get("user") or {}
        return user_id, status_from_profile(user.get("profile") or {})

    found = await asyncio.gather(*(one(user_id) for user_id in wanted))
    return {user_id: status for user_id, status in found if status is not None}


def unavailable_from(statuses: Mapping[str, SlackStatus]) -> Unavailable:
    """The `unavailable(user_id, starts_at)` check `rota.plan` takes, over fetched statuses."""

    def unavailable(user_id: str, starts_at: datetime) -> bool:
        return away_at(statuses.get(user_id), starts_at)

    return unavailable


async def away_checker(client: AsyncWebClient, user_ids: Iterable[str]) -> Unavailable:
    """Fetch the rota's statuses once (for one job run) and answer from them."""
    return unavailable_from(await fetch_statuses(client, user_ids))


class StatusCache:
    """Slack statuses for the rota views people open, kept a few minutes.

    `/rota` and its buttons show whose turn it is, honouring statuses that say someone is
    away; asking Slack for every member on every click would be slow and hit rate limits.
    Scheduled reminders fetch fresh statuses instead (`away_checker`).
    """

    def __init__(
        self, client: AsyncWebClient, clock: Clock, ttl_seconds: float = STATUS_CACHE_SECONDS
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._seen: dict[str, tuple[datetime, SlackStatus | None]] = {}

    async def checker(self, user_ids: Iterable[str]) -> Unavailable:
        wanted = list(dict.fromkeys(user_ids))[:MAX_PEOPLE]
        now = self._clock.now()
        stale = [u for u in wanted if u not in self._seen or now - self._seen[u][0] > self._ttl]
        if stale:
            fetched = await fetch_statuses(self._client, stale)
            for user_id in stale:
                self._seen[user_id] = (now, fetched.get(user_id))
        known = {u: s for u in wanted if (s := self._seen[u][1]) is not None}
        return unavailable_from(known)
