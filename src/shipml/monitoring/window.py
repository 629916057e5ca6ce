"""`evaluate_window`: every monitoring rule applied to one window's profiles, in one call."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shipml.monitoring.alerts import (
    CandidateAlert,
    class_mix_alerts,
    drift_alerts,
    estimate_alerts,
    latency_alerts,
    shift_alerts,
)
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.class_shift import ClassMixResult, ClassReference, class_shift
from shipml.monitoring.drift import DriftConfig, DriftResult, detect_drift
from shipml.monitoring.estimation import (
    ESTIMATED_METRICS,
    EstimatedMetric,
    EstimateResult,
    estimate_window,
)
from shipml.monitoring.latency import END_TO_END, LatencyProfile, LatencySummary
from shipml.monitoring.profiles import Profile
from shipml.monitoring.shift import DEFAULT_K, MIN_CHUNKS, ShiftResult, prediction_shifts


def _alerted_estimates() -> list[EstimatedMetric]:
    return ["roc_auc", "f1", "accuracy"]


class MonitoringConfig(DriftConfig):
    """Thresholds of all rules: drift (inherited), prediction shift (k sigma), latency budgets.

    The keys are those of shipml.toml's `[monitoring]` table.
    """

    k_sigma: float = Field(default=DEFAULT_K, gt=0)
    min_chunks: int = Field(default=MIN_CHUNKS, ge=1)
    latency_p99_seconds: float = Field(default=1.0, gt=0)  # end to end
    step_latency_p99_seconds: dict[str, float] = Field(default_factory=dict)
    latency_percentile: Literal["p50", "p95", "p99"] = "p99"
    # An online window in which more than this fraction of the records were rejected (422)
    # failed: it raises `window_failed`, like a batch window whose contract is broken.
    max_rejected_fraction: float = Field(default=0.5, ge=0, le=1)
    # Estimated performance (CBPE, binary models with probabilities): the metrics whose
    # fall of more than k_sigma below the baseline chunks alerts. All five are estimated.
    estimate_alerts_on: list[EstimatedMetric] = Field(default_factory=_alerted_estimates)

    @property
    def latency_budgets_seconds(self) -> dict[str, float]:
        """The latency budget of the whole flow and of each step named."""
        return {END_TO_END: self.latency_p99_seconds, **self.step_latency_p99_seconds}


class WindowEvaluation(BaseModel):
    """The results of every rule on one window and the alerts they raise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drift: list[DriftResult]
    shift: ShiftResult | None  # the headline check; None when the window has no predictions
    latency: dict[str, LatencySummary]
    alerts: list[CandidateAlert]
    shifts: list[ShiftResult] = Field(default_factory=list)  # every prediction-shift check
    class_mix: ClassMixResult | None = None  # multiclass: the test of the predicted-class mix
    performance: list[EstimateResult] = Field(default_factory=list)  # CBPE estimates (binary)

    @property
    def shift_subjects(self) -> set[str]:
        """What the prediction-shift rule checked in this window (alerts' columns)."""
        checked = {result.subject for result in self.shifts}
        if self.shift is not None:
            checked.add(self.shift.subject)
        if self.class_mix is not None:
            checked.add(self.class_mix.column)
        return checked

    # Drift was judged on the merged profile of this many recent windows (this one included)
    # when the window alone had fewer than `drift_min_rows` rows; `drift_rows` rows in all.
    drift_windows: int = 1
    drift_rows: int | None = None

    @property
    def drift_checked(self) -> bool:
        """Whether any drift check had enough values to judge."""
        return any(result.value is not None for result in self.drift)


def evaluate_window(
    baseline: MonitoringBaseline,
    window: Profile,
    latency: LatencyProfile | None = None,
    config: MonitoringConfig | None = None,
    *,
    drift_on: Profile | None = None,
    drift_windows: int = 1,
) -> WindowEvaluation:
    """Drift of every profiled column, the prediction-shift rule and latency budgets.

    `drift_on`, when given, is the merged profile of the last `drift_windows` windows (this
    one included) that drift is judged on, for a window too small to judge on its own.
    Checks that still have fewer than `drift_min_rows` values say "not checked".
    """
    config = config or MonitoringConfig()
    judged = drift_on if drift_on is not None else window
    drift = [
        _with_basis(result, drift_windows, config.drift_min_rows)
        for result in detect_drift(baseline.profile, judged, config)
    ]
    mix, shifts = _shifts(baseline, window, config)
    summaries = latency.summaries() if latency is not None else {}
    performance = _estimates(baseline, window, config)
    alerted = set(config.estimate_alerts_on)
    alerts = [
        *(alert for result in shifts for alert in shift_alerts(result)),
        *(class_mix_alerts(mix, shifts) if mix is not None else []),
        *estimate_alerts(r for r in performance if r.metric in alerted),
        *drift_alerts(drift),
        *latency_alerts(summaries, config.latency_budgets_seconds, config.latency_percentile),
    ]
    return WindowEvaluation(
        drift=drift,
        shift=_headline(shifts),
        latency=summaries,
        alerts=alerts,
        shifts=shifts,
        class_mix=mix,
        performance=performance,
        drift_windows=drift_windows,
        drift_rows=profile_rows(judged),
    )


def profile_rows(profile: Profile) -> int:
    """The rows a profile summarises (its fullest column's)."""
    return max((column.rows for column in profile.columns.values()), default=0)


def _with_basis(result: DriftResult, windows: int, min_rows: int) -> DriftResult:
    """Say what the check was judged on: merged windows, or not checked (too few values)."""
    if result.value is None:
        if result.current_count >= min_rows or (result.current_count == 0 and result.note):
            return result  # no values on a side: its own note says so
        over = f" over the last {windows} windows" if windows > 1 else ""
        note = f"not checked ({result.current_count} < {min_rows} values{over})"
        return result.model_copy(update={"note": note})
    if windows > 1:
        note = f"judged on the last {windows} windows, {result.current_count} values"
        return result.model_copy(update={"note": note})
    return result


def _shifts(
    baseline: MonitoringBaseline, window: Profile, config: MonitoringConfig
) -> tuple[ClassMixResult | None, list[ShiftResult]]:
    """The prediction-shift checks of the baseline's kind (none when nothing was predicted)."""
    reference = baseline.predictions
    column = window.columns.get(reference.column)
    if column is not None and column.rows == column.nulls:
        return None, []
    k, min_chunks = config.k_sigma, config.min_chunks
    if isinstance(reference, ClassReference):
        return class_shift(reference, window, k=k, min_chunks=min_chunks)
    return None, prediction_shifts(reference, window, k=k, min_chunks=min_chunks)


def _estimates(
    baseline: MonitoringBaseline, window: Profile, config: MonitoringConfig
) -> list[EstimateResult]:
    """CBPE estimates of the window, when the model has a performance reference."""
    reference, summary = baseline.performance, window.confidence
    if reference is None or summary is None:
        return []
    return estimate_window(
        reference, summary, config.k_sigma, config.min_chunks, metrics=ESTIMATED_METRICS
    )


def _headline(shifts: list[ShiftResult]) -> ShiftResult | None:
    """The first check (mean or positive rate); of class shares, the flagged or farthest one."""
    if not shifts or shifts[0].measure != "share":
        return shifts[0] if shifts else None
    return max(shifts, key=lambda s: (s.shifted, abs(s.z) if s.z is not None else math.inf))
