"""What the facilitation rota looks like in Slack: the overview, the schedule, stats, swap
requests, the modals and the help.

Pure functions from plain values to Block Kit objects: no clock, no database, no Slack. Meetup
times go through `slack_date` so each reader sees their own local time; user text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    actions,
    button,
    confirm_dialog,
    context,
    day_text,
    divider,
    duration_text,
    guide_blocks,
    header,
    list_words,
    mention,
    modal,
    option,
    pack_lines,
    plain,
    plural,
    section,
    slack_date,
)
from bot.ids import RotaAction, RotaBlock, RotaView, input_action_id
from bot.services.recurrence import MAX_EVERY_WEEKS, ORDINALS, WEEKDAYS, Frequency, zone
from bot.services.rota import (
    CalledOff,
    FacilitationStat,
    MeetupFormat,
    ScheduleInput,
    SwapEnd,
    Turn,
)
from bot.state import CommunityRef, MeetupRef, RotaModal, SwapAskedRef, SwapRef

FREQUENCY_CHOICES: tuple[tuple[Frequency, str], ...] = (
    (Frequency.WEEKLY, "Every week, or every few weeks"),
    (Frequency.MONTHLY, "Once a month, on a set weekday"),
)
FORMAT_CHOICES: tuple[tuple[MeetupFormat, str], ...] = (
    (MeetupFormat.LEAN_COFFEE, "Lean Coffee"),
    (MeetupFormat.CHAT, "Time-boxed chat in Slack"),
    (MeetupFormat.OTHER, "Something else"),
)
REMINDER_CHOICES: tuple[int, ...] = (60, 3 * 60, 24 * 60, 2 * 24 * 60, 3 * 24 * 60, 7 * 24 * 60)
ANNOUNCE_CHOICES: tuple[int, ...] = (0, 15, 30, 60, 2 * 60, 4 * 60)
MAX_PEOPLE_SHOWN = 150
MAX_STATS_ROWS = 400
DATE_TOKEN = "{date_long_pretty} at {time}"


# --- what the builders are given ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleSummary:
    """A community's schedule, in words ready to show."""

    description: str  # e.g. "every Tuesday at 10:00 (Europe/London)"
    time_zone: str
    duration_minutes: int
    format: str
    reminder_minutes_before: int
    announce_minutes_before: int


@dataclass(frozen=True)
class RotaOverview:
    """Everything `/rota` shows one person (buttons depend on who is looking)."""

    community_id: int
    channel_id: str
    viewer_id: str
    viewer_is_lead: bool
    schedule: ScheduleSummary | None
    turns: Sequence[Turn] = ()
    members: Sequence[str] = ()
    leads: Sequence[str] = ()
    aways: Sequence[tuple[str, date, date]] = field(default_factory=tuple)

    @property
    def viewer_in_rota(self) -> bool:
        return self.viewer_id in self.members

    @property
    def next_turn(self) -> Turn | None:
        return self.turns[0] if self.turns else None


# --- small pieces -------------------------------------------------------------------------


def format_label(value: str) -> str:
    return next((label for choice, label in FORMAT_CHOICES if choice == value), "Meetup")


