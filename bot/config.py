"""Settings read from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_KEY_LENGTH = 32
DEFAULT_UNINSTALL_RETENTION_DAYS = 30
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./hearth.db"
SLACK_API_URL = "https://slack.com/api/"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class KeySettings(BaseSettings):
    """Where the installation's key comes from (see `bot.keys`): `HEARTH_SECRET_KEY`, else a
    key file that hearth makes itself (a single process on SQLite)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    hearth_secret_key: SecretStr | None = Field(
        default=None, description="The installation's key that seals secrets"
    )
    hearth_secret_key_file: Path = Path("hearth.key")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("hearth_secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < MIN_KEY_LENGTH:
            raise ValueError(
                f"must be at least {MIN_KEY_LENGTH} characters; make one with: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @property
    def on_postgresql(self) -> bool:
        return self.database_url.startswith("postgresql")


class Settings(KeySettings):
    """Everything hearth needs to know about where it runs.

    Tokens are `SecretStr` so they never show up in logs or tracebacks.
    """

    # Required, except when hearth is installed in several workspaces (SLACK_CLIENT_ID and
    # SLACK_CLIENT_SECRET set instead): then each workspace's token is in the database.
    slack_bot_token: SecretStr | None = Field(description="Bot User OAuth Token (xoxb-…)")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing Secret, required in HTTP mode"
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-Level Token (xapp-…); when set, hearth uses Socket Mode"
    )
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(SLACK_API_URL))
    # hearth installed in several workspaces (Slack's "distribution"): see bot.installations.
    slack_client_id: str | None = Field(
        default=None, description="Client ID, to install hearth in several workspaces"
    )
    slack_client_secret: SecretStr | None = Field(
        default=None, description="Client Secret, to install hearth in several workspaces"
    )
    slack_redirect_uri: AnyHttpUrl | None = Field(
        default=None, description="https://<your host>/slack/oauth_redirect, if not the app's first"
    )
    hearth_uninstall_retention_days: int = Field(
        default=DEFAULT_UNINSTALL_RETENTION_DAYS,
        ge=0,
        le=3650,
        description="Days a workspace's data is kept after it removes hearth",
    )
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: LogLevel = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _no_bot_token_for_several_workspaces(cls, data: Any) -> Any:
        """With a client id or secret and no bot token, hearth is to be installed in several
        workspaces: the bot token is then not missing but not wanted (`load_settings` checks
        the rest in one line)."""
        if not isinstance(data, dict):
            return data
        bot_token = data.get("slack_bot_token")
        if bot_token is not None and _text(bot_token):
            return data
        if _text(data.get("slack_client_id")) or _text(data.get("slack_client_secret")):
            return {**data, "slack_bot_token": None}
        return data

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret", "slack_client_secret")
    @classmethod
    def _empty_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("slack_client_id", "slack_redirect_uri", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def several_workspaces(self) -> bool:
        """Installed through Slack's OAuth in any number of workspaces (no SLACK_BOT_TOKEN):
        each workspace's token is kept, sealed, in the database (`bot.installations`)."""
        return self.slack_bot_token is None

    @property
    def oauth_authorize_url(self) -> str:
        """Slack's page where a workspace approves hearth: next to the Web API, so
        `https://slack.com/oauth/v2/authorize`, or the emulator's when testing."""
        return urljoin(self.api_base_url, "../oauth/v2/authorize")

    @property
    def api_base_url(self) -> str:
        """The Web API base URL with the trailing slash slack_sdk expects."""
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"

    @property
    def logging_level(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


class SettingsError(Exception):
    """Raised with one human line that says which setting to fix."""


def load_settings(**overrides: object) -> Settings:
    """Load and validate settings, turning pydantic's report into one clear line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
    if settings.several_workspaces:
        _check_several_workspaces(settings)
        return settings
    if settings.slack_client_id is not None or settings.slack_client_secret is not None:
        raise SettingsError(
            "Set either SLACK_BOT_TOKEN (hearth in one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (hearth installed in several workspaces), not both."
        )
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise SettingsError(
            "Set SLACK_SIGNING_SECRET (Basic Information → App Credentials), "
            "or set SLACK_APP_TOKEN to use Socket Mode."
        )
    if settings.on_postgresql and settings.hearth_secret_key is None:
        raise SettingsError(
            "Set HEARTH_SECRET_KEY: on PostgreSQL several hearth processes may share the "
            "database, and they must all seal secrets with the same key. Make one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return settings


def _check_several_workspaces(settings: Settings) -> None:
    """What hearth installed in several workspaces needs, each problem in one line."""
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        raise SettingsError(
            "Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Basic Information → App "
            "Credentials) to install hearth in several workspaces, or SLACK_BOT_TOKEN for one."
        )
    if settings.socket_mode:
        raise SettingsError(
            "hearth installed in several workspaces works over HTTP only (Slack does not let "
            "Socket Mode apps be installed in other workspaces): leave SLACK_APP_TOKEN empty."
        )
    if settings.slack_signing_secret is None:
        raise SettingsError(
            "Set SLACK_SIGNING_SECRET (Basic Information → App Credentials): hearth installed "
            "in several workspaces hears from Slack over HTTP."
        )
    if settings.hearth_secret_key is None:
        raise SettingsError(
            "Set HEARTH_SECRET_KEY: hearth seals every workspace's tokens with it before "
            "keeping them. Make one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def _text(value: object) -> bool:
    """Whether a raw setting holds something (not None, not blank)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and bool(str(value).strip())


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        if error["type"] == "missing":
            problems.append(f"{name} is not set")
        else:
            problems.append(f"{name} {error['msg'].removeprefix('Value error, ')}")
    return "Cannot start hearth: " + "; ".join(problems) + " (see .env.example)."


class _SlackTokens(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    slack_client_id: str = ""
    slack_client_secret: str = ""


def slack_configured() -> bool:
    """Whether any Slack credential is set (environment or `.env`). Without one, `hearth run`
    starts the sandbox instead of failing, so a first try needs no Slack app."""
    tokens = _SlackTokens()
    return any(
        value.strip()
        for value in (
            tokens.slack_bot_token,
            tokens.slack_app_token,
            tokens.slack_signing_secret,
            tokens.slack_client_id,
            tokens.slack_client_secret,
        )
    )
