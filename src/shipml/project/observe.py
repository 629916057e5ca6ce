"""Monitor a finished batch window: profile it, compare with the model's baseline, alert."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shipml.alerting.state import has_critical, raise_window_alerts
from shipml.monitoring import (
    END_TO_END,
    LatencyProfile,
    Profile,
    WindowEvaluation,
    evaluate_window,
)
from shipml.pipeline.runner import FlowResult
from shipml.project.baselines import ModelBaselines
from shipml.project.project import Project
from shipml.project.prometheus import publish_batch_metrics
from shipml.store.records import AlertOutcome
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

log = logging.getLogger(__name__)

# The frames a window is profiled on: what the model saw, and what it said.
FEATURES = "predict.input"
PREDICTIONS = "predict.output"


@dataclass(frozen=True)
class Observation:
    """A window's evaluation against the baseline, and the alerts it raised."""

    evaluation: WindowEvaluation
    alerts: list[AlertOutcome]

    @property
    def critical(self) -> bool:
        """Whether any alert raised by this window is critical."""
        return has_critical(self.alerts)


def observe_window(
    project: Project,
    run_id: str,
    window: Window,
    model: LoadedModel,
    result: FlowResult,
    window_profile: Profile | None,
) -> Observation | None:
    """Store the window's profiles and evaluation, and raise its alerts (None: no baseline).

    `window_profile` is the window's features and predictions profiled on the baseline's bins
    (by the engine that ran it); `result` gives the step timings.
    """
    baselines = ModelBaselines.from_json(model.baseline)
    if baselines is None or window_profile is None:
        log.warning("model %s has no baseline: window %s is not monitored", model.ref, window)
        return None
    baseline = baselines.monitoring
    latency = latency_profile(result)
    evaluation = evaluate_window(baseline, window_profile, latency, project.settings.monitoring)
    store = project.store
    common: dict[str, Any] = {
        "run_id": run_id,
        "window_start": window.start,
        "window_end": window.end,
        "model_name": model.ref.name,
        "model_version": model.ref.version,
    }
    for name, payload in (
        ("window", window_profile),
        ("latency", latency),
        ("evaluation", evaluation),
    ):
        store.save_profile(project.name, "batch", name, payload.model_dump(mode="json"), **common)
    alerts = raise_window_alerts(
        store,
        project.name,
        evaluation,
        run_id=run_id,
        window_start=window.start,
        sinks=project.alert_sinks,
    )
    _publish(project, evaluation, window)
    return Observation(evaluation, alerts)


def _publish(project: Project, evaluation: WindowEvaluation, window: Window) -> None:
    """Expose the window's scores to Prometheus, when a textfile or Pushgateway is configured."""
    settings = project.settings.monitoring
    if settings.prometheus_textfile is None and settings.pushgateway_url is None:
        return
    textfile = settings.prometheus_textfile
    publish_batch_metrics(
        project.name,
        evaluation,
        project.store.alerts(status="open", pipeline=project.name),
        window_end=window.end,
        textfile=project.root / textfile if textfile is not None else None,
        gateway_url=settings.pushgateway_url,
    )


def latency_profile(result: FlowResult) -> LatencyProfile:
    """Each step's duration, and the flow's, as one latency sample each."""
    samples = {timing.step: [timing.duration_s] for timing in result.steps}
    samples[END_TO_END] = [sum(t.duration_s for t in result.steps)]
    return LatencyProfile.from_samples(samples)
