"""Swap requests that end without an answer, end to end: withdrawn by whoever asked (or a
lead), or called off because the meetup or the turn changed, with both people told."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.ids import RotaAction
from bot.services import community as community_service
from bot.services import rota as rota_service
from models.rota import SwapRequest
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL
from tests.e2e.rota_steps import (
    add_person,
    dm_with_button,
    dms,
    last_note,
    notes,
    overview,
    rota,
    set_up,
)

WITHDRAW = "Withdraw the request"


async def next_facilitator(world: World) -> str | None:
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.find_community(s, world.slack.state.team.id, CHANNEL)
        assert community is not None
        return (await rota_service.plan(s, community, world.clock.now()))[0].facilitator_id


async def statuses(world: World) -> list[str]:
    async with world.hearth.deps.sessionmaker() as s:
        return list(await s.scalars(select(SwapRequest.status).order_by(SwapRequest.id)))


def request_to(world: World, user_id: str) -> SeenMessage:
    """The latest swap request in `user_id`'s direct messages, as they see it now."""
    found = [m for m in dms(world, user_id) if "asks if you could facilitate" in m.all_text]
    assert found, f"{user_id} has no swap request"
    return found[-1]


def same_message(world: World, user_id: str, ts: str) -> SeenMessage:
    return next(m for m in dms(world, user_id) if m.ts == ts)


def withdraw_value(note: SeenMessage) -> str:
    for block in note.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == RotaAction.WITHDRAW_SWAP:
                return str(element["value"])
    raise AssertionError(f"no withdraw button on {note.readable_text!r}")


