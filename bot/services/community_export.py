"""One community's data as JSON, for `hearth export`: for keeping, moving or looking through
outside Slack.

It holds the community and its leads, its meetup schedule, rota and meetups, its Lean Coffees
(topics with their dot counts, takeaways, "Keep going?" tallies), chat meetups (prompts,
replies and takeaways), health checks, actions and minutes: everything hearth keeps for the
channel, in one workspace. What hearth promises never to show stays out of it: no health
check answer of anyone (a check's results only), no reply marked off the record, and no
proposer of a topic in a Lean Coffee with anonymous topics. People are Slack IDs, as stored
(`forgotten` for someone who asked hearth to forget them).

Keys are sorted and lists ordered by time then id, so exporting twice gives the same file;
moments are ISO 8601 in UTC (`2026-11-23T10:00:00Z`), days `2026-11-23`. Nothing here talks
to Slack; every query is scoped by the team id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import DomainError
from bot.services.action_sources import SOURCES as ACTION_SOURCES
from models.community import Community, CommunityLead
from models.health_check import (
    HealthCheck,
    HealthCheckQuestion,
    HealthCheckResult,
    HealthCheckSetup,
)
from models.lean_coffee import (
    LeanCoffeePoll,
    LeanCoffeePollVote,
    LeanCoffeeSession,
    LeanCoffeeTakeaway,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.meetup import ChatMeetup, ChatMeetupPrompt, ChatMeetupReply, ChatMeetupTakeaway
from models.minutes import Minutes
from models.rota import Meetup, MeetupSchedule, MeetupSkip, RotaAway, RotaMember, SwapRequest

FORMAT = "hearth.community_export"
VERSION = 1

Data = dict[str, Any]


class NoSuchChannel(DomainError):
    """hearth has nothing for that channel (in that workspace)."""


class SeveralWorkspaces(DomainError):
    """The channel id is used in more than one workspace: say which."""


# --- plain JSON values -----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """`value` as JSON can hold it: moments in UTC as `…Z`, days as `YYYY-MM-DD`."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _fields(row: Any, names: Iterable[str]) -> Data:
    return {name: plain(getattr(row, name)) for name in names}


