"""Audio the app serves to Twilio: the generated hold music and the shop's own prompts."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_file
from flask.typing import ResponseReturnValue

from core.web import session
from recordings import prompts
from recordings.hold_music import cached_wav
from recordings.storage import StorageError

log = logging.getLogger(__name__)

bp = Blueprint("recordings", __name__, url_prefix="/audio")

# A prompt's URL carries its version (?v=...), so a year's cache life never serves stale audio.
PROMPT_MAX_AGE = 365 * 86400


@bp.get("/hold-music.wav")
def hold_music() -> ResponseReturnValue:
    """The hold loop (public: it is music, and Twilio fetches it without credentials)."""
    folder = Path(current_app.config["SETTINGS"].instance_path).resolve()
    response = send_file(cached_wav(folder), mimetype="audio/wav", max_age=86400)
    return response


@bp.get("/prompts/<name>.wav")
def prompt(name: str) -> ResponseReturnValue:
    """A prompt of the shop's, as telephony WAV.

    Public on purpose: Twilio's <Play> fetches without credentials, and a prompt is what the shop plays
    to anyone who calls its number (its greeting, its hold music), so it is no secret. Recordings of
    calls are another matter and are never served from here.
    """
    found = prompts.find(session(), name) if prompts.PROMPT_NAME.fullmatch(name) else None
    if found is None:
        abort(404)
    store = prompts.store_for(current_app)
    path = store.path(found.storage_key)
    if path is not None:
        # send_file answers range requests and conditional GETs from the file itself.
        return send_file(path, mimetype="audio/wav", max_age=PROMPT_MAX_AGE, etag=found.sha256)
    try:
        data = store.get(found.storage_key)
    except StorageError:
        log.warning("prompt file missing", extra={"prompt": name})
        abort(404)
    response = Response(data, mimetype="audio/wav")
    response.cache_control.public = True
    response.cache_control.max_age = PROMPT_MAX_AGE
    response.set_etag(found.sha256)
    return response
