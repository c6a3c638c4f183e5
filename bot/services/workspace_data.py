"""A workspace's data, as a whole: what happens when a workspace removes hearth.

When Slack says hearth was uninstalled from a workspace (`app_uninstalled`, or its bot token
revoked: `tokens_revoked`), its installation goes at once, so nothing can act for that
workspace any more, and messages still owed to it are given up. Everything else it holds
(communities, rotas, Lean Coffees, health checks, meetups, minutes, actions) is kept for the
retention period (`HEARTH_UNINSTALL_RETENTION_DAYS`), so that a workspace that reinstalls
within it finds its community's history as it left it; then all of it is deleted
(`forget_team`, run by `bot.jobs.workspace_data`).

Which rows belong to a workspace is read from the models, not listed by hand: every table
with a `team_id`, every table hanging off one of those by foreign keys (however deep), and
the few that point at rows of several tables by a kind and an id (`POLYMORPHIC`). A test
checks that every table is one of these or is named in `NOT_WORKSPACE_DATA`, so a new table
cannot be forgotten when a workspace is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

import models.all  # noqa: F401  (every table, for finding a workspace's rows)
from bot.services import outbox
from bot.services.action_sources import SOURCES
from models.actions import ActionReminder
from models.base import Base
from models.installations import slack_bots, slack_installations
from models.workspace_data import WorkspaceDeparture

APP_UNINSTALLED = "app_uninstalled"
TOKENS_REVOKED = "tokens_revoked"
GIVEN_UP_REASON = "hearth was removed from this workspace"

# Tables that hold nothing of any one workspace: claims of timed firings (keyed by job and
# occurrence), signatures of requests already seen, the health probe, OAuth states of
# installs under way (not yet of any workspace).
NOT_WORKSPACE_DATA = frozenset(
    {"job_claim", "seen_slack_request", "health_probe", "slack_oauth_states"}
)


# How to find a workspace's rows in a table (None: the table holds none of any one's).
RowsOf = Callable[[Table], ColumnElement[bool] | None]


def _action_reminders(rows_of: RowsOf) -> ColumnElement[bool]:
    """An action reminder names its action by source and id (the action lives in one of
    several tables)."""
    conditions = []
    for source in SOURCES.values():
        table = source.model.__table__
        assert isinstance(table, Table)
        in_team = rows_of(table)
        if in_team is not None:
            conditions.append(
                (ActionReminder.source == source.name)
                & ActionReminder.action_id.in_(select(table.c.id).where(in_team))
            )
    return or_(*conditions) if conditions else false()


# Tables whose rows point at several tables by a kind and an id, with how to find a
# workspace's rows among them.
POLYMORPHIC: dict[str, Callable[[RowsOf], ColumnElement[bool]]] = {
    "action_reminder": _action_reminders,
}


@dataclass(frozen=True)
class Departure:
    team_id: str
    reason: str
    left_at: datetime
    forget_at: datetime


def _departure(row: WorkspaceDeparture) -> Departure:
    return Departure(row.team_id, row.reason, row.left_at, row.forget_at)


# -- leaving and coming back -----------------------------------------------------------------


async def leave(
    session: AsyncSession, team_id: str, reason: str, now: datetime, retention: timedelta
) -> Departure:
    """hearth was removed from `team_id`: delete its installation (nothing may act for it
    from now on), give up the messages still owed to it, and plan its data's deletion
    `retention` from now. Slack sends both events on an uninstall: the second changes
    nothing, and the first one's deletion date stands."""
    await session.execute(delete(slack_bots).where(slack_bots.c.team_id == team_id))
    await session.execute(
        delete(slack_installations).where(slack_installations.c.team_id == team_id)
    )
    await outbox.give_up_team(session, team_id, GIVEN_UP_REASON, now)
    existing = await session.get(WorkspaceDeparture, team_id)
    if existing is not None:
        return _departure(existing)
    row = WorkspaceDeparture(team_id=team_id, reason=reason, left_at=now, forget_at=now + retention)
    session.add(row)
    await session.flush()
    return _departure(row)


