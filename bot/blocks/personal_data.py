"""A person's own data: the Home's "Your data" section, the modal listing what hearth holds
about them, the confirmation before it is deleted, and what was done.

Pure builders from the plain values of `bot.services.personal_data_types`. Everything the
person wrote is shown escaped and shortened; each modal stays far inside Slack's 100 blocks
and 3000 characters a section.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks.common import (
    actions,
    button,
    context,
    day_text,
    divider,
    header,
    list_words,
    modal,
    one_line,
    safe,
    section,
    slack_date,
)
from bot.ids import PersonalDataAction, PersonalDataBlock, PersonalDataView
from bot.services.personal_data_types import (
    Example,
    Fate,
    Held,
    Kind,
    PersonalData,
    blocker_text,
)
from bot.state import PersonalDataModal

SHOW_BUTTON = "See what hearth holds about you"
DELETE_BUTTON = "Delete my data"
EXAMPLE_LIMIT = 120  # characters of a person's words shown per example

HOME_TEXT = (
    "hearth keeps a little about what you do here: your place in a rota, your votes, the "
    "topics and replies in your communities' minutes. See it all, and delete it if you wish."
)
ANONYMOUS_NOTE = (
    "Answers to anonymous health checks are never stored with your Slack ID, so there is "
    "nothing of yours there to show or delete."
)
NOTHING_HELD = (
    "hearth holds nothing about you in this workspace: no rota place, votes, topics, replies, "
    "actions or minutes with your name. Slack shows your name; hearth only ever stores your "
    "Slack ID next to what you do."
)

# How each kind reads, one and many: "2 dots you put on Lean Coffee topics".
NOUNS: dict[Kind, tuple[str, str]] = {
    Kind.LEAD: ("community you lead", "communities you lead"),
    Kind.ROTA: ("rota you're in (or were)", "rotas you're in (or were)"),
    Kind.AWAY: ("set of away dates", "sets of away dates"),
    Kind.TURNS: (
        "coming meetup you're down to facilitate",
        "coming meetups you're down to facilitate",
    ),
    Kind.SKIPS: ("turn you skipped", "turns you skipped"),
    Kind.SWAPS: ("swap request with you", "swap requests with you"),
    Kind.PAST_MEETUPS: ("past meetup you facilitated", "past meetups you facilitated"),
    Kind.TOPICS: ("Lean Coffee topic you proposed", "Lean Coffee topics you proposed"),
    Kind.DOTS: ("dot you put on a Lean Coffee topic", "dots you put on Lean Coffee topics"),
    Kind.KEEP_GOING: ("“Keep going?” vote", "“Keep going?” votes"),
    Kind.REPLIES: ("reply heard in a chat meetup", "replies heard in chat meetups"),
    Kind.TAKEAWAYS: ("takeaway or action you wrote down", "takeaways and actions you wrote down"),
    Kind.ACTIONS: ("action you own", "actions you own"),
    Kind.MARKED_DONE: ("action you marked done", "actions you marked done"),
    Kind.ANSWERS: ("answer to a named health check", "answers to named health checks"),
    Kind.OPT_OUTS: (
        "community whose health check reminders you turned off",
        "communities whose health check reminders you turned off",
    ),
    Kind.MEETINGS_RUN: (
        "Lean Coffee, chat meetup or health check you ran",
        "Lean Coffees, chat meetups and health checks you ran",
    ),
    Kind.MINUTES: ("set of minutes that names you", "sets of minutes that name you"),
    Kind.MENTIONS: ("mention of you in what others wrote", "mentions of you in what others wrote"),
    Kind.SET_UP: (
        "thing you set up for a community (a lead, a schedule, someone's away dates)",
        "things you set up for communities (leads, schedules, someone's away dates)",
    ),
    Kind.NOTES: ("record of a message hearth sent you", "records of messages hearth sent you"),
}

# What deleting does to a kind, when it needs saying.
AFTERWARDS: dict[Kind, str] = {
    Kind.TURNS: "they go back to the rota",
    Kind.SWAPS: "ones still waiting for an answer are withdrawn",
    Kind.PAST_MEETUPS: "they stay in the rota's history, without a facilitator",
    Kind.TOPICS: "they stay in the minutes, from “someone”",
    Kind.REPLIES: "they stay, as anonymous posts do",
    Kind.ACTIONS: "they stay open, owned by “someone”",
    Kind.MENTIONS: "they will read “someone”",
}

FATE_HEADERS: dict[Fate, str] = {
    Fate.DELETED: "Deleted when you delete your data",
    Fate.UNNAMED: "Kept for others, with your name taken off",
}


def amount(held: Held) -> str:
    """`2 dots you put on Lean Coffee topics`."""
    one, many = NOUNS[held.kind]
    return f"{held.count} {one if held.count == 1 else many}"


def example_line(example: Example) -> str:
    """One example, in words: `Lean Coffee “Tea” in #practice on Mon 23 Nov 2026`."""
    parts: list[str] = []
    if example.label:
        parts.append(example.label)
    if example.text:
        parts.append(f"“{safe(one_line(example.text), EXAMPLE_LIMIT)}”")
    if example.channel_id:
        where = f"<#{example.channel_id}>"
        parts.append(f"in {where}" if parts else where)
    if example.on and example.until:
        parts.append(f"from {day_text(example.on)} to {day_text(example.until)}")
    elif example.on:
        parts.append(f"on {day_text(example.on)}")
    if example.at:
        parts.append(slack_date(example.at))
    return " ".join(parts)


def held_text(held: Held) -> str:
    """A kind's count, what deleting does to it, and its examples, one a line."""
    lines = [f"*{amount(held)}*"]
    if held.kind in AFTERWARDS:
        lines[0] += f" ({AFTERWARDS[held.kind]})"
    lines += [f"• {example_line(e)}" for e in held.examples]
    if held.examples and held.count > len(held.examples):
        lines.append(f"…and {held.count - len(held.examples)} more")
    return "\n".join(lines)


