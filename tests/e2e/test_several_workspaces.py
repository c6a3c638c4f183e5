"""hearth installed in several workspaces, end to end, on SQLite and PostgreSQL: two
workspaces installed through /slack/install and Slack's approval, each using hearth in its own
channel and seeing only its own data; tokens sealed at rest and refreshed before they expire;
and a workspace that removes hearth losing its installation at once and its data after the
retention period, unless it comes back within it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.clock import ManualClock
from bot.emulator import payloads
from bot.emulator.seed import OtherSeed, Seed, second_workspace
from bot.emulator.server import SlackEmulator
from bot.emulator.workspace import Workspace
from bot.installations import NOT_INSTALLED_MESSAGE
from bot.scheduler import PlannedJob
from bot.workspaces import acting_for
from models.lean_coffee import LeanCoffeeVote
from models.workspace_data import WorkspaceDeparture
from tests.e2e.conftest import START, World
from tests.e2e.several_workspaces import Served, install, raw_rows, rows_of
from tests.e2e.several_workspaces import running_hearth_in_several as running
from tests.services.test_minutes import Topic, hold_lean_coffee

A, B = "T0HEARTH", OtherSeed.TEAM
PRACTICE, GUILD = Seed.PRACTICE, OtherSeed.GUILD


@pytest.fixture
def kiln(slack: SlackEmulator, clock: ManualClock) -> Workspace:
    """The emulator's second workspace, "Kiln Collective"."""
    return slack.add_workspace(second_workspace(clock))


@pytest.fixture
async def served(
    slack: SlackEmulator, kiln: Workspace, empty_database: str, clock: ManualClock
) -> AsyncIterator[Served]:
    async with running(slack, empty_database, clock) as served:
        yield served


@pytest.fixture
async def both(served: Served) -> Served:
    """hearth installed in both workspaces, the way their admins would do it."""
    for team in (A, B):
        visit = await install(served.base_url, team)
        assert visit.status == 200
        assert "hearth is in your Slack" in visit.page
    return served


def notes(person: object, channel: str) -> list[str]:
    return [m.readable_text for m in person.messages(channel) if m.ephemeral]  # type: ignore[attr-defined]


async def start_lean_coffee(person: object, channel: str, name: str) -> None:
    result = await person.run_command("/lean-coffee", channel=channel)  # type: ignore[attr-defined]
    assert result.ok
    await person.submit({"Name": name})  # type: ignore[attr-defined]


def boards(person: object, channel: str) -> list[object]:
    return [
        m
        for m in person.messages(channel)  # type: ignore[attr-defined]
        if m.from_bot and not m.ephemeral and "Facilitated by" in m.readable_text
    ]


# -- installing ------------------------------------------------------------------------------


async def test_install_page_asks_slack_for_the_manifests_scopes(
    served: Served, slack: SlackEmulator
) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{served.base_url}/slack/install") as page,
    ):
        text = await page.text()
        cookie = page.headers.get("Set-Cookie", "")

    assert "Add hearth to your Slack" in text and "Add to Slack" in text
    assert f"{slack.base_url}/oauth/v2/authorize?" in text
    assert "scope=commands,chat:write,users:read" in text
    assert "slack-app-oauth-state=" in cookie and "HttpOnly" in cookie and "Secure" in cookie


