"""The example Grafana dashboard (ops/grafana) queries only metrics /metrics exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reports import instruments

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "callme-dashboard.json"
METRIC = re.compile(r"\bcallme_[a-z0-9_]+")


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def _load() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return dashboard


def test_the_dashboard_is_grafana_json_with_a_prometheus_data_source_to_choose() -> None:
    dashboard = _load()

    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] != "row"]
    assert len(panels) >= 10
    assert len({p["id"] for p in _panels(dashboard["panels"])}) == len(list(_panels(dashboard["panels"])))
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}


def test_every_metric_the_dashboard_queries_is_one_we_export() -> None:
    dashboard = _load()
    exprs = [t["expr"] for p in _panels(dashboard["panels"]) for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if isinstance(v.get("query"), dict)]

    used = {name for expr in exprs for name in METRIC.findall(expr)}

    assert used - instruments.sample_names() == set()
    # Each family of the contract is on the dashboard somewhere.
    assert {family for family in instruments.FAMILIES if any(name.startswith(family) for name in used)} == set(
        instruments.FAMILIES
    )


def test_the_dashboard_asks_for_the_figures_operators_need() -> None:
    exprs = " ".join(t["expr"] for p in _panels(_load()["panels"]) for t in p.get("targets", []))

    for needed in (
        "histogram_quantile(0.95, sum by (le, route) (rate(callme_webhook_seconds_bucket",
        "histogram_quantile(0.5, sum by (le) (rate(callme_dispatch_seconds_bucket",
        "histogram_quantile(0.99, sum by (le) (rate(callme_dispatch_seconds_bucket",
        "histogram_quantile(0.9, sum by (le, queue) (rate(callme_wait_to_connect_seconds_bucket",
    ):
        assert needed in exprs, needed
