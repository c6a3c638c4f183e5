"""Who may do what, for everything hearth does: the authorization matrix, end to end, on SQLite
and PostgreSQL.

Ids in button values and `private_metadata` are claims (DESIGN.md, "Trust"). Each entry below
is one thing a person can ask of hearth (an `action_id`, a modal's `callback_id`, a slash
command), sent the way an attacker would: a signed request of Slack's shape carrying the ids of
a real object, from wherever the person happens to be. Each is sent by six people:

- member: Bob, acting on the public #practice's things (anyone in the workspace may);
- non-member: Dave, naming the private #leads' things from #random (he is not in #leads);
- facilitator: Alice, who runs #leads' Lean Coffee and chat meetup and has its next rota turn;
- lead: Lena, who set up #leads' rota and health checks;
- admin: Carol, a workspace admin in #leads;
- other team: Erin, signed for another workspace, naming #leads' ids.

The answer is either the effect (the database changes, a modal opens, or something is shown
privately) or a private refusal that changes nothing (every table compared), sends nothing
anywhere but to the person, and never shows the object's contents.

One world per database is built once, through Slack as people would; a case that changed the
database is undone (its rows restored) before the next.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.ids as ids
from bot.clock import ManualClock
from bot.emulator import payloads
from bot.emulator.blocktree import elements
from bot.emulator.delivery import DeliveryResult
from bot.emulator.seed import OtherSeed, Seed, second_workspace
from bot.emulator.server import Call, SlackEmulator
from bot.emulator.state import View, WorkspaceState
from bot.emulator.testing import running_emulator
from bot.emulator.workspace import Workspace
from bot.ids import (
    ActionsAction,
    ActionsView,
    HealthAction,
    HealthView,
    HomeAction,
    LeanCoffeeAction,
    LeanCoffeeTopicMenu,
    LeanCoffeeView,
    MeetupAction,
    MeetupPlanAction,
    MeetupPlanView,
    MeetupView,
    MinutesAction,
    PersonalDataAction,
    PersonalDataView,
    RotaAction,
    RotaBlock,
    RotaView,
)
from bot.state import (
    ActionRef,
    AnswerRef,
    ChatMeetupRef,
    CheckRef,
    CommunityRef,
    LeanCoffeeModal,
    MeetupRef,
    MinutesRef,
    PollRef,
    SessionRef,
    SwapAskedRef,
    SwapRef,
    TopicMenuChoice,
    TopicRef,
)
from handlers.access import ANOTHER_WORKSPACE
from models.base import Base
from models.community import Community
from models.health_check import HealthCheck
from models.health_check_actions import HealthCheckAction
from models.lean_coffee import LeanCoffeePoll, LeanCoffeeSession, LeanCoffeeTopic
from models.meetup import ChatMeetup
from models.minutes import Minutes
from models.rota import Meetup, SwapRequest
from tests.conftest import _drop_schema, _postgres_schema_url
from tests.e2e.conftest import START, World, running_hearth

# The world is built once per database, so the tests using it share the module's loop.
on_the_modules_loop = pytest.mark.asyncio(loop_scope="module")

LEADS, PRACTICE, RANDOM, GUILD = Seed.LEADS, Seed.PRACTICE, Seed.RANDOM, OtherSeed.GUILD
ALICE, BOB, CAROL, DAVE, ERIN = Seed.ALICE, Seed.BOB, Seed.CAROL, Seed.DAVE, OtherSeed.ERIN
LENA = "U0LENA"  # a lead of #leads' community; neither facilitator nor workspace admin

NOT_A_MEMBER = "private channel you're not in"
OUR_FAULT = "something went wrong on my side"
# Slack calls that only look something up; anything else in a refusal must be telling the
# person (their response_url, an ephemeral or DM to them, their Home).
LOOK_UPS = frozenset(
    {"auth.test", "users.info", "conversations.info", "conversations.members", "conversations.open"}
)
# Written on every request (replay protection) or by health probes: not anyone's change.
NOT_COMPARED = frozenset({"seen_slack_request", "health_probe"})
TABLES = [t for t in Base.metadata.sorted_tables if t.name not in NOT_COMPARED]


class Role(StrEnum):
    MEMBER = "member"
    NON_MEMBER = "non-member"
    FACILITATOR = "facilitator"
    LEAD = "lead"
    ADMIN = "admin"
    OTHER_TEAM = "other team"


class Outcome(StrEnum):
    DONE = "done"  # the effect happens
    ROLE = "refused by the role rules"
    MEMBERS_ONLY = "refused: a private channel they're not in"
    ELSEWHERE = "refused: another workspace"


class Effect(StrEnum):
    CHANGES = "changes the database"
    OPENS = "opens a modal"
    SHOWS = "shows something privately"


@dataclass(frozen=True)
class Player:
    """Someone acting: on which channel's things, and where their requests come from."""

    user: str
    scene: str
    sits_in: str
    elsewhere: bool = False  # signed for another workspace


PLAYERS = {
    Role.MEMBER: Player(BOB, PRACTICE, PRACTICE),
    Role.NON_MEMBER: Player(DAVE, LEADS, RANDOM),
    Role.FACILITATOR: Player(ALICE, LEADS, LEADS),
    Role.LEAD: Player(LENA, LEADS, LEADS),
    Role.ADMIN: Player(CAROL, LEADS, LEADS),
    Role.OTHER_TEAM: Player(ERIN, LEADS, GUILD, elsewhere=True),
}
# Who, of those in the channel, gets the effect (the others are refused by the role rules).
ANYONE = frozenset({Role.MEMBER, Role.FACILITATOR, Role.LEAD, Role.ADMIN})
FACILITATOR_OR_ADMIN = frozenset({Role.FACILITATOR, Role.ADMIN})
FACILITATOR_OR_LEADS = frozenset({Role.FACILITATOR, Role.LEAD, Role.ADMIN})
LEADS_ONLY = frozenset({Role.LEAD, Role.ADMIN})  # admins count as leads


@dataclass
class Scene:
    """One channel's things, made through Slack, and who does what there."""

    channel: str
    facilitator: str
    lead: str
    bystander: str  # in the channel, no role: asked to swap, handed over to
    titles: dict[str, str]  # what is said there, by what it is
    lc: int = 0
    topic: int = 0
    other_topic: int = 0
    poll: int = 0
    community: int = 0
    meetup: int = 0
    swap: int = 0
    open_check: int = 0
    closed_check: int = 0
    question: str = ""
    action: int = 0
    minutes: int = 0
    chat: int = 0

    @property
    def secrets(self) -> list[str]:
        return list(self.titles.values())


# --- the requests --------------------------------------------------------------------------

Value = Callable[[Scene], str]
# Opens a modal as `who` in the scene (filled in, for a submission); returns it.
Opening = Callable[["Matrix", Scene, str], Awaitable[View]]
Given = Callable[["Matrix", Scene], Awaitable[None]]


@dataclass(frozen=True)
class Click:
    """A button (or a menu choice: `menu`) carrying `value`; `in_modal` when it is clicked
    inside a modal, whose `private_metadata` the attacker copies from whoever opened it."""

    action_id: str
    value: Value
    menu: bool = False
    in_modal: Opening | None = None


@dataclass(frozen=True)
class Submit:
    """A modal submitted: the modal someone allowed opened and filled, sent by the person."""

    callback_id: str
    modal: Opening


@dataclass(frozen=True)
class Command:
    """A slash command typed in the things' channel (forged there by those not in it)."""

    command: str
    text: str | Value = ""