async def test_two_workspaces_install_and_each_keeps_to_itself(
    both: Served, slack: SlackEmulator, kiln: Workspace
) -> None:
    alice, erin = slack.user(Seed.ALICE), kiln.user(OtherSeed.ERIN)
    codes = [c for c in slack.calls_to("oauth.v2.access") if c.ok]
    assert len(codes) == 2
    assert {c.response["team"]["id"] for c in codes} == {A, B}

    # Each joins the rota in their own community's channel.
    assert (await alice.run_command("/rota", "join", channel=PRACTICE)).ok
    assert (await erin.run_command("/rota", "join", channel=GUILD)).ok
    await alice.run_command("/rota", channel=PRACTICE)
    await erin.run_command("/rota", channel=GUILD)
    assert "@alice" in notes(alice, PRACTICE)[-1] and "@erin" not in notes(alice, PRACTICE)[-1]
    assert "@erin" in notes(erin, GUILD)[-1] and "@alice" not in notes(erin, GUILD)[-1]

    # Each held a Lean Coffee last week (its minutes are in the archive).
    for team, channel, who, title in (
        (A, PRACTICE, Seed.ALICE, "Practice onboarding"),
        (B, GUILD, OtherSeed.ERIN, "Guild onboarding"),
    ):
        await hold_lean_coffee(
            both.hearth.deps.sessionmaker,
            team=team,
            channel=channel,
            facilitator=who,
            title=title,
            topics=[Topic(who, "Onboarding newcomers")],
            at=START - timedelta(days=3),
        )
    # Each starts a Lean Coffee: the board is posted in its own channel, with its own token.
    await start_lean_coffee(alice, PRACTICE, "Practice coffee")
    await start_lean_coffee(erin, GUILD, "Guild coffee")
    assert len(boards(alice, PRACTICE)) == 1 and len(boards(erin, GUILD)) == 1
    posts = [c for c in slack.calls_to("chat.postMessage") if c.ok]
    assert {(c.params["channel"], c.team_id) for c in posts} == {(PRACTICE, A), (GUILD, B)}
    for call in slack.calls:
        if call.team_id is not None:
            assert slack.tokens.get(call.token).team_id == call.team_id  # type: ignore[union-attr]

    # Each Home shows its own community only.
    await alice.open_home()
    await erin.open_home()
    assert alice.home is not None and erin.home is not None
    assert "#practice" in alice.home.readable_text and "#guild" not in alice.home.readable_text
    assert "#guild" in erin.home.readable_text and "#practice" not in erin.home.readable_text

    # /minutes search finds each workspace's minutes only.
    await alice.run_command("/minutes", "onboarding", channel=PRACTICE)
    await erin.run_command("/minutes", "onboarding", channel=GUILD)
    assert "Practice onboarding" in notes(alice, PRACTICE)[-1]
    assert "Guild onboarding" not in notes(alice, PRACTICE)[-1]
    assert "Guild onboarding" in notes(erin, GUILD)[-1]
    assert "Practice onboarding" not in notes(erin, GUILD)[-1]


async def test_a_request_from_one_workspace_naming_anothers_ids_gets_nothing_of_it(
    both: Served, slack: SlackEmulator, kiln: Workspace
) -> None:
    alice, erin = slack.user(Seed.ALICE), kiln.user(OtherSeed.ERIN)
    await alice.run_command("/rota", "join", channel=PRACTICE)
    await start_lean_coffee(alice, PRACTICE, "Practice coffee")
    await alice.run_command("/lean-coffee", "Onboarding newcomers", channel=PRACTICE)
    board = boards(alice, PRACTICE)[-1]
    before = len(slack.calls)

    # A slash command signed for Kiln naming #practice, a channel of the other workspace.
    practice = slack.state.channels[PRACTICE]
    url = kiln.state.issue_response_url(PRACTICE, OtherSeed.ERIN)
    for command in ("/rota", "/lean-coffee minutes"):
        name, _, text = command.partition(" ")
        forged = payloads.slash_command(
            kiln.state,
            user=kiln.state.users[OtherSeed.ERIN],
            channel=practice,
            command=name,
            text=text,
            response_url=slack.response_url(url.id),
            trigger_id=kiln.state.issue_trigger(OtherSeed.ERIN).id,
        )
        result = await slack.deliver("slash_commands", forged)
        assert result.status == 200
        assert "@alice" not in result.body and "Practice coffee" not in result.body

    # A click signed for Kiln on a copy of the other workspace's board, its ids in the values.
    original = slack.state.find_message(PRACTICE, board.ts)
    assert original is not None
    kiln.state.messages.append(dataclasses.replace(original, channel=GUILD))
    await erin.click(erin.messages(GUILD)[-1], "Vote")

    async with both.hearth.deps.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(LeanCoffeeVote)) == 0
    later = slack.calls[before:]
    assert all(c.team_id in (None, B) for c in later), "nothing acted with the other's token"
    # hearth may ask Slack about the channel named, as Kiln: Slack knows no such channel there.
    for call in later:
        if call.params.get("channel") == PRACTICE:
            assert call.team_id == B and call.response.get("error") == "channel_not_found"
    assert "I can't find that Lean Coffee" in notes(erin, GUILD)[-1]
    assert slack.state.find_message(PRACTICE, board.ts).text == board.text  # type: ignore[union-attr]
    sent = " ".join(str(c.params) for c in later)
    assert "Onboarding newcomers" not in sent and "@alice" not in sent


# -- tokens ------------------------------------------------------------------------------------


async def test_tokens_are_sealed_at_rest(
    both: Served, slack: SlackEmulator, kiln: Workspace, empty_database: str
) -> None:
    for table in ("slack_installations", "slack_bots"):
        rows = await raw_rows(both.hearth, table)
        assert {row["team_id"] for row in rows} == {A, B}
        for row in rows:
            raw = str(row)
            assert "xoxb-" not in raw and "xoxe" not in raw
            assert str(row["bot_token"]).startswith("gAAAA")  # a Fernet token
    # The store opens them to the tokens Slack issued.
    store = both.hearth.deps.installations.store  # type: ignore[union-attr]
    for workspace in (slack.workspace(A), kiln):
        found = await store.async_find_installation(enterprise_id=None, team_id=workspace.team_id)
        assert found is not None and found.bot_token == workspace.bot_token

    url = make_url(empty_database)
    if url.get_backend_name() == "sqlite":
        await both.hearth.engine.dispose()  # every connection closed: the files are complete
        database = Path(str(url.database))
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                assert b"xoxb-" not in path.read_bytes()


