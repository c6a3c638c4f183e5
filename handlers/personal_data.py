"""A person's own data, from the Home's "Your data": see what hearth holds about you, and
delete it.

Whose data it is always comes from Slack's signed payload (the person who clicked), never
from a button value or `private_metadata`: nobody can open or delete someone else's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Deps
from bot.ids import PersonalDataAction, PersonalDataBlock, PersonalDataView
from bot.presenters import personal_data as present
from bot.services import personal_data
from bot.services.personal_data_types import PersonalData
from bot.state import PersonalDataModal
from handlers.listeners import FormValues, on_button, submit_modal
from handlers.slack_payloads import Body, team_of, user_of


@dataclass(frozen=True)
class Outcome:
    """What confirming did: what was removed, or why nothing could be yet."""

    removed: PersonalData | None = None
    refusal: str | None = None


def register(app: AsyncApp, deps: Deps) -> None:
    def gatherer(body: Body) -> Callable[[], Awaitable[PersonalData]]:
        team_id, user_id = team_of(body), user_of(body)

        async def gather() -> PersonalData:
            async with deps.sessionmaker() as session:
                return await personal_data.what_we_hold(session, team_id, user_id)

        return gather

    @on_button(app, PersonalDataAction.SHOW)
    async def show_clicked(
        body: Body, _action: Body, _client: AsyncWebClient, _respond: AsyncRespond
    ) -> None:
        await present.show(deps, body["trigger_id"], gatherer(body))

    @on_button(app, PersonalDataAction.DELETE)
    async def delete_clicked(
        body: Body, _action: Body, _client: AsyncWebClient, _respond: AsyncRespond
    ) -> None:
        # Gathered again: the list may have been open a while.
        await present.ask_to_confirm(deps, body["trigger_id"], gatherer(body))

    @app.view(PersonalDataView.CONFIRM)
    async def delete_confirmed(ack: AsyncAck, body: Body, view: Body) -> None:
        team_id, user_id = team_of(body), user_of(body)

        def parse(_values: FormValues) -> None:
            return None

        async def forget(session: AsyncSession, _meta: PersonalDataModal, _form: None) -> Outcome:
            try:
                removed = await personal_data.forget_person(
                    session, team_id, user_id, deps.clock.now()
                )
            except personal_data.StillNeeded as exc:  # nothing was changed
                return Outcome(refusal=exc.message)
            return Outcome(removed=removed)

        outcome = await submit_modal(
            ack,
            view,
            deps.sessionmaker,
            carried=PersonalDataModal,
            parse=parse,
            work=forget,
            error_block=PersonalDataBlock.CONFIRM_TEXT,
        )
        if outcome is None:
            return
        if outcome.removed is not None:
            await deps.scheduler.changed()  # turns went back to the rota: reminders follow
        await present.forgotten(
            deps, team_id, user_id, view.get("root_view_id"), outcome.removed, outcome.refusal
        )
