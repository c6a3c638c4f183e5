"""The one Slack Web API client a hearth process uses, with retries that survive a bad minute."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

logger = logging.getLogger(__name__)

# Slack answers well within this; a slower answer is a network problem worth retrying.
WEB_API_TIMEOUT_SECONDS = 15
CONNECTION_RETRIES = 2
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2


# Methods that post something new: Slack may have posted before it answered 5xx (a 504 from
# a proxy often comes after the post went through), so a blind retry can post twice. What
# hearth owes is sent by the outbox, which looks before it sends again (`bot.jobs.outbox`).
NOT_RETRIED_ON_SERVER_ERROR = ("chat.postMessage", "chat.scheduleMessage", "chat.meMessage")


class AnyServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """Retries every 5xx, not only the 500 and 503 that slack_sdk's handler covers, except
    for methods that post something new (`NOT_RETRIED_ON_SERVER_ERROR`).

    A 502 or 504 comes from a proxy in front of Slack and is as temporary as a 503.
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(NOT_RETRIED_ON_SERVER_ERROR):
            return False
        return response is not None and 500 <= response.status_code <= 599


def retry_handlers() -> list[AsyncRetryHandler]:
    """Connection errors, 429 (sleeping for `Retry-After`) and 5xx, each retried a few times.

    slack_sdk's async client retries only connection errors by default.
    """
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AnyServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def create_web_client(settings: Settings) -> AsyncWebClient:
    """Build the process-wide client; `SLACK_API_URL` lets tests point it at a local emulator."""
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.api_base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )


def create_outbox_client(settings: Settings) -> AsyncWebClient:
    """The client the outbox sends with (`bot.jobs.outbox`): it never retries by itself.

    A retried `chat.postMessage` after a 504 or a timeout may post twice (Slack often posted
    and only the answer was lost); the outbox looks for such a message before sending it
    again, and honours `Retry-After` without holding a connection while it waits.
    """
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.api_base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[],
    )


# What Slack answers when a token is wrong, revoked, or of the wrong kind.
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


class SlackCredentialsError(Exception):
    """Slack refused a token; the message says which one and where to get a good one."""


async def check_credentials(client: AsyncWebClient, *, app_token: str | None) -> str | None:
    """Ask Slack once whether the tokens work, before serving anyone.

    A wrong token then stops start-up with one clear line, instead of failing on the first
    click (HTTP mode) or retrying forever (Socket Mode). Not reaching Slack is not fatal: it
    may be a passing outage, and hearth keeps retrying on its own. Returns "workspace as
    @bot" when Slack answered.
    """
    try:
        identity = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in TOKEN_ERRORS:
            raise SlackCredentialsError(
                f"Slack refused SLACK_BOT_TOKEN ({error}). Copy the Bot User OAuth Token again "
                "from OAuth & Permissions; reinstall the app if you changed its settings."
            ) from None
        logger.warning("Could not check SLACK_BOT_TOKEN with Slack (%s); carrying on", error)
        return None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        logger.warning("Could not reach Slack to check the tokens (%s); carrying on", exc)
        return None
    if app_token is not None:
        try:
            await client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in TOKEN_ERRORS:
                raise SlackCredentialsError(
                    f"Slack refused SLACK_APP_TOKEN ({error}). Generate an App-Level Token "
                    "with the connections:write scope under Basic Information → App-Level "
                    "Tokens, in the same app as the bot token."
                ) from None
            logger.warning("Could not check SLACK_APP_TOKEN with Slack (%s); carrying on", error)
    return f"{identity.get('team')} as @{identity.get('user')}"


# What Slack answers when a message can never be delivered as asked: trying again later would
# only fail again (hearth was removed from the channel, the person left, …). Scheduled sends
# give up on these instead of retrying.
UNDELIVERABLE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)