@dataclass(frozen=True)
class Entry:
    """One thing to ask of hearth, and who gets its effect: `done_by` of those in the channel
    (the others are refused by the role rules), anyone in the workspace when it is about the
    person's `own` data; nobody of another workspace."""

    id: str
    request: Click | Submit | Command
    done_by: frozenset[Role]
    effect: Effect = Effect.CHANGES
    shows: str = ""  # for Effect.SHOWS: what those allowed are shown
    given: tuple[Given, ...] = ()
    opener: Role = Role.FACILITATOR  # who opens the modal a Submit or an in-modal Click needs
    own: bool = False

    def expected(self, role: Role) -> Outcome:
        if role is Role.OTHER_TEAM:
            return Outcome.ELSEWHERE
        if role is Role.NON_MEMBER and not self.own:
            return Outcome.MEMBERS_ONLY
        return Outcome.DONE if role in self.done_by or self.own else Outcome.ROLE


# --- the world -----------------------------------------------------------------------------

Rows = dict[str, list[dict[str, Any]]]


async def dump(engine: AsyncEngine) -> Rows:
    """Every row of every table hearth keeps, in a stable order."""
    rows: Rows = {}
    async with engine.connect() as connection:
        for table in TABLES:
            found = (await connection.execute(select(table))).mappings().all()
            rows[table.name] = sorted((dict(r) for r in found), key=repr)
    return rows


async def restore(engine: AsyncEngine, rows: Rows) -> None:
    async with engine.begin() as connection:
        for table in reversed(TABLES):
            await connection.execute(table.delete())
        for table in TABLES:
            if rows[table.name]:
                await connection.execute(table.insert(), rows[table.name])


def changed_tables(before: Rows, after: Rows) -> list[str]:
    return [name for name in before if before[name] != after[name]]


@dataclass
class Sent:
    """What came of one request: the acknowledgement, Slack calls made meanwhile, what the
    person was told, and the database before and after."""

    result: DeliveryResult
    calls: list[Call]
    told: str
    quiet: bool
    before: Rows
    after: Rows

    @property
    def changed(self) -> list[str]:
        return changed_tables(self.before, self.after)

    @property
    def opened(self) -> bool:
        modal_calls = ("views.open", "views.push", "views.update")
        return any(c.method in modal_calls and c.ok for c in self.calls)


@dataclass
class Matrix:
    world: World
    kiln: Workspace
    scenes: dict[str, Scene]
    base: Rows = field(default_factory=dict)
    holding: tuple[str, ...] = ()  # the scene and givens the database holds (() = base)
    dirty: bool = False
    modal: tuple[tuple[str, ...], str, View] | None = None  # reusable while nothing changed
    rows: Rows | None = None  # the database as the last case left it, while nothing else ran

    @property
    def slack(self) -> SlackEmulator:
        return self.world.slack

    def state_of(self, user: str) -> WorkspaceState:
        return self.kiln.state if user == ERIN else self.slack.state

    # -- sending, as anyone ---------------------------------------------------------------

    async def click(
        self,
        user: str,
        channel: str,
        action_id: str,
        value: str,
        *,
        menu: bool = False,
        modal: View | None = None,
    ) -> DeliveryResult:
        """Click a button (or pick a menu option) carrying `value`: on a copy posted where
        the person is (as an attacker would paste it), or inside `modal`."""
        state = self.state_of(user)
        option = {"text": {"type": "plain_text", "text": "Go"}, "value": value}
        element: dict[str, Any] = (
            {"type": "overflow", "action_id": action_id, "options": [option]}
            if menu
            else {
                "type": "button",
                "text": {"type": "plain_text", "text": "Go"},
                "action_id": action_id,
                "value": value,
            }
        )
        action: dict[str, Any] = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": "copied",
            "action_ts": payloads.action_ts(state),
            **({"selected_option": option} if menu else {"value": value}),
        }
        trigger = state.issue_trigger(user).id
        if modal is not None:
            payload = payloads.block_actions_from_view(
                state, user=state.users[user], view=modal, actions=[action], trigger_id=trigger
            )
        else:
            message = state.post_message(
                channel,
                text="A copied button",
                blocks=[{"type": "actions", "block_id": "copied", "elements": [element]}],
                bot_id=state.bot_id,
            )
            url = state.issue_response_url(channel, user, message_ts=message.ts)
            payload = payloads.block_actions_from_message(
                state,
                user=state.users[user],
                message=message,
                actions=[action],
                trigger_id=trigger,
                response_url=self.slack.response_url(url.id),
            )
        return await self.slack.deliver("interactive", payload)

    async def command(self, user: str, channel: str, command: str, text: str) -> DeliveryResult:
        """A slash command "typed" in `channel` (a channel of this workspace), even by someone
        who could not type there."""
        state = self.state_of(user)
        url = state.issue_response_url(channel, user)
        fields = payloads.slash_command(
            state,
            user=state.users[user],
            channel=self.slack.state.channels[channel],
            command=command,
            text=text,
            response_url=self.slack.response_url(url.id),
            trigger_id=state.issue_trigger(user).id,
        )
        return await self.slack.deliver("slash_commands", fields)

    async def submit(self, user: str, modal: View) -> DeliveryResult:
        state = self.state_of(user)
        payload = payloads.view_submission(
            state, user=state.users[user], view=modal, trigger_id=state.issue_trigger(user).id
        )
        return await self.slack.deliver("interactive", payload)

    # -- acting as the people a scene needs ----------------------------------------------

    async def as_person(
        self, user: str, scene: Scene, action_id: str, value: str, *, menu: bool = False
    ) -> None:
        """A click by someone allowed, that must work (setting up a scene or a case)."""
        start = len(self.slack.calls)
        result = await self.click(user, scene.channel, action_id, value, menu=menu)
        told = " ".join([result.body, *(json.dumps(c.params) for c in self.slack.calls[start:])])
        assert result.ok and OUR_FAULT not in told and NOT_A_MEMBER not in told, told

    def top_modal(self, user: str) -> View:
        modal = self.slack.state.top_modal(user)
        assert modal is not None, f"{user} has no modal open"
        return modal

    # -- one case -------------------------------------------------------------------------

    async def reset(self) -> None:
        """Back to the world as built, for a test of its own."""
        if self.dirty or self.holding:
            await restore(self.world.hearth.engine, self.base)
            self.world.clock.set(START)
        self.holding, self.dirty, self.modal, self.rows = (), False, None, None

    async def prepare(self, entry: Entry, role: Role) -> View | None:
        """Bring the database to the entry's starting point (undoing the last case's change)
        and open the modal it needs, if any."""
        player = PLAYERS[role]
        scene = self.scenes[player.scene]
        wanted = (player.scene, *(g.__name__ for g in entry.given)) if entry.given else ()
        if self.dirty or self.holding != wanted:
            self.rows = None
            if self.dirty or self.holding:
                await restore(self.world.hearth.engine, self.base)
                self.world.clock.set(START)
                self.modal = None
            for given in entry.given:
                await given(self, scene)
            self.holding, self.dirty = wanted, False
        opening = (
            entry.request.modal
            if isinstance(entry.request, Submit)
            else entry.request.in_modal
            if isinstance(entry.request, Click)
            else None
        )
        if opening is None:
            return None
        who = self.opener(entry, role, scene)
        key = (*wanted, player.scene, who)
        if self.modal is not None and self.modal[:2] == (key, entry.id):
            return self.modal[2]
        self.rows = None
        modal = await opening(self, scene, who)
        self.modal = (key, entry.id, modal)
        return modal

    @staticmethod
    def opener(entry: Entry, role: Role, scene: Scene) -> str:
        player = PLAYERS[role]
        if entry.own and not player.elsewhere:
            return player.user  # their own data, opened by themselves
        return scene.lead if entry.opener is Role.LEAD else scene.facilitator

    async def send(self, entry: Entry, role: Role) -> Sent:
        modal = await self.prepare(entry, role)
        player = PLAYERS[role]
        scene = self.scenes[player.scene]
        request = entry.request
        before = self.rows or await dump(self.world.hearth.engine)
        start = len(self.slack.calls)
        if isinstance(request, Click):
            result = await self.click(
                player.user,
                player.sits_in,
                request.action_id,
                request.value(scene),
                menu=request.menu,
                modal=modal,
            )
        elif isinstance(request, Submit):
            assert modal is not None
            result = await self.submit(player.user, modal)
        else:
            text = request.text if isinstance(request.text, str) else request.text(scene)
            result = await self.command(player.user, scene.channel, request.command, text)
        await self.world.settle()
        after = await dump(self.world.hearth.engine)
        calls = self.slack.calls[start:]
        telling = [c for c in calls if tells(c, player.user)]
        told = " ".join([result.body, *(json.dumps(c.params, ensure_ascii=False) for c in telling)])
        quiet = all(c.method in LOOK_UPS or c in telling for c in calls)
        sent = Sent(result, calls, told, quiet, before, after)
        self.dirty = self.dirty or bool(sent.changed)
        self.rows = after
        return sent


