"""Signing staff in and out through the real pages, CSRF token and all, for integration tests."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import STAFF_PASSWORD

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path` (the sign-in page by default)."""
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(
    client: FlaskClient, email: str, password: str = STAFF_PASSWORD, next_path: str | None = None, **kwargs: object
) -> TestResponse:
    """POST the sign-in form as a browser would; returns the response (302 on success)."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data, **kwargs)


def sign_out(client: FlaskClient) -> TestResponse:
    """POST the sign-out button with the token every staff page carries."""
    # /staff shows any signed-in person their name and the sign-out form, with its token.
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/staff")})