def to_json(data: Data) -> str:
    """The export as text: UTF-8-ready (no `\\u` escapes), sorted keys, two-space indents."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# --- which workspace -------------------------------------------------------------------------


async def workspaces_using(session: AsyncSession, channel_id: str) -> list[str]:
    """Workspaces (team ids) with anything hearth keeps for this channel id."""
    query = union(
        select(Community.team_id).where(Community.channel_id == channel_id),
        select(LeanCoffeeSession.team_id).where(LeanCoffeeSession.channel_id == channel_id),
        select(ChatMeetup.team_id).where(ChatMeetup.channel_id == channel_id),
        select(Minutes.team_id).where(Minutes.channel_id == channel_id),
    )
    return sorted({str(team) for team in await session.scalars(select(query.subquery().c[0]))})


async def which_workspace(session: AsyncSession, channel_id: str, team_id: str | None) -> str:
    """The workspace to export `channel_id` from: `team_id` when given (and hearth has the
    channel there), else the only one that has it."""
    teams = await workspaces_using(session, channel_id)
    if team_id is not None:
        if team_id not in teams:
            raise NoSuchChannel(
                f"hearth has nothing for channel {channel_id} in workspace {team_id}."
            )
        return team_id
    if not teams:
        raise NoSuchChannel(
            f"hearth has nothing for channel {channel_id}. Check the channel's ID (in Slack: "
            "the channel's name, then the ID at the bottom of About)."
        )
    if len(teams) > 1:
        raise SeveralWorkspaces(
            f"Channel {channel_id} is in more than one workspace here ({', '.join(teams)}); "
            "say which with --team."
        )
    return teams[0]


# --- the parts -------------------------------------------------------------------------------


async def _community(session: AsyncSession, team_id: str, channel_id: str) -> Data:
    """The community and what hangs off it: leads, schedule, rota, meetups, health checks
    (each None or empty when the channel never set a community up)."""
    community = await session.scalar(
        select(Community).where(Community.team_id == team_id, Community.channel_id == channel_id)
    )
    if community is None:
        return {
            "community": None,
            "schedule": None,
            "rota": {"members": [], "away": []},
            "meetups": [],
            "health_checks": {"setup": None, "checks": []},
        }
    leads = await session.scalars(
        select(CommunityLead)
        .where(CommunityLead.community_id == community.id)
        .order_by(CommunityLead.added_at, CommunityLead.id)
    )
    schedule = await session.scalar(
        select(MeetupSchedule).where(MeetupSchedule.community_id == community.id)
    )
    return {
        "community": {
            **_fields(community, ("created_at", "created_by_id")),
            "leads": [_fields(lead, ("user_id", "added_by_id", "added_at")) for lead in leads],
        },
        "schedule": None
        if schedule is None
        else _fields(
            schedule,
            (
                "frequency",
                "weekday",
                "every_weeks",
                "week_of_month",
                "at_time",
                "time_zone",
                "anchor",
                "duration_minutes",
                "format",
                "reminder_minutes_before",
                "announce_minutes_before",
                "created_by_id",
                "updated_at",
            ),
        ),
        "rota": await _rota(session, community.id),
        "meetups": await _meetups(session, community.id),
        "health_checks": await _health_checks(session, team_id, community.id),
    }


async def _rota(session: AsyncSession, community_id: int) -> Data:
    members = await session.scalars(
        select(RotaMember)
        .where(RotaMember.community_id == community_id)
        .order_by(RotaMember.joined_at, RotaMember.id)
    )
    away = await session.scalars(
        select(RotaAway)
        .where(RotaAway.community_id == community_id)
        .order_by(RotaAway.starts_on, RotaAway.id)
    )
    return {
        "members": [_fields(m, ("user_id", "joined_at", "active")) for m in members],
        "away": [
            _fields(a, ("user_id", "starts_on", "ends_on", "created_by_id", "created_at"))
            for a in away
        ],
    }


async def _meetups(session: AsyncSession, community_id: int) -> list[Data]:
    meetups = list(
        await session.scalars(
            select(Meetup)
            .where(Meetup.community_id == community_id)
            .order_by(Meetup.starts_at, Meetup.id)
        )
    )
    ids = [m.id for m in meetups]
    skips = await session.scalars(
        select(MeetupSkip).where(MeetupSkip.meetup_id.in_(ids)).order_by(MeetupSkip.id)
    )
    swaps = await session.scalars(
        select(SwapRequest).where(SwapRequest.meetup_id.in_(ids)).order_by(SwapRequest.id)
    )
    skipped: dict[int, list[Data]] = {}
    for skip in skips:
        skipped.setdefault(skip.meetup_id, []).append(_fields(skip, ("user_id", "created_at")))
    swapped: dict[int, list[Data]] = {}
    for swap in swaps:
        swapped.setdefault(swap.meetup_id, []).append(
            _fields(swap, ("from_user_id", "to_user_id", "status", "created_at", "decided_at"))
        )
    return [
        {
            **_fields(
                m,
                (
                    "id",
                    "occurrence",
                    "starts_at",
                    "duration_minutes",
                    "status",
                    "facilitator_id",
                    "confirmed_at",
                ),
            ),
            "skipped_by": skipped.get(m.id, []),
            "swap_requests": swapped.get(m.id, []),
        }
        for m in meetups
    ]


async def _health_checks(session: AsyncSession, team_id: str, community_id: int) -> Data:
    """The set-up and each check with its results: never anyone's answer."""
    setup = await session.scalar(
        select(HealthCheckSetup).where(HealthCheckSetup.community_id == community_id)
    )
    questions = (
        []
        if setup is None
        else await session.scalars(
            select(HealthCheckQuestion)
            .where(HealthCheckQuestion.setup_id == setup.id)
            .order_by(HealthCheckQuestion.position, HealthCheckQuestion.id)
        )
    )
    checks = list(
        await session.scalars(
            select(HealthCheck)
            .where(HealthCheck.team_id == team_id, HealthCheck.community_id == community_id)
            .order_by(HealthCheck.opened_at, HealthCheck.id)
        )
    )
    results: dict[int, list[Data]] = {}
    for result in await session.scalars(
        select(HealthCheckResult)
        .where(HealthCheckResult.check_id.in_([c.id for c in checks]))
        .order_by(HealthCheckResult.position, HealthCheckResult.id)
    ):
        results.setdefault(result.check_id, []).append(
            _fields(
                result,
                (
                    "question_key",
                    "title",
                    "answers",
                    "counts",
                    "score",
                    "disagreement",
                    "previous_score",
                    "trend",
                ),
            )
        )
    return {
        "setup": None
        if setup is None
        else {
            **_fields(
                setup,
                (
                    "scale",
                    "frequency",
                    "weekday",
                    "every_weeks",
                    "week_of_month",
                    "at_time",
                    "time_zone",
                    "anchor",
                    "open_hours",
                    "anonymous",
                    "reminders",
                    "min_answers",
                    "created_by_id",
                    "updated_at",
                ),
            ),
            "questions": [_fields(q, ("key", "title", "best", "worst")) for q in questions],
        },
        "checks": [
            {
                **_fields(
                    check,
                    (
                        "id",
                        "questions",
                        "scale",
                        "anonymous",
                        "min_answers",
                        "started_by_id",
                        "opened_at",
                        "closes_at",
                        "closed_at",
                        "closed_by_id",
                        "member_count",
                        "respondent_count",
                        "below_minimum",
                    ),
                ),
                "results": results.get(check.id, []),
            }
            for check in checks
        ],
    }