def tells(call: Call, user: str) -> bool:
    """Whether a Slack call is hearth telling `user` something only they see."""
    params = call.params
    if call.method == "response_url":
        return True  # only the request's own: each case makes one
    if call.method == "chat.postEphemeral":
        return params.get("user") == user
    if call.method == "chat.postMessage":
        return params.get("channel") in (user, "D" + user[1:])
    if call.method == "views.publish":
        return params.get("user_id") == user
    return False


# --- building the scenes, as people would ----------------------------------------------------


async def run(m: Matrix, user: str, channel: str, command: str, text: str = "") -> None:
    result = await m.slack.user(user).run_command(command, text, channel=channel)
    assert result.ok, result


async def submit_open(m: Matrix, user: str, values: dict[str, Any] | None = None) -> None:
    person = m.slack.user(user)
    result = await person.submit(values)
    assert result.outcome in ("close", "clear", "update"), person.view and person.view.errors


async def build_scene(m: Matrix, scene: Scene) -> None:
    """The lead sets a weekly chat-meetup rota and health checks; the facilitator joins the
    rota first (so the next turn is theirs) and asks the lead to swap; one health check is
    closed (with an action recorded on it, so minutes exist) and another is open; the
    facilitator runs a Lean Coffee (two topics, a dot from each of the people) and a chat
    meetup."""
    ch, f, lead = scene.channel, scene.facilitator, scene.lead
    await run(m, lead, ch, "/rota", "schedule")
    await submit_open(m, lead, {"Format": "Time-boxed chat in Slack"})
    await run(m, f, ch, "/rota", "join")
    await run(m, lead, ch, "/rota", "join")
    await run(m, f, ch, "/rota", f"swap @{m.slack.state.users[lead].name}")

    await run(m, lead, ch, "/health-check")
    await submit_open(m, lead)
    await run(m, lead, ch, "/health-check", "now")
    async with m.world.hearth.deps.sessionmaker() as session:
        check = (
            await session.scalars(
                select(HealthCheck).where(HealthCheck.closed_at.is_(None)).order_by(HealthCheck.id)
            )
        ).all()[-1]
    await m.as_person(lead, scene, HealthAction.CLOSE_NOW, CheckRef(k=check.id).encode())
    await m.as_person(lead, scene, ActionsAction.RECORD_AFTER_CHECK, CheckRef(k=check.id).encode())
    await submit_open(
        m, lead, {"What will we do?": scene.titles["action"], "Who will do it?": lead}
    )
    await run(m, lead, ch, "/health-check", "now")

    await run(m, f, ch, "/lean-coffee")
    await submit_open(m, f, {"Name": scene.titles["lean coffee"]})
    await run(m, f, ch, "/lean-coffee", scene.titles["topic"])
    await run(m, f, ch, "/lean-coffee", scene.titles["other topic"])

    await run(m, f, ch, "/meetup")
    await submit_open(m, f, {"Prompts": scene.titles["prompt"]})
    await m.world.hearth.scheduler.run_due()
    await m.world.settle()
    await find_ids(m, scene)
    for voter in {f, lead, scene.bystander}:
        await m.as_person(
            voter, scene, LeanCoffeeAction.VOTE, TopicRef(s=scene.lc, t=scene.topic).encode()
        )


async def find_ids(m: Matrix, scene: Scene) -> None:
    """The ids of the scene's things, as an attacker would learn them from any button."""
    ch = scene.channel
    async with m.world.hearth.deps.sessionmaker() as s:
        lc = await s.scalar(select(LeanCoffeeSession).where(LeanCoffeeSession.channel_id == ch))
        assert lc is not None
        scene.lc = lc.id
        topics = (
            await s.scalars(
                select(LeanCoffeeTopic)
                .where(LeanCoffeeTopic.session_id == lc.id)
                .order_by(LeanCoffeeTopic.id)
            )
        ).all()
        scene.topic, scene.other_topic = topics[0].id, topics[1].id
        checks = (
            await s.scalars(
                select(HealthCheck)
                .join(Community, Community.id == HealthCheck.community_id)
                .where(Community.channel_id == ch)
            )
        ).all()
        scene.closed_check = next(c.id for c in checks if c.closed_at is not None)
        scene.open_check = next(c.id for c in checks if c.closed_at is None)
        open_check = next(c for c in checks if c.closed_at is None)
        scene.community = open_check.community_id
        scene.question = str(open_check.questions[0]["key"])
        meetup = await s.scalar(
            select(Meetup).where(Meetup.community_id == scene.community).order_by(Meetup.starts_at)
        )
        assert meetup is not None
        scene.meetup = meetup.id
        swap = await s.scalar(select(SwapRequest).where(SwapRequest.meetup_id == meetup.id))
        assert swap is not None
        scene.swap = swap.id
        action = await s.scalar(
            select(HealthCheckAction).where(HealthCheckAction.check_id == scene.closed_check)
        )
        assert action is not None
        scene.action = action.id
        minutes = await s.scalar(select(Minutes).where(Minutes.channel_id == ch))
        assert minutes is not None
        scene.minutes = minutes.id
        chat = await s.scalar(select(ChatMeetup).where(ChatMeetup.channel_id == ch))
        assert chat is not None
        scene.chat = chat.id


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Matrix]:
    """One world per database: both channels' things, made once and restored after each
    case that changed something."""
    schema: str | None = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('matrix') / 'hearth.db'}"
    else:
        server, schema = await _postgres_schema_url()
        url = f"{server}?options=-csearch_path%3D{schema}"
    clock = ManualClock(START)
    try:
        async with running_emulator(clock=clock) as slack:
            kiln = slack.add_workspace(second_workspace(clock))
            slack.state.add_user(LENA, "lena", "Lena Lund", tz="Europe/London")
            slack.state.channels[LEADS].members.add(LENA)
            async with running_hearth(slack, url, clock) as hearth:
                world = World(slack=slack, hearth=hearth, clock=clock, database_url=url)
                m = Matrix(world, kiln, scenes={})
                m.scenes[LEADS] = Scene(LEADS, ALICE, LENA, CAROL, titles=SECRETS_OF_LEADS)
                m.scenes[PRACTICE] = Scene(PRACTICE, ALICE, CAROL, BOB, titles=SAID_IN_PRACTICE)
                for scene in m.scenes.values():
                    await build_scene(m, scene)
                m.base = await dump(hearth.engine)
                yield m
    finally:
        if schema is not None:
            await _drop_schema(schema)


