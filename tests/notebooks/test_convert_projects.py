"""The clean fixture notebooks, converted: each project passes its own tests, trains with real
MLflow (SQLite) and scores a batch window; the steps are the notebook's code."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from shipml.notebooks.convert import Conversion, convert_notebook
from shipml.project.batch import run_window
from shipml.project.project import Project
from shipml.project.training import train
from shipml.scaffold import WINDOW, WINDOW_START
from shipml.windows import Window

from .helpers import FIXTURES

CHURN = FIXTURES / "clean_classification"
HOUSES = FIXTURES / "clean_regression"


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Conversion:
    """churn.ipynb converted once, its tests run."""
    return convert_notebook(CHURN / "churn.ipynb", tmp_path_factory.mktemp("c") / "churn")


@pytest.fixture(scope="module")
def houses(tmp_path_factory: pytest.TempPathFactory) -> Conversion:
    """house_prices.ipynb converted once, its tests run."""
    out = tmp_path_factory.mktemp("h") / "houses"
    return convert_notebook(HOUSES / "house_prices.ipynb", out, name="houses")


def train_and_score_a_window(directory: Path) -> tuple[dict[str, float], pd.DataFrame]:
    """Train the project, promote the model, run the project's batch window: metrics, output."""
    project = Project.load(directory)
    trained = train(project)
    project.tracker.promote(trained.model.version)
    scored = run_window(project, Window(WINDOW_START, WINDOW_START + WINDOW))
    assert scored.status == "succeeded" and scored.output is not None
    return trained.metrics, pd.read_parquet(scored.output)


def test_the_classification_notebook_becomes_a_project_that_trains_and_scores(
    churn: Conversion,
) -> None:
    assert churn.verification is not None and churn.verification.passed, (
        churn.verification.output if churn.verification else "tests not run"
    )
    customers = pd.read_csv(CHURN / "customers.csv")

    metrics, scored = train_and_score_a_window(churn.directory)

    assert 0.5 < metrics["roc_auc"] <= 1
    with_contract = customers.dropna(subset=["contract"])  # the notebook's `clean` keeps these
    assert scored["customer_id"].tolist() == with_contract["customer_id"].tolist()
    assert scored["churn_probability"].between(0, 1).all()


def test_the_regression_notebook_becomes_a_project_that_trains_and_scores(
    houses: Conversion,
) -> None:
    assert houses.verification is not None and houses.verification.passed, (
        houses.verification.output if houses.verification else "tests not run"
    )
    data = pd.read_csv(HOUSES / "houses.csv")

    metrics, scored = train_and_score_a_window(houses.directory)

    assert metrics["mae"] < data["price_k"].std()  # better than guessing the mean
    plausible = data[data["area_m2"] > 10]  # the notebook's `clean`, the price filter aside
    assert scored["house_id"].tolist() == plausible["house_id"].tolist()


def test_the_project_has_the_layout_of_shipml_init_and_the_notebooks_settings(
    churn: Conversion,
) -> None:
    names = {p.name for p in churn.directory.iterdir()}
    assert names >= {"shipml.toml", "contracts.py", "steps.py", "pipeline.py", "dvc.yaml",
                     "pytest.ini", "data", "tests", "CONVERSION.md"}  # fmt: skip
    settings = tomllib.loads((churn.directory / "shipml.toml").read_text())
    assert settings["training"] == {
        "data": "data/train.csv",
        "target": "churned",
        "task": "classification",
        "prediction": "churn_probability",
        "holdout_fraction": 0.25,  # the notebook's test_size
    }
    window = churn.directory / "data" / "windows" / f"customers_{WINDOW_START:%Y%m%dT%H%M}.csv"
    expected = pd.read_csv(CHURN / "customers.csv").drop(columns=["churned"])
    pd.testing.assert_frame_equal(pd.read_csv(window), expected)


def test_the_steps_are_the_notebooks_code_and_every_change_is_reported(
    houses: Conversion,
) -> None:
    steps = (houses.directory / "steps.py").read_text()
    assert 'plausible = raw[raw["area_m2"] > 10]' in steps  # the price filter taken out
    assert "reset_index" not in steps
    assert "estimates = model.predict(features[FEATURE_COLUMNS])" in steps
    assert '"price_k": estimates.round(1)' in steps
    report = (houses.directory / "CONVERSION.md").read_text()
    assert "cell 6 line 3: label-presence filter on `price_k` taken out" in report
    assert "cell 6 line 4: `.reset_index(drop=True)` taken out" in report
    assert "cell 11 line 2: `print(" in report.split("## Not carried over")[1]
    training = pd.read_csv(houses.directory / "data" / "train.csv")
    assert training["price_k"].notna().all()
    assert len(training) == pd.read_csv(HOUSES / "houses.csv")["price_k"].notna().sum()


def test_every_boundary_has_a_contract_inferred_from_the_notebooks_frames(
    churn: Conversion,
) -> None:
    pipeline = Project.load(churn.directory).pipeline
    features = pipeline.transforms[-1].output
    assert features is not None
    assert list(features.model_fields) == [
        "tenure_months", "monthly_charges", "support_calls", "charges_per_tenure_month",
        "contract_month_to_month", "contract_one_year", "contract_two_year", "customer_id",
    ]  # fmt: skip
    raw = pipeline.transforms[0].input
    assert raw is not None and "churned" not in raw.model_fields
    prediction = pipeline.predict.output
    assert prediction is not None
    assert list(prediction.model_fields) == ["customer_id", "churn_probability"]
    assert pipeline.train.input is not None and "churned" in pipeline.train.input.model_fields
