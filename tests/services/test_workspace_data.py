"""A workspace's data as a whole: found from the models, kept while a workspace that removed
hearth may come back, then deleted without touching any other workspace's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import models.all
from bot.services import outbox
from bot.services import workspace_data as service
from models.actions import ActionReminder
from models.installations import slack_bots, slack_installations
from models.lean_coffee import LeanCoffeeTakeaway
from models.outbox import OutboxMessage
from tests.services.test_minutes import Topic, hold_lean_coffee

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
A, B = "TAAA", "TBBB"
RETENTION = timedelta(days=30)


def test_every_table_is_workspace_data_or_says_why_not() -> None:
    """A new table either holds a workspace's rows (a `team_id`, a foreign key to such a
    table, or a polymorphic reference) or is named as holding none: it is never forgotten
    when a workspace is."""
    tables = set(models.all.Base.metadata.tables)
    found = {table.name for table in service.workspace_tables()}

    assert found | service.NOT_WORKSPACE_DATA == tables
    assert not found & service.NOT_WORKSPACE_DATA
    assert {"community", "minutes", "rota_member", "lean_coffee_vote", "action_reminder"} <= found
    assert {"slack_installations", "slack_bots", "workspace_departure"} <= found
    names = [table.name for table in service.workspace_tables()]
    assert names.index("lean_coffee_vote") < names.index("lean_coffee_session")
    assert names[0] == "action_reminder"  # it points at actions by kind and id


async def installed(maker: Maker, team: str) -> None:
    async with maker.begin() as session:
        for table in (slack_installations, slack_bots):
            row = {
                "client_id": "1.2",
                "app_id": "A1",
                "team_id": team,
                "bot_token": "sealed",
                "is_enterprise_install": False,
                "installed_at": NOW.replace(tzinfo=None),
            }
            if table is slack_installations:
                row["user_id"] = "U1"
            await session.execute(table.insert().values(**row))


async def a_lean_coffee_with_an_action(maker: Maker, team: str) -> None:
    await hold_lean_coffee(
        maker,
        team=team,
        channel="CPRACTICE",  # the same channel id in both: ids are not unique across teams
        facilitator="U1",
        title=f"Coffee in {team}",
        topics=[Topic("U1", "Pairing", action=("U2", "Write it up"))],
        at=NOW - timedelta(days=3),
    )
    async with maker.begin() as session:
        action_id = await session.scalar(
            select(LeanCoffeeTakeaway.id).where(LeanCoffeeTakeaway.team_id == team)
        )
        assert action_id is not None
        session.add(
            ActionReminder(
                source="lean_coffee",
                action_id=action_id,
                due_date=date(2026, 12, 4),
                created_at=NOW,
            )
        )
        await outbox.record(
            session, team, outbox.Owed(key=f"hello:{team}", channel="CPRACTICE", text="Hi"), NOW
        )


async def test_leaving_removes_the_installation_and_gives_up_whats_owed_at_once(
    sessionmaker: Maker,
) -> None:
    for team in (A, B):
        await installed(sessionmaker, team)
        await a_lean_coffee_with_an_action(sessionmaker, team)

    async with sessionmaker.begin() as session:
        departure = await service.leave(session, A, service.APP_UNINSTALLED, NOW, RETENTION)
    async with sessionmaker.begin() as session:  # Slack's second event changes nothing
        again = await service.leave(
            session, A, service.TOKENS_REVOKED, NOW + timedelta(seconds=1), RETENTION
        )

    assert departure == again
    assert departure.forget_at == NOW + RETENTION and departure.reason == "app_uninstalled"
    async with sessionmaker() as session:
        left = await service.count_team_rows(session, A)
        assert "slack_installations" not in left and "slack_bots" not in left
        assert left["lean_coffee_session"] == 1 and left["minutes"] == 1
        states = dict(
            (await session.execute(select(OutboxMessage.team_id, OutboxMessage.state))).all()
        )
        assert states == {A: "failed", B: "pending"}
        assert await service.departed_teams(session) == {A}
        assert await service.departure_due(session, A, NOW + RETENTION - timedelta(1)) is None
        assert await service.departure_due(session, A, NOW + RETENTION) == departure


async def test_forgetting_a_workspace_deletes_all_of_its_rows_and_none_of_anothers(
    sessionmaker: Maker,
) -> None:
    for team in (A, B):
        await installed(sessionmaker, team)
        await a_lean_coffee_with_an_action(sessionmaker, team)
    async with sessionmaker() as session:
        theirs = await service.count_team_rows(session, B)
        assert await service.count_team_rows(session, A) == theirs
    assert theirs["action_reminder"] == 1 and theirs["lean_coffee_takeaway"] >= 1

    async with sessionmaker.begin() as session:
        deleted = await service.forget_team(session, A)

    assert deleted == theirs
    async with sessionmaker() as session:
        assert await service.count_team_rows(session, A) == {}
        assert await service.count_team_rows(session, B) == theirs
        assert await session.scalar(select(func.count()).select_from(ActionReminder)) == 1


async def test_coming_back_calls_the_deletion_off(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as session:
        await service.leave(session, A, service.APP_UNINSTALLED, NOW, RETENTION)
    async with sessionmaker.begin() as session:
        called_off = await service.come_back(session, A)
        assert called_off is not None and called_off.team_id == A
        assert await service.come_back(session, B) is None
    async with sessionmaker() as session:
        assert await service.departures(session) == []


async def test_a_departure_left_behind_by_a_reinstall_is_not_acted_on(sessionmaker: Maker) -> None:
    async with sessionmaker.begin() as session:
        await service.leave(session, A, service.APP_UNINSTALLED, NOW, RETENTION)
    await installed(sessionmaker, A)  # installed again, without the departure called off

    async with sessionmaker.begin() as session:
        assert await service.departure_due(session, A, NOW + RETENTION) is None
    async with sessionmaker() as session:
        assert await service.departures(session) == []
