"""Whose turn it is, end to end: skipping, swapping by direct message, being away, confirming
and stepping in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from bot.ids import RotaAction
from bot.services import community as community_service
from bot.services import rota as rota_service
from bot.state import MeetupRef
from models.rota import Meetup, RotaAway, SwapRequest
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL
from tests.e2e.rota_steps import (
    TUESDAYS,
    add_person,
    channel_posts,
    dm_with_button,
    dms,
    last_note,
    overview,
    rota,
    set_up,
)


async def planned(world: World) -> list[str | None]:
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.find_community(s, world.slack.state.team.id, CHANNEL)
        assert community is not None
        return [t.facilitator_id for t in await rota_service.plan(s, community, world.clock.now())]


async def test_skip_passes_the_turn_on_and_tells_everyone_concerned(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB, Seed.CAROL)
    await rota(world, Seed.ALICE, "skip")
    note = last_note(world, Seed.ALICE).readable_text
    assert "@bob will facilitate the meetup on Tue 24 Nov 2026" in note
    assert (await planned(world))[:3] == [Seed.BOB, Seed.ALICE, Seed.CAROL]
    told = dms(world, Seed.BOB)[-1]
    assert "@alice can't facilitate" in told.readable_text and "I'll be there" in told.buttons
    assert "Change of facilitator: @bob" in channel_posts(world)[-1]

    # Erin can't skip someone else's turn; only the facilitator (or a lead) can.
    add_person(world, "U0ERIN", "erin")
    await rota(world, "U0ERIN", "skip")
    assert "Only the community's leads" in last_note(world, "U0ERIN").readable_text
    assert (await planned(world))[0] == Seed.BOB

    # Bob skips from the button in the direct message: Carol is next available.
    bob = world.slack.user(Seed.BOB)
    await bob.click(told, "Skip my turn")
    assert (await planned(world))[0] == Seed.CAROL
    assert "@carol will facilitate" in bob.dm()[-1].readable_text
    assert "@bob can't facilitate" in dms(world, Seed.CAROL)[-1].readable_text


async def test_skip_with_nobody_else_asks_the_channel(world: World) -> None:
    await set_up(world, Seed.ALICE)
    await rota(world, Seed.ALICE, "skip")
    assert "nobody else in the rota is available" in last_note(world, Seed.ALICE).readable_text
    assert "Can anyone facilitate" in channel_posts(world)[-1]
    await rota(world, Seed.ALICE, "skip")
    assert "Nobody is down to facilitate" in last_note(world, Seed.ALICE).readable_text


async def test_skip_from_the_overview_redraws_it(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice = world.slack.user(Seed.ALICE)
    seen = await overview(world, Seed.ALICE)
    assert "Skip my turn" in seen.buttons and "Swap…" in seen.buttons
    await alice.click(seen, "Skip my turn")
    redrawn = last_note(world, Seed.ALICE)
    assert redrawn.ts == seen.ts
    assert "*Facilitating:* @bob" in redrawn.readable_text
    assert "Skip my turn" not in redrawn.buttons


async def test_swap_by_direct_message_accepted(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "swap @carol")
    assert "I've asked @carol" in last_note(world, Seed.ALICE).readable_text
    assert (await planned(world))[0] == Seed.ALICE  # nothing changes until Carol accepts
    request = dms(world, Seed.CAROL)[-1]
    assert "@alice asks if you could facilitate" in request.readable_text
    assert request.buttons == ["Accept", "Decline"]

    # Only Carol can answer: Bob cannot click her DM, and a forged click is refused.
    carol = world.slack.user(Seed.CAROL)
    await carol.click(request, "Accept")
    answered = carol.dm()[-1]
    assert "Thank you! You're facilitating" in answered.readable_text
    assert answered.buttons == []
    assert (await planned(world))[0] == Seed.CAROL
    assert "@carol accepted your swap" in dms(world, Seed.ALICE)[-1].readable_text
    assert "Change of facilitator: @carol" in channel_posts(world)[-1]
    # Carol joined the rota by accepting.
    seen = await overview(world, Seed.BOB)
    assert "*Facilitating:* @carol ✓ confirmed" in seen.readable_text
    assert "In the rota (3)" in seen.readable_text


async def test_swap_declined_changes_nothing_and_a_second_answer_is_refused(
    world: World,
) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "swap @bob")
    request = dms(world, Seed.BOB)[-1]
    bob = world.slack.user(Seed.BOB)
    await bob.click(request, "Decline", as_seen=True)
    assert "you declined" in bob.dm()[-1].readable_text
    assert (await planned(world))[0] == Seed.ALICE
    assert "@bob can't swap this time" in dms(world, Seed.ALICE)[-1].readable_text
    # A second click on the old request (a slow client) is refused kindly.
    await bob.click(request, "Accept", as_seen=True)
    assert any("already declined" in m.readable_text for m in bob.dm())
    assert (await planned(world))[0] == Seed.ALICE


async def test_swap_rules(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    world.slack.state.add_user("U0ROBOT", "robot", is_bot=True, bot_id="B0ROBOT")
    await rota(world, Seed.BOB, "swap @carol")
    assert "Only the facilitator of the next meetup" in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.ALICE, "swap @alice")
    assert "other than yourself" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "swap @robot")
    assert "@robot is a bot" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "swap @bob @carol")
    assert "Name just one person" in last_note(world, Seed.ALICE).readable_text
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(SwapRequest)) == 0


async def test_swap_through_the_modal(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice = world.slack.user(Seed.ALICE)
    await rota(world, Seed.ALICE, "swap")
    assert alice.view is not None and alice.view.title == "Swap my turn"
    await alice.submit({"Swap with": Seed.ALICE})
    assert alice.view is not None
    assert "other than yourself" in (alice.view.error_for("Swap with") or "")
    await alice.submit({"Swap with": "bob"})
    assert alice.view is None
    assert "I've asked @bob" in last_note(world, Seed.ALICE).readable_text
    assert dms(world, Seed.BOB)[-1].buttons == ["Accept", "Decline"]


async def test_away_by_command_passes_people_over(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB, Seed.CAROL)
    await rota(world, Seed.ALICE, "away 2026-11-24 2026-12-01")
    note = last_note(world, Seed.ALICE).readable_text
    assert "You're away Tue 24 Nov 2026 to Tue 1 Dec 2026" in note
    assert (await planned(world))[:3] == [Seed.BOB, Seed.CAROL, Seed.ALICE]

    # A lead marks someone else away, with friendly dates; they are told by DM.
    await rota(world, Seed.ALICE, "away @carol 7 Dec to 9 Dec")
    assert "@carol is away Mon 7 Dec 2026 to Wed 9 Dec 2026" in (
        last_note(world, Seed.ALICE).readable_text
    )
    assert "marked you as away" in dms(world, Seed.CAROL)[-1].readable_text
    assert (await planned(world))[2] != Seed.CAROL
    seen = await overview(world, Seed.BOB)
    assert "Away: @alice 24 Nov – 1 Dec, @carol 7–9 Dec" in seen.readable_text


async def test_away_refuses_bad_dates_and_other_people_for_non_leads(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    for text, expected in (
        ("away 2026-11-01 2026-11-02", "in the past"),
        ("away 9 Dec to 2 Dec 2026", "ends before it starts"),
        ("away next thursday-ish", "couldn't read"),
        ("away 31 Feb", "isn't a day in the calendar"),
        ("away @alice 1 Dec", "Only the community's leads"),
    ):
        await rota(world, Seed.BOB, text)
        assert expected in last_note(world, Seed.BOB).readable_text, text
    async with world.hearth.deps.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(RotaAway)) == 0


async def test_away_through_the_modal(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    bob = world.slack.user(Seed.BOB)
    await bob.click(await overview(world, Seed.BOB), "I'm away…")
    assert bob.view is not None and bob.view.title == "I'm away"
    await bob.submit({"First day away": "2026-12-02", "Last day away": "2026-11-30"})
    assert bob.view is not None
    assert "ends before it starts" in (bob.view.error_for("Last day away") or "")
    await bob.submit({"First day away": "2026-11-30", "Last day away": "2026-12-02"})
    assert bob.view is None
    assert "You're away Mon 30 Nov 2026 to Wed 2 Dec 2026" in (
        last_note(world, Seed.BOB).readable_text
    )
    assert (await planned(world))[:3] == [Seed.ALICE, Seed.ALICE, Seed.BOB]


async def test_confirm_and_step_in_from_a_direct_message(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB, Seed.CAROL)
    team = world.slack.state.team.id
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.find_community(s, team, CHANNEL)
        assert community is not None
        turns = await rota_service.plan(s, community, world.clock.now())
        ref = MeetupRef(c=community.id, m=turns[0].meetup_id).encode()
    # The reminder DMs carry these buttons.
    step_in = await dm_with_button(world, Seed.BOB, "Step in", RotaAction.STEP_IN, ref)
    confirm = await dm_with_button(world, Seed.ALICE, "I'll be there", RotaAction.CONFIRM, ref)
    carols = await dm_with_button(world, Seed.CAROL, "Step in", RotaAction.STEP_IN, ref)
    bob, alice, carol = (world.slack.user(u) for u in (Seed.BOB, Seed.ALICE, Seed.CAROL))
    await bob.click(step_in, "Step in")
    assert "Thank you for stepping in" in bob.dm()[-1].readable_text
    assert "stepped in" in dms(world, Seed.ALICE)[-1].readable_text
    assert "@bob will facilitate the meetup on Tue 24 Nov 2026" in channel_posts(world)[-1]
    assert (await planned(world))[0] == Seed.BOB
    # Alice's confirmation now comes too late, and a second step-in is refused.
    await alice.click(confirm, "I'll be there")
    assert "isn't yours any more" in alice.dm()[-1].readable_text
    await carol.click(carols, "Step in")
    assert "@bob has already confirmed" in carol.dm()[-1].readable_text
    async with world.hearth.deps.sessionmaker() as s:
        meetup = await s.get(Meetup, MeetupRef.decode(ref).m)
        assert meetup is not None and meetup.facilitator_id == Seed.BOB


async def test_confirm_from_the_overview(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    alice = world.slack.user(Seed.ALICE)
    await alice.click(await overview(world, Seed.ALICE), "I'll be there")
    seen = last_note(world, Seed.ALICE)
    assert "You're confirmed" in seen.readable_text
    assert "*Facilitating:* @alice ✓ confirmed" in seen.readable_text
    assert TUESDAYS[0] in seen.readable_text


async def test_a_holiday_status_in_slack_passes_someone_over(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB, Seed.CAROL)
    assert (await planned(world))[:2] == [Seed.ALICE, Seed.BOB]
    alice = world.slack.state.users[Seed.ALICE]
    alice.status_emoji, alice.status_text = ":palm_tree:", "On holiday"
    # What /rota shows follows Slack's status, like the reminders do (read again after a
    # few minutes: statuses are cached briefly).
    world.clock.advance(timedelta(minutes=6))
    text = (await overview(world, Seed.BOB)).readable_text
    first_turn = text[text.index("Next meetup") :].splitlines()[0:3]
    assert any("@bob" in line for line in first_turn), text
    assert not any("@alice" in line for line in first_turn), text
