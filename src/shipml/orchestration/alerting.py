"""The scheduler's own alerts (windows beyond the catch-up limit).

They go to the project's sinks, whose webhook delivers from its own thread: the scheduler
never waits for a slow endpoint (process exit waits a bounded time, see `alerting.sinks`).
"""

from __future__ import annotations

from datetime import datetime

from shipml.alerting.state import raise_alerts
from shipml.monitoring.alerts import CandidateAlert
from shipml.project.project import Project
from shipml.store import AlertOutcome


def raise_scheduler_alert(
    project: Project,
    candidate: CandidateAlert,
    *,
    run_id: str | None,
    window_start: datetime | None,
) -> AlertOutcome:
    """Open (or refresh) one alert in the store and send it to the sinks when it is new."""
    [outcome] = raise_alerts(
        project.store,
        project.name,
        [candidate],
        run_id=run_id,
        window_start=window_start,
        sinks=project.alert_sinks,
        checked={(candidate.rule, candidate.column)},  # close no other alert
    )
    return outcome
