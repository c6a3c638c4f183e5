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
    DEFAULT_LENGTH_MINUTES,
    EXTEND_MINUTES,
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
ANON_POST_MAX = 3000  # Slack's limit for a text input


# --- /meetup help ----------------------------------------------------------------------------


def help_text() -> str:
    return (
        "*/meetup* runs a time-boxed chat meetup in this channel: each prompt gets its own "
        "message, everyone replies in its thread, and hearth keeps the time, nudges, closes "
        "and writes the minutes.\n"
        "• `/meetup`: start one (prompts, length, pace, nudges)\n"
        f"• During the meetup, to keep a reply out of the minutes, {OFF_RECORD_HOW}.\n"
        "• `/meetup help`: this message"
    )


# --- starting ----------------------------------------------------------------------------------


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
            InputBlock(
                block_id=MeetupBlock.PROMPTS,
                label=plain("Prompts"),
                hint=plain(f"One per line, up to {MAX_PROMPTS}."),
                element=PlainTextInputElement(
                    action_id=input_action_id(MeetupBlock.PROMPTS),
                    multiline=True,
                    max_length=PROMPTS_INPUT_MAX,
                    placeholder=plain("What's one thing you changed your mind about this year?"),
                ),
            ),
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
            InputBlock(
                block_id=MeetupBlock.PACE,
                label=plain("Minutes between prompts"),
                optional=True,
                hint=plain("Leave empty (or 0) to post every prompt at the start."),
                element=NumberInputElement(
                    action_id=input_action_id(MeetupBlock.PACE), is_decimal_allowed=False
                ),
            ),
            InputBlock(
                block_id=MeetupBlock.NUDGES,
                label=plain("Nudges in the threads"),
                optional=True,
                element=CheckboxesElement(
                    action_id=input_action_id(MeetupBlock.NUDGES),
                    options=[
                        option("At half-time", NUDGE_HALF),
                        option("Five minutes before the end", NUDGE_FIVE),
                    ],
                    initial_options=[
                        option("At half-time", NUDGE_HALF),
                        option("Five minutes before the end", NUDGE_FIVE),
                    ],
                ),
            ),
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


def parse_start(values: Mapping[str, Any]) -> StartOptions:
    """The start modal's answers; FormErrors for what Slack's own checks let through."""
    errors: dict[str, str] = {}
    prompts = tuple(
        line.strip() for line in (state_text(values, MeetupBlock.PROMPTS) or "").splitlines()
    )
    prompts = tuple(p for p in prompts if p)
    if not prompts:
        errors[MeetupBlock.PROMPTS] = "Add at least one prompt: one per line."
    elif len(prompts) > MAX_PROMPTS:
        errors[MeetupBlock.PROMPTS] = f"Up to {MAX_PROMPTS} prompts, please."
    elif any(len(p) > PROMPT_MAX for p in prompts):
        errors[MeetupBlock.PROMPTS] = f"Each prompt can be up to {PROMPT_MAX} characters."
    length = _whole_number(state_text(values, MeetupBlock.LENGTH), MeetupBlock.LENGTH, errors)
    if length is None and MeetupBlock.LENGTH not in errors:
        length = DEFAULT_LENGTH_MINUTES
    if length is not None and not MIN_LENGTH_MINUTES <= length <= MAX_LENGTH_MINUTES:
        errors[MeetupBlock.LENGTH] = (
            f"A meetup lasts between {MIN_LENGTH_MINUTES} and {MAX_LENGTH_MINUTES} minutes."
        )
    pace = _whole_number(state_text(values, MeetupBlock.PACE), MeetupBlock.PACE, errors) or 0
    if pace < 0:
        errors[MeetupBlock.PACE] = "The pace can't be negative: leave it empty for all at once."
    if errors:
        raise FormErrors(errors)
    nudges = state_checked(values, MeetupBlock.NUDGES)
    return StartOptions(
        prompts=prompts,
        length_minutes=length or DEFAULT_LENGTH_MINUTES,
        pace_minutes=pace,
        nudge_half_time=NUDGE_HALF in nudges,
        nudge_five_before=NUDGE_FIVE in nudges,
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
            context(f"Facilitated by {mention(state.facilitator_id)}"),
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
            "note of who you are."
        ),
        context(f"Facilitated by {mention(state.facilitator_id)}"),
        actions(
            button("Post anonymously", MeetupAction.POST_ANONYMOUSLY, ref),
            button(f"Extend by {EXTEND_MINUTES} min", MeetupAction.EXTEND, ref),
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


def extended_text(ends_at: datetime) -> str:
    return f"More time: the meetup now runs until {slack_date(ends_at, '{time}')}."


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


def minutes_text(minutes: MeetupMinutes) -> str:
    return f"Minutes: {minutes.title}"


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
