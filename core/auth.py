"""Bearer-token protection for the admin API."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request


def admin_token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with 401 unless it carries `Authorization: Bearer <ADMIN_API_TOKEN>`."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        expected = current_app.config["SETTINGS"].admin_api_token
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        # compare_digest: the time taken must not reveal how much of the token was right. Bytes, because
        # on str it raises TypeError for any non-ASCII character, and a header may carry anything.
        given = token.strip().encode("utf-8", errors="surrogateescape")
        if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(given, str(expected).encode()):
            response = jsonify({"error": {"code": "unauthorized", "message": "A valid admin token is required."}})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="callme-admin"'
            return response
        return view(*args, **kwargs)

    return wrapped
