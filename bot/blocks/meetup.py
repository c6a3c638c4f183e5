"""Block Kit for time-boxed chat meetups: the start modal, the opening message, prompts,
nudges, the anonymous-post and takeaway modals, and the minutes. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    NumberInputElement,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    FormErrors,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    duration_text,
    facilitator_input,
    guide_blocks,
    header,
    mention,
    modal,
    option,
    plain,
    plural,
    safe,
    section,
    slack_date,
    split_messages,
    state_checked,
    state_date,
    state_selected,
    state_text,
    state_user,
    text_sections,
    truncate,
)
from bot.ids import MeetupAction, MeetupBlock, MeetupView, input_action_id
from bot.services.meetup import (
    DEFAULT_EXTEND_MINUTES,
    DEFAULT_LENGTH_MINUTES,
    MAX_LENGTH_MINUTES,
    MAX_PROMPTS,
    MIN_LENGTH_MINUTES,
    PROMPT_MAX,
    RUNNING,
    TAKEAWAY_MAX,
    MeetupMinutes,
    MeetupState,
    PromptView,
    StartOptions,
)
from bot.state import ChatMeetupModal, ChatMeetupRef

NUDGE_HALF = "half"
NUDGE_FIVE = "five"
OFF_RECORD_HOW = "start it with *(off the record)*"
PROMPTS_INPUT_MAX = 3000
EXTEND_CHOICES = (5, 10, 15, 30)  # minutes, offered by "Extend…"
TAKEAWAY_BUTTON = "Add a takeaway or action"
ANON_POST_MAX = 3000  # Slack's limit for a text input


# --- /meetup help ----------------------------------------------------------------------------


_HELP = [
    (
        "*/meetup* runs a time-boxed chat meetup in this channel: each prompt gets its own "
        "message, everyone replies in its thread, and hearth keeps the time, nudges, closes "
        "and writes the minutes."
    ),
    (
        "• `/meetup`: start one (prompts, length, pace, nudges, who facilitates)\n"
        f"• During the meetup, to keep a reply out of the minutes, {OFF_RECORD_HOW}.\n"
        f"• *{TAKEAWAY_BUTTON}* on the opening message, any time: it goes in the minutes "
        "(after the close, use the button on the minutes)\n"
        "• *Extend…* (the facilitator or a lead): 5 to 30 more minutes, up to "
        f"{MAX_LENGTH_MINUTES} minutes in all\n"
        "• `/meetup help`: this guide"
    ),
]


def help_blocks() -> list[Block]:
    return guide_blocks("How chat meetups work", _HELP)


def help_text() -> str:
    return "How chat meetups work, and the /meetup command."


# --- starting ----------------------------------------------------------------------------------


def prompts_input(initial: Sequence[str] = ()) -> InputBlock:
    """The prompts, one per line (shared by /meetup and a rota meetup's plan)."""
    return InputBlock(
        block_id=MeetupBlock.PROMPTS,
        label=plain("Prompts"),
        hint=plain(f"One per line, up to {MAX_PROMPTS}."),
        element=PlainTextInputElement(
            action_id=input_action_id(MeetupBlock.PROMPTS),
            multiline=True,
            max_length=PROMPTS_INPUT_MAX,
            initial_value="\n".join(initial) or None,
            placeholder=plain("What's one thing you changed your mind about this year?"),
        ),
    )


def pace_input(initial: int = 0) -> InputBlock:
    return InputBlock(
        block_id=MeetupBlock.PACE,
        label=plain("Minutes between prompts"),
        optional=True,
        hint=plain("Leave empty (or 0) to post every prompt at the start."),
        element=NumberInputElement(
            action_id=input_action_id(MeetupBlock.PACE),
            is_decimal_allowed=False,
            initial_value=str(initial) if initial else None,
        ),
    )


def nudges_input(*, half_time: bool = True, five_before: bool = True) -> InputBlock:
    choices = [
        ("At half-time", NUDGE_HALF, half_time),
        ("Five minutes before the end", NUDGE_FIVE, five_before),
    ]
    ticked = [option(label, value) for label, value, on in choices if on]
    return InputBlock(
        block_id=MeetupBlock.NUDGES,
        label=plain("Nudges in the threads"),
        optional=True,
        element=CheckboxesElement(
            action_id=input_action_id(MeetupBlock.NUDGES),
            options=[option(label, value) for label, value, _ in choices],
            initial_options=ticked or None,
        ),
    )


def start_modal(channel_id: str, facilitator_id: str | None, *, from_rota: bool = False) -> View:
    return modal(
        title="Start a chat meetup",
        callback_id=MeetupView.START,
        submit="Start",
        private_metadata=ChatMeetupModal(channel=channel_id).encode(),
        blocks=[
            section(
                "The group meets here in threads for a set time: each prompt is its own "
                "message, and its thread is the discussion."
            ),
            prompts_input(),
            InputBlock(
                block_id=MeetupBlock.LENGTH,
                label=plain("Length in minutes"),
                hint=plain(f"Between {MIN_LENGTH_MINUTES} and {MAX_LENGTH_MINUTES}."),
                element=NumberInputElement(
                    action_id=input_action_id(MeetupBlock.LENGTH),
                    is_decimal_allowed=False,
                    initial_value=str(DEFAULT_LENGTH_MINUTES),
                ),
            ),
            pace_input(),
            nudges_input(),
            facilitator_input(MeetupBlock.FACILITATOR, facilitator_id, from_rota=from_rota),
        ],
    )


def _whole_number(raw: str | None, block: MeetupBlock, errors: dict[str, str]) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        errors[block] = "Type a whole number of minutes."
        return None


def read_prompts(values: Mapping[str, Any], errors: dict[str, str]) -> tuple[str, ...]:
    """The prompts typed, one per line; problems go into `errors` under the input."""
    lines = (state_text(values, MeetupBlock.PROMPTS) or "").splitlines()
    prompts = tuple(p for p in (line.strip() for line in lines) if p)
    if not prompts:
        errors[MeetupBlock.PROMPTS] = "Add at least one prompt: one per line."
    elif len(prompts) > MAX_PROMPTS:
        errors[MeetupBlock.PROMPTS] = f"Up to {MAX_PROMPTS} prompts, please."
    elif any(len(p) > PROMPT_MAX for p in prompts):
        errors[MeetupBlock.PROMPTS] = f"Each prompt can be up to {PROMPT_MAX} characters."
    return prompts


def read_pace(values: Mapping[str, Any], errors: dict[str, str]) -> int:
    pace = _whole_number(state_text(values, MeetupBlock.PACE), MeetupBlock.PACE, errors) or 0
    if pace < 0:
        errors[MeetupBlock.PACE] = "The pace can't be negative: leave it empty for all at once."
    return pace


def read_nudges(values: Mapping[str, Any]) -> tuple[bool, bool]:
    """(at half-time, five minutes before the end)."""
    nudges = state_checked(values, MeetupBlock.NUDGES)
    return NUDGE_HALF in nudges, NUDGE_FIVE in nudges


def parse_start(values: Mapping[str, Any]) -> StartOptions:
    """The start modal's answers; FormErrors for what Slack's own checks let through."""
    errors: dict[str, str] = {}
    prompts = read_prompts(values, errors)
    length = _whole_number(state_text(values, MeetupBlock.LENGTH), MeetupBlock.LENGTH, errors)
    if length is None and MeetupBlock.LENGTH not in errors:
        length = DEFAULT_LENGTH_MINUTES
    if length is not None and not MIN_LENGTH_MINUTES <= length <= MAX_LENGTH_MINUTES:
        errors[MeetupBlock.LENGTH] = (
            f"A meetup lasts between {MIN_LENGTH_MINUTES} and {MAX_LENGTH_MINUTES} minutes."
        )
    pace = read_pace(values, errors)
    if errors:
        raise FormErrors(errors)
    half_time, five_before = read_nudges(values)
    return StartOptions(
        prompts=prompts,
        length_minutes=length or DEFAULT_LENGTH_MINUTES,
        pace_minutes=pace,
        nudge_half_time=half_time,
        nudge_five_before=five_before,
        facilitator_id=state_user(values, MeetupBlock.FACILITATOR),
    )


# --- the opening message --------------------------------------------------------------------


def _pace_text(state: MeetupState) -> str:
    count = len(state.prompts)
    if count == 1:
        return "There is one prompt."
    if state.pace_minutes == 0:
        return f"All {count} prompts are below."
    return f"{count} prompts, a new one every {state.pace_minutes} min."


def _facilitated(state: MeetupState) -> str:
    who = mention(state.facilitator_id)
    if state.stand_in:
        return (
            f"The community's scheduled meetup. Nobody on the rota was free to facilitate, so "
            f"{who}, one of the community's leads, is keeping it on track. Thank you!"
        )
    if state.from_rota:
        return f"The community's scheduled meetup. Facilitated by {who}, whose turn it is."
    return f"Facilitated by {who}"


def opening_text(state: MeetupState) -> str:
    if state.status != RUNNING:
        return "This chat meetup has ended. Thanks for taking part!"
    return f"A chat meetup is on until {slack_date(state.ends_at, '{time}')}: reply in the threads."


def opening_blocks(state: MeetupState) -> list[Block]:
    ref = ChatMeetupRef(m=state.id).encode()
    if state.status != RUNNING:
        ended = state.ended_at or state.ends_at
        return [
            header("Chat meetup"),
            section(
                f"This chat meetup ended {slack_date(ended)}. Thanks for taking part! "
                "The minutes are in the channel."
            ),
            context(_facilitated(state)),
        ]
    return [
        header("Chat meetup"),
        section(
            f"We're meeting here for {duration_text(state.length_minutes * 60)}, until "
            f"*{slack_date(state.ends_at)}*. {_pace_text(state)}\n"
            "*How to take part:* each prompt is its own message; reply in its thread, as "
            "often as you like.\n"
            f"*Off the record:* to keep a reply out of the minutes, {OFF_RECORD_HOW}.\n"
            "*Rather not be named?* Post anonymously: hearth posts it for you and keeps no "
            "note of who you are.\n"
            "*Takeaways and actions:* note them as they come up; they go in the minutes."
        ),
        context(_facilitated(state)),
        actions(
            button("Post anonymously", MeetupAction.POST_ANONYMOUSLY, ref),
            button(TAKEAWAY_BUTTON, MeetupAction.ADD_TAKEAWAY, ref),
            button("Extend…", MeetupAction.EXTEND, ref),
            button(
                "End now",
                MeetupAction.END_NOW,
                ref,
                style="danger",
                confirm=confirm_dialog(
                    "End the meetup now?",
                    "Each thread gets a closing note and the minutes are written.",
                    confirm="End now",
                ),
            ),
        ),
    ]


def prompt_text(prompt: PromptView, total: int) -> str:
    number = f"Prompt {prompt.position} of {total}" if total > 1 else "Prompt"
    return f"*{number}:* {safe(prompt.text)}\nReply in this thread."


def nudge_text(minutes_left: int, ends_at: datetime, *, half_time: bool) -> str:
    when = slack_date(ends_at, "{time}")
    if half_time:
        return f"Halfway there: about {minutes_left} min left (until {when}). Keep it going!"
    return f"{minutes_left} minutes left (until {when}). Anything you still want to add?"


def extended_text(ends_at: datetime, minutes: int) -> str:
    return (
        f"More time: {plural(minutes, 'more minute')}, so the meetup now runs until "
        f"{slack_date(ends_at, '{time}')}."
    )


# --- extending ---------------------------------------------------------------------------------


def extend_modal(meta: ChatMeetupModal, state: MeetupState) -> View:
    """How much longer: a few set lengths, within the longest a meetup can run."""
    choices = [option(plural(m, "minute"), str(m)) for m in EXTEND_CHOICES]
    return modal(
        title="Extend the meetup",
        callback_id=MeetupView.EXTEND,
        submit="Extend",
        private_metadata=meta.encode(),
        blocks=[
            section(
                f"The meetup runs until *{slack_date(state.ends_at)}*, "
                f"{duration_text(state.length_minutes * 60)} in all. The nudges and the close "
                "move with the new end."
            ),
            InputBlock(
                block_id=MeetupBlock.EXTEND_BY,
                label=plain("How much longer?"),
                hint=plain(f"A meetup can last up to {MAX_LENGTH_MINUTES} minutes in all."),
                element=StaticSelectElement(
                    action_id=input_action_id(MeetupBlock.EXTEND_BY),
                    options=choices,
                    initial_option=choices[EXTEND_CHOICES.index(DEFAULT_EXTEND_MINUTES)],
                ),
            ),
        ],
    )


def parse_extend(values: Mapping[str, Any]) -> int:
    """The minutes chosen in the extend modal."""
    chosen = state_selected(values, MeetupBlock.EXTEND_BY)
    if chosen is None or not chosen.isdigit():
        raise FormErrors({MeetupBlock.EXTEND_BY: "Pick how much longer the meetup should run."})
    return int(chosen)


def takeaway_noted_text() -> str:
    return "Noted! It will be in the minutes when the meetup ends."


def closing_note_text() -> str:
    return "Time's up on this thread. Thank you! Replies from now on won't be in the minutes."


# --- anonymous posts ---------------------------------------------------------------------------


def anonymous_modal(meta: ChatMeetupModal, prompts: Sequence[PromptView]) -> View:
    released = [p for p in prompts if p.message_ts is not None]
    choices = [option(truncate(f"{p.position}. {p.text}", 75), str(p.id)) for p in released]
    return modal(
        title="Post anonymously",
        callback_id=MeetupView.ANONYMOUS,
        submit="Post",
        private_metadata=meta.encode(),
        blocks=[
            section(
                "hearth posts this in the prompt's thread without your name, and stores "
                "nothing about who sent it."
            ),
            InputBlock(
                block_id=MeetupBlock.ANON_PROMPT,
                label=plain("Which prompt?"),
                element=StaticSelectElement(
                    action_id=input_action_id(MeetupBlock.ANON_PROMPT),
                    options=choices,
                    initial_option=choices[-1] if choices else None,
                ),
            ),
            InputBlock(
                block_id=MeetupBlock.ANON_TEXT,
                label=plain("Your reply"),
                element=PlainTextInputElement(
                    action_id=input_action_id(MeetupBlock.ANON_TEXT),
                    multiline=True,
                    max_length=ANON_POST_MAX,
                ),
            ),
        ],
    )


@dataclass(frozen=True)
class AnonymousForm:
    prompt_id: int
    text: str


def parse_anonymous(values: Mapping[str, Any]) -> AnonymousForm:
    text = (state_text(values, MeetupBlock.ANON_TEXT) or "").strip()
    chosen = state_selected(values, MeetupBlock.ANON_PROMPT)
    errors: dict[str, str] = {}
    if not chosen:
        errors[MeetupBlock.ANON_PROMPT] = "Pick the prompt you're replying to."
    if not text:
        errors[MeetupBlock.ANON_TEXT] = "Write your reply first."
    if errors:
        raise FormErrors(errors)
    return AnonymousForm(prompt_id=int(chosen or 0), text=text)


def anonymous_post_text(text: str) -> str:
    return f"_Posted anonymously:_\n{safe(text)}"


# --- takeaways ---------------------------------------------------------------------------------


def takeaway_modal(meta: ChatMeetupModal) -> View:
    return modal(
        title="Takeaway or action",
        callback_id=MeetupView.TAKEAWAY,
        submit="Add",
        private_metadata=meta.encode(),
        blocks=[
            InputBlock(
                block_id=MeetupBlock.TAKEAWAY_TEXT,
                label=plain("Takeaway or action"),
                element=PlainTextInputElement(
                    action_id=input_action_id(MeetupBlock.TAKEAWAY_TEXT),
                    multiline=True,
                    max_length=TAKEAWAY_MAX,
                ),
            ),
            InputBlock(
                block_id=MeetupBlock.ACTION_OWNER,
                label=plain("Who will do it?"),
                optional=True,
                hint=plain("Pick someone to make it an action."),
                element=UserSelectElement(action_id=input_action_id(MeetupBlock.ACTION_OWNER)),
            ),
            InputBlock(
                block_id=MeetupBlock.ACTION_DUE,
                label=plain("Due date"),
                optional=True,
                element=DatePickerElement(action_id=input_action_id(MeetupBlock.ACTION_DUE)),
            ),
        ],
    )


@dataclass(frozen=True)
class TakeawayForm:
    text: str
    owner_id: str | None
    due_date: date | None


def parse_takeaway(values: Mapping[str, Any]) -> TakeawayForm:
    text = (state_text(values, MeetupBlock.TAKEAWAY_TEXT) or "").strip()
    if not text:
        raise FormErrors({MeetupBlock.TAKEAWAY_TEXT: "Write the takeaway or action first."})
    due = state_date(values, MeetupBlock.ACTION_DUE)
    return TakeawayForm(
        text=text,
        owner_id=state_user(values, MeetupBlock.ACTION_OWNER),
        due_date=date.fromisoformat(due) if due else None,
    )


# --- minutes ---------------------------------------------------------------------------------


MAYBE_MISSING_NOTE = (
    "A few replies may be missing: I couldn't read the threads back from Slack when the "
    "meetup closed, so these minutes hold the replies I heard as they were posted. Anything "
    "important that's missing can go in with *Add takeaways and actions*."
)


def minutes_text(minutes: MeetupMinutes) -> str:
    return f"Minutes: {safe(minutes.title)}"


def _reply_line(author_id: str | None, text: str) -> str:
    who = mention(author_id) if author_id else "_Anonymous_"
    return f"• {who}: {safe(' '.join(text.split()), 2000)}"


def minutes_messages(minutes: MeetupMinutes) -> list[list[Block]]:
    """The minutes, split into messages within Slack's 50 blocks; the first carries the
    button to add takeaways and actions."""
    ref = ChatMeetupRef(m=minutes.meetup_id).encode()
    people = ", ".join(mention(u) for u in minutes.participant_ids)
    airtime = [
        f"• {mention(a.user_id)}: {plural(a.replies, 'reply', 'replies')}" for a in minutes.airtime
    ]
    if minutes.anonymous_replies:
        airtime.append(f"• _Anonymous_: {plural(minutes.anonymous_replies, 'reply', 'replies')}")
    first: list[Block] = [
        header(f"Minutes: {minutes.title}"),
        context(
            f"{slack_date(minutes.started_at)} to {slack_date(minutes.ended_at, '{time}')}",
            f"Facilitated by {mention(minutes.facilitator_id)}",
        ),
        *([context(MAYBE_MISSING_NOTE)] if minutes.replies_may_be_missing else []),
        section(f"*Participants:* {people}"),
        *text_sections(["*Airtime* (replies each):", *(airtime or ["• Nobody replied."])]),
    ]
    if minutes.takeaways:
        lines = ["*Takeaways and actions:*"]
        for t in minutes.takeaways:
            line = f"• {safe(t.text)}"
            if t.owner_id:
                line += f" (action for {mention(t.owner_id)}"
                line += f", due {t.due_date:%d %b %Y})" if t.due_date else ")"
            lines.append(line)
        first.extend(text_sections(lines))
    first.append(actions(button("Add takeaways and actions", MeetupAction.ADD_TAKEAWAY, ref)))
    rest: list[Block] = []
    for number, prompt in enumerate(minutes.prompts, start=1):
        rest.append(divider())
        lines = [f"*{number}. {safe(' '.join(prompt.text.split()))}*"]
        lines.extend(_reply_line(r.author_id, r.text) for r in prompt.replies)
        if not prompt.replies:
            lines.append("_No replies on the record._")
        if prompt.off_record:
            lines.append(
                f"_{plural(prompt.off_record, 'reply', 'replies')} off the record, not kept._"
            )
        rest.extend(text_sections(lines))
    return split_messages([*first, *rest])
