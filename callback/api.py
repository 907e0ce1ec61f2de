"""The callback JSON API: create, read and cancel requests; OpenAPI document."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from callback import notify, service, words
from callback.models import CallbackRequest
from callback.openapi import document
from callback.policy import Limits
from core import payload
from core import phone as phones
from core.db import UNAVAILABLE
from core.errors import Conflict, DomainError, InvalidInput
from core.web import clock, json_error, phone_policy, session, settings, wake_dispatcher

log = logging.getLogger(__name__)
T = TypeVar("T")

bp = Blueprint("callback_api", __name__, url_prefix="/api")


def limits() -> Limits:
    """The abuse limits from settings."""
    return Limits.from_settings(settings())


def after_queued(req: CallbackRequest) -> None:
    """Wake the dispatcher, and text a confirmation when SMS notifications are on."""
    wake_dispatcher()
    s = settings()
    if s.sms_notifications:
        notify.queued(current_app.extensions["telephony"], req, status_url(req.ref), s.twilio_caller_id)


def text_duplicate(req: CallbackRequest, asked: str = "", language: str = "en") -> bool:
    """Text the existing request's link to its own phone (when texts are on); True if a text went.

    `asked` is what this new ask chose ("asap", or a UTC ISO time): the link carries it, and the
    status page offers to apply it. Every ask that gets here left a row the limits count, so these
    texts are bounded by the number's daily limit like the asks themselves.
    """
    s = settings()
    if not s.sms_notifications:
        return False
    url = status_url(req.ref) + (f"?{urlencode({'asked': asked})}" if asked else "")
    return notify.existing(current_app.extensions["telephony"], req, url, s.twilio_caller_id, language)


def refuse_duplicate(req: CallbackRequest, asked: str = "", language: str = "en") -> Conflict:
    """The answer to an ask that found an active request: it exists, and only its phone hears where.

    Whoever posts a number learns no more than that it already has a request about this topic: the
    reference is what the status page, cancel and reschedule trust, so it goes by text to the phone
    itself (when texts are on), never to the poster. The message says a text was sent only if one was.
    """
    texted = text_duplicate(req, asked, language)
    topic = req.queue.display_name.lower()
    if texted:
        message = f"You already asked us to call about {topic}: we've sent that request's link to your phone by text."
    else:
        message = (
            f"You already asked us to call about {topic}, so we'll call as planned. "
            "Follow, change or cancel it from the page you were shown when you asked."
        )
    return Conflict("already_requested", message, "phone")


def status_url(ref: str) -> str:
    """The customer's status page, as a full public URL."""
    return settings().public_base_url.rstrip("/") + url_for("callback.status", ref=ref)


def callback_json(req: CallbackRequest) -> dict[str, Any]:
    """The public shape of a request; the phone number is masked."""
    standing = service.standing(session(), req, clock().now())
    return {**_fields_of(req), "position": standing.position, "estimated_wait_seconds": standing.estimated_wait_seconds}


def _fields_of(req: CallbackRequest) -> dict[str, Any]:
    """Every field of the public shape but the place in line, which takes a query of its own."""
    return {
        "id": req.ref,
        "status": req.status,
        "topic": req.queue.name,
        "position": None,
        "estimated_wait_seconds": None,
        "not_before": req.not_before.isoformat() if req.not_before else None,
        "attempts": req.attempts,
        "phone": phones.mask(req.phone),
        "created_at": req.created_at.isoformat(),
        "status_url": status_url(req.ref),
        "language": req.language,
    }


class UnsupportedBody(DomainError):
    """A body that is not JSON at all (a form post, plain text): the client must send JSON."""

    status = 415


class MalformedJson(DomainError):
    """A body that says it is JSON but cannot be read as JSON."""

    status = 400


class Problems(InvalidInput):
    """Every reason an ask is refused at once; the first is the answer's `error`, as it always was."""

    def __init__(self, problems: list[DomainError]) -> None:
        first = problems[0]
        super().__init__(first.code, first.message, first.field)
        self.status = first.status
        self.problems = problems


def _described(error: DomainError) -> dict[str, str]:
    said = {"code": error.code, "message": error.message}
    return said | ({"field": error.field} if error.field else {})


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    """The API's error shape, with `errors` listing every problem (one, unless the ask had several)."""
    response = cast(Response, json_error(error))
    body = response.get_json()
    body["errors"] = [_described(e) for e in getattr(error, "problems", [error])]
    response.set_data(json.dumps(body))
    return response


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedBody(
            "unsupported_media_type",
            f"The request body must be JSON, sent with Content-Type: application/json "
            f"(this one was {request.mimetype or 'not labelled'}).",
        )
    try:
        body = payload.loads(request.get_data())
    except payload.TooDeep as exc:
        # Refused for a limit of ours, unread: like a body that is not an object, not a syntax error.
        raise InvalidInput(
            "bad_json", f"The request body must not be nested deeper than {payload.MAX_DEPTH} levels."
        ) from exc
    except ValueError as exc:  # not JSON, or not UTF-8
        raise MalformedJson("bad_json", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise InvalidInput("bad_json", "The request body must be a JSON object.")
    return body


def _string(body: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"{key}_required", f"'{key}' is required.", key)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"bad_{key}", f"'{key}' must be a string.", key)
    return value


