"""The contact-centre figures of a period, each defined once here with its formula in its docstring.

The page (/admin/figures), the command (`flask --app app figures`) and anything else that shows a
figure read it from this module, so a figure means the same wherever it is shown.

Which period a thing belongs to:
- A request, and everything that happened to it (its calls, its connection, its completion, its
  handle time, the honesty of its quote), belongs to the period in which it was offered, that is
  created: `since <= created_at < until`. A request made at 23:50 and called back at 00:20 counts on
  the day it was made, so a day's figures never mix requests with another day's calls.
- An IVR session belongs to the period in which it started.
- Occupancy is the one share of time: agents' status time is clipped to the period (and to now).

Canceled requests are told apart by who stopped them (`CallbackRequest.outcome`): withdrawn by the
customer (they canceled, declined the call, hung up holding or before an agent answered) or canceled by
us (a supervisor, the do-not-call list, an erasure the customer asked for, or a holding caller nobody
could take). The service level leaves out only what the customer stopped before the target.

Per queue: requests by their queue; IVR sessions by the topic they reached (a session that reached
none, answered or abandoned in the menu, counts only in "all"); occupancy over the queue's agents as
they are now (memberships keep no history). "All" is every request, session and agent.

What is left out: asks stored only to be counted by the rate limits (outcome "duplicate_ask") are not
requests and are excluded from every figure. A share or a mean over nothing is None ("—" on screen),
never a division by zero.

A day is a calendar day in the queue's own time zone, in the view of one queue and in the view of every
queue alike: each queue's column counts its own days ("today" is each queue's own today). "All" adds up
each queue's requests on its own days; the phone-menu sessions that reached no queue and the occupancy
of all agents are counted on the days of the shop's first queue (the first made, by id), whose zone
"all" names. A period given as two exact instants (`Instants`, from `flask figures --since <datetime>`)
is the same for every queue.

JSON fields (`Figures.as_json`, stable snake_case; timezone, since and until are the column's own
period: the zone its days are counted in, and its bounds in ISO 8601): queue, timezone, since, until,
offered, completed, failed, canceled (withdrawn + canceled_by_shop), withdrawn, canceled_by_shop,
expired, still_open, connected, average_speed_of_answer_seconds, service_level, service_level_seconds,
callback_success, calls_placed, calls_per_completion, ivr_sessions, ivr_containment, ivr_abandonment,
average_handle_seconds, average_talk_seconds, average_wrap_up_seconds, agent_occupancy,
quotes_compared, quoted_wait_mae_seconds, quoted_wait_bias_seconds. The counts add up: offered =
completed + failed + canceled + expired + still_open. Shares are fractions from 0 to 1; durations are
seconds. `Report.as_json` wraps them: since, until (ISO 8601), timezone (the first queue's period, or
the one queue's), queues (a list of those objects), all (one more, or null for a single queue), and
by_hour (24 objects: hour, offered, completed, average_speed_of_answer_seconds; the hour a request was
made on its own queue's clock).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from agents.models import AgentStatusChange, Queue, agent_queues
from callback.models import DUPLICATE_ASK, FINAL, CallAttempt, CallbackRequest
from callback.service import CANCELED_BY_CUSTOMER, FORGOTTEN
from ivr.models import IvrSession, hung_up_waiting

ALL = "all"
# Agent statuses that count as staffed time, and those of them spent on calls (occupancy).
STAFFED_STATUSES = ("available", "reserved", "on_call", "wrap_up")
BUSY_STATUSES = ("reserved", "on_call", "wrap_up")
CANCELED = "canceled"
# A canceled request's outcome when the customer stopped it: they canceled it, declined the call when we
# rang ("don't connect me"), or (a phone-menu caller) hung up while holding or while an agent was rung.
WITHDRAWN_OUTCOMES = frozenset({CANCELED_BY_CUSTOMER, "declined", "hung_up_on_hold", "caller_hung_up"})
# Stopped by us but at the customer's own wish: their number went on the do-not-call list, or they asked
# to be forgotten. Any other canceled request (a supervisor's cancel, a holding caller nobody could take,
# no reason recorded) was canceled by us.
AT_THEIR_WISH = frozenset({"do_not_call", FORGOTTEN})
# A request's outcomes that say its caller, holding on the line (or taken out of it while an agent rang),
# hung up before an agent came.
HOLDER_HUNG_UP = ("hung_up_on_hold", "caller_hung_up")


# --- the facts the figures are computed from -------------------------------------------------------


@dataclass(frozen=True)
class RequestFacts:
    """One offered request, as the figures need it."""

    queue: str
    status: str
    outcome: str | None  # why it ended (CallbackRequest.outcome): who canceled a canceled one
    created_at: datetime
    due_at: datetime  # when it was first due: max(created_at, not_before)
    finished_at: datetime  # when it last changed (for a final status: when it ended)
    connected_at: datetime | None  # the first bridge of any of its calls
    calls_placed: int  # calls to the customer's number (attempts with dialled_at)
    quoted_wait_seconds: int | None
    service_level_seconds: int


@dataclass(frozen=True)
class CallFacts:
    """One connected call (an attempt that was bridged to an agent) and its handle time."""

    queue: str
    talk_seconds: float
    wrap_up_seconds: float


@dataclass(frozen=True)
class IvrFacts:
    """One finished phone-menu session."""

    queue: str | None  # the topic the caller reached, if any
    outcome: str  # contained | transferred | callback | hold | abandoned
    holder_hung_up: bool  # held for an agent and hung up before one came


@dataclass(frozen=True)
class StatusSpan:
    """An agent in one status for a stretch of time, already clipped to the period."""

    agent_id: int
    status: str
    seconds: float


# --- the figures ------------------------------------------------------------------------------------


def offered(requests: Sequence[RequestFacts]) -> int:
    """Requests offered: every request created in the period, whatever its source (web, API, IVR)."""
    return len(requests)


def count_status(requests: Sequence[RequestFacts], status: str) -> int:
    """Requests of the period whose status is now `status` (completed, failed, canceled, expired)."""
    return sum(1 for r in requests if r.status == status)


def still_open(requests: Sequence[RequestFacts]) -> int:
    """Requests of the period not over yet: waiting, booked for later, being called or talking.

    Offered = completed + failed + canceled + expired + still open."""
    return sum(1 for r in requests if r.status not in FINAL)


def decided(requests: Sequence[RequestFacts]) -> int:
    """Requests of the period that are over, whichever way (offered - still open)."""
    return offered(requests) - still_open(requests)


def withdrawn(requests: Sequence[RequestFacts]) -> int:
    """Withdrawn by the customer: canceled requests whose outcome is one of WITHDRAWN_OUTCOMES."""
    return sum(1 for r in requests if r.status == CANCELED and r.outcome in WITHDRAWN_OUTCOMES)


def canceled_by_shop(requests: Sequence[RequestFacts]) -> int:
    """Canceled by us: every other canceled request (canceled = withdrawn + canceled by us)."""
    return count_status(requests, CANCELED) - withdrawn(requests)


def connected(requests: Sequence[RequestFacts]) -> int:
    """Requests whose customer was put through to an agent at least once."""
    return sum(1 for r in requests if r.connected_at is not None)


def average_speed_of_answer(requests: Sequence[RequestFacts]) -> float | None:
    """ASA = mean over connected requests of (first connection - due), due = max(created_at, not_before);
    the first connection is the first bridge, or when a call still under way was put through (the
    agent's acceptance; agent-first, the customer's greeting).

    Counted from when the request became due, not from when it was made: a customer who asked to be
    called tomorrow at nine did not wait overnight. A bridge before due (a customer reached, then
    rescheduled to a later slot) counts as 0.
    """
    waits = [_seconds(r.connected_at - r.due_at) for r in requests if r.connected_at is not None]
    return _mean(waits)


def service_level(requests: Sequence[RequestFacts], now: datetime) -> float | None:
    """SL = connected within T / (offered - stopped at the customer's wish within T - undecided),
    T = queue's service_level_seconds.

    "Within T" is counted from due (as ASA). The denominator is the offered requests, not the
    connected ones: a share of connected requests alone would score a line that reaches nobody at
    100%. As in the usual contact-centre convention (answered in T / (offered - abandoned in T)), a
    request the customer stopped before T passed is left out: the line had not yet failed them. That
    is one withdrawn by the customer (WITHDRAWN_OUTCOMES), or stopped by us at their wish (their
    number on the do-not-call list, their data erased at their demand: AT_THEIR_WISH). A request we
    canceled for any other reason (a supervisor's cancel, a holding caller nobody could take) counts
    as missed whenever it was canceled: else canceling a request about to miss its target would raise
    the service level. Canceled after T, failed, expired, or still waiting past T all count as missed.
    A request still waiting whose T has not run out at `now` is undecided and left out.
    """
    met = judged = 0
    for r in requests:
        deadline = r.due_at + timedelta(seconds=r.service_level_seconds)
        if r.connected_at is not None:
            judged += 1
            met += r.connected_at <= deadline
        elif r.status == CANCELED and r.finished_at < deadline and r.outcome in WITHDRAWN_OUTCOMES | AT_THEIR_WISH:
            continue
        elif deadline > now and r.status not in FINAL:
            continue
        else:
            judged += 1
    return _share(met, judged)


def callback_success(requests: Sequence[RequestFacts]) -> float | None:
    """Callback success = completed / decided (offered - still open).

    Over the requests that are over, not all offered: a request still waiting may yet be completed,
    so counting it as not completed would read today low all day and rise as the line empties."""
    return _share(count_status(requests, "completed"), decided(requests))


def calls_placed(requests: Sequence[RequestFacts]) -> int:
    """Calls placed = attempts with dialled_at (calls to the customer's number; a holder put through has none)."""
    return sum(r.calls_placed for r in requests)


def calls_per_completion(requests: Sequence[RequestFacts]) -> float | None:
    """Calls per completion = calls placed / completed (retries raise it; 1.0 means every call worked)."""
    completed = count_status(requests, "completed")
    return calls_placed(requests) / completed if completed else None


def ivr_containment(sessions: Sequence[IvrFacts]) -> float | None:
    """IVR containment = sessions contained (answered by the menu, no agent) / finished IVR sessions."""
    return _share(sum(1 for s in sessions if s.outcome == "contained"), len(sessions))


def ivr_abandonment(sessions: Sequence[IvrFacts]) -> float | None:
    """IVR abandonment = (hung up in the menu + hung up holding before an agent came) / finished IVR sessions.

    A menu hang-up is outcome "abandoned" (the caller left without their answer). A holder who hung up
    before an agent came is outcome "hold" whose call's path ends with the hang-up (IvrSession's
    `hung_up_waiting`: in the line, or taken out of it while an agent's phone rang), or whose request
    ended so ("hung_up_on_hold", "caller_hung_up"); counted once either way. A request of theirs from
    before the call waits on untouched, so the call, not the request, says it.
    """
    left = sum(1 for s in sessions if s.outcome == "abandoned" or s.holder_hung_up)
    return _share(left, len(sessions))


def average_talk(calls: Sequence[CallFacts]) -> float | None:
    """Average talk = mean talk_seconds over connected calls (bridged to ended when talk_seconds is unknown)."""
    return _mean([c.talk_seconds for c in calls])


def average_wrap_up(calls: Sequence[CallFacts]) -> float | None:
    """Average wrap-up = mean over connected calls of the agent's wrap_up status after it, from its
    AgentStatusChange row to the agent's next row (the queue's wrap_up_seconds when no row is found)."""
    return _mean([c.wrap_up_seconds for c in calls])


def average_handle_time(calls: Sequence[CallFacts]) -> float | None:
    """AHT = mean over connected calls of (talk + wrap-up)."""
    return _mean([c.talk_seconds + c.wrap_up_seconds for c in calls])


def agent_occupancy(spans: Sequence[StatusSpan]) -> float | None:
    """Occupancy = time (reserved + on_call + wrap_up) / time staffed (available + reserved + on_call + wrap_up).

    Reserved counts as busy: in a callback line the agent is held for one call from the claim, through
    the dialling, the ringing and the customer's "press 1", and can take no other. Away and offline
    are not staffed time. Each status lasts until the agent's next status row, clipped to the period
    (and to now).
    """
    staffed = sum(s.seconds for s in spans if s.status in STAFFED_STATUSES)
    busy = sum(s.seconds for s in spans if s.status in BUSY_STATUSES)
    return busy / staffed if staffed > 0 else None


def quote_errors(requests: Sequence[RequestFacts]) -> list[float]:
    """Each quote's error = actual wait - quoted wait, actual = first bridged_at - created_at, in seconds,
    for connected requests that were given a quote (the quote is counted from created_at too)."""
    return [
        _seconds(r.connected_at - r.created_at) - r.quoted_wait_seconds
        for r in requests
        if r.connected_at is not None and r.quoted_wait_seconds is not None
    ]


def quoted_wait_mae(requests: Sequence[RequestFacts]) -> float | None:
    """Quoted-wait MAE = mean |actual - quoted| (how far off the wait we told customers was, either way)."""
    return _mean([abs(e) for e in quote_errors(requests)])


def quoted_wait_bias(requests: Sequence[RequestFacts]) -> float | None:
    """Quoted-wait bias = mean (actual - quoted). Positive: customers waited longer than we told them
    (our quotes were too optimistic); negative: they were called sooner than promised."""
    return _mean(quote_errors(requests))


# --- all of them together ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Every figure of one queue (or "all") for one period."""

    queue: str
    timezone: str  # the zone the column's days are counted in
    since: datetime  # the column's own [since, until), in UTC
    until: datetime
    offered: int
    completed: int
    failed: int
    canceled: int
    withdrawn: int
    canceled_by_shop: int
    expired: int
    still_open: int
    connected: int
    average_speed_of_answer_seconds: float | None
    service_level: float | None
    service_level_seconds: int | None  # the target T; None for "all" when queues differ
    callback_success: float | None
    calls_placed: int
    calls_per_completion: float | None
    ivr_sessions: int
    ivr_containment: float | None
    ivr_abandonment: float | None
    average_handle_seconds: float | None
    average_talk_seconds: float | None
    average_wrap_up_seconds: float | None
    agent_occupancy: float | None
    quotes_compared: int
    quoted_wait_mae_seconds: float | None
    quoted_wait_bias_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types under the stable field names listed in the module's docstring."""
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        return data


FIELDS = tuple(Figures.__dataclass_fields__)
# What each column says of itself (its queue and period), then the figures a person reads in the table.
PERIOD_FIELDS = ("queue", "timezone", "since", "until")
FIGURE_FIELDS = tuple(name for name in FIELDS if name not in PERIOD_FIELDS)

# Each figure's name on screen and a plain sentence of what it means (the docstrings above give the formula).
LABELS: dict[str, tuple[str, str]] = {
    "offered": ("Offered", "Requests made in the period, from the web, the API or the phone menu."),
    "completed": ("Completed", "Of those, the ones that ended with a conversation with an agent."),
    "failed": ("Failed", "Given up after the last call attempt, or refused (bad number, call limit)."),
    "canceled": ("Canceled", "Withdrawn by the customer or canceled by us: the two rows below."),
    "withdrawn": (
        "Withdrawn by the customer",
        "They canceled, declined our call, or hung up while holding or before an agent answered.",
    ),
    "canceled_by_shop": (
        "Canceled by us",
        "By a supervisor, for the do-not-call list or an erasure the customer asked for, "
        "or because nobody could take a caller holding on the line.",
    ),
    "expired": ("Expired", "Not reached before the request's expiry."),
    "still_open": (
        "Still open",
        "Not over yet: waiting, booked for later, being called or talking. "
        "Offered = completed + failed + canceled + expired + still open.",
    ),
    "connected": ("Connected", "Put through to an agent at least once."),
    "average_speed_of_answer_seconds": (
        "Average speed of answer",
        "Mean time from when a request was due to when the customer was put through to an agent.",
    ),
    "service_level": (
        "Service level",
        "Share of requests put through within the queue's target, counted from when each was due. Left out: "
        "requests the customer withdrew, or asked us to stop (do-not-call, erasure), before the target passed. "
        "Anything else not put through in time counts as missed, including requests we canceled, whenever.",
    ),
    "service_level_seconds": ("Service level target", "The target time behind the service level."),
    "callback_success": (
        "Callback success",
        "Completed requests as a share of those decided (offered minus still open), so open requests "
        "do not lower it while they wait.",
    ),
    "calls_placed": ("Calls placed", "Calls made to customers' numbers, retries included."),
    "calls_per_completion": ("Calls per completion", "Calls placed for each completed request (1.0 is ideal)."),
    "ivr_sessions": ("Phone menu calls", "Calls into the phone menu that have ended."),
    "ivr_containment": ("Menu containment", "Share of menu calls answered by the menu without an agent."),
    "ivr_abandonment": (
        "Menu abandonment",
        "Share of menu calls where the caller hung up without an answer, or while holding for an agent.",
    ),
    "average_handle_seconds": ("Average handle time", "Mean talk time plus wrap-up of each connected call."),
    "average_talk_seconds": ("Average talk time", "Mean time customer and agent spent talking."),
    "average_wrap_up_seconds": ("Average wrap-up", "Mean time agents spent wrapping up after a call."),
    "agent_occupancy": (
        "Agent occupancy",
        "Share of agents' signed-in time spent on calls (reserved, talking or wrapping up).",
    ),
    "quotes_compared": ("Quotes compared", "Connected requests that had been given an estimated wait."),
    "quoted_wait_mae_seconds": (
        "Quoted wait: mean error",
        "How far, on average, the wait we told customers was from the wait they had, either way.",
    ),
    "quoted_wait_bias_seconds": (
        "Quoted wait: bias",
        "Positive: customers waited longer than we told them; negative: they were called sooner.",
    ),
}
# Figures that are a part of the one above them on the page (canceled = withdrawn + canceled by us).
PARTS = frozenset({"withdrawn", "canceled_by_shop"})
SHARES = frozenset({"service_level", "callback_success", "ivr_containment", "ivr_abandonment", "agent_occupancy"})
DURATIONS = frozenset(name for name in FIELDS if name.endswith("_seconds"))


def display(name: str, value: float | int | str | None) -> str:
    """A figure as a person reads it: "—" for none, shares as percentages, durations as "4m 48s"."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if name in SHARES:
        return f"{value * 100:.1f}%"
    if name in DURATIONS:
        sign = "-" if value < 0 else ""
        whole = round(abs(value))
        hours, rest = divmod(whole, 3600)
        if hours:
            return f"{sign}{hours}h {rest // 60:02d}m"
        return f"{sign}{rest // 60}m {rest % 60:02d}s"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@dataclass(frozen=True)
class HourFigures:
    """The figures charted by hour of the day (local time), for requests offered in that hour."""

    hour: int
    offered: int
    completed: int
    average_speed_of_answer_seconds: float | None


@dataclass(frozen=True)
class Report:
    """A period's figures: each queue's, all queues', and the hourly series of the chosen scope."""

    since: datetime  # the first queue's period (the one queue's when one was asked for)
    until: datetime
    zone: str
    queues: list[Figures]
    total: Figures | None  # None when one queue was asked for
    hours: list[HourFigures]

    @property
    def zones_differ(self) -> bool:
        """Whether the queues shown count their days in different zones (each column then says its own)."""
        return len({f.timezone for f in self.queues}) > 1

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON types, times in ISO 8601."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.zone,
            "queues": [f.as_json() for f in self.queues],
            ALL: self.total.as_json() if self.total else None,
            "by_hour": [asdict(h) for h in self.hours],
        }


class UnknownQueue(ValueError):
    """No queue by that name."""


def compute(
    name: str,
    bounds: Bounds,
    requests: Sequence[RequestFacts],
    calls: Sequence[CallFacts],
    sessions: Sequence[IvrFacts],
    spans: Sequence[StatusSpan],
    now: datetime,
    target: int | None,
) -> Figures:
    """Every figure from the facts of one scope."""
    errors = quote_errors(requests)
    return Figures(
        queue=name,
        timezone=bounds.zone.key,
        since=bounds.since,
        until=bounds.until,
        offered=offered(requests),
        completed=count_status(requests, "completed"),
        failed=count_status(requests, "failed"),
        canceled=count_status(requests, CANCELED),
        withdrawn=withdrawn(requests),
        canceled_by_shop=canceled_by_shop(requests),
        expired=count_status(requests, "expired"),
        still_open=still_open(requests),
        connected=connected(requests),
        average_speed_of_answer_seconds=average_speed_of_answer(requests),
        service_level=service_level(requests, now),
        service_level_seconds=target,
        callback_success=callback_success(requests),
        calls_placed=calls_placed(requests),
        calls_per_completion=calls_per_completion(requests),
        ivr_sessions=len(sessions),
        ivr_containment=ivr_containment(sessions),
        ivr_abandonment=ivr_abandonment(sessions),
        average_handle_seconds=average_handle_time(calls),
        average_talk_seconds=average_talk(calls),
        average_wrap_up_seconds=average_wrap_up(calls),
        agent_occupancy=agent_occupancy(spans),
        quotes_compared=len(errors),
        quoted_wait_mae_seconds=quoted_wait_mae(requests),
        quoted_wait_bias_seconds=quoted_wait_bias(requests),
    )


def by_hour(requests: Sequence[RequestFacts], zones: dict[str, ZoneInfo]) -> list[HourFigures]:
    """Offered, completed and ASA by hour of the day (0-23), of requests offered in that hour on their
    own queue's clock (`zones`: queue name -> zone)."""
    hours: list[list[RequestFacts]] = [[] for _ in range(24)]
    for r in requests:
        hours[r.created_at.astimezone(zones[r.queue]).hour].append(r)
    return [
        HourFigures(hour, offered(rs), count_status(rs, "completed"), average_speed_of_answer(rs))
        for hour, rs in enumerate(hours)
    ]


def report(session: Session, period: Period, queue: str | None, now: datetime) -> Report:
    """The figures of `period` for one queue by name, or for each queue and all of them (None).

    Each queue's column covers the period on its own zone's days (module docstring)."""
    queues = list(session.scalars(select(Queue).order_by(Queue.id)))
    if queue is not None:
        queues = [q for q in queues if q.name == queue]
        if not queues:
            raise UnknownQueue(queue)
    first = bounds_of(period, shop_zone(queues))
    bounds = {q.name: bounds_of(period, q.business_hours.zone) for q in queues}
    requests, calls = _requests(session, bounds, {q.id: q.name for q in queues}, now)
    sessions = _ivr_sessions(session, bounds, first)
    facts: dict[str, tuple[list[RequestFacts], list[CallFacts], list[IvrFacts]]] = {
        q.name: ([], [], []) for q in queues
    }
    for r in requests:
        facts[r.queue][0].append(r)
    for c in calls:
        facts[c.queue][1].append(c)
    for ivr in sessions:
        if ivr.queue in facts:
            facts[ivr.queue][2].append(ivr)
    rows = [
        compute(
            q.name,
            bounds[q.name],
            *facts[q.name],
            _status_spans(session, bounds[q.name].since, min(bounds[q.name].until, now), q.id),
            now,
            q.service_level_seconds,
        )
        for q in queues
    ]
    total = None
    if queue is None:
        targets = {q.service_level_seconds for q in queues}
        # "All" IVR sessions include those that never reached a queue (answered in the menu, or hung up).
        total = compute(
            ALL,
            first,
            requests,
            calls,
            sessions,
            _status_spans(session, first.since, min(first.until, now), None),
            now,
            targets.pop() if len(targets) == 1 else None,
        )
    zones = {q.name: q.business_hours.zone for q in queues}
    return Report(first.since, first.until, first.zone.key, rows, total, by_hour(requests, zones))


# --- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """Calendar days `first` to `last` (inclusive), counted in each queue's own zone."""

    first: date
    last: date


@dataclass(frozen=True)
class Preset:
    """A named stretch of days (today, yesterday, last7: see `preset`) as of `now`, on each queue's own clock."""

    name: str
    now: datetime


@dataclass(frozen=True)
class Instants:
    """Exactly [since, until), the same for every queue."""

    since: datetime
    until: datetime


Period = Days | Preset | Instants


@dataclass(frozen=True)
class Bounds:
    """One column's period: [since, until) in UTC, and the zone its days were counted in."""

    since: datetime
    until: datetime
    zone: ZoneInfo


def bounds_of(period: Period, zone: ZoneInfo) -> Bounds:
    """The period as a queue in `zone` counts it."""
    if isinstance(period, Instants):
        return Bounds(period.since, period.until, zone)
    first, last = (period.first, period.last) if isinstance(period, Days) else preset(period.name, period.now, zone)
    return Bounds(*day_bounds(first, last, zone), zone)


def shop_zone(queues: Iterable[Queue]) -> ZoneInfo:
    """The zone of the shop's first queue (the first made: lowest id), UTC when there is none.

    The one rule for "the shop's zone" wherever one zone stands for all queues: the board's clock
    times, the figures of "all", the days the figures page offers."""
    first = min(queues, key=lambda q: q.id, default=None)
    return first.business_hours.zone if first is not None else ZoneInfo("UTC")


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[since, until) covering the calendar days first..last (inclusive) in `zone`, in UTC."""
    since = datetime.combine(first, time(0), zone)
    until = datetime.combine(last + timedelta(days=1), time(0), zone)
    return since.astimezone(ZoneInfo("UTC")), until.astimezone(ZoneInfo("UTC"))


def preset(name: str, now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last day of a named period: today, yesterday, last7 (today and the six days before)."""
    today = now.astimezone(zone).date()
    if name == "today":
        return today, today
    if name == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if name == "last7":
        return today - timedelta(days=6), today
    raise ValueError(f"unknown period {name!r}")


# --- reading the facts -----------------------------------------------------------------------------


def _made_within(bounds: dict[str, Bounds], names: dict[int, str]) -> ColumnElement[bool]:
    """Requests of these queues made within each one's own period (queues sharing a period grouped)."""
    r = CallbackRequest
    groups: dict[tuple[datetime, datetime], list[int]] = {}
    for queue_id, name in names.items():
        groups.setdefault((bounds[name].since, bounds[name].until), []).append(queue_id)
    return or_(
        *(
            and_(r.created_at >= since, r.created_at < until, r.queue_id.in_(ids))
            for (since, until), ids in groups.items()
        )
    )


def _requests(
    session: Session, bounds: dict[str, Bounds], names: dict[int, str], now: datetime
) -> tuple[list[RequestFacts], list[CallFacts]]:
    r = CallbackRequest
    rows = session.scalars(
        select(r)
        .options(selectinload(r.call_attempts).selectinload(CallAttempt.agent_legs))
        .where(_made_within(bounds, names), or_(r.outcome.is_(None), r.outcome != DUPLICATE_ASK))
        .order_by(r.id)
    ).all()
    wrap_ups = _WrapUps(session, _agents_of(rows), min(b.since for b in bounds.values()))
    requests: list[RequestFacts] = []
    calls: list[CallFacts] = []
    for req in rows:
        name = names[req.queue_id]
        bridged = [a for a in req.call_attempts if a.bridged_at is not None]
        requests.append(
            RequestFacts(
                queue=name,
                status=req.status,
                outcome=req.outcome,
                created_at=req.created_at,
                due_at=req.wanted_at,
                finished_at=req.updated_at,
                connected_at=_connected_at(req, bridged),
                calls_placed=sum(1 for a in req.call_attempts if a.dialled_at is not None),
                quoted_wait_seconds=req.quoted_wait_seconds,
                service_level_seconds=req.queue.service_level_seconds,
            )
        )
        for attempt in bridged:
            talk = _talk_seconds(attempt)
            if talk is None:
                continue  # still talking: its handle time is not known yet
            wrap = wrap_ups.after(_agent_of(attempt), attempt.bridged_at or req.created_at, now)
            calls.append(CallFacts(name, talk, req.queue.wrap_up_seconds if wrap is None else wrap))
    return requests, calls


def _connected_at(req: CallbackRequest, bridged: list[CallAttempt]) -> datetime | None:
    """When the customer first talked with an agent. Twilio confirms a bridge only when the
    conversation ends (the Dial action), so a request on the line now counts from when it was put
    through (the acceptance; agent-first, the greeting): a long call is not a service-level miss, nor
    missing from the speed of answer, while it lasts. Being read afresh each time, a put-through whose
    bridge then fails (a hang-up during the greeting) stops counting; only a confirmed bridge stays."""
    first = min((a.bridged_at for a in bridged if a.bridged_at), default=None)
    if first is None and req.status == "connected":
        first = min((a.put_through_at for a in req.call_attempts if a.put_through_at), default=None)
    return first


def _talk_seconds(attempt: CallAttempt) -> float | None:
    if attempt.talk_seconds is not None:
        return float(attempt.talk_seconds)
    if attempt.ended_at is not None and attempt.bridged_at is not None:
        return _seconds(attempt.ended_at - attempt.bridged_at)
    return None


def _agent_of(attempt: CallAttempt) -> int | None:
    """The agent who talked: the attempt's, else the one whose leg was accepted."""
    if attempt.agent_id is not None:
        return attempt.agent_id
    accepted = [leg.agent_id for leg in attempt.agent_legs if leg.accepted_at is not None]
    return accepted[-1] if accepted else None


def _agents_of(rows: Iterable[CallbackRequest]) -> set[int]:
    return {
        agent
        for req in rows
        for attempt in req.call_attempts
        if attempt.bridged_at is not None and (agent := _agent_of(attempt)) is not None
    }


class _WrapUps:
    """The agents' status rows, to find the wrap-up that followed a call."""

    def __init__(self, session: Session, agent_ids: set[int], since: datetime) -> None:
        self.rows: dict[int, list[AgentStatusChange]] = {}
        if agent_ids:
            # Calls of the period's requests were bridged after `since`: older rows cannot follow them.
            for row in session.scalars(
                select(AgentStatusChange)
                .where(AgentStatusChange.agent_id.in_(agent_ids), AgentStatusChange.at >= since)
                .order_by(AgentStatusChange.agent_id, AgentStatusChange.at, AgentStatusChange.id)
            ):
                self.rows.setdefault(row.agent_id, []).append(row)

    def after(self, agent_id: int | None, bridged_at: datetime, now: datetime) -> float | None:
        """Seconds of the agent's first wrap_up after `bridged_at`; None if there is none before the
        agent is reserved for another call, or it has not ended yet."""
        rows = [row for row in self.rows.get(agent_id or -1, []) if row.at >= bridged_at]
        for i, row in enumerate(rows):
            if row.status == "reserved":
                return None  # on to another call with no wrap-up recorded for this one
            if row.status == "wrap_up":
                return _seconds(rows[i + 1].at - row.at) if i + 1 < len(rows) else None
        return None


def _ivr_sessions(session: Session, bounds: dict[str, Bounds], first: Bounds) -> list[IvrFacts]:
    """The finished sessions started in the period: on their topic queue's days, or on the first
    queue's for a session that reached none (counted only in "all")."""
    since = min([first.since, *(b.since for b in bounds.values())])
    until = max([first.until, *(b.until for b in bounds.values())])
    rows = session.execute(
        select(
            IvrSession.topic,
            IvrSession.outcome,
            IvrSession.ended_at,
            IvrSession.started_at,
            CallbackRequest.outcome,
            # The path only where it can tell a holder's hang-up (a few sessions), not every menu call's.
            case((IvrSession.outcome == "hold", IvrSession.steps)),
        )
        .outerjoin(CallbackRequest, IvrSession.request_id == CallbackRequest.id)
        .where(IvrSession.started_at >= since, IvrSession.started_at < until)
    ).all()
    facts = []
    for topic, outcome, ended_at, started_at, request_outcome, steps in rows:
        if outcome is None and ended_at is None:
            continue  # still in the menu: not decided yet
        own = bounds.get(topic or "", first)
        if not own.since <= started_at < own.until:
            continue  # within the widest period, not within its own queue's
        hung_up = outcome == "hold" and (request_outcome in HOLDER_HUNG_UP or hung_up_waiting(steps))
        facts.append(IvrFacts(topic, outcome or "abandoned", hung_up))
    return facts


def _status_spans(session: Session, since: datetime, until: datetime, queue_id: int | None) -> list[StatusSpan]:
    """Each agent's statuses within [since, until): the one in force at `since`, then every change.

    For one queue, its agents as they are now (membership history is not kept).
    """
    if until <= since:
        return []
    change = AgentStatusChange
    members = select(agent_queues.c.agent_id).where(agent_queues.c.queue_id == queue_id)
    latest = select(change.agent_id, func.max(change.at).label("at")).where(change.at <= since)
    if queue_id is not None:
        latest = latest.where(change.agent_id.in_(members))
    starts = latest.group_by(change.agent_id).subquery()
    in_force = select(change).join(starts, (change.agent_id == starts.c.agent_id) & (change.at == starts.c.at))
    later = select(change).where(change.at > since, change.at < until)
    if queue_id is not None:
        later = later.where(change.agent_id.in_(members))
    found = {row.id: row for row in [*session.scalars(in_force), *session.scalars(later)]}
    rows = sorted(found.values(), key=lambda row: (row.agent_id, row.at, row.id))
    spans: list[StatusSpan] = []
    for i, row in enumerate(rows):
        same_agent_next = i + 1 < len(rows) and rows[i + 1].agent_id == row.agent_id
        end = rows[i + 1].at if same_agent_next else until
        start = max(row.at, since)
        if end > start:
            spans.append(StatusSpan(row.agent_id, row.status, _seconds(end - start)))
    return spans


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
