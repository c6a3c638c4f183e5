"""Community leads end to end: removing a lead, stepping down, and the community always
keeping one."""

from __future__ import annotations

from bot.emulator.seed import Seed
from bot.services import community as community_service
from tests.e2e.conftest import World
from tests.e2e.helpers import CHANNEL
from tests.e2e.rota_steps import add_person, dms, last_note, overview, rota, set_up


async def leads(world: World) -> list[str]:
    async with world.hearth.deps.sessionmaker() as s:
        community = await community_service.find_community(s, world.slack.state.team.id, CHANNEL)
        assert community is not None
        return await community_service.leads(s, community)


def removal_dms(world: World, user_id: str) -> list[str]:
    return [m.readable_text for m in dms(world, user_id) if "stepped you down" in m.readable_text]


async def test_a_lead_removes_another_who_is_told(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    erin = add_person(world, "U0ERIN", "erin")
    await rota(world, Seed.ALICE, "lead @bob @erin")
    assert await leads(world) == [Seed.ALICE, Seed.BOB, erin.id]

    await rota(world, Seed.ALICE, "lead remove @bob")
    note = last_note(world, Seed.ALICE).readable_text
    assert "@bob is no longer a lead. This community's leads: @alice and @erin." in note
    told = removal_dms(world, Seed.BOB)
    assert len(told) == 1
    assert "@alice stepped you down as a lead of the community in #practice" in told[0]
    assert "Thank you for looking after it" in told[0]
    assert await leads(world) == [Seed.ALICE, erin.id]

    # Bob is an ordinary member again: no lead tools, and the overview lists who leads.
    await rota(world, Seed.BOB, "add @dave")
    assert "Only the community's leads (@alice, @erin)" in last_note(world, Seed.BOB).readable_text
    seen = await overview(world, Seed.BOB)
    assert "Leads: @alice and @erin" in seen.readable_text
    assert "Edit schedule" not in seen.buttons
    assert "In the rota (2)" in seen.readable_text  # still in the rota

    await rota(world, Seed.ALICE, "lead remove @bob")
    assert "@bob isn't a lead of this community. Its leads are @alice, @erin." in (
        last_note(world, Seed.ALICE).readable_text
    )
    assert len(removal_dms(world, Seed.BOB)) == 1


async def test_a_lead_steps_down_and_is_not_sent_a_message_about_it(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.ALICE, "lead @bob")
    before = len(dms(world, Seed.ALICE))
    await rota(world, Seed.ALICE, "lead remove me")
    note = last_note(world, Seed.ALICE).readable_text
    assert "You've stepped down as a lead. Thank you for looking after the rota!" in note
    assert "This community's leads: @bob." in note
    assert len(dms(world, Seed.ALICE)) == before
    assert await leads(world) == [Seed.BOB]
    seen = await overview(world, Seed.ALICE)
    assert "Edit schedule" not in seen.buttons and "Move…" not in seen.buttons
    assert "Leads: @bob" in seen.readable_text


async def test_the_last_lead_cannot_be_removed(world: World) -> None:
    await set_up(world, Seed.ALICE)
    await rota(world, Seed.ALICE, "lead remove @alice")
    note = last_note(world, Seed.ALICE).readable_text
    assert "You're this community's only lead" in note
    assert "Make someone else a lead first with /rota lead @someone" in note.replace("`", "")
    # Not even a workspace admin leaves the community without a lead.
    await rota(world, Seed.CAROL, "lead remove @alice")
    assert "@alice is this community's only lead" in last_note(world, Seed.CAROL).readable_text
    assert await leads(world) == [Seed.ALICE]
    assert removal_dms(world, Seed.ALICE) == []

    # With a second lead, the first can step down; then the second is the last.
    await rota(world, Seed.ALICE, "lead @bob")
    await rota(world, Seed.CAROL, "lead remove @alice")
    assert "@alice is no longer a lead" in last_note(world, Seed.CAROL).readable_text
    assert len(removal_dms(world, Seed.ALICE)) == 1
    await rota(world, Seed.BOB, "lead remove @bob")
    assert "You're this community's only lead" in last_note(world, Seed.BOB).readable_text
    assert await leads(world) == [Seed.BOB]


async def test_only_leads_remove_leads(world: World) -> None:
    await set_up(world, Seed.ALICE, Seed.BOB)
    await rota(world, Seed.BOB, "lead remove @alice")
    assert "Only the community's leads (@alice) can remove leads" in (
        last_note(world, Seed.BOB).readable_text
    )
    await rota(world, Seed.BOB, "lead remove me")
    assert "Only the community's leads (@alice)" in last_note(world, Seed.BOB).readable_text
    assert await leads(world) == [Seed.ALICE]
    assert removal_dms(world, Seed.ALICE) == []


async def test_lead_commands_are_read_carefully(world: World) -> None:
    await set_up(world)
    # Someone whose name is "remove" is a person like any other.
    remove = add_person(world, "U0REMOVE", "remove")
    await rota(world, Seed.ALICE, "lead @remove")
    assert "@remove can now look after the rota" in last_note(world, Seed.ALICE).readable_text
    assert await leads(world) == [Seed.ALICE, remove.id]
    await rota(world, Seed.ALICE, "lead remove @remove")
    assert "@remove is no longer a lead" in last_note(world, Seed.ALICE).readable_text
    assert await leads(world) == [Seed.ALICE]

    # A word hearth doesn't know never adds or removes anyone.
    await rota(world, Seed.ALICE, "lead delete @bob")
    assert "To stop someone being a lead: /rota lead remove @alex" in (
        last_note(world, Seed.ALICE).readable_text.replace("`", "")
    )
    await rota(world, Seed.ALICE, "lead remove")
    assert "Say who, for example /rota lead remove @alex" in (
        last_note(world, Seed.ALICE).readable_text.replace("`", "")
    )
    assert await leads(world) == [Seed.ALICE]

    # Removing a lead never sets up a community where there is none.
    await rota(world, Seed.CAROL, "lead remove @alice", channel=Seed.LEADS)
    assert "There's no rota in this channel yet" in (
        last_note(world, Seed.CAROL, Seed.LEADS).readable_text
    )
    async with world.hearth.deps.sessionmaker() as s:
        team = world.slack.state.team.id
        assert await community_service.find_community(s, team, Seed.LEADS) is None
