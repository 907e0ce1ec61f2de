"""Listening to recordings: who may, how the audio is served, and what the audit log keeps.

- Only signed-in staff: supervisors and admins hear every recording, an agent only the calls they
  took. Anyone else gets 404, as for an id that does not exist, so a URL reveals nothing.
- The URL names the recording's public id (128 random bits) and carries no token: without a staff
  session it is worth nothing, so a leaked link (a log, a forwarded email) lets nobody listen.
- Audio is served with range requests (206), so the browser's player can seek, and `private, no-store`,
  so no shared cache or disk cache keeps a copy.
- Audit: every GET that serves audio is audited, whatever its range: a suffix range ("bytes=-N")
  or one starting at byte 1 reads as much as a whole file, so no test of which bytes a range names
  can tell a playback from a copy. A browser plays one recording with several range requests (the
  start, the end of the Ogg file for its length, wherever the listener seeks): those of one person
  within PLAY_AUDIT_WINDOW of their last audited play of it are one playback. Downloads are audited
  on every GET. An answer with no audio (a HEAD, a 304, a 416) is not audited.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from agents import audit
from agents.auth import current_staff, staff_required
from callback import service as callbacks
from core.auth import admin_token_required
from core.errors import DomainError, InvalidInput
from core.web import clock, json_error, session, settings
from recordings import audio, service
from recordings.models import Recording
from recordings.storage import AudioStore, StorageError

log = logging.getLogger(__name__)

bp = Blueprint("recording_access", __name__, url_prefix="/recordings")
api_bp = Blueprint("recordings_api", __name__, url_prefix="/api/recordings")

# A person's repeated reads of the start of one recording within this window are one playback.
PLAY_AUDIT_WINDOW = timedelta(minutes=5)
PLAY = "recording.play"
DOWNLOAD = "recording.download"


def init_app(app: Flask) -> None:
    """Register the listening pages and the admin API's recordings list."""
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)


def _store() -> AudioStore:
    store: AudioStore = current_app.extensions["audio_store"]
    return store


def _allowed(public_id: str) -> Recording:
    """The stored recording the signed-in person may hear, else 404 (never 403: existence stays secret)."""
    recording = service.by_public_id(session(), public_id)
    staff = current_staff()
    if recording is None or not service.may_hear(staff.role, staff.agent_id, recording):
        abort(404)
    return recording


def _serves_audio(response: ResponseReturnValue) -> bool:
    """Whether this answer carries audio: a GET answered 200 or 206 (a HEAD reads nothing, a 304 or a
    416 sends none)."""
    return request.method == "GET" and getattr(response, "status_code", None) in (200, 206)


def _played_recently(recording: Recording) -> bool:
    staff = current_staff()
    e = audit.AuditEvent
    since = clock().now() - PLAY_AUDIT_WINDOW
    found = session().scalar(
        select(e.id)
        .where(
            e.action == PLAY,
            e.target == _target(recording),
            e.at > since,
            e.actor_staff_id == staff.id,
        )
        .limit(1)
    )
    return found is not None


def _target(recording: Recording) -> str:
    return f"recording {recording.id}"


def _audit(action: str, recording: Recording) -> None:
    audit.record(
        session(),
        action,
        _target(recording),
        {"request_id": recording.request_id, "agent_id": recording.agent_id, "range": request.headers.get("Range")},
        actor=current_staff(),
        address=request.remote_addr,
        at=clock().now(),
    )
    session().commit()


def _send(recording: Recording, as_attachment: bool) -> ResponseReturnValue:
    key = recording.storage_key or ""
    store = _store()
    name = f"recording-{recording.id}-{recording.created_at:%Y%m%d-%H%M}.{recording.format or audio.COMPACT_FORMAT}"
    options: dict[str, Any] = {
        "mimetype": audio.COMPACT_MIMETYPE,
        "as_attachment": as_attachment,
        "download_name": name,
        "conditional": True,
        "etag": recording.sha256 or True,
        "last_modified": recording.stored_at,
        "max_age": None,
    }
    try:
        path = store.path(key)
        response = send_file(path, **options) if path is not None else send_file(io.BytesIO(store.get(key)), **options)
    except StorageError:
        log.error("a stored recording's file is missing", extra={"recording_id": recording.id, "key": key})
        abort(404)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Accept-Ranges"] = "bytes"
    return response


@bp.get("/<public_id>")
@staff_required()
def play(public_id: str) -> ResponseReturnValue:
    """The recording's audio for the page's player (range requests for seeking); audited once a playback."""
    recording = _allowed(public_id)
    response = _send(recording, as_attachment=False)
    if _serves_audio(response) and not _played_recently(recording):
        _audit(PLAY, recording)
    return response


@bp.get("/<public_id>/download")
@staff_required()
def download(public_id: str) -> ResponseReturnValue:
    """The recording as a file to save; audited."""
    recording = _allowed(public_id)
    response = _send(recording, as_attachment=True)
    if _serves_audio(response):
        _audit(DOWNLOAD, recording)
    return response


# --- the admin API ----------------------------------------------------------------------------------


@api_bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    return json_error(error)


def recording_json(recording: Recording, ref: str) -> dict[str, Any]:
    """One recording as the API lists it; `url` still needs a staff session to be heard."""
    return {
        "id": recording.id,
        "request": ref,
        "duration_seconds": recording.duration_seconds,
        "channels": recording.channels,
        "format": recording.format,
        "created_at": recording.created_at.isoformat(),
        "url": settings().public_base_url.rstrip("/") + url_for("recording_access.play", public_id=recording.public_id),
    }


@api_bp.get("")
@admin_token_required
def list_recordings() -> ResponseReturnValue:
    """The stored recordings of one request: `GET /api/recordings?request=REF`."""
    ref = (request.args.get("request") or "").strip()
    if not ref:
        raise InvalidInput("missing_request", "Give the request's reference: /api/recordings?request=REF.", "request")
    found = callbacks.get(session(), ref)
    return jsonify([recording_json(r, found.ref) for r in service.stored_for_request(session(), found.id)])
