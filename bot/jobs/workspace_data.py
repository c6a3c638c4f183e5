"""Deleting a departed workspace's data once its retention period is over.

Each departure (`models.workspace_data`) is a job due at its `forget_at`. The job re-reads
the departure (a reinstall removes it), claims the deletion (once, across restarts and
processes), and deletes everything of that workspace's in the same transaction.

While hearth is removed from a workspace, that workspace's other timed work waits: the
scheduler leaves out jobs acting for it (`Scheduler.pause_teams`), and picks them up again if
hearth is installed there before the deletion.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.scheduler import PlannedJob
from bot.services import workspace_data
from bot.services.scheduling import claim

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import Deps

logger = logging.getLogger(__name__)

JOB = "workspace_data.forget"


def register(deps: Deps) -> None:
    async def planned_jobs(session: AsyncSession) -> list[PlannedJob]:
        # No `team_id`: this job must run while that workspace's other work waits.
        return [
            PlannedJob(
                key=f"{JOB}:{departure.team_id}",
                due_at=departure.forget_at,
                func=forget_workspace,
                args=(deps, departure.team_id),
            )
            for departure in await workspace_data.departures(session)
        ]

    deps.scheduler.add_source(planned_jobs)
    if deps.installations is not None:
        deps.scheduler.pause_teams(workspace_data.departed_teams)


async def forget_workspace(deps: Deps, team_id: str) -> None:
    """Delete everything hearth keeps for `team_id`, once its retention period is over."""
    now = deps.clock.now()
    async with deps.sessionmaker.begin() as session:
        departure = await workspace_data.departure_due(session, team_id, now)
        if departure is None:
            return
        if not await claim(session, f"{JOB}:{team_id}", departure.left_at.isoformat(), now):
            return
        deleted = await workspace_data.forget_team(session, team_id)
    logger.info(
        "Deleted the data of workspace %s, which removed hearth on %s: %d rows (%s)",
        team_id,
        departure.left_at.date().isoformat(),
        sum(deleted.values()),
        ", ".join(f"{table} {count}" for table, count in sorted(deleted.items())) or "none",
    )
