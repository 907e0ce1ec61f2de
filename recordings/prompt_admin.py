"""The admins' page of the shop's prompts: list them with a player, upload one, remove one.

Thin views over recordings.prompts, which audits each change (prompt.add, prompt.replace,
prompt.remove) in the same transaction. The upload is the one form in the app whose body is larger
than MAX_CONTENT_LENGTH allows, so it raises the limit for itself alone (see `upload`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import StringField
from wtforms.validators import Length

from agents.auth import current_staff, staff_required
from core.errors import InvalidInput
from core.web import clock, session, settings
from recordings import prompts
from recordings.audio import PROMPT_LEVEL_DBFS, AudioRejected
from recordings.storage import StorageError

bp = Blueprint("prompt_admin", __name__, url_prefix="/admin/prompts")

ADMIN = "admin"
# A few minutes of audio as MP3 or even WAV fits; the app-wide limit (MAX_CONTENT_LENGTH, 64 KiB by
# default) stays as it is for every other request.
UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024


class PromptForm(FlaskForm):
    """Upload a prompt: its name and the audio file."""

    name = StringField("Name", validators=[Length(max=64)])
    audio = FileField("Audio file")


@bp.get("")
@staff_required(ADMIN)
def index() -> ResponseReturnValue:
    """Every prompt with a player, and the upload form."""
    return _page(PromptForm(formdata=None))


def _page(form: PromptForm, errors: dict[str, str] | None = None, code: int = 200) -> ResponseReturnValue:
    rows: list[dict[str, Any]] = []
    for prompt in prompts.list_prompts(session()):
        # The file Twilio plays, at this site's own address (staff may reach it by another name than
        # the public base URL Twilio is given).
        src = url_for("recordings.prompt", name=prompt.name, v=prompts.version(prompt))
        rows.append({"prompt": prompt, "src": src})
    return (
        render_template(
            "admin/prompts.html",
            rows=rows,
            form=form,
            errors=errors or {},
            hold_music=prompts.HOLD_MUSIC,
            has_hold_music=any(row["prompt"].name == prompts.HOLD_MUSIC for row in rows),
            max_seconds=settings().prompt_max_seconds,
            max_megabytes=UPLOAD_LIMIT_BYTES // (1024 * 1024),
            target_dbfs=PROMPT_LEVEL_DBFS,
        ),
        code,
    )


@bp.post("")
@staff_required(ADMIN)
def upload() -> ResponseReturnValue:
    """Add or replace a prompt from an uploaded file; a refusal is shown next to the field at fault.

    CSRFProtect's before_request hook would parse this body under the app-wide limit and answer 413,
    so create_app exempts this one view from the hook, and the view raises the limit for its own
    request, then checks the CSRF token itself, before anything else reads the form.
    """
    request.max_content_length = UPLOAD_LIMIT_BYTES
    try:
        request.files  # noqa: B018 -- parse the body now, under the raised limit
    except RequestEntityTooLarge:
        # The page below has forms that read the body too: it is refused, so they read nothing.
        request.form = ImmutableMultiDict()
        request.files = ImmutableMultiDict()
        message = f"This file is larger than {UPLOAD_LIMIT_BYTES // (1024 * 1024)} MB."
        return _page(PromptForm(formdata=None), {"audio": message}, 413)
    current_app.extensions["csrf"].protect()
    form = PromptForm()
    if not form.validate_on_submit():
        return _page(form, {name: messages[0] for name, messages in form.errors.items() if messages}, 422)
    name = (form.name.data or "").strip()
    upload = form.audio.data
    errors: dict[str, str] = {}
    try:
        prompts.check_name(name)
    except InvalidInput as error:
        errors["name"] = error.message
    if upload is None or not getattr(upload, "filename", ""):
        errors["audio"] = "Please choose an audio file."
    if errors:
        return _page(form, errors, 422)
    try:
        saved = prompts.save(
            session(),
            prompts.store_for(current_app),
            clock(),
            name,
            upload.read(),
            max_seconds=settings().prompt_max_seconds,
            original_name=upload.filename,
            actor=current_staff(),
            address=request.remote_addr,
        )
    except AudioRejected as error:
        return _page(form, {"audio": error.message}, 422)
    except StorageError:
        stored = "The file could not be stored. Please try again, or tell whoever runs the app."
        return _page(form, {"form": stored}, 503)
    prompt = saved.prompt
    verb = "replaced" if saved.replaced else "added"
    flash(f"Prompt {prompt.name} {verb}: {prompt.duration_seconds:.1f} seconds.")
    return redirect(url_for("prompt_admin.index"), code=303)


@bp.post("/<name>/remove")
@staff_required(ADMIN)
def remove(name: str) -> ResponseReturnValue:
    """Remove a prompt; the phone tree says its sentence again (hold music: the generated loop)."""
    if not prompts.PROMPT_NAME.fullmatch(name) or not prompts.remove(
        session(), prompts.store_for(current_app), clock(), name, actor=current_staff(), address=request.remote_addr
    ):
        return render_template("admin/not_found.html", what="prompt"), 404
    flash(f"Prompt {name} removed.")
    return redirect(url_for("prompt_admin.index"), code=303)
