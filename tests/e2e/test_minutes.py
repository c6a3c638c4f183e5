"""/minutes end to end, on SQLite and PostgreSQL: two communities' Lean Coffees (and one of
another workspace), listed, shown in full, searched with channel privacy, and exported."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.emulator.seed import Seed
from bot.emulator.seen import SeenMessage
from bot.emulator.testing import web_client
from bot.services.minutes import SEARCH_RANK_LIMIT
from handlers.minutes import visibility
from tests.e2e.conftest import START, World
from tests.services.test_minutes import Topic, hold_lean_coffee, plain_minutes, store

TEAM = "T0HEARTH"
OTHER_TEAM = "T0ELSEWHERE"
PRACTICE, LEADS = Seed.PRACTICE, Seed.LEADS


@pytest.fixture
async def archive(world: World) -> World:
    """#practice and the private #leads each held a Lean Coffee; so did another workspace
    (with a channel id that happens to be the same as #practice's)."""
    maker = world.hearth.deps.sessionmaker
    await hold_lean_coffee(
        maker,
        team=TEAM,
        channel=PRACTICE,
        facilitator=Seed.ALICE,
        title="Content design CoP",
        topics=[
            Topic(
                Seed.BOB,
                "Onboarding newcomers to <!channel> & co",
                ((Seed.CAROL, "Give every newcomer a *buddy*"),),
            ),
            Topic(Seed.CAROL, "Plain language", action=(Seed.BOB, "Draft a style guide")),
        ],
        not_reached=[Topic(Seed.ALICE, "Accessibility audits")],
        at=START - timedelta(days=14),
    )
    await hold_lean_coffee(
        maker,
        team=TEAM,
        channel=LEADS,
        facilitator=Seed.CAROL,
        title="Leads' circle",
        topics=[Topic(Seed.ALICE, "Onboarding new leads", ((Seed.CAROL, "Shadow a session"),))],
        at=START - timedelta(days=7),
    )
    await hold_lean_coffee(
        maker,
        team=OTHER_TEAM,
        channel=PRACTICE,
        facilitator="U0MALLORY",
        title="Somewhere else entirely",
        topics=[Topic("U0MALLORY", "Onboarding secrets")],
        at=START - timedelta(days=1),
    )
    return world


def notes(world: World, user: str, channel: str = PRACTICE) -> list[SeenMessage]:
    return [m for m in world.slack.user(user).messages(channel) if m.ephemeral]


def last_note(world: World, user: str, channel: str = PRACTICE) -> SeenMessage:
    seen = notes(world, user, channel)
    assert seen, f"{user} has no private notes in {channel}"
    return seen[-1]


async def test_list_and_show_a_channels_minutes(archive: World) -> None:
    world = archive
    bob = world.slack.user(Seed.BOB)

    result = await bob.run_command("/minutes", channel=PRACTICE)

    assert result.ok
    listing = last_note(world, Seed.BOB)
    text = listing.readable_text
    assert "Content design CoP" in text
    assert "facilitated by @alice" in text
    assert "2 topics" in text
    assert "Somewhere else entirely" not in text  # another workspace's minutes
    assert "Leads' circle" not in text  # another channel's
    assert listing.buttons == ["Show minutes"]

    await bob.click(listing, "Show minutes", near="Content design CoP")

    full = last_note(world, Seed.BOB)
    assert "Minutes: Content design CoP" in full.readable_text
    assert "Give every newcomer a *buddy*" in full.readable_text
    assert "Draft a style guide" in full.readable_text
    # Only Bob sees any of it; the channel itself is untouched.
    assert not [m for m in world.slack.user(Seed.ALICE).messages(PRACTICE) if m.from_bot]
    assert not world.slack.violations


async def test_search_across_communities_respects_privacy(archive: World) -> None:
    world = archive
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)

    await alice.run_command("/minutes", "ONBOARDING", channel=PRACTICE)

    found = last_note(world, Seed.ALICE)
    text = found.readable_text
    # Both communities Alice belongs to, the newer first at equal matches.
    assert text.index("Leads' circle") < text.index("Content design CoP")
    assert "in #leads" in text and "in #practice" in text
    assert "Topic: *Onboarding new leads* · proposed by @alice" in text
    assert "Topic: *Onboarding newcomers to <!channel> & co* · proposed by @bob" in text
    assert "Facilitated by @carol" in text
    assert "Onboarding secrets" not in text  # never another workspace's
    assert "<!channel>" not in str(found.blocks)  # escaped: pings nobody
    assert found.buttons == ["Show minutes", "Show minutes"]

    # Bob is not in the private #leads: its minutes never show for him.
    await bob.run_command("/minutes", "onboarding", channel=PRACTICE)
    text = last_note(world, Seed.BOB).readable_text
    assert "Content design CoP" in text
    assert "Leads' circle" not in text and "Onboarding new leads" not in text

    # A takeaway names who wrote it; all words must match.
    await bob.run_command("/minutes", "buddy newcomer", channel=PRACTICE)
    text = last_note(world, Seed.BOB).readable_text
    assert "Takeaway on _Onboarding newcomers to <!channel> & co_: Give every newcomer" in text
    assert "from @carol" in text

    # Alice opens the private minutes from her results.
    await alice.click(found, "Show minutes", near="Leads' circle")
    assert "Minutes: Leads' circle" in last_note(world, Seed.ALICE).readable_text
    assert not world.slack.violations


