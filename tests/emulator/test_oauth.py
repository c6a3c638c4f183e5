"""Installing an app in the emulator's workspaces as Slack documents it: the approval page,
`oauth.v2.access` (a code, or a refresh token with rotation on), and tokens that work in
their own workspace only, until they expire or the app is removed."""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.emulator.seed import OtherSeed, Seed, second_workspace
from bot.emulator.server import SlackEmulator
from bot.emulator.workspace import Workspace

REDIRECT = "https://hearth.example/slack/oauth_redirect"


@pytest.fixture
def kiln(emulator: SlackEmulator, clock: ManualClock) -> Workspace:
    emulator.oauth.redirect_urls = [REDIRECT]
    return emulator.add_workspace(second_workspace(clock))


def api(emulator: SlackEmulator, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=emulator.api_url)


async def approve(emulator: SlackEmulator, **query: str) -> tuple[int, dict[str, list[str]]]:
    """Open the approval page; (status, the redirect's query) or (status, {}) for a page."""
    query = {"client_id": emulator.oauth.client_id, "scope": "commands,chat:write", **query}
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(
            f"{emulator.base_url}/oauth/v2/authorize", params=query, allow_redirects=False
        ) as answer,
    ):
        location = answer.headers.get("Location")
        return answer.status, parse_qs(urlsplit(location).query) if location else {}


async def exchange(emulator: SlackEmulator, code: str, **extra: str) -> dict[str, object]:
    response = await api(emulator).oauth_v2_access(
        client_id=emulator.oauth.client_id,
        client_secret=emulator.oauth.client_secret,
        code=code,
        **extra,
    )
    return dict(response.data)  # type: ignore[arg-type]


async def error_of(call: Awaitable[object]) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


async def test_approving_sends_the_person_back_with_a_code_for_that_workspace(
    emulator: SlackEmulator, kiln: Workspace
) -> None:
    status, back = await approve(emulator, state="s-1", team=OtherSeed.TEAM)
    assert status == 302 and back["state"] == ["s-1"]

    installed = await exchange(emulator, back["code"][0])

    assert installed["team"] == {"id": OtherSeed.TEAM, "name": "Kiln Collective"}
    assert installed["bot_user_id"] == OtherSeed.BOT_USER
    assert installed["authed_user"] == {"id": OtherSeed.ERIN}  # the workspace's admin
    assert installed["scope"] == "commands,chat:write"
    assert installed["token_type"] == "bot" and "refresh_token" not in installed
    token = str(installed["access_token"])
    assert token == kiln.bot_token
    identity = await api(emulator, token).auth_test()
    assert identity["team_id"] == OtherSeed.TEAM and identity["user_id"] == OtherSeed.BOT_USER
    assert emulator.calls_to("auth.test")[-1].team_id == OtherSeed.TEAM


async def test_a_token_works_in_its_own_workspace_only(
    emulator: SlackEmulator, kiln: Workspace
) -> None:
    _, back = await approve(emulator, team=OtherSeed.TEAM)
    kiln_token = str((await exchange(emulator, back["code"][0]))["access_token"])

    # Each workspace's channels answer to its own token.
    await api(emulator, kiln_token).chat_postMessage(channel=OtherSeed.GUILD, text="hi")
    assert (
        await error_of(api(emulator, kiln_token).chat_postMessage(channel=Seed.PRACTICE, text="hi"))
        == "channel_not_found"
    )
    assert (
        await error_of(
            api(emulator, emulator.bot_token).chat_postMessage(channel=OtherSeed.GUILD, text="hi")
        )
        == "channel_not_found"
    )
    assert [m.text for m in kiln.state.bot_messages()] == ["hi"]
    assert emulator.state.bot_messages() == []