async def test_a_swap_withdrawn_before_the_other_person_answers(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice, carol = world.slack.user(Seed.ALICE), world.slack.user(Seed.CAROL)
    await rota(world, Seed.ALICE, "swap @carol")
    note = last_note(world, Seed.ALICE)
    assert "I've asked @carol" in note.readable_text
    assert note.buttons == [WITHDRAW]
    request = request_to(world, Seed.CAROL)
    assert request.buttons == ["Accept", "Decline"]
    dms_before = len(dms(world, Seed.CAROL))

    await alice.click(note, WITHDRAW)
    # Alice's note is redrawn in place.
    redrawn = last_note(world, Seed.ALICE)
    assert redrawn.ts == note.ts and redrawn.buttons == []
    assert "You withdrew your request to @carol" in redrawn.readable_text
    assert "still yours" in redrawn.readable_text
    # So is Carol's request: no buttons, and it says who withdrew it. No new message for her.
    theirs = same_message(world, Seed.CAROL, request.ts)
    assert theirs.buttons == []
    assert "@alice withdrew this request" in theirs.readable_text
    assert "nothing for you to do" in theirs.readable_text
    assert len(dms(world, Seed.CAROL)) == dms_before
    assert await statuses(world) == ["cancelled"]

    # A client that hasn't caught up still shows Accept: clicking it changes nothing and
    # says why.
    await carol.click(request, "Accept", as_seen=True)
    said = carol.dm()[-1]
    assert said.ephemeral and "This swap request was withdrawn" in said.readable_text
    assert await next_facilitator(world) == Seed.ALICE
    assert await statuses(world) == ["cancelled"]
    assert not any("accepted your swap" in m.readable_text for m in dms(world, Seed.ALICE))

    # Withdrawing twice (from an old copy of the button) is answered kindly too.
    again = await dm_with_button(
        world, Seed.ALICE, WITHDRAW, RotaAction.WITHDRAW_SWAP, withdraw_value(note)
    )
    await alice.click(again, WITHDRAW)
    assert "already withdrawn or called off" in alice.dm()[-1].readable_text


async def test_a_swap_asked_through_the_form_can_be_withdrawn(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice = world.slack.user(Seed.ALICE)
    await alice.click(await overview(world, Seed.ALICE), "Swap…")
    await alice.submit({"Swap with": "bob"})
    note = last_note(world, Seed.ALICE)
    assert "I've asked @bob" in note.readable_text and note.buttons == [WITHDRAW]
    request = request_to(world, Seed.BOB)
    await alice.click(note, WITHDRAW)
    assert "You withdrew your request to @bob" in last_note(world, Seed.ALICE).readable_text
    assert same_message(world, Seed.BOB, request.ts).buttons == []


async def test_only_the_requester_or_a_lead_can_withdraw(world: World) -> None:
    # Bob's turn comes first; Alice leads the community; Erin is neither.
    await set_up(world, Seed.BOB, Seed.ALICE)
    erin = add_person(world, "U0ERIN", "erin")
    await rota(world, Seed.BOB, "swap @carol")
    value = withdraw_value(last_note(world, Seed.BOB))
    request = request_to(world, Seed.CAROL)

    # The button is only shown to Bob; a copy of it in someone else's hands is refused.
    copied = await dm_with_button(world, erin.id, WITHDRAW, RotaAction.WITHDRAW_SWAP, value)
    await erin.click(copied, WITHDRAW)
    assert "Only @bob, who asked for this swap, or one of the community's leads" in (
        erin.dm()[-1].readable_text
    )
    assert same_message(world, Seed.CAROL, request.ts).buttons == ["Accept", "Decline"]
    assert await statuses(world) == ["pending"]

    # A lead may withdraw it: Bob is told, and Carol's request says who withdrew it.
    alice = world.slack.user(Seed.ALICE)
    leads_copy = await dm_with_button(world, Seed.ALICE, WITHDRAW, RotaAction.WITHDRAW_SWAP, value)
    await alice.click(leads_copy, WITHDRAW)
    assert "You withdrew @bob's request to @carol" in alice.dm()[-1].readable_text
    assert "@alice withdrew your request to @carol" in dms(world, Seed.BOB)[-1].readable_text
    theirs = same_message(world, Seed.CAROL, request.ts)
    assert theirs.buttons == []
    assert "@alice (a community lead) withdrew this request: @bob had asked" in (
        theirs.readable_text
    )
    assert await statuses(world) == ["cancelled"]
    assert await next_facilitator(world) == Seed.BOB


async def test_an_answered_swap_cannot_be_withdrawn(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "swap @carol")
    note = last_note(world, Seed.ALICE)
    carol = world.slack.user(Seed.CAROL)
    await carol.click(request_to(world, Seed.CAROL), "Accept")
    await world.slack.user(Seed.ALICE).click(note, WITHDRAW)
    assert "@carol has already accepted, so the meetup is theirs now" in (
        last_note(world, Seed.ALICE).readable_text
    )
    assert await next_facilitator(world) == Seed.CAROL
    assert await statuses(world) == ["accepted"]


async def test_a_cancelled_meetup_calls_off_its_pending_swap(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "swap @carol")
    request = request_to(world, Seed.CAROL)
    alice, carol = world.slack.user(Seed.ALICE), world.slack.user(Seed.CAROL)
    await alice.click(await overview(world, Seed.ALICE), "Cancel this meetup", near="24 Nov")
    assert await statuses(world) == ["cancelled"]
    told = dms(world, Seed.ALICE)[-1].readable_text
    assert "Your request to @carol to take the meetup on Tue 24 Nov 2026" in told
    assert "called off: that meetup was cancelled. I've let them know." in told
    told = dms(world, Seed.CAROL)[-1].readable_text
    assert "@alice's request that you facilitate the meetup in #practice on Tue 24 Nov" in told
    assert "called off: that meetup was cancelled" in told

    await carol.click(request, "Accept")
    assert "called off: that meetup was cancelled" in carol.dm()[-1].readable_text
    assert await statuses(world) == ["cancelled"]
    # The cancelled meetup took nobody's turn: Alice has the next one, not Carol.
    assert await next_facilitator(world) == Seed.ALICE
    seen = await overview(world, Seed.BOB)
    assert "In the rota (2)" in seen.readable_text  # Carol never joined


async def test_a_moved_meetup_calls_off_its_pending_swap(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "swap @carol")
    alice = world.slack.user(Seed.ALICE)
    await alice.click(await overview(world, Seed.ALICE), "Move…", near="24 Nov")
    await alice.submit({"New day": "2026-11-26", "New time (Europe/London)": "18:00"})
    assert alice.view is None
    assert await statuses(world) == ["cancelled"]
    told = dms(world, Seed.CAROL)[-1].readable_text
    assert "@alice's request that you facilitate the meetup in #practice on Tue 24 Nov" in told
    assert "the meetup moved to *Thu 26 Nov 2026 18:00 UTC*" in told
    told = dms(world, Seed.ALICE)[-1].readable_text
    assert "the meetup moved to *Thu 26 Nov 2026 18:00 UTC*" in told
    assert "ask them again with /rota swap" in told.replace("`", "")

    # Asking again works, about the new time.
    await rota(world, Seed.ALICE, "swap @carol")
    assert "Thu 26 Nov 2026 18:00 UTC" in request_to(world, Seed.CAROL).readable_text
    assert await statuses(world) == ["cancelled", "pending"]


async def test_swaps_are_called_off_when_the_turn_changes_hands(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    erin = add_person(world, "U0ERIN", "erin")
    await rota(world, Seed.ALICE, "swap @carol")
    await rota(world, Seed.ALICE, "swap @erin")
    # Carol says yes first, so Erin's request is called off and both people hear why.
    await world.slack.user(Seed.CAROL).click(request_to(world, Seed.CAROL), "Accept")
    assert await statuses(world) == ["accepted", "cancelled"]
    told = dms(world, erin.id)[-1].readable_text
    assert "@alice's request that you facilitate" in told
    assert "called off: @carol is facilitating it now" in told
    assert any(
        "Your request to @erin" in m.readable_text
        and "@carol is facilitating it now" in m.readable_text
        for m in dms(world, Seed.ALICE)
    )
    await erin.click(request_to(world, erin.id), "Accept")
    assert "@carol is facilitating it now" in erin.dm()[-1].readable_text
    assert await next_facilitator(world) == Seed.CAROL

    # Carol asks Bob to swap, then passes the turn on herself: the request is called off.
    await rota(world, Seed.CAROL, "swap @bob")
    assert "I've asked @bob" in last_note(world, Seed.CAROL).readable_text
    assert [m.buttons for m in notes(world, Seed.CAROL)][-1] == [WITHDRAW]
    await rota(world, Seed.CAROL, "skip")
    assert (await statuses(world))[-1] == "cancelled"
    (told,) = [
        m.readable_text
        for m in dms(world, Seed.BOB)
        if "@carol's request that you facilitate" in m.readable_text
    ]
    assert "called off: it isn't @carol's turn any more" in told
