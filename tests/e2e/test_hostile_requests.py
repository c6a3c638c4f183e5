"""Requests hearth must never act on, sent to the real app over HTTP, on SQLite and PostgreSQL.

Each hostile request is built from a request that would do something if hearth took it in: a
vote click that would store a dot, a command that would add a topic, a modal submission, an
event that would redraw someone's Home tab. Each names a live `response_url` and a real person,
so any reply or DM would show up in the emulator's record of calls. Then it is broken: not
signed, signed wrongly, stale, or signed but malformed. For every one the answer must be 401 or
400, with no call to Slack, no change in the database, no ERROR or traceback in the log, and
nothing of the body in any log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import models.all
from bot.clock import ManualClock
from bot.emulator import payloads
from bot.emulator.seed import Seed
from bot.emulator.server import SlackEmulator
from bot.server import EVENTS_PATH, checked_socket_mode_handler, create_web_app
from models.lean_coffee import LeanCoffeeVote
from tests.e2e.conftest import World, running_hearth
from tests.e2e.helpers import board, propose, start_session

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
# Put into every hostile body, so a log line that repeats any of it is easy to spot.
CANARY = "canary-7f3a"
TOPIC = "Plain language"


# -- signing, as Slack does it (written out here, not borrowed from the code under test) ----


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def now_stamp(offset: int = 0) -> str:
    return str(int(time.time()) + offset)


@dataclass
class Hostile:
    """One request to send, and what hearth must answer."""

    name: str
    body: bytes
    headers: dict[str, str]
    status: int


def signed(
    name: str, body: bytes | str, content_type: str | None, secret: str, *, status: int = 400
) -> Hostile:
    raw = body.encode() if isinstance(body, str) else body
    timestamp = now_stamp()
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature_of(secret, timestamp, raw),
    }
    if content_type is not None:
        headers["Content-Type"] = content_type
    return Hostile(name, raw, headers, status)


def form(fields: dict[str, str]) -> str:
    return urlencode(fields)


def interactive(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# -- the app, served over HTTP as in production -----------------------------------------------


@dataclass
class Scene:
    """A Lean Coffee with one topic and one real vote, and the requests that would do more."""

    world: World
    url: str
    http: aiohttp.ClientSession
    vote_click: dict[str, Any]  # Carol voting for the topic: would store a dot
    vote_form: str  # Bob's real vote click, exactly as Slack signed it (already taken in)
    vote_headers: dict[str, str]
    command: dict[str, str]  # Carol proposing a topic: would store a topic
    submission: dict[str, Any]  # Carol's filled "Propose a topic" modal: would store a topic
    home_event: dict[str, Any]  # Carol opening Home: would publish her Home tab

    @property
    def slack(self) -> SlackEmulator:
        return self.world.slack

    @property
    def secret(self) -> str:
        return self.slack.signing_secret

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.text()


async def snapshot(engine: AsyncEngine) -> dict[str, list[str]]:
    """Every row of every table, to show a request changed nothing."""
    rows: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for table in models.all.Base.metadata.sorted_tables:
            result = await connection.execute(select(table))
            rows[table.name] = sorted(repr(tuple(row)) for row in result)
    return rows


async def votes(world: World) -> int:
    async with world.hearth.deps.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(LeanCoffeeVote)) or 0)


@pytest.fixture
async def scene(
    slack: SlackEmulator, empty_database: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Scene]:
    async with running_hearth(slack, empty_database, clock, serve=False) as hearth:
        runner = web.AppRunner(create_web_app(hearth.app, engine=hearth.engine))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
        slack.set_request_url(url)
        world = World(slack=slack, hearth=hearth, clock=clock, database_url=empty_database)
        try:
            async with aiohttp.ClientSession() as http:
                yield await _set_the_scene(world, url, http, monkeypatch)
        finally:
            await runner.cleanup()


async def _set_the_scene(
    world: World, url: str, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> Scene:
    slack, state = world.slack, world.slack.state
    await start_session(world)
    await propose(world, Seed.BOB, TOPIC)

    # Bob's vote, recorded exactly as the emulator signed it.
    sent: list[tuple[str, dict[str, str]]] = []
    sign = slack.builder.sign

    def recording(body: str, content_type: str) -> tuple[str, dict[str, str]]:
        sent.append(sign(body, content_type))
        return sent[-1]

    monkeypatch.setattr(slack.builder, "sign", recording)
    await slack.user(Seed.BOB).click(board(world), "Vote", near=TOPIC)
    monkeypatch.undo()
    vote_form, vote_headers = sent[-1]
    assert await votes(world) == 1

    bob_click = json.loads(dict(parse_qsl(vote_form))["payload"])
    carol = state.users[Seed.CAROL]
    reply_to = state.issue_response_url(
        Seed.PRACTICE, Seed.CAROL, message_ts=bob_click["container"]["message_ts"]
    )
    vote_click = {
        **bob_click,
        "user": {**bob_click["user"], "id": Seed.CAROL, "username": "carol", "name": "carol"},
        "trigger_id": state.issue_trigger(Seed.CAROL).id,
        "response_url": slack.response_url(reply_to.id),
        "canary": CANARY,
    }
    command = payloads.slash_command(
        state,
        user=carol,
        channel=state.channels[Seed.PRACTICE],
        command="/lean-coffee",
        text=f"A topic {CANARY}",
        response_url=slack.response_url(state.issue_response_url(Seed.PRACTICE, Seed.CAROL).id),
        trigger_id=state.issue_trigger(Seed.CAROL).id,
    )
    carol_person = slack.user(Seed.CAROL)
    await carol_person.click(board(world), "Propose a topic")
    carol_person.fill({"Topic": f"Another topic {CANARY}"})
    modal = state.top_modal(Seed.CAROL)
    assert modal is not None
    submission = payloads.view_submission(
        state, user=carol, view=modal, trigger_id=state.issue_trigger(Seed.CAROL).id
    )
    home_event = payloads.event_callback(
        state,
        {
            "type": "app_home_opened",
            "user": Seed.CAROL,
            "channel": state.im_with(Seed.CAROL).id,
            "tab": "home",
            "canary": CANARY,
        },
    )
    await world.settle()
    return Scene(
        world, url, http, vote_click, vote_form, vote_headers, command, submission, home_event
    )


# -- what must hold for each -----------------------------------------------------------------


async def send_and_check(
    scene: Scene,
    cases: list[Hostile],
    caplog: pytest.LogCaptureFixture,
    subtests: pytest.Subtests,
) -> None:
    """Send each case; check its status, that nothing was sent or stored, and the log."""
    caplog.set_level(logging.INFO)
    before = await snapshot(scene.world.hearth.engine)
    calls = len(scene.slack.calls)
    for case in cases:
        with subtests.test(msg=case.name):
            caplog.clear()
            status, text = await scene.post(case.body, case.headers)
            await scene.world.settle()

            assert status == case.status, text
            assert json.loads(text)["ok"] is False
            assert scene.slack.calls[calls:] == [], "hearth called Slack"
            assert await snapshot(scene.world.hearth.engine) == before
            assert_quiet_log(caplog, case.body)
    await asyncio.sleep(0.2)  # anything started in the background would have called by now
    assert scene.slack.calls[calls:] == []


def assert_quiet_log(caplog: pytest.LogCaptureFixture, body: bytes = b"") -> None:
    for record in caplog.records:
        line = record.getMessage()
        assert record.levelno < logging.ERROR, line
        assert record.exc_info is None, line
        assert CANARY not in line, f"a refused body was logged: {line}"
        if len(body) > 20:
            assert body.decode("utf-8", "replace")[:60] not in line


# -- 1. not from Slack: 401, and nothing else ------------------------------------------------


def unsigned_cases(scene: Scene) -> list[Hostile]:
    """Every way of not being signed by Slack just now, for four requests that would act."""
    secret = scene.secret
    bodies = {
        "vote click": (interactive(scene.vote_click), FORM),
        "slash command": (form(scene.command), FORM),
        "modal submission": (interactive(scene.submission), FORM),
        "event": (json.dumps(scene.home_event), JSON_TYPE),
    }
    cases: list[Hostile] = []
    for what, (text, content_type) in bodies.items():
        raw = text.encode()

        def case(
            name: str,
            headers: dict[str, str],
            *,
            body: bytes = raw,
            what: str = what,
            content_type: str = content_type,
        ) -> Hostile:
            return Hostile(f"{what}: {name}", body, {"Content-Type": content_type, **headers}, 401)

        good = now_stamp()
        right = signature_of(secret, good, raw)
        # A non-numeric timestamp: Bolt's check raised, and hearth's error handler then
        # replied to the response_url (or DMed the user) the unverified body named.
        odd = ("abc", "1e3", "-1", "", " 123", "1.5", "+" + good, " " + good, "0x10", "1_796_0")
        for timestamp in odd:
            cases.append(
                case(
                    f"timestamp {timestamp!r}",
                    {
                        "X-Slack-Request-Timestamp": timestamp,
                        "X-Slack-Signature": signature_of(secret, timestamp, raw),
                    },
                )
            )
        # Just outside the window, with a minute's margin for the time the test takes.
        for label, offset in (("stale", -301), ("an hour old", -3600), ("future", 360)):
            stamp = now_stamp(offset)
            cases.append(
                case(
                    f"{label} timestamp, signed with the right secret",
                    {
                        "X-Slack-Request-Timestamp": stamp,
                        "X-Slack-Signature": signature_of(secret, stamp, raw),
                    },
                )
            )
        cases += [
            case("no headers at all", {}),
            case("no signature", {"X-Slack-Request-Timestamp": good}),
            case("no timestamp", {"X-Slack-Signature": right}),
            case("empty signature", {"X-Slack-Request-Timestamp": good, "X-Slack-Signature": ""}),
            case(
                "someone else's secret",
                {
                    "X-Slack-Request-Timestamp": good,
                    "X-Slack-Signature": signature_of("not-our-secret", good, raw),
                },
            ),
            case(
                "signature for another timestamp",
                {
                    "X-Slack-Request-Timestamp": good,
                    "X-Slack-Signature": signature_of(secret, now_stamp(-1), raw),
                },
            ),
            case(
                "body changed after signing",
                {"X-Slack-Request-Timestamp": good, "X-Slack-Signature": right},
                body=raw + b"&x=1",
            ),
            case(
                "upper-case signature",
                {"X-Slack-Request-Timestamp": good, "X-Slack-Signature": right.upper()},
            ),
            case(
                "v1 signature",
                {"X-Slack-Request-Timestamp": good, "X-Slack-Signature": "v1" + right[2:]},
            ),
            case(
                "signature without its version",
                {"X-Slack-Request-Timestamp": good, "X-Slack-Signature": right[3:]},
            ),
        ]
    return cases


async def test_unsigned_requests_are_refused_and_nothing_is_sent(
    scene: Scene, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    cases = unsigned_cases(scene)
    assert len(cases) >= 80
    await send_and_check(scene, cases, caplog, subtests)


async def test_unsigned_garbage_is_refused_before_it_is_read(
    scene: Scene, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    """Junk that used to reach the parser (and answer 500) is refused for its signature."""
    headers = {"X-Slack-Request-Timestamp": now_stamp(), "X-Slack-Signature": "v0=" + "0" * 64}
    cases = [
        Hostile(name, body, {**headers, "Content-Type": content_type}, 401)
        for name, body, content_type in garbage()
    ]
    cases.append(Hostile("no signature, junk", b"\x00\xff" + CANARY.encode(), {}, 401))
    await send_and_check(scene, cases, caplog, subtests)


def garbage() -> list[tuple[str, bytes, str]]:
    """Bodies no listener could read, whoever signed them."""
    payload = f"payload=%7B%22type%22%3A%22block_actions%22%2C%22c%22%3A%22{CANARY}%22"
    return [
        ("payload is not JSON", f"payload=not+json+{CANARY}".encode(), FORM),
        ("payload is a list", f"payload=%5B%22{CANARY}%22%5D".encode(), FORM),
        ("payload is a string", f"payload=%22{CANARY}%22".encode(), FORM),
        ("payload is a number", f"payload=5&note={CANARY}".encode(), FORM),
        ("payload is null", f"payload=null&note={CANARY}".encode(), FORM),
        ("payload is true", f"payload=true&note={CANARY}".encode(), FORM),
        ("payload holds NaN", f"{payload}%2C%22n%22%3ANaN%7D".encode(), FORM),
        ("payload 5,000 deep", f"payload={quote(deep(5000))}&note={CANARY}".encode(), FORM),
        ("payload 100 deep", f"payload={quote(deep(100))}&note={CANARY}".encode(), FORM),
        ("broken percent-escape", f"payload=%zz{CANARY}".encode(), FORM),
        ("cut-off percent-escape", f"command=%2&text={CANARY}".encode(), FORM),
        ("escape of invalid UTF-8", f"command=%2Flean-coffee&text=%ff%fe{CANARY}".encode(), FORM),
        ("raw invalid UTF-8", b"command=/lean-coffee&text=\xff\xfe" + CANARY.encode(), FORM),
        ("a field twice", f"command=%2Flean-coffee&command=%2Frota&text={CANARY}".encode(), FORM),
        ("a field without a value", f"command&text={CANARY}".encode(), FORM),
        ("an empty field", f"command=%2Flean-coffee&&text={CANARY}".encode(), FORM),
        ("empty form", b"", FORM),
        (
            "JSON that is not JSON",
            f'{{"type": "event_callback", "c": "{CANARY}"'.encode(),
            JSON_TYPE,
        ),
        ("JSON list", f'["{CANARY}"]'.encode(), JSON_TYPE),
        ("JSON string", f'"{CANARY}"'.encode(), JSON_TYPE),
        ("JSON number", b"12345", JSON_TYPE),
        ("JSON null", b"null", JSON_TYPE),
        ("JSON 5,000 deep", deep(5000).encode(), JSON_TYPE),
        ("JSON with a byte-order mark", f'\ufeff{{"c": "{CANARY}"}}'.encode(), JSON_TYPE),
        ("JSON in Latin-1", f'{{"c": "{CANARY}\xe9"}}'.encode("latin-1"), JSON_TYPE),
        ("JSON with Infinity", f'{{"c": "{CANARY}", "n": Infinity}}'.encode(), JSON_TYPE),
        ("binary", b"\x89PNG\r\n\x1a\n\x00\x00" + CANARY.encode(), "image/png"),
        ("octet stream", b"\x00\x01\x02" + CANARY.encode() + b"\xff", "application/octet-stream"),
        ("a form sent as text", f"command=%2Flean-coffee&text={CANARY}".encode(), "text/plain"),
    ]


# -- 2. signed by Slack but malformed: 400, never 500 ----------------------------------------


def malformed_cases(scene: Scene) -> list[Hostile]:
    secret = scene.secret
    click, command, submission = scene.vote_click, scene.command, scene.submission
    event = scene.home_event
    action = click["actions"][0]

    def click_with(**changes: Any) -> str:
        return interactive({**click, **changes})

    def without(mapping: dict[str, Any], name: str) -> dict[str, Any]:
        return {k: v for k, v in mapping.items() if k != name}

    def view_with(view: dict[str, Any]) -> str:
        return interactive({**submission, "view": view, "canary": CANARY})

    bodies: list[tuple[str, str | bytes, str | None]] = [
        (name, body, content_type) for name, body, content_type in garbage()
    ]
    bodies += [
        ("no content type", f"command=%2Flean-coffee&text={CANARY}".encode(), None),
        # slash commands
        *(
            (f"slash command without {field}", form(without(command, field)), FORM)
            for field in ("command", "team_id", "user_id", "channel_id", "trigger_id")
        ),
        ("slash command with an empty command", form({**command, "command": ""}), FORM),
        ("slash command with an empty user", form({**command, "user_id": ""}), FORM),
        # block_actions: the vote click, broken
        ("actions: []", click_with(actions=[]), FORM),
        ("actions is not a list", click_with(actions=CANARY), FORM),
        ("an action is not an object", click_with(actions=[CANARY]), FORM),
        ("an action without action_id", click_with(actions=[without(action, "action_id")]), FORM),
        ("action_id is a number", click_with(actions=[{**action, "action_id": 5}]), FORM),
        ("an action's value is a number", click_with(actions=[{**action, "value": 5}]), FORM),
        ("no actions", interactive(without(click, "actions")), FORM),
        ("user id is null", click_with(user={**click["user"], "id": None}), FORM),
        ("user id is empty", click_with(user={**click["user"], "id": ""}), FORM),
        ("user id is a number", click_with(user={**click["user"], "id": 7}), FORM),
        ("no user", interactive(without(click, "user")), FORM),
        ("user is a string", click_with(user=Seed.CAROL), FORM),
        (
            "team is null and the user has no team",
            click_with(team=None, user=without(click["user"], "team_id")),
            FORM,
        ),
        ("team id is a number", click_with(team={"id": 5}), FORM),
        ("team id is empty", click_with(team={"id": ""}), FORM),
        ("no trigger_id", interactive(without(click, "trigger_id")), FORM),
        ("channel is a string", click_with(channel=Seed.PRACTICE), FORM),
        ("enterprise is a number", click_with(enterprise=5), FORM),
        ("authorizations is a string", click_with(authorizations=CANARY), FORM),
        ("response_urls is a number", click_with(response_urls=5), FORM),
        ("response_url is a list", click_with(response_url=[CANARY]), FORM),
        ("type is a number", click_with(type=5), FORM),
        ("neither type nor command", interactive(without(click, "type")), FORM),
        # view_submission: Carol's filled modal, broken
        ("view_submission without view.type", view_with(without(submission["view"], "type")), FORM),
        (
            "view_submission without callback_id",
            view_with(without(submission["view"], "callback_id")),
            FORM,
        ),
        ("view_submission without state", view_with(without(submission["view"], "state")), FORM),
        (
            "state.values is a list",
            view_with({**submission["view"], "state": {"values": []}}),
            FORM,
        ),
        (
            "state.values holds a string",
            view_with({**submission["view"], "state": {"values": {"b": CANARY}}}),
            FORM,
        ),
        (
            "private_metadata is a number",
            view_with({**submission["view"], "private_metadata": 5}),
            FORM,
        ),
        ("view is a string", view_with(CANARY), FORM),  # type: ignore[arg-type]
        ("view_submission without a view", interactive(without(submission, "view")), FORM),
        (
            "view_submission with a null user id",
            interactive({**submission, "user": {**submission["user"], "id": None}}),
            FORM,
        ),
        (
            "view_closed without a view",
            interactive({**without(submission, "view"), "type": "view_closed"}),
            FORM,
        ),
        # events
        (
            "event_callback without event",
            json.dumps({**without(event, "event"), "c": CANARY}),
            JSON_TYPE,
        ),
        ("event is null", json.dumps({**event, "event": None}), JSON_TYPE),
        ("event is a list", json.dumps({**event, "event": [CANARY]}), JSON_TYPE),
        (
            "event without type",
            json.dumps({**event, "event": without(event["event"], "type")}),
            JSON_TYPE,
        ),
        ("event_callback without event_id", json.dumps(without(event, "event_id")), JSON_TYPE),
        ("event_callback without team_id", json.dumps(without(event, "team_id")), JSON_TYPE),
        ("event_id is a number", json.dumps({**event, "event_id": 5}), JSON_TYPE),
        (
            "url_verification without a challenge",
            json.dumps({"type": "url_verification", "token": CANARY}),
            JSON_TYPE,
        ),
        (
            "challenge is a number",
            json.dumps({"type": "url_verification", "challenge": 5, "token": CANARY}),
            JSON_TYPE,
        ),
        # nesting that parses, but deeper than any payload Slack sends
        ("a vote click nested 100 deep", click_with(extra=json.loads(deep(100))), FORM),
    ]
    return [signed(name, body, content_type, secret) for name, body, content_type in bodies]


async def test_signed_but_malformed_requests_get_400_never_500(
    scene: Scene, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    cases = malformed_cases(scene)
    assert len(cases) >= 70
    await send_and_check(scene, cases, caplog, subtests)
    assert await votes(scene.world) == 1  # the null user id did not become a voter "None"


async def test_the_same_requests_signed_properly_do_act(scene: Scene) -> None:
    """The hostile cases above are refused for what is wrong with them, not because they
    could never have worked: unbroken, each of them acts."""
    before = len(scene.slack.calls)
    answers = []
    for body, content_type in (
        (interactive(scene.vote_click), FORM),
        (form(scene.command), FORM),
        (json.dumps(scene.home_event), JSON_TYPE),
    ):
        case = signed("fine", body, content_type, scene.secret)
        status, answer = await scene.post(case.body, case.headers)
        assert status == 200
        answers.append(answer)
    await scene.world.settle()

    assert await votes(scene.world) == 2
    methods = {call.method for call in scene.slack.calls[before:]}
    assert "views.publish" in methods  # the Home was drawn
    assert "Thanks! Your topic is on the board" in str(answers[1])  # in the acknowledgement


async def test_a_slash_command_that_says_payload_reaches_hearth(scene: Scene) -> None:
    """Bolt's own reading of a form turns any body containing the word "payload" into {}."""
    command = {**scene.command, "text": "payload formats"}
    case = signed("payload in text", form(command), FORM, scene.secret)

    status, text = await scene.post(case.body, case.headers)

    assert status == 200, text
    await scene.world.settle()
    assert "payload formats" in board(scene.world).readable_text


