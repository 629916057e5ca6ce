"""The performance gauges of a project: republished by every monitored batch window (its CBPE
estimates) and by every label ingest (realized performance and the ingest's counts)."""

from __future__ import annotations

from collections.abc import Mapping

from shipml.project.performance import load_performance
from shipml.project.project import Project
from shipml.project.prometheus import publish_performance_metrics

# The ingest counts as the gauge's `outcome` label names them.
_OUTCOMES = {
    "labels_read": "read",
    "matched": "matched",
    "unmatched": "unmatched",
    "duplicates": "duplicates",
    "invalid": "invalid",
    "overdue": "overdue",
    "predictions": "predictions",
}


def publish_performance(project: Project, counts: Mapping[str, int] | None = None) -> None:
    """The last judged window of each kind, and the ingest counts (by default the last
    ingest's), when a Prometheus textfile or Pushgateway is configured."""
    settings = project.settings.monitoring
    if settings.prometheus_textfile is None and settings.pushgateway_url is None:
        return
    if counts is None:
        counts = _last_ingest(project)
    textfile = settings.prometheus_textfile
    publish_performance_metrics(
        project.name,
        load_performance(project.store, project.name),
        {_OUTCOMES.get(name, name): count for name, count in counts.items()},
        textfile=project.root / textfile if textfile is not None else None,
        gateway_url=settings.pushgateway_url,
    )


def _last_ingest(project: Project) -> dict[str, int]:
    """The counts of the newest label ingest (none before the first)."""
    found = project.store.label_ingests(project.name, limit=1)
    if not found:
        return {}
    return {name: getattr(found[0], name) for name in _OUTCOMES}
