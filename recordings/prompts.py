"""The shop's own audio: named prompts (a greeting, the hold music) kept as telephony WAV, and their URLs.

One owner for the rules: a prompt's name, how a file becomes a prompt (recordings.audio does the
sound), how one is replaced without a moment where its URL plays nothing, and where Twilio fetches it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import audit
from core.clock import Clock
from core.errors import InvalidInput
from core.webhooks import Webhooks
from recordings.audio import PreparedPrompt, prepare_prompt
from recordings.models import Prompt
from recordings.storage import AudioStore, StorageError, new_key, sha256, store_from_settings

if TYPE_CHECKING:
    from flask import Flask

    from agents.staff import StaffUser
    from core.config import Settings

log = logging.getLogger(__name__)

# Names travel in URLs (/audio/prompts/<name>.wav) and in the phone tree, so they stay plain.
PROMPT_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
NAME_RULE = "A prompt name is 1 to 64 lower-case letters, digits, - or _ (for example: greeting, hold-music)."
# The one prompt the app itself asks for: when the shop uploads it, callers on hold hear it instead
# of the generated chimes.
HOLD_MUSIC = "hold-music"
GENERATED_HOLD_MUSIC = "hold-music.wav"
# Enough of the checksum to change the URL whenever the audio changes (Twilio and browsers cache it).
VERSION_CHARS = 12


@dataclass(frozen=True)
class Saved:
    """A prompt added or replaced."""

    prompt: Prompt
    replaced: bool


def check_name(name: str) -> str:
    """The name, if it is one a prompt may have; InvalidInput (field 'name') otherwise."""
    if not PROMPT_NAME.fullmatch(name or ""):
        raise InvalidInput("prompt_name", NAME_RULE, field="name")
    return name


def store_for(app: Flask) -> AudioStore:
    """The audio store the app keeps prompts in."""
    store: AudioStore | None = app.extensions.get("audio_store")
    if store is not None:
        return store
    settings: Settings = app.config["SETTINGS"]
    return store_from_settings(settings.recordings_dir, settings.instance_path)


def find(session: Session, name: str) -> Prompt | None:
    """The prompt called `name`, if the shop has one."""
    return session.scalar(select(Prompt).where(Prompt.name == name))


def list_prompts(session: Session) -> Sequence[Prompt]:
    """Every prompt, by name."""
    return session.scalars(select(Prompt).order_by(Prompt.name)).all()


def save(
    session: Session,
    store: AudioStore,
    clock: Clock,
    name: str,
    data: bytes,
    *,
    max_seconds: float,
    original_name: str | None = None,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> Saved:
    """Add the prompt `name`, or replace it, from an audio file in one of recordings.audio.CONTAINERS;
    audited as prompt.add or prompt.replace.

    Raises InvalidInput for a bad name and recordings.audio.AudioRejected (unsupported, corrupt, silent,
    too_long) for audio that cannot be a prompt. The new file is written before the row points at it, and the
    old file deleted only after the row points away from it: a call fetching the prompt meanwhile
    gets the old audio or the new, never a missing file.
    """
    check_name(name)
    prepared = prepare_prompt(data, max_seconds)
    now = clock.now()
    key = new_key("prompts", now.year, "wav")
    store.put(key, prepared.wav)
    try:
        prompt, old_key = _point_at(session, name, key, prepared, original_name, actor, address, now)
    except IntegrityError:
        # Someone else added this name between our look and our commit: theirs is now the prompt
        # we replace (the last upload wins, as it would have a second later).
        session.rollback()
        try:
            prompt, old_key = _point_at(session, name, key, prepared, original_name, actor, address, now)
        except Exception:
            session.rollback()
            _discard(store, key)
            raise
    except Exception:
        session.rollback()
        _discard(store, key)  # the row never pointed at it
        raise
    action = "prompt.replace" if old_key else "prompt.add"
    if old_key and old_key != key:
        _discard(store, old_key)
    log.info("prompt saved", extra={"prompt": name, "action": action, "seconds": prompt.duration_seconds})
    return Saved(prompt, replaced=old_key is not None)


def _point_at(
    session: Session,
    name: str,
    key: str,
    prepared: PreparedPrompt,
    original_name: str | None,
    actor: StaffUser | str | None,
    address: str | None,
    now: datetime,
) -> tuple[Prompt, str | None]:
    """Point the prompt row (new or existing) at the stored file `key`, audit it and commit."""
    prompt = find(session, name)
    old_key = prompt.storage_key if prompt is not None else None
    if prompt is None:
        prompt = Prompt(name=name, created_at=now)
        session.add(prompt)
    prompt.storage_key = key
    prompt.duration_seconds = round(prepared.seconds, 3)
    prompt.level_dbfs = prepared.level_dbfs
    prompt.original_name = (original_name or "")[:200] or None
    prompt.sha256 = sha256(prepared.wav)
    prompt.updated_at = now
    action = "prompt.replace" if old_key else "prompt.add"
    details = {"seconds": prompt.duration_seconds, "level_dbfs": prompt.level_dbfs, "file": prompt.original_name}
    audit.record(session, action, f"prompt {name}", details, actor=actor, address=address, at=now)
    session.commit()
    return prompt, old_key


def remove(
    session: Session,
    store: AudioStore,
    clock: Clock,
    name: str,
    *,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> bool:
    """Delete the prompt `name` and its file (audited as prompt.remove); False if there is none."""
    prompt = find(session, name)
    if prompt is None:
        return False
    key = prompt.storage_key
    session.delete(prompt)
    audit.record(session, "prompt.remove", f"prompt {name}", None, actor=actor, address=address, at=clock.now())
    session.commit()
    # After the commit: until then the row may still send a caller to this file.
    _discard(store, key)
    return True


def _discard(store: AudioStore, key: str) -> None:
    """Delete a file no row points at; a failure leaves an orphan file, which is logged, not raised."""
    try:
        store.delete(key)
    except StorageError:
        log.warning("could not delete an unused prompt file", extra={"key": key}, exc_info=True)


def version(prompt: Prompt) -> str:
    """The prompt's version in its URLs (?v=): changes whenever its audio does."""
    return prompt.sha256[:VERSION_CHARS]


def url(hooks: Webhooks, prompt: Prompt) -> str:
    """Where Twilio fetches a prompt: served with a long cache life, so the URL names its version."""
    return f"{hooks.audio(f'prompts/{prompt.name}.wav')}?{urlencode({'v': version(prompt)})}"


def play_url(session: Session, hooks: Webhooks, name: str) -> str | None:
    """The URL of the prompt `name`, or None when the shop has none by that name (say the words instead)."""
    prompt = find(session, name)
    return url(hooks, prompt) if prompt is not None else None


def hold_music_url(session: Session, hooks: Webhooks) -> str:
    """What callers on hold hear: the shop's hold-music prompt when it has one, else the generated loop."""
    return play_url(session, hooks, HOLD_MUSIC) or hooks.audio(GENERATED_HOLD_MUSIC)


def missing(session: Session, names: Sequence[str]) -> list[str]:
    """Those of `names` that no prompt has, in order, each once."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    present = set(session.scalars(select(Prompt.name).where(Prompt.name.in_(wanted))))
    return [name for name in wanted if name not in present]