def span_text(minutes: int) -> str:
    """`2 days`, `1 hour`, `3 hours`, `45 min`: a length of time before a meetup."""
    if minutes > 0 and minutes % (24 * 60) == 0:
        return plural(minutes // (24 * 60), "day")
    if minutes > 0 and minutes % 60 == 0:
        return plural(minutes // 60, "hour")
    return duration_text(minutes * 60)


def before_text(minutes: int) -> str:
    return "when it starts" if minutes == 0 else f"{span_text(minutes)} before"


def period_text(first: date, last: date) -> str:
    """`1 Dec`, `1–9 Dec`, `28 Dec – 3 Jan`: a short span of days."""
    if first == last:
        return f"{first.day} {first:%b}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b}"
    return f"{first.day} {first:%b} – {last.day} {last:%b}"


def when(moment: datetime) -> str:
    """A meetup's start, shown in each reader's own time zone."""
    return slack_date(moment, DATE_TOKEN)


def _facilitator(turn: Turn) -> str:
    if turn.facilitator_id is None:
        return "_nobody available yet_"
    confirmed = " ✓ confirmed" if turn.confirmed else ""
    return f"{mention(turn.facilitator_id)}{confirmed}"


def _meetup_ref(overview: RotaOverview, turn: Turn) -> str:
    return MeetupRef(c=overview.community_id, m=turn.meetup_id).encode()


def _community_ref(overview: RotaOverview) -> str:
    return CommunityRef(c=overview.community_id).encode()


def _people_lines(user_ids: Sequence[str]) -> list[str]:
    shown = [mention(u) for u in user_ids[:MAX_PEOPLE_SHOWN]]
    extra = len(user_ids) - len(shown)
    return [", ".join(shown) + (f" and {extra} more" if extra > 0 else "")]


def _lead_meetup_buttons(overview: RotaOverview, turn: Turn) -> Block:
    ref = _meetup_ref(overview, turn)
    return actions(
        button("Move…", RotaAction.MOVE_MEETUP, ref),
        button(
            "Cancel this meetup",
            RotaAction.CANCEL_MEETUP,
            ref,
            style="danger",
            confirm=confirm_dialog(
                "Cancel this meetup?",
                f"The meetup on {when(turn.starts_at)} won't happen. The schedule carries on "
                "and the channel will be told.",
                confirm="Cancel the meetup",
                deny="Keep it",
            ),
        ),
    )


# --- /rota: the overview -------------------------------------------------------------------------


def _turn_text(turn: Turn, first: bool) -> str:
    moved = " _(moved from its usual time)_" if turn.moved else ""
    if first:
        return f"*Next meetup:* {when(turn.starts_at)}{moved}\n*Facilitating:* {_facilitator(turn)}"
    return f"{when(turn.starts_at)}{moved}: {_facilitator(turn)}"


def _viewer_buttons(overview: RotaOverview) -> Block:
    ref = _community_ref(overview)
    buttons = []
    if overview.viewer_in_rota:
        buttons.append(button("Leave the rota", RotaAction.LEAVE, ref))
    else:
        buttons.append(button("Join the rota", RotaAction.JOIN, ref, style="primary"))
    buttons.append(button("I'm away…", RotaAction.AWAY, ref))
    turn = overview.next_turn
    if turn is not None and turn.facilitator_id == overview.viewer_id:
        meetup = _meetup_ref(overview, turn)
        if not turn.confirmed:
            buttons.append(button("I'll be there", RotaAction.CONFIRM, meetup, style="primary"))
        buttons.append(
            button(
                "Skip my turn",
                RotaAction.SKIP,
                meetup,
                confirm=confirm_dialog(
                    "Skip your turn?",
                    "The next person available will facilitate this meetup instead, and you "
                    "keep your place for the next one.",
                    confirm="Skip my turn",
                    deny="Keep my turn",
                    style=None,
                ),
            )
        )
        buttons.append(button("Swap…", RotaAction.SWAP, meetup))
    buttons.append(button("Stats", RotaAction.STATS, ref))
    if overview.viewer_is_lead:
        label = "Edit schedule" if overview.schedule else "Set the schedule"
        buttons.append(button(label, RotaAction.EDIT_SCHEDULE, ref))
    return actions(*buttons)


def overview_blocks(overview: RotaOverview, notice: str | None = None) -> list[Block]:
    """The next meetup and its facilitator, the four after, the rota and the common buttons.

    `notice` says what just happened, when the overview is redrawn after a click."""
    blocks: list[Block] = [header("Facilitation rota")]
    if notice:
        blocks.append(section(notice))
    if overview.schedule is None:
        blocks.append(
            section(
                "There's no meetup schedule yet. "
                + (
                    "Set one with *Set the schedule* below or `/rota schedule`."
                    if overview.viewer_is_lead
                    else "A community lead can set one with `/rota schedule`."
                )
            )
        )
    else:
        s = overview.schedule
        blocks.append(
            context(
                f"Meets {s.description} · {span_text(s.duration_minutes)} · "
                f"{format_label(s.format)}"
            )
        )
        if not overview.turns:
            blocks.append(section("No meetups are coming up."))
        for index, turn in enumerate(overview.turns):
            if index == 1:
                blocks.append(section("*Coming up after that*"))
            blocks.append(section(_turn_text(turn, index == 0)))
            if overview.viewer_is_lead:
                blocks.append(_lead_meetup_buttons(overview, turn))
    blocks.append(divider())
    if overview.members:
        lines = [f"*In the rota ({len(overview.members)}):*", *_people_lines(overview.members)]
        blocks.extend(section(chunk) for chunk in pack_lines(lines)[:3])
    else:
        blocks.append(section("*In the rota:* nobody yet — join with `/rota join`."))
    notes = []
    if overview.aways:
        shown = [f"{mention(u)} {period_text(a, b)}" for u, a, b in overview.aways[:10]]
        notes.append(f"Away: {', '.join(shown)}")
    if overview.leads:
        notes.append(f"Leads: {list_words([mention(u) for u in overview.leads[:20]])}")
    if notes:
        blocks.append(context(" · ".join(notes)))
    blocks.append(_viewer_buttons(overview))
    return blocks[:MAX_MESSAGE_BLOCKS]


def overview_text(overview: RotaOverview) -> str:
    """The notification text of the overview (shown where blocks cannot be)."""
    turn = overview.next_turn
    if overview.schedule is None or turn is None:
        return "The facilitation rota: no meetups scheduled yet."
    who = mention(turn.facilitator_id) if turn.facilitator_id else "nobody yet"
    return f"Next meetup {when(turn.starts_at)}, facilitated by {who}."


# --- the schedule ---------------------------------------------------------------------------------


def schedule_lines(summary: ScheduleSummary) -> list[str]:
    return [
        f"*When:* {summary.description[:1].upper()}{summary.description[1:]}",
        f"*Length:* {span_text(summary.duration_minutes)}",
        f"*Format:* {format_label(summary.format)}",
        f"*Reminder to the facilitator:* {before_text(summary.reminder_minutes_before)}",
        f"*Announcement in the channel:* {before_text(summary.announce_minutes_before)}",
    ]


def schedule_blocks(overview: RotaOverview) -> list[Block]:
    """`/rota schedule` when there is one: the details, the next meetups, edit and delete."""
    assert overview.schedule is not None
    blocks: list[Block] = [
        header("Meetup schedule"),
        section("\n".join(schedule_lines(overview.schedule))),
    ]
    if overview.turns:
        lines = [f"• {when(t.starts_at)}" for t in overview.turns]
        blocks.append(section("*Next meetups:*\n" + "\n".join(lines)))
    ref = _community_ref(overview)
    if overview.viewer_is_lead:
        blocks.append(
            actions(
                button("Edit schedule", RotaAction.EDIT_SCHEDULE, ref, style="primary"),
                button(
                    "Delete schedule",
                    RotaAction.DELETE_SCHEDULE,
                    ref,
                    style="danger",
                    confirm=confirm_dialog(
                        "Delete the schedule?",
                        "All planned meetups are dropped and no more reminders are sent. "
                        "The rota itself (who's in it, who facilitated) is kept.",
                        confirm="Delete it",
                        deny="Keep it",
                    ),
                ),
            )
        )
    else:
        leads = list_words([mention(u) for u in overview.leads[:20]]) or "a workspace admin"
        blocks.append(context(f"Only the community's leads ({leads}) can change the schedule."))
    return blocks


def schedule_set_text(
    actor_id: str,
    summary: ScheduleSummary,
    first: datetime | None,
    *,
    changed: bool,
    dropped: int = 0,
    kept: int = 0,
) -> str:
    """Told to the channel when a lead sets or changes the schedule; the confirmation of the
    change, so it says when coming meetups no longer fit and were removed (`dropped`), and
    that the others (`kept`) keep who confirmed."""
    verb = "changed the meetup schedule" if changed else "set up a meetup schedule"
    next_one = f" The next one is {when(first)}." if first else ""
    return (
        f"{mention(actor_id)} {verb}: we meet {summary.description}, for "
        f"{span_text(summary.duration_minutes)}.{_dropped_text(dropped, kept)}{next_one} "
        "Type `/rota` to see who facilitates, or `/rota join` to take turns."
    )


def _dropped_text(dropped: int, kept: int) -> str:
    if dropped == 0:
        return ""
    verbs = "fits the new schedule and was" if dropped == 1 else "fit the new schedule and were"
    if kept == 0:
        which = "The coming meetup" if dropped == 1 else f"The {dropped} coming meetups"
        return f" {which} no longer {verbs} removed."
    return (
        f" {plural(dropped, 'coming meetup')} no longer {verbs} removed; confirmations for "
        "the others are kept."
    )


def _minutes_options(
    choices: Sequence[int], current: int, label: Callable[[int], str]
) -> tuple[list[Option], Option]:
    values = sorted({*choices, current})
    options = [option(label(m), str(m)) for m in values]
    chosen = next(o for o in options if o.value == str(current))
    return options, chosen


def default_schedule(time_zone: str, today: date) -> ScheduleInput:
    """What the schedule form suggests the first time: weekly, a Tuesday at 10:00, an hour."""
    return ScheduleInput(
        frequency=Frequency.WEEKLY,
        weekday=1,
        at=time(10, 0),
        time_zone=time_zone,
        starts_on=today,
    )


def schedule_modal(meta: RotaModal, current: ScheduleInput, *, editing: bool) -> View:
    """The form a lead fills in to set or change when the community meets."""
    frequencies = [option(label, value) for value, label in FREQUENCY_CHOICES]
    weekdays = [option(name, str(i)) for i, name in enumerate(WEEKDAYS)]
    weeks = [
        option(f"The {label} week" if n != -1 else "The last week", str(n))
        for n, label in ORDINALS.items()
    ]
    formats = [option(label, value) for value, label in FORMAT_CHOICES]
    reminders, reminder = _minutes_options(
        REMINDER_CHOICES, current.reminder_minutes_before, before_text
    )
    announces, announce = _minutes_options(
        ANNOUNCE_CHOICES, current.announce_minutes_before, lambda m: before_text(m).capitalize()
    )
    blocks: list[Block] = [
        section(
            "When does the community meet? hearth works out who facilitates each meetup, "
            "reminds them beforehand and announces the meetup in the channel."
        ),
        InputBlock(
            block_id=RotaBlock.FREQUENCY,
            label=plain("How often"),
            element=StaticSelectElement(
                action_id=input_action_id(RotaBlock.FREQUENCY),
                options=frequencies,
                initial_option=next(o for o in frequencies if o.value == current.frequency),
            ),
        ),
        InputBlock(
            block_id=RotaBlock.WEEKDAY,
            label=plain("Day of the week"),
            element=StaticSelectElement(
                action_id=input_action_id(RotaBlock.WEEKDAY),
                options=weekdays,
                initial_option=weekdays[current.weekday],
            ),
        ),
        InputBlock(
            block_id=RotaBlock.EVERY_WEEKS,
            label=plain("Every how many weeks"),
            hint=plain("For weekly meetups: 1 is every week, 2 every other week."),
            optional=True,
            element=NumberInputElement(
                action_id=input_action_id(RotaBlock.EVERY_WEEKS),
                is_decimal_allowed=False,
                initial_value=str(current.every_weeks),
                min_value="1",
                max_value=str(MAX_EVERY_WEEKS),
            ),
        ),
        InputBlock(
            block_id=RotaBlock.WEEK_OF_MONTH,
            label=plain("Which week of the month"),
            hint=plain("For monthly meetups, e.g. the 2nd Tuesday, or the last Friday."),
            optional=True,
            element=StaticSelectElement(
                action_id=input_action_id(RotaBlock.WEEK_OF_MONTH),
                options=weeks,
                initial_option=next(o for o in weeks if o.value == str(current.week_of_month)),
            ),
        ),
        InputBlock(
            block_id=RotaBlock.TIME,
            label=plain("Starts at"),
            element=TimePickerElement(
                action_id=input_action_id(RotaBlock.TIME),
                initial_time=current.at.strftime("%H:%M"),
            ),
        ),
        InputBlock(
            block_id=RotaBlock.TIME_ZONE,
            label=plain("Time zone"),
            hint=plain(
                "The time above is in this zone, and stays put when clocks change. "
                "A name like Europe/London, America/New_York or Asia/Singapore."
            ),
            element=PlainTextInputElement(
                action_id=input_action_id(RotaBlock.TIME_ZONE),
                initial_value=current.time_zone,
                max_length=64,
            ),
        ),
        InputBlock(
            block_id=RotaBlock.STARTS_ON,
            label=plain("Starting from"),
            hint=plain("The first meetup is on or after this day."),
            element=DatePickerElement(
                action_id=input_action_id(RotaBlock.STARTS_ON),
                initial_date=current.starts_on.isoformat(),
            ),
        ),
        InputBlock(
            block_id=RotaBlock.DURATION,
            label=plain("Length in minutes"),
            element=NumberInputElement(
                action_id=input_action_id(RotaBlock.DURATION),
                is_decimal_allowed=False,
                initial_value=str(current.duration_minutes),
                min_value="5",
                max_value="480",
            ),
        ),
        InputBlock(
            block_id=RotaBlock.FORMAT,
            label=plain("Format"),
            element=StaticSelectElement(
                action_id=input_action_id(RotaBlock.FORMAT),
                options=formats,
                initial_option=next(o for o in formats if o.value == current.format),
            ),
        ),
        InputBlock(
            block_id=RotaBlock.REMINDER,
            label=plain("Remind the facilitator"),
            element=StaticSelectElement(
                action_id=input_action_id(RotaBlock.REMINDER),
                options=reminders,
                initial_option=reminder,
            ),
        ),
        InputBlock(
            block_id=RotaBlock.ANNOUNCE,
            label=plain("Announce it in the channel"),
            hint=plain("On the day of the meetup."),
            element=StaticSelectElement(
                action_id=input_action_id(RotaBlock.ANNOUNCE),
                options=announces,
                initial_option=announce,
            ),
        ),
    ]
    if editing:
        blocks.append(
            context("Saving a change re-plans the coming meetups (cancelled or moved ones too).")
        )
    return modal(
        title="Meetup schedule",
        callback_id=RotaView.SCHEDULE,
        blocks=blocks,
        submit="Save",
        private_metadata=meta.encode(),
    )


# --- one meetup: move ---------------------------------------------------------------------------


def move_modal(meta: RotaModal, starts_at: datetime, time_zone: str) -> View:
    """Pick a new day and time for one meetup, in the schedule's time zone."""
    local = starts_at.astimezone(zone(time_zone))
    return modal(
        title="Move a meetup",
        callback_id=RotaView.MOVE_MEETUP,
        submit="Move it",
        private_metadata=meta.encode(),
        blocks=[
            section(
                f"This meetup is on {when(starts_at)}. Pick its new day and time; the schedule "
                "itself stays as it is."
            ),
            InputBlock(
                block_id=RotaBlock.MOVE_DATE,
                label=plain("New day"),
                element=DatePickerElement(
                    action_id=input_action_id(RotaBlock.MOVE_DATE),
                    initial_date=local.date().isoformat(),
                ),
            ),
            InputBlock(
                block_id=RotaBlock.MOVE_TIME,
                label=plain(f"New time ({time_zone})"),
                element=TimePickerElement(
                    action_id=input_action_id(RotaBlock.MOVE_TIME),
                    initial_time=local.strftime("%H:%M"),
                    timezone=time_zone,
                ),
            ),
        ],
    )


def meetup_cancelled_text(actor_id: str, starts_at: datetime) -> str:
    return (
        f"{mention(actor_id)} cancelled the meetup on {when(starts_at)}. "
        "The schedule carries on as usual; type `/rota` to see the next one."
    )


def meetup_moved_text(actor_id: str, old: datetime, new: datetime, facilitator: str | None) -> str:
    who = f" {mention(facilitator)} is down to facilitate." if facilitator else ""
    return f"{mention(actor_id)} moved the meetup on {when(old)} to *{when(new)}*.{who}"


# --- away and swap --------------------------------------------------------------------------------


def away_modal(meta: RotaModal, user_id: str, today: date) -> View:
    return modal(
        title="I'm away",
        callback_id=RotaView.AWAY,
        submit="Save",
        private_metadata=meta.encode(),
        blocks=[
            section(
                "Going to be away? You'll be passed over for meetups on these days and keep "
                "your place for when you're back. (Leads can mark someone else as away.)"
            ),
            InputBlock(
                block_id=RotaBlock.AWAY_WHO,
                label=plain("Who"),
                element=UserSelectElement(
                    action_id=input_action_id(RotaBlock.AWAY_WHO), initial_user=user_id
                ),
            ),
            InputBlock(
                block_id=RotaBlock.AWAY_FROM,
                label=plain("First day away"),
                element=DatePickerElement(
                    action_id=input_action_id(RotaBlock.AWAY_FROM),
                    initial_date=today.isoformat(),
                ),
            ),
            InputBlock(
                block_id=RotaBlock.AWAY_TO,
                label=plain("Last day away"),
                hint=plain("Leave empty for a single day."),
                optional=True,
                element=DatePickerElement(action_id=input_action_id(RotaBlock.AWAY_TO)),
            ),
        ],
    )


def away_text(user_id: str, actor_id: str, starts_on: date, ends_on: date) -> str:
    days = (
        day_text(starts_on)
        if starts_on == ends_on
        else (f"{day_text(starts_on)} to {day_text(ends_on)}")
    )
    who = "You're" if user_id == actor_id else f"{mention(user_id)} is"
    return f"Got it: {who} away {days}, and will be passed over for meetups then."


def swap_modal(meta: RotaModal, starts_at: datetime) -> View:
    return modal(
        title="Swap my turn",
        callback_id=RotaView.SWAP,
        submit="Ask them",
        private_metadata=meta.encode(),
        blocks=[
            section(
                f"Ask someone to facilitate the meetup on {when(starts_at)} instead of you. "
                "They get a direct message to accept or decline; nothing changes unless they "
                "accept."
            ),
            InputBlock(
                block_id=RotaBlock.SWAP_WITH,
                label=plain("Swap with"),
                element=UserSelectElement(action_id=input_action_id(RotaBlock.SWAP_WITH)),
            ),
        ],
    )


def swap_request_blocks(
    swap_id: int, from_id: str, channel_id: str, starts_at: datetime
) -> list[Block]:
    """The direct message asking someone to take a turn, with Accept and Decline."""
    ref = SwapRef(w=swap_id).encode()
    return [
        section(swap_request_text(from_id, channel_id, starts_at)),
        actions(
            button("Accept", RotaAction.ACCEPT_SWAP, ref, style="primary"),
            button("Decline", RotaAction.DECLINE_SWAP, ref),
        ),
        context("If you accept, the turn is yours, and you join the rota if you're not in it."),
    ]


def swap_request_text(from_id: str, channel_id: str, starts_at: datetime) -> str:
    return (
        f"{mention(from_id)} asks if you could facilitate the meetup in <#{channel_id}> on "
        f"{when(starts_at)} instead of them."
    )


def swap_answered_text(
    swap_from: str, swap_to: str, starts_at: datetime, *, accepted: bool, for_asker: bool
) -> str:
    if for_asker:
        if accepted:
            return (
                f"Good news: {mention(swap_to)} accepted your swap and will facilitate the "
                f"meetup on {when(starts_at)}."
            )
        return (
            f"{mention(swap_to)} can't swap this time, so the meetup on {when(starts_at)} is "
            "still yours. You can ask someone else with `/rota swap @someone`, or "
            "`/rota skip` to pass it on."
        )
    if accepted:
        return f"Thank you! You're facilitating the meetup on {when(starts_at)}."
    return f"No problem: you declined. {mention(swap_from)} has been told."


def swap_asked_text(other_id: str, starts_at: datetime) -> str:
    """The note to the person who asked for a swap."""
    return (
        f"I've asked {mention(other_id)} by direct message whether they can take the meetup on "
        f"{when(starts_at)}. It stays yours unless they accept; I'll let you know."
    )


def swap_asked_blocks(ref: SwapAskedRef, other_id: str, starts_at: datetime) -> list[Block]:
    """The note to the person who asked, with a way to take the request back."""
    return [
        section(swap_asked_text(other_id, starts_at)),
        actions(button("Withdraw the request", RotaAction.WITHDRAW_SWAP, ref.encode())),
    ]


def swap_withdrawn_request_text(
    from_id: str, by_id: str, channel_id: str, starts_at: datetime
) -> str:
    """The request message as the person asked sees it once it is withdrawn."""
    who = mention(by_id) if by_id == from_id else f"{mention(by_id)} (a community lead)"
    return (
        f"{who} withdrew this request: {mention(from_id)} had asked if you could facilitate the "
        f"meetup in <#{channel_id}> on {when(starts_at)}. There's nothing for you to do."
    )


def swap_withdrawn_request_blocks(
    from_id: str, by_id: str, channel_id: str, starts_at: datetime
) -> list[Block]:
    """The request message redrawn without Accept and Decline."""
    return [section(swap_withdrawn_request_text(from_id, by_id, channel_id, starts_at))]


def swap_withdrawn_text(
    from_id: str, to_id: str, starts_at: datetime, *, viewer_id: str, by_id: str
) -> str:
    """Told to whoever withdrew the request, and to the requester if a lead withdrew it."""
    if viewer_id == from_id == by_id:
        return (
            f"You withdrew your request to {mention(to_id)}, so the meetup on "
            f"{when(starts_at)} is still yours. `/rota swap` asks someone else, and "
            "`/rota skip` passes the turn on."
        )
    if viewer_id == from_id:
        return (
            f"{mention(by_id)} withdrew your request to {mention(to_id)}, so the meetup on "
            f"{when(starts_at)} is still yours."
        )
    return (
        f"You withdrew {mention(from_id)}'s request to {mention(to_id)}, so the meetup on "
        f"{when(starts_at)} is still {mention(from_id)}'s. I've let them know."
    )


def swap_called_off_text(
    off: CalledOff, channel_id: str, *, for_asker: bool, was_at: datetime | None = None
) -> str:
    """Why a pending swap request was called off, for the person who asked or the person
    asked. `was_at` is the meetup's time before it moved (its time now is in `off`)."""
    swap = off.swap
    at = was_at if was_at and off.reason == SwapEnd.MEETUP_MOVED else swap.starts_at
    if for_asker:
        why = {
            SwapEnd.MEETUP_CANCELLED: "that meetup was cancelled",
            SwapEnd.MEETUP_MOVED: f"the meetup moved to *{when(swap.starts_at)}*",
            SwapEnd.SCHEDULE_CHANGED: "that meetup is no longer on the schedule",
            SwapEnd.TAKEN: f"{mention(off.facilitator_id or '')} is facilitating it now",
            SwapEnd.NOT_THEIR_TURN: "it isn't your turn any more",
        }[off.reason]
        again = (
            " If you'd still like them to take it, ask them again with `/rota swap`."
            if off.reason == SwapEnd.MEETUP_MOVED
            else ""
        )
        return (
            f"Your request to {mention(swap.to_user_id)} to take the meetup on {when(at)} is "
            f"called off: {why}. I've let them know.{again}"
        )
    why = {
        SwapEnd.MEETUP_CANCELLED: "that meetup was cancelled",
        SwapEnd.MEETUP_MOVED: f"the meetup moved to *{when(swap.starts_at)}*",
        SwapEnd.SCHEDULE_CHANGED: "that meetup is no longer on the schedule",
        SwapEnd.TAKEN: f"{mention(off.facilitator_id or '')} is facilitating it now",
        SwapEnd.NOT_THEIR_TURN: f"it isn't {mention(swap.from_user_id)}'s turn any more",
    }[off.reason]
    return (
        f"{mention(swap.from_user_id)}'s request that you facilitate the meetup in "
        f"<#{channel_id}> on {when(at)} is called off: {why}. There's nothing for you to do."
    )


# --- stats ------------------------------------------------------------------------------------


def stats_blocks(rows: Sequence[FacilitationStat], overloaded: Sequence[str]) -> list[Block]:
    """How often each person has facilitated and when last; anyone over their share flagged."""
    blocks: list[Block] = [header("Who has facilitated")]
    if not rows:
        blocks.append(section("Nobody is in the rota yet — join with `/rota join`."))
        return blocks
    busy = set(overloaded)
    lines = []
    for row in rows[:MAX_STATS_ROWS]:
        last = f", last on {when(row.last_at)}" if row.last_at else ""
        flag = " ⚠️ _more than their share_" if row.user_id in busy else ""
        lines.append(f"• {mention(row.user_id)}: {plural(row.times, 'time')}{last}{flag}")
    blocks.extend(section(chunk) for chunk in pack_lines(lines)[: MAX_MESSAGE_BLOCKS - 3])
    if busy:
        blocks.append(
            context(
                "⚠️ marks people who have facilitated far more than their share. The rota "
                "gives the next turns to whoever has waited longest, so it evens out."
            )
        )
    return blocks


def stats_text(rows: Sequence[FacilitationStat]) -> str:
    total = sum(r.times for r in rows)
    people = plural(len(rows), "person", "people")
    return f"Facilitation so far: {plural(total, 'meetup')} across {people}."


# --- help ------------------------------------------------------------------------------------

_HELP = [
    (
        "*The facilitation rota* shares out who facilitates your community's meetups, so it "
        "isn't always the same person. Whoever has waited longest goes next; people who are "
        "away are passed over and keep their place."
    ),
    (
        "*Everyone*\n"
        "• `/rota`: the next meetup, who facilitates it and the four after that\n"
        "• `/rota join` / `/rota leave`: take turns, or stop\n"
        "• `/rota away 1 Dec to 14 Dec`: be passed over on those days (or `/rota away` for a "
        "form); dates like 2026-12-01 work too\n"
        "• `/rota stats`: how often each person has facilitated, and when last\n"
        "• `/rota help`: this guide"
    ),
    (
        "*When it's your turn*\n"
        "• You get a direct message before the meetup: click *I'll be there* to confirm\n"
        "• `/rota skip`: pass this turn on; the next person available takes it and is told\n"
        "• `/rota swap @someone`: ask someone to take your turn; it's theirs only if they "
        "accept. Changed your mind before they answer? Click *Withdraw the request*\n"
        "• If you haven't confirmed, the next person can *Step in*"
    ),
    (
        "*Community leads*\n"
        "• `/rota schedule`: set when you meet (weekly, every few weeks, or monthly on e.g. "
        "the 2nd Tuesday), in your time zone; shows the schedule with *Edit* and *Delete* "
        "once set\n"
        "• `/rota add @alex @sam` / `/rota remove @alex`: manage who's in the rota\n"
        "• `/rota away @alex 1 Dec 14 Dec`: mark someone else as away\n"
        "• `/rota lead @alex`: make someone else a lead too\n"
        "• `/rota lead remove @alex`: stop someone being a lead; `/rota lead remove me` to "
        "step down yourself (a community always keeps at least one lead)\n"
        "• In `/rota`, *Move…* or *Cancel this meetup* changes one meetup without touching "
        "the schedule"
    ),
    (
        "The person who sets up the rota in a channel becomes its lead; workspace admins can "
        "always act as leads. Times are shown in your own time zone."
    ),
]


def help_blocks() -> list[Block]:
    return guide_blocks("How the facilitation rota works", _HELP)


def help_text() -> str:
    return "How the facilitation rota works, and the /rota commands."


__all__ = [
    "ANNOUNCE_CHOICES",
    "FORMAT_CHOICES",
    "FREQUENCY_CHOICES",
    "REMINDER_CHOICES",
    "RotaOverview",
    "ScheduleSummary",
    "away_modal",
    "away_text",
    "before_text",
    "default_schedule",
    "help_blocks",
    "help_text",
    "meetup_cancelled_text",
    "meetup_moved_text",
    "move_modal",
    "overview_blocks",
    "overview_text",
    "schedule_blocks",
    "schedule_lines",
    "schedule_modal",
    "schedule_set_text",
    "span_text",
    "stats_blocks",
    "stats_text",
    "swap_answered_text",
    "swap_asked_blocks",
    "swap_asked_text",
    "swap_called_off_text",
    "swap_modal",
    "swap_request_blocks",
    "swap_request_text",
    "swap_withdrawn_request_blocks",
    "swap_withdrawn_request_text",
    "swap_withdrawn_text",
    "when",
]
