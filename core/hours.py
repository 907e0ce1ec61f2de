"""Business hours: weekly opening windows in a time zone, and the questions the product asks of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A window closing at or after this is open till midnight (how "24:00" and "24/7" are stored).
_TILL_MIDNIGHT = time(23, 59)
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class HoursError(ValueError):
    """A business-hours specification that cannot be understood."""


@dataclass(frozen=True)
class BusinessHours:
    """Opening windows per weekday (0 = Monday) as (open, close) local times, in one time zone."""

    timezone: str
    windows: tuple[tuple[tuple[time, time], ...], ...]

    @classmethod
    def parse(cls, spec: str, timezone: str) -> BusinessHours:
        """Parse 'mon-fri 09:00-17:00; sat 10:00-14:00' (also '24/7' and 'closed')."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise HoursError(f"unknown time zone {timezone!r}") from exc
        days: list[list[tuple[time, time]]] = [[] for _ in DAYS]
        spec = spec.strip().lower()
        if spec == "24/7":
            return cls(timezone, tuple(((time(0), time(23, 59, 59)),) for _ in DAYS))
        if spec in {"", "closed"}:
            return cls(timezone, tuple(() for _ in DAYS))
        for clause in filter(None, (part.strip() for part in spec.split(";"))):
            try:
                day_part, *ranges = clause.split()
            except ValueError as exc:
                raise HoursError(f"cannot read {clause!r}") from exc
            if not ranges:
                raise HoursError(f"{clause!r} has no opening times")
            for index in _day_range(day_part):
                for window in ranges:
                    days[index].append(_window(window.rstrip(",")))
        for windows in days:
            windows.sort()
        return cls(timezone, tuple(tuple(w) for w in days))

    @property
    def zone(self) -> ZoneInfo:
        """The queue's time zone."""
        return ZoneInfo(self.timezone)

    def spec(self) -> str:
        """The canonical text form, as accepted by parse()."""
        clauses = []
        for name, windows in zip(DAYS, self.windows, strict=True):
            if windows:
                text = " ".join(f"{o:%H:%M}-{c:%H:%M}" for o, c in windows)
                clauses.append(f"{name} {text}")
        return "; ".join(clauses) or "closed"

    def is_open(self, at: datetime) -> bool:
        """Whether the queue is open at an aware instant."""
        local = at.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        # Open till midnight ("24:00" is read as 23:59, "24/7" as 23:59:59): open in the last minute too.
        return any(o <= now and (now < c or c >= _TILL_MIDNIGHT) for o, c in self.windows[local.weekday()])

    def next_open(self, at: datetime, horizon_days: int = 14) -> datetime | None:
        """The first instant at or after `at` when the queue is open (UTC), or None if never soon."""
        if self.is_open(at):
            return at
        for opening, _closing in self._windows_from(at, horizon_days):
            if opening >= at:
                return opening
        return None

    def after_open_time(self, start: datetime, open_for: timedelta, horizon_days: int = 400) -> datetime | None:
        """The instant the queue will have been open for `open_for`, counted from `start` (closed hours
        and days do not count), or None if it is not open that long within the horizon."""
        left = open_for
        counted_to = start
        for opening, closing in self._windows_from(start, horizon_days):
            local_close = closing.astimezone(self.zone)
            if local_close.time() >= _TILL_MIDNIGHT:
                # Open till midnight ("24:00" is read as 23:59, "24/7" as 23:59:59): the last minute counts.
                midnight = datetime.combine(local_close.date() + timedelta(days=1), time(0), self.zone)
                closing = midnight.astimezone(UTC)
            begin = max(opening, counted_to)  # windows that overlap are counted once
            if closing <= begin:
                continue
            if begin + left <= closing:
                return begin + left
            left -= closing - begin
            counted_to = closing
        return None

    def slots(self, start: datetime, days: int, step_minutes: int = 30) -> Iterator[datetime]:
        """Slot start times (UTC) inside opening hours from `start` for `days` days."""
        step = timedelta(minutes=step_minutes)
        for opening, closing in self._windows_from(start, days):
            slot = opening
            while slot + step <= closing:
                if slot >= start:
                    yield slot
                slot += step

    def _windows_from(self, at: datetime, days: int) -> Iterator[tuple[datetime, datetime]]:
        """Concrete (open, close) UTC instants for each window from the local day of `at` on."""
        zone = self.zone
        first: date = at.astimezone(zone).date()
        for offset in range(days + 1):
            day = first + timedelta(days=offset)
            for opening, closing in self.windows[day.weekday()]:
                start = datetime.combine(day, opening, zone).astimezone(UTC)
                end = datetime.combine(day, closing, zone).astimezone(UTC)
                if end > at:
                    yield start, end


def _day_range(text: str) -> list[int]:
    """'mon-fri' -> [0..4], 'sat' -> [5], 'mon,wed' -> [0, 2]."""
    indexes: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            a, b = _day(first), _day(last)
            if b < a:
                raise HoursError(f"day range {part!r} runs backwards")
            indexes.extend(range(a, b + 1))
        else:
            indexes.append(_day(part))
    return indexes


def _day(text: str) -> int:
    key = text.strip()[:3]
    if key not in DAYS:
        raise HoursError(f"unknown day {text!r} (use mon, tue, wed, thu, fri, sat, sun)")
    return DAYS.index(key)


def _window(text: str) -> tuple[time, time]:
    match = _WINDOW.match(text)
    if not match:
        raise HoursError(f"cannot read opening times {text!r} (use HH:MM-HH:MM)")
    oh, om, ch, cm = (int(x) for x in match.groups())
    if ch == 24 and cm == 0:
        ch, cm = 23, 59
    try:
        opening, closing = time(oh, om), time(ch, cm)
    except ValueError as exc:
        raise HoursError(f"impossible time in {text!r}") from exc
    if closing <= opening:
        raise HoursError(f"{text!r} closes before it opens")
    return opening, closing