async def test_rotating_tokens_are_refreshed_before_they_expire(
    served: Served, slack: SlackEmulator, kiln: Workspace
) -> None:
    slack.oauth.token_rotation = True
    slack.oauth.expires_in = 600  # within Bolt's two hours: due for a refresh at once
    assert (await install(served.base_url, B)).status == 200
    first = kiln.bot_token
    assert first is not None and first.startswith("xoxe.xoxb-")

    def refreshes() -> list[str]:
        return [
            c.params["grant_type"]
            for c in slack.calls_to("oauth.v2.access")
            if c.ok and c.params.get("grant_type")
        ]

    # Work that is not a request (a job, the outbox) refreshes the token before using it.
    with acting_for(B):
        identity = await served.hearth.deps.client.auth_test()
    assert identity["team_id"] == B
    assert refreshes() == ["refresh_token"]
    second = kiln.bot_token
    assert second not in (None, first)
    assert slack.calls_to("auth.test")[-1].token == second

    # So does a request; the new token (Slack's 12 hours) is the one used from then on.
    slack.oauth.expires_in = 43_200
    erin = kiln.user(OtherSeed.ERIN)
    assert (await erin.run_command("/rota", "join", channel=GUILD)).ok
    assert refreshes() == ["refresh_token", "refresh_token"]
    third = kiln.bot_token
    assert third not in (None, first, second)
    since_refresh = slack.calls[[c.method for c in slack.calls].index("oauth.v2.access", 3) :]
    used = {c.token for c in since_refresh if c.team_id == B}
    assert used == {third}
    assert all(c.ok for c in slack.calls if c.team_id == B)

    # Stored sealed, and found again: the next request needs no refresh.
    rows = await raw_rows(served.hearth, "slack_installations")
    assert all("xoxe" not in str(row) for row in rows)
    store = served.hearth.deps.installations.store  # type: ignore[union-attr]
    found = await store.async_find_installation(enterprise_id=None, team_id=B)
    assert found is not None and found.bot_token == third
    assert found.bot_refresh_token is not None and found.bot_refresh_token.startswith("xoxe-1-")
    await erin.run_command("/rota", channel=GUILD)
    assert "@erin" in notes(erin, GUILD)[-1]
    assert len(refreshes()) == 2


# -- leaving and coming back ---------------------------------------------------------------------


async def use_hearth(served: Served, slack: SlackEmulator, kiln: Workspace) -> None:
    """Both communities use hearth: a rota, a Lean Coffee under way, minutes."""
    alice, erin = slack.user(Seed.ALICE), kiln.user(OtherSeed.ERIN)
    for person, channel, team, title in (
        (alice, PRACTICE, A, "Practice coffee"),
        (erin, GUILD, B, "Guild coffee"),
    ):
        await hold_lean_coffee(
            served.hearth.deps.sessionmaker,
            team=team,
            channel=channel,
            facilitator=person.id,
            title=f"{title} last month",
            topics=[Topic(person.id, "Pairing")],
            at=START - timedelta(days=30),
        )
        await person.run_command("/rota", "join", channel=channel)
        await start_lean_coffee(person, channel, title)
        await person.run_command("/lean-coffee", "Onboarding newcomers", channel=channel)
        await person.click(boards(person, channel)[-1], "Close voting")
        await person.click(boards(person, channel)[-1], "Start next topic")  # a time-box runs


