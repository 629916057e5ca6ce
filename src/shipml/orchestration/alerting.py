"""The scheduler's own alerts (missing input, windows beyond the catch-up limit)."""

from __future__ import annotations

from datetime import datetime

from shipml.alerting.sinks import AlertSink
from shipml.alerting.state import raise_alerts
from shipml.monitoring.alerts import CandidateAlert
from shipml.project.project import Project
from shipml.store import AlertOutcome

_SINK_FLUSH_SECONDS = 10.0


def raise_scheduler_alert(
    project: Project,
    candidate: CandidateAlert,
    *,
    run_id: str | None,
    window_start: datetime | None,
) -> AlertOutcome:
    """Open (or refresh) one alert in the store and send it to the sinks when it is new."""
    sinks: list[AlertSink] = project.settings.alerts.sinks()
    try:
        [outcome] = raise_alerts(
            project.store,
            project.name,
            [candidate],
            run_id=run_id,
            window_start=window_start,
            sinks=sinks,
            checked={(candidate.rule, candidate.column)},  # close no other alert
        )
    finally:
        for sink in sinks:
            sink.flush(_SINK_FLUSH_SECONDS)
    return outcome