def _time(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            "bad_not_before",
            "'not_before' must be an ISO 8601 time such as 2026-11-24T15:30:00Z.",
            "not_before",
        ) from exc
    if parsed.tzinfo is None:
        raise InvalidInput(
            "time_without_zone", "'not_before' must include a time zone, such as Z or +01:00.", "not_before"
        )
    return parsed


def _language(value: str | None) -> str:
    """The language of the call and texts: as given, else the client's Accept-Language, else English."""
    if value is None:
        return words.page_language()
    if value.lower() not in words.LANGUAGES:
        raise InvalidInput("bad_language", f"'language' must be one of: {', '.join(words.LANGUAGES)}.", "language")
    return value.lower()


def _country(value: str | None) -> str | None:
    """The optional country a national number is read in: a two-letter code, such as US or GB."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if not phones.is_region(code):
        raise InvalidInput("bad_country", "'country' must be a two-letter country code, such as US or GB.", "country")
    return code


# Idempotency-Key: the client's own random key for one ask (a UUID, say). It plays the part the form's
# hidden id plays on the web (callback.service.made_by): kept only hashed with the request it made, so a
# retry whose first answer was lost gets that request back, and nobody without the key learns anything.
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{16,255}")


def _idempotency_key() -> str | None:
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidInput(
            "bad_idempotency_key",
            f"'{IDEMPOTENCY_HEADER}' must be 16 to 255 visible characters, such as a random UUID.",
            IDEMPOTENCY_HEADER,
        )
    return "api:" + value


def _replayed(req: CallbackRequest) -> ResponseReturnValue:
    """The answer to a retried ask with the same Idempotency-Key: the request it made, as first answered."""
    response = jsonify(callback_json(req))
    response.status_code = 201
    response.headers["Location"] = url_for("callback_api.get_callback", ref=req.ref)
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/callbacks")
def create_callback() -> ResponseReturnValue:
    """Ask for a callback; an active duplicate answers 409 without revealing that request."""
    body = _body()
    found: list[DomainError] = []

    def checked(read: Callable[[], T], default: T) -> T:
        """A field as read, or `default` with its problem kept, so the answer can list every one."""
        try:
            return read()
        except DomainError as error:
            found.append(error)
            return default

    if body.get("consent") is not True:
        found.append(
            InvalidInput("consent_required", "'consent' must be true: we only call people who agree.", "consent")
        )
    data = service.CallbackInput(
        phone=checked(lambda: _string(body, "phone"), None) or "",
        name=checked(lambda: _string(body, "name"), None) or "",
        topic=checked(lambda: _string(body, "topic"), None) or "",
        consent=True,
        order_number=checked(lambda: _string(body, "order_number", required=False), None),
        not_before=checked(lambda: _time(_string(body, "not_before", required=False)), None),
        region=checked(lambda: _country(_string(body, "country", required=False)), None),
        source="api",
        client_ip=request.remote_addr,
        language=checked(lambda: _language(_string(body, "language", required=False)), "en"),
        form_id=checked(_idempotency_key, None),
    )
    # Then what the service would refuse, for the fields that were at least readable (the do-not-call
    # list is request_callback's, judged after the limits: service.problems).
    unread = {error.field for error in found}
    found += [
        problem
        for problem in service.problems(session(), phone_policy(), data, clock().now())
        if problem.field not in unread and problem.field != "consent"
    ]
    if found:
        raise Problems(found)
    req, created = service.request_callback(session(), clock(), phone_policy(), limits(), data)
    if not created:
        if data.form_id and service.made_by(req, data):
            return _replayed(req)
        raise refuse_duplicate(req, data.not_before.isoformat() if data.not_before else "asap", data.language)
    ref, request_id = req.ref, req.id
    # What the answer says of the new request, read before anything else can fail: the same fields as
    # ever, whatever the database does next.
    stored = _fields_of(req)
    try:
        after_queued(req)
        body_out = callback_json(req)
    except UNAVAILABLE:
        # Stored already: a slow database must not turn this answer into a failure, or the client
        # would ask again and be told it already asked. Its place and wait are left for a later GET.
        session().rollback()
        log.warning("callback stored; its place in line could not be read in time", extra={"request_id": request_id})
        body_out = stored
    response = jsonify(body_out)
    response.status_code = 201
    response.headers["Location"] = url_for("callback_api.get_callback", ref=ref)
    return response


@bp.get("/callbacks/<ref>")
def get_callback(ref: str) -> ResponseReturnValue:
    """A request's status, place in line and estimated wait."""
    return jsonify(callback_json(service.get(session(), ref)))


@bp.delete("/callbacks/<ref>")
def cancel_callback(ref: str) -> ResponseReturnValue:
    """Cancel a request; canceling again still answers 200."""
    return jsonify(callback_json(service.cancel(session(), clock(), ref, current_app.extensions["telephony"])))


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3 document of the public and admin JSON API."""
    return jsonify(document(settings().public_base_url))