async def test_a_search_matching_too_many_minutes_asks_for_more_words(archive: World) -> None:
    """Only the newest matching minutes are ranked; the answer says there are more, but only
    to someone who could see them."""
    world = archive
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    weekly = [
        plain_minutes(n, f"Weekly sync {n}", team=TEAM, channel=PRACTICE, topics=["Roadmap"])
        for n in range(1, SEARCH_RANK_LIMIT + 1)
    ]
    oldest = plain_minutes(9999, "Planning day", team=TEAM, channel=LEADS, topics=["Roadmap Q3"])
    await store(world.hearth.deps.sessionmaker, [*weekly, oldest])
    narrow = "Add a word or two to narrow the search"

    await alice.run_command("/minutes", "roadmap", channel=PRACTICE)
    found = last_note(world, Seed.ALICE)
    assert "Weekly sync 1*" in found.readable_text
    assert f"these are the best of the newest {SEARCH_RANK_LIMIT}. {narrow}" in found.all_text
    assert "Planning day" not in found.readable_text

    # The one left over is in the private #leads, which Bob is not in.
    await bob.run_command("/minutes", "roadmap", channel=PRACTICE)
    found = last_note(world, Seed.BOB)
    assert "Weekly sync 1*" in found.readable_text and narrow not in found.all_text

    await alice.run_command("/minutes", "roadmap q3", channel=PRACTICE)
    found = last_note(world, Seed.ALICE)
    assert "Planning day" in found.readable_text and narrow not in found.all_text
    assert not world.slack.violations


async def test_search_with_no_results_and_from_a_dm(archive: World) -> None:
    world = archive
    alice = world.slack.user(Seed.ALICE)

    await alice.run_command("/minutes", "onboarding kittens", channel=PRACTICE)
    text = last_note(world, Seed.ALICE).readable_text
    assert "couldn't find any minutes mentioning all of “onboarding kittens”" in text
    assert "Tip:" in text

    # Search works from a DM with hearth too; listing needs a channel.
    await alice.run_command("/minutes", "accessibility", channel=Seed.ALICE_DM)
    assert "Content design CoP" in last_note(world, Seed.ALICE, Seed.ALICE_DM).readable_text
    await alice.run_command("/minutes", channel=Seed.ALICE_DM)
    assert "Minutes belong to a channel" in last_note(world, Seed.ALICE, Seed.ALICE_DM).all_text


