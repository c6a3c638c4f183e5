"""Block Kit for the rota's timed messages: the facilitator's reminder with its hand-over
pack, the channel's announcement on the day, the ask to step in, and a note to the leads.

Pure functions from plain values; every user-written text (topic titles, actions, minutes
titles) is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk.models.blocks import Block

from bot.blocks.actions import mark_done_button
from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    actions,
    button,
    context,
    day_text,
    divider,
    duration_text,
    header,
    list_words,
    mention,
    one_line,
    plural,
    safe,
    section,
    slack_date,
    text_sections,
)
from bot.ids import MeetupPlanAction, RotaAction
from bot.services.rota import MeetupFormat
from bot.services.rota_reminders import HandoverPack
from bot.state import MeetupRef

TITLE_LIMIT = 120
ACTION_LIMIT = 200
# Blocks `reminder` uses around the hand-over pack (header, intro, buttons, the chat meetup
# note, divider, the pack's heading); the pack gets the rest of Slack's 50.
REMINDER_BLOCKS = 6
PACK_ROOM = MAX_MESSAGE_BLOCKS - REMINDER_BLOCKS

FORMAT_NAMES: dict[str, str] = {
    MeetupFormat.LEAN_COFFEE: "Lean Coffee",
    MeetupFormat.CHAT: "time-boxed chat",
    MeetupFormat.OTHER: "meetup",
}


@dataclass(frozen=True)
class Outgoing:
    """A message ready for `chat.postMessage`: notification text and blocks."""

    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class MeetupInfo:
    community_id: int
    meetup_id: int
    channel_id: str
    starts_at: datetime
    duration_minutes: int
    format: str

    @property
    def ref(self) -> str:
        return MeetupRef(c=self.community_id, m=self.meetup_id).encode()

    @property
    def what(self) -> str:
        """`a Lean Coffee (1 h)`."""
        name = FORMAT_NAMES.get(self.format, "meetup")
        article = "an" if name[0].lower() in "aeiou" else "a"
        return f"{article} {name} ({duration_text(self.duration_minutes * 60)})"


def _channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


# --- the reminder -----------------------------------------------------------------------


def reminder(
    meetup: MeetupInfo, facilitator_id: str, confirmed: bool, pack: HandoverPack
) -> Outgoing:
    """The DM a facilitator gets a while before their meetup."""
    when = slack_date(meetup.starts_at)
    intro = (
        f"Hi {mention(facilitator_id)}! It's your turn to facilitate {meetup.what} in "
        f"{_channel(meetup.channel_id)} on {when}."
    )
    if confirmed:
        ask = "You've already confirmed. Thank you! If plans change, you can still pass it on."
        buttons = [
            button("I can't make it", RotaAction.SKIP, meetup.ref),
            button("Swap with someone", RotaAction.SWAP, meetup.ref),
        ]
    else:
        ask = "Can you make it? Let the group know, or pass it on:"
        buttons = [
            button("I'll facilitate", RotaAction.CONFIRM, meetup.ref, style="primary"),
            button("I can't make it", RotaAction.SKIP, meetup.ref),
            button("Swap with someone", RotaAction.SWAP, meetup.ref),
        ]
    blocks: list[Block] = [
        header("Your turn to facilitate"),
        section(f"{intro}\n{ask}"),
        actions(*buttons),
    ]
    if meetup.format == MeetupFormat.CHAT:
        blocks.append(
            section(
                f"hearth starts the chat in {_channel(meetup.channel_id)} by itself at the "
                "time, with you as facilitator. Choose its prompts, or it opens with a couple "
                "of general ones.",
                accessory=button("Choose the prompts", MeetupPlanAction.CHOOSE_PROMPTS, meetup.ref),
            )
        )
    blocks += [
        divider(),
        section("*Your hand-over pack*"),
        *handover_blocks(pack),
    ]
    text = f"Reminder: you're facilitating {meetup.what} on {when}."
    return Outgoing(text, blocks)


def handover_blocks(pack: HandoverPack, room: int = PACK_ROOM) -> list[Block]:
    """Last time's minutes in short, open actions (each with its "Mark as done" button) and
    the topics waiting, in at most `room` blocks: actions that don't fit are counted."""
    if pack.waiting:
        lines = [
            f"• {safe(one_line(t.title), TITLE_LIMIT)} ({plural(t.votes, 'vote')})"
            for t in pack.waiting
        ]
        more = pack.waiting_total - len(pack.waiting)
        if more > 0:
            lines.append(f"…and {plural(more, 'more topic')}.")
        waiting = text_sections(["*Topics waiting in the backlog*", *lines])
    else:
        waiting = [section("*Topics waiting in the backlog*\nNone yet: people can propose some.")]
    thanks = context("Thank you for keeping the community going. :heart:")
    blocks: list[Block] = [section(last_time_text(pack))]
    blocks += _open_actions_blocks(pack, room - len(blocks) - len(waiting) - 1)
    return [*blocks, *waiting, thanks]


