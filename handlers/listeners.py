"""The steps every domain's listeners share: buttons that acknowledge before they work, and
modal submissions that either keep the modal open with field errors or close it.

Slack waits only three seconds for an acknowledgement, so a button is acknowledged first and
anything it gets wrong is explained privately by `handlers.errors`. A modal is the other way
round: it is acknowledged only once its work is done, because the acknowledgement is where
field errors go, and a modal with errors stays open with nothing saved.

Ids a button or a modal carries are claims: once a listener has loaded the object they name,
it asks `deps.access` (`bot.access`) whether the person may act in that object's channel,
before anything changes. The community modals do that here, in `submit_to_community`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.access import ChannelAccess
from bot.blocks.common import FormErrors
from bot.errors import Conflict, DomainError
from bot.services import community as community_service
from bot.services.actor import Actor
from bot.state import CarriedState, HealthModal, RotaModal
from handlers.slack_payloads import Body
from models.community import Community

FormValues = dict[str, Any]
Click = Callable[[Body, Body, AsyncWebClient, AsyncRespond], Awaitable[None]]

Carried = TypeVar("Carried", bound=CarriedState)
Parsed = TypeVar("Parsed")
Result = TypeVar("Result")
CommunityModal = TypeVar("CommunityModal", RotaModal, HealthModal)


def on_button(app: AsyncApp, action_id: str | re.Pattern[str]) -> Callable[[Click], Click]:
    """Register a block_actions listener that acknowledges the click, then runs
    `func(body, action, client, respond)` (Bolt injects the listener's arguments by name)."""

    def wrap(func: Click) -> Click:
        async def listener(
            ack: AsyncAck, body: Body, action: Body, client: AsyncWebClient, respond: AsyncRespond
        ) -> None:
            await ack()
            await func(body, action, client, respond)

        app.action(action_id)(listener)
        return func

    return wrap


def field_errors(
    exc: DomainError, default_block: str, field_blocks: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A modal's `errors` for a refusal: a form's own errors as they are, else the message
    under the input its `field` names (via `field_blocks`), else under `default_block`."""
    if isinstance(exc, FormErrors):
        return exc.errors
    block = (field_blocks or {}).get(exc.field or "", default_block)
    return {str(block): exc.message}


async def submit_modal(
    ack: AsyncAck,
    view: Body,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    carried: type[Carried],
    parse: Callable[[FormValues], Parsed],
    work: Callable[[AsyncSession, Carried, Parsed], Awaitable[Result]],
    error_block: str,
    field_blocks: Mapping[str, str] | None = None,
) -> Result | None:
    """Answer a modal submission: read its `private_metadata` as `carried`, `parse` its
    inputs, and run `work` in one transaction. A refusal (`FormErrors` or any `DomainError`)
    is shown under the inputs it concerns, keeps the modal open and saves nothing; then None
    is returned. Otherwise the modal closes and `work`'s result (never None) comes back for
    the caller to present."""
    meta = carried.decode(view.get("private_metadata"))
    try:
        form = parse(view["state"]["values"])
        async with sessionmaker.begin() as session:
            result = await work(session, meta, form)
    except DomainError as exc:
        await ack(response_action="errors", errors=field_errors(exc, error_block, field_blocks))
        return None
    await ack()
    return result


async def submit_to_community(
    ack: AsyncAck,
    view: Body,
    sessionmaker: async_sessionmaker[AsyncSession],
    actor: Actor,
    *,
    access: ChannelAccess,
    doing: str,
    carried: type[CommunityModal],
    parse: Callable[[FormValues], Parsed],
    work: Callable[[AsyncSession, Community, CommunityModal, Parsed], Awaitable[Result]],
    error_block: str,
    field_blocks: Mapping[str, str] | None = None,
) -> Result | None:
    """`submit_modal` for a modal about a channel's community (/rota, /health-check): `work`
    also gets the community the modal was opened for, once `actor` is known to be allowed in
    its channel (`doing` words the refusal, e.g. "change the rota")."""

    async def on_community(session: AsyncSession, meta: CommunityModal, form: Parsed) -> Result:
        if meta.c is None:
            raise Conflict("That form lost track of its community. Please open it again.")
        community = await community_service.get_community(session, actor.team_id, meta.c)
        await access.require(actor, community.channel_id, doing)
        return await work(session, community, meta, form)

    return await submit_modal(
        ack,
        view,
        sessionmaker,
        carried=carried,
        parse=parse,
        work=on_community,
        error_block=error_block,
        field_blocks=field_blocks,
    )


NOT_A_FACILITATOR = "Pick a person: bots and deactivated accounts can't facilitate."


async def require_person(
    client: AsyncWebClient, user_id: str, block: str, refusal: str = NOT_A_FACILITATOR
) -> None:
    """A facilitator (or an action's owner) must be a person who can click buttons: not a bot
    (hearth included), not a deactivated account. Refused as `refusal` under `block`."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError:
        raise FormErrors({block: "I can't find that person. Pick someone else."}) from None
    user = response.get("user") or {}
    if user.get("is_bot") or user.get("deleted") or user_id == "USLACKBOT":
        raise FormErrors({block: refusal})
