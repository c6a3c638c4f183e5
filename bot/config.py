"""Settings read from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./hearth.db"
SLACK_API_URL = "https://slack.com/api/"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Everything hearth needs to know about where it runs.

    Tokens are `SecretStr` so they never show up in logs or tracebacks.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr = Field(description="Bot User OAuth Token (xoxb-…)")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing Secret, required in HTTP mode"
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-Level Token (xapp-…); when set, hearth uses Socket Mode"
    )
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(SLACK_API_URL))
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: LogLevel = "INFO"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr) -> SecretStr:
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

    @field_validator("slack_signing_secret")
    @classmethod
    def _empty_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

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
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise SettingsError(
            "Set SLACK_SIGNING_SECRET (Basic Information → App Credentials), "
            "or set SLACK_APP_TOKEN to use Socket Mode."
        )
    return settings


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


def slack_configured() -> bool:
    """Whether any Slack credential is set (environment or `.env`). Without one, `hearth run`
    starts the sandbox instead of failing, so a first try needs no Slack app."""
    tokens = _SlackTokens()
    return any(
        value.strip()
        for value in (tokens.slack_bot_token, tokens.slack_app_token, tokens.slack_signing_secret)
    )
