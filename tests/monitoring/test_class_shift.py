"""Prediction shift by task: a multiclass model's class shares and mix, a regression's spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shipml.monitoring import (
    PREDICTION_SHIFT,
    ClassReference,
    MonitoringBaseline,
    MonitoringError,
    PredictionReference,
    WindowEvaluation,
    alpha_of,
    evaluate_shift,
    evaluate_window,
    profile,
)

CLASSES = ["barbera", "barolo", "grignolino", "nebbiolo"]
SHARES = [0.1, 0.3, 0.3, 0.3]
WINDOWS = 400


def _classified(rng: np.random.Generator, rows: int, shares: list[float]) -> pd.DataFrame:
    """Scored rows: a feature, and the predicted class drawn with `shares`."""
    return pd.DataFrame(
        {
            "alcohol": rng.normal(13, 1, rows),
            "cultivar": pd.Series(rng.choice(CLASSES, rows, p=shares), dtype="str"),
        }
    )


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return _classified(np.random.default_rng(70), 3000, SHARES)


@pytest.fixture(scope="module")
def baseline(holdout: pd.DataFrame) -> MonitoringBaseline:
    return MonitoringBaseline.from_training(
        holdout[["alcohol"]],
        holdout[["cultivar"]],
        "cultivar",
        statistic="class_shares",
        classes=CLASSES,
    )


def _evaluate(baseline: MonitoringBaseline, window: pd.DataFrame) -> WindowEvaluation:
    return evaluate_window(baseline, profile(window, baseline.spec))


def _plausible(probability: float, windows: int = WINDOWS) -> tuple[float, float]:
    """The central 99.9% of the number of alarms in `windows` independent windows."""
    return stats.binom.interval(0.999, windows, probability)


def test_windows_drawn_from_the_holdout_alarm_at_the_rules_level(
    baseline: MonitoringBaseline, holdout: pd.DataFrame
) -> None:
    rng = np.random.default_rng(71)
    alarms = 0
    for _ in range(WINDOWS):
        window = holdout.iloc[rng.integers(0, len(holdout), 300)]
        alarms += bool(_evaluate(baseline, window).alerts)

    low, high = _plausible(alpha_of(2.0))  # 4.55%, the two-sigma rule's rate
    assert alpha_of(2.0) == pytest.approx(2 * stats.norm.sf(2.0))
    assert low <= alarms <= high, alarms


def test_a_tripled_class_share_is_flagged_for_that_class(baseline: MonitoringBaseline) -> None:
    rng = np.random.default_rng(72)
    tripled = [0.3, *(0.7 / 3,) * 3]  # barbera from 10% to 30%, the others share the rest
    flagged = []
    for _ in range(100):
        evaluation = _evaluate(baseline, _classified(rng, 100, tripled))
        flagged.append({a.column for a in evaluation.alerts if a.rule == PREDICTION_SHIFT})

    assert all("cultivar=barbera" in columns for columns in flagged)
    evaluation = _evaluate(baseline, _classified(rng, 100, tripled))
    barbera = next(s for s in evaluation.shifts if s.label == "barbera")
    assert evaluation.shift == barbera  # the headline is the flagged class
    assert barbera.shifted and barbera.z is not None and barbera.z > 2
    assert evaluation.class_mix is not None and evaluation.class_mix.p_value < 0.0455
    message = next(a.message for a in evaluation.alerts if a.column == "cultivar=barbera")
    assert message.startswith("predicted share of class 'barbera' in 'cultivar' is ")


def test_each_class_share_is_judged_over_holdout_chunks_of_the_windows_size(
    baseline: MonitoringBaseline, holdout: pd.DataFrame
) -> None:
    window = holdout.iloc[:300]

    evaluation = _evaluate(baseline, window)

    shares = (holdout["cultivar"] == "barolo").to_numpy(float).reshape(10, 300).mean(axis=1)
    barolo = next(s for s in evaluation.shifts if s.label == "barolo")
    assert (barolo.method, barolo.n_chunks, barolo.measure) == ("chunks", 10, "share")
    assert barolo.baseline_mean == pytest.approx(shares.mean())
    assert barolo.baseline_std == pytest.approx(shares.std())
    assert barolo.statistic == pytest.approx(shares[0])
    assert barolo.subject == "cultivar=barolo"


def test_the_mix_is_a_chi_square_test_against_the_holdouts_shares(
    baseline: MonitoringBaseline, holdout: pd.DataFrame
) -> None:
    window = _classified(np.random.default_rng(73), 200, [0.2, 0.3, 0.3, 0.2])

    mix = _evaluate(baseline, window).class_mix

    observed = window["cultivar"].value_counts().reindex(CLASSES).to_numpy()
    expected = holdout["cultivar"].value_counts(normalize=True).reindex(CLASSES).to_numpy() * 200
    chi_square, p_value = stats.chisquare(observed, expected)
    assert mix is not None
    assert (mix.rows, mix.degrees_of_freedom) == (200, 3)
    assert mix.chi_square == pytest.approx(chi_square)
    assert mix.p_value == pytest.approx(p_value)


def test_a_class_the_model_was_not_trained_on_is_a_critical_alert(
    baseline: MonitoringBaseline, holdout: pd.DataFrame
) -> None:
    window = holdout.iloc[:300].copy()
    window.loc[window.index[:5], "cultivar"] = "sangiovese"  # e.g. a stale label mapping

    evaluation = _evaluate(baseline, window)

    assert evaluation.class_mix is not None and evaluation.class_mix.unseen == 5
    alert = next(a for a in evaluation.alerts if a.column == "cultivar")
    assert alert.severity == "critical"
    assert alert.message.startswith("5 of 300 predictions of 'cultivar' are classes the holdout")


def test_the_class_reference_round_trips_through_json(baseline: MonitoringBaseline) -> None:
    stored = MonitoringBaseline.model_validate_json(baseline.model_dump_json())

    assert isinstance(stored.predictions, ClassReference)
    assert stored == baseline
    assert stored.spec.columns["cultivar"].categories == CLASSES  # every class, in order


def test_holdout_classes_must_be_among_the_models_classes(holdout: pd.DataFrame) -> None:
    with pytest.raises(MonitoringError, match="not among the classes"):
        MonitoringBaseline.from_training(
            holdout[["alcohol"]], holdout[["cultivar"]], "cultivar",
            statistic="class_shares", classes=CLASSES[:2],
        )  # fmt: skip


# --- regression: the mean and the spread ----------------------------------------------------


@pytest.fixture(scope="module")
def regression() -> MonitoringBaseline:
    rng = np.random.default_rng(74)
    values = pd.DataFrame({"progression": rng.normal(150, 50, 100_000)})
    return MonitoringBaseline.from_training(
        values.rename(columns={"progression": "bmi"}), values, "progression", watch_std=True
    )


def _regression_alarms(baseline: MonitoringBaseline, spread: float, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    counts = {"progression": 0, "progression:std": 0}
    for _ in range(WINDOWS):
        values = pd.DataFrame({"progression": rng.normal(150, 50 * spread, 500)})
        frame = values.assign(bmi=values["progression"])
        for alert in _evaluate(baseline, frame).alerts:
            if alert.rule == PREDICTION_SHIFT:
                counts[str(alert.column)] += 1
    return counts


def test_a_regressions_mean_and_spread_each_alarm_at_two_sigmas_rate(
    regression: MonitoringBaseline,
) -> None:
    alarms = _regression_alarms(regression, spread=1.0, seed=75)

    low, high = _plausible(alpha_of(2.0))
    assert low <= alarms["progression"] <= high, alarms
    assert low <= alarms["progression:std"] <= high, alarms


def test_a_wider_spread_is_caught_by_the_std_rule(regression: MonitoringBaseline) -> None:
    alarms = _regression_alarms(regression, spread=1.3, seed=76)

    assert alarms["progression:std"] >= 0.99 * WINDOWS, alarms


def test_the_spread_falls_back_to_the_delta_method_below_six_chunks() -> None:
    values = np.random.default_rng(77).gamma(2.0, 1.0, 1000)
    reference = PredictionReference.from_predictions(pd.Series(values, name="y"), watch_std=True)

    result = evaluate_shift(reference, statistic=1.5, rows=200, measure="std")  # 5 chunks

    sigma = values.std()
    fourth = np.mean((values - values.mean()) ** 4)
    assert (result.method, result.measure) == ("clt", "std")
    assert result.baseline_mean == pytest.approx(sigma, rel=1e-5)
    assert result.baseline_std == pytest.approx(
        np.sqrt((fourth - sigma**4) / 200) / (2 * sigma), rel=1e-4
    )
