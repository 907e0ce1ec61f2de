"""Operator commands for agents and queues."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agents import service
from core.clock import Clock
from core.db import Database, get_db
from core.errors import DomainError
from core.phone import PhonePolicy

agents_cli = AppGroup("agents", help="Register agents and change their availability.")
queues_cli = AppGroup("queues", help="List queues and change their settings.")


def init_app(app: Flask) -> None:
    """Register the `agents` and `queues` command groups."""
    app.cli.add_command(agents_cli)
    app.cli.add_command(queues_cli)


def _context() -> tuple[Database, Clock, PhonePolicy]:
    settings = current_app.config["SETTINGS"]
    policy = PhonePolicy(default_region=settings.default_region, allowed_countries=settings.allowed_countries)
    return get_db(current_app), current_app.extensions["clock"], policy


@agents_cli.command("add")
@click.option("--name", required=True)
@click.option("--phone", help="E.164 number the agent answers on.")
@click.option("--client", help="Browser (Twilio Client) identity.")
@click.option("--queues", required=True, help="Comma-separated queue names, e.g. orders,returns.")
def add_command(name: str, phone: str | None, client: str | None, queues: str) -> None:
    """Register an agent and print their id."""
    database, clock, policy = _context()
    with database.sessions() as session:
        try:
            agent = service.add_agent(session, clock, policy, name, queues.split(","), phone=phone, client=client)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(agent.id)


@agents_cli.command("list")
def list_command() -> None:
    """Show every agent, their endpoint, queues and status."""
    database, _clock, _policy = _context()
    with database.sessions() as session:
        for agent in service.list_agents(session):
            queues = ",".join(q.name for q in agent.queues)
            click.echo(f"{agent.id}\t{agent.name}\t{agent.endpoint}\t{queues}\t{agent.status}")


@agents_cli.command("status")
@click.argument("agent_id", type=int)
@click.argument("status", type=click.Choice(service.SETTABLE))
def status_command(agent_id: int, status: str) -> None:
    """Set an agent available, away or offline."""
    database, clock, _policy = _context()
    with database.sessions() as session:
        try:
            agent = service.set_status(session, clock, agent_id, status)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{agent.id}\t{agent.status}")


@queues_cli.command("list")
def queues_list_command() -> None:
    """Show every queue and its settings."""
    database, _clock, _policy = _context()
    with database.sessions() as session:
        for q in service.list_queues(session):
            click.echo(
                f"{q.name}\t{q.display_name}\tcaller_id={q.caller_id}\ttz={q.timezone}\thours={q.hours}\t"
                f"max_attempts={q.max_attempts}\tbackoff={q.backoff_seconds}\texpiry_hours={q.expiry_hours}\t"
                f"wrap_up={q.wrap_up_seconds}\tstrategy={q.dial_strategy}\trecording={q.recording}"
            )


@queues_cli.command("set")
@click.argument("name")
@click.option("--display-name")
@click.option("--caller-id")
@click.option("--timezone", help="IANA zone, e.g. Europe/London.")
@click.option("--hours", help="e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00', '24/7' or 'closed'.")
@click.option("--max-attempts", type=int)
@click.option("--backoff", "backoff_seconds", help="Seconds before each retry, e.g. 120,600,1800.")
@click.option("--expiry-hours", type=int)
@click.option("--wrap-up", "wrap_up_seconds", type=int)
@click.option("--handle-seconds", "default_handle_seconds", type=int, help="Talk time assumed without history.")
@click.option("--strategy", "dial_strategy", type=click.Choice(["customer_first", "agent_first"]))
@click.option("--recording/--no-recording", default=None)
@click.option("--create", is_flag=True, help="Create the queue if it does not exist.")
def queues_set_command(name: str, create: bool, **options: object) -> None:
    """Change a queue's settings (only the options given)."""
    changes = {key: value for key, value in options.items() if value is not None}
    database, _clock, _policy = _context()
    with database.sessions() as session:
        try:
            queue = service.update_queue(session, name, changes, create=create)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{queue.name} updated")