async def _counts(session: AsyncSession, column: Any, where: Any) -> dict[Any, int]:
    rows = await session.execute(select(column, func.count()).where(where).group_by(column))
    return {key: int(n) for key, n in rows}


async def _lean_coffees(session: AsyncSession, team_id: str, channel_id: str) -> list[Data]:
    sessions = list(
        await session.scalars(
            select(LeanCoffeeSession)
            .where(LeanCoffeeSession.team_id == team_id, LeanCoffeeSession.channel_id == channel_id)
            .order_by(LeanCoffeeSession.started_at, LeanCoffeeSession.id)
        )
    )
    exported = []
    for lc in sessions:
        dots = await _counts(session, LeanCoffeeVote.topic_id, LeanCoffeeVote.session_id == lc.id)
        topics = await session.scalars(
            select(LeanCoffeeTopic)
            .where(LeanCoffeeTopic.session_id == lc.id, LeanCoffeeTopic.team_id == team_id)
            .order_by(LeanCoffeeTopic.proposed_at, LeanCoffeeTopic.id)
        )
        takeaways = await session.scalars(
            select(LeanCoffeeTakeaway)
            .where(LeanCoffeeTakeaway.session_id == lc.id, LeanCoffeeTakeaway.team_id == team_id)
            .order_by(LeanCoffeeTakeaway.created_at, LeanCoffeeTakeaway.id)
        )
        polls = list(
            await session.scalars(
                select(LeanCoffeePoll)
                .where(LeanCoffeePoll.session_id == lc.id)
                .order_by(LeanCoffeePoll.opened_at, LeanCoffeePoll.id)
            )
        )
        exported.append(
            {
                **_fields(
                    lc,
                    (
                        "id",
                        "title",
                        "status",
                        "facilitator_id",
                        "started_by_id",
                        "votes_per_person",
                        "timebox_minutes",
                        "extension_minutes",
                        "anonymous_topics",
                        "started_at",
                        "voting_closed_at",
                        "ended_at",
                    ),
                ),
                "topics": [
                    {
                        **_fields(
                            t,
                            (
                                "id",
                                "title",
                                "detail",
                                "state",
                                "proposed_at",
                                "carried_from_id",
                                "merged_into_id",
                                "queue_position",
                                "votes_at_close",
                            ),
                        ),
                        "proposer_id": None if lc.anonymous_topics else t.proposer_id,
                        "dots": dots.get(t.id, 0),
                    }
                    for t in topics
                ],
                "takeaways": [
                    _fields(
                        t,
                        (
                            "id",
                            "topic_id",
                            "text",
                            "author_id",
                            "is_action",
                            "owner_id",
                            "due_date",
                            "created_at",
                            "done_at",
                            "done_by_id",
                        ),
                    )
                    for t in takeaways
                ],
                "keep_going_polls": [
                    {
                        **_fields(p, ("topic_id", "round", "opened_at", "decided_at", "outcome")),
                        "votes": await _counts(
                            session, LeanCoffeePollVote.choice, LeanCoffeePollVote.poll_id == p.id
                        ),
                    }
                    for p in polls
                ],
            }
        )
    return exported