SECRETS_OF_LEADS = {
    "lean coffee": "Succession planning",
    "topic": "Budget cuts ahead",
    "other topic": "Reorg rumours",
    "prompt": "Who might leave next?",
    "action": "Draft the hiring freeze memo",
}
SAID_IN_PRACTICE = {
    "lean coffee": "Practice coffee",
    "topic": "Pairing habits",
    "other topic": "Docs day",
    "prompt": "What did you learn this week?",
    "action": "Book the docs day room",
}


# --- states some entries start from ------------------------------------------------------


async def lean_coffee_ended(m: Matrix, scene: Scene) -> None:
    await m.as_person(
        scene.facilitator, scene, LeanCoffeeAction.END_SESSION, SessionRef(s=scene.lc).encode()
    )


async def voting_closed(m: Matrix, scene: Scene) -> None:
    await m.as_person(
        scene.facilitator, scene, LeanCoffeeAction.CLOSE_VOTING, SessionRef(s=scene.lc).encode()
    )


async def discussing(m: Matrix, scene: Scene) -> None:
    """Voting closed and the first topic under discussion."""
    await voting_closed(m, scene)
    await m.as_person(
        scene.facilitator, scene, LeanCoffeeAction.START_NEXT, SessionRef(s=scene.lc).encode()
    )


async def keep_going_asked(m: Matrix, scene: Scene) -> None:
    """The topic's time is up: the "Keep going?" poll is out."""
    await discussing(m, scene)
    async with m.world.hearth.deps.sessionmaker() as s:
        topic = await s.get(LeanCoffeeTopic, scene.topic)
        assert topic is not None and topic.discussion_ends_at is not None
        ends_at = topic.discussion_ends_at
    await m.world.advance(ends_at - m.world.clock.now())
    async with m.world.hearth.deps.sessionmaker() as s:
        poll = await s.scalar(select(LeanCoffeePoll).where(LeanCoffeePoll.session_id == scene.lc))
        assert poll is not None
        scene.poll = poll.id


async def chat_meetup_ended(m: Matrix, scene: Scene) -> None:
    await m.as_person(
        scene.facilitator, scene, MeetupAction.END_NOW, ChatMeetupRef(m=scene.chat).encode()
    )


