"""Settings: what a community lead gets told when hearth is configured wrong, and the defaults."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, Settings, SettingsError, load_settings

BOT_TOKEN = "xoxb-1111-2222-abcdefghijklmnop"
APP_TOKEN = "xapp-1-A111-2222-abcdefghijklmnop"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

SETTING_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "HOST",
    "PORT",
    "LOG_LEVEL",
    "HEARTH_SECRET_KEY",
    "HEARTH_SECRET_KEY_FILE",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_REDIRECT_URI",
    "HEARTH_UNINSTALL_RETENTION_DAYS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No hearth setting from the machine, and a working directory without a `.env`."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def http_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)


def settings_error(**overrides: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "\n" not in message, "a settings error must be one line"
    return message


def test_missing_bot_token_names_the_variable() -> None:
    message = settings_error()

    assert "SLACK_BOT_TOKEN is not set" in message
    assert ".env.example" in message


@pytest.mark.parametrize(
    "token", ["xoxp-1111-user-token", "xapp-1-A111-app-token", "not-a-token", ""]
)
def test_bot_token_must_be_a_bot_token(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)

    message = settings_error()

    assert "SLACK_BOT_TOKEN" in message
    assert "xoxb-" in message


def test_app_token_must_be_an_app_level_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-pasted-into-the-wrong-place")

    message = settings_error()

    assert "SLACK_APP_TOKEN" in message
    assert "xapp-" in message


def test_errors_never_repeat_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-9999-very-secret-user-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-8888-very-secret-bot-token")

    message = settings_error()

    assert "very-secret" not in message


def test_several_problems_are_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    monkeypatch.setenv("DATABASE_URL", "mysql://localhost/hearth")

    message = settings_error()

    assert "SLACK_BOT_TOKEN" in message
    assert "LOG_LEVEL" in message
    assert "DATABASE_URL" in message


def test_socket_mode_needs_no_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)

    settings = load_settings()

    assert settings.socket_mode
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is not None
    assert settings.slack_app_token.get_secret_value() == APP_TOKEN


def test_http_mode_needs_the_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)

    message = settings_error()

    assert "SLACK_SIGNING_SECRET" in message
    assert "SLACK_APP_TOKEN" in message  # says how to pick Socket Mode instead


def test_http_mode_with_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)

    settings = load_settings()

    assert not settings.socket_mode
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == SIGNING_SECRET


def test_empty_values_copied_from_the_example_count_as_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")

    message = settings_error()

    assert "SLACK_SIGNING_SECRET" in message


def test_empty_signing_secret_is_fine_in_socket_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")

    settings = load_settings()

    assert settings.socket_mode
    assert settings.slack_signing_secret is None


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///./hearth.db",  # the synchronous driver would block the bot
        "postgresql://localhost/hearth",
        "postgresql+psycopg://localhost/hearth",
        "mysql+aiomysql://localhost/hearth",
        "hearth.db",
    ],
)
def test_database_url_needs_an_async_driver(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", url)

    message = settings_error()

    assert "DATABASE_URL" in message
    assert "sqlite+aiosqlite://" in message
    assert "postgresql+asyncpg://" in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////var/lib/hearth/hearth.db",
        "postgresql+asyncpg://hearth:pw@db.internal:5432/hearth",
        "postgresql+asyncpg://hearth@db/hearth?options=-csearch_path%3Dhearth",
    ],
)
def test_database_url_accepts_async_drivers(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HEARTH_SECRET_KEY", "k" * 43)  # PostgreSQL needs one (see below)

    assert load_settings().database_url == url


@pytest.mark.parametrize(
    ("given", "level"),
    [("debug", logging.DEBUG), ("INFO", logging.INFO), ("Warning", logging.WARNING)],
)
def test_log_level_ignores_case(monkeypatch: pytest.MonkeyPatch, given: str, level: int) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("LOG_LEVEL", given)

    settings = load_settings()

    assert settings.log_level == given.upper()
    assert settings.logging_level == level


def test_unknown_log_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("LOG_LEVEL", "loud")

    assert "LOG_LEVEL" in settings_error()


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_port_must_be_a_port(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("PORT", port)

    assert "PORT" in settings_error()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)

    settings = load_settings()

    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./hearth.db"
    assert settings.host == "0.0.0.0"
    assert settings.port == 3000
    assert settings.log_level == "INFO"
    assert settings.logging_level == logging.INFO
    assert settings.api_base_url == "https://slack.com/api/"
    assert settings.slack_app_token is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8765/api/", "http://127.0.0.1:8765/api/"),
        ("http://127.0.0.1:8765/api", "http://127.0.0.1:8765/api/"),
        ("http://localhost:8765", "http://localhost:8765/"),
    ],
)
def test_api_url_always_ends_with_a_slash(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("SLACK_API_URL", given)

    assert load_settings().api_base_url == expected


def test_api_url_must_be_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("SLACK_API_URL", "slack.com/api")

    assert "SLACK_API_URL" in settings_error()


def test_host_and_port_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "8080")

    settings = load_settings()

    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


def test_dotenv_file_in_the_working_directory_is_read(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text(
        "# hearth settings\n"
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\n"
        f"SLACK_APP_TOKEN={APP_TOKEN}\n"
        "DATABASE_URL=sqlite+aiosqlite:///./from-dotenv.db\n"
        "LOG_LEVEL=debug\n"
        "SOMETHING_ELSE=ignored\n",
        encoding="utf-8",
    )

    settings = load_settings()

    assert settings.slack_bot_token.get_secret_value() == BOT_TOKEN
    assert settings.socket_mode
    assert settings.database_url == "sqlite+aiosqlite:///./from-dotenv.db"
    assert settings.log_level == "DEBUG"


def test_environment_wins_over_dotenv(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    (clean_environment / ".env").write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_APP_TOKEN={APP_TOKEN}\nPORT=4000\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PORT", "5000")

    assert load_settings().port == 5000


def test_dotenv_mistakes_are_reported_like_environment_ones(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxp-a-user-token-by-mistake\n", encoding="utf-8"
    )

    message = settings_error()

    assert "SLACK_BOT_TOKEN" in message
    assert "xoxb-" in message


def test_tokens_stay_out_of_repr_and_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)

    settings = load_settings()
    shown = repr(settings) + str(settings) + str(settings.model_dump())

    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in shown


def test_overrides_take_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    http_mode(monkeypatch)

    settings = load_settings(database_url="sqlite+aiosqlite:///:memory:", port=9999)

    assert isinstance(settings, Settings)
    assert settings.database_url == "sqlite+aiosqlite:///:memory:"
    assert settings.port == 9999


ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _example_names() -> list[str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def test_env_example_lists_every_setting_once() -> None:
    names = _example_names()

    assert sorted(names) == sorted(name.upper() for name in Settings.model_fields)
    assert sorted(names) == sorted(SETTING_NAMES)


def test_env_example_works_once_the_tokens_are_filled_in(clean_environment: Path) -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("SLACK_BOT_TOKEN=\n", f"SLACK_BOT_TOKEN={BOT_TOKEN}\n")
    text = text.replace("SLACK_APP_TOKEN=\n", f"SLACK_APP_TOKEN={APP_TOKEN}\n")
    (clean_environment / ".env").write_text(text, encoding="utf-8")

    settings = load_settings()

    assert settings.socket_mode
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.api_base_url == "https://slack.com/api/"
