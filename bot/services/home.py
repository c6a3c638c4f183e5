"""What a person's Home tab shows: their communities, their coming turns, the health checks
waiting for them, their open actions and the latest minutes.

Every query is scoped by team id and bounded, so publishing a Home stays cheap however big
the workspace. Which channels the person belongs to is Slack's knowledge, so the caller
passes it in (`member_of`); this module never talks to Slack.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import actions, rota
from bot.services import health_check as hc
from bot.services.actor import Actor
from models.community import Community
from models.health_check import HealthCheck
from models.lean_coffee import LeanCoffeeSession
from models.minutes import Minutes
from models.rota import RotaMember

# How much each section holds: enough to be useful, few enough to stay far inside Slack's
# 100 blocks per Home and to keep publishing to a handful of queries.
MAX_COMMUNITIES = 15
MAX_TURNS = 5
MAX_CHECKS = 5
MAX_ACTIONS = 10
MAX_MINUTES = 5
# Channels considered when looking for where hearth is in use (a workspace-wide bound).
MAX_CHANNELS_IN_USE = 500


@dataclass(frozen=True)
class CommunityCard:
    """A channel where hearth is in use, with its next meetup if it has a rota."""

    channel_id: str
    community_id: int | None
    next_meetup: datetime | None
    facilitator_id: str | None
    has_schedule: bool


@dataclass(frozen=True)
class MyTurn:
    community_id: int
    channel_id: str
    meetup_id: int
    starts_at: datetime
    confirmed: bool
    is_next: bool  # the community's very next meetup (only that one can be skipped)


@dataclass(frozen=True)
class WaitingCheck:
    check_id: int
    channel_id: str
    closes_at: datetime
    answered: int
    questions: int
    message_ts: str | None


@dataclass(frozen=True)
class OpenAction:
    """One of the person's open actions, from any source (`source` and `action_id` together
    name it, as on its "Mark as done" button)."""

    source: str
    action_id: int
    channel_id: str
    text: str
    due_date: date | None
    created_at: datetime
    session_title: str


@dataclass(frozen=True)
class RecentMinutes:
    minutes_id: int
    channel_id: str
    title: str
    held_on: date
    posted_ts: str | None


@dataclass(frozen=True)
class HomeView:
    user_id: str
    communities: tuple[CommunityCard, ...]
    more_communities: int  # beyond those shown
    turns: tuple[MyTurn, ...]
    checks: tuple[WaitingCheck, ...]
    actions: tuple[OpenAction, ...]
    minutes: tuple[RecentMinutes, ...]

    @property
    def is_empty(self) -> bool:
        return not self.communities and not self.actions


def _nobody(_user_id: str, _starts_at: datetime) -> bool:
    return False


async def channels_in_use(session: AsyncSession, team_id: str) -> list[str]:
    """Channels of this workspace where hearth is in use: a community, a Lean Coffee or
    minutes there. Slack is then asked which of them the person belongs to."""
    query = union(
        select(Community.channel_id).where(Community.team_id == team_id),
        select(LeanCoffeeSession.channel_id).where(LeanCoffeeSession.team_id == team_id),
        select(Minutes.channel_id).where(Minutes.team_id == team_id),
    )
    rows = await session.execute(select(query.subquery().c[0]).limit(MAX_CHANNELS_IN_USE))
    return sorted({str(channel_id) for (channel_id,) in rows})


async def rota_people(
    session: AsyncSession, team_id: str, channel_ids: Collection[str]
) -> list[str]:
    """Everyone in the rotas of these channels' communities: whose Slack status to check so
    the Home's turns match what `/rota` shows (someone on holiday is passed over)."""
    rows = await session.scalars(
        select(RotaMember.user_id)
        .join(Community, Community.id == RotaMember.community_id)
        .where(
            Community.team_id == team_id,
            Community.channel_id.in_(sorted(channel_ids)[:MAX_COMMUNITIES]),
            RotaMember.active.is_(True),
        )
        .distinct()
    )
    return sorted(rows)


async def _communities(
    session: AsyncSession, team_id: str, channel_ids: Collection[str]
) -> dict[str, Community]:
    rows = await session.scalars(
        select(Community).where(Community.team_id == team_id, Community.channel_id.in_(channel_ids))
    )
    return {c.channel_id: c for c in rows}