def name_of(user: str) -> str:
    return {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave", LENA: "lena"}[user]


async def second_lead(m: Matrix, scene: Scene) -> None:
    """The facilitator is made a lead too, so a lead can be removed."""
    await run(m, scene.lead, scene.channel, "/rota", f"lead @{name_of(scene.facilitator)}")


async def no_check_open(m: Matrix, scene: Scene) -> None:
    await m.as_person(
        scene.lead, scene, HealthAction.CLOSE_NOW, CheckRef(k=scene.open_check).encode()
    )


# --- modals some entries need, opened by someone allowed ----------------------------------


def opened_by_click(
    action_id: str, value: Value, fill: Callable[[Scene], dict[str, Any]] | None = None
) -> Opening:
    async def opening(m: Matrix, scene: Scene, who: str) -> View:
        await m.as_person(who, scene, action_id, value(scene))
        modal = m.top_modal(who)
        if fill is not None:
            m.slack.user(who).fill(fill(scene))
        return modal

    return opening


def opened_by_menu(value: Value, fill: Callable[[Scene], dict[str, Any]]) -> Opening:
    async def opening(m: Matrix, scene: Scene, who: str) -> View:
        await m.as_person(who, scene, LeanCoffeeAction.TOPIC_MENU, value(scene), menu=True)
        m.slack.user(who).fill(fill(scene))
        return m.top_modal(who)

    return opening


def opened_by_command(command: str, fill: Callable[[Scene], dict[str, Any]]) -> Opening:
    async def opening(m: Matrix, scene: Scene, who: str) -> View:
        await run(m, who, scene.channel, command)
        m.slack.user(who).fill(fill(scene))
        return m.top_modal(who)

    return opening


def community(scene: Scene) -> str:
    return CommunityRef(c=scene.community).encode()


def next_meetup(scene: Scene) -> str:
    return MeetupRef(c=scene.community, m=scene.meetup).encode()


def session(scene: Scene) -> str:
    return SessionRef(s=scene.lc).encode()


def first_topic(scene: Scene) -> str:
    return TopicRef(s=scene.lc, t=scene.topic).encode()


def chat(scene: Scene) -> str:
    return ChatMeetupRef(m=scene.chat).encode()


def topic_menu(do: str, *, other: bool = False) -> Value:
    def value(scene: Scene) -> str:
        topic = scene.other_topic if other else scene.topic
        return TopicMenuChoice(do=do, s=scene.lc, t=topic).encode()

    return value


def poll(scene: Scene) -> str:
    return PollRef(p=scene.poll).encode()


ALL_TOPICS = opened_by_click(LeanCoffeeAction.SHOW_ALL_TOPICS, session)
HEALTH_SETUP = opened_by_click(HealthAction.EDIT_SETUP, community)


async def question_form(m: Matrix, scene: Scene, who: str) -> View:
    """The set-up modal, then "Add a question" on it."""
    setup = await HEALTH_SETUP(m, scene, who)
    await m.click(who, scene.channel, HealthAction.QUESTION_MENU, "add:new", modal=setup)
    m.slack.user(who).fill({"Question": "Do we look after each other?"})
    return m.top_modal(who)


async def bobs_confirmation(m: Matrix, scene: Scene, who: str) -> View:
    """ "Delete your data?" as Bob sees it (he holds some, and nothing stops him): whoever
    submits it, only their own data can be what it is about."""
    return await delete_your_data(m, scene, BOB)


async def your_data(m: Matrix, scene: Scene, who: str) -> View:
    await m.click(who, RANDOM if who == DAVE else scene.channel, PersonalDataAction.SHOW, "")
    return m.top_modal(who)


async def delete_your_data(m: Matrix, scene: Scene, who: str) -> View:
    summary = await your_data(m, scene, who)
    await m.click(who, scene.channel, PersonalDataAction.DELETE, "", modal=summary)
    return m.top_modal(who)


# --- the matrix ------------------------------------------------------------------------------

ENTRIES: list[Entry] = [
    # Lean Coffee: anyone there takes part; the facilitator (or an admin) runs it.
    Entry(LeanCoffeeAction.PROPOSE, Click(LeanCoffeeAction.PROPOSE, session), ANYONE, Effect.OPENS),
    Entry(LeanCoffeeAction.VOTE, Click(LeanCoffeeAction.VOTE, first_topic), ANYONE),
    Entry(LeanCoffeeAction.UNVOTE, Click(LeanCoffeeAction.UNVOTE, first_topic), ANYONE),
    Entry(
        f"{LeanCoffeeAction.TOPIC_MENU}:{LeanCoffeeTopicMenu.EDIT}",
        Click(LeanCoffeeAction.TOPIC_MENU, topic_menu(LeanCoffeeTopicMenu.EDIT), menu=True),
        FACILITATOR_OR_ADMIN,  # or whoever proposed it (the facilitator, here)
        Effect.OPENS,
    ),
    Entry(
        f"{LeanCoffeeAction.TOPIC_MENU}:{LeanCoffeeTopicMenu.WITHDRAW}",
        Click(LeanCoffeeAction.TOPIC_MENU, topic_menu(LeanCoffeeTopicMenu.WITHDRAW), menu=True),
        FACILITATOR_OR_ADMIN,
    ),
    Entry(
        f"{LeanCoffeeAction.TOPIC_MENU}:{LeanCoffeeTopicMenu.MERGE}",
        Click(LeanCoffeeAction.TOPIC_MENU, topic_menu(LeanCoffeeTopicMenu.MERGE), menu=True),
        FACILITATOR_OR_ADMIN,
        Effect.OPENS,
    ),
    Entry(
        f"{LeanCoffeeAction.TOPIC_MENU}:{LeanCoffeeTopicMenu.TAKEAWAY}",
        Click(LeanCoffeeAction.TOPIC_MENU, topic_menu(LeanCoffeeTopicMenu.TAKEAWAY), menu=True),
        ANYONE,
        Effect.OPENS,
    ),
    Entry(
        LeanCoffeeAction.SHOW_ALL_TOPICS,
        Click(LeanCoffeeAction.SHOW_ALL_TOPICS, session),
        ANYONE,
        Effect.OPENS,
    ),
    Entry(
        LeanCoffeeAction.ALL_TOPICS_PAGE,
        Click(
            LeanCoffeeAction.ALL_TOPICS_PAGE,
            lambda s: LeanCoffeeModal(channel=s.channel, s=s.lc, page=0).encode(),
            in_modal=ALL_TOPICS,
        ),
        ANYONE,
        Effect.OPENS,
    ),
    Entry(
        LeanCoffeeAction.CLOSE_VOTING,
        Click(LeanCoffeeAction.CLOSE_VOTING, session),
        FACILITATOR_OR_ADMIN,
    ),
    Entry(
        LeanCoffeeAction.START_NEXT,
        Click(LeanCoffeeAction.START_NEXT, session),
        FACILITATOR_OR_ADMIN,
        given=(voting_closed,),
    ),
    Entry(
        LeanCoffeeAction.MOVE_ON,
        Click(LeanCoffeeAction.MOVE_ON, first_topic),
        FACILITATOR_OR_ADMIN,
        given=(discussing,),
    ),
    Entry(
        LeanCoffeeAction.EXTEND,
        Click(LeanCoffeeAction.EXTEND, first_topic),
        FACILITATOR_OR_ADMIN,
        given=(discussing,),
    ),
    Entry(
        LeanCoffeeAction.HAND_OVER,
        Click(LeanCoffeeAction.HAND_OVER, session),
        FACILITATOR_OR_ADMIN,
        Effect.OPENS,
    ),
    Entry(
        LeanCoffeeAction.END_SESSION,
        Click(LeanCoffeeAction.END_SESSION, session),
        FACILITATOR_OR_ADMIN,
    ),
    Entry(
        LeanCoffeeAction.ADD_TAKEAWAY,
        Click(LeanCoffeeAction.ADD_TAKEAWAY, first_topic),
        ANYONE,
        Effect.OPENS,
    ),
    *(
        Entry(choice, Click(choice, poll), ANYONE, given=(keep_going_asked,))
        for choice in (
            LeanCoffeeAction.KEEP_GOING,
            LeanCoffeeAction.EITHER_WAY,
            LeanCoffeeAction.WANT_MOVE_ON,
        )
    ),
    Entry(
        LeanCoffeeAction.DECIDE_NOW,
        Click(LeanCoffeeAction.DECIDE_NOW, poll),
        FACILITATOR_OR_ADMIN,
        given=(keep_going_asked,),
    ),
    Entry(
        LeanCoffeeView.START,
        Submit(LeanCoffeeView.START, opened_by_command("/lean-coffee", lambda s: {"Name": "Next"})),
        ANYONE,
        given=(lean_coffee_ended,),
    ),
    Entry(
        LeanCoffeeView.PROPOSE,
        Submit(
            LeanCoffeeView.PROPOSE,
            opened_by_click(LeanCoffeeAction.PROPOSE, session, lambda s: {"Topic": "Tea"}),
        ),
        ANYONE,
    ),
    Entry(
        LeanCoffeeView.EDIT_TOPIC,
        Submit(
            LeanCoffeeView.EDIT_TOPIC,
            opened_by_menu(topic_menu(LeanCoffeeTopicMenu.EDIT), lambda s: {"Topic": "Tea"}),
        ),
        FACILITATOR_OR_ADMIN,
    ),
    Entry(
        LeanCoffeeView.MERGE,
        Submit(
            LeanCoffeeView.MERGE,
            opened_by_menu(
                topic_menu(LeanCoffeeTopicMenu.MERGE, other=True),
                lambda s: {"Topic to keep": str(s.topic)},
            ),
        ),
        FACILITATOR_OR_ADMIN,
    ),
    Entry(
        LeanCoffeeView.TAKEAWAY,
        Submit(
            LeanCoffeeView.TAKEAWAY,
            opened_by_click(
                LeanCoffeeAction.ADD_TAKEAWAY, first_topic, lambda s: {"Takeaway": "Agreed"}
            ),
        ),
        ANYONE,
    ),
    Entry(
        LeanCoffeeView.HAND_OVER,
        Submit(
            LeanCoffeeView.HAND_OVER,
            opened_by_click(
                LeanCoffeeAction.HAND_OVER, session, lambda s: {"New facilitator": s.bystander}
            ),
        ),
        FACILITATOR_OR_ADMIN,
    ),
    Entry("/lean-coffee", Command("/lean-coffee"), ANYONE, Effect.SHOWS, "already running"),
    Entry("/lean-coffee <topic>", Command("/lean-coffee", "Snacks"), ANYONE),
    Entry(
        "/lean-coffee minutes",
        Command("/lean-coffee", "minutes"),
        ANYONE,
        Effect.SHOWS,
        "no Lean Coffee minutes",
    ),
    Entry("/lean-coffee history", Command("/lean-coffee", "history"), ANYONE, Effect.SHOWS, "Lean"),
    # The rota: anyone takes part; the next turn's facilitator confirms, skips or swaps it;
    # leads (and admins) look after the schedule.
    Entry(RotaAction.CONFIRM, Click(RotaAction.CONFIRM, next_meetup), {Role.FACILITATOR}),
    Entry(RotaAction.SKIP, Click(RotaAction.SKIP, next_meetup), FACILITATOR_OR_LEADS),
    Entry(RotaAction.SWAP, Click(RotaAction.SWAP, next_meetup), {Role.FACILITATOR}, Effect.OPENS),
    Entry(
        RotaAction.ACCEPT_SWAP,
        Click(RotaAction.ACCEPT_SWAP, lambda s: SwapRef(w=s.swap).encode()),
        {Role.LEAD},  # the one asked
    ),
    Entry(
        RotaAction.DECLINE_SWAP,
        Click(RotaAction.DECLINE_SWAP, lambda s: SwapRef(w=s.swap).encode()),
        {Role.LEAD},
    ),
    Entry(
        RotaAction.WITHDRAW_SWAP,
        Click(RotaAction.WITHDRAW_SWAP, lambda s: SwapAskedRef(w=s.swap).encode()),
        FACILITATOR_OR_LEADS,  # the one who asked, or a lead
    ),
    Entry(
        RotaAction.STEP_IN,
        Click(RotaAction.STEP_IN, next_meetup),
        {Role.MEMBER, Role.LEAD, Role.ADMIN},  # the facilitator already has the turn
    ),
    Entry(RotaAction.JOIN, Click(RotaAction.JOIN, community), ANYONE, Effect.SHOWS, "the rota"),
    Entry(RotaAction.LEAVE, Click(RotaAction.LEAVE, community), {Role.FACILITATOR, Role.LEAD}),
    Entry(RotaAction.AWAY, Click(RotaAction.AWAY, community), ANYONE, Effect.OPENS),
    Entry(RotaAction.STATS, Click(RotaAction.STATS, community), ANYONE, Effect.SHOWS, "times"),
    Entry(
        RotaAction.EDIT_SCHEDULE,
        Click(RotaAction.EDIT_SCHEDULE, community),
        LEADS_ONLY,
        Effect.OPENS,
    ),
    Entry(RotaAction.DELETE_SCHEDULE, Click(RotaAction.DELETE_SCHEDULE, community), LEADS_ONLY),
    Entry(RotaAction.CANCEL_MEETUP, Click(RotaAction.CANCEL_MEETUP, next_meetup), LEADS_ONLY),
    Entry(
        RotaAction.MOVE_MEETUP,
        Click(RotaAction.MOVE_MEETUP, next_meetup),
        LEADS_ONLY,
        Effect.OPENS,
    ),
    Entry(
        RotaView.SCHEDULE,
        Submit(
            RotaView.SCHEDULE,
            opened_by_click(
                RotaAction.EDIT_SCHEDULE, community, lambda s: {"Length in minutes": "45"}
            ),
        ),
        LEADS_ONLY,
        opener=Role.LEAD,
    ),
    Entry(
        RotaView.AWAY,
        Submit(
            RotaView.AWAY,
            opened_by_click(RotaAction.AWAY, community, lambda s: {"First day away": "2026-12-01"}),
        ),
        FACILITATOR_OR_LEADS,  # the facilitator opened it for herself; others need to be leads
    ),
    Entry(
        RotaView.SWAP,
        Submit(
            RotaView.SWAP,
            opened_by_click(RotaAction.SWAP, next_meetup, lambda s: {"Swap with": s.bystander}),
        ),
        {Role.FACILITATOR},
    ),
    Entry(
        RotaView.MOVE_MEETUP,
        Submit(
            RotaView.MOVE_MEETUP,
            opened_by_click(
                RotaAction.MOVE_MEETUP,
                next_meetup,
                lambda s: {RotaBlock.MOVE_DATE: "2026-12-02", RotaBlock.MOVE_TIME: "18:00"},
            ),
        ),
        LEADS_ONLY,
        opener=Role.LEAD,
    ),
    Entry("/rota", Command("/rota"), ANYONE, Effect.SHOWS, "Facilitation rota"),
    Entry("/rota schedule", Command("/rota", "schedule"), ANYONE, Effect.SHOWS, "schedule"),
    Entry("/rota join", Command("/rota", "join"), ANYONE, Effect.SHOWS, "the rota"),
    Entry("/rota leave", Command("/rota", "leave"), {Role.FACILITATOR, Role.LEAD}),
    Entry("/rota add", Command("/rota", "add @dave"), LEADS_ONLY),
    Entry("/rota remove", Command("/rota", "remove @lena"), LEADS_ONLY),
    Entry("/rota lead", Command("/rota", "lead @dave"), LEADS_ONLY),
    Entry(
        "/rota lead remove",
        Command("/rota", lambda s: f"lead remove @{name_of(s.facilitator)}"),
        FACILITATOR_OR_LEADS,  # the facilitator was made a second lead first
        given=(second_lead,),
    ),
    Entry("/rota skip", Command("/rota", "skip"), FACILITATOR_OR_LEADS),
    Entry("/rota swap", Command("/rota", "swap @bob"), {Role.FACILITATOR}),
    Entry("/rota away", Command("/rota", "away"), ANYONE, Effect.OPENS),
    Entry("/rota stats", Command("/rota", "stats"), ANYONE, Effect.SHOWS, "times"),
    # Health checks: anyone answers; leads (and admins) set them up and close them.
    Entry(
        f"{HealthAction.ANSWER}",
        Click(
            f"{HealthAction.ANSWER}.green",
            lambda s: AnswerRef(k=s.open_check, q=s.question, o="green").encode(),
        ),
        ANYONE,
    ),
    Entry(
        HealthAction.CLOSE_NOW,
        Click(HealthAction.CLOSE_NOW, lambda s: CheckRef(k=s.open_check).encode()),
        LEADS_ONLY,
    ),
    Entry(HealthAction.STOP_REMINDERS, Click(HealthAction.STOP_REMINDERS, community), ANYONE),
    Entry(
        HealthAction.EDIT_SETUP, Click(HealthAction.EDIT_SETUP, community), LEADS_ONLY, Effect.OPENS
    ),
    Entry(
        HealthAction.EDIT_SCHEDULE,
        Click(HealthAction.EDIT_SCHEDULE, community),
        LEADS_ONLY,
        Effect.OPENS,
    ),
    Entry(HealthAction.DELETE_SCHEDULE, Click(HealthAction.DELETE_SCHEDULE, community), LEADS_ONLY),
    Entry(
        HealthAction.RUN_NOW,
        Click(HealthAction.RUN_NOW, community),
        LEADS_ONLY,
        given=(no_check_open,),
    ),
    Entry(
        HealthAction.QUESTION_MENU,
        Click(
            HealthAction.QUESTION_MENU,
            lambda s: f"remove:{s.question}",
            menu=True,
            in_modal=HEALTH_SETUP,
        ),
        LEADS_ONLY,
        opener=Role.LEAD,
    ),
    Entry(
        HealthView.SETUP,
        Submit(
            HealthView.SETUP,
            opened_by_click(
                HealthAction.EDIT_SETUP,
                community,
                lambda s: {"Show results once at least this many answered": "4"},
            ),
        ),
        LEADS_ONLY,
        opener=Role.LEAD,
    ),
    Entry(
        HealthView.QUESTION,
        Submit(HealthView.QUESTION, question_form),
        LEADS_ONLY,
        opener=Role.LEAD,
    ),
    Entry(
        HealthView.SCHEDULE,
        Submit(
            HealthView.SCHEDULE,
            opened_by_click(
                HealthAction.EDIT_SCHEDULE,
                community,
                lambda s: {"How often": "Every week, or every few weeks"},
            ),
        ),
        LEADS_ONLY,
        opener=Role.LEAD,
    ),
    Entry("/health-check", Command("/health-check"), LEADS_ONLY, Effect.OPENS),
    Entry("/health-check now", Command("/health-check", "now"), LEADS_ONLY, given=(no_check_open,)),
    Entry(
        "/health-check schedule",
        Command("/health-check", "schedule"),
        ANYONE,
        Effect.SHOWS,
        "schedule",
    ),
    Entry(
        "/health-check results",
        Command("/health-check", "results"),
        ANYONE,
        Effect.SHOWS,
        "results",
    ),
    # Actions: the owner, whoever recorded it or ran the meeting, or a lead marks one done.
    Entry(
        ActionsAction.MARK_DONE,
        Click(ActionsAction.MARK_DONE, lambda s: ActionRef(a=s.action, s="health_check").encode()),
        LEADS_ONLY,  # Lena is its owner too
    ),
    Entry(
        ActionsAction.RECORD_AFTER_CHECK,
        Click(ActionsAction.RECORD_AFTER_CHECK, lambda s: CheckRef(k=s.closed_check).encode()),
        ANYONE,
        Effect.OPENS,
    ),
    Entry(
        ActionsView.RECORD_AFTER_CHECK,
        Submit(
            ActionsView.RECORD_AFTER_CHECK,
            opened_by_click(
                ActionsAction.RECORD_AFTER_CHECK,
                lambda s: CheckRef(k=s.closed_check).encode(),
                lambda s: {"What will we do?": "Say thanks", "Who will do it?": s.lead},
            ),
        ),
        ANYONE,
    ),
    # Minutes: anyone who may see the channel.
    Entry(
        MinutesAction.SHOW,
        Click(MinutesAction.SHOW, lambda s: MinutesRef(m=s.minutes).encode()),
        ANYONE,
        Effect.SHOWS,
        "health check",
    ),
    Entry("/minutes", Command("/minutes"), ANYONE, Effect.SHOWS, "health check"),
    Entry("/minutes export", Command("/minutes", "export"), ANYONE, Effect.SHOWS, "Done"),
    # Chat meetups: anyone joins in; its facilitator or a lead (or an admin) steers it.
    Entry(
        MeetupAction.POST_ANONYMOUSLY,
        Click(MeetupAction.POST_ANONYMOUSLY, chat),
        ANYONE,
        Effect.OPENS,
    ),
    Entry(
        MeetupAction.EXTEND, Click(MeetupAction.EXTEND, chat), FACILITATOR_OR_LEADS, Effect.OPENS
    ),
    Entry(MeetupAction.END_NOW, Click(MeetupAction.END_NOW, chat), FACILITATOR_OR_LEADS),
    Entry(MeetupAction.ADD_TAKEAWAY, Click(MeetupAction.ADD_TAKEAWAY, chat), ANYONE, Effect.OPENS),
    Entry(
        MeetupView.START,
        Submit(MeetupView.START, opened_by_command("/meetup", lambda s: {"Prompts": "Hello?"})),
        ANYONE,
        given=(chat_meetup_ended,),
    ),
    Entry(
        MeetupView.ANONYMOUS,
        Submit(
            MeetupView.ANONYMOUS,
            opened_by_click(
                MeetupAction.POST_ANONYMOUSLY, chat, lambda s: {"Your reply": "Quietly: yes"}
            ),
        ),
        ANYONE,
    ),
    Entry(
        MeetupView.TAKEAWAY,
        Submit(
            MeetupView.TAKEAWAY,
            opened_by_click(
                MeetupAction.ADD_TAKEAWAY, chat, lambda s: {"Takeaway or action": "Noted"}
            ),
        ),
        ANYONE,
    ),
    Entry(
        MeetupView.EXTEND,
        Submit(
            MeetupView.EXTEND,
            opened_by_click(
                MeetupAction.EXTEND, chat, lambda s: {"How much longer?": "15 minutes"}
            ),
        ),
        FACILITATOR_OR_LEADS,
    ),
    Entry("/meetup", Command("/meetup"), ANYONE, Effect.SHOWS, "already running"),
    Entry(
        MeetupPlanAction.CHOOSE_PROMPTS,
        Click(MeetupPlanAction.CHOOSE_PROMPTS, next_meetup),
        FACILITATOR_OR_LEADS,
        Effect.OPENS,
    ),
    Entry(
        MeetupPlanView.PLAN,
        Submit(
            MeetupPlanView.PLAN,
            opened_by_click(
                MeetupPlanAction.CHOOSE_PROMPTS, next_meetup, lambda s: {"Prompts": "Why?"}
            ),
        ),
        FACILITATOR_OR_LEADS,
    ),
    # A person's own data: anyone in the workspace, about themselves only.
    Entry(
        PersonalDataAction.SHOW,
        Click(PersonalDataAction.SHOW, lambda s: ""),
        ANYONE,
        Effect.OPENS,
        own=True,
    ),
    Entry(
        PersonalDataAction.DELETE,
        Click(PersonalDataAction.DELETE, lambda s: "", in_modal=your_data),
        ANYONE,
        Effect.OPENS,
        own=True,
    ),
    Entry(
        PersonalDataView.CONFIRM,
        Submit(PersonalDataView.CONFIRM, bobs_confirmation),
        ANYONE,
        Effect.OPENS,
        own=True,
    ),
]

# Ids in bot/ids.py with nothing to authorize, and why.
NOTHING_TO_AUTHORIZE = {
    HomeAction.OPEN_LINK: "a link button: Slack opens the page, and the click is only acknowledged",
    LeanCoffeeView.ALL_TOPICS: "a modal without a submit button: Slack never sends it",
    PersonalDataView.SUMMARY: "a modal without a submit button: Slack never sends it",
    PersonalDataView.DONE: "a modal without a submit button: Slack never sends it",
}
# Commands checked by their own test below, because they answer everyone, differently.
ELSEWHERE_IN_THIS_FILE = {
    "/minutes <words>": "test_searching_minutes_keeps_a_private_channel_to_its_members"
}


def order_of_play(entry: Entry) -> list[Role]:
    """#leads' people first, refusals before effects, so the database is restored as seldom
    as possible; then Bob in #practice."""
    return sorted(
        Role,
        key=lambda r: (PLAYERS[r].scene != LEADS, entry.expected(r) is Outcome.DONE, r.value),
    )


def case_id(entry: Entry, role: Role) -> str:
    kind = {Click: "click", Submit: "modal", Command: "command"}[type(entry.request)]
    return f"{kind} {entry.id} by {role}"


CASES = [
    pytest.param(entry, role, id=case_id(entry, role))
    for entry in ENTRIES
    for role in order_of_play(entry)
]


def enum_values(suffix: str) -> set[str]:
    """Every id of bot/ids.py's enums named `*<suffix>` (`Action`: action_ids; `View`:
    callback_ids)."""
    return {
        str(member)
        for name, value in vars(ids).items()
        if isinstance(value, type) and issubclass(value, StrEnum) and name.endswith(suffix)
        for member in value
    }


def test_every_action_modal_and_command_is_in_the_matrix() -> None:
    """An action, a modal or a command added without a line saying who may use it fails
    here, and so does a line for something hearth no longer has."""
    clicked = {e.request.action_id for e in ENTRIES if isinstance(e.request, Click)}
    submitted = {e.request.callback_id for e in ENTRIES if isinstance(e.request, Submit)}
    typed = {e.id for e in ENTRIES if isinstance(e.request, Command)}
    typed |= set(ELSEWHERE_IN_THIS_FILE)

    def has_line(action_id: str) -> bool:  # answers carry their choice after a dot
        return any(c == action_id or c.startswith(f"{action_id}.") for c in clicked)

    actions, modals = enum_values("Action"), enum_values("View")
    assert {a for a in actions if not has_line(a)} - set(NOTHING_TO_AUTHORIZE) == set()
    assert modals - submitted - set(NOTHING_TO_AUTHORIZE) == set()
    assert {c for c in clicked if not any(c.startswith(a) for a in actions)} == set()
    menu = {e.id for e in ENTRIES if e.id.startswith(f"{LeanCoffeeAction.TOPIC_MENU}:")}
    assert menu == {f"{LeanCoffeeAction.TOPIC_MENU}:{do}" for do in LeanCoffeeTopicMenu}

    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {line.split(" ")[0] for line in typed}
    rota_verbs = {f"/rota {verb}" for verb in rota_subcommands() if verb not in ("", "show")}
    assert rota_verbs - typed == set(), "/rota words with no line in the matrix"


def rota_subcommands() -> set[str]:
    """The /rota words `handlers.rota` answers (its SUBCOMMANDS table)."""
    import ast

    import handlers.rota

    tree = ast.parse(Path(handlers.rota.__file__).read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "SUBCOMMANDS"
            and isinstance(node.value, ast.Dict)
        ):
            return {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    raise AssertionError("no SUBCOMMANDS in handlers/rota.py")


@on_the_modules_loop
@pytest.mark.parametrize(("entry", "role"), CASES)
async def test_the_matrix(matrix: Matrix, entry: Entry, role: Role) -> None:
    expected = entry.expected(role)
    scene = matrix.scenes[PLAYERS[role].scene]
    sent = await matrix.send(entry, role)
    told = sent.told
    what = f"{entry.id} by the {role}: expected {expected}; told {told[:600]!r}"
    assert OUR_FAULT not in told, what
    if expected is Outcome.DONE:
        assert NOT_A_MEMBER not in told and ANOTHER_WORKSPACE not in told, what
        assert '"errors"' not in sent.result.body, what
        if entry.effect is Effect.CHANGES:
            assert sent.changed, f"nothing changed: {what}"
        elif entry.effect is Effect.OPENS:
            assert sent.opened, f"no modal opened: {what}"
        else:
            assert entry.shows.lower() in told.lower(), f"not shown {entry.shows!r}: {what}"
        return
    assert sent.changed == [], f"changed {sent.changed}: {what}"
    assert sent.quiet, f"sent {[c.method for c in sent.calls]}: {what}"
    if expected is Outcome.ROLE:
        assert told.strip() and NOT_A_MEMBER not in told and ANOTHER_WORKSPACE not in told, what
        return
    if expected is Outcome.MEMBERS_ONLY:
        assert NOT_A_MEMBER in told and "#leads" in told, what
    else:
        # Slack gives no way to answer a click inside a modal of another workspace.
        in_modal = isinstance(entry.request, Click) and entry.request.in_modal is not None
        assert ANOTHER_WORKSPACE in told or (in_modal and not told.strip()), what
    for secret in scene.secrets:
        assert secret not in told, f"{secret!r} shown: {what}"


# --- the same, told as stories ---------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module")
async def fresh(matrix: Matrix) -> AsyncIterator[Matrix]:
    """The world as built; whatever the test changes is undone before the next case."""
    await matrix.reset()
    yield matrix
    matrix.dirty, matrix.rows = True, None


@on_the_modules_loop
async def test_a_vote_button_copied_from_the_leads_board_counts_for_nothing(
    fresh: Matrix,
) -> None:
    """Dave is not in #leads. He gets hold of a real Vote button from its board (its value
    is just two small numbers), pastes it into #random and clicks it there."""
    matrix = fresh
    slack, dave = matrix.slack, matrix.slack.user(DAVE)

    def votes_on(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e.element for e in elements(blocks) if e.action_id == LeanCoffeeAction.VOTE]

    board = next(m for m in slack.user(ALICE).messages(LEADS) if votes_on(m.blocks))
    live = slack.state.find_message(LEADS, board.ts)
    assert live is not None
    vote = votes_on(live.blocks)[0]  # "Vote" on the first topic: {"s": …, "t": …}
    slack.state.post_message(
        RANDOM,
        text="look what I found",
        blocks=[{"type": "actions", "block_id": "copied", "elements": [vote]}],
        bot_id=slack.state.bot_id,
    )
    before = await dump(matrix.world.hearth.engine)

    result = await dave.click(dave.last_message(RANDOM), "Vote")

    assert result.ok
    assert changed_tables(before, await dump(matrix.world.hearth.engine)) == []
    (note,) = [m.readable_text for m in dave.messages(RANDOM) if m.ephemeral][-1:]
    assert note == (
        "#leads is a private channel you're not in, so you can't vote there. "
        "Ask someone in it to invite you."
    )
    assert slack.state.find_message(LEADS, board.ts) is not None
    assert slack.state.find_message(LEADS, board.ts).blocks == live.blocks  # type: ignore[union-attr]


@on_the_modules_loop
async def test_searching_minutes_keeps_a_private_channel_to_its_members(
    fresh: Matrix,
) -> None:
    """Search answers everyone, from anywhere: with what each of them may see."""
    matrix = fresh
    secret = SECRETS_OF_LEADS["action"]
    for user, channel, sees in (
        (LENA, LEADS, True),
        (CAROL, PRACTICE, True),
        (BOB, PRACTICE, False),
        (DAVE, RANDOM, False),
    ):
        start = len(matrix.slack.calls)
        result = await matrix.command(user, channel, "/minutes", "hiring freeze")
        told = " ".join([result.body, *(json.dumps(c.params) for c in matrix.slack.calls[start:])])
        assert (secret in told) is sees, (user, told)


@on_the_modules_loop
async def test_another_workspace_naming_a_public_channel_gets_nothing(fresh: Matrix) -> None:
    """#practice is open to anyone in this workspace, and to nobody from another: Erin's
    commands and a start form claiming #practice change nothing and post nothing there."""
    matrix = fresh
    slack = matrix.slack
    before = await dump(matrix.world.hearth.engine)
    messages = len(slack.state.messages_in(PRACTICE))
    start = len(slack.calls)
    for command, text in (("/rota", "join"), ("/lean-coffee", "Snacks"), ("/meetup", "")):
        result = await matrix.command(ERIN, PRACTICE, command, text)
        assert ANOTHER_WORKSPACE in result.body
    start_form = View(
        id="V0FORGED",
        team_id=OtherSeed.TEAM,
        user_id=ERIN,
        type="modal",
        callback_id=LeanCoffeeView.START,
        private_metadata=LeanCoffeeModal(channel=PRACTICE).encode(),
    )
    result = await matrix.submit(ERIN, start_form)
    assert ANOTHER_WORKSPACE in result.body

    assert changed_tables(before, await dump(matrix.world.hearth.engine)) == []
    assert len(slack.state.messages_in(PRACTICE)) == messages
    assert {c.method for c in slack.calls[start:]} <= {"response_url"}


@on_the_modules_loop
async def test_a_channel_hearth_was_removed_from_gets_a_kind_refusal(fresh: Matrix) -> None:
    """Slack won't say who is in a private channel hearth has left: nobody may act there
    (no error, no change), until it is invited back."""
    matrix = fresh
    leads = matrix.slack.state.channels[LEADS]
    scene = matrix.scenes[LEADS]
    access = matrix.world.hearth.deps.access
    leads.members.discard(matrix.slack.state.bot_user_id)
    access.forget()
    try:
        before = await dump(matrix.world.hearth.engine)
        result = await matrix.click(
            ALICE, RANDOM, LeanCoffeeAction.VOTE, TopicRef(s=scene.lc, t=scene.topic).encode()
        )
        assert result.ok
        assert changed_tables(before, await dump(matrix.world.hearth.engine)) == []
        note = [m.readable_text for m in matrix.slack.user(ALICE).messages(RANDOM)][-1]
        assert note.startswith("I can't reach that channel any more")
        assert "`/invite @hearth`" in note
    finally:
        leads.members.add(matrix.slack.state.bot_user_id)
        access.forget()
