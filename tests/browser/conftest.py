"""The real app on a real port, and headless Chromium driven by Playwright, for the browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The whole app with the real clock, served on 127.0.0.1 at a free port; yields its base URL.

    Every queue is open 24/7 so the form offers time slots and takes requests at any hour of the run.
    """
    from werkzeug.serving import make_server

    import agents.models  # noqa: F401 - register the tables
    import callback.models  # noqa: F401
    from agents.service import DEFAULT_QUEUES, ensure_default_queues, update_queue
    from app import create_app
    from core.clock import SystemClock
    from core.db import get_db
    from tests.helpers import sqlite_with_schema

    database_url = sqlite_with_schema(tmp_path / "live.sqlite3")

    # The app must know its public URL, which needs the port, which needs a listening server: bind first
    # (port 0: the system picks a free one), then build the app and hand it to the server.
    apps: list[Any] = []
    server = make_server("127.0.0.1", 0, lambda environ, start: apps[0](environ, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    application = create_app(
        {"app_env": "testing", "database_url": database_url, "public_base_url": url}, clock=SystemClock()
    )
    with get_db(application).sessions() as s:
        ensure_default_queues(s, "+15005550006")
        for name, _display_name in DEFAULT_QUEUES:
            update_queue(s, name, {"hours": "24/7"})
    apps.append(application)

    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_db(application).engine.dispose()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser tab on the live server (relative URLs work) that fails the test on any script error,
    Content-Security-Policy violation or failed script, style or API call.

    A page's own 4xx (the form answering 422) is not a failure, and neither is Chromium's /favicon.ico
    probe (the site has no icon; Playwright does not report that request anyway).
    """
    context = browser.new_context(base_url=live_server, viewport={"width": 1024, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text} at {message.location.get('url')}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    def on_request_failed(request: Any) -> None:
        # Leaving a page aborts what it was still loading (the status poll, say): that is no fault.
        if "ERR_ABORTED" not in (request.failure or ""):
            problems.append(f"{request.url} failed: {request.failure}")

    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", on_console)
    tab.on("response", on_response)
    tab.on("requestfailed", on_request_failed)
    try:
        yield tab
        assert not problems, "the browser reported errors:\n" + "\n".join(problems)
    finally:
        context.close()
