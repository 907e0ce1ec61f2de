"""Business hours: parsing, open/closed, next opening and slots, across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.hours import BusinessHours, HoursError

WEEKDAYS_NY = BusinessHours.parse("mon-fri 09:00-17:00; sat 10:00-14:00", "America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (utc(2026, 11, 23, 14, 0), True),  # Monday 09:00 New York (EST, UTC-5)
        (utc(2026, 11, 23, 13, 59), False),  # 08:59
        (utc(2026, 11, 23, 22, 0), False),  # 17:00 closes
        (utc(2026, 11, 28, 15, 0), True),  # Saturday 10:00
        (utc(2026, 11, 28, 19, 0), False),  # Saturday 14:00
        (utc(2026, 11, 29, 16, 0), False),  # Sunday
        (utc(2026, 7, 6, 13, 0), True),  # Monday 09:00 in summer (EDT, UTC-4)
    ],
)
def test_opening_hours_are_evaluated_in_the_queues_time_zone(at: datetime, open_: bool) -> None:
    assert WEEKDAYS_NY.is_open(at) is open_


def test_next_opening_after_closing_is_the_next_morning() -> None:
    assert WEEKDAYS_NY.next_open(utc(2026, 11, 23, 23, 0)) == utc(2026, 11, 24, 14, 0)


def test_next_opening_on_sunday_is_monday_morning() -> None:
    assert WEEKDAYS_NY.next_open(utc(2026, 11, 29, 12, 0)) == utc(2026, 11, 30, 14, 0)


def test_next_opening_while_open_is_now() -> None:
    now = utc(2026, 11, 23, 15, 0)
    assert WEEKDAYS_NY.next_open(now) == now


def test_a_queue_that_never_opens_has_no_next_opening() -> None:
    assert BusinessHours.parse("closed", "UTC").next_open(utc(2026, 11, 23, 15, 0)) is None


def test_round_the_clock_is_always_open() -> None:
    hours = BusinessHours.parse("24/7", "Europe/London")
    assert all(hours.is_open(utc(2026, 11, 23, h, 30)) for h in range(24))


def test_slots_fall_inside_the_hours_every_half_hour() -> None:
    slots = list(WEEKDAYS_NY.slots(utc(2026, 11, 23, 21, 0), days=1))
    assert slots[0] == utc(2026, 11, 23, 21, 0)
    assert slots[1] == utc(2026, 11, 23, 21, 30)
    # The last slot of Monday starts half an hour before closing; Tuesday starts at opening.
    assert slots[2] == utc(2026, 11, 24, 14, 0)
    assert all(WEEKDAYS_NY.is_open(s) for s in slots)


def test_slots_follow_daylight_saving_changes() -> None:
    # New York leaves DST on Sunday 1 November 2026: Friday opens 13:00 UTC, Monday 14:00 UTC.
    slots = list(WEEKDAYS_NY.slots(utc(2026, 10, 30, 12, 0), days=4))
    assert utc(2026, 10, 30, 13, 0) in slots
    assert utc(2026, 11, 2, 14, 0) in slots
    assert utc(2026, 11, 2, 13, 0) not in slots


def test_spec_round_trips() -> None:
    again = BusinessHours.parse(WEEKDAYS_NY.spec(), "America/New_York")
    assert again == WEEKDAYS_NY


def test_several_windows_a_day_and_day_lists_are_understood() -> None:
    hours = BusinessHours.parse("mon,wed 08:00-12:00 13:00-18:00", "UTC")
    assert hours.is_open(utc(2026, 11, 25, 9, 0))
    assert not hours.is_open(utc(2026, 11, 25, 12, 30))
    assert not hours.is_open(utc(2026, 11, 24, 9, 0))


@pytest.mark.parametrize(
    ("spec", "zone", "words"),
    [
        ("mon-fri 9-17", "UTC", "HH:MM-HH:MM"),
        ("fri-mon 09:00-17:00", "UTC", "backwards"),
        ("funday 09:00-17:00", "UTC", "unknown day"),
        ("mon 17:00-09:00", "UTC", "closes before it opens"),
        ("mon 25:00-26:00", "UTC", "impossible"),
        ("mon", "UTC", "no opening times"),
        ("mon 09:00-17:00", "Mars/Olympus", "time zone"),
    ],
)
def test_bad_specifications_are_refused_with_a_reason(spec: str, zone: str, words: str) -> None:
    with pytest.raises(HoursError, match=words):
        BusinessHours.parse(spec, zone)


def test_open_time_counts_only_the_hours_the_queue_is_open() -> None:
    weekdays = BusinessHours.parse("mon-fri 09:00-17:00", "America/New_York")
    friday_6pm = utc(2026, 11, 27, 23, 0)  # closed until Monday 09:00
    # 8 hours on Monday, 8 on Tuesday, and 8 on Wednesday: Wednesday 17:00 New York.
    assert weekdays.after_open_time(friday_6pm, timedelta(hours=24)) == utc(2026, 12, 2, 22, 0)
    friday_4pm = utc(2026, 11, 27, 21, 0)  # one open hour left on Friday, then Monday's 8
    assert weekdays.after_open_time(friday_4pm, timedelta(hours=3)) == utc(2026, 11, 30, 16, 0)
    assert weekdays.after_open_time(friday_4pm, timedelta(minutes=30)) == utc(2026, 11, 27, 21, 30)


def test_open_time_round_the_clock_is_clock_time_even_across_a_dst_change() -> None:
    always = BusinessHours.parse("24/7", "America/New_York")
    start = utc(2026, 11, 1, 3, 0)  # the night New York falls back an hour
    assert always.after_open_time(start, timedelta(hours=24)) == start + timedelta(hours=24)
    till_midnight = BusinessHours.parse("mon-sun 00:00-24:00", "Europe/London")
    assert till_midnight.after_open_time(start, timedelta(hours=50)) == start + timedelta(hours=50)


def test_open_time_counts_overlapping_windows_once_and_is_none_when_never_open() -> None:
    overlapping = BusinessHours.parse("mon 09:00-12:00 10:00-13:00", "UTC")
    monday_9am = utc(2026, 11, 30, 9, 0)
    assert overlapping.after_open_time(monday_9am, timedelta(hours=4)) == utc(2026, 11, 30, 13, 0)
    assert overlapping.after_open_time(monday_9am, timedelta(hours=5)) == utc(2026, 12, 7, 10, 0)
    closed = BusinessHours.parse("closed", "UTC")
    assert closed.after_open_time(monday_9am, timedelta(hours=1)) is None


@pytest.mark.parametrize(
    "spec, local",
    [
        ("mon-sun 00:00-24:00", datetime(2026, 3, 4, 23, 59, 30)),
        ("mon-sun 18:00-24:00", datetime(2026, 3, 4, 23, 59, 59, 999999)),
        ("24/7", datetime(2026, 3, 4, 23, 59, 59, 500000)),
    ],
)
def test_a_queue_open_till_midnight_is_open_in_its_last_minute(spec: str, local: datetime) -> None:
    hours = BusinessHours.parse(spec, "America/New_York")
    at = local.replace(tzinfo=ZoneInfo("America/New_York"))
    assert hours.is_open(at)
    assert hours.next_open(at) == at


def test_a_queue_closing_before_midnight_is_closed_from_its_closing_time() -> None:
    hours = BusinessHours.parse("mon-fri 09:00-17:00", "Europe/London")
    zone = ZoneInfo("Europe/London")
    assert hours.is_open(datetime(2026, 3, 4, 16, 59, 59, tzinfo=zone))
    assert not hours.is_open(datetime(2026, 3, 4, 17, 0, tzinfo=zone))
