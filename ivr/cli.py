"""Operator commands for the phone tree."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from agents.models import Queue
from core.db import get_db
from ivr.tree import DEFAULT_QUEUE_NAMES, Tree, TreeError, load_tree
from recordings import prompts

log = logging.getLogger(__name__)

ivr_cli = AppGroup("ivr", help="Check the phone tree callers hear.")


def init_app(app: Flask) -> None:
    """Register the `ivr` command group."""
    app.cli.add_command(ivr_cli)


def known_queues(app: Flask) -> tuple[str, ...]:
    """The queue names in the database, or the default ones when it has none or cannot be read."""
    try:
        with get_db(app).sessions() as session:
            names = tuple(session.scalars(select(Queue.name).order_by(Queue.name)))
    except (KeyError, SQLAlchemyError) as error:
        # Checking a file must work before the database is set up: the default queues are created then.
        log.debug("ivr check: queues not readable from the database (%s); using the defaults", error)
        return DEFAULT_QUEUE_NAMES
    return names or DEFAULT_QUEUE_NAMES


def missing_prompts(app: Flask, tree: Tree) -> list[str] | None:
    """Warnings for the prompts the tree plays that the shop has not uploaded; None if unknowable."""
    uses = tree.prompt_uses()
    if not uses:
        return []
    try:
        with get_db(app).sessions() as session:
            missing = set(prompts.missing(session, [name for _, name in uses]))
    except (KeyError, SQLAlchemyError) as error:
        log.debug("ivr check: prompts not readable from the database (%s)", error)
        return None
    return [
        f"warning: {where}: there is no prompt called {name!r}; callers hear the sentence instead "
        f"(add it with: flask --app app prompts add {name} FILE)"
        for where, name in uses
        if name in missing
    ]


@ivr_cli.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 when a prompt the tree plays does not exist, too.")
def check_command(file: Path, strict: bool) -> None:
    """Check a phone tree file; print every problem, one a line, and exit 1 if there are any.

    A prompt the tree plays (`play: NAME`) that does not exist is a warning, not a problem: callers
    hear the sentence beside it instead, so the tree works. With --strict it fails the check too.
    """
    try:
        tree = load_tree(file, queues=known_queues(current_app))
    except TreeError as error:
        for problem in error.problems:
            click.echo(problem)
        raise click.exceptions.Exit(1) from error
    warnings = missing_prompts(current_app, tree)
    if warnings is None:
        click.echo("warning: prompts not checked: the database cannot be read")
    for warning in warnings or ():
        click.echo(warning)
    click.echo(f"OK: {len(tree.nodes)} nodes, reachable from {tree.start!r}, in {', '.join(tree.languages)}")
    if strict and warnings:
        raise click.exceptions.Exit(1)


@ivr_cli.command("report")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366), help="How far back to count.")
def report_command(days: int) -> None:
    """How calls through the phone menu ended, and the containment rate (answered without an agent)."""
    from datetime import timedelta

    from ivr.report import languages, outcomes

    now = current_app.extensions["clock"].now()
    with get_db(current_app).sessions() as session:
        counts = outcomes(session, now - timedelta(days=days))
        spoken = languages(session, now - timedelta(days=days))
    total = sum(counts.values())
    click.echo(f"calls in the last {days} days: {total}")
    for outcome in ("contained", "transferred", "callback", "hold", "abandoned", "in progress"):
        click.echo(f"  {outcome:<12} {counts.get(outcome, 0)}")
    finished = total - counts.get("in progress", 0)
    rate = counts.get("contained", 0) / finished if finished else 0.0
    click.echo(f"containment: {rate:.1%} of finished calls were answered without an agent")
    if spoken:
        click.echo("languages: " + ", ".join(f"{language} {count}" for language, count in spoken.items()))
