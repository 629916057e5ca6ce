"""Alert rules turn results into candidate alerts: only what crossed its threshold."""

from __future__ import annotations

import pytest

from shipml.monitoring import (
    END_TO_END,
    PREDICTION_SHIFT,
    DriftResult,
    LatencySummary,
    MonitoringError,
    ShiftResult,
    drift_alerts,
    latency_alerts,
    shift_alerts,
)


def _drift(column: str, method: str, value: float, threshold: float) -> DriftResult:
    drifted = abs(value) > threshold if method == "null_rate" else value > threshold
    return DriftResult(
        column=column,
        method=method,
        value=value,
        threshold=threshold,
        drifted=drifted,
        reference_count=10_000,
        current_count=900,
    )


def _shift(statistic: float, shifted: bool) -> ShiftResult:
    return ShiftResult(
        column="failure_probability",
        measure="mean",
        statistic=statistic,
        baseline_mean=0.28,
        baseline_std=0.01,
        z=(statistic - 0.28) / 0.01,
        k=2.0,
        shifted=shifted,
        chunk_size=900,
        n_chunks=110,
        method="chunks",
    )


def _latency(p99: float) -> LatencySummary:
    return LatencySummary(count=500, p50=p99 / 4, p95=p99 / 2, p99=p99, max=p99 * 1.5, exact=False)


def test_only_drifted_checks_become_alerts() -> None:
    results = [
        _drift("temperature_c", "psi", 0.35, 0.2),
        _drift("vibration_mm_s", "psi", 0.05, 0.2),
        _drift("mode", "null_rate", -0.08, 0.05),
    ]

    alerts = drift_alerts(results)

    assert [(a.rule, a.column, a.severity) for a in alerts] == [
        ("drift.psi", "temperature_c", "warning"),
        ("drift.null_rate", "mode", "warning"),
    ]
    assert alerts[0].value == 0.35 and alerts[0].threshold == 0.2
    assert "'temperature_c'" in alerts[0].message


def test_a_shift_alert_names_the_bound_it_crossed() -> None:
    (above,) = shift_alerts(_shift(0.33, shifted=True))
    (below,) = shift_alerts(_shift(0.24, shifted=True))

    assert above.rule == PREDICTION_SHIFT
    assert above.severity == "critical"
    assert above.threshold == pytest.approx(0.30)
    assert "above" in above.message and "z = +5.00" in above.message
    assert below.threshold == pytest.approx(0.26)
    assert "below" in below.message


def test_no_shift_no_alert() -> None:
    assert shift_alerts(_shift(0.29, shifted=False)) == []


def test_latency_over_budget_alerts_per_step() -> None:
    summaries = {END_TO_END: _latency(0.250), "predict": _latency(0.020)}
    budgets = {END_TO_END: 0.200, "predict": 0.050, "featurize": 0.010}

    alerts = latency_alerts(summaries, budgets)

    assert [(a.rule, a.column, a.value, a.threshold) for a in alerts] == [
        ("latency.p99", END_TO_END, 0.250, 0.200)
    ]
    assert "250.0 ms" in alerts[0].message


def test_latency_rule_can_watch_another_percentile() -> None:
    alerts = latency_alerts({"predict": _latency(0.080)}, {"predict": 0.030}, percentile="p95")

    assert [a.rule for a in alerts] == ["latency.p95"]


def test_an_unknown_percentile_is_refused() -> None:
    with pytest.raises(MonitoringError, match="percentile must be one of"):
        latency_alerts({}, {}, percentile="p999")
