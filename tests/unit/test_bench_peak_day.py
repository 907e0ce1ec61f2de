"""The peak day's own arithmetic: the provider's per-second count and quote errors in telephone time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.peak_day import quote_error, sliding_max

CREATED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_wait_on_the_real_clock_counts_speed_times_longer_in_telephone_time() -> None:
    # Two real seconds at speed 120 are four telephone minutes; the quote said three.
    assert quote_error(CREATED, CREATED + timedelta(seconds=2), 180, 120.0) == 60.0
    assert quote_error(CREATED, CREATED + timedelta(seconds=1), 180, 120.0) == -60.0
    assert quote_error(CREATED, CREATED + timedelta(seconds=2), 180, 1.0) == -178.0


def test_a_one_second_window_holds_moments_from_its_start_up_to_but_not_including_its_end() -> None:
    assert sliding_max([0.0, 0.5, 0.99, 1.0, 1.5], 1.0) == 3
    assert sliding_max([0.0, 1.0, 2.0, 3.0], 1.0) == 1
    assert sliding_max([5.0, 5.0, 5.0], 1.0) == 3
    assert sliding_max([], 1.0) == 0
