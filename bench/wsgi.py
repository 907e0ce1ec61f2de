"""The WSGI app bench/ivr.py serves with gunicorn: the real Callme app plus a bare TwiML endpoint.

Configured from the environment like a deployment (APP_ENV, DATABASE_URL, PUBLIC_BASE_URL, ...).
`POST /bench/bare` is the yardstick of DESIGN.md section 5: fixed TwiML of about the size of the
menu's, no database, no signature check. It is a blueprint on the same Flask app object, so it shares
the server, the worker pool, the request hooks (CSRF check, security headers, session teardown) with
the webhooks it is compared with. Bench only: nothing in the app imports this.

Serve: gunicorn --chdir <repo> bench.wsgi:application
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Blueprint, Flask, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402

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


def build() -> Flask:
    """The app from the environment, with the bare endpoint registered (CSRF-exempt, like the webhooks)."""
    app = create_app()
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)
    return app


application = build()
