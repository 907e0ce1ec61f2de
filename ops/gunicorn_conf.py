"""gunicorn settings for Callme: `gunicorn -c ops/gunicorn_conf.py 'app:create_app()'` (scripts/run.sh).

/metrics adds up the counters of every process through files in PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multi-process mode); a worker that exits must say so, or its live gauges'
files would be read as if it still ran. Counters and histograms stay: what it counted happened.

The access log leaves out the polling routes (the agents' consoles and the board every second, the
status page's refresh, the sandbox softphone): a line per poll would bury every other request.
LOG_POLLING_REQUESTS=1 keeps them (core.logs.is_polling says which requests are polls).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

# The project root, for core.logs (gunicorn reads this file before it imports the app).
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from core.logs import JsonFormatter, is_polling, redact  # noqa: E402 - needs the project root on the path first


def _keep_polling() -> bool:
    return os.environ.get("LOG_POLLING_REQUESTS", "").strip().lower() in {"1", "true", "yes", "on"}


class CallmeLogger(Logger):
    """gunicorn's logger, without the access lines of polling routes (unless LOG_POLLING_REQUESTS), and
    with customers' references out of the paths it writes (a reference opens its status page)."""

    keep_polling = _keep_polling()

    def setup(self, cfg: Any) -> None:
        """gunicorn's handlers; with LOG_FORMAT=json its own lines (boot, worker exits, a worker's
        traceback) are JSON objects like the app's, so a pipeline reading one object per line gets them."""
        super().setup(cfg)
        if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    if getattr(handler, "_gunicorn", False):
                        handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Write the access line, unless the request was a page's poll."""
        if not self.keep_polling and is_polling(
            environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""), environ.get("HTTP_SEC_FETCH_MODE", "")
        ):
            return
        super().access(resp, req, environ, request_time)

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        """The access line's parts, with references in the request line and path redacted."""
        parts: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if isinstance(parts.get(key), str):
                parts[key] = redact(parts[key])
        return parts


logger_class = CallmeLogger


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: mark its files dead (multi-process mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_starting(server: Any) -> None:
    """Check the settings before any worker starts: a missing secret or a malformed setting stops the
    master with one line naming it (gunicorn prints a RuntimeError as "Error: ..." and exits 1), where
    each worker would otherwise fail to boot with a traceback, over and over."""
    from core.config import Settings

    Settings.from_env()