async def test_a_workspace_that_removes_hearth_is_forgotten_after_the_retention_period(
    both: Served, slack: SlackEmulator, kiln: Workspace, clock: ManualClock
) -> None:
    await use_hearth(both, slack, kiln)
    kept = await rows_of(both.hearth, A)
    theirs = await rows_of(both.hearth, B)
    assert {"community", "rota_member", "lean_coffee_session", "minutes"} <= kept.keys()
    assert "slack_installations" in theirs

    def acting_for_a(planned: list[PlannedJob]) -> list[str]:
        return [job.key for job in planned if job.acts_for == A]

    assert acting_for_a(await both.hearth.scheduler.planned())  # its time-box, for one

    deliveries = await slack.uninstall(A)

    assert [d.status for d in deliveries] == [200, 200]
    assert acting_for_a(await both.hearth.scheduler.planned()) == []
    left = await rows_of(both.hearth, A)
    assert "slack_installations" not in left and "slack_bots" not in left
    assert left["workspace_departure"] == 1
    assert left["community"] == kept["community"]
    # Someone in that workspace gets a kind word, not an error.
    before = len(slack.calls)
    alice = slack.user(Seed.ALICE)
    result = await alice.run_command("/rota", channel=PRACTICE)
    assert result.status == 200
    assert NOT_INSTALLED_MESSAGE in notes(alice, PRACTICE)[-1]
    assert [c.method for c in slack.calls[before:]] == ["response_url"]
    # The other workspace carries on.
    erin = kiln.user(OtherSeed.ERIN)
    await erin.run_command("/rota", channel=GUILD)
    assert "@erin" in notes(erin, GUILD)[-1]

    # Its timed work waits (the other's runs), and nothing acts for it meanwhile.
    before = len(slack.calls)
    clock.advance(timedelta(days=29))
    await both.hearth.scheduler.run_due()
    await both.hearth.settle()
    assert [c for c in slack.calls[before:] if c.team_id == B]  # its time-box ended
    assert not [c for c in slack.calls[before:] if c.team_id == A or not c.ok]
    assert (await rows_of(both.hearth, A))["community"] == kept["community"]

    clock.advance(timedelta(days=2))
    await both.hearth.scheduler.run_due()

    assert await rows_of(both.hearth, A) == {}
    # Nothing of the other's went: its time-box moved on (a poll more), and only the outbox
    # tidied away messages it sent long ago, as it does.
    still = await rows_of(both.hearth, B)
    assert all(
        still.get(table, 0) >= count for table, count in theirs.items() if table != "outbox_message"
    )
    async with both.hearth.deps.sessionmaker() as session:
        assert await session.get(WorkspaceDeparture, A) is None


async def test_coming_back_within_the_retention_period_keeps_everything(
    both: Served, slack: SlackEmulator, kiln: Workspace, clock: ManualClock
) -> None:
    await use_hearth(both, slack, kiln)
    kept = await rows_of(both.hearth, A)
    await slack.uninstall(A)
    clock.advance(timedelta(days=10))

    visit = await install(both.base_url, A)

    assert visit.status == 200 and "hearth is in your Slack" in visit.page
    async with both.hearth.deps.sessionmaker() as session:
        assert await session.get(WorkspaceDeparture, A) is None
    clock.advance(timedelta(days=40))
    await both.hearth.scheduler.run_due()
    back = await rows_of(both.hearth, A)
    assert back["community"] == kept["community"] and back["minutes"] == kept["minutes"]
    alice = slack.user(Seed.ALICE)
    await alice.run_command("/rota", channel=PRACTICE)
    assert "@alice" in notes(alice, PRACTICE)[-1]


async def test_an_install_that_does_not_finish_says_so_kindly(
    served: Served, slack: SlackEmulator
) -> None:
    slack.oauth.deny_next = True
    cancelled = await install(served.base_url)
    assert cancelled.status == 200
    assert "hearth wasn't added" in cancelled.page
    assert "nothing has changed in your workspace" in cancelled.page
    assert 'href="/slack/install"' in cancelled.page

    elsewhere = await install(served.base_url, same_browser=False)
    assert elsewhere.status == 400
    assert "started in another browser" in elsewhere.page
    assert await raw_rows(served.hearth, "slack_installations") == []


async def test_an_unexpected_failure_on_the_install_pages_shows_a_kind_page(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import html

    import aiohttp

    async def database_away(*args: object, **kwargs: object) -> str:
        raise OSError("the database went away")

    states = served.hearth.deps.installations.states  # type: ignore[union-attr]
    monkeypatch.setattr(states, "async_issue", database_away)
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{served.base_url}/slack/install") as page,
    ):
        status, text = page.status, html.unescape(await page.text())

    assert status == 500
    assert "Something went wrong on hearth's side" in text
    assert "The install page failed" in caplog.text


# -- in one workspace ----------------------------------------------------------------------------


async def test_in_one_workspace_removing_hearth_is_logged_and_nothing_is_deleted(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    alice = world.slack.user(Seed.ALICE)
    await alice.run_command("/rota", "join", channel=PRACTICE)
    kept = await rows_of(world.hearth, A)

    with caplog.at_level(logging.WARNING, logger="handlers.workspace_data"):
        deliveries = await world.slack.uninstall()

    assert [d.status for d in deliveries] == [200, 200]
    assert "SLACK_BOT_TOKEN no longer works there" in caplog.text
    assert await rows_of(world.hearth, A) == kept
    async with world.hearth.deps.sessionmaker() as session:
        assert await session.get(WorkspaceDeparture, A) is None
