"""The batch-window function: one window in, one output out, every run on record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from _postgres import make_postgres_database
from _projects import SETTINGS, WINDOW_START, fitted_model, write_project
from shipml.project.batch import WindowFailed, run_window
from shipml.project.project import Project
from shipml.windows import Window

WINDOW = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))


@pytest.fixture(params=["sqlite", "postgresql"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    """The toy project, its run store on SQLite (the default) or on PostgreSQL."""
    if request.param == "sqlite":
        yield Project.load(write_project(tmp_path))
        return
    with make_postgres_database("shipml_batch") as url:
        monkeypatch.setenv("SHIPML_STORE__URL", url.render_as_string(hide_password=False))
        project = Project.load(write_project(tmp_path))
        yield project
        project.store.close()


def test_a_window_is_scored_and_written_with_its_lineage(project: Project) -> None:
    outcome = run_window(project, WINDOW, model=fitted_model(project.root))

    assert outcome.status == "succeeded"
    assert (outcome.rows_in, outcome.rows_quarantined, outcome.rows_out) == (75, 0, 75)
    output = pd.read_parquet(outcome.output)
    assert len(output) == 75
    assert set(output["run_id"]) == {outcome.run_id}
    assert set(output["model_version"]) == {"1"}
    assert output["failure_probability"].between(0, 1).all()

    detail = project.store.run(outcome.run_id)
    assert detail.run.status == "succeeded"
    assert detail.run.data_version.startswith("sha256:")
    assert detail.run.config_hash == project.settings.config_hash()
    assert (detail.run.model_name, detail.run.model_version) == ("toy", "1")
    assert [s.step for s in detail.steps] == ["featurize", "predict"]
    assert all(v.ok for v in detail.validations)


def test_a_finished_window_is_not_run_again_unless_forced(project: Project) -> None:
    model = fitted_model(project.root)
    first = run_window(project, WINDOW, model=model)
    again = run_window(project, WINDOW, model=model)
    assert again.status == "skipped" and again.run_id == first.run_id

    forced = run_window(project, WINDOW, model=model, force=True)
    assert forced.status == "succeeded" and forced.run_id != first.run_id
    outputs = list(Path(forced.output).parent.glob("*.parquet"))
    assert outputs == [Path(forced.output)]
    assert set(pd.read_parquet(forced.output)["run_id"]) == {forced.run_id}


def test_invalid_rows_fail_the_window_and_the_report_is_kept(project: Project) -> None:
    source = project.root / "data" / f"readings_{WINDOW_START:%Y%m%dT%H%M}.csv"
    rows = pd.read_csv(source)
    rows.loc[3, "temperature_c"] = 900.0
    rows.to_csv(source, index=False)

    with pytest.raises(WindowFailed) as failed:
        run_window(project, WINDOW, model=fitted_model(project.root))

    detail = project.store.run(failed.value.outcome.run_id)
    assert detail.run.status == "failed"
    assert detail.run.failed_step == "featurize"
    assert "temperature_c" in detail.run.error
    [validation] = detail.validations
    assert validation.boundary == "featurize.input" and validation.invalid_rows == 1
    assert not project.sink().exists(project.name, WINDOW)


def test_under_quarantine_bad_rows_are_stored_and_the_rest_is_scored(tmp_path: Path) -> None:
    settings = SETTINGS + '\n[validation]\npolicy = "quarantine"\nmax_invalid_fraction = 0.1\n'
    project = Project.load(write_project(tmp_path, settings=settings))
    source = tmp_path / "data" / f"readings_{WINDOW_START:%Y%m%dT%H%M}.csv"
    rows = pd.read_csv(source)
    rows.loc[3, "temperature_c"] = 900.0
    rows.loc[7, "machine_id"] = "machine seven"
    rows.to_csv(source, index=False)

    outcome = run_window(project, WINDOW, model=fitted_model(tmp_path))

    assert (outcome.rows_in, outcome.rows_quarantined, outcome.rows_out) == (75, 2, 73)
    quarantined = project.store.quarantined(outcome.run_id)
    assert sorted(quarantined["_reasons"]) == [
        "machine_id: string_pattern_mismatch",
        "temperature_c: less_than_equal",
    ]


def test_a_step_that_raises_fails_the_run_with_its_traceback(project: Project) -> None:
    model = fitted_model(project.root)
    model.model.coef_ = None  # predict_proba will raise inside the predict step

    with pytest.raises(WindowFailed):
        run_window(project, WINDOW, model=model)

    [run] = project.store.runs(kind="batch")
    assert run.status == "failed" and run.failed_step == "predict"
    assert "Traceback" in run.traceback and "predict_proba" in run.traceback


def test_a_window_without_input_fails_loudly(project: Project) -> None:
    later = Window(WINDOW.start + timedelta(hours=1), WINDOW.end + timedelta(hours=1))
    with pytest.raises(WindowFailed, match="does not exist"):
        run_window(project, later, model=fitted_model(project.root))
    [run] = project.store.runs(kind="batch")
    assert run.status == "failed" and "MissingInput" in run.error


def test_a_window_is_profiled_and_its_scores_published_for_prometheus(tmp_path: Path) -> None:
    settings = SETTINGS + '\n[monitoring]\nprometheus_textfile = "metrics/toy.prom"\n'
    settings += "drift_min_rows = 50\n"  # the toy windows have 75 rows
    project = Project.load(write_project(tmp_path, settings=settings))
    (tmp_path / "metrics").mkdir()

    outcome = run_window(project, WINDOW, model=fitted_model(tmp_path))

    names = {p.name for p in project.store.profiles("toy", "batch", "window")}
    assert names == {"window"}
    [evaluation] = project.store.profiles("toy", "batch", "evaluation")
    assert evaluation.run_id == outcome.run_id
    assert {d["column"] for d in evaluation.payload["drift"]} >= {"temperature_c", "hot"}
    metrics = (tmp_path / "metrics" / "toy.prom").read_text()
    assert 'shipml_feature_drift_score{column="temperature_c"' in metrics
    assert "shipml_prediction_shift_zscore" in metrics
