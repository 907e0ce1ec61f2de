"""Operator commands for the built-in order store."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.db import get_db
from core.phone import any_number
from orders.importer import FORMATS, import_file

orders_cli = AppGroup("orders", help="Load order and return data into the built-in store.")


def init_app(app: Flask) -> None:
    """Register the `orders` command group."""
    app.cli.add_command(orders_cli)


@orders_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="auto: CSV for *.csv, JSON Lines for anything else.",
)
def import_command(file: Path, fmt: str) -> None:
    """Load orders and returns from FILE (JSON Lines or CSV), upserting by order number and RMA.

    Every good line is loaded even when others are bad. Each bad line is printed to stderr as
    "line N: reason", and the command then exits with status 1 (0 when every line loaded), so a
    script can tell; fix those lines and run it again, which is always safe.
    """
    settings = current_app.config["SETTINGS"]
    # Order data may carry any real number: the country allowlist is about whom we call back.
    policy = any_number(settings.default_region)
    with get_db(current_app).sessions() as session:
        summary = import_file(session, file, current_app.extensions["clock"], policy, fmt)
    for error in summary.errors:
        click.echo(str(error), err=True)
    click.echo(f"{summary} from {file}")
    if summary.errors:
        raise click.exceptions.Exit(1)
