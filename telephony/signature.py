"""X-Twilio-Signature checking for the app's voice webhooks.

Twilio signs "the full URL" it requested, with the query string, then the sorted POST parameters
(https://www.twilio.com/docs/usage/webhooks/webhooks-security). Our webhook URLs end in connection
overrides, a fragment (core.webhooks), which HTTP never sends; Twilio's documentation does not say
whether the signed URL keeps it. So a request is accepted when its signature matches the URL as
received, or that URL with one of the fragments we append (core.webhooks.SIGNED_FRAGMENTS). A retry
Twilio makes under those overrides is the same signed request, so it is accepted the same way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from core.webhooks import SIGNED_FRAGMENTS

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"

F = TypeVar("F", bound=Callable[..., Any])


def public_url(public_base_url: str, path: str, query_string: str = "") -> str:
    """The URL Twilio requested: the configured public base, the path, and the query string as sent."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{query_string}" if query_string else url


def signature_is_valid(
    auth_token: str,
    url: str,
    params: Mapping[str, Any] | str,
    signature: str,
    fragments: tuple[str, ...] = SIGNED_FRAGMENTS,
) -> bool:
    """True when `signature` is what Twilio would send for this URL (bare, or with one of `fragments`)."""
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    bare = url.split("#", 1)[0]
    candidates = [url, *(f"{bare}#{fragment}" for fragment in fragments if f"{bare}#{fragment}" != url)]
    return any(validator.validate(candidate, params, signature) for candidate in candidates)


def twilio_signature_required(view: F) -> F:
    """Answer 403 unless the request carries a valid X-Twilio-Signature for the public URL."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.config["SETTINGS"]
        # Behind a proxy the Host header and scheme are the proxy's, not what Twilio signed, so the URL
        # is rebuilt from PUBLIC_BASE_URL; the query string is kept byte for byte as Twilio sent it.
        url = public_url(settings.public_base_url, request.path, request.query_string.decode("latin-1"))
        params: Mapping[str, Any] | str
        if "bodySHA256" in request.args:
            # JSON-bodied webhooks sign a hash of the body (carried in the URL), not the parameters.
            params = request.get_data(as_text=True)
        elif request.method == "POST":
            params = request.form
        else:
            params = {}
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature_is_valid(settings.twilio_auth_token, url, params, signature):
            logger.warning("rejected webhook with a bad Twilio signature", extra={"url": url})
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)