# --- the Home ------------------------------------------------------------------------------


def home_section() -> list[Block]:
    """The Home's "Your data" section, under everything else."""
    return [
        divider(),
        header("Your data"),
        section(HOME_TEXT, accessory=button(SHOW_BUTTON, PersonalDataAction.SHOW)),
    ]


# --- the modals ----------------------------------------------------------------------------


def _meta() -> str:
    return PersonalDataModal().encode()


def looking_modal() -> View:
    """Shown at once (a click's trigger lasts only 3 seconds), then replaced."""
    return modal(
        title="Your data",
        callback_id=PersonalDataView.SUMMARY,
        blocks=[section("Looking up what hearth holds about you…")],
        close="Close",
        private_metadata=_meta(),
    )


def summary_modal(data: PersonalData) -> View:
    """What hearth holds about the person, grouped by what deleting would do to it."""
    blocks: list[Block] = []
    if data.is_empty:
        blocks.append(section(NOTHING_HELD))
    else:
        blocks.append(
            section(
                "Here is everything hearth holds about you in this workspace. Slack shows "
                "your name; hearth stores only your Slack ID next to what you did."
            )
        )
        for fate in Fate:
            group = data.with_fate(fate)
            if group:
                blocks.append(header(FATE_HEADERS[fate]))
                blocks += [section(held_text(h)) for h in group]
    blocks.append(context(ANONYMOUS_NOTE))
    if data.blockers:
        steps = "\n".join(f"• {blocker_text(b)}" for b in data.blockers)
        blocks += [
            divider(),
            section(
                f"*Before you can delete your data*\n{steps}\n"
                "Once that's done, open this again to delete your data."
            ),
        ]
    elif not data.is_empty:
        blocks += [
            divider(),
            actions(button(DELETE_BUTTON, PersonalDataAction.DELETE, style="danger")),
        ]
    return modal(
        title="Your data",
        callback_id=PersonalDataView.SUMMARY,
        blocks=blocks,
        close="Close",
        private_metadata=_meta(),
    )


def _amounts(held: Sequence[Held]) -> str:
    return list_words([amount(h) for h in held])


def confirm_text(data: PersonalData) -> str:
    """ "This removes … and takes your name off … This can't be undone." """
    deleted, unnamed = data.with_fate(Fate.DELETED), data.with_fate(Fate.UNNAMED)
    parts = []
    if deleted:
        parts.append(f"This removes {_amounts(deleted)}")
    if unnamed:
        parts.append(
            f"{'and takes' if deleted else 'This takes'} your name off {_amounts(unnamed)}"
        )
    return (
        " ".join(parts)
        + ".\n\nOthers' minutes keep what you said, without your name. "
        + "*This can't be undone.*"
    )


def confirm_modal(data: PersonalData) -> View:
    """ "Delete your data?", or what to hand on first when that can't be done yet."""
    if data.blockers or data.is_empty:
        text = (
            "\n".join(f"• {blocker_text(b)}" for b in data.blockers)
            if data.blockers
            else NOTHING_HELD
        )
        return modal(
            title="Not just yet",
            callback_id=PersonalDataView.DONE,
            blocks=[section(text)],
            close="Back",
            private_metadata=_meta(),
        )
    return modal(
        title="Delete your data?",
        callback_id=PersonalDataView.CONFIRM,
        blocks=[section(confirm_text(data), block_id=PersonalDataBlock.CONFIRM_TEXT)],
        submit=DELETE_BUTTON,
        close="Keep my data",
        private_metadata=_meta(),
    )


def forgotten_text(removed: PersonalData) -> str:
    """What was done, for the top of the Home and the modal (mrkdwn)."""
    if removed.is_empty:
        return "There was nothing to delete: hearth held nothing about you in this workspace."
    deleted, unnamed = removed.with_fate(Fate.DELETED), removed.with_fate(Fate.UNNAMED)
    lines = ["*Your data is deleted.*"]
    if deleted:
        lines.append(f"Removed: {_amounts(deleted)}.")
    if unnamed:
        lines.append(f"Your name is off {_amounts(unnamed)}; they now say “someone”.")
    return "\n".join(lines)


def done_modal(removed: PersonalData | None, refusal: str | None = None) -> View:
    """Shown in place of the list once the person confirmed: what was done, or (when
    something changed in the meantime) what to hand on first."""
    if refusal is not None:
        blocks: list[Block] = [section(refusal)]
    else:
        assert removed is not None
        blocks = [
            section(forgotten_text(removed)),
            context(
                "You can go on using hearth as before; what you do from now on is kept as "
                "for everyone else, and you can delete it again here."
            ),
        ]
    return modal(
        title="Your data",
        callback_id=PersonalDataView.DONE,
        blocks=blocks,
        close="Close",
        private_metadata=_meta(),
    )
