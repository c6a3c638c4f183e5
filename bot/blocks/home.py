"""hearth's Home tab: a person's communities, turns, health checks, actions and minutes, and
at the foot, "Your data".

Pure builders: they take the `HomeView` gathered by `bot.services.home` and the message links
the presenter looked up, and return a Block Kit Home view inside Slack's 100-block limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import Block, ButtonElement
from slack_sdk.models.views import View

from bot.blocks import personal_data
from bot.blocks.actions import mark_done_button
from bot.blocks.common import (
    MAX_BUTTON_TEXT,
    MAX_MODAL_BLOCKS,
    actions,
    button,
    confirm_dialog,
    context,
    day_text,
    divider,
    header,
    mention,
    one_line,
    plain,
    plural,
    safe,
    section,
    slack_date,
    truncate,
)
from bot.blocks.rota import when
from bot.ids import HomeAction, RotaAction
from bot.services.home import (
    CommunityCard,
    HomeView,
    MyTurn,
    OpenAction,
    RecentMinutes,
    WaitingCheck,
)
from bot.state import MeetupRef

MAX_HOME_BLOCKS = MAX_MODAL_BLOCKS  # Slack allows 100 blocks in a Home tab, as in a modal
MAX_LINK_URL = 3000
ACTION_TEXT_LIMIT = 300
TITLE_LIMIT = 150

# (channel id, message ts) → permalink, looked up by the presenter.
Links = Mapping[tuple[str, str], str]


WELCOME = "Welcome to hearth"
EMPTY_TEXT = (
    "hearth isn't in any of your channels yet, so there's nothing to show here. "
    "It's easy to start: in your community's channel, invite me with `/invite @hearth`, "
    "then try `/lean-coffee` for a Lean Coffee, `/rota schedule` to plan meetups and "
    "take turns facilitating, or `/health-check` to ask how the community is doing."
)


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def link_button(text: str, url: str) -> ButtonElement:
    return ButtonElement(
        text=plain(truncate(text, MAX_BUTTON_TEXT)),
        action_id=str(HomeAction.OPEN_LINK),
        url=url,
    )


def _community_line(card: CommunityCard) -> str:
    name = f"*{channel(card.channel_id)}*"
    if card.next_meetup is not None:
        who = (
            f"facilitated by {mention(card.facilitator_id)}"
            if card.facilitator_id
            else "_nobody down to facilitate yet_"
        )
        return f"{name}\nNext meetup {when(card.next_meetup)}, {who}"
    if card.has_schedule:
        return f"{name}\nNo meetups coming up."
    return f"{name}\nNo meetup schedule yet: a lead can set one with `/rota schedule` there."


def _communities(view: HomeView) -> list[Block]:
    blocks: list[Block] = [header("Your communities")]
    blocks += [section(_community_line(card)) for card in view.communities]
    if view.more_communities:
        blocks.append(
            context(f"…and {plural(view.more_communities, 'more channel')} where hearth is in use.")
        )
    return blocks


def _turn(turn: MyTurn) -> list[Block]:
    ref = MeetupRef(c=turn.community_id, m=turn.meetup_id).encode()
    status = " ✓ confirmed" if turn.confirmed else ""
    text = f"You facilitate in {channel(turn.channel_id)} {when(turn.starts_at)}{status}"
    buttons = []
    if not turn.confirmed:
        buttons.append(button("I'll be there", RotaAction.CONFIRM, ref, style="primary"))
    if turn.is_next:
        buttons.append(
            button(
                "Skip my turn",
                RotaAction.SKIP,
                ref,
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
    return [section(text), actions(*buttons)] if buttons else [section(text)]


def _turns(view: HomeView) -> list[Block]:
    blocks: list[Block] = [header("Your coming turns")]
    if not view.turns:
        return [*blocks, context("You're not down to facilitate any of the next meetups.")]
    for turn in view.turns:
        blocks += _turn(turn)
    return blocks


def _check(check: WaitingCheck, links: Links) -> Block:
    progress = (
        f"you've answered {check.answered} of {plural(check.questions, 'question')}"
        if check.answered
        else plural(check.questions, "question")
    )
    text = (
        f"*Health check in {channel(check.channel_id)}*: {progress}. "
        f"It closes {slack_date(check.closes_at)}."
    )
    url = links.get((check.channel_id, check.message_ts)) if check.message_ts else None
    if url is None or len(url) > MAX_LINK_URL:
        return section(f"{text}\nAnswer on the poll in {channel(check.channel_id)}.")
    return section(text, accessory=link_button("Answer now", url))


def _checks(view: HomeView, links: Links) -> list[Block]:
    blocks: list[Block] = [header("Health checks waiting for you")]
    if not view.checks:
        return [*blocks, context("Nothing waiting: you've answered every open health check.")]
    return blocks + [_check(check, links) for check in view.checks]


def _action(item: OpenAction) -> Block:
    due = f"Due {day_text(item.due_date)} · " if item.due_date else ""
    text = safe(one_line(item.text), ACTION_TEXT_LIMIT)
    title = safe(one_line(item.session_title), TITLE_LIMIT)
    return section(
        f"• {text}\n{due}from _{title}_ in {channel(item.channel_id)}",
        accessory=mark_done_button(item.action_id, item.source),
    )


def _actions(view: HomeView) -> list[Block]:
    blocks: list[Block] = [header("Your actions")]
    if not view.actions:
        return [
            *blocks,
            context(
                "No actions for you. Actions you take on in a Lean Coffee, a meetup or "
                "after a health check show here."
            ),
        ]
    return blocks + [_action(item) for item in view.actions]


def _minutes_item(item: RecentMinutes, links: Links) -> Block:
    title = safe(one_line(item.title), TITLE_LIMIT)
    text = f"*{title}*\n{day_text(item.held_on)} in {channel(item.channel_id)}"
    url = links.get((item.channel_id, item.posted_ts)) if item.posted_ts else None
    if url is None or len(url) > MAX_LINK_URL:
        return section(text)
    return section(text, accessory=link_button("Open in channel", url))


def _minutes(view: HomeView, links: Links) -> list[Block]:
    blocks: list[Block] = [header("Recent minutes")]
    if not view.minutes:
        return [
            *blocks,
            context(
                "No minutes yet. They appear here after a Lean Coffee or a chat meetup, and "
                "when a health check closes."
            ),
        ]
    return blocks + [_minutes_item(item, links) for item in view.minutes]


def home_blocks(
    view: HomeView, links: Links | None = None, notice: str | None = None
) -> list[Block]:
    """The Home tab's blocks, never more than Slack's 100; "Your data" always comes last."""
    links = links or {}
    blocks: list[Block] = [header(WELCOME)]
    your_data = personal_data.home_section()
    if notice:
        blocks.append(section(notice))
    if view.is_empty:
        blocks.append(section(EMPTY_TEXT))
        return blocks + your_data
    blocks.append(
        context("Your communities at a glance. This page refreshes each time you open it.")
    )
    for part in (
        _communities(view),
        _turns(view),
        _checks(view, links),
        _actions(view),
        _minutes(view, links),
    ):
        blocks += [divider(), *part]
    room = MAX_HOME_BLOCKS - len(your_data)
    if len(blocks) > room:
        blocks = blocks[: room - 1]
        blocks.append(
            context("There's more than fits here; type `/rota` in a channel for the rest.")
        )
    return blocks + your_data


def home_tab(view: HomeView, links: Links | None = None, notice: str | None = None) -> View:
    """The Home view to publish for `view.user_id`."""
    return View(type="home", blocks=home_blocks(view, links, notice))
