"""`flask --app app figures`: the figures of a period as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from agents.models import Queue
from core.clock import DAYS_IN_REACH, in_reach
from core.db import get_db
from reports import figures


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(figures_command)


@click.command("figures")
@with_appcontext
@click.option("--since", required=True, help="First day (YYYY-MM-DD, in the shop's time zone) or an ISO datetime.")
@click.option(
    "--until", help="Last day, inclusive (YYYY-MM-DD), or an ISO datetime (exclusive); default: --since's day."
)
@click.option("--queue", help="One queue by name; default: every queue and all of them together.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def figures_command(since: str, until: str | None, queue: str | None, fmt: str) -> None:
    """Print the contact-centre figures of a period (see reports/figures.py for each definition)."""
    database = get_db(current_app)
    now = current_app.extensions["clock"].now()
    with database.sessions() as session:
        queues = list(session.scalars(select(Queue).order_by(Queue.id)))
        chosen = [q for q in queues if q.name == queue] if queue else queues
        if queue and not chosen:
            known = ", ".join(q.name for q in queues)
            raise click.BadParameter(f"no queue named {queue!r} (known: {known})", param_hint="--queue")
        period = _period(since, until, figures.shop_zone(chosen))
        try:
            result = figures.report(session, period, queue, now)
        except figures.TooManyRequests as refused:
            raise click.ClickException(str(refused)) from refused
    rows = [*result.queues, *([result.total] if result.total else [])]
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(figures.FIELDS)
        for row in rows:
            data = row.as_json()
            writer.writerow(["" if data[name] is None else data[name] for name in figures.FIELDS])
        click.echo(out.getvalue(), nl=False)
    else:
        for row in rows if result.zones_differ else rows[:1]:
            zone = ZoneInfo(row.timezone)
            name = f"{row.queue}: " if result.zones_differ else ""
            click.echo(f"{name}Figures from {_local(row.since, zone)} to {_local(row.until, zone)} ({row.timezone})")
        width = max(len(label) for label, _ in figures.LABELS.values())
        columns = [max(10, len(row.queue)) for row in rows]
        click.echo(f"{'':{width}}  " + "  ".join(f"{row.queue:>{w}}" for row, w in zip(rows, columns, strict=True)))
        for name in figures.FIGURE_FIELDS:
            cells = [figures.display(name, getattr(row, name)) for row in rows]
            values = "  ".join(f"{cell:>{w}}" for cell, w in zip(cells, columns, strict=True))
            click.echo(f"{figures.LABELS[name][0]:{width}}  {values}")


def _period(since: str, until: str | None, zone: ZoneInfo) -> figures.Period:
    """Whole days (each queue's in its own zone) when both ends are dates; else exact instants, a date
    standing for its day's start (or, for --until, the next day's) and a datetime without an offset read
    in the shop's first queue's zone."""
    first, last = _day(since), _day(until or since)
    if first is not None and last is not None:
        if last < first:
            raise click.BadParameter("the period ends before it starts", param_hint="--until")
        return figures.Days(first, last)
    start = _moment(since, zone, "--since", end=False)
    end = _moment(until or since, zone, "--until", end=True)
    if end <= start:
        raise click.BadParameter("the period ends before it starts", param_hint="--until")
    return figures.Instants(start, end)


def _day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if not in_reach(day):
        raise click.BadParameter(f"{text!r}: give a date {DAYS_IN_REACH}")
    return day


def _moment(text: str, zone: ZoneInfo, hint: str, end: bool) -> datetime:
    """A date (a whole day in `zone`: its start, or the next day's start when `end`) or an ISO datetime."""
    day = _day(text)
    if day is not None:
        return figures.day_bounds(day, day, zone)[1 if end else 0]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(
            f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO datetime", param_hint=hint
        ) from error
    if not in_reach(moment.date()):
        raise click.BadParameter(f"{text!r}: give a date {DAYS_IN_REACH}", param_hint=hint)
    # A datetime without an offset is read in the shop's zone, as a person there would mean it.
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
