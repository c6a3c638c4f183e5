"""Puts health checks in front of people: posts the poll, keeps its answer count current,
posts the results, and finds who is in the channel.

Listeners and the scheduled jobs both call these. Each reads in its own short transaction and
talks to Slack outside it, so no database lock is held while Slack answers. Nothing here logs
or posts who answered what.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.blocks import health_check as blocks
from bot.services import health_check as hc
from bot.services.health_check_types import CheckResults

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)

# Whether a user id is a bot never changes, so it is asked of Slack once per process.
_IS_BOT: dict[str, bool] = {}
_BOT_CACHE_LIMIT = 50_000


def dicts(items: list[Block]) -> list[dict]:
    return [block.to_dict() for block in items]


async def post_check(deps: Deps, team_id: str, check_id: int) -> str:
    """Post the poll in the community's channel and remember where it is; returns its ts.

    A poll already posted is not posted again: its ts is returned."""
    async with deps.sessionmaker() as session:
        check = await hc.get_check(session, team_id, check_id)
        respondents = await hc.respondent_count(session, team_id, check_id)
    if check.message_ts is not None:
        return check.message_ts
    response = await deps.client.chat_postMessage(
        channel=check.channel_id,
        text=blocks.poll_text(check, respondents),
        blocks=dicts(blocks.poll_blocks(check, respondents)),
    )
    ts = str(response["ts"])
    async with deps.sessionmaker.begin() as session:
        await hc.record_message(session, team_id, check_id, ts)
    return ts


async def refresh_poll(deps: Deps, team_id: str, check_id: int) -> None:
    """Redraw the poll from the database as it is now (its count, or closed)."""
    async with deps.sessionmaker() as session:
        check = await hc.get_check(session, team_id, check_id)
        respondents = await hc.respondent_count(session, team_id, check_id)
    if check.message_ts is None:
        return
    await deps.client.chat_update(
        channel=check.channel_id,
        ts=check.message_ts,
        text=blocks.poll_text(check, respondents),
        blocks=dicts(blocks.poll_blocks(check, respondents)),
    )


def request_count_refresh(deps: Deps, team_id: str, check_id: int) -> None:
    """Ask for the poll's "N people have answered" to be redrawn soon; a burst of answers
    becomes about one `chat.update` per second."""

    async def redraw() -> None:
        await refresh_poll(deps, team_id, check_id)

    deps.board_refresher.request(("health_check.poll", team_id, check_id), redraw)


async def post_results(deps: Deps, team_id: str, results: CheckResults) -> None:
    """Post a closed check's results in its channel, remember them, and redraw the poll as
    closed. Results already posted are not posted again."""
    async with deps.sessionmaker() as session:
        check = await hc.get_check(session, team_id, results.check_id)
    if check.results_ts is None:
        response = await deps.client.chat_postMessage(
            channel=results.channel_id,
            text=blocks.results_text(results),
            blocks=dicts(blocks.results_blocks(results)),
        )
        async with deps.sessionmaker.begin() as session:
            await hc.record_results_message(session, team_id, results.check_id, str(response["ts"]))
    try:
        await refresh_poll(deps, team_id, results.check_id)
    except SlackApiError as exc:
        # The poll may have been deleted; the results are out, which is what matters.
        logger.warning("Could not redraw a closed poll: %s", exc.response.get("error"))


async def _is_bot(deps: Deps, user_id: str) -> bool:
    if user_id not in _IS_BOT:
        try:
            response = await deps.client.users_info(user=user_id)
        except SlackApiError:
            return False  # unknown: count them, as Slack listed them as a member
        user = response.get("user") or {}
        if len(_IS_BOT) >= _BOT_CACHE_LIMIT:
            _IS_BOT.clear()
        _IS_BOT[user_id] = bool(user.get("is_bot")) or user_id == "USLACKBOT"
    return _IS_BOT[user_id]


async def member_ids(deps: Deps, channel_id: str) -> list[str]:
    """The people in a channel (bots left out), every page of them."""
    members: list[str] = []
    cursor: str | None = None
    while True:
        response = await deps.client.conversations_members(
            channel=channel_id, cursor=cursor or None, limit=200
        )
        members.extend(str(m) for m in response.get("members") or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return [u for u in dict.fromkeys(members) if not await _is_bot(deps, u)]
