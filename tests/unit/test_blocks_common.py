"""The shared Block Kit pieces: escaping, limits, dates, splitting and form errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from slack_sdk.models.blocks import DividerBlock, SectionBlock

from bot.blocks.common import (
    MAX_MESSAGE_BLOCKS,
    FormErrors,
    button,
    clip_mrkdwn,
    context,
    day_text,
    duration_text,
    escape_mrkdwn,
    header,
    list_words,
    mention,
    modal,
    option,
    pack_lines,
    plural,
    safe,
    section,
    slack_date,
    split_messages,
    split_mrkdwn,
    state_checked,
    state_date,
    state_selected,
    state_text,
    state_user,
    text_sections,
    truncate,
    unescape_slack,
)
from bot.errors import DomainError
from bot.ids import LeanCoffeeBlock, input_action_id


def test_escape_mrkdwn_makes_mentions_inert() -> None:
    assert escape_mrkdwn("<!channel> hi & <@U1>") == "&lt;!channel&gt; hi &amp; &lt;@U1&gt;"


def test_escape_then_unescape_round_trips() -> None:
    text = "a < b && c > d &amp;"
    assert unescape_slack(escape_mrkdwn(text)) == text


def test_truncate_keeps_short_text_and_marks_cuts() -> None:
    assert truncate("hello", 5) == "hello"
    cut = truncate("hello world", 6)
    assert cut == "hello…"
    assert len(cut) <= 6
    with pytest.raises(ValueError):
        truncate("x", 0)


def test_clip_mrkdwn_never_leaves_half_an_entity_or_token() -> None:
    escaped = escape_mrkdwn("ab&&&&&&&&")
    for limit in range(3, len(escaped)):
        clipped = clip_mrkdwn(escaped, limit)
        assert len(clipped) <= limit
        body = clipped.removesuffix("…")
        assert body.count("&") == body.count("&amp;")
    token = "see <@U12345678> now"
    assert "<@U" not in clip_mrkdwn(token, 10)


def test_safe_counts_the_limit_before_escaping() -> None:
    assert safe("<" * 10, 4) == "&lt;&lt;&lt;…"


def test_slack_date_shows_each_reader_their_time_with_a_utc_fallback() -> None:
    moment = datetime(2024, 6, 14, 11, 5, tzinfo=timezone(timedelta(hours=2)))
    token = slack_date(moment)
    unix = int(datetime(2024, 6, 14, 9, 5, tzinfo=UTC).timestamp())
    assert token == (f"<!date^{unix}^{{date_short_pretty}} at {{time}}|Fri 14 Jun 2024 09:05 UTC>")
    naive = datetime.fromisoformat("2024-06-14T09:05")
    assert slack_date(naive, "{time}").startswith(f"<!date^{unix}^{{time}}|")


def test_small_words() -> None:
    assert mention("U1") == "<@U1>"
    assert plural(1, "vote") == "1 vote"
    assert plural(2, "person", "people") == "2 people"
    assert list_words(["a"]) == "a"
    assert list_words(["a", "b", "c"]) == "a, b and c"
    assert duration_text(30) == "less than a minute"
    assert duration_text(11 * 60 + 10) == "11 min"
    assert duration_text(65 * 60) == "1 h 5 min"
    assert day_text(date(2024, 6, 14)) == "Fri 14 Jun 2024"


def test_builders_stay_within_slack_limits() -> None:
    long = "x" * 5000
    assert len(section(long).to_dict()["text"]["text"]) <= 3000
    assert len(header(long).to_dict()["text"]["text"]) <= 150
    assert len(button(long, "a.b", "v").to_dict()["text"]["text"]) <= 75
    assert len(option(long, "v").to_dict()["text"]["text"]) <= 75
    view = modal(title=long, callback_id="cb", blocks=[section("hi")], submit=long, close=long)
    as_dict = view.to_dict()
    assert len(as_dict["title"]["text"]) <= 24
    assert len(as_dict["submit"]["text"]) <= 24
    assert len(as_dict["close"]["text"]) <= 24
    assert len(context(*(["y"] * 15)).to_dict()["elements"]) == 10


def test_button_refuses_a_value_slack_would_reject() -> None:
    with pytest.raises(ValueError):
        button("Vote", "a.b", "v" * 2001)


def test_mrkdwn_is_verbatim_so_typed_mentions_are_not_parsed() -> None:
    assert section("@channel").to_dict()["text"]["verbatim"] is True


def test_pack_lines_fills_chunks_without_splitting_lines() -> None:
    lines = [f"line {i} " + "z" * 90 for i in range(100)]
    chunks = pack_lines(lines, 1000)
    assert len(chunks) == 10  # ten 98-character lines fill 1000
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines
    assert all(len(s.to_dict()["text"]["text"]) <= 3000 for s in text_sections(lines * 5))


def test_pack_lines_continues_an_overlong_line_instead_of_losing_it() -> None:
    assert pack_lines(["w" * 4000]) == ["w" * 3000, "w" * 1000]
    words = " ".join(f"word{i}" for i in range(1000))
    assert " ".join(pack_lines([words], 500)) == words


def test_split_mrkdwn_never_cuts_inside_an_entity_or_token() -> None:
    escaped = escape_mrkdwn("&" * 1000) + " <@U12345678>" * 3
    pieces = split_mrkdwn(escaped, 37)
    assert all(len(p) <= 37 for p in pieces)
    assert "".join(pieces).replace(" ", "") == escaped.replace(" ", "")
    for piece in pieces:
        assert piece.count("&") == piece.count("&amp;")
        assert piece.count("<") == piece.count(">")


def test_split_messages_keeps_every_block_in_order() -> None:
    blocks = [section(str(i)) for i in range(123)]
    messages = split_messages(blocks)
    assert [len(m) for m in messages] == [50, 50, 23]
    assert [b for m in messages for b in m] == blocks
    assert all(len(m) <= MAX_MESSAGE_BLOCKS for m in messages)


def test_split_messages_drops_dividers_at_message_edges() -> None:
    blocks = [*(section(str(i)) for i in range(2)), DividerBlock(), section("after")]
    messages = split_messages(blocks, per_message=2)
    assert all(isinstance(b, SectionBlock) for m in messages for b in m)
    assert len([b for m in messages for b in m]) == 3


def test_form_errors_is_a_domain_error_keyed_by_block() -> None:
    exc = FormErrors({LeanCoffeeBlock.VOTES: "Pick 1 to 10.", LeanCoffeeBlock.TITLE: "Shorter"})
    assert isinstance(exc, DomainError)
    assert exc.errors == {"lean_coffee.votes": "Pick 1 to 10.", "lean_coffee.title": "Shorter"}
    assert exc.message == "Pick 1 to 10."
    assert exc.field == "lean_coffee.votes"
    with pytest.raises(ValueError):
        FormErrors({})


def test_state_readers_understand_each_input_type() -> None:
    def at(block: LeanCoffeeBlock, state: dict[str, object]) -> dict[str, object]:
        return {block: {input_action_id(block): state}}

    values = {
        **at(LeanCoffeeBlock.TITLE, {"type": "plain_text_input", "value": "Hi"}),
        **at(LeanCoffeeBlock.VOTES, {"type": "number_input", "value": "3"}),
        **at(
            LeanCoffeeBlock.ANONYMOUS,
            {"type": "checkboxes", "selected_options": [{"value": "anonymous"}]},
        ),
        **at(LeanCoffeeBlock.MERGE_INTO, {"type": "static_select", "selected_option": None}),
        **at(LeanCoffeeBlock.ACTION_OWNER, {"type": "users_select", "selected_user": "U9"}),
        **at(LeanCoffeeBlock.ACTION_DUE, {"type": "datepicker", "selected_date": "2030-01-02"}),
    }
    assert state_text(values, LeanCoffeeBlock.TITLE) == "Hi"
    assert state_text(values, LeanCoffeeBlock.VOTES) == "3"
    assert state_text(values, LeanCoffeeBlock.TIMEBOX) is None
    assert state_checked(values, LeanCoffeeBlock.ANONYMOUS) == {"anonymous"}
    assert state_selected(values, LeanCoffeeBlock.MERGE_INTO) is None
    assert state_user(values, LeanCoffeeBlock.ACTION_OWNER) == "U9"
    assert state_date(values, LeanCoffeeBlock.ACTION_DUE) == "2030-01-02"
