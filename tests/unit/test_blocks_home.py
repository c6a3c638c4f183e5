"""The Home tab: valid Block Kit, inside Slack's 100 blocks, user text escaped, the right
buttons on each item."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.blocks.home import (
    EMPTY_TEXT,
    MAX_HOME_BLOCKS,
    HomeAction,
    home_blocks,
    home_tab,
)
from bot.blocks.personal_data import SHOW_BUTTON as YOUR_DATA
from bot.emulator.blockkit import validate_view
from bot.ids import ActionsAction, PersonalDataAction, RotaAction
from bot.services.home import (
    MAX_ACTIONS,
    MAX_CHECKS,
    MAX_COMMUNITIES,
    MAX_MINUTES,
    MAX_TURNS,
    CommunityCard,
    HomeView,
    MyTurn,
    OpenAction,
    RecentMinutes,
    WaitingCheck,
)
from bot.state import ActionRef, MeetupRef

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
USER = "U0ALICE"


def card(n: int, *, with_meetup: bool = True) -> CommunityCard:
    return CommunityCard(
        channel_id=f"C{n:04d}",
        community_id=n,
        next_meetup=NOW + timedelta(days=n) if with_meetup else None,
        facilitator_id="U0BOB" if with_meetup else None,
        has_schedule=with_meetup,
    )


def turn(n: int, *, confirmed: bool = False, is_next: bool = True) -> MyTurn:
    return MyTurn(
        community_id=n,
        channel_id=f"C{n:04d}",
        meetup_id=100 + n,
        starts_at=NOW + timedelta(days=n),
        confirmed=confirmed,
        is_next=is_next,
    )


def check(n: int, ts: str | None = "1.000100") -> WaitingCheck:
    return WaitingCheck(
        check_id=n,
        channel_id=f"C{n:04d}",
        closes_at=NOW + timedelta(days=2),
        answered=n % 3,
        questions=8,
        message_ts=ts,
    )


def action(
    n: int, text: str = "Draft the guide", title: str = "Lean Coffee", source: str = "lean_coffee"
) -> OpenAction:
    return OpenAction(
        source=source,
        action_id=n,
        channel_id=f"C{n:04d}",
        text=text,
        due_date=date(2026, 12, 4) if n % 2 else None,
        created_at=NOW,
        session_title=title,
    )


def minutes(n: int, title: str = "Lean Coffee", ts: str | None = "2.000200") -> RecentMinutes:
    return RecentMinutes(
        minutes_id=n,
        channel_id=f"C{n:04d}",
        title=title,
        held_on=date(2026, 11, 20),
        posted_ts=ts,
    )


def full_view(communities: int = MAX_COMMUNITIES, more: int = 0) -> HomeView:
    return HomeView(
        user_id=USER,
        communities=tuple(card(n) for n in range(communities)),
        more_communities=more,
        turns=tuple(turn(n, is_next=n == 0) for n in range(MAX_TURNS)),
        checks=tuple(check(n) for n in range(MAX_CHECKS)),
        actions=tuple(action(n) for n in range(MAX_ACTIONS)),
        minutes=tuple(minutes(n) for n in range(MAX_MINUTES)),
    )


def as_json(view: HomeView, **kwargs: Any) -> dict[str, Any]:
    data = home_tab(view, **kwargs).to_dict()
    assert validate_view(data) == [], validate_view(data)
    return data


def buttons(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in data["blocks"]:
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        if (accessory := block.get("accessory")) and accessory.get("type") == "button":
            found.append(accessory)
    return found


def test_a_full_home_is_valid_and_inside_the_block_limit() -> None:
    links = {
        (f"C{n:04d}", "1.000100"): f"https://x.slack.com/archives/C{n:04d}/p1" for n in range(5)
    }
    data = as_json(full_view(more=12), links=links, notice="Thank you!")
    assert data["type"] == "home"
    assert len(data["blocks"]) <= MAX_HOME_BLOCKS
    text = json.dumps(data, ensure_ascii=False)
    assert "…and 12 more channels where hearth is in use." in text
    assert "Thank you!" in text
    assert sum(1 for b in buttons(data) if b["text"]["text"] == "Answer now") == MAX_CHECKS


def test_more_than_slack_allows_is_cut_with_a_note() -> None:
    data = as_json(full_view(communities=150))
    assert len(data["blocks"]) == MAX_HOME_BLOCKS
    # The cut comes before "Your data", which is always there at the foot.
    assert "more than fits here" in json.dumps(data["blocks"][-4], ensure_ascii=False)
    assert [b["text"]["text"] for b in buttons({"blocks": data["blocks"][-3:]})] == [YOUR_DATA]


def test_nobody_in_any_community_gets_a_warm_start() -> None:
    view = HomeView(USER, (), 0, (), (), (), ())
    data = as_json(view)
    assert EMPTY_TEXT in json.dumps(data, ensure_ascii=False)
    assert "/invite @hearth" in EMPTY_TEXT and "/lean-coffee" in EMPTY_TEXT
    # Only "Your data": hearth may hold something even about someone in no community.
    assert [(b["text"]["text"], b["action_id"]) for b in buttons(data)] == [
        (YOUR_DATA, PersonalDataAction.SHOW)
    ]


def test_actions_alone_are_still_shown() -> None:
    view = HomeView(USER, (), 0, (), (), (action(1),), ())
    text = json.dumps(as_json(view), ensure_ascii=False)
    assert "Draft the guide" in text
    assert EMPTY_TEXT not in text


def test_each_action_button_names_its_source_and_id() -> None:
    view = HomeView(
        USER,
        (),
        0,
        (),
        (),
        (action(7), action(7, source="meetup"), action(2, source="health_check")),
        (),
    )
    values = [
        ActionRef.decode(b["accessory"]["value"])
        for b in as_json(view)["blocks"]
        if b.get("accessory", {}).get("action_id") == ActionsAction.MARK_DONE
    ]
    assert values == [
        ActionRef(a=7),
        ActionRef(a=7, s="meetup"),
        ActionRef(a=2, s="health_check"),
    ]
    # A Lean Coffee action's button keeps the value it had before there were other sources.
    assert ActionRef(a=7).encode() == '{"a":7}'


def test_user_text_is_escaped_and_shortened() -> None:
    long = "x" * 2000
    view = HomeView(
        USER,
        (card(1),),
        0,
        (),
        (),
        (action(1, text="<!channel> & <@U1> go", title="<b>oss</b>"), action(3, text=long)),
        (minutes(1, title="Tea & <biscuits>"),),
    )
    blocks = [b.to_dict() for b in home_blocks(view)]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt; go" in text
    assert "<!channel>" not in text and "<@U1>" not in text
    assert "&lt;b&gt;oss&lt;/b&gt;" in text
    assert "Tea &amp; &lt;biscuits&gt;" in text
    assert "x" * 400 not in text and "x" * 250 in text
    assert all(b["type"] != "section" or len(b["text"]["text"]) <= 3000 for b in blocks)


def test_turn_buttons_reuse_the_rota_actions() -> None:
    view = HomeView(
        USER,
        (card(1),),
        0,
        (turn(1), turn(2, is_next=False), turn(3, confirmed=True, is_next=False)),
        (),
        (),
        (),
    )
    found = buttons(as_json(view))
    confirms = [b for b in found if b["action_id"] == RotaAction.CONFIRM]
    skips = [b for b in found if b["action_id"] == RotaAction.SKIP]
    # Confirmed turns need no "I'll be there"; only a community's next meetup can be skipped.
    assert [MeetupRef.decode(b["value"]).m for b in confirms] == [101, 102]
    assert [MeetupRef.decode(b["value"]) for b in skips] == [MeetupRef(c=1, m=101)]
    assert "✓ confirmed" in json.dumps(as_json(view), ensure_ascii=False)


def test_link_buttons_only_with_a_link() -> None:
    view = HomeView(
        USER,
        (card(1),),
        0,
        (),
        (check(1), check(2, ts=None)),
        (),
        (minutes(1), minutes(2, ts=None)),
    )
    links = {
        ("C0001", "1.000100"): "https://x.slack.com/archives/C0001/p1000100",
        ("C0001", "2.000200"): "https://x.slack.com/archives/C0001/p2000200",
    }
    data = as_json(view, links=links)
    found = buttons(data)
    assert [(b["text"]["text"], b["action_id"]) for b in found] == [
        ("Answer now", HomeAction.OPEN_LINK),
        ("Open in channel", HomeAction.OPEN_LINK),
        (YOUR_DATA, PersonalDataAction.SHOW),
    ]
    assert found[0]["url"].endswith("p1000100")
    assert "Answer on the poll in <#C0002>" in json.dumps(data, ensure_ascii=False)


def test_community_lines() -> None:
    view = HomeView(
        USER,
        (card(1), card(2, with_meetup=False), CommunityCard("C9", None, None, None, False)),
        0,
        (),
        (),
        (),
        (),
    )
    text = json.dumps(as_json(view), ensure_ascii=False)
    assert "facilitated by <@U0BOB>" in text
    assert "<!date^" in text
    assert text.count("/rota schedule") == 2
    assert "No actions for you" in text and "No minutes yet" in text
