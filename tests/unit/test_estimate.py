"""The wait estimate: M/M/c departures for a known place in line."""

from __future__ import annotations

import pytest

from callback.estimate import CONNECT_OVERHEAD_SECONDS, Staffing, mean_handle_seconds, wait_for_position


def test_wait_is_unknown_when_nobody_staffs_the_queue() -> None:
    assert wait_for_position(0, Staffing(staffed=0, free=0, handle_seconds=300)) is None


def test_first_in_line_with_a_free_agent_waits_only_for_the_call_to_connect() -> None:
    assert wait_for_position(0, Staffing(staffed=2, free=1, handle_seconds=300)) == CONNECT_OVERHEAD_SECONDS


def test_people_ahead_are_served_by_free_agents_first() -> None:
    assert wait_for_position(2, Staffing(staffed=3, free=3, handle_seconds=300)) == CONNECT_OVERHEAD_SECONDS


@pytest.mark.parametrize(
    ("ahead", "staffed", "free", "expected_without_overhead"),
    [
        (0, 1, 0, 300),  # one busy agent: wait one handle time
        (1, 1, 0, 600),
        (0, 2, 0, 150),  # two busy agents free up twice as fast
        (3, 2, 0, 600),
        (2, 2, 1, 300),  # one free agent takes the first; the rest wait for departures
    ],
)
def test_with_every_agent_busy_the_wait_is_departures_needed_times_handle_over_agents(
    ahead: int, staffed: int, free: int, expected_without_overhead: int
) -> None:
    wait = wait_for_position(ahead, Staffing(staffed=staffed, free=free, handle_seconds=300))
    assert wait == expected_without_overhead + CONNECT_OVERHEAD_SECONDS


def test_wait_grows_with_place_in_line_and_shrinks_with_staff() -> None:
    few = [wait_for_position(k, Staffing(2, 0, 240)) or 0 for k in range(10)]
    many = [wait_for_position(k, Staffing(6, 0, 240)) or 0 for k in range(10)]
    assert few == sorted(few) and 0 not in few
    assert all(m < f for m, f in zip(many, few, strict=True))


def test_handle_time_uses_the_default_until_there_is_enough_history() -> None:
    assert mean_handle_seconds([100, 200], wrap_up_seconds=30, default=300) == 330


def test_handle_time_averages_recent_calls_plus_wrap_up() -> None:
    assert mean_handle_seconds([100, 200, 300, 400, 500], wrap_up_seconds=30, default=999) == 330
