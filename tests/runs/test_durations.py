"""Medians, percentiles and approximate texts of durations."""

from datetime import UTC, datetime, timedelta

from runs.durations import approximate, median, percentile, seconds_between


def test_median_of_an_odd_and_an_even_number_of_values():
    assert median([30, 10, 20]) == 20
    assert median([40, 10, 30, 20]) == 25


def test_95th_percentile_interpolates_between_neighbours():
    values = list(range(1, 101))  # 1 .. 100
    assert percentile(values, 0.95) == 95.05
    assert percentile([10, 20], 0.95) == 19.5
    assert percentile([7], 0.95) == 7


def test_no_values_no_median_nor_percentile():
    assert median([]) is None
    assert percentile([], 0.95) is None


def test_seconds_between_needs_both_times_and_is_never_negative():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert seconds_between(start, start + timedelta(seconds=90)) == 90
    assert seconds_between(start, None) is None and seconds_between(None, start) is None
    assert seconds_between(start + timedelta(seconds=1), start) == 0


def test_approximate_texts_grow_units_with_the_amount():
    assert [approximate(value) for value in (0.4, 42.6, 119, 120, 7199, 7200, 36000)] == [
        "0 s", "43 s", "119 s", "2 min", "120 min", "2 h", "10 h"
    ]
