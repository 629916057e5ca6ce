"""The Grafana dashboard's panels and queries, as Prometheus would run them."""

from __future__ import annotations

import json
from typing import Any

from _image_venv import DEPLOY

DASHBOARD = DEPLOY / "grafana-dashboard.json"


def dashboard() -> dict[str, Any]:
    """The dashboard JSON."""
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panel_queries() -> dict[str, list[str]]:
    """Each panel's PromQL by title, `$pipeline` set to the variable's "All" value."""
    found = dashboard()
    every = {v["name"]: v.get("allValue", ".*") for v in found["templating"]["list"]}
    queries: dict[str, list[str]] = {}
    for panel in found["panels"]:
        expressions = [target["expr"] for target in panel.get("targets", [])]
        if expressions:
            queries[panel["title"]] = [
                expression.replace("$pipeline", every["pipeline"]) for expression in expressions
            ]
    return queries
