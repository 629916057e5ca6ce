"""`evaluate_window`: one call applies every rule to a window and lists the alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipml.monitoring import (
    END_TO_END,
    LatencyProfile,
    MonitoringBaseline,
    MonitoringConfig,
    WindowEvaluation,
    evaluate_window,
    profile,
)


def _scored(rng: np.random.Generator, rows: int, heat: float = 0.0) -> pd.DataFrame:
    """Readings with the model's failure probability, which rises with the temperature."""
    temperature = rng.normal(60 + heat, 5, rows)
    probability = 1 / (1 + np.exp(-(temperature - 70) / 4))
    return pd.DataFrame(
        {
            "temperature_c": temperature,
            "mode": pd.Series(rng.choice(["idle", "run"], rows, p=[0.3, 0.7]), dtype="str"),
            "failure_probability": probability,
        }
    )


@pytest.fixture(scope="module")
def baseline() -> MonitoringBaseline:
    rng = np.random.default_rng(60)
    training, holdout = _scored(rng, 20_000), _scored(rng, 20_000)
    return MonitoringBaseline.from_training(
        training[["temperature_c", "mode"]],
        holdout[["failure_probability"]],
        "failure_probability",
    )


def _latency(rng: np.random.Generator, rows: int, typical_seconds: float) -> LatencyProfile:
    return LatencyProfile.from_samples(
        {
            "predict": rng.lognormal(np.log(typical_seconds / 2), 0.3, rows),
            END_TO_END: rng.lognormal(np.log(typical_seconds), 0.3, rows),
        }
    )


CONFIG = MonitoringConfig(latency_p99_seconds=0.1)


def test_a_window_like_training_raises_no_alert(baseline: MonitoringBaseline) -> None:
    rng = np.random.default_rng(61)
    window = profile(_scored(rng, 900), baseline.spec)

    evaluation = evaluate_window(baseline, window, _latency(rng, 900, 0.02), CONFIG)

    assert evaluation.alerts == []
    assert evaluation.shift is not None and abs(evaluation.shift.z) < 2
    assert evaluation.latency[END_TO_END].p99 < 0.1


def test_a_hot_slow_window_raises_drift_shift_and_latency_alerts(
    baseline: MonitoringBaseline,
) -> None:
    rng = np.random.default_rng(62)
    window = profile(_scored(rng, 900, heat=5.0), baseline.spec)

    evaluation = evaluate_window(baseline, window, _latency(rng, 900, 0.08), CONFIG)

    fired = {(alert.rule, alert.column) for alert in evaluation.alerts}
    assert fired == {
        ("prediction_shift", "failure_probability"),
        ("drift.psi", "temperature_c"),
        ("drift.psi", "failure_probability"),
        ("latency.p99", END_TO_END),
    }
    assert evaluation.alerts[0].severity == "critical"  # the shift comes first


def test_a_window_without_predictions_has_no_shift_verdict(baseline: MonitoringBaseline) -> None:
    scored = _scored(np.random.default_rng(63), 900)
    scored["failure_probability"] = np.nan
    window = profile(scored, baseline.spec)

    evaluation = evaluate_window(baseline, window)

    assert evaluation.shift is None
    assert ("drift.null_rate", "failure_probability") in {
        (alert.rule, alert.column) for alert in evaluation.alerts
    }


def test_an_evaluation_round_trips_through_json(baseline: MonitoringBaseline) -> None:
    rng = np.random.default_rng(64)
    window = profile(_scored(rng, 900, heat=5.0), baseline.spec)
    evaluation = evaluate_window(baseline, window, _latency(rng, 900, 0.08), CONFIG)

    assert WindowEvaluation.model_validate_json(evaluation.model_dump_json()) == evaluation
