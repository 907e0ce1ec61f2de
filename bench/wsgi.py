"""The WSGI app bench/ivr.py serves with gunicorn: the real Callme app plus two yardstick endpoints.

Configured from the environment like a deployment (APP_ENV, DATABASE_URL, PUBLIC_BASE_URL, ...).
`POST /bench/bare` is the yardstick of DESIGN.md section 5: fixed TwiML of about the size of the
menu's, no database, no signature check. `POST /bench/one-read` is the least a webhook that reads the
database can do: the same fixed TwiML after the Twilio signature check and one order read by its
number (the app's own order lookup, as the menu's order question uses it), so its ratio to bare is the
floor under any IVR webhook's. Both are a blueprint on the same Flask app object, so they share the
server, the worker pool, the request hooks (CSRF check, security headers, session teardown) with the
webhooks they are compared with. Bench only: nothing in the app imports this.

Serve: gunicorn --chdir <repo> bench.wsgi:application
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from telephony.signature import twilio_signature_required  # noqa: E402

# A greeting and a keypad-and-speech gather, about the size of /voice/incoming's answer (~1 KB).
BARE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="http://127.0.0.1/bench/bare?node=main" actionOnEmptyResult="true" '
    'hints="track my order, where is my package, order status, delivery status, tracking, return, refund, '
    "refund status, return status, money back, I sent something back, agent, representative, talk to a person, "
    'speak to someone, a real person, operator, human, customer service, talk to somebody, somebody please" '
    'input="dtmf speech" method="POST" numDigits="1" speechTimeout="auto" timeout="5">'
    '<Say voice="Polly.Joanna">Thanks for calling the bench shop. To track an order, press 1 or say track my '
    "order. For returns and refunds, press 2. To talk to someone, press 0. This answer never changes at all."
    "</Say></Gather>"
    '<Redirect method="POST">http://127.0.0.1/bench/bare?node=main</Redirect></Response>'
)

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.post("/bare")
def bare() -> Response:
    """Fixed TwiML: what a webhook costs when it does nothing but answer."""
    return Response(BARE_TWIML, mimetype="text/xml")


@bp.post("/one-read")
@twilio_signature_required
def one_read() -> Response:
    """A signed webhook that reads one order by the keyed number, then answers the fixed TwiML."""
    if current_app.extensions["order_lookup"].order(request.form.get("Digits", "")) is None:
        abort(404)  # the benchmark keys demo orders only: a miss means the read did not happen as meant
    return Response(BARE_TWIML, mimetype="text/xml")


def build() -> Flask:
    """The app from the environment, with the bare endpoint registered (CSRF-exempt, like the webhooks)."""
    app = create_app()
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)
    return app


application = build()
