"""Monitor a finished batch window: profile it, compare with the model's baseline, alert."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shipml.alerting.state import has_critical, raise_window_alerts
from shipml.alerting.windows import HeldFinding, held
from shipml.monitoring import (
    END_TO_END,
    LatencyProfile,
    Profile,
    WindowEvaluation,
    evaluate_window,
    profile_rows,
)
from shipml.pipeline.runner import FlowResult
from shipml.project.baselines import ModelBaselines
from shipml.project.performance import save_estimates
from shipml.project.performance_metrics import publish_performance
from shipml.project.project import Project
from shipml.project.prometheus import publish_batch_metrics
from shipml.store import RunStore
from shipml.store.records import AlertOutcome
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

log = logging.getLogger(__name__)

# The frames a window is profiled on: what the model saw, and what it said.
_LOOK_BACK = 1000  # windows merged at most to reach drift_min_rows
FEATURES = "predict.input"
PREDICTIONS = "predict.output"


@dataclass(frozen=True)
class Observation:
    """A window's evaluation against the baseline, and the alerts it raised (or held)."""

    evaluation: WindowEvaluation
    alerts: list[AlertOutcome]
    held: list[HeldFinding]

    @property
    def critical(self) -> bool:
        """Whether any alert raised (or held, in a past window) by this window is critical."""
        return has_critical(self.alerts) or any(f.severity == "critical" for f in self.held)


def observe_window(
    project: Project,
    run_id: str,
    window: Window,
    model: LoadedModel,
    result: FlowResult,
    window_profile: Profile | None,
    *,
    past: bool = False,
    rerun: bool = False,
) -> Observation | None:
    """Store the window's profiles and evaluation, and raise its alerts (None: no baseline).

    `window_profile` is the window's features and predictions profiled on the baseline's bins
    (by the engine that ran it); `result` gives the step timings. A `past` window (a later
    one already ran) raises nothing: its findings are held (marked `rerun` when the window
    had run before).
    """
    baselines = ModelBaselines.from_json(model.baseline)
    if baselines is None or window_profile is None:
        log.warning("model %s has no baseline: window %s is not monitored", model.ref, window)
        return None
    baseline = baselines.monitoring
    latency = latency_profile(result)
    rules = project.settings.monitoring
    store = project.store
    drift_on, drift_windows = recent_profile(
        store, project.name, "batch", window.start, window_profile, rules.drift_min_rows
    )
    evaluation = evaluate_window(
        baseline, window_profile, latency, rules, drift_on=drift_on, drift_windows=drift_windows
    )
    payloads: tuple[tuple[str, Profile | LatencyProfile | WindowEvaluation], ...] = (
        ("window", window_profile),
        ("latency", latency),
        ("evaluation", evaluation),
    )
    for name, payload in payloads:
        store.save_profile(
            project.name,
            "batch",
            name,
            payload.model_dump(mode="json"),
            run_id=run_id,
            window_start=window.start,
            window_end=window.end,
            model_name=model.ref.name,
            model_version=model.ref.version,
        )
    save_estimates(
        store,
        project.name,
        evaluation,
        rules.estimate_alerts_on,
        window=window.key,
        span=window,
        model_version=model.ref.version,
        run_id=run_id,
    )
    if past:
        return Observation(evaluation, [], held(window.start, evaluation.alerts, rerun=rerun))
    alerts = raise_window_alerts(
        store,
        project.name,
        evaluation,
        run_id=run_id,
        window_start=window.start,
        sinks=project.alert_sinks,
    )
    _publish(project, evaluation, window)
    return Observation(evaluation, alerts, [])


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
    if evaluation.performance:  # the estimates' gauges, beside the realized ones
        publish_performance(project)


def recent_profile(
    store: RunStore,
    pipeline: str,
    kind: str,
    start: datetime,
    window: Profile,
    min_rows: int,
) -> tuple[Profile | None, int]:
    """For a window under `min_rows` rows: it merged with the windows just before it, until
    together they reach `min_rows` (or none is left); else (None, 1).

    Profiles merge exactly, so drift on small windows is judged on the most recent data
    that is enough to judge on. Of a re-run window, its newest profile counts.
    """
    rows = profile_rows(window)
    if rows >= min_rows:
        return None, 1
    merged, count = window, 1
    latest: dict[datetime, Profile] = {}
    for record in reversed(
        store.profiles(pipeline, kind, "window", before=start, limit=_LOOK_BACK)
    ):
        if record.window_start is None or record.window_start in latest:
            continue
        earlier = Profile.model_validate(record.payload)
        latest[record.window_start] = earlier
        if earlier.spec != window.spec:
            break  # another model's bins: older windows cannot be merged either
        merged, count = merged.merge(earlier), count + 1
        if profile_rows(merged) >= min_rows:
            break
    return (merged, count) if count > 1 else (None, 1)


def latency_profile(result: FlowResult) -> LatencyProfile:
    """Each step's duration, and the flow's, as one latency sample each."""
    samples = {timing.step: [timing.duration_s] for timing in result.steps}
    samples[END_TO_END] = [sum(t.duration_s for t in result.steps)]
    return LatencyProfile.from_samples(samples)
