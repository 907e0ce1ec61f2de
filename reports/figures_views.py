"""The figures page at /admin/figures (supervisors and admins): a period, a queue, the table and charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from agents.auth import staff_required
from agents.models import Queue
from core.clock import DAYS_IN_REACH, in_reach
from core.web import clock, session
from reports import figures

bp = Blueprint("figures", __name__, url_prefix="/admin/figures")

PERIODS = (("today", "Today"), ("yesterday", "Yesterday"), ("last7", "Last 7 days"), ("range", "From … to …"))
# A longer range is no use on a page (and figures.MOST_REQUESTS bounds what any range may hold).
LONGEST_RANGE = timedelta(days=366)
CHART_BUNDLE = "vendor/chart.min.js"


@dataclass(frozen=True)
class Choice:
    """What the person asked for, as the form shows it back."""

    period: str
    first: date
    last: date
    queue: str


@bp.get("")
@staff_required("supervisor")
def page() -> ResponseReturnValue:
    """The figures of the chosen period and queue, with hourly charts when the chart bundle is built."""
    db = session()
    now = clock().now()
    queues = list(db.scalars(select(Queue).order_by(Queue.id)))
    queue_name = request.args.get("queue", "")
    chosen = [q for q in queues if q.name == queue_name]
    # The dates the form shows back: the chosen queue's, else the shop's first queue's (each column
    # then counts the same days in its own zone).
    zone = figures.shop_zone(chosen or queues)
    choice, error = _choice(request.args, now, zone, queue_name)
    if queue_name and not chosen:
        error = f"There is no queue named {queue_name!r}."
    context: dict[str, Any] = {
        "periods": PERIODS,
        "queues": queues,
        "choice": choice,
        "error": error,
        "labels": figures.LABELS,
        "fields": figures.FIGURE_FIELDS,
        "parts": figures.PARTS,
        "display": figures.display,
        "chart_bundle": _chart_bundle_built(),
        "most_requests": figures.MOST_REQUESTS,
    }
    if error:
        return render_template("admin/figures.html", **context), 400
    period = figures.Days(choice.first, choice.last) if choice.period == "range" else figures.Preset(choice.period, now)
    try:
        result = figures.report(db, period, queue_name or None, now)
    except figures.TooManyRequests as refused:
        # Refused before reading it: the page answers at once rather than running past gunicorn's timeout.
        return render_template("admin/figures.html", **(context | {"error": str(refused)})), 400
    rows = [*result.queues, *([result.total] if result.total else [])]
    names = {q.name: q.display_name for q in queues} | {figures.ALL: "All queues"}
    context |= {
        "local_days": _local_days,
        "result": result,
        "rows": rows,
        "names": names,
        "chart_data": {
            "hours": [f"{h.hour:02d}:00" for h in result.hours],
            "offered": [h.offered for h in result.hours],
            "completed": [h.completed for h in result.hours],
            # Minutes read better on an axis than seconds.
            "speed_of_answer_minutes": [
                None if h.average_speed_of_answer_seconds is None else round(h.average_speed_of_answer_seconds / 60, 1)
                for h in result.hours
            ],
        },
    }
    return render_template("admin/figures.html", **context)


def _choice(args: Any, now: datetime, zone: ZoneInfo, queue: str) -> tuple[Choice, str | None]:
    """The period asked for (today by default), or today and the reason it was refused."""
    period = args.get("period", "today")
    now_date = now.astimezone(zone).date()
    today = Choice("today", now_date, now_date, queue)
    if period == "range":
        try:
            first = date.fromisoformat(args.get("from", ""))
            last = date.fromisoformat(args.get("to", "") or args.get("from", ""))
        except ValueError:
            return today, "Give the range as two dates, from and to."
        if not (in_reach(first) and in_reach(last)):
            return today, f"Give dates {DAYS_IN_REACH}."
        if first > now_date:
            return Choice("range", first, last, queue), "That period has not begun yet."
        if last < first:
            return Choice("range", first, last, queue), "The range ends before it starts."
        if last - first >= LONGEST_RANGE:
            return Choice("range", first, last, queue), "Choose a range of at most a year."
        return Choice("range", first, last, queue), None
    try:
        first, last = figures.preset(period, now, zone)
    except ValueError:
        return today, "Choose today, yesterday, the last 7 days or a range."
    return Choice(period, first, last, queue), None


def _local_days(row: figures.Figures) -> tuple[date, date]:
    """The first and last day a column counts, on its own zone's calendar."""
    zone = ZoneInfo(row.timezone)
    return row.since.astimezone(zone).date(), (row.until - timedelta(microseconds=1)).astimezone(zone).date()


def _chart_bundle_built() -> bool:
    """Whether `make assets` built the chart bundle (npm may be missing outside CI: the tables suffice)."""
    folder = current_app.static_folder
    return folder is not None and (Path(folder) / CHART_BUNDLE).is_file()
