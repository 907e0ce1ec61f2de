"""Operator commands for agents and queues."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import audit, service, staff
from agents.models import Queue
from core.clock import Clock
from core.db import Database, get_db
from core.errors import DomainError
from core.phone import PhonePolicy

agents_cli = AppGroup("agents", help="Register agents and change their availability.")
queues_cli = AppGroup("queues", help="List queues and change their settings.")
staff_cli = AppGroup("staff", help="Staff accounts who sign in: agents, supervisors, admins.")


def init_app(app: Flask) -> None:
    """Register the `agents`, `queues` and `staff` command groups."""
    app.cli.add_command(agents_cli)
    app.cli.add_command(queues_cli)
    app.cli.add_command(staff_cli)


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
        _audit(
            session,
            clock,
            "agent.add",
            f"agent {agent.id}",
            {"name": agent.name, "queues": [q.name for q in agent.queues]},
        )
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
            before = service.get_agent(session, agent_id).status
            agent = service.set_status(session, clock, agent_id, status)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        if agent.status != before:
            _audit(session, clock, "agent.status", f"agent {agent.id}", {"from": before, "to": agent.status})
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
                f"wrap_up={q.wrap_up_seconds}\tstrategy={q.dial_strategy}\trecording={q.recording}\t"
                f"service_level={q.service_level_seconds}\tlanguages={q.languages}"
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
@click.option(
    "--service-level-seconds", type=int, help="Target: connected within this many seconds of being due (900)."
)
@click.option("--languages", help="The languages its agents speak, e.g. en or en,es (callers are told otherwise).")
@click.option("--create", is_flag=True, help="Create the queue if it does not exist.")
def queues_set_command(name: str, create: bool, **options: object) -> None:
    """Change a queue's settings (only the options given)."""
    changes = {key: value for key, value in options.items() if value is not None}
    database, clock, policy = _context()
    with database.sessions() as session:
        existing = session.scalar(select(Queue).where(Queue.name == name))
        before = {key: getattr(existing, key) for key in changes} if existing is not None else {}
        try:
            queue = service.update_queue(session, name, changes, create=create, region=policy.default_region)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        changed = sorted(key for key in changes if before.get(key) != getattr(queue, key))
        if existing is None or changed:
            details = {
                "created": existing is None,
                "before": {key: before.get(key) for key in changed},
                "after": {key: getattr(queue, key) for key in changed},
            }
            _audit(session, clock, "queue.update", f"queue {queue.name}", details)
        click.echo(f"{queue.name} updated")


def _audit(session: Session, clock: Clock, action: str, target: str, details: dict[str, Any]) -> None:
    """Write one audit line for a command's change, as the person at the terminal, and commit it."""
    audit.record(session, action, target, details, actor=audit.cli_actor(), at=clock.now())
    session.commit()


@staff_cli.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(staff.ROLES))
@click.option("--agent", "agent_id", type=int, help="Link the account to this agent id (their calls).")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def staff_add_command(email: str, name: str, role: str, agent_id: int | None, password_stdin: bool) -> None:
    """Create a staff account (password from standard input, never the command line) and print its id."""
    # Only the first line counts, so `echo secret | flask staff add ...` and a here-string both work.
    if not password_stdin:
        raise click.UsageError("give --password-stdin and the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    database, clock, _policy = _context()
    with database.sessions() as session:
        try:
            account = staff.add_staff(session, clock, email, name, role, password, agent_id, actor=audit.cli_actor())
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(account.id)


@staff_cli.command("list")
def staff_list_command() -> None:
    """Show every staff account: id, email, name, role, linked agent, active or disabled, last sign-in."""
    database, _clock, _policy = _context()
    with database.sessions() as session:
        for account in staff.list_staff(session):
            state = "active" if account.active else "disabled"
            last = account.last_login_at.isoformat(timespec="seconds") if account.last_login_at else "never"
            agent = f"agent={account.agent_id}" if account.agent_id else "agent=-"
            click.echo(f"{account.id}\t{account.email}\t{account.name}\t{account.role}\t{agent}\t{state}\t{last}")


@staff_cli.command("set-role")
@click.argument("account")
@click.argument("role", type=click.Choice(staff.ROLES))
def staff_set_role_command(account: str, role: str) -> None:
    """Change the role of an account, given by id or email."""
    database, clock, _policy = _context()
    with database.sessions() as session:
        try:
            found = staff.find(session, account)
            staff.set_role(session, found.id, role, clock=clock, actor=audit.cli_actor())
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{found.id}\t{found.email}\t{found.role}")


@staff_cli.command("set-password")
@click.argument("account")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def staff_set_password_command(account: str, password_stdin: bool) -> None:
    """Give an account, by id or email, a new password (from standard input); its sessions end everywhere."""
    if not password_stdin:
        raise click.UsageError("give --password-stdin and the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    database, clock, _policy = _context()
    with database.sessions() as session:
        try:
            found = staff.find(session, account)
            staff.set_password(session, found.id, password, clock=clock, actor=audit.cli_actor())
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{found.id}\t{found.email}\tnew password; signed out everywhere")


@staff_cli.command("disable")
@click.argument("account")
def staff_disable_command(account: str) -> None:
    """Disable an account, given by id or email: it can no longer sign in and its sessions end."""
    _change_account(account, staff.disable, "disabled")


@staff_cli.command("enable")
@click.argument("account")
def staff_enable_command(account: str) -> None:
    """Let a disabled account, given by id or email, sign in again with the password it had."""
    _change_account(account, staff.enable, "enabled")


def _change_account(account: str, change: Callable[..., staff.StaffUser], done: str) -> None:
    """Disable or enable an account, given by id or email, audited as the command line's; print it."""
    database, clock, _policy = _context()
    with database.sessions() as session:
        try:
            found = staff.find(session, account)
            change(session, found.id, clock=clock, actor=audit.cli_actor())
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{found.id}\t{found.email}\t{done}")
