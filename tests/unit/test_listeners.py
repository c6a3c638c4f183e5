"""The shared listener steps (`handlers.listeners`), run for real: a tiny Bolt app built on
them, served to the Slack emulator, storing in the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, UserSelectElement
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.blocks.common import (
    FormErrors,
    actions,
    button,
    modal,
    plain,
    section,
    state_text,
    state_user,
)
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.emulator.testing import running_emulator, serve_http, web_client
from bot.errors import DomainError, InvalidInput
from bot.services.scheduling import claim
from bot.state import CarriedState
from handlers.listeners import field_errors, on_button, require_person, submit_modal
from models.scheduling import JobClaim

NOTE_VIEW = "note"
NOTE_BLOCK = "note.text"
WHO_BLOCK = "note.who"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class NoteModal(CarriedState):
    channel: str


def note_modal(channel_id: str) -> dict[str, Any]:
    return modal(
        title="A note",
        callback_id=NOTE_VIEW,
        submit="Keep",
        private_metadata=NoteModal(channel=channel_id).encode(),
        blocks=[
            InputBlock(
                block_id=NOTE_BLOCK,
                label=plain("Note"),
                element=PlainTextInputElement(action_id=f"{NOTE_BLOCK}.input"),
            ),
            InputBlock(
                block_id=WHO_BLOCK,
                label=plain("Who"),
                optional=True,
                element=UserSelectElement(action_id=f"{WHO_BLOCK}.input"),
            ),
        ],
    ).to_dict()


def parse_note(values: dict[str, Any]) -> str:
    text = (state_text(values, NOTE_BLOCK) or "").strip()
    if not text:
        raise FormErrors({NOTE_BLOCK: "Write something first."})
    return text


class Tiny:
    """A Bolt app whose listeners are built only from the shared steps."""

    def __init__(
        self, emulator: SlackEmulator, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.emulator = emulator
        self.app = AsyncApp(
            client=web_client(emulator),
            signing_secret=emulator.signing_secret,
            process_before_response=False,
        )
        self.kept: list[tuple[str, str]] = []
        self.clicks: list[str] = []
        self.release = asyncio.Event()
        self.finished = asyncio.Event()
        app = self.app

        @app.command("/note")
        async def command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await client.views_open(
                trigger_id=body["trigger_id"], view=note_modal(body["channel_id"])
            )

        @app.view(NOTE_VIEW)
        async def submitted(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
            async def work(session: AsyncSession, meta: NoteModal, text: str) -> tuple[str, str]:
                await claim(session, "note", text, NOW)  # stored, unless refused below
                who = state_user(view["state"]["values"], WHO_BLOCK)
                if who:
                    await require_person(client, who, WHO_BLOCK)
                if text == "refuse":
                    raise InvalidInput("Not that one.", field="who")
                if text == "conflict":
                    raise DomainError("Someone else just did.")
                return meta.channel, text

            kept = await submit_modal(
                ack,
                view,
                sessionmaker,
                carried=NoteModal,
                parse=parse_note,
                work=work,
                error_block=NOTE_BLOCK,
                field_blocks={"who": WHO_BLOCK},
            )
            if kept is not None:
                self.kept.append(kept)

        @on_button(app, "tiny.wait")
        async def slow(
            body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
        ) -> None:
            self.clicks.append(str(action["value"]))
            await self.release.wait()  # the click was acknowledged before this returns
            self.finished.set()

        @on_button(app, "tiny.respond")
        async def answered(
            body: dict[str, Any],
            action: dict[str, Any],
            client: AsyncWebClient,
            respond: AsyncRespond,
        ) -> None:
            await respond(text=f"Heard {action['value']}", replace_original=False)


@pytest.fixture
async def tiny(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Tiny]:
    async with running_emulator(delivery_timeout=5.0) as emulator:
        built = Tiny(emulator, sessionmaker)
        async with serve_http(built.app, emulator):
            yield built


async def claims(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(JobClaim.occurrence)))


# --- field_errors ----------------------------------------------------------------------------


def test_field_errors_put_each_refusal_under_its_input() -> None:
    assert field_errors(FormErrors({"a": "x", "b": "y"}), "d") == {"a": "x", "b": "y"}
    assert field_errors(InvalidInput("x", field="who"), "d", {"who": "w"}) == {"w": "x"}
    assert field_errors(InvalidInput("x", field="other"), "d", {"who": "w"}) == {"d": "x"}
    assert field_errors(DomainError("x"), "d") == {"d": "x"}


# --- submit_modal ----------------------------------------------------------------------------


async def test_a_good_submission_is_stored_closes_and_returns_the_work(
    tiny: Tiny, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    alice = tiny.emulator.user(Seed.ALICE)
    await alice.run_command("/note", channel=Seed.PRACTICE)
    assert alice.view is not None
    result = await alice.submit({"Note": "Bring biscuits"})
    assert result.outcome == "close" and alice.view is None
    assert tiny.kept == [(Seed.PRACTICE, "Bring biscuits")]
    assert await claims(sessionmaker) == ["Bring biscuits"]


async def test_form_errors_keep_the_modal_open_and_run_nothing(
    tiny: Tiny, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    alice = tiny.emulator.user(Seed.ALICE)
    await alice.run_command("/note", channel=Seed.PRACTICE)
    result = await alice.submit({"Note": "   "})
    assert result.outcome == "errors"
    assert alice.view is not None and alice.view.error_for("Note") == "Write something first."
    assert tiny.kept == [] and await claims(sessionmaker) == []


@pytest.mark.parametrize(
    ("text", "label", "message"),
    [("refuse", "Who", "Not that one."), ("conflict", "Note", "Someone else just did.")],
)
async def test_a_refusal_is_shown_under_its_input_and_saves_nothing(
    tiny: Tiny,
    sessionmaker: async_sessionmaker[AsyncSession],
    text: str,
    label: str,
    message: str,
) -> None:
    alice = tiny.emulator.user(Seed.ALICE)
    await alice.run_command("/note", channel=Seed.PRACTICE)
    result = await alice.submit({"Note": text})
    assert result.outcome == "errors"
    assert alice.view is not None and alice.view.error_for(label) == message
    # The work wrote before it was refused: the transaction took it back.
    assert tiny.kept == [] and await claims(sessionmaker) == []
    # Put right, the same modal goes through.
    await alice.submit({"Note": "Bring biscuits"})
    assert alice.view is None and await claims(sessionmaker) == ["Bring biscuits"]


async def test_a_bot_is_refused_as_a_person(
    tiny: Tiny, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    emulator = tiny.emulator
    alice = emulator.user(Seed.ALICE)
    await alice.run_command("/note", channel=Seed.PRACTICE)
    await alice.submit({"Note": "Lead the retro", "Who": emulator.state.bot_user_id})
    assert alice.view is not None
    assert "bots" in (alice.view.error_for("Who") or "")
    assert await claims(sessionmaker) == []
    await alice.submit({"Note": "Lead the retro", "Who": Seed.BOB})
    assert alice.view is None and tiny.kept == [(Seed.PRACTICE, "Lead the retro")]


# --- on_button -----------------------------------------------------------------------------


async def post_buttons(tiny: Tiny) -> None:
    await tiny.app.client.chat_postMessage(
        channel=Seed.PRACTICE,
        text="Buttons",
        blocks=[
            section("Buttons").to_dict(),
            actions(
                button("Wait", "tiny.wait", "w1"), button("Answer", "tiny.respond", "r1")
            ).to_dict(),
        ],
    )


async def test_a_click_is_acknowledged_before_its_work_runs(tiny: Tiny) -> None:
    await post_buttons(tiny)
    alice = tiny.emulator.user(Seed.ALICE)
    result = await alice.click(alice.last_message(Seed.PRACTICE), "Wait")
    # Slack heard back while the listener was still waiting to be released.
    assert result.status == 200
    assert tiny.clicks == ["w1"] and not tiny.finished.is_set()
    tiny.release.set()
    await asyncio.wait_for(tiny.finished.wait(), 5)


async def test_a_click_gets_respond(tiny: Tiny) -> None:
    await post_buttons(tiny)
    alice = tiny.emulator.user(Seed.ALICE)
    await alice.click(alice.last_message(Seed.PRACTICE), "Answer")
    for _ in range(100):
        notes = [m.readable_text for m in alice.messages(Seed.PRACTICE) if m.ephemeral]
        if notes:
            break
        await asyncio.sleep(0.02)
    assert notes == ["Heard r1"]