def _open_actions_blocks(pack: HandoverPack, room: int) -> list[Block]:
    """The heading, one section per open action that fits in `room` blocks, and a line
    counting the rest."""
    if not pack.actions:
        return [section("*Open actions*\nNone recorded yet.")]
    total = max(pack.actions_total, len(pack.actions))
    fits = room - 1  # the heading
    if total > fits:
        fits -= 1  # the line counting the rest
    shown = pack.actions[: max(fits, 0)]
    blocks: list[Block] = [section("*Open actions*")]
    blocks += [
        section(
            action_line(a.text, a.owner_id, a.due_date, a.topic_title),
            accessory=mark_done_button(a.action_id, a.source),
        )
        for a in shown
    ]
    rest = total - len(shown)
    if rest > 0:
        blocks.append(
            context(
                f"…and {plural(rest, 'more open action')}: each owner sees theirs on "
                "hearth's Home tab."
            )
        )
    return blocks


def last_time_text(pack: HandoverPack) -> str:
    last = pack.last
    if last is None:
        return "*Last time*\nThere are no minutes yet, so this may be the first meetup."
    title = safe(one_line(last.title), TITLE_LIMIT)
    lines = [
        f"*Last time:* {title}, {day_text(last.held_on)}, facilitated by "
        f"{mention(last.facilitator_id)}."
    ]
    if last.topics_discussed:
        topics = list_words([f"“{safe(one_line(t), TITLE_LIMIT)}”" for t in last.topics])
        more = last.topics_discussed - len(last.topics)
        lines.append(
            f"{plural(last.topics_discussed, last.topic_word)} discussed: {topics}"
            + (f" and {more} more" if more > 0 else "")
            + "."
        )
    if last.topics_discussed or last.takeaways:
        lines.append(
            f"{plural(last.takeaways, 'takeaway')}, of which {plural(last.actions, 'action')}."
        )
    return "\n".join(lines)


def action_line(text: str, owner_id: str | None, due: date | None, topic_title: str) -> str:
    parts = [f"• {safe(one_line(text), ACTION_LIMIT)}"]
    who = mention(owner_id) if owner_id else "no owner yet"
    parts.append(f" ({who}")
    if due is not None:
        parts.append(f", due {day_text(due)}")
    parts.append(f"; from “{safe(one_line(topic_title), TITLE_LIMIT)}”)")
    return "".join(parts)


# --- on the day ---------------------------------------------------------------------------


def announcement(
    meetup: MeetupInfo,
    facilitator_id: str | None,
    confirmed: bool,
    step_in_id: str | None,
) -> Outgoing:
    """The channel's note on the day: when, what, and who is facilitating."""
    when = slack_date(meetup.starts_at, "{time}")
    first = f"*Meetup today at {when}*: {meetup.what}."
    if meetup.format == MeetupFormat.CHAT:
        first += (
            f" It happens right here, as a time-boxed chat: at {when} hearth posts the "
            "prompts in this channel, and everyone replies in their threads."
        )
    blocks: list[Block]
    if facilitator_id is None:
        lines = [first, "Nobody is down to facilitate yet. Could you step in?"]
        blocks = [
            section("\n".join(lines)),
            actions(button("I'll facilitate", RotaAction.STEP_IN, meetup.ref, style="primary")),
        ]
        text = f"Meetup today at {when}. Nobody is down to facilitate yet."
        return Outgoing(text, blocks)
    who = mention(facilitator_id)
    if confirmed:
        lines = [first, f"{who} is facilitating. See you there!"]
    elif step_in_id is not None:
        lines = [
            first,
            f"{who} is down to facilitate but hasn't confirmed yet, so I've asked "
            f"{mention(step_in_id)} whether they could step in.",
        ]
    else:
        lines = [first, f"{who} is down to facilitate (not confirmed yet)."]
    return Outgoing(f"Meetup today at {when}, facilitated by {who}.", [section("\n".join(lines))])


def step_in_request(meetup: MeetupInfo, facilitator_id: str, asked_id: str) -> Outgoing:
    """A DM asking the next person in the rota to take an unconfirmed turn."""
    when = slack_date(meetup.starts_at)
    body = (
        f"Hi {mention(asked_id)}! {mention(facilitator_id)} is down to facilitate "
        f"{meetup.what} in {_channel(meetup.channel_id)} on {when}, but hasn't confirmed. "
        "You're next in the rota: could you step in? If not, no need to do anything."
    )
    blocks: list[Block] = [
        section(body),
        actions(button("I'll step in", RotaAction.STEP_IN, meetup.ref, style="primary")),
    ]
    return Outgoing(f"Could you step in to facilitate the meetup on {when}?", blocks)


def overload_notice(channel_id: str, user_id: str, times: int, average: float) -> Outgoing:
    """A DM to a lead: someone has facilitated far more than their share."""
    body = (
        f"{mention(user_id)} has now facilitated {plural(times, 'meetup')} in "
        f"{_channel(channel_id)}, while people in the rota average {average:.1f}. "
        "It might be a good moment to thank them, and to encourage someone else to take "
        "a turn (`/rota` shows who is next)."
    )
    return Outgoing(
        f"{mention(user_id)} has facilitated far more than their share.", [section(body)]
    )
