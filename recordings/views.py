"""Audio the app serves to Twilio: the hold music."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_file
from flask.typing import ResponseReturnValue

from recordings.hold_music import cached_wav

bp = Blueprint("recordings", __name__, url_prefix="/audio")


@bp.get("/hold-music.wav")
def hold_music() -> ResponseReturnValue:
    """The hold loop (public: it is music, and Twilio fetches it without credentials)."""
    folder = Path(current_app.config["SETTINGS"].instance_path).resolve()
    response = send_file(cached_wav(folder), mimetype="audio/wav", max_age=86400)
    return response
