"""deploy/: the Grafana dashboard and Prometheus rules query only metrics shipml exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from shipml.project.prometheus import PerformanceMetrics, register_monitoring_metrics
from shipml.serving.metrics import ServingMetrics
from shipml.serving.routes import ENDPOINTS

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
METRIC = re.compile(r"\bshipml_[a-z0-9_]+\b")
SERIES_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}


def exported_series() -> set[str]:
    """The series names shipml exposes: monitoring gauges and the service's metrics."""
    monitoring = CollectorRegistry()
    register_monitoring_metrics(monitoring, "toy")
    PerformanceMetrics(monitoring, "toy")
    service = ServingMetrics(endpoints=ENDPOINTS, columns=["temperature_c"]).registry
    names: set[str] = set()
    for registry in (monitoring, service):
        for family in registry.collect():
            suffixes = SERIES_SUFFIXES.get(family.type, ("",))
            names.update(family.name + suffix for suffix in suffixes)
    return names


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    queries = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    queries += [
        variable["definition"]
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    ]
    return queries


def rule_queries() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_the_dashboard_queries_only_exported_metrics() -> None:
    exported = exported_series()
    queries = dashboard_queries()

    used = {name for query in queries for name in METRIC.findall(query)}

    assert len(queries) >= 15
    assert used - exported == set()
    assert {"shipml_feature_drift_score", "shipml_request_duration_seconds_bucket"} <= used


def test_the_alert_rules_query_only_exported_metrics_and_are_complete() -> None:
    exported = exported_series()
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())

    used = {name for query in rule_queries() for name in METRIC.findall(query)}

    assert used - exported == set()
    assert {"shipml_prediction_shift_zscore", "shipml_requests_total"} <= used
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]


def test_every_monitoring_gauge_is_on_the_dashboard() -> None:
    monitoring = CollectorRegistry()
    register_monitoring_metrics(monitoring, "toy")
    gauges = {family.name for family in monitoring.collect()}

    used = {name for query in dashboard_queries() for name in METRIC.findall(query)}

    assert gauges - used == set()
