"""Durations as the website summarises them: median, percentiles, and a short approximate text."""

import math
from collections.abc import Sequence
from datetime import datetime


def seconds_between(started: datetime | None, completed: datetime | None) -> float | None:
    if started is None or completed is None:
        return None
    return max((completed - started).total_seconds(), 0.0)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The value `share` (0 to 1) of the way through the sorted values, interpolated between
    neighbours; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    below, above = math.floor(position), math.ceil(position)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 0.5)


def approximate(seconds: float) -> str:
    """`42 s`, `7 min` or `3 h`: what "about ... left" needs, not a stopwatch. Halves round up,
    as static/progress.js rounds them when it moves the text on."""
    seconds = max(_rounded(seconds), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 120 * 60:
        return f"{_rounded(seconds / 60)} min"
    return f"{_rounded(seconds / 3600)} h"


def _rounded(value: float) -> int:
    return math.floor(value + 0.5)
