"""What Lean Coffee looks like in Slack: the board, the polls, the modals and the minutes.

Pure functions from the plain values in `bot.services.lean_coffee_types` to Block Kit
objects. They read no clock and touch no database, so every message can be checked against
Slack's limits in unit tests. All user text passes through `safe()` before it reaches mrkdwn.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    NumberInputElement,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    MAX_OPTION_TEXT,
    MAX_SELECT_OPTIONS,
    action_owner_input,
    actions,
    button,
    confirm_dialog,
    context,
    day_text,
    divider,
    due_date_input,
    duration_text,
    facilitator_input,
    guide_blocks,
    header,
    list_words,
    mention,
    modal,
    one_line,
    option,
    pack_lines,
    plain,
    plural,
    safe,
    section,
    slack_date,
    split_messages,
    text_sections,
    truncate,
)
from bot.ids import (
    LeanCoffeeAction,
    LeanCoffeeBlock,
    LeanCoffeeTopicMenu,
    LeanCoffeeView,
    input_action_id,
)
from bot.services.lean_coffee_types import (
    DEFAULT_EXTENSION_MINUTES,
    DEFAULT_TIMEBOX_MINUTES,
    DEFAULT_VOTES_PER_PERSON,
    SESSION_TITLE_MAX,
    TAKEAWAY_MAX,
    TOPIC_DETAIL_MAX,
    TOPIC_TITLE_MAX,
    BoardView,
    HistoryEntry,
    KeepGoingView,
    LeanCoffeeMinutes,
    MinutesTakeaway,
    PollOutcome,
    SessionStatus,
    TakeawayView,
    TopicView,
    VoteReceipt,
)
from bot.state import LeanCoffeeModal, PollRef, SessionRef, TopicMenuChoice, TopicRef

DEFAULT_SESSION_TITLE = "Lean Coffee"
MIN_VOTES, MAX_VOTES = 1, 10
MIN_MINUTES, MAX_MINUTES = 1, 60
MAX_EXTENSIONS = 5
ACTION_CHECKBOX_VALUE = "action"
ANONYMOUS_CHECKBOX_VALUE = "anonymous"
ALL_TOPICS_PER_PAGE = 45  # 2 blocks each, plus the intro and the page buttons: 92 of 100

MAX_DOTS_SHOWN = 10
BOARD_DETAIL_CHARS = 200
DISCUSSING_DETAIL_CHARS = 500
BOARD_TAKEAWAY_CHARS = 300
DISCUSSED_TAKEAWAY_CHARS = 150
DISCUSSED_TAKEAWAYS_SHOWN = 3
DISCUSSED_MAX_SECTIONS = 3
DISCUSSING_TAKEAWAY_SECTIONS = 2
MINUTES_TAKEAWAY_CHARS = TAKEAWAY_MAX
HISTORY_MAX_ENTRIES = 50  # a readable list; at about 25 a section this is 2 or 3 blocks


# --- small pieces ---------------------------------------------------------------------------


def _title(text: str, limit: int = TOPIC_TITLE_MAX) -> str:
    """A topic or session title, on one line, shortened and escaped."""
    return safe(one_line(text), limit)


def dots(votes: int) -> str:
    """A vote count people can see at a glance: `●●● 3 votes`."""
    if votes <= 0:
        return "No votes yet"
    shown = "●" * min(votes, MAX_DOTS_SHOWN) + ("+" if votes > MAX_DOTS_SHOWN else "")
    return f"{shown} {plural(votes, 'vote')}"


def _proposer(topic: TopicView, anonymous: bool) -> str | None:
    if anonymous or not topic.proposer_id:
        return None
    return f"from {mention(topic.proposer_id)}"


def _takeaway_line(takeaway: TakeawayView | MinutesTakeaway, limit: int) -> str:
    text = safe(one_line(takeaway.text), limit)
    if not takeaway.is_action:
        return f"• {text}"
    who = []
    if takeaway.owner_id:
        who.append(mention(takeaway.owner_id))
    if takeaway.due_date:
        who.append(f"due {day_text(takeaway.due_date)}")
    suffix = f" ({', '.join(who)})" if who else ""
    return f"• *Action:* {text}{suffix}"


def _session_ref(board: BoardView) -> str:
    return SessionRef(s=board.session_id).encode()


def _topic_ref(board: BoardView, topic: TopicView) -> str:
    return TopicRef(s=board.session_id, t=topic.id).encode()


def _extensions_text(extensions: Sequence[int]) -> str:
    if not extensions:
        return "no extensions"
    return "then " + ", ".join(f"+{m}" for m in extensions)


# --- start and propose modals ----------------------------------------------------------------


def start_modal(
    channel_id: str, facilitator_id: str | None = None, *, from_rota: bool = False
) -> View:
    """The form a lead fills in to start a Lean Coffee in `channel_id`.

    `facilitator_id` is who facilitates unless changed (the starter, or whoever's turn it is
    on the community's rota, in which case `from_rota` says so under the field).
    """
    facilitator = facilitator_input(
        LeanCoffeeBlock.FACILITATOR, facilitator_id, from_rota=from_rota
    )
    blocks: list[Block] = [
        section(
            "Everyone proposes topics, puts dots on the ones they want to talk about, and "
            "the group discusses them in order, one short time-box at a time."
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.TITLE,
            label=plain("Name"),
            optional=True,
            element=PlainTextInputElement(
                action_id=input_action_id(LeanCoffeeBlock.TITLE),
                placeholder=plain(DEFAULT_SESSION_TITLE),
                max_length=SESSION_TITLE_MAX,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.VOTES,
            label=plain("Dots (votes) per person"),
            hint=plain("Each person can spread these across topics, or stack them on one."),
            element=NumberInputElement(
                action_id=input_action_id(LeanCoffeeBlock.VOTES),
                is_decimal_allowed=False,
                initial_value=DEFAULT_VOTES_PER_PERSON,
                min_value=MIN_VOTES,
                max_value=MAX_VOTES,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.TIMEBOX,
            label=plain("Minutes per topic"),
            hint=plain("When time's up, the group decides whether to keep going."),
            element=NumberInputElement(
                action_id=input_action_id(LeanCoffeeBlock.TIMEBOX),
                is_decimal_allowed=False,
                initial_value=DEFAULT_TIMEBOX_MINUTES,
                min_value=MIN_MINUTES,
                max_value=MAX_MINUTES,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.EXTENSIONS,
            label=plain("Extra time if the group wants to keep going"),
            optional=True,
            hint=plain(
                "Minutes added each time the group votes to keep going; shrinking is typical. "
                "Separate with commas, or leave empty for no extensions."
            ),
            element=PlainTextInputElement(
                action_id=input_action_id(LeanCoffeeBlock.EXTENSIONS),
                initial_value=", ".join(str(m) for m in DEFAULT_EXTENSION_MINUTES),
                placeholder=plain("4, 2"),
                max_length=50,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.ANONYMOUS,
            label=plain("Topics"),
            optional=True,
            element=CheckboxesElement(
                action_id=input_action_id(LeanCoffeeBlock.ANONYMOUS),
                options=[option("Hide who proposed each topic", ANONYMOUS_CHECKBOX_VALUE)],
            ),
        ),
        facilitator,
    ]
    return modal(
        title="Start a Lean Coffee",
        callback_id=LeanCoffeeView.START,
        blocks=blocks,
        submit="Start",
        private_metadata=LeanCoffeeModal(channel=channel_id).encode(),
    )


def propose_modal(meta: LeanCoffeeModal, topic: TopicView | None = None) -> View:
    """Propose a new topic, or edit `topic` (prefilled) when given."""
    editing = topic is not None
    blocks: list[Block] = [
        InputBlock(
            block_id=LeanCoffeeBlock.TOPIC_TITLE,
            label=plain("Topic"),
            element=PlainTextInputElement(
                action_id=input_action_id(LeanCoffeeBlock.TOPIC_TITLE),
                placeholder=plain("What would you like to talk about?"),
                initial_value=topic.title if topic else None,
                max_length=TOPIC_TITLE_MAX,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.TOPIC_DETAIL,
            label=plain("Details"),
            optional=True,
            hint=plain("A sentence or two of background helps people decide where to vote."),
            element=PlainTextInputElement(
                action_id=input_action_id(LeanCoffeeBlock.TOPIC_DETAIL),
                multiline=True,
                initial_value=(topic.detail or None) if topic else None,
                max_length=TOPIC_DETAIL_MAX,
            ),
        ),
    ]
    metadata = meta.model_copy(update={"t": topic.id}) if topic else meta
    return modal(
        title="Edit your topic" if editing else "Propose a topic",
        callback_id=LeanCoffeeView.EDIT_TOPIC if editing else LeanCoffeeView.PROPOSE,
        blocks=blocks,
        submit="Save" if editing else "Propose",
        private_metadata=metadata.encode(),
    )


# --- the board --------------------------------------------------------------------------------


def _status_text(board: BoardView) -> str:
    if board.status is SessionStatus.COLLECTING:
        return "*Proposing and voting*"
    if board.status is SessionStatus.DISCUSSING:
        return "*Discussing*"
    return "*Ended*"


def _board_context(board: BoardView) -> Block:
    if board.status is SessionStatus.ENDED:
        return context(
            _status_text(board),
            f"Facilitated by {mention(board.facilitator_id)}",
            f"{plural(board.participant_count, 'person', 'people')} took part",
        )
    return context(
        _status_text(board),
        f"Facilitated by {mention(board.facilitator_id)}",
        f"{plural(board.votes_per_person, 'dot')} each",
        f"{board.timebox_minutes} min per topic, {_extensions_text(board.extension_minutes)}",
        f"{plural(board.participant_count, 'person', 'people')} taking part",
    )


def _topic_menu(board: BoardView, topic: TopicView) -> OverflowMenuElement:
    def choice(label: str, do: LeanCoffeeTopicMenu) -> Option:
        value = TopicMenuChoice(do=str(do), s=board.session_id, t=topic.id).encode()
        return option(label, value)

    return OverflowMenuElement(
        action_id=LeanCoffeeAction.TOPIC_MENU,
        options=[
            choice("Edit", LeanCoffeeTopicMenu.EDIT),
            choice("Withdraw", LeanCoffeeTopicMenu.WITHDRAW),
            choice("Merge into…", LeanCoffeeTopicMenu.MERGE),
            choice("Add a takeaway", LeanCoffeeTopicMenu.TAKEAWAY),
        ],
    )


def _topic_card_text(topic: TopicView, anonymous: bool) -> str:
    lines = [f"*{_title(topic.title)}*"]
    if topic.detail and topic.detail.strip():
        lines.append(safe(topic.detail.strip(), BOARD_DETAIL_CHARS))
    facts = [dots(topic.votes)]
    proposer = _proposer(topic, anonymous)
    if proposer:
        facts.append(proposer)
    if topic.carried_over:
        facts.append("_carried over from last time_")
    lines.append(" · ".join(facts))
    return "\n".join(lines)


def _vote_buttons(board: BoardView, topic: TopicView) -> Block:
    ref = _topic_ref(board, topic)
    return actions(
        button("Vote", LeanCoffeeAction.VOTE, ref),
        button("Remove my vote", LeanCoffeeAction.UNVOTE, ref),
    )


def _topic_card(board: BoardView, topic: TopicView) -> list[Block]:
    """A topic on the board while collecting: what it is, its dots, and how to vote on it."""
    return [
        section(
            _topic_card_text(topic, board.anonymous_topics), accessory=_topic_menu(board, topic)
        ),
        _vote_buttons(board, topic),
    ]


def _queue_line(position: int, topic: TopicView, anonymous: bool) -> str:
    facts = [dots(topic.votes)]
    proposer = _proposer(topic, anonymous)
    if proposer:
        facts.append(proposer)
    if topic.carried_over:
        facts.append("_carried over_")
    return f"{position}. *{_title(topic.title)}* · {' · '.join(facts)}"


def _see_all(board: BoardView, shown: int) -> Block:
    total = len(board.to_discuss)
    return section(
        f"Showing {shown} of {total} topics here, to keep the board readable.",
        accessory=button(
            f"See all {total} topics", LeanCoffeeAction.SHOW_ALL_TOPICS, _session_ref(board)
        ),
    )


def _to_discuss_blocks(board: BoardView, budget: int, cap: int | None) -> list[Block]:
    """The "To discuss" part within `budget` blocks, with "See all" when not all fit."""
    topics = board.to_discuss
    count = len(topics)
    if board.status is SessionStatus.COLLECTING:
        heading = section(
            f"*To discuss* · {plural(count, 'topic')}\n"
            + (
                "Put your dots on the topics you most want to talk about."
                if topics
                else "No topics yet. Be the first: click *Propose a topic*, "
                "or type `/lean-coffee` followed by your topic."
            )
        )
        limit = count if cap is None else min(cap, count)
        fit_all = (budget - 1) // 2
        if limit == count and count <= fit_all:
            shown = count
        else:
            shown = max(0, min(limit, (budget - 2) // 2))
        blocks: list[Block] = [heading]
        for topic in topics[:shown]:
            blocks.extend(_topic_card(board, topic))
        if shown < count:
            blocks.append(_see_all(board, shown))
        return blocks

    if not topics:
        return []
    title = "*Up next*" if board.status is SessionStatus.DISCUSSING else "*Not reached*"
    note = (
        " · in the agreed order"
        if board.status is SessionStatus.DISCUSSING
        else " · offered to the next session"
    )
    lines = [f"{title}{note}"] + [
        _queue_line(i, t, board.anonymous_topics) for i, t in enumerate(topics, start=1)
    ]
    if cap is not None:
        lines = lines[: cap + 1]
    interactive = board.status is not SessionStatus.ENDED
    chunks = pack_lines(lines)
    if len(lines) - 1 == count and len(chunks) <= budget:
        return [section(c) for c in chunks]
    # Not all fit: drop lines from the end until the rest plus one more block fit.
    room = max(1, budget - 1)
    while len(lines) > 1 and len(pack_lines(lines)) > room:
        lines.pop()
    shown = len(lines) - 1
    blocks = [section(c) for c in pack_lines(lines)]
    if interactive:
        blocks.append(_see_all(board, shown))
    else:
        blocks.append(context(f"…and {count - shown} more, all listed in the minutes."))
    return blocks


def _discussing_blocks(board: BoardView) -> list[Block]:
    """The topic under discussion, its time-box and takeaways, and what people can do next."""
    topic = board.discussing
    if topic is None:
        if board.status is not SessionStatus.DISCUSSING:
            return []
        if board.to_discuss:
            text = (
                "Voting is closed and the topics are in order. "
                f"{mention(board.facilitator_id)}, click *Start next topic* when you're ready."
            )
        else:
            text = (
                "That's every topic on the list. Propose another one, or "
                f"{mention(board.facilitator_id)} can end the session."
            )
        return [section(text)]

    lines = [f"*Now discussing:* *{_title(topic.title)}*"]
    if topic.detail and topic.detail.strip():
        lines.append(safe(topic.detail.strip(), DISCUSSING_DETAIL_CHARS))
    facts = []
    if topic.discussion_ends_at:
        facts.append(f"until {slack_date(topic.discussion_ends_at, '{time}')}")
    if topic.extensions_used:
        facts.append(f"extended {plural(topic.extensions_used, 'time')}")
    facts.append(dots(topic.votes))
    proposer = _proposer(topic, board.anonymous_topics)
    if proposer:
        facts.append(proposer)
    lines.append(" · ".join(facts))
    blocks: list[Block] = [section("\n".join(lines))]

    if topic.takeaways:
        takeaway_lines = ["*Takeaways so far*"] + [
            _takeaway_line(t, BOARD_TAKEAWAY_CHARS) for t in topic.takeaways
        ]
        chunks = pack_lines(takeaway_lines)
        if len(chunks) > DISCUSSING_TAKEAWAY_SECTIONS:
            while len(pack_lines([*takeaway_lines, "x" * 80])) > DISCUSSING_TAKEAWAY_SECTIONS:
                takeaway_lines.pop()
            hidden = len(topic.takeaways) - (len(takeaway_lines) - 1)
            takeaway_lines.append(f"_…and {hidden} more, all in the minutes._")
            chunks = pack_lines(takeaway_lines)
        blocks.extend(section(c) for c in chunks)

    ref = _topic_ref(board, topic)
    buttons = [button("Move on", LeanCoffeeAction.MOVE_ON, ref)]
    if board.next_extension_minutes:
        buttons.append(
            button(f"Extend {board.next_extension_minutes} min", LeanCoffeeAction.EXTEND, ref)
        )
    buttons.append(button("Add a takeaway", LeanCoffeeAction.ADD_TAKEAWAY, ref))
    blocks.append(actions(*buttons))
    return blocks


def _discussed_line(topic: TopicView) -> str:
    return (
        f"✓ *{_title(topic.title)}* · {plural(topic.votes, 'vote')} · "
        f"{duration_text(topic.seconds_spent)}"
    )


def _discussed_blocks(board: BoardView) -> list[Block]:
    """A compact record of what has been discussed, within a few sections."""
    if not board.discussed:
        return []
    lines = [f"*Discussed* · {plural(len(board.discussed), 'topic')}"]
    entries: list[list[str]] = []
    for topic in board.discussed:
        entry = [_discussed_line(topic)]
        for takeaway in topic.takeaways[:DISCUSSED_TAKEAWAYS_SHOWN]:
            entry.append("      " + _takeaway_line(takeaway, DISCUSSED_TAKEAWAY_CHARS))
        more = len(topic.takeaways) - DISCUSSED_TAKEAWAYS_SHOWN
        if more > 0:
            entry.append(f"      _+{more} more in the minutes_")
        entries.append(entry)

    shown = len(entries)
    while True:
        body = [line for entry in entries[:shown] for line in entry]
        tail = (
            []
            if shown == len(entries)
            else [f"_…and {len(entries) - shown} more, all in the minutes._"]
        )
        chunks = pack_lines(lines + body + tail)
        if len(chunks) <= DISCUSSED_MAX_SECTIONS or shown == 0:
            return [section(c) for c in chunks[:DISCUSSED_MAX_SECTIONS]]
        shown -= 1


def _footer_blocks(board: BoardView) -> list[Block]:
    """Buttons everyone can use, then the facilitator's controls, and who may use them."""
    ref = _session_ref(board)
    if board.status is SessionStatus.ENDED:
        ended = f" {slack_date(board.ended_at)}" if board.ended_at else ""
        return [
            section(
                f"This Lean Coffee ended{ended}. Thank you, everyone! "
                "The minutes are in the thread below."
            )
        ]
    buttons = [button("Propose a topic", LeanCoffeeAction.PROPOSE, ref, style="primary")]
    controls = []
    if board.status is SessionStatus.COLLECTING:
        buttons.append(
            button(
                "Close voting",
                LeanCoffeeAction.CLOSE_VOTING,
                ref,
                confirm=confirm_dialog(
                    "Close voting?",
                    "Nobody will be able to vote after this, and the topics will be lined up "
                    "by their dots, ready to discuss.",
                    confirm="Close voting",
                    deny="Not yet",
                    style="primary",
                ),
            )
        )
        controls.append("close voting")
    if board.status is SessionStatus.DISCUSSING and board.discussing is None and board.to_discuss:
        buttons.append(button("Start next topic", LeanCoffeeAction.START_NEXT, ref))
        controls.append("start the next topic")
    buttons.append(button("Hand over", LeanCoffeeAction.HAND_OVER, ref))
    buttons.append(
        button(
            "End session",
            LeanCoffeeAction.END_SESSION,
            ref,
            style="danger",
            confirm=confirm_dialog(
                "End this Lean Coffee?",
                "Voting and discussion will stop and the minutes will be posted in the "
                "thread. This can't be undone.",
                confirm="End session",
                deny="Not yet",
            ),
        )
    )
    controls.extend(["hand over", "end the session"])
    return [
        divider(),
        actions(*buttons),
        context(
            f"Only the facilitator, {mention(board.facilitator_id)}, can {list_words(controls)}."
        ),
    ]


def board_blocks(board: BoardView, *, max_topics_on_board: int | None = None) -> list[Block]:
    """The channel's board message, always within Slack's 50 blocks.

    `max_topics_on_board` caps the "To discuss" list further; the rest stay one click away
    behind "See all N topics".
    """
    top: list[Block] = [
        header(truncate(one_line(board.title), SESSION_TITLE_MAX)),
        _board_context(board),
    ]
    discussing = _discussing_blocks(board)
    discussed = _discussed_blocks(board)
    footer = _footer_blocks(board)
    budget = MAX_MESSAGE_BLOCKS - len(top) - len(discussing) - len(discussed) - len(footer)
    to_discuss = _to_discuss_blocks(board, budget, max_topics_on_board)
    if board.status is SessionStatus.ENDED:
        return [*top, *footer, *discussed, *to_discuss]
    return [*top, *discussing, *to_discuss, *discussed, *footer]


def board_text(board: BoardView) -> str:
    """The board in one line, for notifications and screen readers."""
    title = _title(board.title, SESSION_TITLE_MAX)
    if board.status is SessionStatus.ENDED:
        return f"{title} has ended. The minutes are in the thread."
    waiting = plural(len(board.to_discuss), "topic")
    if board.status is SessionStatus.COLLECTING:
        return f"{title}: {waiting} proposed so far. Propose yours and put your dots on them."
    if board.discussing:
        return f"{title}: now discussing {_title(board.discussing.title)}. {waiting} to go."
    return f"{title}: voting is closed, {waiting} to discuss."


# --- all topics ---------------------------------------------------------------------------------


def all_topics_page_count(board: BoardView) -> int:
    """How many pages the all-topics modal has (at least one)."""
    return max(1, -(-len(board.to_discuss) // ALL_TOPICS_PER_PAGE))


def all_topics_modal(board: BoardView, page: int = 0) -> View:
    """Every topic waiting to be discussed, with the same vote buttons as the board.

    Paged so each page stays within 100 blocks; the page is carried in `private_metadata`
    and in the "Next page"/"Previous page" button values (both `LeanCoffeeModal`).
    """
    pages = all_topics_page_count(board)
    page = min(max(page, 0), pages - 1)
    start = page * ALL_TOPICS_PER_PAGE
    topics = board.to_discuss[start : start + ALL_TOPICS_PER_PAGE]
    total = len(board.to_discuss)
    voting = board.status is SessionStatus.COLLECTING

    def meta(p: int) -> LeanCoffeeModal:
        return LeanCoffeeModal(channel=board.channel_id, s=board.session_id, page=p)

    intro = f"*{_title(board.title, SESSION_TITLE_MAX)}* · {plural(total, 'topic')} to discuss" + (
        f" · page {page + 1} of {pages}" if pages > 1 else ""
    )
    if voting:
        intro += f"\nYou have {plural(board.votes_per_person, 'dot')} to spread across topics."
    blocks: list[Block] = [section(intro)]
    if not topics:
        blocks.append(section("There are no topics waiting right now."))
    for position, topic in enumerate(topics, start=start + 1):
        if voting:
            blocks.append(section(_topic_card_text(topic, board.anonymous_topics)))
            blocks.append(_vote_buttons(board, topic))
        else:
            blocks.append(section(_queue_line(position, topic, board.anonymous_topics)))
    nav = []
    page_action = LeanCoffeeAction.ALL_TOPICS_PAGE
    if page > 0:
        nav.append(button("Previous page", page_action, meta(page - 1).encode()))
    if page < pages - 1:
        nav.append(button("Next page", page_action, meta(page + 1).encode()))
    if nav:
        blocks.append(actions(*nav))
    return modal(
        title=f"All {total} topics" if total else "All topics",
        callback_id=LeanCoffeeView.ALL_TOPICS,
        blocks=blocks,
        close="Done",
        private_metadata=meta(page).encode(),
    )


# --- keep going? ------------------------------------------------------------------------------


def _tally(poll: KeepGoingView) -> str:
    return (
        f"Keep going: {poll.keep_going} · Either way: {poll.either_way} · Move on: {poll.move_on}"
    )


def _outcome_text(poll: KeepGoingView, title: str) -> str:
    if poll.outcome is PollOutcome.EXTENDED:
        if poll.extension_minutes:
            return f"Keeping going for {poll.extension_minutes} more minutes on {title}."
        return f"Keeping going on {title}."
    return f"Moving on from {title}."


def keep_going_blocks(poll: KeepGoingView) -> list[Block]:
    """The "Time's up. Keep going?" poll, or its result once decided."""
    title = _title(poll.topic_title)
    if poll.outcome is not None:
        return [section(_outcome_text(poll, f"*{title}*")), context(_tally(poll))]

    ref = PollRef(p=poll.poll_id).encode()
    buttons = []
    if poll.extension_minutes:
        text = f"Time's up on *{title}*. Keep going?"
        buttons.append(
            button(
                f"Keep going (+{poll.extension_minutes} min)",
                LeanCoffeeAction.KEEP_GOING,
                ref,
                style="primary",
            )
        )
        buttons.append(button("Either way", LeanCoffeeAction.EITHER_WAY, ref))
    else:
        text = f"Time's up on *{title}*, and that was the last extension. Ready to move on?"
    buttons.append(button("Move on", LeanCoffeeAction.WANT_MOVE_ON, ref))
    buttons.append(button("Decide now", LeanCoffeeAction.DECIDE_NOW, ref))
    return [
        section(text),
        actions(*buttons),
        context(
            _tally(poll),
            f"Decides by itself at {slack_date(poll.decides_at, '{time}')}; "
            "the facilitator can decide now.",
        ),
    ]


def keep_going_text(poll: KeepGoingView) -> str:
    """The poll in one line, for notifications."""
    title = _title(poll.topic_title)
    if poll.outcome is not None:
        return _outcome_text(poll, title)
    return f"Time's up on {title}. Keep going?"


# --- merge, takeaway and hand-over modals -------------------------------------------------------


def _topic_option(topic: TopicView) -> Option:
    suffix = f" ({plural(topic.votes, 'vote')})"
    label = truncate(one_line(topic.title), MAX_OPTION_TEXT - len(suffix)) + suffix
    return option(label, str(topic.id))


def merge_modal(meta: LeanCoffeeModal, topic: TopicView, candidates: Sequence[TopicView]) -> View:
    """Pick the topic that `topic` should be merged into."""
    others = [c for c in candidates if c.id != topic.id][:MAX_SELECT_OPTIONS]
    metadata = meta.model_copy(update={"t": topic.id}).encode()
    if not others:
        return modal(
            title="Merge topics",
            callback_id=LeanCoffeeView.MERGE,
            blocks=[section("There's no other topic to merge this one into yet.")],
            close="OK",
            private_metadata=metadata,
        )
    blocks: list[Block] = [
        section(
            f"Merge *{_title(topic.title)}* into a topic that covers the same ground. "
            "It will leave the list and the topic you pick stays."
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.MERGE_INTO,
            label=plain("Topic to keep"),
            element=StaticSelectElement(
                action_id=input_action_id(LeanCoffeeBlock.MERGE_INTO),
                placeholder=plain("Choose a topic"),
                options=[_topic_option(c) for c in others],
            ),
        ),
    ]
    return modal(
        title="Merge topics",
        callback_id=LeanCoffeeView.MERGE,
        blocks=blocks,
        submit="Merge",
        private_metadata=metadata,
    )


def takeaway_modal(
    meta: LeanCoffeeModal, topics: Sequence[TopicView], topic_id: int | None
) -> View:
    """Record a takeaway or an action on a topic (preselected when `topic_id` is given)."""
    choices = list(topics[:MAX_SELECT_OPTIONS])
    chosen = next((t for t in topics if t.id == topic_id), None)
    if chosen is not None and chosen not in choices:
        choices = [chosen, *choices[: MAX_SELECT_OPTIONS - 1]]
    metadata = meta.model_copy(update={"t": topic_id}).encode()
    if not choices:
        return modal(
            title="Add a takeaway",
            callback_id=LeanCoffeeView.TAKEAWAY,
            blocks=[section("There's no topic to add a takeaway to yet.")],
            close="OK",
            private_metadata=metadata,
        )
    options = [_topic_option(t) for t in choices]
    initial = options[choices.index(chosen)] if chosen is not None else None
    blocks: list[Block] = [
        InputBlock(
            block_id=LeanCoffeeBlock.TAKEAWAY_TOPIC,
            label=plain("Topic"),
            element=StaticSelectElement(
                action_id=input_action_id(LeanCoffeeBlock.TAKEAWAY_TOPIC),
                placeholder=plain("Choose a topic"),
                options=options,
                initial_option=initial,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.TAKEAWAY_TEXT,
            label=plain("Takeaway"),
            element=PlainTextInputElement(
                action_id=input_action_id(LeanCoffeeBlock.TAKEAWAY_TEXT),
                multiline=True,
                placeholder=plain("What did the group learn, decide or agree?"),
                max_length=TAKEAWAY_MAX,
            ),
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.TAKEAWAY_IS_ACTION,
            label=plain("Action"),
            optional=True,
            element=CheckboxesElement(
                action_id=input_action_id(LeanCoffeeBlock.TAKEAWAY_IS_ACTION),
                options=[option("This is an action", ACTION_CHECKBOX_VALUE)],
            ),
        ),
        action_owner_input(LeanCoffeeBlock.ACTION_OWNER, optional=True, hint="Only for actions."),
        due_date_input(LeanCoffeeBlock.ACTION_DUE, hint="Only for actions."),
    ]
    return modal(
        title="Add a takeaway",
        callback_id=LeanCoffeeView.TAKEAWAY,
        blocks=blocks,
        submit="Save",
        private_metadata=metadata,
    )


def hand_over_modal(meta: LeanCoffeeModal, facilitator_id: str) -> View:
    """Choose who takes over facilitating from `facilitator_id`."""
    blocks: list[Block] = [
        section(
            f"{mention(facilitator_id)} is facilitating right now. Whoever takes over can "
            "close voting, start each topic and end the session."
        ),
        InputBlock(
            block_id=LeanCoffeeBlock.NEW_FACILITATOR,
            label=plain("New facilitator"),
            element=UserSelectElement(
                action_id=input_action_id(LeanCoffeeBlock.NEW_FACILITATOR),
                placeholder=plain("Choose someone"),
            ),
        ),
    ]
    return modal(
        title="Hand over",
        callback_id=LeanCoffeeView.HAND_OVER,
        blocks=blocks,
        submit="Hand over",
        private_metadata=meta.encode(),
    )


# --- short replies -------------------------------------------------------------------------------


def vote_receipt_text(receipt: VoteReceipt, *, removed: bool = False) -> str:
    """What a voter is told privately after voting (or, with `removed`, unvoting)."""
    title = _title(receipt.topic_title)
    if removed:
        first = f"You took a dot off *{title}* (it has {receipt.topic_votes} now)."
    else:
        yours = (
            f", {receipt.my_votes_on_topic} of them yours" if receipt.my_votes_on_topic > 1 else ""
        )
        first = f"You put a dot on *{title}* (it has {receipt.topic_votes}{yours})."
    if receipt.dots_left == 0:
        rest = (
            f"That's all {plural(receipt.votes_per_person, 'dot')} used. To move one, "
            "click *Remove my vote* on a topic first."
        )
    else:
        rest = f"You have {receipt.dots_left} of {plural(receipt.votes_per_person, 'dot')} left."
    return f"{first} {rest}"


def no_session_text() -> str:
    return (
        "There's no Lean Coffee running in this channel right now. Type `/lean-coffee` to "
        "start one, or `/lean-coffee help` to see how it works."
    )


# --- minutes and history ---------------------------------------------------------------------


def _minutes_topic_lines(
    position: int, title: str, votes: int, seconds: int, takeaways: Sequence[MinutesTakeaway]
) -> list[str]:
    lines = [f"*{position}. {_title(title)}* · {plural(votes, 'vote')} · {duration_text(seconds)}"]
    lines.extend(_takeaway_line(t, MINUTES_TAKEAWAY_CHARS) for t in takeaways)
    if not takeaways:
        lines.append("_No takeaways recorded._")
    return lines


def minutes_messages(minutes: LeanCoffeeMinutes) -> list[list[Block]]:
    """The minutes of a session as one or more messages (each ≤ 50 blocks)."""
    blocks: list[Block] = [
        header(f"Minutes: {truncate(one_line(minutes.title), SESSION_TITLE_MAX)}"),
        context(
            day_text(minutes.held_on),
            f"{slack_date(minutes.started_at, '{time}')} to "
            f"{slack_date(minutes.ended_at, '{time}')}",
            f"Facilitated by {mention(minutes.facilitator_id)}",
        ),
    ]
    people = [mention(p) for p in minutes.participant_ids]
    if people:
        rows = [", ".join(people[i : i + 40]) for i in range(0, len(people), 40)]
        blocks.extend(text_sections([f"*Who took part* · {len(people)}", *rows]))

    blocks.append(divider())
    if minutes.discussed:
        blocks.append(section(f"*What we discussed* · {plural(len(minutes.discussed), 'topic')}"))
        for position, topic in enumerate(minutes.discussed, start=1):
            blocks.extend(
                text_sections(
                    _minutes_topic_lines(
                        position, topic.title, topic.votes, topic.seconds_spent, topic.takeaways
                    )
                )
            )
    else:
        blocks.append(section("No topics were discussed this time."))

    if minutes.actions:
        blocks.append(divider())
        lines = [f"*Actions* · {len(minutes.actions)}"]
        for action in minutes.actions:
            who = []
            if action.owner_id:
                who.append(mention(action.owner_id))
            if action.due_date:
                who.append(f"due {day_text(action.due_date)}")
            suffix = f" ({', '.join(who)})" if who else ""
            lines.append(
                f"• {safe(one_line(action.text), MINUTES_TAKEAWAY_CHARS)}{suffix} · "
                f"_from {_title(action.topic_title)}_"
            )
        blocks.extend(text_sections(lines))

    if minutes.carried_over:
        blocks.append(divider())
        lines = [
            "*Not reached* · these will be offered to the next session",
            *(f"• {_title(t)}" for t in minutes.carried_over),
        ]
        blocks.extend(text_sections(lines))
    return split_messages(blocks)


def minutes_text(minutes: LeanCoffeeMinutes) -> str:
    """The minutes in one line, for notifications."""
    return (
        f"Minutes of {_title(minutes.title, SESSION_TITLE_MAX)}, {day_text(minutes.held_on)}: "
        f"{plural(len(minutes.discussed), 'topic')} discussed, "
        f"{plural(len(minutes.actions), 'action')}."
    )


def history_blocks(entries: Sequence[HistoryEntry]) -> list[Block]:
    """Past sessions in this channel, newest first as given, within one message."""
    blocks: list[Block] = [header("Past Lean Coffees here")]
    if not entries:
        blocks.append(
            section(
                "No Lean Coffee has been held in this channel yet. Type `/lean-coffee` "
                "to start the first one."
            )
        )
        return blocks
    lines = [
        f"*{_title(e.title, SESSION_TITLE_MAX)}* · {day_text(e.held_on)} · facilitated by "
        f"{mention(e.facilitator_id)} · {plural(e.topics_discussed, 'topic')} discussed · "
        f"{plural(e.participant_count, 'person', 'people')}"
        for e in entries[:HISTORY_MAX_ENTRIES]
    ]
    blocks.extend(text_sections(lines))
    if len(entries) > len(lines):
        blocks.append(context(f"…and {len(entries) - len(lines)} older sessions."))
    return blocks


def history_text(entries: Sequence[HistoryEntry]) -> str:
    return f"Past Lean Coffees here: {len(entries)}."


_HELP = [
    (
        "*Lean Coffee* is a meeting with no fixed agenda: everyone proposes topics, votes "
        "with dots, and the group talks through the favourites, a few minutes at a time."
    ),
    (
        "*1. Start.* Type `/lean-coffee` in a channel. You choose a name, how many dots each "
        "person gets, how long each topic lasts and how much extra time the group can add. "
        "A board appears in the channel, and you are its facilitator."
    ),
    (
        "*2. Propose topics.* Click *Propose a topic* on the board, or type "
        "`/lean-coffee` followed by your topic, for example "
        "`/lean-coffee How do we welcome newcomers?`. Use the ⋯ menu on a topic to edit, "
        "withdraw or merge it."
    ),
    (
        "*3. Vote.* Click *Vote* to put a dot on a topic; click again to stack another. "
        "*Remove my vote* takes one back. Only you see how many dots you have left."
    ),
    (
        "*4. Discuss.* The facilitator clicks *Close voting*: the topics line up by dots. "
        "*Start next topic* begins the time-box. *Move on* ends a topic early; *Extend* "
        "adds time."
    ),
    (
        "*5. Keep going?* When time's up, everyone votes *Keep going*, *Either way* or "
        "*Move on*. If nobody decides in time, it decides by itself."
    ),
    (
        "*6. Takeaways.* Anyone can click *Add a takeaway* to note what the group learned, "
        "or an action with someone to do it and a date."
    ),
    (
        "*7. End.* The facilitator clicks *End session*. The minutes are posted in the "
        "board's thread; topics you didn't reach are offered next time. *Hand over* lets "
        "someone else facilitate."
    ),
    (
        "*Other commands*\n"
        "• `/lean-coffee minutes`: show the minutes of the last session here\n"
        "• `/lean-coffee history`: list past sessions in this channel\n"
        "• `/lean-coffee help`: show this guide"
    ),
]


def help_blocks() -> list[Block]:
    """How Lean Coffee works and every `/lean-coffee` command, in plain words."""
    return guide_blocks("How Lean Coffee works", _HELP)


def help_text() -> str:
    return "How Lean Coffee works, and the /lean-coffee commands."


__all__ = [
    "ACTION_CHECKBOX_VALUE",
    "ALL_TOPICS_PER_PAGE",
    "ANONYMOUS_CHECKBOX_VALUE",
    "DEFAULT_SESSION_TITLE",
    "all_topics_modal",
    "all_topics_page_count",
    "board_blocks",
    "board_text",
    "dots",
    "hand_over_modal",
    "help_blocks",
    "help_text",
    "history_blocks",
    "history_text",
    "keep_going_blocks",
    "keep_going_text",
    "merge_modal",
    "minutes_messages",
    "minutes_text",
    "no_session_text",
    "propose_modal",
    "start_modal",
    "takeaway_modal",
    "vote_receipt_text",
]
