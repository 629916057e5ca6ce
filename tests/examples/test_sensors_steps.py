"""The sensors steps: they honour their contracts on a window and on one row, and they learn."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from shipml.contracts import validate

sys.path.insert(0, str(Path(__file__).parents[2] / "examples" / "sensors"))

from simulator import FailureRateShift, simulate
from steps import featurize, postprocess, predict, preprocess, train

from contracts import Clean, Features, LabelledFeatures, Prediction, ScoredReading

TRAINING = ("2026-03-01T00:00Z", "2026-03-05T00:00Z")
HOLDOUT_START = pd.Timestamp("2026-03-04T00:00Z")  # train on days 1-3, test on day 4
WINDOW = ("2026-03-06T10:00Z", "2026-03-06T11:00Z")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """OpenMP threads (scikit-learn's) crawl on a busy 2-core machine: use one."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return featurize(preprocess(simulate(*TRAINING, machines=10, seed=0)))


@pytest.fixture(scope="module")
def model(features: pd.DataFrame) -> Pipeline:
    return train(features[features["ts"] < HOLDOUT_START])


def score(readings: pd.DataFrame, model: Pipeline) -> pd.DataFrame:
    return postprocess(predict(featurize(preprocess(readings)), model))


def test_each_step_honours_its_contract_on_a_window(model: Pipeline) -> None:
    readings = simulate(*WINDOW, machines=10, seed=0, labelled=False)
    clean = preprocess(readings)
    features = featurize(clean)
    predictions = predict(features, model)
    scored = postprocess(predictions)
    for frame, contract in [
        (clean, Clean),
        (features, Features),
        (predictions, Prediction),
        (scored, ScoredReading),
    ]:
        assert validate(frame, contract).report.ok, contract.__name__
        assert len(frame) == len(readings)
    assert (scored["machine_id"] == readings["machine_id"]).all()
    assert (scored["ts"] == readings["ts"]).all()


def test_one_row_scores_as_it_does_within_its_window(model: Pipeline) -> None:
    readings = simulate(*WINDOW, machines=10, seed=0, labelled=False)
    in_window = score(readings, model)
    for position in (0, 7, len(readings) - 1):
        alone = score(readings.iloc[[position]], model)
        assert (
            alone["failure_probability"].iloc[0] == in_window["failure_probability"].iloc[position]
        )
        assert alone["risk"].iloc[0] == in_window["risk"].iloc[position]


def test_rows_from_a_csv_file_score_like_the_simulated_frame(
    model: Pipeline, tmp_path: Path
) -> None:
    readings = simulate(*WINDOW, machines=3, seed=0, labelled=False)
    readings.to_csv(tmp_path / "window.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    from_file = validate(pd.read_csv(tmp_path / "window.csv"), Clean).valid
    assert score(from_file, model).equals(score(readings, model))


def test_steps_keep_the_index_so_set_aside_labels_can_follow_their_rows(model: Pipeline) -> None:
    readings = simulate(*WINDOW, machines=3, labelled=False).iloc[::2]  # gaps, as after quarantine
    assert score(readings, model).index.equals(readings.index)


def test_an_empty_window_scores_to_an_empty_frame(model: Pipeline) -> None:
    readings = simulate(*WINDOW, machines=2, labelled=False).iloc[:0]
    scored = score(readings, model)
    assert scored.empty
    assert validate(scored, ScoredReading).report.ok


def test_training_features_carry_the_label(features: pd.DataFrame) -> None:
    assert validate(features, LabelledFeatures).report.ok


def test_the_model_beats_trivial_baselines_on_a_later_holdout(
    features: pd.DataFrame, model: Pipeline
) -> None:
    holdout = features[features["ts"] >= HOLDOUT_START]
    truth = holdout["failure_within_1h"]
    model_auc = roc_auc_score(truth, predict(holdout, model)["failure_probability"])
    hottest_auc = roc_auc_score(truth, holdout["temperature_c"].fillna(0.0))
    assert truth.sum() >= 120  # at least two failures to find
    assert model_auc > 0.8
    assert model_auc > hottest_auc + 0.02


def test_a_higher_failure_rate_shifts_the_predictions(model: Pipeline) -> None:
    day = ("2026-03-06T00:00Z", "2026-03-07T00:00Z")
    usual = simulate(*day, machines=10, seed=0, labelled=False)
    shifted = simulate(*day, machines=10, seed=0, labelled=False, faults=[FailureRateShift(3.0)])
    usual_mean = score(usual, model)["failure_probability"].mean()
    assert score(shifted, model)["failure_probability"].mean() > 1.5 * usual_mean


@pytest.mark.parametrize(
    ("change", "params", "message"),
    [
        (lambda f: f.assign(failure_within_1h=False), {}, "must hold both outcomes"),
        (lambda f: f, {"depth": 3}, r"unknown HistGradientBoostingClassifier params \['depth'\]"),
    ],
)
def test_train_rejects_unusable_input(features: pd.DataFrame, change, params, message) -> None:
    with pytest.raises(ValueError, match=message):
        train(change(features.head(50)), params)
