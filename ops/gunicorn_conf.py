"""gunicorn settings for Callme: `gunicorn -c ops/gunicorn_conf.py 'app:create_app()'` (scripts/run.sh).

/metrics adds up the counters of every process through files in PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multi-process mode); a worker that exits must say so, or its live gauges'
files would be read as if it still ran. Counters and histograms stay: what it counted happened.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: mark its files dead (multi-process mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
