"""Sends what the outbox holds (`bot.services.outbox`): claims due messages, posts them, and
records how each attempt went, so every message hearth owes is sent exactly once.

Exactly once, against a flaky network: Slack can post a message and then fail to say so (a
504, a timeout). Every message carries its outbox key in Slack's message `metadata`; before an
attempt that follows one whose outcome is unknown, the channel (or thread) is searched for that
key, and a message found there counts as sent. The client used here does not retry by itself
(`bot.slack.create_outbox_client`): a blind retry of `chat.postMessage` is exactly how a 504
turns into two posts. Rate limits are honoured through `Retry-After`.

Messages go out as soon as the transaction that owed them commits (`OutboxSender.kick`), and
the scheduler wakes the sender for retries and for messages another process recorded or left
half-sent (`register`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.scheduler import PlannedJob
from bot.services import outbox
from bot.services.outbox import Attempt
from bot.slack import UNDELIVERABLE
from bot.workspaces import acting_for

if TYPE_CHECKING:
    from bot.scheduler import Scheduler

logger = logging.getLogger(__name__)

METADATA_EVENT = "hearth_outbox"
MAX_CONCURRENT_CHANNELS = 4
# How far back to look for a message whose send may have gone through.
LOOK_BACK = timedelta(minutes=10)
LOOK_PAGES = 5


def metadata_for(key: str) -> dict[str, Any]:
    """What marks a message as the outbox's `key`, so it can be found again."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def _marked(message: dict[str, Any], key: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key


class OutboxSender:
    """Drains the outbox: one pass at a time per process, up to a few channels at once."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        clock: Clock,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._client = client
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._after: dict[str, Callable[[outbox.Landed], None]] = {}

    def after_delivered(self, purpose: str, then: Callable[[outbox.Landed], None]) -> None:
        """Run `then(landed)` in this process once a message of `purpose` is in Slack (for
        Slack-side follow-ups, such as redrawing a board that changed while it was owed)."""
        self._after[purpose] = then

    def kick(self) -> None:
        """Send what is due soon (call after committing a transaction that recorded some)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._drain())

    async def settle(self) -> None:
        """Wait for the sends under way (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def prune(self) -> None:
        """Delete finished messages old enough not to be needed (the scheduler's job)."""
        async with self._sessionmaker.begin() as session:
            gone = await outbox.prune(session, self._clock.now())
        if gone:
            logger.info("Pruned %d old outbox message(s)", gone)

    async def send_due(self) -> None:
        """Send everything due now (the scheduler's job). A pass sends one message per
        channel, so pass again until nothing more can be sent: a pass finding the next
        message of a channel leased by a `kick`'s drain stops, and that drain goes on."""
        while await self.run_once():
            pass

    async def run_once(self) -> int:
        """Claim and send everything due now; returns how many attempts were made."""
        now = self._clock.now()
        async with self._sessionmaker.begin() as session:
            attempts = await outbox.claim_due(session, now)
        if not attempts:
            return 0
        by_channel: dict[str, list[Attempt]] = defaultdict(list)
        for attempt in attempts:
            by_channel[attempt.channel].append(attempt)
        gate = asyncio.Semaphore(MAX_CONCURRENT_CHANNELS)

        async def channel_in_order(queue: list[Attempt]) -> None:
            async with gate:
                for attempt in queue:
                    with acting_for(attempt.team_id):  # its workspace's token
                        await self._attempt(attempt)

        await asyncio.gather(*(channel_in_order(queue) for queue in by_channel.values()))
        return len(attempts)

    async def _drain(self) -> None:
        try:
            while True:
                self._again = False
                made = await self.run_once()
                if not made and not self._again:
                    return
        except Exception:
            logger.exception("Sending the outbox failed; the scheduler will try again")

    # -- one attempt ---------------------------------------------------------------------

    async def _attempt(self, attempt: Attempt) -> None:
        if attempt.look_first:
            try:
                found = await self._look_for(attempt)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                await self._failed(attempt, f"could not look for it: {_describe(exc)}", False)
                return
            if found is not None:
                logger.info("%s was already in Slack; not sending it again", attempt.key)
                await self._delivered(attempt, *found)
                return
        client = self._client
        try:
            response = await client.chat_postMessage(
                channel=attempt.channel,
                text=attempt.text,
                blocks=attempt.blocks,
                thread_ts=attempt.thread_ts,
                reply_broadcast=attempt.broadcast if attempt.thread_ts else None,
                metadata=metadata_for(attempt.key),
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"HTTP {status}")
            if status == 429:
                wait = _retry_after(exc.response.headers)
                await self._failed(attempt, "rate limited", True, retry_after=wait)
            elif status >= 500:
                await self._failed(attempt, f"Slack answered HTTP {status}", False)
            else:
                await self._failed(attempt, error, True, never=error in UNDELIVERABLE)
            return
        except aiohttp.ClientConnectorError as exc:
            await self._failed(attempt, _describe(exc), True)  # never reached Slack
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._failed(attempt, _describe(exc), False)  # it may have been posted
            return
        await self._delivered(attempt, str(response["channel"]), str(response["ts"]))

    async def _look_for(self, attempt: Attempt) -> tuple[str, str] | None:
        """Find the message an earlier attempt may have posted, by the key in its metadata."""
        client, channel = self._client, attempt.channel
        if channel.startswith(("U", "W")):  # a direct message: find the conversation
            opened = await client.conversations_open(users=channel)
            channel = str(opened["channel"]["id"])
        cursor: str | None = None
        for _ in range(LOOK_PAGES):
            if attempt.thread_ts is not None:
                page = await client.conversations_replies(
                    channel=channel,
                    ts=attempt.thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                oldest = attempt.created_at - LOOK_BACK
                page = await client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            for message in page.get("messages") or []:
                if _marked(message, attempt.key):
                    return channel, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    async def _delivered(self, attempt: Attempt, channel: str, ts: str) -> None:
        async with self._sessionmaker.begin() as session:
            landed = await outbox.delivered(session, attempt.id, channel, ts, self._clock.now())
        then = self._after.get(attempt.purpose or "") if landed is not None else None
        if then is not None and landed is not None:
            then(landed)

    async def _failed(
        self,
        attempt: Attempt,
        error: str,
        certain: bool,
        *,
        retry_after: timedelta | None = None,
        never: bool = False,
    ) -> None:
        async with self._sessionmaker.begin() as session:
            given_up = await outbox.not_delivered(
                session,
                attempt.id,
                self._clock.now(),
                error,
                certain=certain,
                retry_after=retry_after,
                never=never,
            )
        if given_up:
            logger.warning("Gave up sending %s: %s", attempt.key, error)
        else:
            logger.info("Sending %s failed (%s); will try again", attempt.key, error)


def _retry_after(headers: Any) -> timedelta:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return timedelta(seconds=max(1, int(value)))
            except (TypeError, ValueError):
                break
    return timedelta(seconds=1)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__


def register(scheduler: Scheduler, sender: OutboxSender) -> None:
    """Wake the sender when the database says something is due (a retry, or a message another
    process recorded or left half-sent), and prune finished messages once they are old."""

    async def planned(session: AsyncSession) -> list[PlannedJob]:
        jobs = []
        due = await outbox.next_due(session)
        if due is not None:
            jobs.append(PlannedJob(key="outbox.send", due_at=due, func=sender.send_due))
        oldest = await outbox.oldest_finished(session)
        if oldest is not None:
            jobs.append(
                PlannedJob(
                    key="outbox.prune", due_at=oldest + outbox.KEEP_FINISHED, func=sender.prune
                )
            )
        return jobs

    scheduler.add_source(planned)
