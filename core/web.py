"""What every view shares: the app's settings, clock and session, JSON errors, health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from core.clock import Clock
from core.config import Settings
from core.db import get_db
from core.errors import DomainError, LimitExceeded
from core.phone import PhonePolicy

bp = Blueprint("core", __name__)


def settings() -> Settings:
    """The running app's settings."""
    value: Settings = current_app.config["SETTINGS"]
    return value


def clock() -> Clock:
    """The running app's clock."""
    value: Clock = current_app.extensions["clock"]
    return value


def session() -> Session:
    """The current request's database session."""
    return get_db(current_app).session


def wake_dispatcher() -> None:
    """Tell the dispatcher something changed (a request arrived, an agent is free).

    Views and webhooks never import the scheduler: create_app hands them this callable (the
    in-process jobs' wake, when they run here); without it the dispatcher's next tick notices.
    """
    wake = current_app.extensions.get("wake_dispatcher")
    if wake is not None:
        wake()


def phone_policy() -> PhonePolicy:
    """The customer phone policy built from settings: numbers a customer may ask us to call back."""
    s = settings()
    return PhonePolicy(
        default_region=s.default_region,
        allowed_countries=s.allowed_countries,
        callback_rules=True,
        own_numbers=tuple(n for n in (s.twilio_caller_id, s.voice_fallback_number) if n),
    )


# Ids in our URLs and Twilio's counters are small; anything else is tampering or noise.
MAX_WEBHOOK_INT = 2**31 - 1


def small_int(value: str | None) -> int | None:
    """A non-negative decimal integer below 2**31 from a URL or form field, else None."""
    text = (value or "").strip()
    if not text.isdecimal() or not text.isascii() or len(text) > 10:
        return None
    number = int(text)
    return number if number <= MAX_WEBHOOK_INT else None


def json_error(error: DomainError) -> ResponseReturnValue:
    """The API's one error shape: {"error": {"code", "message", "field"?}}."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field:
        body["field"] = error.field
    response = jsonify({"error": body})
    response.status_code = error.status
    if isinstance(error, LimitExceeded):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness and readiness: the database answers a trivial query."""
    try:
        session().execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy", reported below
        current_app.logger.warning("health check failed: %s", exc)
        return jsonify({"status": "unavailable", "database": "down"}), 503
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    # Features add their own checks (create_app registers them): a warning needs a person, the
    # service still answers.
    for check in current_app.extensions.get("health_checks", ()):
        warning = check(session(), clock().now())
        if warning:
            body["status"] = "warning"
            body.setdefault("warnings", []).append(warning)
    return jsonify(body)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def init_app(app: Flask) -> None:
    """Register the health check and the security headers every page gets."""
    app.register_blueprint(bp)

    @app.errorhandler(400)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        # API clients parse JSON: give them the API's error shape, not Werkzeug's HTML page.
        if not request.path.startswith("/api/"):
            return error
        code = _HTTP_CODES.get(error.code or 500, "bad_request")
        response = json_error(DomainError(code, error.description or error.name))
        assert not isinstance(response, tuple)
        response.status_code = error.code or 500  # type: ignore[union-attr]
        return response

    @app.errorhandler(CSRFError)
    def _csrf_failed(_error: CSRFError) -> ResponseReturnValue:
        # Usually a page left open for hours or a lost cookie, rarely an attack: say what to do.
        return render_template("expired.html"), 400

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Status pages carry their secret reference in the URL: never leak it to other sites.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        )
        return response
