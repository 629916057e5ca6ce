"""Alert rules as pure functions: drift, prediction shift and latency results in, candidates out.

Storage, deduplication and delivery to sinks happen elsewhere; a candidate only says
which rule fired, on what, with which value against which threshold, and how loudly.
Default severities: prediction shift is "critical" (the mission's rule), drift and
latency are "warning".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shipml.errors import MonitoringError
from shipml.monitoring.class_shift import ClassMixResult
from shipml.monitoring.drift import DriftResult
from shipml.monitoring.estimation import EstimateResult
from shipml.monitoring.latency import PERCENTILES, LatencySummary
from shipml.monitoring.shift import ShiftResult

Severity = Literal["info", "warning", "critical"]
PREDICTION_SHIFT = "prediction_shift"
ESTIMATED_PERFORMANCE = "estimated_performance"


class CandidateAlert(BaseModel):
    """A rule that fired: on what (column or step), the value, the threshold, a message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    column: str | None
    value: float
    threshold: float
    severity: Severity
    message: str


def drift_alerts(
    results: Iterable[DriftResult], severity: Severity = "warning"
) -> list[CandidateAlert]:
    """One alert per drifted column check (rule `drift.<method>`)."""
    return [
        CandidateAlert(
            rule=f"drift.{result.method}",
            column=result.column,
            value=result.value,
            threshold=result.threshold,
            severity=severity,
            message=_drift_message(result),
        )
        for result in results
        if result.drifted and result.value is not None
    ]


def shift_alerts(result: ShiftResult, severity: Severity = "critical") -> list[CandidateAlert]:
    """An alert when the window's prediction statistic left baseline_mean +/- k * std.

    The alert's column is what was checked (`ShiftResult.subject`): the prediction column,
    `<column>:std` for the spread of a regression, `<column>=<class>` for a class's share.
    """
    if not result.shifted:
        return []
    direction = 1.0 if result.statistic > result.baseline_mean else -1.0
    bound = result.baseline_mean + direction * result.k * result.baseline_std
    z = "undefined (constant baseline)" if result.z is None else f"{result.z:+.2f}"
    what = (
        f"predicted share of class '{result.label}' in '{result.column}'"
        if result.measure == "share"
        else f"{result.measure} of '{result.column}'"
    )
    message = (
        f"{what} is {result.statistic:.4g}, "
        f"{'above' if direction > 0 else 'below'} {bound:.4g} = baseline "
        f"{result.baseline_mean:.4g} {'+' if direction > 0 else '-'} {result.k:g} x "
        f"{result.baseline_std:.3g} (z = {z}, {result.chunk_size} rows, {result.method})"
    )
    return [
        CandidateAlert(
            rule=PREDICTION_SHIFT,
            column=result.subject,
            value=result.statistic,
            threshold=bound,
            severity=severity,
            message=message,
        )
    ]


def estimate_alerts(
    results: Iterable[EstimateResult], severity: Severity = "warning"
) -> list[CandidateAlert]:
    """An alert per metric whose CBPE estimate fell more than k sigma below its baseline.

    A warning by default: it is an estimate, until labels confirm it.
    """
    alerts = []
    for result in results:
        bound = result.bound
        if not result.dropped or result.value is None or bound is None:
            continue
        z = "undefined (constant baseline)" if result.z is None else f"{result.z:+.2f}"
        message = (
            f"estimated {result.metric} (CBPE) is {result.value:.4g}, below {bound:.4g} = "
            f"baseline {result.baseline_mean:.4g} - {result.k:g} x {result.baseline_std:.3g} "
            f"(z = {z}, {result.rows} rows, {result.method})"
        )
        alerts.append(
            CandidateAlert(
                rule=ESTIMATED_PERFORMANCE,
                column=result.metric,
                value=result.value,
                threshold=bound,
                severity=severity,
                message=message,
            )
        )
    return alerts


def class_mix_alerts(
    mix: ClassMixResult, shares: Iterable[ShiftResult], severity: Severity = "critical"
) -> list[CandidateAlert]:
    """An alert on the class column when its mix shifted with no class's share flagged,
    or when it predicted classes the holdout never did."""
    if not mix.shifted or (not mix.unseen and any(s.shifted for s in shares)):
        return []
    if mix.unseen:
        message = (
            f"{mix.unseen} of {mix.rows} predictions of '{mix.column}' are classes the "
            f"holdout never predicted (JS distance {mix.js_distance:.3f})"
        )
    else:
        message = (
            f"predicted-class mix of '{mix.column}' moved: chi-square p = {mix.p_value:.2g} "
            f"< {mix.alpha:.3g} (JS distance {mix.js_distance:.3f}, {mix.rows} rows)"
        )
    return [
        CandidateAlert(
            rule=PREDICTION_SHIFT,
            column=mix.column,
            value=mix.p_value,
            threshold=mix.alpha,
            severity=severity,
            message=message,
        )
    ]


def latency_alerts(
    summaries: Mapping[str, LatencySummary],
    budgets_seconds: Mapping[str, float],
    percentile: str = "p99",
    severity: Severity = "warning",
) -> list[CandidateAlert]:
    """An alert per step whose percentile exceeds its budget (rule `latency.<percentile>`)."""
    if percentile not in PERCENTILES:
        raise MonitoringError(f"percentile must be one of {list(PERCENTILES)}, got {percentile!r}")
    alerts: list[CandidateAlert] = []
    for step, budget in budgets_seconds.items():
        summary = summaries.get(step)
        observed = getattr(summary, percentile) if summary is not None else None
        if summary is None or observed is None or observed <= budget:
            continue
        alerts.append(
            CandidateAlert(
                rule=f"latency.{percentile}",
                column=step,
                value=observed,
                threshold=budget,
                severity=severity,
                message=(
                    f"{percentile} latency of '{step}' is {observed * 1000:.1f} ms, over the "
                    f"budget of {budget * 1000:.1f} ms ({summary.count} observations)"
                ),
            )
        )
    return alerts


def _drift_message(result: DriftResult) -> str:
    if result.method == "null_rate":
        return (
            f"null rate of '{result.column}' changed by {result.value:+.3f} "
            f"(threshold {result.threshold:g}, {result.current_count} rows)"
        )
    p_value = "" if result.p_value is None else f", p = {result.p_value:.2g}"
    basis = f"; {result.note}" if result.note else ""
    return (
        f"{result.method} drift on '{result.column}': {result.value:.3f} > {result.threshold:g} "
        f"({result.current_count} values{p_value}{basis})"
    )
