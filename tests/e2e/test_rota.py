"""The facilitation rota end to end, driven through Slack (the emulator) as people would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.emulator.seed import Seed
from bot.services import community as community_service
from bot.services import rota as rota_service
from bot.services.actor import Actor
from models.rota import MeetupSchedule, RotaMember
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL
from tests.e2e.rota_steps import (
    TUESDAYS,
    channel_posts,
    dms,
    last_note,
    overview,
    rota,
    set_up,
)


async def count(world: World, model: type, *where: object) -> int:
    async with world.hearth.deps.sessionmaker() as s:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)  # type: ignore[arg-type]
        return await s.scalar(query) or 0


async def test_set_a_schedule_and_see_the_next_five_meetups(world: World) -> None:
    alice = world.slack.user(Seed.ALICE)
    await rota(world, Seed.ALICE, "schedule")
    assert alice.view is not None
    # The form suggests Alice's own time zone, from Slack.
    assert alice.view.values["rota.time_zone"]["rota.time_zone.input"]["value"] == "Europe/London"
    await alice.submit({"Day of the week": "Tuesday", "Starts at": "10:00"})
    assert alice.view is None
    assert await count(world, MeetupSchedule) == 1
    announced = channel_posts(world)[-1]
    assert "set up a meetup schedule" in announced and "every Tuesday at 10:00" in announced
    assert "Tue 24 Nov 2026 10:00 UTC" in announced

    for user_id in (Seed.ALICE, Seed.BOB, Seed.CAROL):
        await rota(world, user_id, "join")
    assert "Welcome to the rota" in last_note(world, Seed.BOB).readable_text
    assert await count(world, RotaMember) == 3

    seen = await overview(world, Seed.BOB)
    text = seen.readable_text
    for day in TUESDAYS:
        assert day in text
    lines = [line for line in text.splitlines() if any(day in line for day in TUESDAYS)]
    assert "*Facilitating:* @alice" in text
    assert lines[1].endswith("@bob") and lines[2].endswith("@carol")
    assert lines[3].endswith("@alice") and lines[4].endswith("@bob")
    # Times are Slack date tokens, so each reader sees their own local time.
    assert "<!date^1795514400^" in seen.all_text
    assert "Leave the rota" in seen.buttons and "Stats" in seen.buttons
    # Bob is not a lead: no schedule or meetup buttons for him.
    assert "Edit schedule" not in seen.buttons and "Move…" not in seen.buttons


async def test_empty_rota_and_no_rota_yet(world: World) -> None:
    await rota(world, Seed.BOB)
    assert "no rota in this channel yet" in last_note(world, Seed.BOB).readable_text
    await set_up(world)
    seen = await overview(world, Seed.BOB)
    assert "nobody yet — join with /rota join" in seen.readable_text.replace("`", "")
    assert "nobody available yet" in seen.readable_text
    assert "Join the rota" in seen.buttons


async def test_join_and_leave_by_command_and_button(world: World) -> None:
    bob = world.slack.user(Seed.BOB)
    await set_up(world, Seed.ALICE)
    seen = await overview(world, Seed.BOB)
    await bob.click(seen, "Join the rota")
    redrawn = last_note(world, Seed.BOB)
    assert "Welcome to the rota" in redrawn.readable_text
    assert "Leave the rota" in redrawn.buttons  # the reply is redrawn in place
    assert await count(world, RotaMember, RotaMember.active.is_(True)) == 2

    await rota(world, Seed.BOB, "join")
    assert "already in the rota" in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.BOB, "leave")
    assert "You've left the rota" in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.BOB, "leave")
    assert "You're not in the rota" in last_note(world, Seed.BOB).readable_text
    assert await count(world, RotaMember, RotaMember.active.is_(True)) == 1


async def test_leads_add_and_remove_people_and_add_leads(world: World) -> None:
    await set_up(world)
    await rota(world, Seed.ALICE, "add @bob @carol")
    assert "Added @bob and @carol to the rota" in last_note(world, Seed.ALICE).readable_text
    assert any(
        "added you to the facilitation rota" in m.readable_text for m in dms(world, Seed.BOB)
    )
    await rota(world, Seed.ALICE, "add @bob")
    assert "@bob is already in it" in last_note(world, Seed.ALICE).readable_text

    # Bob is not a lead: he cannot add or remove people, or set the schedule.
    before = await count(world, RotaMember)
    await rota(world, Seed.BOB, "add @dave")
    assert "Only the community's leads (@alice)" in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.BOB, "remove @carol")
    assert "Only the community's leads" in last_note(world, Seed.BOB).readable_text
    await rota(world, Seed.BOB, "schedule")
    assert "Edit schedule" not in last_note(world, Seed.BOB).buttons
    assert await count(world, RotaMember) == before

    await rota(world, Seed.ALICE, "remove @carol")
    assert "Removed @carol from the rota" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "remove @carol")
    assert "@carol isn't in the rota" in last_note(world, Seed.ALICE).readable_text

    await rota(world, Seed.ALICE, "lead @bob")
    assert "@bob can now look after the rota" in last_note(world, Seed.ALICE).readable_text
    assert any("made you a lead" in m.readable_text for m in dms(world, Seed.BOB))
    await rota(world, Seed.BOB, "add @dave")
    assert "Added @dave" in last_note(world, Seed.BOB).readable_text


async def test_workspace_admins_act_as_leads(world: World) -> None:
    await set_up(world, Seed.BOB)
    await rota(world, Seed.CAROL, "remove @bob")  # Carol is a workspace admin
    assert "Removed @bob" in last_note(world, Seed.CAROL).readable_text


async def test_people_must_be_real_people(world: World) -> None:
    await set_up(world)
    world.slack.state.add_user("U0ROBOT", "robot", is_bot=True, bot_id="B0ROBOT")
    world.slack.state.add_user("U0GONE", "gone", deleted=True)
    await rota(world, Seed.ALICE, "add @robot")
    assert "@robot is a bot" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "add @gone")
    assert "deactivated" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "add @nobody")
    assert "I don't know who @nobody is" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "add")
    assert "Say who" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "remove")
    assert "Say who" in last_note(world, Seed.ALICE).readable_text
    assert await count(world, RotaMember) == 0

    await rota(world, Seed.ALICE, "dance <!channel>")
    note = last_note(world, Seed.ALICE)
    assert "I don't know `/rota dance`" in note.all_text
    assert "<!channel>" not in note.all_text


async def test_commands_outside_a_usable_channel_say_what_to_do(world: World) -> None:
    await rota(world, Seed.ALICE, "join", channel=Seed.RANDOM)
    assert "/invite @hearth" in last_note(world, Seed.ALICE, Seed.RANDOM).readable_text
    await rota(world, Seed.ALICE, "join", channel=Seed.ALICE_DM)
    said = " ".join(m.readable_text for m in world.slack.user(Seed.ALICE).dm())
    assert "in your community's channel" in said
    assert await count(world, RotaMember) == 0
    # Help works anywhere.
    await rota(world, Seed.ALICE, "help", channel=Seed.ALICE_DM)
    said = " ".join(m.readable_text for m in world.slack.user(Seed.ALICE).dm())
    for words in ("/rota join", "/rota skip", "/rota swap @someone", "/rota away", "/rota stats"):
        assert words in said


async def test_stats_count_turns_and_flag_anyone_over_their_share(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB, Seed.CAROL)
    await rota(world, Seed.BOB, "stats")
    assert "@alice: 0 times" in last_note(world, Seed.BOB).readable_text
    # Alice facilitates four meetups in a row (the others keep skipping).
    for _ in range(4):
        async with world.hearth.deps.sessionmaker.begin() as s:
            community = await community_service.find_community(
                s, world.slack.state.team.id, CHANNEL
            )
            assert community is not None
            turn = (await rota_service.plan(s, community, world.clock.now()))[0]
            meetup = await rota_service.get_meetup(s, community, turn.meetup_id)
            meetup.facilitator_id = Seed.ALICE
            world.clock.set(turn.starts_at + timedelta(hours=2))
            await rota_service.mark_held(s, community, turn.meetup_id, world.clock.now())
    await rota(world, Seed.BOB, "stats")
    seen = last_note(world, Seed.BOB)
    assert "@alice: 4 times, last on Tue 15 Dec 2026 10:00 UTC" in seen.readable_text
    assert "more than their share" in seen.readable_text
    assert "@bob: 0 times" in seen.readable_text
    # The Stats button shows the same.
    await world.slack.user(Seed.CAROL).click(await overview(world, Seed.CAROL), "Stats")
    assert "@alice: 4 times" in last_note(world, Seed.CAROL).readable_text


async def test_another_workspace_never_sees_this_rota(world: World) -> None:
    other = Actor("T0OTHER", "U0EVE")
    async with world.hearth.deps.sessionmaker.begin() as s:
        community = await community_service.community_for(s, other, CHANNEL, world.clock.now())
        await rota_service.join(s, other, community, world.clock.now())
    await rota(world, Seed.ALICE)
    assert "no rota in this channel yet" in last_note(world, Seed.ALICE).readable_text
    await rota(world, Seed.ALICE, "leave")
    assert "no rota in this channel yet" in last_note(world, Seed.ALICE).readable_text
    await set_up(world, Seed.BOB)
    seen = await overview(world, Seed.ALICE)
    assert "U0EVE" not in seen.all_text and "In the rota (1)" in seen.readable_text
