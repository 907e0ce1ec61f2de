"""Runs a sandbox app on a real socket in a background thread (for the CLI and for tests)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from telephony.sandbox.app import create_sandbox_app

logger = logging.getLogger(__name__)


class SandboxServer:
    """A threaded HTTP server around the sandbox app; port 0 picks a free port."""

    def __init__(self, settings: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = create_sandbox_app(settings)
        self.sandbox = self.app.extensions["sandbox"]
        self.world = self.sandbox.world
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self.world.base_url = self.base_url
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The sandbox's root URL, to use as TWILIO_API_BASE."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self."""
        # A short poll interval makes stop() quick (the default waits up to half a second).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="sandbox-http",
        )
        self._thread.start()
        logger.info("sandbox listening", extra={"url": self.base_url})
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        """Hang up every call, stop serving and wait for the call threads."""
        self.world.shutdown()
        self._server.shutdown()
        self._server.server_close()
        self.sandbox.engine.join(timeout=2.0)
