"""The arithmetic of health-check results, the keyed hashes, and the open-window rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.services import health_check as hc
from bot.services.anonymity import SECRET_BYTES, VOTER_KEY_LENGTH, new_secret, voter_key
from bot.services.health_check_scores import (
    disagreement,
    distribution,
    most_disagreement_first,
    score,
    trend,
)
from bot.services.health_check_types import (
    DEFAULT_SCALE,
    TREND_THRESHOLD,
    QuestionResult,
    ScaleOption,
    Trend,
)
from bot.services.recurrence import Cadence, Frequency

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("counts", "expected_score", "expected_disagreement"),
    [
        ({}, None, None),
        ({"green": 4}, 100.0, 0.0),
        ({"red": 1}, 0.0, 0.0),
        ({"amber": 3}, 50.0, 0.0),
        ({"green": 1, "red": 1}, 50.0, 50.0),  # the widest split there is
        ({"green": 1, "amber": 1}, 75.0, 25.0),  # neighbours disagree less
        ({"green": 3, "red": 2}, 60.0, 49.0),
        ({"green": 2, "amber": 1}, 83.3, 23.6),
        ({"green": 1, "amber": 1, "red": 1}, 50.0, 40.8),
    ],
)
def test_score_and_disagreement(
    counts: dict[str, int],
    expected_score: float | None,
    expected_disagreement: float | None,
) -> None:
    assert score(counts, DEFAULT_SCALE) == expected_score
    assert disagreement(counts, DEFAULT_SCALE) == expected_disagreement


def test_a_custom_scale_scores_with_its_own_numbers() -> None:
    five = tuple(
        ScaleOption(key=f"s{n}", label=f"{n}", emoji="", score=n * 25) for n in range(4, -1, -1)
    )
    assert score({"s4": 1, "s3": 1}, five) == 87.5
    assert disagreement({"s4": 1, "s3": 1}, five) == 12.5
    # Answers no longer on the scale are left out rather than guessed at.
    assert score({"s4": 1, "gone": 5}, five) == 100.0


def test_distribution_follows_the_scale_with_zeros() -> None:
    counts = [(c.option.key, c.count) for c in distribution({"red": 2}, DEFAULT_SCALE)]
    assert counts == [("green", 0), ("amber", 0), ("red", 2)]


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (60.0, 50.0, Trend.UP),
        (59.9, 50.0, Trend.LEVEL),
        (40.1, 50.0, Trend.LEVEL),
        (40.0, 50.0, Trend.DOWN),
        (50.0, 50.0, Trend.LEVEL),
        (50.0, None, None),
        (None, 50.0, None),
    ],
)
def test_trend_needs_a_move_of_the_threshold(
    current: float | None, previous: float | None, expected: Trend | None
) -> None:
    assert TREND_THRESHOLD == 10.0
    assert trend(current, previous) == expected


def _result(key: str, position: int, dis: float | None, sc: float | None) -> QuestionResult:
    return QuestionResult(
        key=key,
        title=key,
        position=position,
        answers=5 if dis is not None else 1,
        shown=dis is not None,
        distribution=(),
        score=sc,
        disagreement=dis,
        previous_score=None,
        trend=None,
    )


def test_most_disagreement_first_then_lowest_score_then_order_asked() -> None:
    results = [
        _result("calm", 0, 0.0, 100.0),
        _result("hidden_late", 1, None, None),
        _result("split", 2, 49.0, 60.0),
        _result("hidden_early", 3, None, None),
        _result("tie_high", 4, 20.0, 90.0),
        _result("tie_low", 5, 20.0, 10.0),
    ]
    ordered = most_disagreement_first(iter(results))
    assert [r.key for r in ordered] == [
        "split",
        "tie_low",
        "tie_high",
        "calm",
        "hidden_late",
        "hidden_early",
    ]


def test_voter_keys_are_stable_within_a_check_and_unrelated_across_checks() -> None:
    first, second = new_secret(), new_secret()
    assert len(first) == SECRET_BYTES and first != second
    key = voter_key(first, "T1", "UA")
    assert len(key) == VOTER_KEY_LENGTH and "UA" not in key
    assert voter_key(first, "T1", "UA") == key
    assert voter_key(second, "T1", "UA") != key
    assert voter_key(first, "T1", "UB") != key
    assert voter_key(first, "T2", "UA") != key


def _weekly(every: int) -> Cadence:
    return Cadence(
        frequency=Frequency.WEEKLY,
        weekday=1,
        at=time(10, 0),
        time_zone="Europe/London",
        anchor=date(2026, 11, 23),
        every_weeks=every,
    )


def test_longest_open_window_is_just_under_the_gap_between_checks() -> None:
    # The clocks go forward in late March, which makes one week an hour short.
    assert hc.longest_open_hours(_weekly(1), NOW) == 7 * 24 - 2
    assert hc.longest_open_hours(_weekly(2), NOW) == 14 * 24 - 2
    monthly = Cadence(
        frequency=Frequency.MONTHLY,
        weekday=0,
        at=time(9, 0),
        time_zone="UTC",
        anchor=date(2026, 11, 23),
        week_of_month=1,
    )
    assert hc.longest_open_hours(monthly, NOW) == 28 * 24 - 1


@pytest.mark.parametrize(
    ("hours", "words"),
    [(1, "1 hour"), (5, "5 hours"), (24, "1 day"), (48, "2 days"), (167, "6 days and 23 hours")],
)
def test_hours_in_words(hours: int, words: str) -> None:
    assert hc.hours_words(hours) == words
