"""Shows a person their own data in Slack: the list, the confirmation, and once they have
confirmed, what was done (in place of the list, and at the top of their Home).

A modal that can no longer be updated (the person closed it) is only logged: the deletion
has happened either way, and the Home says so.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.blocks import personal_data as blocks
from bot.presenters import home
from bot.services.personal_data_types import PersonalData

if TYPE_CHECKING:
    from bot.app import Deps

logger = logging.getLogger(__name__)


Gather = Callable[[], Awaitable[PersonalData]]


async def show(deps: Deps, trigger_id: str, gather: Gather) -> None:
    """Open the list of what hearth holds about the person. The modal opens at once, while
    the click's trigger is fresh, and is filled in once the data is gathered."""
    opened = await deps.client.views_open(trigger_id=trigger_id, view=blocks.looking_modal())
    view_id = opened["view"]["id"]
    await deps.client.views_update(view_id=view_id, view=blocks.summary_modal(await gather()))


async def ask_to_confirm(deps: Deps, trigger_id: str, gather: Gather) -> None:
    """Push "Delete your data?" on top of the list (or what to hand on first), filled in
    once what is held now has been gathered again."""
    pushed = await deps.client.views_push(trigger_id=trigger_id, view=blocks.looking_modal())
    view_id = pushed["view"]["id"]
    await deps.client.views_update(view_id=view_id, view=blocks.confirm_modal(await gather()))


async def forgotten(
    deps: Deps,
    team_id: str,
    user_id: str,
    list_view_id: str | None,
    removed: PersonalData | None,
    refusal: str | None = None,
) -> None:
    """Tell the person what was done (or, when something changed meanwhile, what to hand on
    first): in place of the list they opened it from, and on their Home."""
    if list_view_id:
        try:
            await deps.client.views_update(
                view_id=list_view_id, view=blocks.done_modal(removed, refusal)
            )
        except SlackApiError as exc:
            logger.info("Could not update the Your data modal: %s", exc.response.get("error"))
    if removed is not None:
        await home.publish(deps, team_id, user_id, notice=blocks.forgotten_text(removed))
