"""A small default workspace, so a test can start acting without setting anything up."""

from __future__ import annotations

from bot.clock import Clock
from bot.emulator.state import Team, WorkspaceState


class Seed:
    """Ids of the default workspace's people and channels."""

    ALICE = "U0ALICE"  # member, Europe/London
    BOB = "U0BOB"  # member, America/New_York
    CAROL = "U0CAROL"  # workspace admin, Asia/Singapore
    DAVE = "U0DAVE"  # member, Europe/Berlin; not in #practice
    PRACTICE = "C0PRACTICE"  # public, the bot is a member
    RANDOM = "C0RANDOM"  # public, the bot is not a member
    LEADS = "C0LEADS"  # private, the bot is a member
    ALICE_DM = "D0ALICE"  # Alice's DM with the bot


def seed_default_workspace(state: WorkspaceState) -> WorkspaceState:
    """Four people (Carol is a workspace admin), three channels and Alice's DM with the bot."""
    state.add_user(Seed.ALICE, "alice", "Alice Appleby", tz="Europe/London")
    state.add_user(Seed.BOB, "bob", "Bob Baker", tz="America/New_York")
    state.add_user(Seed.CAROL, "carol", "Carol Chen", tz="Asia/Singapore", is_admin=True)
    state.add_user(Seed.DAVE, "dave", "Dave Diaz", tz="Europe/Berlin")
    everyone = {Seed.ALICE, Seed.BOB, Seed.CAROL, Seed.DAVE}
    state.add_channel(
        Seed.PRACTICE, "practice", members={Seed.ALICE, Seed.BOB, Seed.CAROL}, with_bot=True
    )
    state.add_channel(Seed.RANDOM, "random", members=everyone)
    state.add_channel(
        Seed.LEADS, "leads", members={Seed.ALICE, Seed.CAROL}, is_private=True, with_bot=True
    )
    state.im_with(Seed.ALICE)  # "D" + the rest of Alice's id: Seed.ALICE_DM
    return state


class OtherSeed:
    """Ids of a second workspace (`second_workspace`), for hearth installed in several."""

    TEAM = "T0KILN"
    ERIN = "U0ERIN"  # workspace admin, Europe/Dublin
    FRANK = "U0FRANK"  # member, America/Chicago
    GRACE = "U0GRACE"  # member, Australia/Sydney
    GUILD = "C0GUILD"  # public, the bot is a member
    BOT_USER = "U0KILNBOT"  # hearth's bot user in this workspace
    BOT = "B0KILN"


def second_workspace(clock: Clock | None = None) -> WorkspaceState:
    """Another workspace, "Kiln Collective": three people (Erin is an admin) and #guild, with
    hearth's own bot user there and ids that never clash with the default workspace's."""
    state = WorkspaceState(
        clock,
        team=Team(id=OtherSeed.TEAM, name="Kiln Collective", domain="kiln-collective"),
        bot_user_id=OtherSeed.BOT_USER,
        bot_id=OtherSeed.BOT,
        first_id=0x10000000,
    )
    state.add_user(OtherSeed.ERIN, "erin", "Erin Ellis", tz="Europe/Dublin", is_admin=True)
    state.add_user(OtherSeed.FRANK, "frank", "Frank Fisher", tz="America/Chicago")
    state.add_user(OtherSeed.GRACE, "grace", "Grace Goh", tz="Australia/Sydney")
    state.add_channel(
        OtherSeed.GUILD,
        "guild",
        members={OtherSeed.ERIN, OtherSeed.FRANK, OtherSeed.GRACE},
        with_bot=True,
    )
    return state