async def test_help_empty_channels_and_channels_without_hearth(archive: World) -> None:
    world = archive
    alice = world.slack.user(Seed.ALICE)
    world.slack.state.add_channel("C0QUIET", "quiet", members={Seed.ALICE}, with_bot=True)

    await alice.run_command("/minutes", "help", channel=PRACTICE)
    assert "The minutes archive" in last_note(world, Seed.ALICE).readable_text

    await alice.run_command("/minutes", channel="C0QUIET")
    assert "No minutes have been kept in this channel yet" in (
        last_note(world, Seed.ALICE, "C0QUIET").readable_text
    )
    await alice.run_command("/minutes", "export", channel="C0QUIET")
    assert "no minutes in this channel to export" in (
        last_note(world, Seed.ALICE, "C0QUIET").readable_text
    )
    await alice.run_command("/minutes", channel=Seed.RANDOM)
    assert "I'm not in this channel" in last_note(world, Seed.ALICE, Seed.RANDOM).all_text
    assert not world.slack.state.files
    assert not world.slack.violations


async def test_export_shares_a_markdown_file_in_the_channel(archive: World) -> None:
    world = archive
    alice, bob = world.slack.user(Seed.ALICE), world.slack.user(Seed.BOB)
    await hold_lean_coffee(
        world.hearth.deps.sessionmaker,
        team=TEAM,
        channel=PRACTICE,
        facilitator=Seed.BOB,
        title="Second coffee",
        topics=[Topic(Seed.BOB, "# Not a heading [link](x)")],
        at=START - timedelta(days=2),
    )

    await alice.run_command("/minutes", "export", channel=PRACTICE)

    (file,) = world.slack.state.files.values()
    assert file.name == "hearth-minutes-practice-2026-11-23.md"
    assert file.completed and file.channels == [PRACTICE]
    content = file.text
    assert content.startswith("# Minutes of \\#practice\n")
    assert "2 sets of minutes, newest first" in content
    # Newest first; names resolved; user text escaped.
    assert content.index("## Second coffee") < content.index("## Content design CoP")
    assert "**\\# Not a heading \\[link\\](x)**" in content
    assert "Facilitated by @alice" in content
    assert "Give every newcomer a \\*buddy\\* (@carol)" in content
    assert "Action: Draft a style guide — @bob, due Fri 4 Dec 2026" in content
    assert "Onboarding newcomers to \\<\\!channel\\> \\& co" in content
    assert "### Not reached" in content and "Accessibility audits" in content
    assert "Leads" not in content and "Somewhere else" not in content
    # Everyone in the channel sees the file and who asked for it.
    shared = [m for m in bob.messages(PRACTICE) if m.from_bot and not m.ephemeral][-1]
    assert "Asked for by @alice" in shared.readable_text
    live = world.slack.state.find_message(PRACTICE, shared.ts)
    assert live is not None and live.files[0]["name"] == file.name
    assert "hearth-minutes-practice-2026-11-23.md" in last_note(world, Seed.ALICE).all_text
    assert not world.slack.violations


async def test_the_emulator_takes_uploads_the_way_slack_does(world: World) -> None:
    client = web_client(world.slack)

    response = await client.files_upload_v2(
        channel=PRACTICE, content="hello", filename="a.md", title="A"
    )

    assert response["file"]["title"] == "A"
    (file,) = world.slack.state.files.values()
    assert (file.text, file.channels) == ("hello", [PRACTICE])
    assert [c.method for c in world.slack.calls[-3:]] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    with pytest.raises(Exception, match="not_in_channel"):
        await client.files_upload_v2(channel=Seed.RANDOM, content="x", filename="b.md")


async def test_who_may_see_a_channels_minutes(world: World) -> None:
    access, team = world.hearth.deps.access, world.slack.state.team.id

    assert await visibility(access, team, Seed.ALICE)(LEADS)  # a member of the private channel
    assert not await visibility(access, team, Seed.BOB)(LEADS)  # not a member
    assert await visibility(access, team, Seed.DAVE)(PRACTICE)  # public: anyone in the workspace
    assert not await visibility(access, team, Seed.ALICE)("C0GONE")  # unknown: stays hidden
