"""A channel's community and its leads: who may change its set-up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.actor import Actor
from models.community import Community, CommunityLead


async def find_community(session: AsyncSession, team_id: str, channel_id: str) -> Community | None:
    return await session.scalar(
        select(Community).where(Community.team_id == team_id, Community.channel_id == channel_id)
    )


async def community_for(
    session: AsyncSession, actor: Actor, channel_id: str, now: datetime
) -> Community:
    """The channel's community, created on first use with the person setting it up as lead."""
    existing = await find_community(session, actor.team_id, channel_id)
    if existing is not None:
        return existing
    community = Community(
        team_id=actor.team_id, channel_id=channel_id, created_by_id=actor.user_id, created_at=now
    )
    try:
        async with session.begin_nested():
            session.add(community)
            await session.flush()
            session.add(
                CommunityLead(
                    community_id=community.id,
                    user_id=actor.user_id,
                    added_by_id=actor.user_id,
                    added_at=now,
                )
            )
            await session.flush()
    except IntegrityError:
        # Set up by someone else in the same instant.
        found = await find_community(session, actor.team_id, channel_id)
        assert found is not None
        return found
    return community


async def get_community(session: AsyncSession, team_id: str, community_id: int) -> Community:
    community = await session.scalar(
        select(Community).where(Community.id == community_id, Community.team_id == team_id)
    )
    if community is None:
        raise NotFound("I can't find that community any more.")
    return community


async def leads(session: AsyncSession, community: Community) -> list[str]:
    result = await session.scalars(
        select(CommunityLead.user_id)
        .where(CommunityLead.community_id == community.id)
        .order_by(CommunityLead.added_at, CommunityLead.id)
    )
    return list(result)


async def is_lead(session: AsyncSession, community: Community, actor: Actor) -> bool:
    """Leads are the person who set the community up, people they added, and admins."""
    if actor.user_id in await leads(session, community):
        return True
    return await actor.is_admin()


async def require_lead(
    session: AsyncSession, community: Community, actor: Actor, doing: str
) -> None:
    if not await is_lead(session, community, actor):
        names = ", ".join(f"<@{u}>" for u in await leads(session, community)) or "a workspace admin"
        raise NotAllowed(f"Only the community's leads ({names}) can {doing}.")


async def add_leads(
    session: AsyncSession,
    actor: Actor,
    community: Community,
    user_ids: Sequence[str],
    now: datetime,
) -> list[str]:
    """Add leads; returns the ones who were not leads already."""
    await require_lead(session, community, actor, "add leads")
    current = set(await leads(session, community))
    added = [u for u in dict.fromkeys(user_ids) if u not in current]
    for user_id in added:
        session.add(
            CommunityLead(
                community_id=community.id, user_id=user_id, added_by_id=actor.user_id, added_at=now
            )
        )
    await session.flush()
    return added


async def remove_leads(
    session: AsyncSession, actor: Actor, community: Community, user_ids: Sequence[str]
) -> list[str]:
    """Stop people being leads (a lead may name themselves, to step down); returns them.

    A community always keeps at least one lead of its own, even though workspace admins
    could act for it: otherwise nobody in the channel would be there to look after it.
    """
    await require_lead(session, community, actor, "remove leads")
    current = await leads(session, community)
    wanted = list(dict.fromkeys(user_ids))
    not_leads = [u for u in wanted if u not in current]
    if not_leads:
        names = ", ".join(f"<@{u}>" for u in not_leads)
        verb = "isn't a lead" if len(not_leads) == 1 else "aren't leads"
        now_leads = ", ".join(f"<@{u}>" for u in current) or "nobody yet"
        raise NotFound(f"{names} {verb} of this community. Its leads are {now_leads}.")
    if not [u for u in current if u not in wanted]:
        raise Conflict(_last_lead_message(actor, wanted))
    await session.execute(
        delete(CommunityLead).where(
            CommunityLead.community_id == community.id, CommunityLead.user_id.in_(wanted)
        )
    )
    await session.flush()
    return wanted


def _last_lead_message(actor: Actor, removing: Sequence[str]) -> str:
    make_one = "Make someone else a lead first with `/rota lead @someone`"
    if list(removing) == [actor.user_id]:
        return (
            "You're this community's only lead, and it needs at least one to look after it. "
            f"{make_one}, then you can step down. Thank you for all you've done!"
        )
    if len(removing) == 1:
        return (
            f"<@{removing[0]}> is this community's only lead, and it needs at least one to "
            f"look after it. {make_one}, then remove <@{removing[0]}>."
        )
    return (
        "That would leave the community with no leads, and it needs at least one to look "
        f"after it. {make_one}, or keep one of them."
    )