async def _waiting_checks(
    session: AsyncSession, actor: Actor, communities: Mapping[int, Community]
) -> list[WaitingCheck]:
    rows = await session.scalars(
        select(HealthCheck)
        .where(
            HealthCheck.team_id == actor.team_id,
            HealthCheck.community_id.in_(communities),
            HealthCheck.closed_at.is_(None),
        )
        .order_by(HealthCheck.closes_at, HealthCheck.id)
    )
    waiting = []
    for check in rows:
        answers = await hc.my_answers(session, actor, check.id)
        if len(answers) >= len(check.questions):
            continue
        waiting.append(
            WaitingCheck(
                check_id=check.id,
                channel_id=communities[check.community_id].channel_id,
                closes_at=check.closes_at,
                answered=len(answers),
                questions=len(check.questions),
                message_ts=check.message_ts,
            )
        )
        if len(waiting) == MAX_CHECKS:
            break
    return waiting


async def _open_actions(session: AsyncSession, actor: Actor) -> list[OpenAction]:
    """Open actions the person owns, newest first. They are theirs wherever they were
    recorded, so they show even if the person has since left that channel."""
    found = await actions.open_actions(
        session, actor.team_id, owner_id=actor.user_id, limit=MAX_ACTIONS
    )
    return [
        OpenAction(
            source=a.source,
            action_id=a.id,
            channel_id=a.channel_id,
            text=a.text,
            due_date=a.due_date,
            created_at=a.created_at,
            session_title=a.meeting_title,
        )
        for a in found
    ]


async def _recent_minutes(
    session: AsyncSession, team_id: str, channel_ids: Collection[str]
) -> list[RecentMinutes]:
    rows = await session.scalars(
        select(Minutes)
        .where(Minutes.team_id == team_id, Minutes.channel_id.in_(channel_ids))
        .order_by(Minutes.held_on.desc(), Minutes.created_at.desc(), Minutes.id.desc())
        .limit(MAX_MINUTES)
    )
    return [
        RecentMinutes(
            minutes_id=m.id,
            channel_id=m.channel_id,
            title=m.title,
            held_on=m.held_on,
            posted_ts=m.posted_ts,
        )
        for m in rows
    ]


async def home_view(
    session: AsyncSession,
    actor: Actor,
    member_of: Collection[str],
    now: datetime,
    unavailable: rota.Unavailable | None = None,
) -> HomeView:
    """Everything `actor`'s Home shows. `member_of` holds the channels (among those from
    `channels_in_use`) the person is in; nothing from any other channel is shown, except the
    actions the person owns.

    Call inside a write transaction: working out the next meetups may create their rows.
    """
    channels = sorted(set(member_of))
    communities = await _communities(session, actor.team_id, channels)
    shown = channels[:MAX_COMMUNITIES]
    cards: list[CommunityCard] = []
    turns: list[MyTurn] = []
    for channel_id in shown:
        community = communities.get(channel_id)
        if community is None:
            cards.append(CommunityCard(channel_id, None, None, None, has_schedule=False))
            continue
        has_schedule = await rota.get_schedule(session, community) is not None
        planned = (
            await rota.plan(
                session, community, now, count=rota.UPCOMING, unavailable=unavailable or _nobody
            )
            if has_schedule
            else []
        )
        first = planned[0] if planned else None
        cards.append(
            CommunityCard(
                channel_id=channel_id,
                community_id=community.id,
                next_meetup=first.starts_at if first else None,
                facilitator_id=first.facilitator_id if first else None,
                has_schedule=has_schedule,
            )
        )
        turns.extend(
            MyTurn(
                community_id=community.id,
                channel_id=channel_id,
                meetup_id=turn.meetup_id,
                starts_at=turn.starts_at,
                confirmed=turn.confirmed,
                is_next=index == 0,
            )
            for index, turn in enumerate(planned)
            if turn.facilitator_id == actor.user_id
        )
    turns.sort(key=lambda t: (t.starts_at, t.meetup_id))
    return HomeView(
        user_id=actor.user_id,
        communities=tuple(cards),
        more_communities=len(channels) - len(shown),
        turns=tuple(turns[:MAX_TURNS]),
        checks=tuple(
            await _waiting_checks(session, actor, {c.id: c for c in communities.values()})
        ),
        actions=tuple(await _open_actions(session, actor)),
        minutes=tuple(await _recent_minutes(session, actor.team_id, channels)),
    )
