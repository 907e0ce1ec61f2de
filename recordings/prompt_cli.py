"""Operator commands for the shop's prompts: flask --app app prompts add|list|remove."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agents import audit
from core.db import get_db
from core.errors import InvalidInput
from recordings import prompts
from recordings.audio import PROMPT_LEVEL_DBFS, AudioRejected
from recordings.storage import StorageError

prompts_cli = AppGroup("prompts", help="The shop's own audio: greetings and hold music callers hear.")


def init_app(app: Flask) -> None:
    """Register the `prompts` command group."""
    app.cli.add_command(prompts_cli)


@prompts_cli.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
def add_command(name: str, file: Path) -> None:
    """Add the prompt NAME from FILE (WAV, MP3, Ogg, FLAC, M4A, WebM, AIFF or AMR), or replace it;
    hold-music replaces the hold music."""
    try:
        prompts.check_name(name)
    except InvalidInput as error:
        raise click.ClickException(f"{name!r}: {error.message}") from error
    try:
        data = file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read {file}: {error.strerror or error}") from error
    settings = current_app.config["SETTINGS"]
    with get_db(current_app).sessions() as session:
        try:
            saved = prompts.save(
                session,
                prompts.store_for(current_app),
                current_app.extensions["clock"],
                name,
                data,
                max_seconds=settings.prompt_max_seconds,
                original_name=file.name,
                actor=audit.cli_actor(),
            )
        except AudioRejected as error:
            raise click.ClickException(f"{file} refused ({error.code}): {error.message}") from error
        except StorageError as error:
            raise click.ClickException(f"could not store the prompt: {error}") from error
        verb = "replaced" if saved.replaced else "added"
        prompt = saved.prompt
        click.echo(
            f"{verb} prompt {prompt.name!r}: {prompt.duration_seconds:.1f} s, "
            f"{prompt.level_dbfs:.1f} dBFS (target {PROMPT_LEVEL_DBFS:.0f})"
        )


@prompts_cli.command("list")
def list_command() -> None:
    """Every prompt: name, length, level, when it last changed, and the file it came from."""
    with get_db(current_app).sessions() as session:
        rows = prompts.list_prompts(session)
        if not rows:
            click.echo("no prompts (callers hear the tree's sentences, and the generated hold music)")
            return
        for prompt in rows:
            click.echo(
                f"{prompt.name:<24} {prompt.duration_seconds:7.1f} s {prompt.level_dbfs:7.1f} dBFS  "
                f"{prompt.updated_at:%Y-%m-%d %H:%M} UTC  {prompt.original_name or ''}".rstrip()
            )


@prompts_cli.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Delete the prompt NAME; the phone tree says its sentence again (hold-music: the generated music)."""
    with get_db(current_app).sessions() as session:
        removed = prompts.remove(
            session, prompts.store_for(current_app), current_app.extensions["clock"], name, actor=audit.cli_actor()
        )
    if not removed:
        raise click.ClickException(f"there is no prompt called {name!r}")
    click.echo(f"removed prompt {name!r}")
