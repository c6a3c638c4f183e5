"""A person's data: what hearth holds about them in one workspace, and forgetting them.

`what_we_hold` gathers it (counts and a few examples); `forget_person` deletes what was only
theirs and takes their name off what others rely on: their topics, takeaways, replies and
the minutes that hold them stay, with `FORGOTTEN_ID` (shown as "someone") where their Slack
id was, so the community's record still reads. Both go through every table below, and agree:
once a person is forgotten, `what_we_hold` finds nothing more about them.

What each table holds about a person, and what forgetting does with it:

- `community`: who set the community up (`created_by_id`): unnamed.
- `community_lead`: that they lead a community: deleted; who added each lead: unnamed.
  A community is never left without a lead of its own (as `/rota lead remove` holds): its
  only lead is asked to hand the role on first, since nobody else in the channel could then
  change its set-up, and a workspace admin rarely notices.
- `meetup_schedule`, `health_check_setup`, `chat_meetup_plan`: who set them up or last
  saved them: unnamed.
- `rota_member`: their place in a rota, also one they left: deleted.
- `rota_away`: their away dates: deleted; away dates they set for someone else: unnamed.
- `meetup`: a coming meetup pinned to them goes back to the rota (as when someone leaves it);
  a past one no longer says who facilitated it (so rota statistics stop counting them).
- `meetup_skip`: turns they passed on: deleted.
- `swap_request`: a swap they asked for or were asked: withdrawn (deleted) while pending,
  since nobody could answer it; an answered one stays in the other person's history,
  without their name.
- `rota_overload`: that they facilitate more than their share: deleted.
- `rota_notice`, `action_reminder`: which messages hearth sent them (`sent_to`): unnamed;
  overload notices about them or to them: deleted.
- `lean_coffee_session`: who started and facilitated it: unnamed. Facilitating one that is
  still running must be handed over (or the session ended) first.
- `lean_coffee_topic`: topics they proposed: unnamed, the words stay.
- `lean_coffee_vote`, `lean_coffee_poll_vote`: their dots and "Keep going?" votes: deleted.
- `lean_coffee_takeaway`, `chat_meetup_takeaway`, `health_check_action`: takeaways and actions
  they wrote, own or marked done: unnamed; an action they owned is now "someone"'s, and no
  reminder goes out for it.
- `chat_meetup`: who started, facilitated or ended it: unnamed (a running one they facilitate
  must end first).
- `chat_meetup_reply`: replies heard in a meetup's threads: kept with no author, as an
  anonymous post is.
- `health_check_answer`: answers to named checks (open or closed; the results are already
  counted): deleted. Answers to anonymous checks hold a keyed hash, never the Slack id, and
  are deleted when the check closes: nothing here ties them to anyone.
- `outbox_message`: messages hearth owes them or sent them lately (direct messages go to
  their id; a named check's reminder key holds it): deleted, so nothing still waiting is
  sent to them (finished ones are pruned after 30 days anyway).
- `health_check_opt_out`: "don't remind me": deleted.
- `health_check`: who started or closed it early: unnamed.
- `minutes`: minutes naming them as facilitator, participant, author or owner: their id is
  taken out of the body (out of lists of people, "someone" elsewhere), the facilitator
  column and the search text (rebuilt from the body as it is stored).
- Texts others wrote that @-mention them (topics, takeaways, actions, prompts, replies,
  session names, minutes): the mention reads "someone".
- Nothing else holds a person: `health_check_question`, `health_check_result`,
  `health_check_secret`, `chat_meetup_prompt` (but for mentions),
  `chat_meetup_timer`, `job_claim` and `seen_slack_request` hold no Slack user ids.

Every query is scoped by the team id. Nothing here talks to Slack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.errors import Conflict
from bot.services.action_sources import HEALTH_CHECK, LEAN_COFFEE, MEETUP
from bot.services.lean_coffee_types import SessionStatus
from bot.services.meetup import RUNNING as MEETUP_RUNNING
from bot.services.minutes import search_text_of
from bot.services.personal_data_types import (
    EXAMPLES,
    FORGOTTEN_ID,
    SOMEONE,
    Blocker,
    BlockerKind,
    Example,
    Held,
    Kind,
    PersonalData,
    blockers_text,
)
from bot.services.rota import MeetupStatus, SwapStatus
from bot.services.rota_reminders import JobKind
from models.actions import ActionReminder
from models.community import Community, CommunityLead
from models.health_check import (
    HealthCheck,
    HealthCheckAnswer,
    HealthCheckOptOut,
    HealthCheckSetup,
)
from models.health_check_actions import HealthCheckAction
from models.lean_coffee import (
    LeanCoffeePoll,
    LeanCoffeePollVote,
    LeanCoffeeSession,
    LeanCoffeeTakeaway,
    LeanCoffeeTopic,
    LeanCoffeeVote,
)
from models.meetup import (
    ChatMeetup,
    ChatMeetupPlan,
    ChatMeetupPrompt,
    ChatMeetupReply,
    ChatMeetupTakeaway,
)
from models.minutes import Minutes
from models.outbox import OutboxMessage
from models.rota import Meetup, MeetupSchedule, MeetupSkip, RotaAway, RotaMember, SwapRequest
from models.rota_reminders import RotaNotice, RotaOverload

# Texts people write that may @-mention someone (minutes bodies are read separately).
_TEXTS_WITH_MENTIONS: tuple[InstrumentedAttribute[Any], ...] = (
    LeanCoffeeSession.title,
    LeanCoffeeTopic.title,
    LeanCoffeeTopic.detail,
    LeanCoffeeTakeaway.text,
    ChatMeetupPrompt.text,
    ChatMeetupReply.text,
    ChatMeetupTakeaway.text,
    HealthCheckAction.text,
)


class StillNeeded(Conflict):
    """The person holds a role others need right now: they hand it on first."""


# --- helpers ---------------------------------------------------------------------------------


def _mention_pattern(user_id: str) -> re.Pattern[str]:
    """`<@U123>` or `<@U123|name>` for exactly this id (not one it is the start of)."""
    return re.compile(rf"<@{re.escape(user_id)}(?:\|[^>]*)?>")


def _unmention(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(SOMEONE, text)


def unname(value: Any, user_id: str) -> tuple[Any, bool]:
    """`value` (a JSON body, as any format stores its minutes) without `user_id`: taken out
    of lists (of participants, say), `FORGOTTEN_ID` wherever else it stands alone (an author,
    an owner, a facilitator), and @-mentions of it in text reading "someone". Returns the new
    value and whether anything changed; the one given is left as it was."""
    pattern = _mention_pattern(user_id)

    def walk(item: Any) -> tuple[Any, bool]:
        if isinstance(item, dict):
            changed = False
            out: dict[Any, Any] = {}
            for key, inner in item.items():
                out[key], did = walk(inner)
                changed = changed or did
            return out, changed
        if isinstance(item, list | tuple):
            kept = [inner for inner in item if inner != user_id]
            changed = len(kept) != len(item)
            walked = []
            for inner in kept:
                new, did = walk(inner)
                walked.append(new)
                changed = changed or did
            return walked, changed
        if isinstance(item, str):
            if item == user_id:
                return FORGOTTEN_ID, True
            new_text = _unmention(item, pattern)
            return new_text, new_text != item
        return item, False

    return walk(value)


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _held(kind: Kind, count: int, examples: Iterable[Example] = ()) -> Held | None:
    return Held(kind, count, tuple(examples)[:EXAMPLES]) if count else None


def _newest(found: Sequence[tuple[datetime, Example]]) -> list[Example]:
    return [example for _, example in sorted(found, key=lambda item: item[0], reverse=True)]


# Each workspace's rows, for tables that hang off another one's id.
def _communities(team_id: str) -> Select[Any]:
    return select(Community.id).where(Community.team_id == team_id)


def _meetups(team_id: str) -> Select[Any]:
    return select(Meetup.id).where(Meetup.community_id.in_(_communities(team_id)))


def _lean_coffees(team_id: str) -> Select[Any]:
    return select(LeanCoffeeSession.id).where(LeanCoffeeSession.team_id == team_id)


def _polls(team_id: str) -> Select[Any]:
    return select(LeanCoffeePoll.id).where(LeanCoffeePoll.session_id.in_(_lean_coffees(team_id)))


def _chat_meetups(team_id: str) -> Select[Any]:
    return select(ChatMeetup.id).where(ChatMeetup.team_id == team_id)


def _named_checks(team_id: str) -> Select[Any]:
    return select(HealthCheck.id).where(
        HealthCheck.team_id == team_id, HealthCheck.anonymous.is_(False)
    )


def _outbox_rows(team_id: str, user_id: str) -> ColumnElement[bool]:
    """Messages to them (a direct message's channel is their id), or keyed by their id."""
    return and_(
        OutboxMessage.team_id == team_id,
        or_(
            OutboxMessage.channel == user_id,
            OutboxMessage.key.contains(user_id, autoescape=True),
        ),
    )


def _team_condition(column: InstrumentedAttribute[Any], team_id: str) -> ColumnElement[bool]:
    """Keeps a text column's rows to one workspace, whatever table it is in."""
    model = column.class_
    if model in (LeanCoffeeSession, LeanCoffeeTopic, LeanCoffeeTakeaway, HealthCheckAction):
        return model.team_id == team_id
    return model.meetup_id.in_(_chat_meetups(team_id))


def _action_sources(team_id: str) -> list[tuple[str, Any, ColumnElement[bool]]]:
    """(source name as `ActionReminder` knows it, model, team condition) of every table of
    takeaways and actions."""
    return [
        (LEAN_COFFEE, LeanCoffeeTakeaway, LeanCoffeeTakeaway.team_id == team_id),
        (MEETUP, ChatMeetupTakeaway, ChatMeetupTakeaway.meetup_id.in_(_chat_meetups(team_id))),
        (HEALTH_CHECK, HealthCheckAction, HealthCheckAction.team_id == team_id),
    ]


# --- what hearth holds -----------------------------------------------------------------------


async def _channels_of(session: AsyncSession, query: Select[Any]) -> list[str]:
    return sorted({str(channel) for channel in await session.scalars(query)})


async def _leads(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    channels = await _channels_of(
        session,
        select(Community.channel_id)
        .join(CommunityLead, CommunityLead.community_id == Community.id)
        .where(Community.team_id == team_id, CommunityLead.user_id == user_id),
    )
    return _held(Kind.LEAD, len(channels), (Example(channel_id=c) for c in channels))


async def _rota(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    channels = await _channels_of(
        session,
        select(Community.channel_id)
        .join(RotaMember, RotaMember.community_id == Community.id)
        .where(Community.team_id == team_id, RotaMember.user_id == user_id),
    )
    return _held(Kind.ROTA, len(channels), (Example(channel_id=c) for c in channels))


async def _away(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    rows = (
        await session.execute(
            select(RotaAway.starts_on, RotaAway.ends_on, Community.channel_id)
            .join(Community, Community.id == RotaAway.community_id)
            .where(Community.team_id == team_id, RotaAway.user_id == user_id)
            .order_by(RotaAway.starts_on.desc(), RotaAway.id.desc())
        )
    ).all()
    return _held(
        Kind.AWAY,
        len(rows),
        (Example(channel_id=channel, on=start, until=end) for start, end, channel in rows),
    )


def _facilitated(team_id: str, user_id: str) -> Select[Any]:
    return (
        select(Meetup.starts_at, Community.channel_id)
        .join(Community, Community.id == Meetup.community_id)
        .where(Community.team_id == team_id, Meetup.facilitator_id == user_id)
    )


async def _turns(session: AsyncSession, team_id: str, user_id: str) -> list[Held | None]:
    coming = (
        await session.execute(
            _facilitated(team_id, user_id)
            .where(Meetup.status == MeetupStatus.PLANNED)
            .order_by(Meetup.starts_at, Meetup.id)
        )
    ).all()
    past = (
        await session.execute(
            _facilitated(team_id, user_id)
            .where(Meetup.status != MeetupStatus.PLANNED)
            .order_by(Meetup.starts_at.desc(), Meetup.id.desc())
        )
    ).all()
    return [
        _held(Kind.TURNS, len(coming), (Example(channel_id=c, at=at) for at, c in coming)),
        _held(Kind.PAST_MEETUPS, len(past), (Example(channel_id=c, at=at) for at, c in past)),
    ]


async def _skips_and_swaps(session: AsyncSession, team_id: str, user_id: str) -> list[Held | None]:
    skips = await _count(
        session,
        select(MeetupSkip.id).where(
            MeetupSkip.meetup_id.in_(_meetups(team_id)), MeetupSkip.user_id == user_id
        ),
    )
    swaps = await _count(
        session,
        select(SwapRequest.id).where(
            SwapRequest.meetup_id.in_(_meetups(team_id)),
            or_(SwapRequest.from_user_id == user_id, SwapRequest.to_user_id == user_id),
        ),
    )
    return [_held(Kind.SKIPS, skips), _held(Kind.SWAPS, swaps)]


async def _topics(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    rows = (
        await session.execute(
            select(LeanCoffeeTopic.title, LeanCoffeeSession.channel_id)
            .join(LeanCoffeeSession, LeanCoffeeSession.id == LeanCoffeeTopic.session_id)
            .where(LeanCoffeeTopic.team_id == team_id, LeanCoffeeTopic.proposer_id == user_id)
            .order_by(LeanCoffeeTopic.proposed_at.desc(), LeanCoffeeTopic.id.desc())
        )
    ).all()
    return _held(Kind.TOPICS, len(rows), (Example(text=title, channel_id=c) for title, c in rows))


async def _votes(session: AsyncSession, team_id: str, user_id: str) -> list[Held | None]:
    dots = await _count(
        session,
        select(LeanCoffeeVote.id).where(
            LeanCoffeeVote.session_id.in_(_lean_coffees(team_id)),
            LeanCoffeeVote.user_id == user_id,
        ),
    )
    keep_going = await _count(
        session,
        select(LeanCoffeePollVote.id).where(
            LeanCoffeePollVote.poll_id.in_(_polls(team_id)),
            LeanCoffeePollVote.user_id == user_id,
        ),
    )
    return [_held(Kind.DOTS, dots), _held(Kind.KEEP_GOING, keep_going)]


async def _replies(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    rows = (
        await session.execute(
            select(ChatMeetupReply.text, ChatMeetupReply.off_record, ChatMeetup.channel_id)
            .join(ChatMeetup, ChatMeetup.id == ChatMeetupReply.meetup_id)
            .where(ChatMeetup.team_id == team_id, ChatMeetupReply.author_id == user_id)
            .order_by(ChatMeetupReply.created_at.desc(), ChatMeetupReply.id.desc())
        )
    ).all()
    examples = (Example(text=text, channel_id=c) for text, off, c in rows if not off and text)
    return _held(Kind.REPLIES, len(rows), examples)


async def _takeaways(session: AsyncSession, team_id: str, user_id: str) -> list[Held | None]:
    """Takeaways and actions written, owned and marked done, from every source."""
    found: dict[Kind, list[tuple[datetime, Example]]] = {
        Kind.TAKEAWAYS: [],
        Kind.ACTIONS: [],
        Kind.MARKED_DONE: [],
    }
    for _, model, in_team in _action_sources(team_id):
        for kind, column in (
            (Kind.TAKEAWAYS, model.author_id),
            (Kind.ACTIONS, model.owner_id),
            (Kind.MARKED_DONE, model.done_by_id),
        ):
            rows = await session.execute(
                select(model.created_at, model.text).where(in_team, column == user_id)
            )
            found[kind] += [(at, Example(text=text)) for at, text in rows]
    return [_held(kind, len(items), _newest(items)) for kind, items in found.items()]


async def _answers(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    answers = await _count(
        session,
        select(HealthCheckAnswer.check_id).where(
            HealthCheckAnswer.check_id.in_(_named_checks(team_id)),
            HealthCheckAnswer.voter == user_id,
        ),
    )
    return _held(Kind.ANSWERS, answers)


async def _opt_outs(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    channels = await _channels_of(
        session,
        select(Community.channel_id)
        .join(HealthCheckOptOut, HealthCheckOptOut.community_id == Community.id)
        .where(Community.team_id == team_id, HealthCheckOptOut.user_id == user_id),
    )
    return _held(Kind.OPT_OUTS, len(channels), (Example(channel_id=c) for c in channels))


async def _meetings_run(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    """Lean Coffees, chat meetups and health checks they started, facilitated or closed."""
    found: list[tuple[datetime, Example]] = []
    rows = await session.execute(
        select(
            LeanCoffeeSession.started_at, LeanCoffeeSession.title, LeanCoffeeSession.channel_id
        ).where(
            LeanCoffeeSession.team_id == team_id,
            or_(
                LeanCoffeeSession.facilitator_id == user_id,
                LeanCoffeeSession.started_by_id == user_id,
            ),
        )
    )
    found += [
        (at, Example(text=title, label="Lean Coffee", channel_id=c, on=at.date()))
        for at, title, c in rows
    ]
    rows = await session.execute(
        select(ChatMeetup.started_at, ChatMeetup.channel_id).where(
            ChatMeetup.team_id == team_id,
            or_(
                ChatMeetup.facilitator_id == user_id,
                ChatMeetup.started_by_id == user_id,
                ChatMeetup.ended_by_id == user_id,
            ),
        )
    )
    found += [(at, Example(label="Chat meetup", channel_id=c, on=at.date())) for at, c in rows]
    rows = await session.execute(
        select(HealthCheck.opened_at, Community.channel_id)
        .join(Community, Community.id == HealthCheck.community_id)
        .where(
            HealthCheck.team_id == team_id,
            or_(HealthCheck.started_by_id == user_id, HealthCheck.closed_by_id == user_id),
        )
    )
    found += [(at, Example(label="Health check", channel_id=c, on=at.date())) for at, c in rows]
    return _held(Kind.MEETINGS_RUN, len(found), _newest(found))


def _minutes_candidates(team_id: str, user_id: str) -> Select[Any]:
    """Minutes that may name the person: the database finds their id anywhere in the row;
    `_names` then reads the body to be sure (an id can be the start of another one)."""
    return select(Minutes).where(
        Minutes.team_id == team_id,
        or_(
            Minutes.facilitator_id == user_id,
            cast(Minutes.body, String).contains(user_id, autoescape=True),
            Minutes.title.contains(f"<@{user_id}", autoescape=True),
        ),
    )


def _names(row: Minutes, user_id: str) -> bool:
    if row.facilitator_id == user_id:
        return True
    if _mention_pattern(user_id).search(row.title):
        return True
    return unname(row.body, user_id)[1]


async def _minutes(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    rows = [
        row
        for row in await session.scalars(
            _minutes_candidates(team_id, user_id).order_by(
                Minutes.held_on.desc(), Minutes.created_at.desc(), Minutes.id.desc()
            )
        )
        if _names(row, user_id)
    ]
    return _held(
        Kind.MINUTES,
        len(rows),
        (Example(text=row.title, channel_id=row.channel_id, on=row.held_on) for row in rows),
    )


def _mentioning(column: InstrumentedAttribute[Any], team_id: str, user_id: str) -> Select[Any]:
    model = column.class_
    return select(model).where(
        _team_condition(column, team_id), column.contains(f"<@{user_id}", autoescape=True)
    )


async def _mentions(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    pattern = _mention_pattern(user_id)
    count = 0
    for column in _TEXTS_WITH_MENTIONS:
        for row in await session.scalars(_mentioning(column, team_id, user_id)):
            text = getattr(row, column.key)
            count += bool(text and pattern.search(text))
    return _held(Kind.MENTIONS, count)


def _set_up_queries(team_id: str, user_id: str) -> list[Select[Any]]:
    """Rows saying the person set something up for the community (its channel first)."""
    in_team = Community.team_id == team_id
    return [
        select(Community.channel_id).where(in_team, Community.created_by_id == user_id),
        select(Community.channel_id)
        .join(CommunityLead, CommunityLead.community_id == Community.id)
        .where(in_team, CommunityLead.added_by_id == user_id, CommunityLead.user_id != user_id),
        select(Community.channel_id)
        .join(MeetupSchedule, MeetupSchedule.community_id == Community.id)
        .where(in_team, MeetupSchedule.created_by_id == user_id),
        select(Community.channel_id)
        .join(HealthCheckSetup, HealthCheckSetup.community_id == Community.id)
        .where(in_team, HealthCheckSetup.created_by_id == user_id),
        select(Community.channel_id)
        .join(RotaAway, RotaAway.community_id == Community.id)
        .where(in_team, RotaAway.created_by_id == user_id, RotaAway.user_id != user_id),
        select(Community.channel_id)
        .join(Meetup, Meetup.community_id == Community.id)
        .join(ChatMeetupPlan, ChatMeetupPlan.rota_meetup_id == Meetup.id)
        .where(in_team, ChatMeetupPlan.team_id == team_id, ChatMeetupPlan.updated_by_id == user_id),
    ]


async def _set_up(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    channels: list[str] = []
    for query in _set_up_queries(team_id, user_id):
        channels += [str(c) for c in await session.scalars(query)]
    where = sorted(set(channels))
    return _held(Kind.SET_UP, len(channels), (Example(channel_id=c) for c in where))


def _notes_queries(team_id: str, user_id: str) -> list[Select[Any]]:
    queries = [
        select(RotaNotice.id).where(
            RotaNotice.meetup_id.in_(_meetups(team_id)),
            or_(
                RotaNotice.sent_to == user_id,
                RotaNotice.about_id == user_id,
                RotaNotice.to_id == user_id,
            ),
        ),
        select(RotaOverload.id).where(
            RotaOverload.community_id.in_(_communities(team_id)), RotaOverload.user_id == user_id
        ),
        select(OutboxMessage.id).where(_outbox_rows(team_id, user_id)),
    ]
    for source, model, in_team in _action_sources(team_id):
        queries.append(
            select(ActionReminder.id).where(
                ActionReminder.source == source,
                ActionReminder.action_id.in_(select(model.id).where(in_team)),
                ActionReminder.sent_to == user_id,
            )
        )
    return queries


async def _notes(session: AsyncSession, team_id: str, user_id: str) -> Held | None:
    total = 0
    for query in _notes_queries(team_id, user_id):
        total += await _count(session, query)
    return _held(Kind.NOTES, total)


async def blockers(session: AsyncSession, team_id: str, user_id: str) -> list[Blocker]:
    """What the person must hand on before hearth can forget them: communities they are the
    only lead of, and sessions they facilitate that are still running."""
    led = select(CommunityLead.community_id).where(
        CommunityLead.user_id == user_id,
        CommunityLead.community_id.in_(_communities(team_id)),
    )
    only = (
        select(CommunityLead.community_id)
        .where(CommunityLead.community_id.in_(led))
        .group_by(CommunityLead.community_id)
        .having(func.count() == 1)
    )
    found = [
        Blocker(BlockerKind.ONLY_LEAD, channel)
        for channel in await _channels_of(
            session,
            select(Community.channel_id).where(
                Community.team_id == team_id, Community.id.in_(only)
            ),
        )
    ]
    found += [
        Blocker(BlockerKind.FACILITATING_LEAN_COFFEE, channel)
        for channel in await _channels_of(
            session,
            select(LeanCoffeeSession.channel_id).where(
                LeanCoffeeSession.team_id == team_id,
                LeanCoffeeSession.facilitator_id == user_id,
                LeanCoffeeSession.status != SessionStatus.ENDED,
            ),
        )
    ]
    found += [
        Blocker(BlockerKind.FACILITATING_MEETUP, channel)
        for channel in await _channels_of(
            session,
            select(ChatMeetup.channel_id).where(
                ChatMeetup.team_id == team_id,
                ChatMeetup.facilitator_id == user_id,
                ChatMeetup.status == MEETUP_RUNNING,
            ),
        )
    ]
    return found


async def what_we_hold(session: AsyncSession, team_id: str, user_id: str) -> PersonalData:
    """Everything hearth holds about `user_id` in this workspace, kind by kind (only kinds
    with something in them), and what they would have to hand on before it is forgotten."""
    found: list[Held | None] = [
        await _leads(session, team_id, user_id),
        await _rota(session, team_id, user_id),
        await _away(session, team_id, user_id),
        *await _turns(session, team_id, user_id),
        *await _skips_and_swaps(session, team_id, user_id),
        await _topics(session, team_id, user_id),
        *await _votes(session, team_id, user_id),
        await _replies(session, team_id, user_id),
        *await _takeaways(session, team_id, user_id),
        await _answers(session, team_id, user_id),
        await _opt_outs(session, team_id, user_id),
        await _meetings_run(session, team_id, user_id),
        await _minutes(session, team_id, user_id),
        await _mentions(session, team_id, user_id),
        await _set_up(session, team_id, user_id),
        await _notes(session, team_id, user_id),
    ]
    order = list(Kind)
    held = sorted((h for h in found if h is not None), key=lambda h: order.index(h.kind))
    return PersonalData(
        user_id=user_id,
        held=tuple(held),
        blockers=tuple(await blockers(session, team_id, user_id)),
    )


# --- forgetting ------------------------------------------------------------------------------


async def _rename(
    session: AsyncSession,
    column: InstrumentedAttribute[Any],
    user_id: str,
    *where: ColumnElement[bool],
    to: str | None = FORGOTTEN_ID,
) -> None:
    model = column.class_
    await session.execute(
        update(model)
        .where(column == user_id, *where)
        .values({column.key: to})
        .execution_options(synchronize_session=False)
    )


async def _delete(session: AsyncSession, model: Any, *where: ColumnElement[bool]) -> None:
    await session.execute(delete(model).where(*where).execution_options(synchronize_session=False))


async def _forget_in_communities(session: AsyncSession, team_id: str, user_id: str) -> None:
    communities = CommunityLead.community_id.in_(_communities(team_id))
    await _delete(session, CommunityLead, communities, CommunityLead.user_id == user_id)
    await _rename(session, CommunityLead.added_by_id, user_id, communities)
    await _rename(session, Community.created_by_id, user_id, Community.team_id == team_id)
    await _rename(
        session,
        MeetupSchedule.created_by_id,
        user_id,
        MeetupSchedule.community_id.in_(_communities(team_id)),
    )
    await _rename(
        session,
        HealthCheckSetup.created_by_id,
        user_id,
        HealthCheckSetup.community_id.in_(_communities(team_id)),
    )
    await _rename(session, ChatMeetupPlan.updated_by_id, user_id, ChatMeetupPlan.team_id == team_id)
    await _delete(
        session,
        HealthCheckOptOut,
        HealthCheckOptOut.community_id.in_(_communities(team_id)),
        HealthCheckOptOut.user_id == user_id,
    )


async def _forget_in_rotas(session: AsyncSession, team_id: str, user_id: str) -> None:
    in_team = _communities(team_id)
    meetups = _meetups(team_id)
    await _delete(
        session, RotaMember, RotaMember.community_id.in_(in_team), RotaMember.user_id == user_id
    )
    await _delete(
        session, RotaAway, RotaAway.community_id.in_(in_team), RotaAway.user_id == user_id
    )
    await _rename(session, RotaAway.created_by_id, user_id, RotaAway.community_id.in_(in_team))
    # Coming turns go back to the rota, as when someone leaves it; past ones name nobody.
    await session.execute(
        update(Meetup)
        .where(
            Meetup.community_id.in_(in_team),
            Meetup.facilitator_id == user_id,
            Meetup.status == MeetupStatus.PLANNED,
        )
        .values(facilitator_id=None, confirmed_at=None)
        .execution_options(synchronize_session=False)
    )
    await _rename(
        session, Meetup.facilitator_id, user_id, Meetup.community_id.in_(in_team), to=None
    )
    await _delete(
        session, MeetupSkip, MeetupSkip.meetup_id.in_(meetups), MeetupSkip.user_id == user_id
    )
    involving = or_(SwapRequest.from_user_id == user_id, SwapRequest.to_user_id == user_id)
    await _delete(
        session,
        SwapRequest,
        SwapRequest.meetup_id.in_(meetups),
        SwapRequest.status == SwapStatus.PENDING,
        involving,
    )
    await _rename(session, SwapRequest.from_user_id, user_id, SwapRequest.meetup_id.in_(meetups))
    await _rename(session, SwapRequest.to_user_id, user_id, SwapRequest.meetup_id.in_(meetups))
    await _delete(
        session,
        RotaOverload,
        RotaOverload.community_id.in_(in_team),
        RotaOverload.user_id == user_id,
    )
    await _delete(
        session,
        RotaNotice,
        RotaNotice.meetup_id.in_(meetups),
        RotaNotice.kind == JobKind.OVERLOAD,
        or_(RotaNotice.about_id == user_id, RotaNotice.to_id == user_id),
    )
    await _rename(session, RotaNotice.sent_to, user_id, RotaNotice.meetup_id.in_(meetups))


async def _forget_in_lean_coffees(session: AsyncSession, team_id: str, user_id: str) -> None:
    in_team = LeanCoffeeSession.team_id == team_id
    await _rename(session, LeanCoffeeSession.facilitator_id, user_id, in_team)
    await _rename(session, LeanCoffeeSession.started_by_id, user_id, in_team)
    await _rename(session, LeanCoffeeTopic.proposer_id, user_id, LeanCoffeeTopic.team_id == team_id)
    await _delete(
        session,
        LeanCoffeeVote,
        LeanCoffeeVote.session_id.in_(_lean_coffees(team_id)),
        LeanCoffeeVote.user_id == user_id,
    )
    await _delete(
        session,
        LeanCoffeePollVote,
        LeanCoffeePollVote.poll_id.in_(_polls(team_id)),
        LeanCoffeePollVote.user_id == user_id,
    )


async def _forget_in_chat_meetups(session: AsyncSession, team_id: str, user_id: str) -> None:
    in_team = ChatMeetup.team_id == team_id
    for column in (ChatMeetup.facilitator_id, ChatMeetup.started_by_id, ChatMeetup.ended_by_id):
        await _rename(session, column, user_id, in_team)
    # A reply with no author reads as an anonymous post: nothing says who sent it.
    await _rename(
        session,
        ChatMeetupReply.author_id,
        user_id,
        ChatMeetupReply.meetup_id.in_(_chat_meetups(team_id)),
        to=None,
    )


async def _forget_in_health_checks(session: AsyncSession, team_id: str, user_id: str) -> None:
    in_team = HealthCheck.team_id == team_id
    await _rename(session, HealthCheck.started_by_id, user_id, in_team)
    await _rename(session, HealthCheck.closed_by_id, user_id, in_team)
    await _delete(
        session,
        HealthCheckAnswer,
        HealthCheckAnswer.check_id.in_(_named_checks(team_id)),
        HealthCheckAnswer.voter == user_id,
    )
    await _delete(session, OutboxMessage, _outbox_rows(team_id, user_id))


async def _forget_in_actions(session: AsyncSession, team_id: str, user_id: str) -> None:
    for source, model, in_team in _action_sources(team_id):
        await _rename(
            session,
            ActionReminder.sent_to,
            user_id,
            ActionReminder.source == source,
            ActionReminder.action_id.in_(select(model.id).where(in_team)),
        )
        for column in (model.author_id, model.owner_id, model.done_by_id):
            await _rename(session, column, user_id, in_team)


async def _forget_in_minutes(session: AsyncSession, team_id: str, user_id: str) -> None:
    """Each set of minutes naming the person, its search text rebuilt from the new body."""
    pattern = _mention_pattern(user_id)
    for row in await session.scalars(_minutes_candidates(team_id, user_id)):
        body, changed = unname(row.body, user_id)
        if changed:
            row.body = body
        if row.facilitator_id == user_id:
            row.facilitator_id = FORGOTTEN_ID
        title = _unmention(row.title, pattern)
        if title != row.title:
            row.title = title
        # Written here too (not only by the archive's flush hook), so it never lags the body.
        row.search_text = search_text_of(row.source, row.body, row.title)
    await session.flush()


async def _forget_mentions(session: AsyncSession, team_id: str, user_id: str) -> None:
    pattern = _mention_pattern(user_id)
    for column in _TEXTS_WITH_MENTIONS:
        for row in await session.scalars(_mentioning(column, team_id, user_id)):
            text = getattr(row, column.key)
            if text:
                setattr(row, column.key, _unmention(text, pattern))
    await session.flush()


async def forget_person(
    session: AsyncSession, team_id: str, user_id: str, now: datetime
) -> PersonalData:
    """Delete what hearth holds only about `user_id` in this workspace and take their name
    off the rest (see the module's notes, table by table). Returns what was held just before,
    which is what was deleted or unnamed.

    Refused with `StillNeeded`, changing nothing, while they are a community's only lead or
    facilitate a session still running. `now` is when they asked: no rule depends on the
    time today (a coming turn is any meetup still planned), and nothing records it, since a
    record of who asked to be forgotten would name them. Doing it twice is harmless."""
    held = await what_we_hold(session, team_id, user_id)
    if held.blockers:
        raise StillNeeded(blockers_text(held.blockers))
    if held.is_empty:
        return held
    await _forget_in_minutes(session, team_id, user_id)
    await _forget_mentions(session, team_id, user_id)
    await _forget_in_communities(session, team_id, user_id)
    await _forget_in_rotas(session, team_id, user_id)
    await _forget_in_lean_coffees(session, team_id, user_id)
    await _forget_in_chat_meetups(session, team_id, user_id)
    await _forget_in_health_checks(session, team_id, user_id)
    await _forget_in_actions(session, team_id, user_id)
    await session.flush()
    return held


__all__ = [
    "FORGOTTEN_ID",
    "StillNeeded",
    "blockers",
    "forget_person",
    "unname",
    "what_we_hold",
]
