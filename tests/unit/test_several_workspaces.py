"""hearth installed in several workspaces, piece by piece: its settings, Slack's OAuth tables
kept in step with slack_sdk's, the scopes it asks for, the pages people see, and the client
that speaks for whichever workspace hearth is acting for."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, String, Table, Text

from bot.config import SettingsError, load_settings
from bot.installations import BOT_SCOPES, install_page, installed_page, not_installed_page
from bot.workspaces import RememberedTokens, WorkspaceClient, acting, acting_for, serving_request
from models import installations as tables

REPO = Path(__file__).resolve().parents[2]
KEY = "k" * 43
SEVERAL = {
    "_env_file": None,
    "slack_client_id": "1234.5678",
    "slack_client_secret": "client-secret-0123456789",
    "slack_signing_secret": "signing-secret-0123456789",
    "hearth_secret_key": KEY,
}


# -- settings ----------------------------------------------------------------------------------


def settings_error(**given: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**given)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_client_id_and_secret_instead_of_a_bot_token() -> None:
    settings = load_settings(**SEVERAL)

    assert settings.several_workspaces
    assert settings.slack_bot_token is None
    assert settings.oauth_authorize_url == "https://slack.com/oauth/v2/authorize"
    assert settings.hearth_uninstall_retention_days == 30


def test_authorize_page_is_next_to_the_web_api() -> None:
    settings = load_settings(**SEVERAL, slack_api_url="http://127.0.0.1:8765/api/")

    assert settings.oauth_authorize_url == "http://127.0.0.1:8765/oauth/v2/authorize"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"slack_client_secret": ""}, "SLACK_CLIENT_SECRET"),
        ({"slack_client_id": ""}, "SLACK_CLIENT_ID"),
        ({"slack_app_token": "xapp-1-A1-2-abc"}, "HTTP only"),
        ({"slack_signing_secret": ""}, "SLACK_SIGNING_SECRET"),
        ({"hearth_secret_key": ""}, "HEARTH_SECRET_KEY"),
        ({"slack_bot_token": "xoxb-1-2-abc"}, "not both"),
        ({"hearth_uninstall_retention_days": -1}, "HEARTH_UNINSTALL_RETENTION_DAYS"),
        ({"slack_redirect_uri": "not a url"}, "SLACK_REDIRECT_URI"),
    ],
)
def test_what_is_missing_or_wrong_is_said_in_one_line(change: dict[str, object], says: str) -> None:
    assert says in settings_error(**{**SEVERAL, **change})


def test_the_key_is_wanted_even_on_sqlite_where_one_workspace_has_a_key_file() -> None:
    message = settings_error(**{**SEVERAL, "hearth_secret_key": None})

    assert "seals every workspace's tokens" in message


def test_the_env_example_sets_up_several_workspaces_once_filled_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET"):
        text = text.replace(f"\n{name}=\n", f"\n{name}={SEVERAL[name.lower()]}\n")
    text = text.replace("\nHEARTH_SECRET_KEY=\n", f"\nHEARTH_SECRET_KEY={KEY}\n")
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)

    settings = load_settings()

    assert settings.several_workspaces and not settings.socket_mode
    assert settings.slack_redirect_uri is None


# -- Slack's OAuth tables --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "build"),
    [
        (tables.slack_installations, SQLAlchemyInstallationStore.build_installations_table),
        (tables.slack_bots, SQLAlchemyInstallationStore.build_bots_table),
        (tables.slack_oauth_states, SQLAlchemyOAuthStateStore.build_oauth_states_table),
    ],
)
def test_oauth_tables_are_slack_sdks_with_room_for_sealed_tokens(
    ours: Table, build: object
) -> None:
    theirs: Table = build(MetaData(), ours.name)  # type: ignore[operator]

    assert [c.name for c in ours.columns] == [c.name for c in theirs.columns]
    for column in ours.columns:
        original = theirs.c[column.name]
        assert column.nullable == original.nullable, column.name
        assert column.primary_key == original.primary_key, column.name
        if column.name in tables.SEALED_COLUMNS:
            assert isinstance(column.type, Text) and isinstance(original.type, String)
        else:
            assert type(column.type) is type(original.type), column.name
            assert getattr(column.type, "length", None) == getattr(original.type, "length", None)
    assert {i.name for i in ours.indexes} == {i.name for i in theirs.indexes}


def test_the_scopes_asked_for_are_the_manifests() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))

    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]


# -- pages -------------------------------------------------------------------------------------


def test_pages_escape_what_they_show() -> None:
    page = install_page('https://slack.com/oauth/v2/authorize?a=1&b="x"')
    assert 'href="https://slack.com/oauth/v2/authorize?a=1&amp;b=&quot;x&quot;"' in page

    installation = Installation(
        app_id="A1",
        team_id="T1",
        team_name="<script>alert(1)</script>",
        user_id="U1",
        bot_token="xoxb-1",
    )
    shown = installed_page(installation)
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "/invite @hearth" in shown and "slack://app?team=T1&amp;id=A1" in shown

    assert "Start again" in not_installed_page("no_such_reason", "/slack/install")


# -- the client that speaks for a workspace ------------------------------------------------------


class Tokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.asked: list[str] = []

    async def token_for(self, team_id: str) -> str | None:
        self.asked.append(team_id)
        return self.tokens.get(team_id)

    def forget(self, team_id: str) -> None:
        pass


async def test_without_a_workspace_or_its_token_nothing_is_sent() -> None:
    # An address nothing listens on: any request sent would fail to connect.
    client = WorkspaceClient(Tokens({}), base_url="http://127.0.0.1:9/api/")

    for team in (None, "T0GONE"):
        with acting_for(team), pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C1", text="hello")
        assert caught.value.response["error"] == "not_authed"


async def test_remembered_tokens_are_looked_up_once_for_a_while() -> None:
    tokens = Tokens({"T1": "xoxb-1"})
    now = [0.0]
    remembered = RememberedTokens(tokens.token_for, reuse_seconds=60, now=lambda: now[0])

    assert await remembered.token_for("T1") == "xoxb-1"
    assert await remembered.token_for("T1") == "xoxb-1"
    now[0] = 61
    assert await remembered.token_for("T1") == "xoxb-1"
    remembered.forget("T1")
    assert await remembered.token_for("T1") == "xoxb-1"
    assert await remembered.token_for("T2") is None
    assert tokens.asked == ["T1", "T1", "T1", "T2"]


def test_a_requests_workspace_ends_with_it() -> None:
    with acting_for("T1"):
        with serving_request():
            with acting_for("T2", "xoxb-2"):
                assert acting() is not None and acting().token == "xoxb-2"  # type: ignore[union-attr]
            assert acting() is None
        assert acting() is not None and acting().team_id == "T1"  # type: ignore[union-attr]
    assert acting() is None


def test_hearth_run_knows_it_is_configured_and_keeps_the_secret_out_of_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import _secrets
    from bot.config import slack_configured

    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    assert slack_configured()  # not the sandbox

    secrets = _secrets(load_settings(**SEVERAL))
    assert SEVERAL["slack_client_secret"] in secrets and KEY in secrets
