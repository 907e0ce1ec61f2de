"""GET /metrics in the Prometheus text format (prometheus_client, multi-process aware).

Two kinds of figures, read two ways:

- Gauges (`callme_requests_waiting`, `callme_callers_holding`, `callme_agents`, `callme_dialling_paused`)
  are the line as it stands, read from the database at each scrape through `reports.live.line_now`,
  so every web worker answers the same whichever process changed the line.
- Counters and histograms (reports.instruments) are counted in the process where things happen. With
  PROMETHEUS_MULTIPROC_DIR set (gunicorn workers, `flask scheduler` dispatchers), each process writes
  its own files there and a scrape adds them all up (prometheus_client's multi-process mode). The
  directory must exist, be shared by every process of one deployment, and be emptied before they
  start, never while one runs (scripts/run.sh does it); gunicorn's `child_exit` hook
  (ops/gunicorn.conf.py) marks a dead worker's files. Without it (one process, tests), the default
  registry is read.

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>`; without it, only loopback
clients (the client address after ProxyFix, so TRUSTED_PROXIES decides whose X-Forwarded-For counts).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from agents.models import AGENT_STATUSES
from core.db import get_db
from reports import instruments
from reports.live import LineNow, line_now

# Twilio's webhooks (callback/voice.py, ivr/voice.py) live under this prefix.
WEBHOOK_PREFIX = "/voice/"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class LineCollector:
    """The gauges, read from the database at scrape time (the same answer in every process)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def read(self) -> LineNow:
        """The line now, in a session of its own, at the app's clock."""
        with get_db(self.app).sessions() as session:
            return line_now(session, self.app.extensions["clock"].now(), gauges_only=True)

    def collect(self) -> Iterator[Metric]:
        """One read of the line, as gauges."""
        yield from line_gauges(self.read())


def line_gauges(line: LineNow) -> list[Metric]:
    """The gauges of one read of the line: every queue, and every agent status with zeros."""
    waiting = GaugeMetricFamily(
        instruments.REQUESTS_WAITING, "Callback requests due now and not yet being called, by queue.", labels=["queue"]
    )
    holding = GaugeMetricFamily(
        instruments.CALLERS_HOLDING, "Callers holding on the line (in <Enqueue>), by queue.", labels=["queue"]
    )
    agents = GaugeMetricFamily(
        instruments.AGENTS, "Agents serving a queue, by queue and status.", labels=["queue", "status"]
    )
    for q in line.queues:
        waiting.add_metric([q.name], q.waiting)
        holding.add_metric([q.name], q.holding)
        for status in AGENT_STATUSES:
            agents.add_metric([q.name, status], q.agents.get(status, 0))
    paused = GaugeMetricFamily(
        instruments.DIALLING_PAUSED, "1 while the telephony provider's refusals keep dialling paused, else 0."
    )
    paused.add_metric([], 1 if line.dialling_paused else 0)
    return [waiting, holding, agents, paused]


class _Scrape:
    """What one scrape reads: the line, then the process-wide (or all processes') instruments."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """Every metric family of this scrape."""
        # Customers' cancels are counted once they can no longer be undone (reports.instruments).
        with get_db(self.app).sessions() as session:
            instruments.count_settled_cancels(session, self.app.extensions["clock"].now())
        line = LineCollector(self.app).read()
        # Series for every queue from the first scrape, so rate() sees a request's first increment.
        instruments.zero_fill([q.name for q in line.queues])
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        yield from line_gauges(line)


def metrics_view() -> Response:
    """GET /metrics: the scrape, for Prometheus holding the token (or a loopback client without one)."""
    refusal = _refusal()
    if refusal is not None:
        return refusal
    return Response(generate_latest(_Scrape(current_app)), mimetype=None, content_type=CONTENT_TYPE_LATEST)


def _refusal() -> Response | None:
    token = str(current_app.config["SETTINGS"].metrics_token or "")
    if token:
        header = request.headers.get("Authorization", "")
        # compare_digest on bytes: the time taken must not tell how much of the token was right.
        given = header.encode("utf-8", errors="surrogateescape")
        if hmac.compare_digest(given, f"Bearer {token}".encode()):
            return None
        return Response(
            "A valid metrics token is required (Authorization: Bearer <METRICS_TOKEN>).\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="callme-metrics"'},
        )
    if _is_loopback(request.remote_addr):
        return None
    return Response(
        "/metrics answers only this machine (loopback) until METRICS_TOKEN is set; set METRICS_TOKEN "
        "and give Prometheus the token as a bearer token.\n",
        status=403,
        mimetype="text/plain",
    )


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _webhook_started() -> None:
    if request.path.startswith(WEBHOOK_PREFIX):
        g.metrics_webhook_started = time.perf_counter()


def _webhook_answered(response: Response) -> Response:
    started = g.pop("metrics_webhook_started", None)
    if started is not None:
        # The URL rule, never the raw path: ids in paths would make a series per call.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        instruments.webhook(route, response.status_code, time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Register /metrics and the instrumentation."""
    instruments.install()
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    # First of the before_request hooks, so a webhook another hook answers (a refused signature) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _webhook_started)
    app.after_request(_webhook_answered)