async def test_huge_bodies_are_refused_without_reading_them_when_unsigned(scene: Scene) -> None:
    huge = b"payload=" + b"x" * (2 * 1024 * 1024)
    status, _ = await scene.post(huge, {"Content-Type": FORM})
    assert status == 401

    headers = {"X-Slack-Request-Timestamp": now_stamp(), "X-Slack-Signature": "v0=" + "0" * 64}
    status, _ = await scene.post(huge, {"Content-Type": FORM, **headers})
    assert status == 413


# -- 3. repeats: taken in once ----------------------------------------------------------------


async def test_a_replayed_vote_click_counts_once(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    calls = len(scene.slack.calls)

    answers = await asyncio.gather(
        *(scene.post(scene.vote_form.encode(), scene.vote_headers) for _ in range(3))
    )
    await scene.world.settle()

    assert answers == [(200, "")] * 3
    assert await votes(scene.world) == 1
    assert "1 vote" in board(scene.world).readable_text
    assert scene.slack.calls[calls:] == []
    assert_quiet_log(caplog)
    assert any("already handled" in r.getMessage() for r in caplog.records)


async def test_a_retried_event_is_taken_in_once(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps(scene.home_event).encode()
    first = signed("first try", body, JSON_TYPE, scene.secret)
    # Slack signs its retry afresh: another timestamp, another signature, the same event_id.
    stamp = now_stamp(-1)
    retry = {
        **first.headers,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature_of(scene.secret, stamp, body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }

    assert (await scene.post(body, first.headers))[0] == 200
    await scene.world.settle()
    published = len(scene.slack.calls_to("views.publish"))
    assert published == 1
    assert await scene.post(body, retry) == (200, "")
    await scene.world.settle()

    assert len(scene.slack.calls_to("views.publish")) == published
    assert any("re-sent an event" in r.getMessage() for r in caplog.records)

    # A retry hearth never saw the first try of is taken in: the key is the event_id.
    fresh = json.dumps({**scene.home_event, "event_id": "Ev0NEVERSEEN"}).encode()
    again = signed("retry of a lost event", fresh, JSON_TYPE, scene.secret)
    again.headers |= {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
    assert (await scene.post(fresh, again.headers))[0] == 200
    await scene.world.settle()
    assert len(scene.slack.calls_to("views.publish")) == published + 1


async def test_an_event_hearth_did_not_take_may_be_retried(scene: Scene) -> None:
    """An event Bolt does not accept (here: no listener, 404) is forgotten again, so Slack's
    retry is not mistaken for a repeat of something hearth has."""
    unheard = payloads.event_callback(
        scene.slack.state, {"type": "reaction_added", "user": Seed.CAROL, "reaction": "tea"}
    )
    body = json.dumps(unheard).encode()
    first = signed("first try", body, JSON_TYPE, scene.secret)
    stamp = now_stamp(-1)
    retry = {
        **first.headers,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature_of(scene.secret, stamp, body),
        "X-Slack-Retry-Num": "1",
    }

    assert (await scene.post(body, first.headers))[0] == 404
    assert (await scene.post(body, retry))[0] == 404  # taken to Bolt again, not "seen"


async def test_refusals_do_not_flood_the_log(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stamp = now_stamp()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "1" * 64}

    for _ in range(30):
        assert (await scene.post(b"command=x", headers))[0] == 401

    refusals = [r for r in caplog.records if "Refused a request" in r.getMessage()]
    assert len(refusals) == 1
    assert "check SLACK_SIGNING_SECRET" in refusals[0].getMessage()


async def test_a_replay_sent_to_another_process_is_dropped_on_postgresql(
    scene: Scene, empty_database: str
) -> None:
    """Several processes behind one load balancer share what they have seen through
    PostgreSQL (on SQLite, one process owns the database and its memory is enough)."""
    if not empty_database.startswith("postgresql"):
        pytest.skip("one hearth process per SQLite database")
    world = scene.world
    async with running_hearth(
        world.slack, empty_database, world.clock, serve=False
    ) as second_hearth:
        runner = web.AppRunner(create_web_app(second_hearth.app, engine=second_hearth.engine))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        second = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
        try:
            async with scene.http.post(
                second, data=scene.vote_form.encode(), headers=scene.vote_headers
            ) as response:
                assert (response.status, await response.text()) == (200, "")
        finally:
            await runner.cleanup()

    assert await votes(world) == 1


# -- Socket Mode: the same shapes, acknowledged and dropped ----------------------------------


SocketCase = tuple[str, str, Callable[[Scene], dict[str, Any]]]


def socket_cases() -> list[SocketCase]:
    return [
        ("actions: []", "interactive", lambda s: {**s.vote_click, "actions": []}),
        (
            "user id is null",
            "interactive",
            lambda s: {**s.vote_click, "user": {**s.vote_click["user"], "id": None}},
        ),
        (
            "view without type",
            "interactive",
            lambda s: {
                **s.submission,
                "view": {k: v for k, v in s.submission["view"].items() if k != "type"},
            },
        ),
        (
            "slash command without user_id",
            "slash_commands",
            lambda s: {k: v for k, v in s.command.items() if k != "user_id"},
        ),
        ("event is null", "events_api", lambda s: {**s.home_event, "event": None}),
        (
            "authorizations is a string",
            "events_api",
            lambda s: {**s.home_event, "authorizations": CANARY},
        ),
        ("team is a number", "interactive", lambda s: {**s.vote_click, "team": 5}),
    ]


async def test_malformed_socket_mode_payloads_are_acknowledged_and_dropped(
    scene: Scene, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    caplog.set_level(logging.INFO)
    world = scene.world
    handler = checked_socket_mode_handler(
        world.hearth.app, world.slack.app_token, web_client=world.hearth.deps.client
    )
    world.slack.use_socket_mode()
    await handler.connect_async()
    try:
        await world.slack.socket_mode.wait_connected()
        before = await snapshot(world.hearth.engine)
        calls = len(world.slack.calls)
        for name, kind, build in socket_cases():
            with subtests.test(msg=name):
                caplog.clear()
                result = await world.slack.deliver(kind, build(scene))  # type: ignore[arg-type]
                await world.settle()

                assert result.ok, result.error
                assert world.slack.calls[calls:] == []
                assert await snapshot(world.hearth.engine) == before
                assert_quiet_log(caplog)
                assert any("hearth cannot read" in r.getMessage() for r in caplog.records)
    finally:
        await handler.close_async()


async def test_bolt_itself_drops_malformed_payloads_in_socket_mode(
    slack: SlackEmulator, empty_database: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Without hearth's own Socket Mode handler (as the test harness connects), the Bolt
    middleware still acknowledges and drops what hearth cannot read."""
    caplog.set_level(logging.INFO)
    async with running_hearth(slack, empty_database, clock, socket_mode=True) as hearth:
        world = World(slack, hearth, clock, empty_database)
        await start_session(world)
        await propose(world, Seed.BOB, TOPIC)
        before = await snapshot(hearth.engine)
        calls = len(slack.calls)
        caplog.clear()
        click = {
            "type": "block_actions",
            "user": {"id": None, "team_id": slack.state.team.id},
            "team": {"id": slack.state.team.id},
            "trigger_id": "1.2.3",
            "response_url": slack.response_url(
                slack.state.issue_response_url(Seed.PRACTICE, Seed.CAROL).id
            ),
            "actions": [],
            "canary": CANARY,
        }

        result = await slack.deliver("interactive", click)
        await world.settle()

        assert result.ok, result.error
        assert slack.calls[calls:] == []
        assert await snapshot(hearth.engine) == before
        assert_quiet_log(caplog)