async def _chat_meetups(session: AsyncSession, team_id: str, channel_id: str) -> list[Data]:
    meetups = list(
        await session.scalars(
            select(ChatMeetup)
            .where(ChatMeetup.team_id == team_id, ChatMeetup.channel_id == channel_id)
            .order_by(ChatMeetup.started_at, ChatMeetup.id)
        )
    )
    exported = []
    for meetup in meetups:
        prompts = await session.scalars(
            select(ChatMeetupPrompt)
            .where(ChatMeetupPrompt.meetup_id == meetup.id)
            .order_by(ChatMeetupPrompt.position, ChatMeetupPrompt.id)
        )
        replies = list(
            await session.scalars(
                select(ChatMeetupReply)
                .where(ChatMeetupReply.meetup_id == meetup.id)
                .order_by(ChatMeetupReply.created_at, ChatMeetupReply.message_ts)
            )
        )
        takeaways = await session.scalars(
            select(ChatMeetupTakeaway)
            .where(ChatMeetupTakeaway.meetup_id == meetup.id)
            .order_by(ChatMeetupTakeaway.created_at, ChatMeetupTakeaway.id)
        )
        exported.append(
            {
                **_fields(
                    meetup,
                    (
                        "id",
                        "status",
                        "facilitator_id",
                        "started_by_id",
                        "stand_in",
                        "length_minutes",
                        "pace_minutes",
                        "started_at",
                        "ends_at",
                        "ended_at",
                        "ended_by_id",
                        "rota_meetup_id",
                    ),
                ),
                "prompts": [
                    {
                        **_fields(p, ("position", "text", "release_at")),
                        # Off the record stays off: only how many there were.
                        "replies": [
                            _fields(r, ("author_id", "text", "created_at"))
                            for r in replies
                            if r.prompt_id == p.id and not r.off_record
                        ],
                        "off_record_replies": sum(
                            1 for r in replies if r.prompt_id == p.id and r.off_record
                        ),
                    }
                    for p in prompts
                ],
                "takeaways": [
                    _fields(
                        t,
                        (
                            "text",
                            "author_id",
                            "owner_id",
                            "due_date",
                            "created_at",
                            "done_at",
                            "done_by_id",
                        ),
                    )
                    for t in takeaways
                ],
            }
        )
    return exported


async def _actions(session: AsyncSession, team_id: str, channel_id: str) -> list[Data]:
    """Every action recorded in the channel, open or done, from every source."""
    found: list[Data] = []
    for source in ACTION_SOURCES.values():
        rows = await session.execute(
            source.select().where(*source.in_team(team_id), source.channel() == channel_id)
        )
        for row in rows.mappings():
            topic, meeting = source.titles(row)
            found.append(
                {
                    "source": source.name,
                    **{
                        key: plain(row[key])
                        for key in (
                            "id",
                            "text",
                            "owner_id",
                            "author_id",
                            "due_date",
                            "created_at",
                            "done_at",
                            "done_by_id",
                        )
                    },
                    "topic": topic,
                    "meeting": meeting,
                }
            )
    return sorted(found, key=lambda a: (a["created_at"], a["source"], a["id"]))


async def _minutes(session: AsyncSession, team_id: str, channel_id: str) -> list[Data]:
    rows = await session.scalars(
        select(Minutes)
        .where(Minutes.team_id == team_id, Minutes.channel_id == channel_id)
        .order_by(Minutes.held_on, Minutes.created_at, Minutes.id)
    )
    return [
        _fields(
            row,
            (
                "id",
                "source",
                "title",
                "held_on",
                "facilitator_id",
                "created_at",
                "posted_ts",
                "body",
            ),
        )
        for row in rows
    ]


async def export_community(
    session: AsyncSession, channel_id: str, team_id: str | None = None
) -> Data:
    """Everything hearth keeps for the channel's community, as plain JSON values.

    `team_id` is needed only when the channel id is used in more than one workspace here
    (`SeveralWorkspaces`); `NoSuchChannel` when hearth has nothing for it."""
    team_id = await which_workspace(session, channel_id, team_id)
    return {
        "format": FORMAT,
        "version": VERSION,
        "team_id": team_id,
        "channel_id": channel_id,
        **await _community(session, team_id, channel_id),
        "lean_coffees": await _lean_coffees(session, team_id, channel_id),
        "chat_meetups": await _chat_meetups(session, team_id, channel_id),
        "actions": await _actions(session, team_id, channel_id),
        "minutes": await _minutes(session, team_id, channel_id),
    }


__all__ = [
    "NoSuchChannel",
    "SeveralWorkspaces",
    "export_community",
    "plain",
    "to_json",
    "which_workspace",
]
