"""The arithmetic of health-check results: scores, disagreement, trends and their order.

Pure functions on counts, so the rules can be checked without a database. What the numbers
mean is described in `health_check_types`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from bot.services.health_check_types import (
    TREND_THRESHOLD,
    ChoiceCount,
    QuestionResult,
    ScaleOption,
    Trend,
)


def _weights(counts: Mapping[str, int], scale: Sequence[ScaleOption]) -> list[tuple[int, int]]:
    """(score, count) for each option answered; answers no longer on the scale are ignored."""
    return [(o.score, counts.get(o.key, 0)) for o in scale if counts.get(o.key, 0) > 0]


def score(counts: Mapping[str, int], scale: Sequence[ScaleOption]) -> float | None:
    """The average score of the answers (0–100), to one decimal; None without answers."""
    weights = _weights(counts, scale)
    total = sum(n for _, n in weights)
    if total == 0:
        return None
    return round(sum(s * n for s, n in weights) / total, 1)


def disagreement(counts: Mapping[str, int], scale: Sequence[ScaleOption]) -> float | None:
    """How far apart the answers are: the standard deviation of their scores (0–50 on a
    0–100 scale), to one decimal; None without answers.

    Unlike entropy it respects the order of the scale, so a split between "Going well" and
    "Needs attention" counts as more disagreement than one between neighbours.
    """
    weights = _weights(counts, scale)
    total = sum(n for _, n in weights)
    if total == 0:
        return None
    mean = sum(s * n for s, n in weights) / total
    variance = sum(n * (s - mean) ** 2 for s, n in weights) / total
    return round(math.sqrt(variance), 1)


def trend(
    current: float | None, previous: float | None, threshold: float = TREND_THRESHOLD
) -> Trend | None:
    """Up, level or down against the previous score; None when either is missing."""
    if current is None or previous is None:
        return None
    change = current - previous
    if change >= threshold:
        return Trend.UP
    if change <= -threshold:
        return Trend.DOWN
    return Trend.LEVEL


def distribution(
    counts: Mapping[str, int], scale: Sequence[ScaleOption]
) -> tuple[ChoiceCount, ...]:
    return tuple(ChoiceCount(option=o, count=counts.get(o.key, 0)) for o in scale)


def most_disagreement_first(results: Iterable[QuestionResult]) -> tuple[QuestionResult, ...]:
    """Questions with results by disagreement (largest first), then lowest score, then the
    order they were asked; questions without results follow in the order asked."""
    every = list(results)
    shown = [r for r in every if r.shown and r.disagreement is not None]
    hidden = [r for r in every if not (r.shown and r.disagreement is not None)]
    shown.sort(key=lambda r: (-(r.disagreement or 0.0), r.score or 0.0, r.position))
    hidden.sort(key=lambda r: r.position)
    return (*shown, *hidden)
