"""What every view shares: the app's settings, clock and session, JSON errors, health check."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from core import logs
from core.clock import Clock
from core.config import Settings
from core.db import UNAVAILABLE, get_db, start_budget
from core.errors import DomainError, LimitExceeded
from core.fallback import VOICE_PREFIX, voice_answer
from core.phone import PhonePolicy

log = logging.getLogger(__name__)

bp = Blueprint("core", __name__)

# The routes that must answer quickly whatever the database does, and so wait on it no longer than
# DATABASE_TIMEOUT_SECONDS: Twilio's webhooks, the customer's form, status pages and API, the health check.
BUDGETED_PREFIXES = (VOICE_PREFIX, "/callback", "/api/callbacks", "/healthz")
# What a client is told to wait before trying again while the database is unavailable.
RETRY_AFTER_SECONDS = 30


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
    # And what they always report, healthy or not (the scheduler's last pass, dialling paused or not).
    for name, report in current_app.extensions.get("health_reports", {}).items():
        body[name] = report(session(), clock().now())
    return jsonify(body)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def is_budgeted(path: str) -> bool:
    """Whether a route's database time is bounded by DATABASE_TIMEOUT_SECONDS."""
    return path == "/" or path.startswith(BUDGETED_PREFIXES)


def _start_request() -> None:
    """Bound the request's database time, and name a webhook's call, attempt and request on its lines."""
    if is_budgeted(request.path):
        start_budget(settings().database_timeout_seconds)
    if request.path.startswith(VOICE_PREFIX):
        form = request.form if request.method == "POST" else {}
        g.log_context = logs.open_context(
            call_sid=form.get("CallSid"),
            attempt_id=small_int(request.args.get("attempt")),
            request_id=small_int(request.args.get("request")),
        )


def _end_request(_error: BaseException | None) -> None:
    token = g.pop("log_context", None)
    if token is not None:
        logs.close_context(token)


def _note_attempt(_session: Session, instance: object) -> None:
    """A webhook loaded its call attempt: its lines name the attempt's request too (and an inbound
    call's status callback, which knows only the call SID, its attempt)."""
    bound = logs.context()
    if not bound or getattr(instance, "__tablename__", None) != "call_attempts":
        return
    attempt_id, call_sid = getattr(instance, "id", None), getattr(instance, "call_sid", None)
    if bound.get("attempt_id") == attempt_id or ("attempt_id" not in bound and bound.get("call_sid") == call_sid):
        logs.bind(attempt_id=attempt_id, request_id=getattr(instance, "request_id", None))


def _database_unavailable(error: Exception) -> ResponseReturnValue:
    """The database is down or too slow: a caller hears the apology (TwiML), the API answers 503 with
    Retry-After, a page says so kindly. Nothing half-done is kept: the session is rolled back."""
    if request.path.startswith(VOICE_PREFIX):
        return voice_answer(error)
    log.error(
        "%s %s answered 503: the database is unavailable (%s)",
        request.method,
        logs.redact(request.path),  # a status page's path carries its secret reference
        type(error).__name__,
        extra={"error": str(error).splitlines()[0] if str(error) else ""},
    )
    if "db_session" in g:
        try:
            session().rollback()
        except Exception:  # noqa: BLE001 - a dead connection cannot roll back; teardown discards it
            log.debug("rollback after a database failure failed too", exc_info=True)
    response: Response
    if request.path == "/healthz":
        # A monitor parses JSON: a check that ran out of the database's time is the database down.
        response = jsonify({"status": "unavailable", "database": "down"})
    elif request.path.startswith("/api/"):
        body = {
            "error": {
                "code": "unavailable",
                "message": "We can't take requests just now. Please try again in a minute.",
            }
        }
        response = jsonify(body)
    else:
        response = Response(render_template("unavailable.html"), mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the health check, the security headers every page gets, the database budget of the
    routes that must answer quickly, and what they answer when the database is unavailable."""
    app.register_blueprint(bp)
    logs.keep_polling(app.config["SETTINGS"].log_polling_requests)
    app.before_request(_start_request)
    app.teardown_request(_end_request)
    if not event.contains(Session, "loaded_as_persistent", _note_attempt):
        event.listen(Session, "loaded_as_persistent", _note_attempt)
    for unavailable in UNAVAILABLE:
        app.register_error_handler(unavailable, _database_unavailable)

    @app.errorhandler(400)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        # API clients parse JSON: give them the API's error shape, not Werkzeug's HTML page.
        if not request.path.startswith("/api/"):
            if error.code == 404 and not request.path.startswith("/voice/"):
                # A mistyped address: our page, in the customer's language, not Werkzeug's English one.
                return render_template("not_found.html"), 404
            if error.code == 413 and not request.path.startswith("/voice/"):
                return render_template("too_large.html"), 413
            return error
        code = _HTTP_CODES.get(error.code or 500, "bad_request")
        response = json_error(DomainError(code, error.description or error.name))
        assert not isinstance(response, tuple)
        response.status_code = error.code or 500  # type: ignore[union-attr]
        # Werkzeug's own headers (a 405's Allow: what the URL takes) belong to the JSON answer too.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # type: ignore[union-attr]
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
        # Pages, API answers and TwiML speak of one customer or one member of staff: a shared
        # computer's cache or back button must not show them to the next person. Files meant to be
        # kept (static assets, the shop's prompts, hold music) set their own Cache-Control.
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