async def test_a_code_works_once_and_with_the_same_redirect(
    emulator: SlackEmulator, kiln: Workspace
) -> None:
    _, back = await approve(emulator, redirect_uri=REDIRECT)
    code = back["code"][0]
    assert (
        await error_of(
            api(emulator).oauth_v2_access(
                client_id=emulator.oauth.client_id,
                client_secret=emulator.oauth.client_secret,
                code=code,
                redirect_uri="https://elsewhere.example/",
            )
        )
        == "bad_redirect_uri"
    )
    assert (
        await error_of(
            api(emulator).oauth_v2_access(
                client_id=emulator.oauth.client_id,
                client_secret=emulator.oauth.client_secret,
                code=code,
                redirect_uri=REDIRECT,
            )
        )
        == "invalid_code"
    )  # spent by the first try
    assert (
        await error_of(
            api(emulator).oauth_v2_access(
                client_id=emulator.oauth.client_id, client_secret="wrong", code="nope"
            )
        )
        == "bad_client_secret"
    )


async def test_the_approval_page_refuses_what_slack_refuses(
    emulator: SlackEmulator, kiln: Workspace
) -> None:
    assert (await approve(emulator, client_id="someone-else"))[0] == 400
    assert (await approve(emulator, redirect_uri="https://evil.example/steal"))[0] == 400
    assert (await approve(emulator, scope=""))[0] == 400
    assert (await approve(emulator, team="T0NOWHERE"))[0] == 400

    emulator.oauth.deny_next = True
    status, back = await approve(emulator, state="s-2")
    assert status == 302 and back == {"error": ["access_denied"], "state": ["s-2"]}


async def test_rotating_tokens_refresh_once_and_expire(
    emulator: SlackEmulator, kiln: Workspace
) -> None:
    emulator.oauth.token_rotation = True
    _, back = await approve(emulator, team=OtherSeed.TEAM)
    installed = await exchange(emulator, back["code"][0])
    first, refresh = str(installed["access_token"]), str(installed["refresh_token"])
    assert first.startswith("xoxe.xoxb-1-") and refresh.startswith("xoxe-1-")
    assert installed["expires_in"] == 43_200

    refreshed = await api(emulator).oauth_v2_access(
        client_id=emulator.oauth.client_id,
        client_secret=emulator.oauth.client_secret,
        grant_type="refresh_token",
        refresh_token=refresh,
    )
    assert refreshed["token_type"] == "bot" and refreshed["team"]["id"] == OtherSeed.TEAM
    assert refreshed["access_token"] not in (first, None)
    assert refreshed["refresh_token"] != refresh
    assert (
        await error_of(
            api(emulator).oauth_v2_access(
                client_id=emulator.oauth.client_id,
                client_secret=emulator.oauth.client_secret,
                grant_type="refresh_token",
                refresh_token=refresh,
            )
        )
        == "invalid_refresh_token"
    )  # a refresh token works once

    grant = emulator.tokens.get(str(refreshed["access_token"]))
    assert grant is not None and grant.expires_at is not None
    grant.expires_at = emulator.tokens.now() - 1
    assert (
        await error_of(api(emulator, str(refreshed["access_token"])).auth_test()) == "token_expired"
    )


async def test_removing_the_app_revokes_its_tokens_and_tells_the_app(
    emulator: SlackEmulator, kiln: Workspace
) -> None:
    _, back = await approve(emulator, team=OtherSeed.TEAM)
    token = str((await exchange(emulator, back["code"][0]))["access_token"])
    heard: list[dict[str, object]] = []

    async def deliver(kind: str, payload: dict[str, object]) -> object:
        heard.append(payload)
        return None

    emulator.deliver = deliver  # type: ignore[assignment,method-assign]
    await emulator.uninstall(OtherSeed.TEAM)

    assert [p["event"]["type"] for p in heard] == ["tokens_revoked", "app_uninstalled"]  # type: ignore[index]
    assert {p["team_id"] for p in heard} == {OtherSeed.TEAM}
    assert heard[0]["event"]["tokens"] == {"oauth": [], "bot": [OtherSeed.BOT_USER]}  # type: ignore[index]
    assert await error_of(api(emulator, token).auth_test()) == "token_revoked"
    assert kiln.bot_token is None
    # The default workspace's token still works.
    assert (await api(emulator, emulator.bot_token).auth_test())["team_id"] == "T0HEARTH"