async def come_back(session: AsyncSession, team_id: str) -> Departure | None:
    """hearth was installed again in `team_id`: keep its data (the departure, if any, is
    called off and returned)."""
    existing = await session.get(WorkspaceDeparture, team_id)
    if existing is None:
        return None
    departed = _departure(existing)
    await session.delete(existing)
    return departed


async def departed_teams(session: AsyncSession) -> set[str]:
    """Workspaces hearth was removed from (their timed work waits: `bot.scheduler`)."""
    return set((await session.scalars(select(WorkspaceDeparture.team_id))).all())


async def departures(session: AsyncSession) -> list[Departure]:
    rows = await session.scalars(select(WorkspaceDeparture).order_by(WorkspaceDeparture.forget_at))
    return [_departure(row) for row in rows]


async def departure_due(session: AsyncSession, team_id: str, now: datetime) -> Departure | None:
    """The workspace's departure, if its data is due to be deleted by `now` and hearth has
    not been installed there again meanwhile."""
    row = await session.get(WorkspaceDeparture, team_id)
    if row is None or row.forget_at > now:
        return None
    installed = await session.scalar(
        select(slack_installations.c.id).where(slack_installations.c.team_id == team_id).limit(1)
    )
    if installed is not None:  # installed again, and the departure somehow left behind
        await session.delete(row)
        return None
    return _departure(row)


# -- forgetting ----------------------------------------------------------------------------------


def _rows_of(team_id: str) -> RowsOf:
    """How to find `team_id`'s rows in any table (None: the table holds none of any one
    workspace's)."""

    def rows_of(table: Table) -> ColumnElement[bool] | None:
        if "team_id" in table.c:
            return table.c.team_id == team_id
        conditions = []
        for foreign_key in table.foreign_keys:
            parent = foreign_key.column.table
            if parent is table or not isinstance(parent, Table):
                continue
            in_parent = rows_of(parent)
            if in_parent is not None:
                conditions.append(
                    foreign_key.parent.in_(select(foreign_key.column).where(in_parent))
                )
        if table.name in POLYMORPHIC:
            conditions.append(POLYMORPHIC[table.name](rows_of))
        return or_(*conditions) if conditions else None

    return rows_of


def workspace_tables() -> list[Table]:
    """Every table holding rows of a workspace, those pointing at others' rows first."""
    rows_of = _rows_of("T")
    order = list(reversed(Base.metadata.sorted_tables))
    found = [table for table in order if rows_of(table) is not None]
    # Rows that point at others by kind and id, not by foreign key, go before all of those.
    return sorted(found, key=lambda table: table.name not in POLYMORPHIC)


async def forget_team(session: AsyncSession, team_id: str) -> dict[str, int]:
    """Delete every row of `team_id`'s, in every table; returns how many went from each.

    Rows pointing at others go first, so it works with or without the database's cascades,
    and in one transaction (the caller's), so a failure halfway deletes nothing."""
    rows_of = _rows_of(team_id)
    deleted: dict[str, int] = {}
    for table in workspace_tables():
        condition = rows_of(table)
        assert condition is not None
        result = await session.execute(delete(table).where(condition))
        count = getattr(result, "rowcount", 0) or 0
        if count:
            deleted[table.name] = count
    return deleted


async def count_team_rows(session: AsyncSession, team_id: str) -> dict[str, int]:
    """How many of `team_id`'s rows each table holds (tables holding none left out)."""
    rows_of = _rows_of(team_id)
    counts: dict[str, int] = {}
    for table in workspace_tables():
        condition = rows_of(table)
        assert condition is not None
        count = await session.scalar(select(func.count()).select_from(table).where(condition))
        if count:
            counts[table.name] = count
    return counts
