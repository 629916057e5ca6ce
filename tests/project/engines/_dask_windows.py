"""The toy project under quarantine, a window of it with broken rows, a model with baselines."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from _projects import SETTINGS, WINDOW_START, fitted_model, write_project
from shipml.contracts import Baseline
from shipml.monitoring import MonitoringBaseline
from shipml.pipeline.runner import BoundaryPolicy, Policies, run_flow
from shipml.project.baselines import ModelBaselines
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.project import Project
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

WINDOW = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))
QUARANTINE_LIMIT = 0.1
QUARANTINE = SETTINGS + (
    f'\n[validation]\npolicy = "quarantine"\nmax_invalid_fraction = {QUARANTINE_LIMIT}\n'
)


def quarantine_project(directory: Path) -> Project:
    """The toy project, invalid rows set aside up to 10% of a window."""
    return Project.load(write_project(directory, settings=QUARANTINE))


def break_rows(project: Project, broken: dict[int, tuple[str, Any]]) -> None:
    """Overwrite cells of WINDOW's input file: row -> (column, bad value)."""
    source = project.root / "data" / f"readings_{WINDOW.start:%Y%m%dT%H%M}.csv"
    rows = pd.read_csv(source)
    for row, (column, value) in broken.items():
        rows[column] = rows[column].astype(object)
        rows.loc[row, column] = value
    rows.to_csv(source, index=False)


def monitored_model(project: Project) -> LoadedModel:
    """The toy model with the baselines training stores with it, so windows are monitored."""
    fitted = fitted_model(project.root)
    train = pd.read_csv(project.root / "data" / "train.csv").drop(columns=["failed"])
    scored = run_flow(
        project.pipeline.online,
        train,
        context={"model": fitted.model},
        policies=Policies(BoundaryPolicy("quarantine", max_invalid_fraction=1.0)),
        keep=(FEATURES, PREDICTIONS),
    )
    features, predictions = scored.kept[FEATURES], scored.kept[PREDICTIONS]
    baselines = ModelBaselines(
        inputs=Baseline.from_frame(train),
        monitoring=MonitoringBaseline.from_training(
            features, predictions[["failure_probability"]], "failure_probability"
        ),
    )
    return dataclasses.replace(fitted, baseline=baselines.to_json())


def assert_same_window(project: Project, local_run: str, dask_run: str) -> None:
    """Two runs of a window agree: output rows, counts, reports, quarantined rows, monitoring."""
    store = project.store
    local, dask = store.run(local_run), store.run(dask_run)
    assert (local.run.engine, dask.run.engine) == ("local", "dask")
    assert local.run.status == dask.run.status == "succeeded"
    assert _counts(dask.run) == _counts(local.run)
    assert local.run.output is not None and dask.run.output is not None
    pd.testing.assert_frame_equal(
        pd.read_parquet(dask.run.output).drop(columns="run_id"),
        pd.read_parquet(local.run.output).drop(columns="run_id"),
    )
    assert dask.validations == local.validations
    assert [(s.step, s.rows_in, s.rows_out) for s in dask.steps] == [
        (s.step, s.rows_in, s.rows_out) for s in local.steps
    ]
    pd.testing.assert_frame_equal(store.quarantined(dask_run), store.quarantined(local_run))
    profiles = {r.run_id: r.payload for r in store.profiles(project.name, "batch", "window")}
    assert _without_spread(profiles[dask_run]) == _without_spread(profiles[local_run])
    found = {r.run_id: r.payload for r in store.profiles(project.name, "batch", "evaluation")}
    for key in ("drift", "shift"):
        assert found[dask_run][key] == found[local_run][key]
    assert _findings(found[dask_run]) == _findings(found[local_run])


def _counts(record: Any) -> tuple[int, ...]:
    return (record.rows_in, record.rows_valid, record.rows_quarantined, record.rows_out)


def _findings(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts of an evaluation but latency's (timings differ from run to run)."""
    return [a for a in evaluation["alerts"] if not a["rule"].startswith("latency")]


def _without_spread(profile: dict[str, Any]) -> dict[str, Any]:
    """A stored profile without the moments' m2 (merged partitions round it differently)."""
    columns = {}
    for name, column in profile["columns"].items():
        if "moments" in column:
            column = {**column, "moments": {**column["moments"], "m2": None}}
        columns[name] = column
    return {**profile, "columns": columns}
